"""``biomatch admin keys ...``, ``biomatch audit verify|list`` and the first-start admin key of ``serve``."""
import json

import pytest
from sqlalchemy import create_engine, text

from biomatch.api.auth import authenticate
from biomatch.api.cli import main
from biomatch.index.store import Store


@pytest.fixture
def url(tmp_path, monkeypatch):
    monkeypatch.setenv("BIOMATCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BIOMATCH_DATABASE_URL", raising=False)
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_create_list_revoke(url, capsys):
    assert main(["admin", "keys", "create", "--agency", "FR", "--roles", "examiner,enroller", "--label", "desk 1",
                 "--database-url", url]) == 0
    out = capsys.readouterr().out
    token = out.strip().splitlines()[-1]
    assert "created key 1 for agency FR with roles enroller,examiner" in out and token.startswith("bm_")
    with Store.open(url) as store:
        assert authenticate(store, token).roles == {"examiner", "enroller"}
    assert main(["admin", "keys", "list", "--database-url", url]) == 0
    table = capsys.readouterr().out
    assert "desk 1" in table and "enroller,examiner" in table and token not in table
    assert token.split("_", 2)[2] not in table and token.split("_")[1] in table  # the prefix, never the secret
    assert main(["admin", "keys", "revoke", "1", "--database-url", url]) == 0
    assert "key 1 (" in capsys.readouterr().out
    assert main(["admin", "keys", "list", "--active", "--json", "--database-url", url]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["admin", "keys", "revoke", "5", "--database-url", url]) == 2
    assert "error: no API key with id 5" in capsys.readouterr().err
    assert main(["admin", "keys", "create", "--agency", "FR", "--roles", "root", "--database-url", url]) == 2
    assert "role must be one of" in capsys.readouterr().err
    assert main(["audit", "list", "--database-url", url]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(e["action"], e["agency"], e["subject_ids"]) for e in lines] == [("key.create", "LOCAL", [1]),
                                                                             ("key.revoke", "LOCAL", [1])]


def test_audit_verify_reports_the_first_broken_entry(url, capsys):
    with Store.open(url) as store:
        for i in range(4):
            store.append_audit("key:1:abc", "FR", "dna.search", result_ids=[i])
    assert main(["audit", "verify", "--database-url", url]) == 0
    assert capsys.readouterr().out.strip() == "OK: audit chain intact (4 entries)"
    engine = create_engine(url)
    with engine.begin() as conn:  # someone with write access to the file bypasses the triggers
        conn.execute(text("DROP TRIGGER audit_no_update"))
        conn.execute(text("UPDATE audit SET agency = 'XX' WHERE id = 3"))
    engine.dispose()
    assert main(["audit", "verify", "--database-url", url]) == 1
    assert "BROKEN: the audit chain breaks at entry 3" in capsys.readouterr().out


def test_first_serve_on_a_terminal_prints_one_admin_key_once(url, capsys, monkeypatch, tmp_path):
    import sys

    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: None)
    monkeypatch.setenv("BIOMATCH_HOME", str(tmp_path))
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["serve", "--database-url", url]) == 0
    out = capsys.readouterr().out
    token = next(word for word in out.split() if word.startswith("bm_"))
    with Store.open(url) as store:
        assert authenticate(store, token).roles == {"admin"} and len(store.list_api_keys()) == 1
    assert not (tmp_path / "first-admin-key").exists()
    assert main(["serve", "--database-url", url]) == 0
    assert "bm_" not in capsys.readouterr().out  # shown once, never again


def test_first_serve_with_logged_output_writes_the_key_to_a_private_file(url, capsys, monkeypatch, tmp_path):
    import stat

    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: None)
    monkeypatch.setenv("BIOMATCH_HOME", str(tmp_path))
    assert main(["serve", "--database-url", url]) == 0  # capsys: standard output is not a terminal
    out = capsys.readouterr().out
    key_file = tmp_path / "first-admin-key"
    assert "bm_" not in out and str(key_file) in out  # the secret never reaches the (logged) output
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    token = key_file.read_text().strip()
    with Store.open(url) as store:
        assert authenticate(store, token).roles == {"admin"}
    assert main(["serve", "--database-url", url]) == 0
    assert "first start" not in capsys.readouterr().out
