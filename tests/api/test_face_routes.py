"""Face routes: enrol, verify, search, bulk probe job with report download, delete; keys, roles, audit; bad uploads refused."""
import io
import struct
import time
import zlib

import pytest

from biomatch.api.testing import api  # noqa: F401  (the fixture)
from shared_data import lfw_upload


img = lfw_upload


def bomb_png():
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def flat_png():
    import cv2
    import numpy as np

    return cv2.imencode(".png", np.full((120, 160, 3), 128, np.uint8))[1].tobytes()


def test_enrol_verify_search_probe_delete(api):  # noqa: F811
    client = api.client
    enroller, examiner, operator = api.auth("enroller"), api.auth("examiner"), api.auth("operator")
    r = client.post("/faces/enrol", files=[("images", img("Abdullah_Gul/Abdullah_Gul_0001.jpg"))],
                    data={"external_ref": "BLUE-1"}, headers=enroller)
    assert r.status_code == 201, r.text
    rid = r.json()["record_id"]
    r = client.post("/faces/enrol", files=[("images", img("Aaron_Pena/Aaron_Pena_0001.jpg"))],
                    data={"external_ref": "BLUE-2"}, headers=api.auth("enroller", agency="IT"))
    assert r.status_code == 201 and r.json()["gallery_size"] == 2

    r = client.post("/faces/verify", files=[("image_a", img("Abdullah_Gul/Abdullah_Gul_0001.jpg")),
                                            ("image_b", img("Abdullah_Gul/Abdullah_Gul_0003.jpg"))],
                    headers=examiner)
    assert r.status_code == 200 and r.json()["match"] is True and r.json()["fmr"] < 1e-4

    r = client.post("/faces/search", files={"image": img("Abdullah_Gul/Abdullah_Gul_0003.jpg")}, data={"top": 2},
                    headers=examiner)
    best = r.json()["faces"][0]["candidates"][0]
    assert r.status_code == 200 and best["external_ref"] == "BLUE-1" and best["record_id"] == rid
    assert best["owner_agency"] == "FR"  # the enrolling key's agency

    r = client.post("/faces/search", files={"image": ("flat.png", flat_png(), "image/png")}, headers=examiner)
    assert r.status_code == 200 and r.json()["faces"] == [] and r.json()["message"] == "no face found"

    files = [("images", img(f"Abdullah_Gul/Abdullah_Gul_000{i}.jpg")) for i in (2, 3)]
    files.append(("images", ("junk.jpg", b"not an image", "image/jpeg")))
    assert client.post("/faces/probe", files=files, headers=examiner).status_code == 403  # operators only
    r = client.post("/faces/probe", files=files, data={"top": 3, "cluster": "true"}, headers=operator)
    assert r.status_code == 202, r.text
    job = r.json()["job_id"]
    for _ in range(200):
        status = client.get(f"/faces/probe/{job}", headers=operator).json()
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert status["status"] == "done" and status["done"] == 3, status
    report = client.get(f"/faces/probe/{job}/report.json", headers=operator).json()
    assert all(f["candidates"][0]["external_ref"] == "BLUE-1" for f in report["faces"] if f["face"] == 0)
    assert len(report["skipped"]) == 1 and len(report["clusters"]) == 1
    html = client.get(f"/faces/probe/{job}/report.html", headers=operator)
    assert html.status_code == 200 and "data:image/jpeg;base64," in html.text
    assert client.get(f"/faces/probe/{job}/report.csv", headers=operator).text.startswith("source,status")
    assert client.get("/faces/probe/nope", headers=operator).status_code == 404
    assert client.get(f"/faces/probe/{job}", headers=api.auth("operator", agency="DE")).status_code == 404

    assert client.delete(f"/faces/records/{rid}", headers=examiner).status_code == 403
    assert client.delete(f"/faces/records/{rid}", headers=api.auth("enroller", agency="IT")).status_code == 403
    r = client.delete(f"/faces/records/{rid}", headers=enroller)
    assert r.status_code == 200 and r.json()["faces_removed"] == 1
    r = client.post("/faces/search", files={"image": img("Abdullah_Gul/Abdullah_Gul_0003.jpg")}, headers=examiner)
    assert all(c["external_ref"] != "BLUE-1" for c in r.json()["faces"][0]["candidates"])
    assert client.delete(f"/faces/records/{rid}", headers=enroller).status_code == 404
    entries = client.get("/audit/entries", params={"limit": 1000}, headers=api.auth("auditor"))
    assert entries.status_code == 200
    actions = {e["action"] for e in entries.json()}
    assert {"face.enrol", "face.verify", "face.search", "face.probe", "face.probe_report", "face.delete"} <= actions


def test_restricted_records_are_seen_by_their_agency_only(api):  # noqa: F811
    r = api.client.post("/faces/enrol", files=[("images", img("Abdullah_Gul/Abdullah_Gul_0001.jpg"))],
                        data={"external_ref": "R-1", "restricted": "true"}, headers=api.auth("enroller", agency="IT"))
    assert r.status_code == 201
    probe = {"image": img("Abdullah_Gul/Abdullah_Gul_0003.jpg")}
    own = api.client.post("/faces/search", files=probe, headers=api.auth("examiner", agency="IT")).json()
    other = api.client.post("/faces/search", files=probe, headers=api.auth("examiner", agency="FR")).json()
    assert [c["external_ref"] for c in own["faces"][0]["candidates"]] == ["R-1"]
    assert other["faces"][0]["candidates"] == []
    assert api.client.post("/faces/search", files=probe).status_code == 401


@pytest.mark.parametrize("upload, status", [
    (("x.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 50, "image/jpeg"), 422),  # corrupt
    (("x.jpg", b"", "image/jpeg"), 422),  # zero bytes
    (("bomb.png", bomb_png(), "image/png"), 422),  # 30000 x 30000
    (("x.pdf", b"%PDF-1.4 hello", "image/jpeg"), 422),  # not an image
    (("x.txt", b"hello", "text/plain"), 415),  # wrong content type
])
def test_bad_uploads_are_refused_and_nothing_is_stored(api, upload, status):  # noqa: F811
    r = api.client.post("/faces/enrol", files=[("images", upload)], data={"external_ref": "R-1"},
                        headers=api.auth("enroller"))
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"]
    from biomatch.index.store import Store

    with Store.open(api.settings.resolved_database_url(), home=api.settings.home) as store:
        assert store.count("face") == 0 and store.generation("face") == 0


def test_fpir_beyond_the_calibration_is_refused_with_the_reachable_fpir(api):  # noqa: F811
    client = api.client
    r = client.post("/faces/enrol", files=[("images", img("Abdullah_Gul/Abdullah_Gul_0001.jpg"))],
                    data={"external_ref": "BLUE-9"}, headers=api.auth("enroller"))
    assert r.status_code == 201, r.text
    r = client.post("/faces/search", files={"image": img("Abdullah_Gul/Abdullah_Gul_0003.jpg")},
                    data={"fpir": 1e-9}, headers=api.auth("examiner"))
    assert r.status_code == 422, r.text
    assert "below the calibrated range" in r.text and "lowest FPIR" in r.text
    r = client.post("/faces/search", files={"image": img("Abdullah_Gul/Abdullah_Gul_0003.jpg")},
                    data={"fpir": 0.01}, headers=api.auth("examiner"))
    assert r.status_code == 200 and r.json()["faces"][0]["candidates"][0]["external_ref"] == "BLUE-9"
