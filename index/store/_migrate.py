"""Schema upgrades: one function per step, run inside the schema transaction at open.

To change a table, bump ``schema.SCHEMA_VERSION`` to N+1, change the table
definition, and add ``MIGRATIONS[N] = fn`` where ``fn(conn)`` upgrades a
version-N database with SQLAlchemy Core / Alembic-operations-style DDL. The
upgrade runs with the schema lock held and commits with the version bump, or
not at all. A database newer than the code is refused, never downgraded.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, update

from .errors import SchemaVersionError
from .schema import api_keys, jobs, meta, releases

__all__ = ["MIGRATIONS", "upgrade"]


def _add_api_keys(conn: Connection) -> None:
    """Version 1 -> 2: the ``api_keys`` table (hashed API keys of the service)."""
    api_keys.create(conn, checkfirst=True)


def _add_releases(conn: Connection) -> None:
    """Version 2 -> 3: the ``releases`` table (details released by an owner agency to another agency)."""
    releases.create(conn, checkfirst=True)


def _add_jobs(conn: Connection) -> None:
    """Version 3 -> 4: the ``jobs`` table (status of background jobs across restarts)."""
    jobs.create(conn, checkfirst=True)


#: ``MIGRATIONS[n]`` upgrades a version-``n`` database to version ``n + 1``.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _add_api_keys, 2: _add_releases, 3: _add_jobs}


def upgrade(conn: Connection, url: str, found: int, target: int) -> None:
    """Upgrade a database from schema version ``found`` to ``target``, or refuse clearly."""
    if found > target:
        raise SchemaVersionError(
            f"database {url} has schema version {found}, newer than this biomatch "
            f"(schema version {target}); upgrade biomatch to open it"
        )
    for version in range(found, target):
        step = MIGRATIONS.get(version)
        if step is None:
            raise SchemaVersionError(f"database {url} has schema version {found}; "
                                     f"no migration from version {version} to {version + 1} exists")
        step(conn)
    if found != target:
        conn.execute(update(meta).where(meta.c.key == "schema_version").values(value=str(target)))
