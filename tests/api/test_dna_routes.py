"""DNA routes: enrol, import, search with statistics, stats, familial, delete; keys, roles, audit, errors."""
import pytest

from biomatch.api.testing import api  # noqa: F401  (the fixture)
from biomatch.benchmarks.datasets import data_root
from biomatch.extractors.dna import CODIS_CORE_20, format_cmf, read_genotype_table

DNA = data_root() / "dna"


@pytest.fixture(scope="module")
def nist():
    return read_genotype_table(DNA / "nist1036_genotypes.csv")[0]


def as_json(p, **extra):
    return {"specimen_id": p.specimen_id, "loci": {k: list(v) for k, v in p.loci.items()},
            "category": p.category.slug, **extra}


def test_enrol_search_stats_familial_delete(api, nist):  # noqa: F811
    enroller, examiner = api.auth("enroller"), api.auth("examiner")
    r = api.client.post("/dna/profiles", json={"profiles": [as_json(p) for p in nist[:30]]}, headers=enroller)
    assert r.status_code == 201 and r.json()["searchable"] == 30
    r = api.client.post("/dna/import", json={"format": "cmf", "content": format_cmf(nist[30:40]).decode()},
                        headers=enroller)
    assert r.status_code == 201 and r.json()["searchable"] == 40
    probe = as_json(nist[33].restrict(CODIS_CORE_20[:10]), category="forensic_unknown")
    probe["specimen_id"] = "CS-1"
    r = api.client.post("/dna/search", json={"profiles": [probe], "rule": "moderate"}, headers=examiner)
    assert r.status_code == 200
    (hit,) = r.json()["results"][0]["candidates"]
    assert hit["specimen_id"] == nist[33].specimen_id and len(hit["matched"]) == 10 and hit["differed"] == []
    assert hit["agency"] == "FR"
    assert set(hit["rmp"]) == {"NIST1036/AfAm", "NIST1036/Asian", "NIST1036/Cauc", "NIST1036/Hisp"}
    r = api.client.post("/dna/search", json={"profiles": [probe], "rule": "prum"}, headers=examiner)
    assert r.json()["results"][0]["candidates"][0]["n_mismatches"] == 0
    r = api.client.post("/dna/stats", json={"profile": probe, "method": "hw"}, headers=examiner)
    assert r.status_code == 200 and r.json()["populations"]["NIST1036/Cauc"]["lr"] > 1e6
    r = api.client.post("/dna/familial", json={"profile": probe, "relationship": "parent_child", "top": 5},
                        headers=examiner)
    assert r.json()["candidates"][0]["specimen_id"] == nist[33].specimen_id
    # Roles and agencies: an examiner cannot delete, another agency's enroller cannot either.
    assert api.client.delete(f"/dna/records/{hit['record_id']}", headers=examiner).status_code == 403
    assert api.client.delete(f"/dna/records/{hit['record_id']}", headers=api.auth("enroller", agency="DE")).status_code == 403
    assert api.client.delete(f"/dna/records/{hit['record_id']}", headers=enroller).status_code == 204
    r = api.client.post("/dna/search", json={"profiles": [probe], "rule": "moderate"}, headers=examiner)
    assert r.json()["results"][0]["candidates"] == []
    assert api.client.delete(f"/dna/records/{hit['record_id']}", headers=enroller).status_code == 404
    r = api.client.get("/audit/entries", params={"limit": 1000}, headers=api.auth("auditor"))
    assert r.status_code == 200
    actions = {e["action"] for e in r.json()}
    assert {"dna.enrol", "dna.import", "dna.search", "dna.stats", "dna.familial", "dna.delete"} <= actions


def test_keys_roles_and_restricted_records(api, nist):  # noqa: F811
    probe = as_json(nist[5], category="forensic_unknown")
    assert api.client.post("/dna/search", json={"profiles": [probe]}).status_code == 401
    assert api.client.post("/dna/profiles", json={"profiles": [as_json(nist[5])]},
                           headers=api.auth("examiner")).status_code == 403
    r = api.client.post("/dna/profiles", json={"profiles": [as_json(nist[5])], "restricted": True},
                        headers=api.auth("enroller", agency="DE"))
    assert r.status_code == 201
    high = {"profiles": [probe], "rule": "high"}
    assert api.client.post("/dna/search", json=high, headers=api.auth("examiner")).json()["results"][0]["candidates"] == []
    seen = api.client.post("/dna/search", json=high, headers=api.auth("examiner", agency="DE")).json()
    assert seen["results"][0]["candidates"][0]["specimen_id"] == nist[5].specimen_id
    other = as_json(nist[6], agency="UK")
    r = api.client.post("/dna/profiles", json={"profiles": [other]}, headers=api.auth("enroller"))
    assert r.status_code == 422 and "not this API key's agency" in r.json()["detail"]


def test_bad_profiles_are_422_and_store_nothing(api, nist):  # noqa: F811
    enroller = api.auth("enroller")
    bad = as_json(nist[1])
    bad["loci"]["FGA"] = ["20", "abc"]
    r = api.client.post("/dna/profiles", json={"profiles": [as_json(nist[0]), bad]}, headers=enroller)
    assert r.status_code == 422
    assert f"specimen '{nist[1].specimen_id}', locus 'FGA': invalid allele 'abc'" in r.json()["detail"]
    unknown = as_json(nist[2])
    unknown["loci"]["D99S1"] = ["12"]
    assert api.client.post("/dna/profiles", json={"profiles": [unknown]}, headers=enroller).status_code == 422
    examiner = api.auth("examiner")
    r = api.client.post("/dna/search", json={"profiles": [as_json(nist[0])], "rule": "high"}, headers=examiner)
    assert r.status_code == 200 and r.json()["results"][0]["candidates"] == []
    r = api.client.post("/dna/search", json={"profiles": [as_json(nist[0])], "rule": "medium"}, headers=examiner)
    assert r.status_code == 422
