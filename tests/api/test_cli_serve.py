"""``biomatch serve`` argument handling (the server itself is exercised through TestClient)."""
import argparse

import pytest

from biomatch.api import cli_serve


def _parse(argv):
    parser = argparse.ArgumentParser()
    cli_serve.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_defaults_listen_on_loopback():
    args = _parse(["serve"])
    assert (args.host, args.port, args.func) == ("127.0.0.1", 8000, cli_serve._serve)


def test_bad_port_is_a_value_error():
    with pytest.raises(ValueError, match="--port"):
        cli_serve._serve(_parse(["serve", "--port", "70000"]))


def test_serve_runs_uvicorn_with_the_app(monkeypatch, tmp_path):
    seen = {}
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert cli_serve._serve(_parse(["serve", "--port", "8123", "--database-url", url])) == 0
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8123)
    assert seen["app"].title == "biomatch"


def test_unusable_database_is_one_error_line(tmp_path, monkeypatch):
    import uvicorn

    from biomatch.api.cli import UserError

    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: pytest.fail("the server must not start"))
    with pytest.raises(ValueError, match="unsupported database backend"):
        cli_serve._serve(_parse(["serve", "--database-url", "mysql+pymysql://u@h/db"]))
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("not a database, just text " * 100)
    with pytest.raises(UserError, match="cannot open the database: file is not a database"):
        cli_serve._serve(_parse(["serve", "--database-url", f"sqlite:///{not_a_database}"]))


def test_serve_answers_on_loopback_and_stops_cleanly(tmp_path):
    """The real thing: ``biomatch serve`` in a subprocess, /health over TCP, SIGTERM."""
    import json
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "BIOMATCH_HOME": str(tmp_path / "home")}
    env.pop("BIOMATCH_DATABASE_URL", None)
    script = ("import sys; from biomatch.api import cli_serve; import argparse; "
              "p = argparse.ArgumentParser(); cli_serve.register(p.add_subparsers()); "
              "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))")
    proc = subprocess.Popen([sys.executable, "-c", script, "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        body, deadline = None, time.monotonic() + 60
        while body is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    body = json.loads(r.read())
                    headers = dict(r.headers)
            except OSError:
                time.sleep(0.2)
        assert body is not None, "the server never answered"
        assert body["status"] == "ok" and body["backend"] == "sqlite"
        assert headers["x-content-type-options"] == "nosniff" and "server" not in {k.lower() for k in headers}
        assert (tmp_path / "home" / "biomatch.db").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    # uvicorn re-raises SIGTERM after its graceful shutdown, so the status names the signal.
    assert proc.returncode in (0, -signal.SIGTERM), out[-2000:]
    assert "Application shutdown complete" in out and "Traceback" not in out
