"""AFIS routes on both store backends: keys and roles, enrol, search print/mark, marks, reverse search, verify,
transactions, bad input (4xx, nothing stored)."""
import json

import pytest

from biomatch.api.settings import Settings
from biomatch.api.testing import open_api
from biomatch.extractors.fingerprint.formats import write_template
from biomatch.index.store.testing import db_url, pg_database, pg_server  # noqa: F401

SET = "fvc2002_db1_b"


@pytest.fixture()
def api(tmp_path, db_url):  # noqa: F811
    with open_api(Settings(home=tmp_path / "home", database_url=db_url)) as a:
        yield a


def _img(fvc_dir, key):
    return ("f.tif", (fvc_dir / SET / f"{key}.tif").read_bytes(), "image/tiff")


def test_afis_routes_end_to_end(api, fvc_dir, fvc_template):
    uk = api.as_key("enroller", "examiner", agency="UK")
    fr = api.as_key("enroller", "examiner", agency="FR")
    de = api.as_key("enroller", "examiner", agency="DE")
    r = uk.post("/afis/marks", data={"case_ref": "CASE-9"},
                files={"minutiae": ("m.json", write_template(fvc_template(SET, "103_5"), "json"), "application/json")})
    assert r.status_code == 201, r.text
    mark_id = r.json()["id"]
    assert r.json()["owner_agency"] == "UK"
    r = fr.post("/afis/tenprints", data={"reference": "TP-1", "positions": "1,2"},
                files=[("images", _img(fvc_dir, "101_1")), ("images", _img(fvc_dir, "102_1"))])
    assert r.status_code == 201, r.text
    assert fr.post(f"/records/{r.json()['record_id']}/releases", json={"agency": "DE"}).status_code == 201
    r = de.post("/afis/tenprints", data={"reference": "TP-2", "positions": "3"},
                files=[("images", _img(fvc_dir, "103_1"))])
    assert r.status_code == 201, r.text
    rev = r.json()["reverse_search"]
    assert rev[0]["kind"] == "mark" and rev[0]["id"] == mark_id and rev[0]["hit"]
    notes = uk.get("/afis/notifications/UK").json()
    assert [n["subject_id"] for n in notes] == [mark_id] and notes[0]["payload"]["by_agency"] == "DE"
    assert fr.get("/afis/notifications/UK").status_code == 403  # another agency's notifications

    r = de.post("/afis/search/print", data={"positions": "2"}, files=[("images", _img(fvc_dir, "102_3"))])
    assert r.status_code == 200, r.text
    top = r.json()["candidates"][0]
    assert top["reference"] == "TP-1" and top["position"] == 2 and top["fingers"][0]["pairs"] and top["hit"]
    assert [n["payload"]["by_agency"] for n in fr.get("/afis/notifications/FR").json()] == ["DE"]
    r = uk.post("/afis/search/mark", data={"roi": json.dumps([[60, 60], [330, 60], [330, 320], [60, 320]])},
                files={"image": _img(fvc_dir, "101_4")})
    assert r.status_code == 200, r.text
    assert r.json()["candidates"][0]["reference"] == "TP-1"
    r = fr.post("/afis/verify", files={"image_a": _img(fvc_dir, "101_1"), "image_b": _img(fvc_dir, "101_2")})
    assert r.status_code == 200 and r.json()["strength"] > 3
    assert fr.patch(f"/afis/marks/{mark_id}", json={"status": "identified"}).status_code == 403  # UK's mark
    r = uk.patch(f"/afis/marks/{mark_id}", json={"status": "identified"})
    assert r.status_code == 200 and r.json()["status"] == "identified"
    assert uk.get("/afis/marks", params={"status": "unsolved"}).json() == []
    rid = fr.post("/afis/search/print", data={"positions": "1"},
                  files=[("images", _img(fvc_dir, "101_2"))]).json()["candidates"][0]["id"]
    assert de.delete(f"/afis/records/{rid}").status_code == 403  # FR's record
    assert fr.delete(f"/afis/records/{rid}").json()["fingers_removed"] == 2
    r = fr.post("/afis/search/print", data={"positions": "1"}, files=[("images", _img(fvc_dir, "101_2"))])
    assert all(c["reference"] != "TP-1" for c in r.json()["candidates"])


