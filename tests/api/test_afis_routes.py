"""AFIS routes on both store backends: enrol, search print/mark, marks, reverse search, verify, bad input."""
import json

import pytest
from fastapi.testclient import TestClient

from biomatch.api.main import create_app
from biomatch.api.settings import Settings
from biomatch.extractors.fingerprint.formats import write_template
from biomatch.index.store.testing import db_url, pg_database, pg_server  # noqa: F401

SET = "fvc2002_db1_b"


@pytest.fixture()
def client(tmp_path, db_url):  # noqa: F811
    with TestClient(create_app(Settings(home=tmp_path / "home", database_url=db_url)),
                    raise_server_exceptions=False) as c:
        yield c


def _img(fvc_dir, key):
    return ("f.tif", (fvc_dir / SET / f"{key}.tif").read_bytes(), "image/tiff")


def test_afis_routes_end_to_end(client, fvc_dir, fvc_template):
    r = client.post("/afis/marks", data={"case_ref": "CASE-9", "agency": "UK"},
                    files={"minutiae": ("m.json", write_template(fvc_template(SET, "103_5"), "json"), "application/json")})
    assert r.status_code == 201, r.text
    mark_id = r.json()["id"]
    r = client.post("/afis/tenprints", data={"reference": "TP-1", "agency": "FR", "positions": "1,2"},
                    files=[("images", _img(fvc_dir, "101_1")), ("images", _img(fvc_dir, "102_1"))])
    assert r.status_code == 201, r.text
    r = client.post("/afis/tenprints", data={"reference": "TP-2", "agency": "DE", "positions": "3"},
                    files=[("images", _img(fvc_dir, "103_1"))])
    assert r.status_code == 201, r.text
    rev = r.json()["reverse_search"]
    assert rev[0]["kind"] == "mark" and rev[0]["id"] == mark_id and rev[0]["hit"]
    notes = client.get("/afis/notifications/UK").json()
    assert [n["subject_id"] for n in notes] == [mark_id] and notes[0]["payload"]["by_agency"] == "DE"

    r = client.post("/afis/search/print", data={"positions": "2"}, files=[("images", _img(fvc_dir, "102_3"))])
    assert r.status_code == 200, r.text
    top = r.json()["candidates"][0]
    assert top["reference"] == "TP-1" and top["position"] == 2 and top["fingers"][0]["pairs"]
    r = client.post("/afis/search/mark", data={"roi": json.dumps([[60, 60], [330, 60], [330, 320], [60, 320]])},
                    files={"image": _img(fvc_dir, "101_4")})
    assert r.status_code == 200, r.text
    assert r.json()["candidates"][0]["reference"] == "TP-1"
    r = client.post("/afis/verify", files={"image_a": _img(fvc_dir, "101_1"), "image_b": _img(fvc_dir, "101_2")})
    assert r.status_code == 200 and r.json()["strength"] > 3
    r = client.patch(f"/afis/marks/{mark_id}", json={"status": "identified"})
    assert r.status_code == 200 and r.json()["status"] == "identified"
    assert client.get("/afis/marks", params={"status": "unsolved"}).json() == []
    rid = client.post("/afis/search/print", data={"positions": "1"},
                      files=[("images", _img(fvc_dir, "101_2"))]).json()["candidates"][0]["id"]
    assert client.delete(f"/afis/records/{rid}").json()["fingers_removed"] == 2
    r = client.post("/afis/search/print", data={"positions": "1"}, files=[("images", _img(fvc_dir, "101_2"))])
    assert all(c["reference"] != "TP-1" for c in r.json()["candidates"])


def test_afis_bad_input_4xx_nothing_stored(client, fvc_dir, fvc_template):
    ok = client.post("/afis/tenprints", data={"reference": "TP-1", "agency": "FR", "positions": "1"},
                     files=[("images", _img(fvc_dir, "101_1"))])
    assert ok.status_code == 201
    cases = [
        ({"reference": "TP-2", "agency": "FR", "positions": "11"}, [("images", _img(fvc_dir, "102_1"))],
         422, "unknown finger position 11"),
        ({"reference": "TP-1", "agency": "FR", "positions": "2"}, [("images", _img(fvc_dir, "102_1"))], 409, "TP-1"),
        ({"reference": "TP-3", "agency": "FR", "positions": "1,2"},
         [("images", _img(fvc_dir, "102_1")), ("images", ("x.png", b"not an image", "image/png"))], 422, "x.png"),
    ]
    for data, files, status, words in cases:
        r = client.post("/afis/tenprints", data=data, files=files)
        assert r.status_code == status, r.text
        assert words in r.json()["detail"]
    three = write_template(fvc_template(SET, "104_1").select([0, 1, 2]), "json")
    r = client.post("/afis/marks", data={"case_ref": "C", "agency": "FR"},
                    files={"minutiae": ("m.json", three, "application/json")})
    assert r.status_code == 422 and "3 usable minutiae; at least 6" in r.json()["detail"]
    assert client.get("/afis/marks").json() == []
    assert client.put("/afis/webhooks/FR", json={"url": "ftp://example.org/x"}).status_code == 422
    r = client.put("/afis/webhooks/FR", json={"url": "http://127.0.0.1:9/hits"})
    assert r.status_code == 200 and r.json()["url"] == "http://127.0.0.1:9/hits"
    health = client.get("/health").json()
    r = client.post("/afis/search/print", data={"positions": "1"}, files=[("images", _img(fvc_dir, "101_2"))])
    assert [c["reference"] for c in r.json()["candidates"]] == ["TP-1"]
    assert health["generations"]["fingerprint"] == 1, health


def test_afis_transaction_import_export_and_corrupt(client, fvc_dir, fvc_template):
    from biomatch.extractors.imageio import load_grey
    from biomatch.index.fingerprint.ansinist import read_transaction, write_transaction

    raw = write_transaction(tcn="TP-AN2", fingers={6: (load_grey(fvc_dir / SET / "106_1.tif"), 500)})
    r = client.post("/afis/tenprints/transaction", data={"agency": "FR"},
                    files={"transaction": ("t.an2", raw, "application/octet-stream")})
    assert r.status_code == 201, r.text
    rid = r.json()["record_id"]
    r = client.post("/afis/tenprints/transaction", data={"agency": "FR", "reference": "TP-BAD"},
                    files={"transaction": ("t.an2", raw[:200], "application/octet-stream")})
    assert r.status_code == 422 and "not a readable ANSI/NIST-ITL" in r.json()["detail"]
    r = client.post("/afis/search/print", data={"positions": "6"}, files=[("images", _img(fvc_dir, "106_2"))])
    assert [c["reference"] for c in r.json()["candidates"]] == ["TP-AN2"]
    out = client.get(f"/afis/records/{rid}/type9")
    assert out.status_code == 200
    tx = read_transaction(out.content)
    assert tx.tcn == "TP-AN2" and tx.minutiae[0][1] == 6 and len(tx.minutiae[0][2]) >= 6
    # the exported Type-9 searches as a mark (examiner minutiae as ANSI/NIST)
    r = client.post("/afis/search/mark", files={"minutiae": ("m.an2", out.content, "application/octet-stream")})
    assert r.status_code == 200 and r.json()["candidates"][0]["reference"] == "TP-AN2"
