"""Engine creation: the default embedded SQLite file and PostgreSQL URLs.

SQLite runs in WAL mode (readers never block the writer) with foreign keys on
and a busy timeout. Its write transactions start with ``BEGIN IMMEDIATE`` so
two writers queue on the busy timeout instead of failing half-way through with
"database is locked"; reads use a second engine with plain deferred ``BEGIN``
so they never take the write lock.
"""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

__all__ = ["biomatch_home", "default_url", "make_engines", "BUSY_TIMEOUT_MS"]

#: How long a SQLite writer waits for another writer before giving up.
BUSY_TIMEOUT_MS = 30_000
#: Connections per engine: enough for the service's 40 worker threads to
#: queue briefly rather than time out (no store method holds two at once).
POOL = {"pool_size": 10, "max_overflow": 30, "pool_timeout": 60}


def biomatch_home() -> Path:
    """Return ``$BIOMATCH_HOME`` (default ``~/.biomatch``), created if missing."""
    home = Path(os.environ.get("BIOMATCH_HOME") or Path.home() / ".biomatch").expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def default_url() -> str:
    """Return ``$BIOMATCH_DATABASE_URL``, else the embedded ``sqlite:///$BIOMATCH_HOME/biomatch.db``.

    The same variables configure the service (``biomatch.api.settings``), so
    ``Store.open()`` and ``biomatch serve`` open the same database.
    """
    return os.environ.get("BIOMATCH_DATABASE_URL") or f"sqlite:///{biomatch_home() / 'biomatch.db'}"


def make_engines(url: str) -> tuple[Engine, Engine]:
    """Create the (write, read) engines for ``url``.

    Parameters
    ----------
    url : str
        ``sqlite:///PATH`` or ``postgresql+psycopg://...``.

    Returns
    -------
    write, read : Engine
        Identical for PostgreSQL; for SQLite the write engine begins
        ``IMMEDIATE`` transactions.

    Raises
    ------
    ValueError
        For an unsupported backend or an in-memory SQLite database (each
        connection would see a different, empty database).
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.get_driver_name() not in ("psycopg", "psycopg2"):
            raise ValueError(f"PostgreSQL is supported through psycopg (postgresql+psycopg://...); "
                             f"got driver {parsed.get_driver_name()!r}")
        engine = create_engine(parsed, pool_pre_ping=True, **POOL)
        return engine, engine
    if backend != "sqlite":
        raise ValueError(f"unsupported database backend {backend!r}; use sqlite or postgresql+psycopg")
    if not parsed.database or parsed.database == ":memory:":
        raise ValueError("an in-memory SQLite database cannot be shared between connections; give a file path")
    Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return _sqlite_engine(parsed, "BEGIN IMMEDIATE"), _sqlite_engine(parsed, "BEGIN")


def _sqlite_engine(url, begin_sql: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}, **POOL)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy emit BEGIN itself (the pysqlite driver's own
        # transaction handling would start transactions lazily and late).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_MS)}")
        # FULL: an acknowledged (committed) enrolment survives a power cut, not just a crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql(begin_sql)

    return engine
