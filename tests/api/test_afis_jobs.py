"""AFIS bulk enrolment jobs on both store backends: per-item results (enrolled, corrupt, duplicate), reverse
search notifications, agency isolation (403, audited), restart (interrupted -> failed), time limit, limits."""
import io
import time
import zipfile

import pytest

from biomatch.api.settings import Settings
from biomatch.api.testing import open_api
from biomatch.extractors.fingerprint.formats import write_template
from biomatch.index.store import Store
from biomatch.index.store.testing import db_url, pg_database, pg_server  # noqa: F401

SET = "fvc2002_db1_b"
OCTET = "application/octet-stream"


@pytest.fixture()
def settings(tmp_path, db_url):  # noqa: F811
    return Settings(home=tmp_path / "home", database_url=db_url)


@pytest.fixture()
def api(settings):
    with open_api(settings) as a:
        yield a


def _tx(fvc_dir, tcn, key, position):
    from biomatch.extractors.imageio import load_grey
    from biomatch.index.fingerprint.ansinist import write_transaction

    return write_transaction(tcn=tcn, fingers={position: (load_grey(fvc_dir / SET / f"{key}.tif"), 500)})


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _wait(client, job_id):
    for _ in range(600):  # the test client runs background tasks before answering; this is a bounded fallback
        r = client.get(f"/afis/jobs/{job_id}")
        assert r.status_code == 200, r.text
        if r.json()["status"] in ("done", "failed"):
            return r.json()
        time.sleep(0.05)
    pytest.fail(f"job {job_id} did not finish: {r.json()}")


def _audit(settings):
    with Store.open(settings.resolved_database_url(), home=settings.home) as s:
        return list(s.iter_audit())


def test_enrol_job_items_refused_and_enrolled_then_searchable(api, settings, fvc_dir, fvc_template):
    uk = api.as_key("enroller", "examiner", agency="UK")
    fr = api.as_key("enroller", "examiner", agency="FR")
    r = uk.post("/afis/marks", data={"case_ref": "CASE-9"},
                files={"minutiae": ("m.json", write_template(fvc_template(SET, "103_5"), "json"), "application/json")})
    assert r.status_code == 201, r.text
    mark_id = r.json()["id"]
    a = _tx(fvc_dir, "TP-J1", "101_1", 1)
    files = [("transactions", ("a.an2", a, OCTET)), ("transactions", ("bad.an2", a[:200], OCTET)),
             ("transactions", ("b.an2", _tx(fvc_dir, "TP-X", "103_1", 3), OCTET))]
    archive = ("more.zip", _zip({"dup.an2": _tx(fvc_dir, "TP-J1", "102_1", 2)}), "application/zip")
    r = fr.post("/afis/jobs/enrol", data={"references": ",TP-BAD,TP-J2,"}, files=files + [("archive", archive)])
    assert r.status_code == 202, r.text
    assert r.json()["items"] == 4
    job = _wait(fr, r.json()["job_id"])
    assert job["status"] == "done", job
    assert (job["done"], job["enrolled"], job["refused"], job["errors"]) == (4, 2, 2, 0)
    items = job["results"]
    assert [i["status"] for i in items] == ["enrolled", "refused", "enrolled", "refused"]
    assert [i["name"] for i in items] == ["a.an2", "bad.an2", "b.an2", "more.zip:dup.an2"]
    assert items[0]["reference"] == "TP-J1" and items[0]["fingers"] == 1 and items[0]["reverse_hits"] == []
    assert items[1]["http_status"] == 422 and "not a readable ANSI/NIST-ITL" in items[1]["reason"]
    assert items[2]["reference"] == "TP-J2"  # the given reference wins over the TCN
    assert [c["id"] for c in items[2]["reverse_hits"]] == [mark_id]  # the reverse search ran, as on the sync route
    assert items[2]["reverse_hits"][0]["details_released"] is False  # UK's mark, the sharing policy applies
    assert items[3]["http_status"] == 409 and "duplicate reference" in items[3]["reason"]
    assert "TP-J1" in items[3]["reason"] and items[3]["record_id"] is None
    assert [n["subject_id"] for n in uk.get("/afis/notifications/UK").json()] == [mark_id]

    for key, position, ref in (("101_2", 1, "TP-J1"), ("103_3", 3, "TP-J2")):
        r = fr.post("/afis/search/print", data={"positions": str(position)},
                    files=[("images", ("p.tif", (fvc_dir / SET / f"{key}.tif").read_bytes(), "image/tiff"))])
        assert r.status_code == 200, r.text
        assert r.json()["candidates"][0]["reference"] == ref
    with Store.open(settings.resolved_database_url(), home=settings.home) as s:  # the refused items stored nothing
        assert sorted(r.external_ref for r in s.list_records("fingerprint")) == ["TP-J1", "TP-J2"]
        assert len(s.get_fingerprints(s.find_record("fingerprint", "TP-J1").id)) == 1  # not the duplicate's finger
        assert s.get_job(job["job_id"]).status == "done" and s.get_job(job["job_id"]).done == 4
    entries = {e.action: e for e in _audit(settings)}
    assert entries["afis.enrol_job"].subject_ids[0] == job["job_id"] and entries["afis.enrol_job"].counts == {"items": 4}
    end = entries["afis.enrol_job_end"]
    assert end.subject_ids == [job["job_id"]] and end.result_ids == [items[0]["record_id"], items[2]["record_id"], f"mark:{mark_id}"]
    assert end.counts == {"items": 4, "enrolled": 2, "refused": 2, "errors": 0, "pending": 0, "reverse_hits": 1}
    assert end.actor == entries["afis.enrol_job"].actor and end.agency == "FR"


