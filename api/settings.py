"""Service settings: one pydantic ``BaseSettings`` read from ``BIOMATCH_*`` variables.

Nothing is read at import time; :func:`get_settings` builds the settings on
first use and caches them. Tests pass their own ``Settings`` to
``create_app(settings)`` or override :func:`get_settings` in
``app.dependency_overrides``.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Configuration of the service and of the CLI commands that use the store.

    Every field can be set from the environment as ``BIOMATCH_<FIELD>``
    (for example ``BIOMATCH_DATABASE_URL``); the data folder also reads
    ``BIOMATCH_DATA``.
    """

    model_config = SettingsConfigDict(env_prefix="BIOMATCH_", extra="ignore", frozen=True)

    home: Path = Field(default_factory=lambda: Path("~/.biomatch"),
                       description="Folder for the embedded database and derived index files.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default sqlite:///<home>/biomatch.db.")
    data_dir: Path | None = Field(None, validation_alias=AliasChoices("BIOMATCH_DATA", "BIOMATCH_DATA_DIR", "data_dir"),
                                  description="Reference data (FVC, faces, DNA tables); default ../shared/data.")
    max_upload_bytes: int = Field(64 * 1024 * 1024, gt=0, description="Largest request body accepted (413 above).")
    max_image_pixels: int = Field(40_000_000, gt=0, description="Largest decoded image (decompression-bomb guard).")
    fingerprint_minutiae: Literal["ridges", "leader"] = Field(
        "ridges", description="Minutiae detector of a new AFIS database: 'ridges' (about 20 ms a print) or 'leader' "
                              "(the LEADER network, about 0.4 s, more accurate on prints and marks). A database that "
                              "holds templates keeps the detector they were extracted with.")
    max_candidates: int = Field(100, gt=0, le=10_000, description="Upper bound on a search's candidate list length.")
    default_candidates: int = Field(20, gt=0, le=10_000, description="Candidate list length when a search names none.")
    max_batch: int = Field(1000, gt=0, description="Most items in one bulk request.")
    search_timeout_s: float = Field(120.0, gt=0, le=86_400, description="Longest a synchronous search may run; "
                                    "past it the request answers 503 problem+json and nothing is changed.")
    job_timeout_s: float = Field(3600.0, gt=0, le=7 * 86_400, description="Longest a background job (face bulk "
                                 "probe, AFIS bulk enrolment) may run, queueing included; past it the job ends as failed (timed out).")
    search_workers: int = Field(8, gt=0, le=256, description="Threads that run time-limited searches.")
    cors_origins: tuple[str, ...] = Field((), description="Origins allowed by CORS; empty (the default) means closed.")

    @field_validator("home", "data_dir")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return None if value is None else value.expanduser()

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the embedded SQLite file under ``home``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'biomatch.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (built from the environment on first call)."""
    return Settings()
