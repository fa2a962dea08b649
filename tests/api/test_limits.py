"""Time limits: a synchronous search past search_timeout_s answers 503 problem+json and changes nothing;
a face probe job past job_timeout_s ends as failed (timed out)."""
import time

import pytest

from biomatch.api.settings import Settings
from biomatch.api.testing import open_api
from biomatch.benchmarks.datasets import data_root
from biomatch.extractors.dna import read_genotype_table
from shared_data import lfw

SET = "fvc2002_db1_b"


@pytest.fixture
def slow(tmp_path):
    """An application whose searches may run 1 microsecond, and its jobs as long."""
    with open_api(Settings(home=tmp_path / "home", search_timeout_s=1e-6, job_timeout_s=1e-6)) as api:
        yield api


def _actions(api):
    entries = api.client.get("/audit/entries", params={"limit": 1000}, headers=api.auth("auditor")).json()
    return [e["action"] for e in entries]


def _timed_out(r, what):
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json") and r.headers["retry-after"] == "1"
    assert f"the {what} did not finish within the 1e-06 s limit (search_timeout_s)" in r.json()["detail"]


def test_searches_past_the_limit_answer_503_and_change_nothing(slow, fvc_dir):
    nist = read_genotype_table(data_root() / "dna" / "nist1036_genotypes.csv")[0][:20]
    profiles = [{"specimen_id": p.specimen_id, "loci": {k: list(v) for k, v in p.loci.items()}} for p in nist]
    fr, de = slow.auth("enroller", "examiner", agency="FR"), slow.auth("examiner", agency="DE")
    assert slow.client.post("/dna/profiles", json={"profiles": profiles}, headers=fr).status_code == 201
    _timed_out(slow.client.post("/dna/search", json={"profiles": profiles[:3]}, headers=de), "DNA search")
    _timed_out(slow.client.post("/dna/familial", json={"profile": profiles[0]}, headers=de), "familial search")

    tif = ("f.tif", (fvc_dir / SET / "101_1.tif").read_bytes(), "image/tiff")
    r = slow.client.post("/afis/tenprints", data={"reference": "TP-1", "positions": "1"}, files=[("images", tif)],
                         headers=fr)
    assert r.status_code == 201, r.text
    _timed_out(slow.client.post("/afis/search/print", data={"positions": "1"}, files=[("images", tif)], headers=de),
               "print search")
    assert slow.client.get("/afis/notifications/FR", headers=fr).json() == []  # a hit would have notified FR
    actions = _actions(slow)
    assert actions.count("search.timeout") == 3
    assert not {"dna.search", "dna.familial", "afis.search_print"} & set(actions)
    assert slow.client.get("/audit/verify", headers=slow.auth("auditor")).json()["ok"] is True


def test_face_probe_job_past_its_limit_ends_failed(slow):
    path = lfw("Abdullah_Gul/Abdullah_Gul_0001.jpg")
    operator = slow.auth("operator")
    r = slow.client.post("/faces/probe", files=[("images", (path.name, path.read_bytes(), "image/jpeg"))],
                         headers=operator)
    assert r.status_code == 202, r.text
    for _ in range(200):
        status = slow.client.get(f"/faces/probe/{r.json()['job_id']}", headers=operator).json()
        if status["status"] not in ("queued", "running"):
            break
        time.sleep(0.05)
    assert status["status"] == "failed" and status["error"].startswith("timed out: the job ran past its 1e-06 s")
    assert slow.client.get(f"/faces/probe/{status['job_id']}/report.json", headers=operator).status_code == 409


def test_a_restarted_service_reports_interrupted_and_finished_jobs(tmp_path):
    from biomatch.index.store import Store

    settings = Settings(home=tmp_path / "home")
    with open_api(settings) as api:
        operator = api.auth("operator")
        with Store.open(settings.resolved_database_url(), home=settings.home) as store:  # a job the dead process ran
            store.add_job("f" * 32, "face.probe", "FR", 5)
            store.update_job("f" * 32, status="running", done=2)
    with open_api(settings) as api:  # the restart
        status = api.client.get(f"/faces/probe/{'f' * 32}", headers=operator).json()
        assert (status["status"], status["done"], status["error"]) == ("failed", 2, api_interrupted())
        assert api.client.get(f"/faces/probe/{'f' * 32}/report.csv", headers=operator).status_code == 409
        assert api.client.get(f"/faces/probe/{'f' * 32}", headers=api.auth("operator", agency="DE")).status_code == 404


def api_interrupted():
    from biomatch.api.routers.face_jobs import INTERRUPTED

    return INTERRUPTED
