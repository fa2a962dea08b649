"""kill -9 of the running service during tenprint enrolments: every acknowledged record survives and is found by
a print search of the restarted service, whose index holds exactly the store's fingers; the audit chain verifies.

``biomatch serve`` runs in a subprocess on loopback; a client thread enrols one-finger tenprints (FVC images,
extracted by the server) one request at a time; the server is killed with SIGKILL at a random moment after its
first acknowledgement, three rounds. A fresh server then searches every acknowledged image and stops cleanly,
saving its index, which must hold exactly the store's finger rows.
"""
import random
import signal
import threading
import time

import httpx

from biomatch.api.auth import create_key
from biomatch.api.testing import free_port, serve_in_subprocess
from biomatch.index.store import Store

SET = "fvc2002_db1_b"


def _enrol_until_killed(port, token, images, state, stop, first):
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
                      timeout=60) as client:
        while not stop.is_set() and state["next"] < len(images):
            i = state["next"]
            state["next"] += 1
            ref = f"TP-{i:03d}"
            try:
                r = client.post("/afis/tenprints", data={"reference": ref, "positions": "1"},
                                files=[("images", ("p.tif", images[i].read_bytes(), "image/tiff"))])
            except httpx.HTTPError:
                return  # the server died mid-request: not acknowledged
            if r.status_code != 201:
                state["errors"].append((ref, r.status_code, r.text[:200]))
                return
            state["acknowledged"][ref] = images[i]
            first.set()


def test_kill9_of_the_server_loses_no_acknowledged_tenprint(fvc_dir, tmp_path):
    from biomatch.index.fingerprint.persist import load_index

    images = sorted((fvc_dir / SET).glob("*.tif"))
    home, rng = tmp_path / "home", random.Random(11)
    url = f"sqlite:///{home / 'biomatch.db'}"
    with Store.open(url, home=home) as store:
        token = create_key(store, "FR", ["examiner", "enroller"]).token
    state = {"next": 0, "acknowledged": {}, "errors": []}
    for _round in range(3):
        before = len(state["acknowledged"])
        port = free_port()
        server = serve_in_subprocess(home, port)
        stop, first = threading.Event(), threading.Event()
        writer = threading.Thread(target=_enrol_until_killed, args=(port, token, images, state, stop, first))
        writer.start()
        assert first.wait(90), f"no enrolment acknowledged: {state['errors']}"
        time.sleep(rng.uniform(0.05, 0.8))  # somewhere inside an enrolment
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
        stop.set()
        writer.join(timeout=60)
        assert not state["errors"] and len(state["acknowledged"]) > before

    port = free_port()
    server = serve_in_subprocess(home, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
                          timeout=120) as client:
            for ref, path in state["acknowledged"].items():
                r = client.post("/afis/search/print", data={"positions": "1", "top": "10"},
                                files=[("images", ("p.tif", path.read_bytes(), "image/tiff"))])
                assert r.status_code == 200, r.text
                assert ref in {c["reference"] for c in r.json()["candidates"]}, ref
    finally:
        server.send_signal(signal.SIGTERM)  # a clean stop saves the service's AFIS index files
        server.wait(timeout=60)
    with Store.open(url, home=home) as store:
        records = store.list_records("fingerprint", limit=10_000)
        assert set(state["acknowledged"]) <= {r.external_ref for r in records}
        rows = store.template_ids("fingerprint", [r.id for r in records])
        assert all(len(rows.get(r.id, [])) == 1 for r in records)  # each tenprint all or nothing
        index = load_index(store.derived_dir / "afis-fingers.idx", store.generation("fingerprint"))
        assert index is not None, "the AFIS index file is not current after a clean stop"
        assert sorted(index.row_ids()) == sorted(i for ids in rows.values() for i in ids)  # index == store
        assert store.verify_audit() is None
