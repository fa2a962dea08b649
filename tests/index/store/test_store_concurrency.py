"""Concurrent writers on one store: no lost generation bumps, no forked audit chain, clean duplicates."""
import threading

from biomatch.index.store import DuplicateRefError

THREADS, PER_THREAD = 4, 15


def _run(workers):
    errors = []

    def wrap(fn):
        def run():
            try:
                fn()
            except BaseException as exc:  # collected and re-raised in the main thread
                errors.append(exc)
        return run

    threads = [threading.Thread(target=wrap(w)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    if errors:
        raise errors[0]


def test_concurrent_enrolments_and_audit(store):
    def worker(n):
        def run():
            for i in range(PER_THREAD):
                with store.transaction():
                    rid = store.add_record("fingerprint", f"T{n}-{i}", "FR")
                    store.add_fingerprint(rid, 1, "rolled", b"a", 1)
                    store.add_fingerprint(rid, 2, "rolled", b"b", 1)
                store.append_audit(f"user{n}", "FR", "fingerprint.enrol", subject_ids=[rid])
        return run

    _run([worker(n) for n in range(THREADS)])
    total = THREADS * PER_THREAD
    assert len(store.list_records("fingerprint", limit=1000)) == total
    assert store.count("fingerprint") == 2 * total
    assert store.generation("fingerprint") == total  # one bump per committed transaction, none lost
    assert [e.id for e in store.iter_audit()] == list(range(1, total + 1))
    assert store.verify_audit() is None


def test_concurrent_duplicates_store_each_reference_once(store):
    outcomes = []
    lock = threading.Lock()

    def worker():
        for i in range(10):
            try:
                store.add_record("dna", f"S-{i}", "UK")
                result = "ok"
            except DuplicateRefError:
                result = "dup"
            with lock:
                outcomes.append(result)

    _run([worker for _ in range(THREADS)])
    assert outcomes.count("ok") == 10 and outcomes.count("dup") == 10 * (THREADS - 1)
    assert sorted(r.external_ref for r in store.list_records("dna")) == sorted(f"S-{i}" for i in range(10))
