"""Releases in the store: release, list, revoke, lookups, cascade with the item, the version 2 -> 3 upgrade."""
import pytest
from sqlalchemy import create_engine, inspect, text, update

from biomatch.index.store import NotFoundError, Store
from biomatch.index.store.schema import SCHEMA_VERSION, meta


def test_release_list_revoke_and_lookup(store):
    rid = store.add_record("dna", "S-1", "FR")
    other = store.add_record("face", "F-1", "DE")
    mid = store.add_mark("CASE-1", "UK", b"t", 1)
    first = store.release_details("record", rid, "DE", released_by="key:1:abc")
    assert (first.kind, first.item_id, first.agency, first.released_by) == ("record", rid, "DE", "key:1:abc")
    assert store.release_details("record", rid, "DE", released_by="key:2:def") == first  # kept, not doubled
    store.release_details("record", rid, "UK", released_by="key:1:abc")
    store.release_details("mark", mid, "FR", released_by="cli:me")
    assert [r.agency for r in store.list_releases("record", rid)] == ["DE", "UK"]
    assert store.released_to("DE", "record", [rid, other, 999]) == {rid}
    assert store.released_to("FR", "mark", [mid]) == {mid} and store.released_to("FR", "record", [rid]) == set()
    assert store.item_owner("mark", mid) == "UK" and store.record_owners([rid, other, 12345]) == {rid: "FR",
                                                                                                   other: "DE"}
    store.revoke_release("record", rid, "DE")
    assert store.released_to("DE", "record", [rid]) == set()
    with pytest.raises(NotFoundError, match="no release to agency 'DE'"):
        store.revoke_release("record", rid, "DE")
    with pytest.raises(ValueError, match="never released its own details"):
        store.release_details("record", rid, "FR", released_by="key:1:abc")
    with pytest.raises(NotFoundError, match="no mark with id 77"):
        store.release_details("mark", 77, "DE", released_by="key:1:abc")
    with pytest.raises(ValueError, match="kind must be one of record, mark"):
        store.release_details("face", rid, "DE", released_by="key:1:abc")
    store.delete_record(rid)
    store.delete_mark(mid)
    assert store.list_releases("record", rid) == [] and store.list_releases("mark", mid) == []


def test_version_2_database_gains_the_releases_table(db_url, tmp_path):
    Store.open(db_url, home=tmp_path).close()
    engine = create_engine(db_url)
    with engine.begin() as conn:  # turn it back into what schema version 2 wrote
        conn.execute(text("DROP TABLE releases"))
        conn.execute(update(meta).where(meta.c.key == "schema_version").values(value="2"))
    with Store.open(db_url, home=tmp_path) as store:
        rid = store.add_record("dna", "S-1", "FR")
        assert store.release_details("record", rid, "DE", released_by="t").item_id == rid
    with engine.connect() as conn:
        assert inspect(conn).has_table("releases")
        assert conn.execute(meta.select().where(meta.c.key == "schema_version")).one().value == str(SCHEMA_VERSION)
    engine.dispose()


def test_concurrent_identical_releases_leave_one(store):
    import threading

    rid = store.add_record("dna", "S-9", "FR")
    barrier, results = threading.Barrier(4), []

    def release(i):
        barrier.wait()
        results.append(store.release_details("record", rid, "DE", released_by=f"key:{i}:x"))

    threads = [threading.Thread(target=release, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 4 and len({r.id for r in results}) == 1
    assert len(store.list_releases("record", rid)) == 1