def test_afis_roles_and_agency(api, fvc_dir):
    assert api.client.post("/afis/search/print", data={"positions": "1"},
                           files=[("images", _img(fvc_dir, "101_2"))]).status_code == 401
    examiner = api.as_key("examiner", agency="FR")
    r = examiner.post("/afis/tenprints", data={"reference": "TP-1", "positions": "1"},
                      files=[("images", _img(fvc_dir, "101_1"))])
    assert r.status_code == 403 and "enroller" in r.json()["detail"]
    enroller = api.as_key("enroller", agency="FR")
    r = enroller.post("/afis/tenprints", data={"reference": "TP-1", "positions": "1", "agency": "DE"},
                      files=[("images", _img(fvc_dir, "101_1"))])
    assert r.status_code == 403 and "acts for agency 'FR'" in r.json()["detail"]
    assert enroller.post("/afis/search/print", data={"positions": "1"},
                         files=[("images", _img(fvc_dir, "101_2"))]).status_code == 403


def test_afis_bad_input_4xx_nothing_stored(api, fvc_dir, fvc_template):
    fr = api.as_key("enroller", "examiner", agency="FR")
    ok = fr.post("/afis/tenprints", data={"reference": "TP-1", "positions": "1"},
                 files=[("images", _img(fvc_dir, "101_1"))])
    assert ok.status_code == 201
    cases = [
        ({"reference": "TP-2", "positions": "11"}, [("images", _img(fvc_dir, "102_1"))],
         422, "unknown finger position 11"),
        ({"reference": "TP-1", "positions": "2"}, [("images", _img(fvc_dir, "102_1"))], 409, "TP-1"),
        ({"reference": "TP-3", "positions": "1,2"},
         [("images", _img(fvc_dir, "102_1")), ("images", ("x.png", b"not an image", "image/png"))], 422, "x.png"),
    ]
    for data, files, status, words in cases:
        r = fr.post("/afis/tenprints", data=data, files=files)
        assert r.status_code == status, r.text
        assert words in r.json()["detail"]
    three = write_template(fvc_template(SET, "104_1").select([0, 1, 2]), "json")
    r = fr.post("/afis/marks", data={"case_ref": "C"}, files={"minutiae": ("m.json", three, "application/json")})
    assert r.status_code == 422 and "3 usable minutiae; at least 6" in r.json()["detail"]
    assert fr.get("/afis/marks").json() == []
    assert fr.put("/afis/webhooks/FR", json={"url": "ftp://example.org/x"}).status_code == 422
    r = fr.put("/afis/webhooks/FR", json={"url": "http://127.0.0.1:9/hits"})
    assert r.status_code == 200 and r.json()["url"] == "http://127.0.0.1:9/hits"
    health = api.client.get("/health").json()
    r = fr.post("/afis/search/print", data={"positions": "1"}, files=[("images", _img(fvc_dir, "101_2"))])
    assert [c["reference"] for c in r.json()["candidates"]] == ["TP-1"]
    assert health["generations"]["fingerprint"] == 1, health


