"""``biomatch afis import FILE...``: several transactions one by one; a bad one is refused, the others enrolled."""
import json

from biomatch.api.cli import main
from biomatch.api.settings import get_settings

SET = "fvc2002_db1_b"


def test_afis_import_several_files(home, fvc_dir, capsys):
    from biomatch.extractors.imageio import load_grey
    from biomatch.index.fingerprint.ansinist import write_transaction

    def tx(name, tcn, key, position):
        path = home / name
        path.write_bytes(write_transaction(tcn=tcn, fingers={position: (load_grey(fvc_dir / SET / f"{key}.tif"), 500)}))
        return str(path)

    a, c, d = tx("a.an2", "TP-1", "101_1", 1), tx("c.an2", "TP-2", "103_1", 3), tx("d.an2", "TP-1", "102_1", 2)
    bad = home / "bad.an2"
    bad.write_bytes((home / "a.an2").read_bytes()[:200])
    assert main(["afis", "import", a, str(bad), c, d, "--agency", "FR", "--ref", "X"]) == 2
    assert "--ref names one record" in capsys.readouterr().err
    assert main(["afis", "import", a, str(bad), c, d, "--agency", "FR", "--no-progress"]) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith(f"enrolled {a}: record ") and "TP-1" in lines[0]
    assert lines[1].startswith(f"refused  {bad}: not a readable ANSI/NIST-ITL")
    assert lines[2].startswith(f"enrolled {c}: record ") and "TP-2" in lines[2]
    assert lines[3].startswith(f"refused  {d}: ") and "'TP-1' already exists" in lines[3]
    assert lines[4] == "2 enrolled, 2 refused"
    assert f"refused {bad}" in err and f"refused {d}" in err
    assert main(["afis", "search", f"3={fvc_dir / SET / '103_2.tif'}", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["candidates"][0]["reference"] == "TP-2"
    from biomatch.index.store import Store

    with Store.open(get_settings().resolved_database_url(), home=get_settings().home) as store:
        assert sorted(r.external_ref for r in store.list_records("fingerprint")) == ["TP-1", "TP-2"]
        assert [f.position for f in store.get_fingerprints(store.find_record("fingerprint", "TP-1").id)] == [1]
