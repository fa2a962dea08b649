"""Plain, immutable rows returned by the store (domain-free: templates stay bytes)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["Record", "Fingerprint", "Face", "DnaProfile", "Mark", "Notification", "AuditEntry", "TemplateRow", "ApiKey", "Release", "Job"]


class TemplateRow(NamedTuple):
    """One stored template, as :meth:`Store.iter_templates` yields it for index rebuilds.

    ``row_id`` is the id in the modality's table (the id an index holds);
    ``record_id`` is None for marks, which belong to cases, not records.
    """

    row_id: int
    record_id: int | None
    data: bytes
    version: int


@dataclass(frozen=True, slots=True)
class Record:
    id: int
    modality: str
    external_ref: str
    owner_agency: str
    restricted: bool
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Fingerprint:
    id: int
    record_id: int
    position: int
    impression: str
    template: bytes
    template_version: int
    image_sha256: str | None


@dataclass(frozen=True, slots=True)
class Face:
    id: int
    record_id: int
    template: bytes
    model_id: str
    template_version: int
    image_sha256: str | None


@dataclass(frozen=True, slots=True)
class DnaProfile:
    id: int
    record_id: int
    specimen_id: str
    category: str
    profile: bytes
    profile_version: int


@dataclass(frozen=True, slots=True)
class Mark:
    id: int
    case_ref: str
    owner_agency: str
    status: str
    template: bytes
    template_version: int
    image: bytes | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    agency: str
    kind: str
    subject_type: str
    subject_id: int
    payload: dict[str, Any]
    created_at: dt.datetime
    read_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    agency: str
    action: str
    route: str | None
    subject_ids: list
    result_ids: list
    counts: dict
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A service API key as stored: public prefix and SHA-256 of the token, never the token."""

    id: int
    prefix: str
    secret_sha256: str
    agency: str
    roles: tuple[str, ...]
    label: str | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Release:
    """The owner agency released the details of a record or mark (``kind``, ``item_id``) to ``agency``."""

    id: int
    kind: str
    item_id: int
    agency: str
    released_by: str
    released_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Job:
    """A background job's status as stored (its results live with the process that ran it)."""

    id: str
    kind: str
    agency: str
    status: str
    files: int
    done: int
    error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
