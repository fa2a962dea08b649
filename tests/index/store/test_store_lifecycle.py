"""Generations, reopening, schema versions, audit chain, marks and notifications."""
import pytest
from sqlalchemy import create_engine, text, update

from biomatch.index.store import NotFoundError, SchemaVersionError, Store
from biomatch.index.store.schema import SCHEMA_VERSION, audit, meta


def test_generation_bumps_once_per_transaction_and_only_for_touched_kind(store):
    assert {k: store.generation(k) for k in ("fingerprint", "face", "dna", "mark")} == \
        {"fingerprint": 0, "face": 0, "dna": 0, "mark": 0}
    with store.transaction():
        rid = store.add_record("fingerprint", "TP-1", "FR")
        for pos in range(1, 11):
            store.add_fingerprint(rid, pos, "plain", b"t", 1)
    assert store.generation("fingerprint") == 1 and store.generation("face") == 0
    store.delete_record(rid)
    assert store.generation("fingerprint") == 2
    mid = store.add_mark("CASE-1", "DE", b"m", 1)
    store.update_mark_status(mid, "identified")
    assert store.generation("mark") == 2 and store.generation("fingerprint") == 2
    store.add_notification("DE", "hit", "mark", mid)  # no index content: no bump
    assert store.generation("mark") == 2
    with pytest.raises(ValueError, match="index kind"):
        store.generation("iris")


def test_data_survives_close_and_reopen(db_url, tmp_path):
    with Store.open(db_url, home=tmp_path) as s:
        rid = s.add_record("face", "F-1", "FR")
        s.add_face(rid, b"emb", "sface", 1)
        s.append_audit("alice", "FR", "face.enrol", subject_ids=[rid])
        gen, instance = s.generation("face"), s.derived_dir
    with Store.open(db_url, home=tmp_path) as s:
        assert s.get_faces(rid)[0].template == b"emb"
        assert s.generation("face") == gen and s.derived_dir == instance
        assert s.verify_audit() is None


def test_newer_schema_is_refused(db_url, tmp_path):
    Store.open(db_url, home=tmp_path).close()
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(update(meta).where(meta.c.key == "schema_version").values(value=str(SCHEMA_VERSION + 1)))
    engine.dispose()
    with pytest.raises(SchemaVersionError, match=f"schema version {SCHEMA_VERSION + 1}, newer than this biomatch"):
        Store.open(db_url, home=tmp_path)


def test_marks_round_trip_and_status(store):
    mid = store.add_mark("CASE-7", "DE", b"tpl", 2, image_bytes=b"png")
    mark = store.get_mark(mid)
    assert (mark.case_ref, mark.owner_agency, mark.status, mark.template_version, mark.image) == \
        ("CASE-7", "DE", "unsolved", 2, None)
    assert store.get_mark(mid, with_image=True).image == b"png"
    other = store.add_mark("CASE-8", "FR", b"tpl2", 2)
    assert [t.row_id for t in store.iter_templates("mark")] == [mid, other]
    store.update_mark_status(mid, "identified")
    assert [t.row_id for t in store.iter_templates("mark")] == [other]  # the reverse-search file
    assert [m.id for m in store.list_marks(status="identified")] == [mid]
    assert [m.id for m in store.list_marks(owner_agency="FR")] == [other]
    with pytest.raises(ValueError, match="mark status"):
        store.update_mark_status(mid, "solved")
    with pytest.raises(NotFoundError):
        store.update_mark_status(999, "closed")
    store.delete_mark(mid)
    with pytest.raises(NotFoundError):
        store.get_mark(mid)


def test_notifications_and_webhooks(store):
    a = store.add_notification("DE", "mark_hit", "mark", 5, {"score": 91.5, "record": "TP-1"})
    b = store.add_notification("DE", "mark_hit", "mark", 6)
    c = store.add_notification("FR", "mark_hit", "mark", 7)
    de = store.list_notifications("DE")
    assert [n.id for n in de] == [a, b] and de[0].payload == {"score": 91.5, "record": "TP-1"}
    assert store.mark_notifications_read("DE", [a, c]) == 1  # FR's notification is not DE's to mark
    assert [n.id for n in store.list_notifications("DE", unread_only=True)] == [b]
    assert store.list_notifications("FR", unread_only=True)[0].id == c
    with pytest.raises(ValueError, match="JSON"):
        store.add_notification("DE", "hit", "mark", 1, {"x": object()})
    assert store.get_webhook("DE") is None
    store.set_webhook("DE", "http://127.0.0.1:9000/hook")
    store.set_webhook("DE", "https://127.0.0.1:9001/hook")
    assert store.get_webhook("DE") == "https://127.0.0.1:9001/hook"
    with pytest.raises(ValueError, match="http"):
        store.set_webhook("DE", "file:///etc/passwd")
    store.set_webhook("DE", None)
    assert store.get_webhook("DE") is None


def _tamper(store, statements):
    """Bypass the append-only triggers the way someone with database access could."""
    engine = create_engine(store._write.url)
    with engine.begin() as conn:
        if store.backend == "sqlite":
            conn.execute(text("DROP TRIGGER audit_no_update"))
            conn.execute(text("DROP TRIGGER audit_no_delete"))
        else:
            conn.execute(text("ALTER TABLE audit DISABLE TRIGGER USER"))
        for statement in statements:
            conn.execute(statement)
    engine.dispose()


