"""Records and templates on both backends: round trips, cascade, duplicates, rollback."""
import hashlib

import pytest

from biomatch.index.store import DuplicateRefError, NotFoundError, TemplateRow

SHA = hashlib.sha256(b"image").hexdigest()


def _tenprint(store, ref="TP-1", agency="FR"):
    with store.transaction():
        rid = store.add_record("fingerprint", ref, agency)
        ids = store.add_fingerprints(rid, [(pos, "rolled", bytes([pos]) * 7, 1, SHA) for pos in range(1, 11)])
    return rid, ids


def test_record_round_trip(store):
    rid = store.add_record("face", "NOTICE-42", "INTERPOL", restricted=True)
    rec = store.get_record(rid)
    assert (rec.id, rec.modality, rec.external_ref, rec.owner_agency, rec.restricted) == \
        (rid, "face", "NOTICE-42", "INTERPOL", True)
    assert rec.created_at.tzinfo is not None and rec.updated_at >= rec.created_at
    assert store.find_record("face", "NOTICE-42") == rec
    assert store.find_record("fingerprint", "NOTICE-42") is None
    assert store.list_records("face") == [rec]
    assert store.list_records("face", owner_agency="FR") == []


def test_templates_round_trip_every_modality(store):
    rid, fids = _tenprint(store)
    fingers = store.get_fingerprints(rid)
    assert [f.position for f in fingers] == list(range(1, 11))
    assert fingers[2].template == bytes([3]) * 7 and fingers[2].impression == "rolled"
    assert fingers[2].image_sha256 == SHA and fingers[2].template_version == 1
    face_rid = store.add_record("face", "F-1", "DE")
    face_id = store.add_face(face_rid, b"\x01" * 512, "sface-2021dec", 3, SHA)
    (face,) = store.get_faces(face_rid)
    assert (face.id, face.template, face.model_id, face.template_version) == (face_id, b"\x01" * 512, "sface-2021dec", 3)
    dna_rid = store.add_record("dna", "S-1", "UK")
    store.add_dna_profile(dna_rid, "SPEC-9", "convicted offender", b"\x00\x05profile", 2)
    (prof,) = store.get_dna_profiles(dna_rid)
    assert (prof.specimen_id, prof.category, prof.profile, prof.profile_version) == \
        ("SPEC-9", "convicted offender", b"\x00\x05profile", 2)
    assert list(store.iter_templates("face")) == [TemplateRow(face_id, face_rid, b"\x01" * 512, 3)]
    assert [t.row_id for t in store.iter_templates("fingerprint", batch=3)] == fids
    assert store.count("fingerprint") == 10 and store.count("dna") == 1


def test_template_rows_carry_search_metadata(store):
    rid, _ = _tenprint(store, agency="ES")
    store.set_restricted(rid, True)
    batches = list(store.iter_template_rows("fingerprint", batch=4))
    assert [len(b) for b in batches] == [4, 4, 2]
    row = batches[0][0]
    assert row["owner_agency"] == "ES" and row["restricted"] is True
    assert (row["position"], row["impression"], row["record_id"]) == (1, "rolled", rid)


def test_cascade_delete(store):
    rid, _ = _tenprint(store)
    other, _ = _tenprint(store, ref="TP-2")
    store.delete_record(rid)
    with pytest.raises(NotFoundError):
        store.get_record(rid)
    assert store.get_fingerprints(rid) == []
    assert {t.record_id for t in store.iter_templates("fingerprint")} == {other}
    with pytest.raises(NotFoundError):
        store.delete_record(rid)


def test_duplicate_ref_rejected_and_nothing_stored(store):
    _tenprint(store)
    before = store.generation("fingerprint")
    with pytest.raises(DuplicateRefError, match="TP-1.*already exists"):
        _tenprint(store)
    assert isinstance(DuplicateRefError("x"), ValueError)
    assert len(store.list_records("fingerprint")) == 1 and store.count("fingerprint") == 10
    assert store.generation("fingerprint") == before
    # The same reference is fine in another modality.
    store.add_record("face", "TP-1", "FR")


def test_transaction_rollback_leaves_nothing(store):
    before = store.generation("fingerprint")
    with pytest.raises(ValueError, match="finger position"):
        with store.transaction():
            rid = store.add_record("fingerprint", "TP-9", "FR")
            store.add_fingerprint(rid, 1, "rolled", b"t", 1)
            store.add_fingerprint(rid, 11, "rolled", b"t", 1)  # bad position: whole tenprint refused
    assert store.find_record("fingerprint", "TP-9") is None
    assert store.count("fingerprint") == 0 and store.generation("fingerprint") == before


def test_nested_transaction_is_a_savepoint(store):
    with store.transaction():
        rid = store.add_record("dna", "S-1", "UK")
        with pytest.raises(DuplicateRefError):
            with store.transaction():
                store.add_dna_profile(rid, "A", "arrestee", b"p", 1)
                store.add_record("dna", "S-1", "UK")
        store.add_dna_profile(rid, "B", "arrestee", b"q", 1)
    assert [p.specimen_id for p in store.get_dna_profiles(rid)] == ["B"]


@pytest.mark.parametrize("call, message", [
    (lambda s, r: s.add_fingerprint(r, 1, "inked", b"t", 1), "impression"),
    (lambda s, r: s.add_fingerprint(r, 1, "rolled", b"", 1), "template is empty"),
    (lambda s, r: s.add_fingerprint(r, 1, "rolled", b"t", 0), "template_version"),
    (lambda s, r: s.add_fingerprint(r, 1, "rolled", b"t", 1, "abc"), "SHA-256"),
    (lambda s, r: s.add_face(r, b"t", "m", 1), "is a fingerprint record, not a face"),
    (lambda s, r: s.add_fingerprint(r + 1000, 1, "rolled", b"t", 1), "no record with id"),
    (lambda s, r: s.add_record("iris", "X", "FR"), "modality must be one of"),
    (lambda s, r: s.add_record("face", " ", "FR"), "external_ref must not be empty"),
    (lambda s, r: s.add_record("face", "x" * 201, "FR"), "limit is 200"),
])
def test_bad_input_is_refused_with_a_clear_message(store, call, message):
    rid = store.add_record("fingerprint", "TP-1", "FR")
    gen = store.generation("fingerprint")
    with pytest.raises((ValueError, NotFoundError), match=message):
        call(store, rid)
    assert store.count("fingerprint") == 0 and store.count("face") == 0
    assert store.generation("fingerprint") == gen
