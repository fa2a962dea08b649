"""``biomatch face``: enrol, verify, search, probe (csv/json/html, --cluster), delete; errors exit 2."""
import json
import shutil

import pytest

from biomatch.api.cli import main
from shared_data import LFW, require


@pytest.fixture
def home(home):
    """The CLI home of conftest.py, with the shared face data required."""
    require(LFW, "shared face data")
    return home


def test_face_cli_end_to_end(home, capsys):
    gal = home / "gallery"
    for name in ("Abdullah_Gul", "Aaron_Pena", "Aaron_Sorkin"):
        (gal / name).mkdir(parents=True)
        shutil.copy(LFW / name / f"{name}_0001.jpg", gal / name)
    assert main(["face", "enrol", "--folders", str(gal), "--agency", "FR", "--gallery", "t"]) == 0
    assert "enrolled 3 records" in capsys.readouterr().out

    assert main(["face", "verify", str(LFW / "Abdullah_Gul/Abdullah_Gul_0001.jpg"),
                 str(LFW / "Abdullah_Gul/Abdullah_Gul_0003.jpg")]) == 0
    assert "-> MATCH" in capsys.readouterr().out

    assert main(["face", "search", str(LFW / "Abdullah_Gul/Abdullah_Gul_0003.jpg"), "--gallery", "t", "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[1] == "Abdullah_Gul"

    probes = home / "probes"
    probes.mkdir()
    for i in (2, 3, 4):
        shutil.copy(LFW / "Abdullah_Gul" / f"Abdullah_Gul_000{i}.jpg", probes)
    (probes / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0garbage")
    listing = home / "list.txt"
    listing.write_text(f"{LFW / 'Aaron_Sorkin/Aaron_Sorkin_0002.jpg'}\n")
    report = home / "r.json"
    assert main(["face", "probe", str(probes), str(listing), "--gallery", "t", "--top", "3", "--cluster",
                 "--no-progress", "--out", str(report)]) == 0
    data = json.loads(report.read_text())
    assert data["files"] == 5 and len(data["skipped"]) == 1 and "corrupt" in data["skipped"][0]["reason"]
    main_faces = [f for f in data["faces"] if f["face"] == 0]
    assert {f["candidates"][0]["external_ref"] for f in main_faces} == {"Abdullah_Gul", "Aaron_Sorkin"}
    assert len(data["clusters"]) == 1 and len(data["clusters"][0]["faces"]) >= 3
    for suffix in (".csv", ".html"):
        assert main(["face", "probe", str(probes), "--gallery", "t", "--no-progress",
                     "--out", str(home / f"r{suffix}")]) == 0
    assert (home / "r.csv").read_text().count("Abdullah_Gul") >= 3
    assert "data:image/jpeg;base64," in (home / "r.html").read_text()

    assert main(["face", "delete", "--ref", "Abdullah_Gul", "--gallery", "t"]) == 0
    capsys.readouterr()
    main(["face", "search", str(LFW / "Abdullah_Gul/Abdullah_Gul_0003.jpg"), "--gallery", "t"])
    assert "Abdullah_Gul " not in capsys.readouterr().out


def test_face_cli_errors_exit_2(home, capsys):
    bad = home / "bad.jpg"
    bad.write_bytes(b"")
    assert main(["face", "enrol", str(bad), "--ref", "X", "--agency", "FR", "--gallery", "t"]) == 2
    assert "empty file" in capsys.readouterr().err
    assert main(["face", "probe", str(home), "--gallery", "t", "--out", str(home / "r.pdf")]) == 2
    assert main(["face", "search", str(bad), "--gallery", "../etc"]) == 2
    assert main(["face", "delete", "--ref", "nobody", "--gallery", "t"]) == 2


def test_probe_detect_max_side_finds_small_faces_in_a_large_image(home):
    import cv2
    import numpy as np

    from biomatch.extractors.imageio import load_colour

    gal = home / "gallery" / "Aaron_Sorkin"
    gal.mkdir(parents=True)
    shutil.copy(LFW / "Aaron_Sorkin/Aaron_Sorkin_0001.jpg", gal)
    assert main(["face", "enrol", "--folders", str(gal.parent), "--agency", "FR", "--gallery", "t"]) == 0
    # four people, faces about 30 px wide, in a 1600x1200 scene (12 px at the default 640 px detection copy)
    scene = np.full((1200, 1600, 3), 120, np.uint8)
    names = ("Aaron_Sorkin/Aaron_Sorkin_0002.jpg", "Aaron_Pena/Aaron_Pena_0001.jpg",
             "Abdullah_Gul/Abdullah_Gul_0001.jpg", "Abbas_Kiarostami/Abbas_Kiarostami_0001.jpg")
    for k, name in enumerate(names):
        small = cv2.resize(load_colour(LFW / name), (80, 80), interpolation=cv2.INTER_AREA)
        scene[500:580, 200 + 350 * k:280 + 350 * k] = small
    cv2.imwrite(str(home / "scene.png"), scene)
    report = home / "r.json"
    assert main(["face", "probe", str(home / "scene.png"), "--gallery", "t", "--no-progress",
                 "--detect-max-side", "2048", "--out", str(report)]) == 0
    faces = json.loads(report.read_text())["faces"]
    assert len(faces) == 4
    assert main(["face", "probe", str(home / "scene.png"), "--gallery", "t", "--detect-max-side", "10",
                 "--out", str(report)]) == 2
