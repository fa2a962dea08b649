"""DNA routes: enrol, import, search with statistics, stats, familial, delete; errors as problem+json."""
import pytest
from fastapi.testclient import TestClient

from biomatch.api.main import create_app
from biomatch.api.settings import Settings
from biomatch.benchmarks.datasets import data_root
from biomatch.extractors.dna import CODIS_CORE_20, format_cmf, read_genotype_table

DNA = data_root() / "dna"


@pytest.fixture(scope="module")
def nist():
    return read_genotype_table(DNA / "nist1036_genotypes.csv", agency="NIST")[0]


def as_json(p, **extra):
    return {"specimen_id": p.specimen_id, "loci": {k: list(v) for k, v in p.loci.items()},
            "category": p.category.slug, "agency": p.agency, **extra}


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(Settings(home=tmp_path / "home")), raise_server_exceptions=False) as c:
        yield c


def test_enrol_search_stats_familial_delete(client, nist):
    r = client.post("/dna/profiles", json={"profiles": [as_json(p) for p in nist[:30]]})
    assert r.status_code == 201 and r.json()["searchable"] == 30
    r = client.post("/dna/import", json={"format": "cmf", "content": format_cmf(nist[30:40]).decode(), "agency": "NIST"})
    assert r.status_code == 201 and r.json()["searchable"] == 40
    probe = as_json(nist[33].restrict(CODIS_CORE_20[:10]), category="forensic_unknown")
    probe["specimen_id"] = "CS-1"
    r = client.post("/dna/search", json={"profiles": [probe], "rule": "moderate"})
    assert r.status_code == 200
    (hit,) = r.json()["results"][0]["candidates"]
    assert hit["specimen_id"] == nist[33].specimen_id and len(hit["matched"]) == 10 and hit["differed"] == []
    assert set(hit["rmp"]) == {"NIST1036/AfAm", "NIST1036/Asian", "NIST1036/Cauc", "NIST1036/Hisp"}
    r = client.post("/dna/search", json={"profiles": [probe], "rule": "prum"})
    assert r.json()["results"][0]["candidates"][0]["n_mismatches"] == 0
    r = client.post("/dna/stats", json={"profile": probe, "method": "hw"})
    assert r.status_code == 200 and r.json()["populations"]["NIST1036/Cauc"]["lr"] > 1e6
    r = client.post("/dna/familial", json={"profile": probe, "relationship": "parent_child", "top": 5})
    assert r.json()["candidates"][0]["specimen_id"] == nist[33].specimen_id
    assert client.delete(f"/dna/records/{hit['record_id']}").status_code == 204
    r = client.post("/dna/search", json={"profiles": [probe], "rule": "moderate"})
    assert r.json()["results"][0]["candidates"] == []
    assert client.delete(f"/dna/records/{hit['record_id']}").status_code == 404


def test_bad_profiles_are_422_and_store_nothing(client, nist):
    bad = as_json(nist[1])
    bad["loci"]["FGA"] = ["20", "abc"]
    r = client.post("/dna/profiles", json={"profiles": [as_json(nist[0]), bad]})
    assert r.status_code == 422
    assert f"specimen '{nist[1].specimen_id}', locus 'FGA': invalid allele 'abc'" in r.json()["detail"]
    unknown = as_json(nist[2])
    unknown["loci"]["D99S1"] = ["12"]
    assert client.post("/dna/profiles", json={"profiles": [unknown]}).status_code == 422
    r = client.post("/dna/search", json={"profiles": [as_json(nist[0])], "rule": "high"})
    assert r.status_code == 200 and r.json()["results"][0]["candidates"] == []
    assert client.post("/dna/search", json={"profiles": [as_json(nist[0])], "rule": "medium"}).status_code == 422
