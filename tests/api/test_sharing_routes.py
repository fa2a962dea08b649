"""Sharing policy: other agencies' candidates are redacted until the owner releases them (AFIS, DNA, faces);
releases and the restricted flag are owner-only and audited; agency 403s are audited."""

import pytest

from biomatch.api.testing import api  # noqa: F401  (the fixture)
from biomatch.benchmarks.datasets import data_root
from biomatch.extractors.dna import read_genotype_table
from biomatch.extractors.fingerprint.formats import write_template
from shared_data import lfw_upload

SET = "fvc2002_db1_b"


def _tif(fvc_dir, key):
    return ("f.tif", (fvc_dir / SET / f"{key}.tif").read_bytes(), "image/tiff")


_jpg = lfw_upload


@pytest.fixture(scope="module")
def nist():
    return read_genotype_table(data_root() / "dna" / "nist1036_genotypes.csv")[0]


def _profile(p, **extra):
    return {"specimen_id": p.specimen_id, "loci": {k: list(v) for k, v in p.loci.items()},
            "category": p.category.slug, **extra}


def _audit(api, action):
    entries = api.client.get("/audit/entries", params={"limit": 1000}, headers=api.auth("auditor")).json()
    return [e for e in entries if e["action"] == action]


def test_afis_candidates_of_other_agencies_are_redacted_until_released(api, fvc_dir, fvc_template):  # noqa: F811
    fr, de, uk = (api.auth("enroller", "examiner", agency=a) for a in ("FR", "DE", "UK"))
    r = api.client.post("/afis/tenprints", data={"reference": "TP-1", "positions": "1"},
                        files=[("images", _tif(fvc_dir, "101_1"))], headers=fr)
    assert r.status_code == 201, r.text
    rid = r.json()["record_id"]
    probe = {"data": {"positions": "1"}, "files": [("images", _tif(fvc_dir, "101_2"))]}

    (top,) = [c for c in api.client.post("/afis/search/print", headers=de, **probe).json()["candidates"]
              if c["reference"] == "TP-1"]
    assert top["details_released"] is False and top["owner_agency"] == "FR" and top["id"] == rid
    assert top["score"] > 0 and top["hit"] and top["strength"] > 0
    assert top["position"] is None and top["fingers"] is None
    own = api.client.post("/afis/search/print", headers=fr, **probe).json()["candidates"][0]
    assert own["details_released"] is True and own["fingers"][0]["pairs"] and own["position"] == 1

    assert api.client.get(f"/afis/records/{rid}/type9", headers=de).status_code == 403  # minutiae: details
    assert api.client.post(f"/records/{rid}/releases", json={"agency": "DE"}, headers=de).status_code == 403
    assert api.client.post(f"/records/{rid}/releases", json={"agency": "DE"},
                           headers=api.auth("examiner", agency="FR")).status_code == 403  # enrollers only
    r = api.client.post(f"/records/{rid}/releases", json={"agency": "DE"}, headers=fr)
    assert r.status_code == 201 and r.json()["agency"] == "DE" and r.json()["kind"] == "record"
    assert [x["agency"] for x in api.client.get(f"/records/{rid}/releases", headers=fr).json()] == ["DE"]
    top = api.client.post("/afis/search/print", headers=de, **probe).json()["candidates"][0]
    assert top["details_released"] is True and top["fingers"][0]["pairs"] and top["position"] == 1
    other = api.client.post("/afis/search/print", headers=uk, **probe).json()["candidates"][0]
    assert other["details_released"] is False  # released to DE only
    assert api.client.get(f"/afis/records/{rid}/type9", headers=de).status_code == 200
    assert api.client.get(f"/afis/records/{rid}/type9", headers=uk).status_code == 403

    assert api.client.delete(f"/records/{rid}/releases/DE", headers=fr).status_code == 204
    assert api.client.delete(f"/records/{rid}/releases/DE", headers=fr).status_code == 404
    top = api.client.post("/afis/search/print", headers=de, **probe).json()["candidates"][0]
    assert top["details_released"] is False and top["fingers"] is None

    # Marks: UK's mark is linked to FR's new mark (redacted), then released to FR and seen in full.
    mark = {"minutiae": ("m.json", write_template(fvc_template(SET, "103_5"), "json"), "application/json")}
    uk_mark = api.client.post("/afis/marks", data={"case_ref": "CASE-UK"}, files=mark, headers=uk).json()["id"]
    linked = api.client.post("/afis/marks", data={"case_ref": "CASE-FR"}, files=mark, headers=fr).json()["linked"]
    (seen,) = [c for c in linked if c["id"] == uk_mark]
    assert seen["kind"] == "mark" and seen["details_released"] is False and seen["fingers"] is None
    assert api.client.post(f"/afis/marks/{uk_mark}/releases", json={"agency": "FR"},
                           headers=fr).status_code == 403  # FR does not own it
    assert api.client.post(f"/afis/marks/{uk_mark}/releases", json={"agency": "FR"},
                           headers=uk).status_code == 201
    r = api.client.post("/afis/tenprints", data={"reference": "TP-3", "positions": "3"},
                        files=[("images", _tif(fvc_dir, "103_1"))], headers=fr)
    (rev,) = [c for c in r.json()["reverse_search"] if c["id"] == uk_mark]
    assert rev["details_released"] is True and rev["fingers"][0]["pairs"]

    released = _audit(api, "sharing.release")
    assert [(e["agency"], e["subject_ids"], e["result_ids"]) for e in released] == [
        ("FR", [f"record:{rid}"], ["DE"]), ("UK", [f"mark:{uk_mark}"], ["FR"])]
    assert [e["subject_ids"] for e in _audit(api, "sharing.revoke")] == [[f"record:{rid}"]]
    denied = _audit(api, "auth.agency_denied")
    assert {(e["agency"], e["route"]) for e in denied} == {
        ("DE", "GET /afis/records/{record_id}/type9"), ("UK", "GET /afis/records/{record_id}/type9"),
        ("DE", "POST /records/{item_id}/releases"), ("FR", "POST /afis/marks/{item_id}/releases")}
    searches = _audit(api, "afis.search_print")
    assert [e["counts"]["withheld"] for e in searches] == [1, 0, 0, 1, 1]


