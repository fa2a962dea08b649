"""Backend set-up: default location, SQLite pragmas, refused URLs, CI rule for PostgreSQL."""
import os

import pytest
from sqlalchemy import text

from biomatch.index.store import Store
from biomatch.index.store.testing import postgres_unavailable


def test_default_url_is_under_biomatch_home(monkeypatch, tmp_path):
    home = tmp_path / "not" / "yet"
    monkeypatch.setenv("BIOMATCH_HOME", str(home))
    monkeypatch.delenv("BIOMATCH_DATABASE_URL", raising=False)
    with Store.open() as store:
        assert store.backend == "sqlite" and store.url == f"sqlite:///{home / 'biomatch.db'}"
        assert (home / "biomatch.db").exists()
        assert store.derived_dir.parent == home / "derived"


def test_sqlite_runs_wal_with_foreign_keys_and_busy_timeout(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'b.db'}") as store:
        with store._write.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


def test_database_url_variable_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("BIOMATCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BIOMATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    with Store.open() as store:
        assert store.url == f"sqlite:///{tmp_path / 'elsewhere.db'}"
    assert (tmp_path / "elsewhere.db").exists() and not (tmp_path / "home" / "biomatch.db").exists()


@pytest.mark.parametrize("url, message", [
    ("sqlite://", "in-memory"),
    ("sqlite:///:memory:", "in-memory"),
    ("mysql+pymysql://u@h/db", "unsupported database backend"),
    ("postgresql+asyncpg://u@h/db", "through psycopg"),
])
def test_refused_urls(url, message):
    with pytest.raises(ValueError, match=message):
        Store.open(url)


def test_postgres_unavailable_fails_under_ci_and_skips_locally(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot be tested: no server"):
        postgres_unavailable("no server")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="not tested: no server"):
        postgres_unavailable("no server")
    assert "CI" not in os.environ
