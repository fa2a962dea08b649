"""Face routes: enrol, verify, search, bulk probe job with report download, delete; bad uploads refused."""
import io
import struct
import time
import zlib

import pytest
from fastapi.testclient import TestClient

from biomatch.api.main import create_app
from biomatch.api.settings import Settings
from biomatch.benchmarks.datasets import data_root

LFW = data_root() / "faces" / "lfw_dev"


def img(rel):
    path = LFW / rel
    if not path.is_file():
        pytest.skip("shared face data missing")
    return (path.name, path.read_bytes(), "image/jpeg")


def bomb_png():
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def flat_png():
    import cv2
    import numpy as np

    return cv2.imencode(".png", np.full((120, 160, 3), 128, np.uint8))[1].tobytes()


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(Settings(home=tmp_path / "home")), raise_server_exceptions=False) as c:
        yield c


def test_enrol_verify_search_probe_delete(client):
    r = client.post("/faces/enrol", files=[("images", img("Abdullah_Gul/Abdullah_Gul_0001.jpg"))],
                    data={"external_ref": "BLUE-1", "owner_agency": "IT"})
    assert r.status_code == 201, r.text
    rid = r.json()["record_id"]
    r = client.post("/faces/enrol", files=[("images", img("Aaron_Pena/Aaron_Pena_0001.jpg"))],
                    data={"external_ref": "BLUE-2", "owner_agency": "FR"})
    assert r.status_code == 201 and r.json()["gallery_size"] == 2

    r = client.post("/faces/verify", files=[("image_a", img("Abdullah_Gul/Abdullah_Gul_0001.jpg")),
                                            ("image_b", img("Abdullah_Gul/Abdullah_Gul_0003.jpg"))])
    assert r.status_code == 200 and r.json()["match"] is True and r.json()["fmr"] < 1e-4

    r = client.post("/faces/search", files={"image": img("Abdullah_Gul/Abdullah_Gul_0003.jpg")}, data={"top": 2})
    best = r.json()["faces"][0]["candidates"][0]
    assert r.status_code == 200 and best["external_ref"] == "BLUE-1" and best["record_id"] == rid

    r = client.post("/faces/search", files={"image": ("flat.png", flat_png(), "image/png")})
    assert r.status_code == 200 and r.json()["faces"] == [] and r.json()["message"] == "no face found"

    files = [("images", img(f"Abdullah_Gul/Abdullah_Gul_000{i}.jpg")) for i in (2, 3)]
    files.append(("images", ("junk.jpg", b"not an image", "image/jpeg")))
    r = client.post("/faces/probe", files=files, data={"top": 3, "cluster": "true"})
    assert r.status_code == 202, r.text
    job = r.json()["job_id"]
    for _ in range(200):
        status = client.get(f"/faces/probe/{job}").json()
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert status["status"] == "done" and status["done"] == 3, status
    report = client.get(f"/faces/probe/{job}/report.json").json()
    assert all(f["candidates"][0]["external_ref"] == "BLUE-1" for f in report["faces"] if f["face"] == 0)
    assert len(report["skipped"]) == 1 and len(report["clusters"]) == 1
    html = client.get(f"/faces/probe/{job}/report.html")
    assert html.status_code == 200 and "data:image/jpeg;base64," in html.text
    assert client.get(f"/faces/probe/{job}/report.csv").text.startswith("source,status")
    assert client.get("/faces/probe/nope").status_code == 404

    r = client.delete(f"/faces/records/{rid}")
    assert r.status_code == 200 and r.json()["faces_removed"] == 1
    r = client.post("/faces/search", files={"image": img("Abdullah_Gul/Abdullah_Gul_0003.jpg")})
    assert all(c["external_ref"] != "BLUE-1" for c in r.json()["faces"][0]["candidates"])


@pytest.mark.parametrize("upload, status", [
    (("x.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 50, "image/jpeg"), 422),  # corrupt
    (("x.jpg", b"", "image/jpeg"), 422),  # zero bytes
    (("bomb.png", bomb_png(), "image/png"), 422),  # 30000 x 30000
    (("x.pdf", b"%PDF-1.4 hello", "image/jpeg"), 422),  # not an image
    (("x.txt", b"hello", "text/plain"), 415),  # wrong content type
])
def test_bad_uploads_are_refused_and_nothing_is_stored(client, upload, status):
    r = client.post("/faces/enrol", files=[("images", upload)], data={"external_ref": "R-1", "owner_agency": "FR"})
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"]
    health = client.get("/health").json()
    assert health["generations"]["face"] == 0