def test_dna_candidates_of_other_agencies_are_redacted_until_released(api, nist):  # noqa: F811
    fr, de = api.auth("enroller", "examiner", agency="FR"), api.auth("enroller", "examiner", agency="DE")
    r = api.client.post("/dna/profiles", json={"profiles": [_profile(p) for p in nist[:5]]}, headers=fr)
    assert r.status_code == 201
    search = {"profiles": [_profile(nist[2], category="forensic_unknown")], "rule": "high"}
    (hit,) = api.client.post("/dna/search", json=search, headers=de).json()["results"][0]["candidates"]
    assert hit["details_released"] is False and hit["specimen_id"] == nist[2].specimen_id and hit["agency"] == "FR"
    assert hit["n_compared"] > 10 and hit["n_mismatches"] == 0
    assert hit["matched"] is None and hit["differed"] is None and hit["rmp"] is None and hit["category"] is None
    familial = {"profile": _profile(nist[2], category="forensic_unknown"), "relationship": "parent_child", "top": 1}
    (kin,) = api.client.post("/dna/familial", json=familial, headers=de).json()["candidates"]
    assert kin["details_released"] is False and kin["agency"] == "FR" and kin["ki"] > 1
    assert kin["ki_per_locus"] is None and kin["ibs_per_locus"] is None
    own = api.client.post("/dna/search", json=search, headers=fr).json()["results"][0]["candidates"][0]
    assert own["details_released"] is True and len(own["matched"]) == own["n_compared"]

    rid = hit["record_id"]
    assert api.client.post(f"/records/{rid}/releases", json={"agency": "DE"}, headers=de).status_code == 403
    assert api.client.post(f"/records/{rid}/releases", json={"agency": "FR"}, headers=fr).status_code == 422
    assert api.client.post("/records/999/releases", json={"agency": "DE"}, headers=fr).status_code == 404
    assert api.client.post(f"/records/{rid}/releases", json={"agency": "DE"}, headers=fr).status_code == 201
    (hit,) = api.client.post("/dna/search", json=search, headers=de).json()["results"][0]["candidates"]
    assert hit["details_released"] is True and hit["matched"] == own["matched"] and hit["rmp"]
    (kin,) = api.client.post("/dna/familial", json=familial, headers=de).json()["candidates"]
    assert kin["details_released"] is True and kin["ki_per_locus"]
    assert [e["counts"]["withheld"] for e in _audit(api, "dna.search")] == [1, 0, 0]
    assert [e["subject_ids"] for e in _audit(api, "auth.agency_denied")] == [[f"record {rid}"]]


def test_face_candidates_of_other_agencies_are_redacted_until_released(api):  # noqa: F811
    it, fr = api.auth("enroller", "examiner", agency="IT"), api.auth("enroller", "examiner", agency="FR")
    r = api.client.post("/faces/enrol", files=[("images", _jpg("Abdullah_Gul/Abdullah_Gul_0001.jpg"))],
                        data={"external_ref": "R-1"}, headers=it)
    assert r.status_code == 201, r.text
    rid = r.json()["record_id"]
    probe = {"image": _jpg("Abdullah_Gul/Abdullah_Gul_0003.jpg")}
    (c,) = api.client.post("/faces/search", files=probe, data={"top": 1}, headers=fr).json()["faces"][0]["candidates"]
    assert c["details_released"] is False and c["face_id"] is None and c["external_ref"] == "R-1"
    assert c["owner_agency"] == "IT" and c["score"] > 0.3 and c["fmr"] < 1e-3
    assert api.client.post(f"/records/{rid}/releases", json={"agency": "FR"}, headers=it).status_code == 201
    (c,) = api.client.post("/faces/search", files=probe, data={"top": 1}, headers=fr).json()["faces"][0]["candidates"]
    assert c["details_released"] is True and c["face_id"] == r.json()["face_ids"][0]


