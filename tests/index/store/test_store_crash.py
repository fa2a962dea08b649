"""kill -9 during enrolment: every acknowledged tenprint survives whole, nothing partial, chain intact."""
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

from biomatch.index.store import Store

_WRITER = textwrap.dedent("""
    import os, sys
    from biomatch.index.store import Store
    url, start = sys.argv[1], int(sys.argv[2])
    store = Store.open(url, home=sys.argv[3])
    for i in range(start, start + 100_000):
        with store.transaction():
            rid = store.add_record("fingerprint", f"TP-{i}", "FR")
            store.add_fingerprints(rid, [(p, "rolled", os.urandom(2048), 1) for p in range(1, 11)])
            store.append_audit("writer", "FR", "fingerprint.enrol", subject_ids=[rid])
        print(i, flush=True)   # acknowledged only after the commit
""")


def _run_and_kill(url, home, start, acks_wanted, rng):
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, url, str(start), str(home)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    acked = []
    deadline = time.monotonic() + 60
    try:
        while len(acked) < acks_wanted and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            acked.append(int(line))
        time.sleep(rng.uniform(0, 0.01))  # land somewhere inside the next transaction
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        err = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
    assert acked, f"the writer acknowledged nothing: {err[-2000:]}"
    return acked


def test_kill9_keeps_every_acknowledged_enrolment(db_url, tmp_path):
    rng = random.Random(1234)
    Store.open(db_url, home=tmp_path).close()
    acknowledged, start = [], 0
    for _round in range(3):
        acked = _run_and_kill(db_url, tmp_path, start, rng.randint(3, 25), rng)
        acknowledged += acked
        with Store.open(db_url, home=tmp_path) as store:
            records = store.list_records("fingerprint", limit=10_000)
            refs = {r.external_ref for r in records}
            assert {f"TP-{i}" for i in acknowledged} <= refs
            for rec in records:  # all or nothing: no tenprint with missing fingers
                assert len(store.get_fingerprints(rec.id)) == 10, rec.external_ref
            # One bump and one audit entry per committed tenprint, none lost or extra.
            assert store.generation("fingerprint") == len(records)
            assert sum(1 for _ in store.iter_audit()) == len(records)
            assert store.verify_audit() is None
            start = max(int(r[3:]) for r in refs) + 1
