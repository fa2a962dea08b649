"""``biomatch admin release|revoke|releases``: the owner is checked, changes are audited, the store holds them."""
import pytest

from biomatch.api.cli import main
from biomatch.index.store import Store


@pytest.fixture
def url(tmp_path, monkeypatch):
    monkeypatch.setenv("BIOMATCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BIOMATCH_DATABASE_URL", raising=False)
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_release_list_revoke_from_the_command_line(url, capsys):
    with Store.open(url) as store:
        rid = store.add_record("dna", "S-1", "FR")
    db = ["--database-url", url]
    assert main(["admin", "release", "record", str(rid), "--to", "DE", "--owner", "FR", *db]) == 0
    assert f"record {rid}: details released to DE" in capsys.readouterr().out
    assert main(["admin", "release", "record", str(rid), "--to", "UK", "--owner", "DE", *db]) == 2
    assert "belongs to agency 'FR', not 'DE'" in capsys.readouterr().err
    assert main(["admin", "release", "mark", "9", "--to", "UK", "--owner", "FR", *db]) == 2
    assert "no mark with id 9" in capsys.readouterr().err
    assert main(["admin", "releases", "record", str(rid), *db]) == 0
    assert capsys.readouterr().out.startswith("DE\t")
    assert main(["admin", "revoke", "record", str(rid), "--to", "DE", "--owner", "FR", *db]) == 0
    assert main(["admin", "revoke", "record", str(rid), "--to", "DE", "--owner", "FR", *db]) == 2
    with Store.open(url) as store:
        assert store.list_releases("record", rid) == []
        entries = [(e.action, e.agency, e.subject_ids, e.result_ids) for e in store.iter_audit()]
        assert store.verify_audit() is None
    assert entries == [("sharing.release", "LOCAL", [f"record:{rid}"], ["DE"]),
                       ("sharing.revoke", "LOCAL", [f"record:{rid}"], ["DE"])]
