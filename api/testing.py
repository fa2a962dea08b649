"""Test helpers: an application with one API key per role, for route tests.

Use in a test module::

    from biomatch.api.testing import api  # noqa: F401  (the fixture)

    def test_search(api):
        r = api.client.post("/dna/search", json=..., headers=api.auth("examiner"))

``api.auth(*roles, agency="FR")`` returns the headers of a key holding exactly
those roles for that agency (created on first use and reused). For another
store (both backends), ``with open_api(Settings(..., database_url=db_url)) as api:``.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import pytest

from biomatch.index.store import Store

from .auth import create_key
from .settings import Settings

__all__ = ["ApiUnderTest", "KeyClient", "api", "open_api", "bearer", "free_port", "serve_in_subprocess"]


def bearer(token: str) -> dict[str, str]:
    """``Authorization: Bearer <token>`` headers."""
    return {"Authorization": f"Bearer {token}"}


@dataclass
class ApiUnderTest:
    """A running test application and the keys made for it."""

    client: object
    settings: Settings
    tokens: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict)
    ids: dict[tuple[str, tuple[str, ...]], int] = field(default_factory=dict)

    def token(self, *roles: str, agency: str = "FR") -> str:
        """The token of a key for ``agency`` holding exactly ``roles`` (made once)."""
        wanted = (agency, tuple(sorted(set(roles))))
        if wanted not in self.tokens:
            with Store.open(self.settings.resolved_database_url(), home=self.settings.home) as store:
                new = create_key(store, agency, wanted[1], label="test")
            self.tokens[wanted], self.ids[wanted] = new.token, new.id
        return self.tokens[wanted]

    def auth(self, *roles: str, agency: str = "FR") -> dict[str, str]:
        """Headers authenticating as a key for ``agency`` with ``roles``."""
        return bearer(self.token(*roles, agency=agency))

    def as_key(self, *roles: str, agency: str = "FR") -> "KeyClient":
        """The test client sending the headers of a key for ``agency`` with ``roles`` on every request."""
        return KeyClient(self.client, self.auth(*roles, agency=agency))


class KeyClient:
    """A test client bound to one key: ``.get/.post/...`` add its headers."""

    def __init__(self, client, headers: dict[str, str]):
        self.client, self.headers = client, headers

    def __getattr__(self, method):
        call = getattr(self.client, method)
        return lambda *a, **kw: call(*a, headers=self.headers, **kw)


@contextlib.contextmanager
def open_api(settings: Settings):
    """Run the application of ``settings`` (lifespan included) and yield an :class:`ApiUnderTest`."""
    from fastapi.testclient import TestClient

    from .main import create_app

    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield ApiUnderTest(client, settings)


@pytest.fixture
def api(tmp_path):
    """An :class:`ApiUnderTest` on a fresh SQLite store (server errors answered, not raised)."""
    with open_api(Settings(home=tmp_path / "home")) as under_test:
        yield under_test


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_in_subprocess(home, port: int, *, start_timeout_s: float = 90):
    """Run ``biomatch serve`` on 127.0.0.1:``port`` over the embedded store in ``home``; return the process
    once ``/health`` answers 200 (crash tests kill it with SIGKILL)."""
    import http.client
    import os
    import subprocess
    import sys
    import time

    env = {**os.environ, "BIOMATCH_HOME": str(home)}
    env.pop("BIOMATCH_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "biomatch.api.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + start_timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
        finally:
            conn.close()
    proc.kill()
    proc.wait(timeout=30)
    pytest.fail("the server never answered /health")