def test_audit_chain_detects_a_tampered_row(store):
    ids = [store.append_audit("alice", "FR", "fingerprint.search", route="/afis/search",
                              subject_ids=[1, "TP-1"], result_ids=[i, i + 1], counts={"candidates": 2})
           for i in range(5)]
    assert ids == [1, 2, 3, 4, 5] and store.verify_audit() is None
    assert [e.result_ids for e in store.iter_audit(after_id=3)] == [[3, 4], [4, 5]]
    _tamper(store, [update(audit).where(audit.c.id == 3).values(actor="mallory")])
    assert store.verify_audit() == 3


def test_audit_chain_detects_deleted_rows(store):
    for i in range(4):
        store.append_audit("alice", "FR", "dna.search", result_ids=[i])
    _tamper(store, [audit.delete().where(audit.c.id == 2)])
    assert store.verify_audit() == 3


def test_audit_chain_detects_truncated_tail(store):
    for i in range(3):
        store.append_audit("alice", "FR", "face.search", result_ids=[i])
    _tamper(store, [audit.delete().where(audit.c.id == 3)])
    assert store.verify_audit() == 3


def test_audit_is_append_only_in_the_database(store):
    store.append_audit("alice", "FR", "face.search")
    engine = create_engine(store._write.url)
    with pytest.raises(Exception, match="append-only"):
        with engine.begin() as conn:
            conn.execute(update(audit).values(actor="mallory"))
    engine.dispose()
    assert store.verify_audit() is None


def test_audit_rolls_back_with_its_transaction(store):
    with pytest.raises(ValueError):
        with store.transaction():
            store.append_audit("alice", "FR", "face.enrol")
            store.add_record("face", "", "FR")
    assert list(store.iter_audit()) == [] and store.verify_audit() is None
    assert store.append_audit("alice", "FR", "face.enrol") == 1


def test_older_schema_is_migrated_in_order_or_refused(db_url, tmp_path, monkeypatch):
    from biomatch.index.store import _migrate
    from biomatch.index.store import store as store_module

    Store.open(db_url, home=tmp_path).close()
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", SCHEMA_VERSION + 2)
    with pytest.raises(SchemaVersionError, match=f"no migration from version {SCHEMA_VERSION} to"):
        Store.open(db_url, home=tmp_path)
    steps = []
    first = {SCHEMA_VERSION: lambda conn: steps.append(1)}
    monkeypatch.setattr(_migrate, "MIGRATIONS", first)
    with pytest.raises(SchemaVersionError, match=f"no migration from version {SCHEMA_VERSION + 1} to"):
        Store.open(db_url, home=tmp_path)
    assert _stored_version(db_url) == str(SCHEMA_VERSION)  # the half-done upgrade rolled back
    monkeypatch.setattr(_migrate, "MIGRATIONS", {**first, SCHEMA_VERSION + 1: lambda conn: steps.append(2)})
    Store.open(db_url, home=tmp_path).close()
    assert steps == [1, 1, 2] and _stored_version(db_url) == str(SCHEMA_VERSION + 2)
    Store.open(db_url, home=tmp_path).close()  # already current: no step runs again
    assert steps == [1, 1, 2]


def _stored_version(url):
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(meta.select().where(meta.c.key == "schema_version")).one().value
    engine.dispose()
    return value


def test_reopening_restores_the_append_only_guard(db_url, tmp_path):
    with Store.open(db_url, home=tmp_path) as store:
        store.append_audit("alice", "FR", "face.search")
        _tamper(store, [])  # drops (SQLite) or disables (PostgreSQL) the triggers
    with Store.open(db_url, home=tmp_path) as store:
        engine = create_engine(store._write.url)
        with pytest.raises(Exception, match="append-only"):
            with engine.begin() as conn:
                conn.execute(update(audit).values(actor="mallory"))
        engine.dispose()


def test_transaction_reports_the_generations_it_committed(store, db_url, tmp_path):
    with store.transaction() as tx:
        rid = store.add_record("face", "N-1", "FR")
        with store.transaction() as inner:
            store.add_face(rid, b"e", "sface", 1)
            store.add_mark("C-1", "FR", b"m", 1)
        assert inner is tx and tx.generations == {}  # filled only at commit
    assert tx.generations == {"face": 1, "mark": 1}
    with store.transaction() as nothing:
        store.get_record(rid)
    assert nothing.generations == {}
    # Another writer (a second store on the same database) between two of ours shows as a gap.
    with Store.open(db_url, home=tmp_path / "other") as other:
        other.add_face(rid, b"f", "sface", 1)
    with store.transaction() as tx2:
        store.add_face(rid, b"g", "sface", 1)
    assert tx2.generations["face"] - 1 != tx.generations["face"]
    with pytest.raises(ValueError):
        with store.transaction() as failed:
            store.add_face(rid, b"h", "sface", 1)
            store.add_face(rid, b"", "sface", 1)
    assert failed.generations == {} and store.generation("face") == tx2.generations["face"]
