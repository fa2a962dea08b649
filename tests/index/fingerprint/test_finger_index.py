"""The segmented index: incremental enrolment equals a bulk build; items come back exactly; positions filter."""
import dataclasses

import numpy as np
import pytest

from afis_helpers import SET, rotated_window
from biomatch.index.fingerprint import FingerIndex
from biomatch.index.fingerprint.params import IndexParams
from biomatch.index.fingerprint.persist import load_index, save_index
from biomatch.index.fingerprint.segment import item_of
from biomatch.matcher.fingerprint import PreparedGallery, prepare

KEYS = [f"{f}_{i}" for f in range(101, 111) for i in (1, 2)]


@pytest.fixture(scope="module")
def prints(fvc_template):
    return [prepare(fvc_template(SET, k)) for k in KEYS]


def _fill(index, prints):
    for i, p in enumerate(prints):
        index.add(100 + i, 1000 + i // 2, 1 + i % 3, p)


def test_incremental_segments_vote_and_score_like_one_bulk_segment(prints):
    bulk = FingerIndex(IndexParams(flush_fingers=10_000))
    small = FingerIndex(IndexParams(flush_fingers=3, merge_ratio=2))
    _fill(bulk, prints)
    for i, p in enumerate(prints):  # interleaved with searches: every search flushes
        small.add(100 + i, 1000 + i // 2, 1 + i % 3, p)
        if i % 7 == 0:
            small.search(prints[0], shortlist=2)
    assert len(bulk.segments()) == 1 and len(small.segments()) > 1
    for probe in (prints[1], prepare(rotated_window(prints[5].template))):
        for positions in (None, [2]):
            ok_b, ok_s = bulk.slots.eligible(positions), small.slots.eligible(positions)
            np.testing.assert_array_equal(ok_b, ok_s)
            np.testing.assert_allclose(bulk.votes(probe, ok_b, positions), small.votes(probe, ok_s, positions),
                                       rtol=1e-6)
        a = small.search(probe, shortlist=6, top=5)
        b = bulk.search(probe, shortlist=6, top=5)
        assert [(h.row_id, h.score) for h in a[0]] == [(h.row_id, h.score) for h in b[0]]


def test_position_votes_equal_masked_full_votes(prints):
    index = FingerIndex()
    _fill(index, prints)
    ok_all = index.slots.eligible()
    full = index.votes(prints[3], ok_all)
    ok2 = index.slots.eligible([2])
    np.testing.assert_allclose(index.votes(prints[3], ok2, [2]), np.where(ok2 == 1, full, 0), rtol=1e-6)
    hits, eligible = index.search(prints[3], positions=[2], shortlist=3, top=3)
    assert eligible == int(ok2.sum()) and all(index.position(h.row_id) == 2 for h in hits)


def test_items_come_back_as_prepared(prints):
    g = PreparedGallery.from_prepared(prints[:4])
    for i, p in enumerate(prints[:4]):
        q = item_of(g, i)
        for f in dataclasses.fields(p):
            a, b = getattr(p, f.name), getattr(q, f.name)
            if f.name == "template":
                continue
            if isinstance(a, np.ndarray):
                assert a.dtype == b.dtype and a.shape == b.shape, f.name
                np.testing.assert_array_equal(a, b, err_msg=f.name)
            else:
                assert a == b, f.name


def test_remove_replace_and_persist(prints, tmp_path):
    index = FingerIndex(IndexParams(flush_fingers=4))
    _fill(index, prints)
    assert index.remove([100, 101, 999]) == 2 and 100 not in index and len(index) == len(prints) - 2
    index.add(102, 7, 5, prints[0])  # replace row 102 with another print
    assert index.owner(102) == 7 and index.position(102) == 5 and len(index) == len(prints) - 2
    hits, _ = index.search(prints[0], exhaustive=True, top=1)
    assert hits[0].row_id == 102
    path = tmp_path / "i.idx"
    save_index(index, path, 3)
    loaded = load_index(path, 3)
    assert loaded.row_ids() == index.row_ids()
    assert [s.nbytes for s in loaded.segments()] == [s.nbytes for s in index.segments()]
    for probe in (prints[1], prints[6]):
        a = loaded.search(probe, shortlist=4, top=3)
        b = index.search(probe, shortlist=4, top=3)
        assert [(h.row_id, h.score) for h in a[0]] == [(h.row_id, h.score) for h in b[0]]
    assert load_index(path, 4) is None


def test_tenprint_votes_fused_per_record(prints):
    """Records of two fingers (positions 1 and 2); a record shortlist of 2 still holds the mate record."""
    from biomatch.index.fingerprint.tenprint import search_records

    index = FingerIndex(IndexParams(min_shortlist=4, penetration=0.0))
    for r in range(5):  # record r: fingers 10+r (_1) at position 1 and 10+r+5 at position 2
        index.add(2 * r, 100 + r, 1, prints[2 * r])
        index.add(2 * r + 1, 100 + r, 2, prints[2 * (r + 5)])
    for r in (0, 3):
        found, comparisons = search_records(index, {1: prints[2 * r + 1], 2: prints[2 * (r + 5) + 1]}, records=2)
        assert comparisons == 10 and len(found) <= 2
        best = max(found, key=lambda o: sum(h.score for h in found[o].values()))
        assert best == 100 + r and set(found[best]) == {1, 2}


def test_single_probe_votes_equal_an_index_without_multi_probe(prints):
    """``multi_probe=False`` looks up the keys alone, as an index built without multi-probe does."""
    multi, single = FingerIndex(), FingerIndex(IndexParams(multi_probe=False))
    _fill(multi, prints)
    _fill(single, prints)
    ok = multi.slots.eligible([2])
    one = multi.votes(prints[3], ok, [2], multi_probe=False)
    np.testing.assert_allclose(one, single.votes(prints[3], ok, [2]), rtol=1e-6)
    assert (multi.votes(prints[3], ok, [2]) >= one).all() and not np.allclose(multi.votes(prints[3], ok, [2]), one)


def test_many_finger_tenprints_use_single_probe_votes(prints, fvc_template, monkeypatch):
    """A tenprint of ``record_single_probe_fingers`` fingers or more votes without multi-probe, and still finds its mate."""
    from biomatch.index.fingerprint import tenprint

    more = [prepare(fvc_template("fvc2002_db3_b", f"{f}_{i}")) for f in range(101, 111) for i in (1, 2)]
    fingers = prints + more  # 20 fingers, 2 impressions each
    index = FingerIndex(IndexParams(min_shortlist=4, penetration=0.0))
    for r in range(5):  # record r: fingers 4r .. 4r+3 at positions 1..4
        for p in range(4):
            index.add(4 * r + p, 100 + r, p + 1, fingers[2 * (4 * r + p)])
    seen = []
    original = index.shortlist
    monkeypatch.setattr(index, "shortlist", lambda *a, **k: seen.append(k.get("multi_probe")) or original(*a, **k))
    for r in (1, 4):
        probe = {p + 1: fingers[2 * (4 * r + p) + 1] for p in range(4)}
        found, _ = tenprint.search_records(index, probe, records=2)
        assert max(found, key=lambda o: sum(h.score for h in found[o].values())) == 100 + r
    assert seen == [False] * 8
    seen.clear()
    tenprint.search_records(index, {1: fingers[1], 2: fingers[3]}, records=2)  # two fingers: multi-probe
    assert seen == [None, None]


def test_save_and_load_hold_no_second_copy_of_the_index(prints, tmp_path, monkeypatch):
    """The index file is written and read array by array: a 1M-finger index (7.5 GB) must not be held twice."""
    import tracemalloc

    from biomatch.index import derived

    monkeypatch.setattr(derived, "_CHUNK", 4096)  # checksum reads, as for a payload far larger than one chunk
    index = FingerIndex(IndexParams(flush_fingers=4, max_segment=4))  # five segments: no one array dominates
    _fill(index, prints)
    index.flush()
    path = tmp_path / "i.idx"
    tracemalloc.start()
    try:
        save_index(index, path, 1)
        _, saved_peak = tracemalloc.get_traced_memory()
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        loaded = load_index(path, 1)
        after, loaded_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert loaded is not None and loaded.row_ids() == index.row_ids()
    size = path.stat().st_size
    assert saved_peak < 0.5 * size, (saved_peak, size)  # an in-memory payload would be >= size
    # reading: the arrays themselves, plus little; the payload read whole first would add >= size
    assert loaded_peak - after < 0.5 * size, (loaded_peak - after, size)
