"""AFIS flow on both store backends: enrol, restart, every search mode, reverse search, bad input."""
import dataclasses

import numpy as np
import pytest

from afis_helpers import FINGERS, SET, rotated_window
from biomatch.index.fingerprint import Afis, FingerIndex
from biomatch.index.fingerprint.persist import load_index
from biomatch.index.store import DuplicateRefError, Store
from biomatch.matcher.fingerprint import prepare


@pytest.fixture()
def afis(store, fvc_template):
    a = Afis.open(store)
    for i, f in enumerate(FINGERS):  # finger f at position i+1 of record TP-f, two agencies
        a.enrol_tenprint(f"TP-{f}", "FR" if i % 2 else "DE", {i + 1: fvc_template(SET, f"{f}_1")})
    return a


def test_enrol_restart_search_finds_record(afis, store, fvc_template):
    afis.close()
    path = store.derived_dir / "afis-fingers.idx"
    loaded = load_index(path, store.generation("fingerprint"))  # the file is current and complete
    assert loaded is not None and loaded.row_ids() == afis.fingers.row_ids()
    for r in loaded.row_ids():
        a, b = loaded.prepared(r), afis.fingers.prepared(r)
        for f in dataclasses.fields(a):
            if isinstance(getattr(a, f.name), np.ndarray):
                np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name), err_msg=f.name)
            elif f.name != "template":
                assert getattr(a, f.name) == getattr(b, f.name), f.name
    assert load_index(path, store.generation("fingerprint") + 1) is None  # stale
    again = Afis.open(store)  # loads the derived file
    assert len(again.fingers) == len(FINGERS)
    path.write_bytes(path.read_bytes()[:-10] + b"corrupted!")
    rebuilt = Afis.open(store)  # corrupt: rebuilt from the store
    for a in (again, rebuilt):
        cands, thr = a.search_tenprint({3: fvc_template(SET, "103_2")})
        assert cands[0].reference == "TP-103" and cands[0].position == 3 and cands[0].hit
        assert cands[0].fingers[0].pairs and cands[0].owner_agency == "DE"


def test_tenprint_search_true_mate_first(afis, fvc_template):
    for i, f in enumerate(FINGERS):
        cands, _ = afis.search_tenprint({i + 1: fvc_template(SET, f"{f}_2")})
        assert cands[0].reference == f"TP-{f}"
    # a two-finger record fuses both finger scores
    rid, _ = afis.enrol_tenprint("TP-multi", "NL", {1: fvc_template(SET, "106_1"), 2: fvc_template(SET, "107_1")})
    cands, _ = afis.search_tenprint({1: fvc_template(SET, "106_3"), 2: fvc_template(SET, "107_3")})
    assert cands[0].id == rid and len(cands[0].fingers) == 2
    assert cands[0].score == pytest.approx(sum(f.score for f in cands[0].fingers))


def test_mark_search_rotated_window_true_mate_first(afis, fvc_template):
    for f in FINGERS:
        mark = rotated_window(fvc_template(SET, f"{f}_3"), degrees=90)
        cands, thr = afis.search_mark(mark)
        assert cands[0].reference == f"TP-{f}", (f, [(c.reference, c.score) for c in cands[:3]])
    hinted, _ = afis.search_mark(rotated_window(fvc_template(SET, "102_3")), position_hint=[2])
    assert [c.reference for c in hinted] == ["TP-102"]


