"""``biomatch afis``: enrol, search, mark (with --case), verify, import; errors exit 2 and store nothing."""
import json

import pytest

from biomatch.api.cli import main

SET = "fvc2002_db1_b"


@pytest.fixture
def home(home, fvc_dir):
    """The CLI home of conftest.py, with the FVC data required."""
    return home


def test_afis_cli_end_to_end(home, fvc_dir, capsys):
    img = lambda k: str(fvc_dir / SET / f"{k}.tif")  # noqa: E731
    assert main(["afis", "enrol", f"1={img('101_1')}", f"2={img('102_1')}", "--ref", "TP-1", "--agency", "FR"]) == 0
    assert "record_id: 1" in capsys.readouterr().out
    assert main(["afis", "search", f"2={img('102_2')}", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["candidates"][0]["reference"] == "TP-1" and out["candidates"][0]["position"] == 2
    assert main(["afis", "mark", img("101_3"), "--case", "C-1", "--agency", "UK",
                 "--roi", "[[50,50],[330,50],[330,330],[50,330]]"]) == 0
    out = capsys.readouterr().out
    assert "mark id: 1" in out and "TP-1" in out.splitlines()[5] and "right thumb" in out.splitlines()[5]
    assert main(["afis", "verify", img("103_1"), img("103_2")]) == 0
    assert "strength" in capsys.readouterr().out

    from biomatch.extractors.imageio import load_grey
    from biomatch.index.fingerprint.ansinist import write_transaction

    an2 = home / "t.an2"
    an2.write_bytes(write_transaction(tcn="TP-2", fingers={3: (load_grey(img("103_1")), 500)}))
    assert main(["afis", "import", str(an2), "--agency", "DE"]) == 0
    assert "reference: TP-2" in capsys.readouterr().out
    # bad input: exit 2 with a message, nothing stored
    assert main(["afis", "enrol", f"11={img('104_1')}", "--ref", "TP-3", "--agency", "FR"]) == 2
    assert "unknown finger position 11" in capsys.readouterr().err
    assert main(["afis", "enrol", f"4={img('104_1')}", "--ref", "TP-1", "--agency", "FR"]) == 2
    assert "TP-1" in capsys.readouterr().err
    assert main(["afis", "search", f"4={img('104_2')}", "--json"]) == 0
    assert all(c["reference"] != "TP-3" for c in json.loads(capsys.readouterr().out)["candidates"])


def test_afis_demo_runs_every_step(home, capsys):
    from argparse import Namespace

    from biomatch.api.demo_afis import run_demo

    run_demo(Namespace(data=None))
    out = capsys.readouterr().out
    for step in ("1. enrolled 6 tenprint records (60 fingers)", "2. registered", "3a. print search",
                 "3b. mark search", "4. FR enrols", "notifications for UK:"):
        assert step in out, out
    lines = out.splitlines()
    first = lines[lines.index(next(l for l in lines if l.startswith("3a."))) + 3]
    assert "TP-fvc2002_db1_b" in first and "*" in first.split()[0]
    assert int(out.split("notifications for UK: ")[1].split()[0]) >= 1
