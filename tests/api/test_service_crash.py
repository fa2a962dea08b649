"""kill -9 of the running service during enrolments: every acknowledged DNA profile survives and is found.

The real thing: ``biomatch serve`` in a subprocess on loopback, a client
enrolling one profile per request, SIGKILL of the server at a random moment
(several rounds), then a fresh server must find every acknowledged profile,
and its in-memory index must hold exactly the profiles of the store.
"""
import http.client
import json
import random
import signal
import threading
import time

from biomatch.api.auth import create_key
from biomatch.api.testing import free_port, serve_in_subprocess
from biomatch.extractors.dna import read_genotype_table
from biomatch.index.store import Store


def _post(port, token, path, body, timeout=60):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, json.dumps(body), {"Authorization": f"Bearer {token}",
                                                      "Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"null")
    finally:
        conn.close()


def _as_json(p):
    return {"specimen_id": p.specimen_id, "loci": {k: list(v) for k, v in p.loci.items()}, "category": "offender"}


def test_kill9_of_the_server_loses_no_acknowledged_enrolment(data_dir, tmp_path):
    profiles = read_genotype_table(data_dir / "dna" / "nist1036_genotypes.csv", agency="FR")[0]
    home, rng = tmp_path / "home", random.Random(7)
    with Store.open(f"sqlite:///{home / 'biomatch.db'}", home=home) as store:
        token = create_key(store, "FR", ["examiner", "enroller"]).token
    acknowledged, next_profile = [], 0
    for _round in range(3):
        before = len(acknowledged)
        port = free_port()
        server = serve_in_subprocess(home, port)
        stop = threading.Event()

        def enrol_until_killed(port=port, stop=stop):
            nonlocal next_profile
            while not stop.is_set() and next_profile < len(profiles):
                p = profiles[next_profile]
                next_profile += 1
                try:
                    status, _ = _post(port, token, "/dna/profiles", {"profiles": [_as_json(p)]})
                except (OSError, http.client.HTTPException, json.JSONDecodeError):
                    return  # the server died mid-request: not acknowledged
                if status == 201:
                    acknowledged.append(p)

        writer = threading.Thread(target=enrol_until_killed)
        writer.start()
        waited = time.monotonic() + 90  # a loaded machine can take seconds to start and build the index
        while len(acknowledged) == before and writer.is_alive() and time.monotonic() < waited:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 1.5))  # somewhere inside an enrolment
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
        stop.set()
        writer.join(timeout=60)
        assert len(acknowledged) > before, "the server acknowledged nothing before it was killed"
    port = free_port()
    server = serve_in_subprocess(home, port)
    try:
        status, body = _post(port, token, "/dna/search", {"profiles": [_as_json(p) for p in acknowledged],
                                                          "rule": "high", "limit": 5}, timeout=120)
        assert status == 200, body
        for p, result in zip(acknowledged, body["results"]):
            assert p.specimen_id in {c["specimen_id"] for c in result["candidates"]}, p.specimen_id
        extra = profiles[next_profile]
        status, body = _post(port, token, "/dna/profiles", {"profiles": [_as_json(extra)]})
        assert status == 201
        with Store.open(f"sqlite:///{home / 'biomatch.db'}", home=home) as store:
            stored = store.count("dna")
            refs = {r.external_ref for r in store.list_records("dna", limit=10_000)}
            assert store.verify_audit() is None
        assert {p.specimen_id for p in acknowledged} <= refs
        assert body["searchable"] == stored  # the index holds exactly what the store holds
    finally:
        server.kill()
        server.wait(timeout=30)