def test_afis_transaction_import_export_and_corrupt(api, fvc_dir, fvc_template):
    from biomatch.extractors.imageio import load_grey
    from biomatch.index.fingerprint.ansinist import read_transaction, write_transaction

    fr = api.as_key("enroller", "examiner", agency="FR")
    raw = write_transaction(tcn="TP-AN2", fingers={6: (load_grey(fvc_dir / SET / "106_1.tif"), 500)})
    r = fr.post("/afis/tenprints/transaction", files={"transaction": ("t.an2", raw, "application/octet-stream")})
    assert r.status_code == 201, r.text
    rid = r.json()["record_id"]
    r = fr.post("/afis/tenprints/transaction", data={"reference": "TP-BAD"},
                files={"transaction": ("t.an2", raw[:200], "application/octet-stream")})
    assert r.status_code == 422 and "not a readable ANSI/NIST-ITL" in r.json()["detail"]
    r = fr.post("/afis/search/print", data={"positions": "6"}, files=[("images", _img(fvc_dir, "106_2"))])
    assert [c["reference"] for c in r.json()["candidates"]] == ["TP-AN2"]
    out = fr.get(f"/afis/records/{rid}/type9")
    assert out.status_code == 200
    tx = read_transaction(out.content)
    assert tx.tcn == "TP-AN2" and tx.minutiae[0][1] == 6 and len(tx.minutiae[0][2]) >= 6
    # the exported Type-9 searches as a mark (examiner minutiae as ANSI/NIST)
    r = fr.post("/afis/search/mark", files={"minutiae": ("m.an2", out.content, "application/octet-stream")})
    assert r.status_code == 200 and r.json()["candidates"][0]["reference"] == "TP-AN2"
    audit = [e.action for e in api_store_audit(api)]
    assert {"afis.import", "afis.search_print", "afis.export", "afis.search_mark"} <= set(audit)


def api_store_audit(api):
    from biomatch.index.store import Store

    with Store.open(api.settings.resolved_database_url(), home=api.settings.home) as s:
        return list(s.iter_audit())


def test_afis_restricted_record_is_its_owners_only(api, fvc_dir):
    fr = api.as_key("enroller", "examiner", agency="FR")
    de = api.as_key("examiner", agency="DE")
    r = fr.post("/afis/tenprints", data={"reference": "TP-R", "positions": "1", "restricted": "true"},
                files=[("images", _img(fvc_dir, "101_1"))])
    assert r.status_code == 201, r.text
    rid = r.json()["record_id"]
    probe = [("images", _img(fvc_dir, "101_2"))]
    assert [c["reference"] for c in fr.post("/afis/search/print", data={"positions": "1"}, files=probe)
            .json()["candidates"]] == ["TP-R"]
    assert de.post("/afis/search/print", data={"positions": "1"}, files=probe).json()["candidates"] == []
    assert de.get(f"/afis/records/{rid}/type9").status_code == 403
    assert fr.get(f"/afis/records/{rid}/type9").status_code == 200


def test_afis_service_with_the_leader_detector(tmp_path, fvc_dir, fvc_template):
    """A service configured for LEADER extracts uploads with it; ridge-traced native templates are refused."""
    with open_api(Settings(home=tmp_path / "home", fingerprint_minutiae="leader")) as api:
        fr = api.as_key("enroller", "examiner", agency="FR")
        r = fr.post("/afis/tenprints", data={"reference": "TP-1", "positions": "1,2"},
                    files=[("images", _img(fvc_dir, "101_1")), ("images", _img(fvc_dir, "102_1"))])
        assert r.status_code == 201, r.text
        r = fr.post("/afis/search/print", data={"positions": "2"}, files=[("images", _img(fvc_dir, "102_3"))])
        assert r.status_code == 200, r.text
        assert r.json()["candidates"][0]["reference"] == "TP-1" and r.json()["candidates"][0]["hit"]
        r = fr.post("/afis/search/mark", data={"roi": json.dumps([[60, 60], [330, 60], [330, 320], [60, 320]])},
                    files={"image": _img(fvc_dir, "101_4")})
        assert r.status_code == 200, r.text
        assert r.json()["candidates"][0]["reference"] == "TP-1"
        native = write_template(fvc_template(SET, "103_5"), "native")  # extracted with the ridge tracer
        r = fr.post("/afis/marks", data={"case_ref": "CASE-1"},
                    files={"minutiae": ("m.bmfp", native, "application/octet-stream")})
        assert r.status_code in (400, 422) and "ridges detector" in r.text
        assert fr.get("/afis/marks").json() == []