def test_enrol_job_other_agency_403_audited_examiner_reads(api, settings, fvc_dir):
    fr = api.as_key("enroller", agency="FR")
    r = fr.post("/afis/jobs/enrol", files=[("transactions", ("a.an2", _tx(fvc_dir, "TP-1", "101_1", 1), OCTET))])
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    assert _wait(fr, job_id)["enrolled"] == 1
    assert api.as_key("examiner", agency="FR").get(f"/afis/jobs/{job_id}").json()["results"][0]["status"] == "enrolled"
    r = api.as_key("enroller", "examiner", agency="DE").get(f"/afis/jobs/{job_id}")
    assert r.status_code == 403 and "belongs to agency 'FR'" in r.json()["detail"]
    denied = [e for e in _audit(settings) if e.action == "auth.agency_denied"]
    assert [(e.agency, e.subject_ids) for e in denied] == [("DE", [f"job {job_id}"])]
    assert fr.get("/afis/jobs/nope").status_code == 404
    r = fr.post("/afis/jobs/enrol", data={"agency": "DE"},
                files=[("transactions", ("a.an2", b"x", OCTET))])
    assert r.status_code == 403 and "acts for agency 'FR'" in r.json()["detail"]


def test_enrol_job_interrupted_by_a_restart_reads_failed(settings):
    with open_api(settings) as api:
        fr = api.as_key("enroller", agency="FR")
        with Store.open(settings.resolved_database_url(), home=settings.home) as s:  # a job a dead process ran
            s.add_job("deadbeef", "afis.enrol", "FR", 3)
            s.update_job("deadbeef", status="running", done=1)
        job = fr.get("/afis/jobs/deadbeef").json()
    assert job["status"] == "failed" and "interrupted" in job["error"], job
    assert (job["items"], job["done"], job["results"], job["enrolled"]) == (3, 1, None, None)


def test_enrol_job_time_limit_leaves_items_pending(tmp_path, db_url, fvc_dir):  # noqa: F811
    with open_api(Settings(home=tmp_path / "home", database_url=db_url, job_timeout_s=1e-6)) as api:
        fr = api.as_key("enroller", "examiner", agency="FR")
        r = fr.post("/afis/jobs/enrol", files=[("transactions", ("a.an2", _tx(fvc_dir, "TP-1", "101_1", 1), OCTET))])
        job = _wait(fr, r.json()["job_id"])
        assert job["status"] == "failed" and "timed out" in job["error"] and "job_timeout_s" in job["error"]
        assert [i["status"] for i in job["results"]] == ["pending"] and job["done"] == 0
        r = fr.post("/afis/search/print", data={"positions": "1"},
                    files=[("images", ("p.tif", (fvc_dir / SET / "101_2.tif").read_bytes(), "image/tiff"))])
        assert r.json()["candidates"] == []


def test_enrol_job_limits_refuse_the_whole_request(tmp_path, db_url):  # noqa: F811
    settings = Settings(home=tmp_path / "home", database_url=db_url, max_batch=2, max_upload_bytes=50_000)
    with open_api(settings) as api:
        fr = api.as_key("enroller", agency="FR")
        three = [("transactions", (f"{i}.an2", b"x", OCTET)) for i in range(3)]
        cases = [
            ({}, three, 422, "3 transactions; the limit is 2"),
            ({}, [("archive", ("z.zip", _zip({f"{i}": b"x" for i in range(3)}), "application/zip"))], 422,
             "3 files; the limit is 2"),
            ({}, [("archive", ("z.zip", _zip({"big": bytes(60_000)}), "application/zip"))], 413, "unpack to over"),
            ({}, [("archive", ("z.zip", b"PK\x03\x04 not a zip", "application/zip"))], 422, "not a readable zip"),
            ({"references": "A,B"}, three[:1], 422, "1 items but 2 references"),
            ({}, [], 422, "no transaction"),
        ]
        for data, files, status, words in cases:
            r = fr.post("/afis/jobs/enrol", data=data, files=files or None)
            assert r.status_code == status, (words, r.text)
            assert words in r.json()["detail"], r.json()
    with Store.open(settings.resolved_database_url(), home=settings.home) as s:
        assert not [e for e in s.iter_audit() if e.action == "afis.enrol_job"]
        assert s.list_records("fingerprint") == []


def test_enrol_job_empty_file_is_one_refused_item(api, fvc_dir):
    fr = api.as_key("enroller", agency="FR")
    files = [("transactions", ("empty.an2", b"", OCTET)),
             ("transactions", ("a.an2", _tx(fvc_dir, "TP-1", "101_1", 1), OCTET))]
    job = _wait(fr, fr.post("/afis/jobs/enrol", files=files).json()["job_id"])
    assert [(i["status"], i["reason"]) for i in job["results"]] == [
        ("refused", "empty.an2: empty file (0 bytes)"), ("enrolled", None)]
    assert (job["enrolled"], job["refused"]) == (1, 1)