def test_restricted_flag_is_changed_by_the_owner_only_and_searches_follow(api, nist, fvc_dir):  # noqa: F811
    fr, de = api.auth("enroller", "examiner", agency="FR"), api.auth("enroller", "examiner", agency="DE")
    dna_id = api.client.post("/dna/profiles", json={"profiles": [_profile(nist[7])]}, headers=fr).json()
    dna_rid = api.client.post("/dna/search", json={"profiles": [_profile(nist[7])], "rule": "high"},
                              headers=fr).json()["results"][0]["candidates"][0]["record_id"]
    assert dna_id["profile_ids"]
    tp_rid = api.client.post("/afis/tenprints", data={"reference": "TP-9", "positions": "1"},
                             files=[("images", _tif(fvc_dir, "101_1"))], headers=fr).json()["record_id"]
    dna_search = {"json": {"profiles": [_profile(nist[7])], "rule": "high"}}
    tp_search = {"data": {"positions": "1"}, "files": [("images", _tif(fvc_dir, "101_2"))]}

    def seen(agency_headers):
        dna = api.client.post("/dna/search", headers=agency_headers, **dna_search).json()["results"][0]["candidates"]
        afis = api.client.post("/afis/search/print", headers=agency_headers, **tp_search).json()["candidates"]
        return len(dna), sum(c["reference"] == "TP-9" for c in afis)

    assert seen(de) == (1, 1)
    for rid in (dna_rid, tp_rid):
        assert api.client.put(f"/records/{rid}/restricted", json={"restricted": True}, headers=de).status_code == 403
        r = api.client.put(f"/records/{rid}/restricted", json={"restricted": True}, headers=fr)
        assert r.status_code == 200 and r.json()["restricted"] is True
    assert seen(de) == (0, 0) and seen(fr) == (1, 1)
    for rid in (dna_rid, tp_rid):
        assert api.client.put(f"/records/{rid}/restricted", json={"restricted": False}, headers=fr).status_code == 200
    assert seen(de) == (1, 1)
    changes = _audit(api, "record.restricted")
    assert [(e["subject_ids"], e["counts"]["restricted"]) for e in changes] == [
        ([dna_rid], 1), ([tp_rid], 1), ([dna_rid], 0), ([tp_rid], 0)]
    assert len(_audit(api, "auth.agency_denied")) == 2
    assert api.client.put("/records/12345/restricted", json={"restricted": True}, headers=fr).status_code == 404


def test_face_restricted_flag_route(api):  # noqa: F811
    it, fr = api.auth("enroller", "examiner", agency="IT"), api.auth("examiner", agency="FR")
    rid = api.client.post("/faces/enrol", files=[("images", _jpg("Abdullah_Gul/Abdullah_Gul_0001.jpg"))],
                          data={"external_ref": "R-2"}, headers=it).json()["record_id"]
    probe = {"image": _jpg("Abdullah_Gul/Abdullah_Gul_0003.jpg")}
    assert api.client.post("/faces/search", files=probe, headers=fr).json()["faces"][0]["candidates"]
    assert api.client.put(f"/records/{rid}/restricted", json={"restricted": True}, headers=it).status_code == 200
    assert api.client.post("/faces/search", files=probe, headers=fr).json()["faces"][0]["candidates"] == []
    own = api.client.post("/faces/search", files=probe, headers=it).json()["faces"][0]["candidates"]
    assert [c["record_id"] for c in own] == [rid]


def test_agency_403s_are_audited(api, nist):  # noqa: F811
    fr, de = api.auth("enroller", agency="FR"), api.auth("enroller", "examiner", agency="DE")
    api.client.post("/dna/profiles", json={"profiles": [_profile(nist[1])]}, headers=fr)
    (rec,) = [c["record_id"] for c in api.client.post(
        "/dna/search", json={"profiles": [_profile(nist[1])], "rule": "high"},
        headers=de).json()["results"][0]["candidates"]]
    r = api.client.delete(f"/dna/records/{rec}", headers=de)
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert api.client.get("/afis/notifications/FR", headers=de).status_code == 403
    denied = _audit(api, "auth.agency_denied")
    assert [(e["agency"], e["route"], e["subject_ids"], e["counts"]) for e in denied] == [
        ("DE", "DELETE /dna/records/{record_id}", [f"record {rec}"], {"status": 403}),
        ("DE", "GET /afis/notifications/{agency}", ["agency FR"], {"status": 403})]
    assert api.client.get("/audit/verify", headers=api.auth("auditor")).json()["ok"] is True