def test_reverse_search_notifies_mark_owner_and_marks_link(store, fvc_template):
    afis = Afis.open(store)
    mid, _ = afis.add_mark("CASE-1", "UK", rotated_window(fvc_template(SET, "104_4"), degrees=-45))
    afis.add_mark("CASE-2", "UK", rotated_window(fvc_template(SET, "105_4")))
    # LT->LT: another mark of the same finger links to CASE-1
    linked = afis.link_marks(rotated_window(fvc_template(SET, "104_5"), frac=0.6, degrees=30))
    assert linked[0].id == mid
    rid, hits = afis.enrol_tenprint("TP-104", "FR", {4: fvc_template(SET, "104_1")})
    assert hits[0].id == mid and hits[0].hit
    notes = store.list_notifications("UK")
    assert [n.subject_id for n in notes] == [mid]
    assert notes[0].payload["subject"]["reference"] == "TP-104"
    assert store.list_notifications("FR") == []
    # the owner's own tenprint notifies nobody; an identified mark leaves the file
    afis.update_mark_status(mid, "identified")
    _, hits = afis.enrol_tenprint("TP-104b", "FR", {4: fvc_template(SET, "104_2")})
    assert all(h.id != mid for h in hits)
    assert len(store.list_notifications("UK")) == 1


def test_bad_input_stores_nothing(afis, store, fvc_template):
    before = store.count("fingerprint"), store.generation("fingerprint")
    t = fvc_template(SET, "106_1")
    with pytest.raises(ValueError, match="unknown finger position 11"):
        afis.enrol_tenprint("TP-x", "FR", {1: t, 11: t})
    with pytest.raises(DuplicateRefError):
        afis.enrol_tenprint("TP-101", "FR", {1: t})
    assert (store.count("fingerprint"), store.generation("fingerprint")) == before
    assert len(afis.fingers) == len(FINGERS)
    three = t.select(np.arange(3))
    with pytest.raises(ValueError, match="3 usable minutiae; at least 6"):
        afis.add_mark("CASE-3", "FR", three)
    with pytest.raises(ValueError, match="3 usable minutiae"):
        afis.search_mark(three)
    assert store.count("mark") == 0


def test_index_shortlist_keeps_mates(fvc_template):
    """With a shortlist smaller than the gallery, the vote stage still passes the mate to re-scoring."""
    idx = FingerIndex()
    keys = [f"{f}_1" for f in range(101, 111)]
    for i, k in enumerate(keys):
        idx.add(i, i, 1, prepare(fvc_template(SET, k)))
    for i, f in enumerate(range(101, 106)):
        hits, eligible = idx.search(prepare(fvc_template(SET, f"{f}_2")), shortlist=3)
        assert eligible == 10 and len(hits) == 3 and hits[0].row_id == i


def test_reverse_search_hit_is_posted_to_the_owner_webhook(store, fvc_template):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    got = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        store.set_webhook("UK", f"http://127.0.0.1:{server.server_port}/hits")
        afis = Afis.open(store)
        mid, _ = afis.add_mark("CASE-W", "UK", rotated_window(fvc_template(SET, "102_4")))
        afis.enrol_tenprint("TP-W", "FR", {2: fvc_template(SET, "102_1")})
        assert [f.result(timeout=10) for f in afis.deliveries] == [True]
        afis.close()
    finally:
        server.shutdown()
        server.server_close()
    assert got[0]["agency"] == "UK" and got[0]["subject_id"] == mid
    assert got[0]["payload"]["subject"]["reference"] == "TP-W"


def test_other_process_writes_show_in_a_running_afis(store, fvc_template):
    """A second Afis on the same store (the CLI beside a server) enrols and deletes; the first sees both."""
    server, cli = Afis.open(store), Afis.open(store)
    rid, _ = cli.enrol_tenprint("TP-cli", "FR", {8: fvc_template(SET, "108_1")})
    cands, _ = server.search_tenprint({8: fvc_template(SET, "108_2")})
    assert [c.id for c in cands] == [rid]
    server.enrol_tenprint("TP-srv", "FR", {9: fvc_template(SET, "109_1")})
    cli.delete_record(rid)
    assert server.search_tenprint({8: fvc_template(SET, "108_2")})[0] == []
    assert [c.reference for c in cli.search_tenprint({9: fvc_template(SET, "109_2")})[0]] == ["TP-srv"]
