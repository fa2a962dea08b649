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


def test_enrol_many_round_trip_every_modality(store):
    entries = [(f"S-{i}", "UK" if i % 2 else "FR", i == 3,
                [(f"SPEC-{i}", "convicted offender", i.to_bytes(2, "big") * 3, 1)]) for i in range(1200)]
    ids = store.enrol_many("dna", entries)
    assert len(ids) == 1200 and ids == sorted(ids)
    assert store.get_record(ids[3]).restricted is True and store.get_record(ids[4]).owner_agency == "FR"
    assert store.get_dna_profiles(ids[7])[0].specimen_id == "SPEC-7"
    rows = list(store.iter_templates("dna", batch=500))
    assert [(r.record_id, r.data) for r in rows[:2]] == [(ids[0], b"\x00\x00" * 3), (ids[1], b"\x00\x01" * 3)]
    assert rows[1100].data == (1100).to_bytes(2, "big") * 3
    assert store.generation("dna") == 1
    tp = store.enrol_many("fingerprint", [("TP-1", "FR", False, [
        {"position": p, "impression": "plain", "template_bytes": b"t", "template_version": 2} for p in (1, 2)])])
    assert [f.position for f in store.get_fingerprints(tp[0])] == [1, 2]
    face = store.enrol_many("face", [("N-1", "IP", False, [(b"e1", "sface", 1), (b"e2", "sface", 1, SHA)])])
    assert [f.template for f in store.get_faces(face[0])] == [b"e1", b"e2"]
    assert store.enrol_many("face", []) == []


@pytest.mark.parametrize("entries, message", [
    ([("A", "UK", False, []), ("A", "UK", False, [])], "'A' appears twice in this batch"),
    ([("B", "UK", False, []), ("OLD", "UK", False, [])], "'OLD' already exist"),
    ([("B", "UK", False, [("s", "arrestee", b"", 1)])], r"entry 0 \('B'\): profile is empty"),
    ([("B", "UK", False, []), ("C", "UK", False, [("s", "arrestee", b"p")])], r"entry 1 \('C'\): template arguments"),
    ([("B", "UK", "no", [])], "restricted must be a bool"),
    ([("B", "UK")], "must be \\(external_ref"),
])
def test_enrol_many_all_or_nothing(store, entries, message):
    store.add_record("dna", "OLD", "UK")
    gen = store.generation("dna")
    with pytest.raises(ValueError, match=message):
        store.enrol_many("dna", entries)
    assert [r.external_ref for r in store.list_records("dna")] == ["OLD"]
    assert store.count("dna") == 0 and store.generation("dna") == gen


def test_add_fingerprints_checks_every_finger_first(store):
    rid = store.add_record("fingerprint", "TP-1", "FR")
    with pytest.raises(ValueError, match="impression"):
        store.add_fingerprints(rid, [(1, "rolled", b"t", 1), (2, "smudged", b"t", 1)])
    assert store.count("fingerprint") == 0
    face = store.add_record("face", "F", "FR")
    with pytest.raises(ValueError, match="not a fingerprint record"):
        store.add_fingerprints(face, [(1, "rolled", b"t", 1)])


def test_template_snapshot_is_consistent_with_its_generation(store):
    store.enrol_many("face", [(f"N-{i}", "FR", False, [(bytes([i + 1]), "sface", 1)]) for i in range(25)])
    gen = store.generation("face")
    seen = []
    with store.template_snapshot("face", batch=10) as (generation, batches):
        for n, rows in enumerate(batches):
            seen += [r["row_id"] for r in rows]
            if n == 0:  # writes committed by others mid-rebuild are not in this snapshot...
                late = store.add_record("face", "LATE", "DE")
                store.add_face(late, b"late", "sface", 1)
                store.delete_record(store.find_record("face", "N-24").id)
    assert generation == gen and len(seen) == 25 and seen == sorted(seen)
    assert store.generation("face") > generation  # ...and the label is stale afterwards, so it gets rebuilt
    assert len(list(store.iter_templates("face"))) == 25  # 25 - 1 deleted + 1 late


def test_template_snapshot_inside_a_transaction_sees_its_writes(store):
    with store.transaction():
        rid = store.add_record("dna", "S-1", "UK")
        store.add_dna_profile(rid, "SP", "arrestee", b"p", 1)
        with store.template_snapshot("dna") as (_generation, batches):
            assert [r["specimen_id"] for rows in batches for r in rows] == ["SP"]


def test_replace_and_delete_single_templates(store):
    rid = store.add_record("face", "N-1", "FR")
    first = store.add_face(rid, b"old1", "sface", 1)
    store.add_face(rid, b"old2", "sface", 1)
    gen = store.generation("face")
    with store.transaction():  # "update by record id": replace the templates atomically
        assert store.delete_templates(rid) == 2
        store.add_face(rid, b"new", "sface", 1)
    assert [f.template for f in store.get_faces(rid)] == [b"new"]
    assert store.generation("face") == gen + 1
    store.delete_template("face", store.get_faces(rid)[0].id)
    assert store.get_faces(rid) == [] and store.get_record(rid).external_ref == "N-1"
    with pytest.raises(NotFoundError, match=f"no face template with id {first}"):
        store.delete_template("face", first)
    with pytest.raises(NotFoundError):
        store.delete_templates(rid + 100)


def test_template_ids_maps_records_to_rows(store):
    ids = store.enrol_many("dna", [(f"S-{i}", "UK", False, [(f"A{i}", "arrestee", b"p", 1)] * (i % 3))
                                   for i in range(700)])
    mapping = store.template_ids("dna", ids + [10**9])
    assert set(mapping) == set(ids)
    assert [len(mapping[r]) for r in ids[:6]] == [0, 1, 2, 0, 1, 2]
    assert mapping[ids[5]] == [p.id for p in store.get_dna_profiles(ids[5])]
    assert store.template_ids("face", ids) == {}


def test_ids_beyond_32_bits(store):
    """Ids are 64-bit on both backends (PostgreSQL BIGINT, SQLite rowid)."""
    from datetime import datetime, timezone

    from sqlalchemy import insert

    from biomatch.index.store.schema import records

    now = datetime.now(timezone.utc)
    with store.transaction() as tx:
        conn = tx.conn
        conn.execute(insert(records).values(id=2**40, modality="face", external_ref="BIG", owner_agency="FR",
                                            restricted=False, created_at=now, updated_at=now))
    face = store.add_face(2**40, b"e", "sface", 1)
    assert store.get_faces(2**40)[0].id == face
    assert store.get_record(2**40).external_ref == "BIG"
    assert store.template_ids("face", [2**40]) == {2**40: [face]}
    assert store.add_notification("FR", "hit", "face", 2**40) > 0
