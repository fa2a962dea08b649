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
