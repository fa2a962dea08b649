"""The extractor's Numba kernels agree with their plain-Python twins."""
from __future__ import annotations

import numpy as np
import pytest

from biomatch.extractors.fingerprint import extract_fingerprint
from biomatch.extractors.fingerprint._kernels import crossing_number_map, overlap_add, trace_branches
from biomatch.extractors.fingerprint._reference import (
    crossing_numbers_reference,
    overlap_add_reference,
    trace_branches_reference,
)
from biomatch.extractors.fingerprint.minutiae import _CROSSING_LUT, crossing_numbers


def _compare(skeleton: np.ndarray, max_steps=24, probe=9):
    cn = crossing_numbers(skeleton.astype(bool))
    rows, cols = np.nonzero((cn == 1) | (cn == 3))
    ident = np.full(skeleton.shape, -1, np.int32)
    ident[rows, cols] = np.arange(rows.size, dtype=np.int32)
    sk = np.ascontiguousarray(skeleton, dtype=np.uint8)
    got = trace_branches(sk, ident, rows.astype(np.int64), cols.astype(np.int64), max_steps, probe)
    want = trace_branches_reference(sk, ident, rows, cols, max_steps, probe)
    for g, w, name in zip(got, want, ("hit", "length", "probe_r", "probe_c")):
        np.testing.assert_array_equal(g, w, err_msg=name)
    return rows.size


def test_trace_branches_matches_reference_on_a_real_skeleton(fvc_dir):
    trace = {}
    extract_fingerprint(fvc_dir / "fvc2002_db1_b" / "101_1.tif", 500, trace=trace)
    assert _compare(trace["skeleton"]) > 20


@pytest.mark.parametrize("seed", range(5))
def test_trace_branches_matches_reference_on_random_skeletons(seed):
    from skimage.morphology import skeletonize

    rng = np.random.default_rng(seed)
    blobs = rng.random((80, 90)) > 0.55
    skeleton = skeletonize(blobs)
    _compare(skeleton, max_steps=15, probe=4)


def test_crossing_numbers_on_hand_made_patterns():
    sk = np.zeros((9, 9), bool)
    sk[4, 1:8] = True  # a horizontal ridge: endings at both ends
    sk[1:4, 4] = True  # a branch joining it from above: a bifurcation at (4, 4)
    cn = crossing_numbers(sk)
    assert cn[4, 1] == 1 and cn[4, 7] == 1 and cn[1, 4] == 1
    assert cn[4, 4] == 3
    assert cn[4, 2] == 2


@pytest.mark.parametrize("seed", range(4))
def test_crossing_numbers_match_reference(fvc_dir, seed):
    """The kernel against the whole-image numpy twin: a real skeleton (pixels on the image border
    included) and random ones, with every table entry exercised by a table of distinct values."""
    rng = np.random.default_rng(seed)
    trace = {}
    extract_fingerprint(fvc_dir / "fvc2002_db1_b" / f"10{seed + 1}_1.tif", 500, trace=trace)
    skeletons = [trace["skeleton"], rng.random((60, 70)) > 0.5, np.ones((5, 6), bool)]
    distinct = np.arange(256, dtype=np.uint8)
    for sk in skeletons:
        sk = np.ascontiguousarray(sk, dtype=np.uint8)
        for lut in (_CROSSING_LUT, distinct):
            np.testing.assert_array_equal(crossing_number_map(sk, lut), crossing_numbers_reference(sk, lut))


@pytest.mark.parametrize("seed", range(3))
def test_overlap_add_matches_reference_bit_for_bit(seed):
    """Overlapping blocks (every cell of a dense patch gets four contributions) must sum in the
    twin's order, so the float32 results are identical, not merely close."""
    rng = np.random.default_rng(seed)
    hop, grid_r, grid_c = 16, 9, 11
    cells = rng.random((grid_r - 1, grid_c - 1)) > 0.3
    sel_r, sel_c = np.nonzero(cells)
    filtered = (rng.standard_normal((sel_r.size, 2 * hop, 2 * hop)) * 10.0 ** rng.integers(-3, 4)).astype(np.float32)
    got = overlap_add(filtered, sel_r.astype(np.int64), sel_c.astype(np.int64), hop, grid_r * hop, grid_c * hop)
    want = overlap_add_reference(filtered, sel_r, sel_c, hop, grid_r * hop, grid_c * hop)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
