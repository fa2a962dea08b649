"""API keys in the store: round trip, revocation, first-key bootstrap, the version 1 -> 2 upgrade."""
import hashlib
import threading

import pytest
from sqlalchemy import create_engine, inspect, text, update

from biomatch.index.store import NotFoundError, Store
from biomatch.index.store.schema import SCHEMA_VERSION, meta


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def test_key_round_trip_and_revocation(store):
    kid = store.add_api_key("abc123", _digest("bm_abc123_s"), "FR", ["examiner", "enroller", "examiner"],
                            label="lab 2")
    key = store.find_api_key("abc123")
    assert (key.id, key.agency, key.roles, key.label, key.revoked_at) == (kid, "FR", ("enroller", "examiner"),
                                                                          "lab 2", None)
    assert key.secret_sha256 == _digest("bm_abc123_s") and key.created_at.tzinfo is not None
    assert store.find_api_key("nope") is None and store.find_api_key("") is None
    other = store.add_api_key("def456", _digest("x"), "DE", ["auditor"])
    revoked = store.revoke_api_key(kid)
    assert revoked.revoked_at is not None and revoked.revoked_at >= revoked.created_at
    assert store.revoke_api_key(kid).revoked_at == revoked.revoked_at  # the first revocation time stays
    assert [k.id for k in store.list_api_keys()] == [kid, other]
    assert [k.id for k in store.list_api_keys(include_revoked=False)] == [other]
    assert [k.id for k in store.list_api_keys(agency="DE")] == [other]
    with pytest.raises(NotFoundError, match="no API key with id 99"):
        store.revoke_api_key(99)


@pytest.mark.parametrize("args, message", [
    (("p", "not-a-digest", "FR", ["examiner"]), "secret_sha256 must be 64"),
    (("p", _digest("t"), "", ["examiner"]), "agency must not be empty"),
    (("p", _digest("t"), "FR", ["superuser"]), "role must be one of examiner"),
    (("p", _digest("t"), "FR", []), "roles must be a non-empty list"),
    (("p", _digest("t"), "FR", "examiner"), "roles must be a non-empty list"),
    (("", _digest("t"), "FR", ["examiner"]), "prefix must not be empty"),
])
def test_bad_keys_are_refused(store, args, message):
    with pytest.raises(ValueError, match=message):
        store.add_api_key(*args)
    assert store.list_api_keys() == []


def test_duplicate_prefix_is_refused(store):
    store.add_api_key("same", _digest("a"), "FR", ["admin"])
    with pytest.raises(Exception):
        store.add_api_key("same", _digest("b"), "FR", ["admin"])
    assert len(store.list_api_keys()) == 1


def test_first_key_is_added_once_even_by_concurrent_starts(store):
    results, barrier = [], threading.Barrier(4)

    def start(i):
        barrier.wait()
        results.append(store.add_api_key(f"boot{i}", _digest(str(i)), "ADMIN", ["admin"], only_if_none=True))

    threads = [threading.Thread(target=start, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(r is not None for r in results) == 1 and len(store.list_api_keys()) == 1
    assert store.add_api_key("late", _digest("l"), "FR", ["admin"], only_if_none=True) is None


def test_version_1_database_gains_the_keys_table(db_url, tmp_path):
    Store.open(db_url, home=tmp_path).close()
    engine = create_engine(db_url)
    with engine.begin() as conn:  # turn it back into what schema version 1 wrote
        conn.execute(text("DROP TABLE api_keys"))
        conn.execute(update(meta).where(meta.c.key == "schema_version").values(value="1"))
    with Store.open(db_url, home=tmp_path) as store:
        assert store.add_api_key("k", _digest("k"), "FR", ["examiner"]) == 1
    with engine.connect() as conn:
        assert inspect(conn).has_table("api_keys")
        assert conn.execute(meta.select().where(meta.c.key == "schema_version")).one().value == str(SCHEMA_VERSION)
    engine.dispose()
