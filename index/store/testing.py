"""pytest fixtures that run a test on both store backends (SQLite and PostgreSQL).

Import them into a ``conftest.py``::

    from biomatch.index.store.testing import db_url, pg_database, pg_server, store  # noqa: F401

``db_url`` is parametrised ``sqlite``/``postgresql``: each test gets a fresh
SQLite file or an emptied PostgreSQL database on a server that the ``pgserver``
package (test extra) runs on a unix socket for the whole session. When that
server cannot start, the PostgreSQL tests fail when ``CI`` is set (so CI
never passes without having tested PostgreSQL) and are skipped with the
reason otherwise.
"""
from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest

from .store import Store

__all__ = ["pg_server", "pg_database", "db_url", "store", "postgres_unavailable"]

_counter = itertools.count()


def postgres_unavailable(reason: str):
    """Fail under CI (``CI`` set and not false), skip otherwise."""
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"PostgreSQL backend cannot be tested: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL backend not tested: {reason}")


class _Shared:
    """One server and one database per test process, however many modules import the fixtures.

    A module that imports these fixtures gets its own copy of each fixture
    definition, so without sharing every such module would start a server.
    """

    users = 0
    server = None
    pgdata: Path | None = None
    uri: str | None = None
    database: tuple[str, str] | None = None
    error: str | None = None


def _start_server() -> None:
    try:
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset.
            warnings.simplefilter("ignore")
            import pgserver
    except ImportError as exc:
        _Shared.error = f"the pgserver package is not installed ({exc}); pip install -e '.[test]'"
        return
    pgdata = Path(tempfile.mkdtemp(prefix="biomatch-pgdata-"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = pgserver.get_server(pgdata, cleanup_mode="stop")
        _throwaway_settings(server.get_uri())
    except Exception as exc:  # the bundled server failed to init or start
        shutil.rmtree(pgdata, ignore_errors=True)
        output = getattr(exc, "stderr", None) or getattr(exc, "output", None) or b""
        if isinstance(output, bytes):
            output = output.decode("utf-8", "replace")
        _Shared.error = f"pgserver could not start a server: {type(exc).__name__}: {exc} {output[-2000:]}".strip()
        return
    _Shared.server, _Shared.pgdata, _Shared.uri = server, pgdata, server.get_uri()


def _release_server() -> None:
    _Shared.users -= 1
    if _Shared.users > 0 or _Shared.server is None:
        return
    try:
        if _Shared.database is not None:
            _drop_database(_Shared.uri, _Shared.database[1])
    finally:
        _Shared.server.cleanup()
        shutil.rmtree(_Shared.pgdata, ignore_errors=True)
        _Shared.server = _Shared.pgdata = _Shared.uri = _Shared.database = None


@pytest.fixture(scope="session")
def pg_server():
    """Start (once per process) a throw-away PostgreSQL server; yield its ``postgresql://`` URI.

    The server listens on a unix socket only. Its data folder is a fresh
    ``/tmp/biomatch-pgdata-*``, not under pytest's ``tmp_path``: as root,
    pgserver runs the server as a ``pgserver`` user, and another pytest
    session on the machine resets pytest's temporary root to mode 0700, which
    would cut the server off from its files.
    """
    if _Shared.server is None and _Shared.error is None:
        _start_server()
    if _Shared.error is not None:
        postgres_unavailable(_Shared.error)
    _Shared.users += 1
    try:
        yield _Shared.uri
    finally:
        _release_server()


def _throwaway_settings(uri: str) -> None:
    """Turn off fsync on the throw-away test server (its own durability is not under test).

    A fresh database per test then costs about 0.2 s instead of 1.2 s here.
    """
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        for name in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(psycopg.sql.SQL("ALTER SYSTEM SET {} = off").format(psycopg.sql.Identifier(name)))
        conn.execute("SELECT pg_reload_conf()")


def _create_database(base_uri: str) -> tuple[str, str]:
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    name = f"biomatch_test_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(base_uri, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(base_uri).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False), name


def _drop_database(base_uri: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(base_uri, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _empty_database(url: str) -> None:
    """Drop every table, function and trigger: end other sessions, recreate the ``public`` schema.

    About 20 ms, against about 0.5 s for a fresh ``CREATE DATABASE`` on this machine.
    """
    import psycopg
    from sqlalchemy.engine import make_url

    libpq_uri = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq_uri, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture(scope="session")
def pg_database(pg_server):
    """One PostgreSQL database for the process (dropped with the server); ``db_url`` empties it per test."""
    if _Shared.database is None:
        _Shared.database = _create_database(pg_server)
    return _Shared.database[0]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A URL to an empty database of each backend in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'biomatch.db'}"
    url = request.getfixturevalue("pg_database")
    _empty_database(url)
    return url


@pytest.fixture
def store(db_url, tmp_path):
    """An open :class:`Store` on each backend in turn (derived files under ``tmp_path``)."""
    s = Store.open(db_url, home=tmp_path / "home")
    try:
        yield s
    finally:
        s.close()
