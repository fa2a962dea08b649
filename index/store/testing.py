"""pytest fixtures that run a test on both store backends (SQLite and PostgreSQL).

Import them into a ``conftest.py``::

    from biomatch.index.store.testing import pg_server, db_url, store  # noqa: F401

``db_url`` is parametrised ``sqlite``/``postgresql``: each test gets a fresh
SQLite file or a fresh PostgreSQL database on a server that the ``pgserver``
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

__all__ = ["pg_server", "db_url", "store", "postgres_unavailable"]

_counter = itertools.count()


def postgres_unavailable(reason: str):
    """Fail under CI (``CI`` set and not false), skip otherwise."""
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"PostgreSQL backend cannot be tested: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL backend not tested: {reason}")


@pytest.fixture(scope="session")
def pg_server():
    """Start a throw-away PostgreSQL server; yield its ``postgresql://`` URI (unix socket).

    The data folder is a fresh ``/tmp/biomatch-pgdata-*``, not under pytest's
    ``tmp_path``: as root, pgserver runs the server as a ``pgserver`` user,
    and another pytest session on the machine resets pytest's temporary root
    to mode 0700, which would cut the server off from its files.
    """
    try:
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset.
            warnings.simplefilter("ignore")
            import pgserver
    except ImportError as exc:
        postgres_unavailable(f"the pgserver package is not installed ({exc}); pip install -e '.[test]'")
    pgdata = Path(tempfile.mkdtemp(prefix="biomatch-pgdata-"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = pgserver.get_server(pgdata, cleanup_mode="stop")
    except Exception as exc:  # the bundled server failed to init or start
        shutil.rmtree(pgdata, ignore_errors=True)
        output = getattr(exc, "stderr", None) or getattr(exc, "output", None) or b""
        if isinstance(output, bytes):
            output = output.decode("utf-8", "replace")
        postgres_unavailable(f"pgserver could not start a server: {type(exc).__name__}: {exc} {output[-2000:]}".strip())
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(pgdata, ignore_errors=True)


def _fresh_database(base_uri: str) -> tuple[str, str]:
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


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A URL to an empty database of each backend in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'biomatch.db'}"
        return
    base = request.getfixturevalue("pg_server")
    url, name = _fresh_database(base)
    try:
        yield url
    finally:
        _drop_database(base, name)


@pytest.fixture
def store(db_url, tmp_path):
    """An open :class:`Store` on each backend in turn (derived files under ``tmp_path``)."""
    s = Store.open(db_url, home=tmp_path / "home")
    try:
        yield s
    finally:
        s.close()
