"""The matcher's Numba kernels agree with their plain-numpy twins on real templates."""
from __future__ import annotations

import numpy as np
import pytest

from biomatch.matcher.fingerprint import DEFAULT_MATCHER_PARAMS as P
from biomatch.matcher.fingerprint import prepare
from biomatch.matcher.fingerprint import MatcherParams
from biomatch.matcher.fingerprint._kernels import _similarities_any, build_cylinders, similarity_keys, similarity_matrix
from biomatch.matcher.fingerprint._pairing import orientation_agreement, pair_minutiae
from biomatch.matcher.fingerprint._relaxation import _keys_of, _smallest_stable, _top_pairs, relaxed_pairs
from biomatch.matcher.fingerprint._reference import (
    build_cylinders_reference,
    orientation_agreement_reference,
    orientation_radians,
    pair_minutiae_reference,
    relaxed_pairs_reference,
    similarity_reference,
)
from biomatch.matcher.fingerprint.cylinders import _foreground_blocks, cell_offsets

PAIRS = [("101_1", "101_2"), ("101_1", "104_5"), ("106_3", "106_7")]


def _unpack(bits, m, layers):
    flat = np.unpackbits(bits.view(np.uint8), axis=1, bitorder="little")[:, : m * layers]
    return flat.reshape(bits.shape[0], m, layers).astype(bool)


@pytest.mark.parametrize("key", ["101_1", "106_3"])
def test_cylinders_match_reference(fvc_template, key):
    t = fvc_template("fvc2002_db1_b", key)
    offsets = cell_offsets(P.radius_px, P.cells)
    m = offsets.shape[0]
    words = (m * P.layers + 63) // 64
    fg, block = _foreground_blocks(t)
    args = (t.x.astype(float), t.y.astype(float), t.angle.astype(float), fg, block, offsets, P.layers,
            P.sigma_s_px, P.sigma_d_rad, P.mu_psi, P.radius_px + 3 * P.sigma_s_px)
    bits, valid, cells, valid_cells, neighbours = build_cylinders(*args, words)
    values, validity, counts = build_cylinders_reference(*args)
    np.testing.assert_array_equal(_unpack(bits, m, P.layers), values)
    np.testing.assert_array_equal(_unpack(valid, m, P.layers)[:, :, 0], validity)
    np.testing.assert_array_equal(valid_cells, validity.sum(axis=1))
    cell_bits = np.unpackbits(cells.view(np.uint8), axis=1, bitorder="little")[:, :m].astype(bool)
    np.testing.assert_array_equal(cell_bits, validity)
    np.testing.assert_array_equal(neighbours, counts)
    assert values.any()


@pytest.mark.parametrize("ka, kb", PAIRS)
def test_similarity_and_relaxation_match_reference(fvc_template, ka, kb):
    a = prepare(fvc_template("fvc2002_db1_b", ka))
    b = prepare(fvc_template("fvc2002_db1_b", kb))
    m = cell_offsets(P.radius_px, P.cells).shape[0]
    sim = similarity_matrix(a.bits, a.valid, a.counts, a.cells, a.angle, b.bits, b.cells, b.angle,
                            P.max_direction_diff_rad, a.min_matchable_cells)
    ref = similarity_reference(_unpack(a.bits, m, P.layers), _unpack(a.valid, m, P.layers)[:, :, 0], a.angle,
                               _unpack(b.bits, m, P.layers), _unpack(b.valid, m, P.layers)[:, :, 0], b.angle,
                               P.max_direction_diff_rad, a.min_matchable_cells * P.layers)
    np.testing.assert_allclose(sim, ref, atol=1e-6)
    assert (sim > 0).sum() > 10
    relax_args = (a.x, a.y, a.angle, b.x, b.y, b.angle, min(len(a), len(b)), P.relax_iterations, P.relax_weight,
                  P.mu_p1, P.tau_p1, P.mu_p2, P.tau_p2, P.mu_p3, P.tau_p3)
    got = relaxed_pairs(sim, *relax_args)
    want = relaxed_pairs_reference(sim, *relax_args)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_allclose(got[2], want[2], rtol=1e-6)
    np.testing.assert_allclose(got[3], want[3], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("cells", [12, 16])
def test_similarity_of_any_geometry_matches_reference(fvc_template, cells):
    """The default geometry's spelt-out kernel and the loop kernel of any geometry give the reference's
    similarities; on the default geometry (12 cells: 11 words) the two kernels' keys agree bit for bit."""
    params = MatcherParams(cells=cells)
    a = prepare(fvc_template("fvc2002_db1_b", "101_1"), params)
    b = prepare(fvc_template("fvc2002_db1_b", "101_2"), params)
    m = cell_offsets(params.radius_px, cells).shape[0]
    args = (a.bits, a.valid, a.counts, a.cells, a.angle, b.bits, b.cells, b.angle, P.max_direction_diff_rad,
            a.min_matchable_cells)
    sim = similarity_matrix(*args)
    ref = similarity_reference(_unpack(a.bits, m, P.layers), _unpack(a.valid, m, P.layers)[:, :, 0], a.angle,
                               _unpack(b.bits, m, P.layers), _unpack(b.valid, m, P.layers)[:, :, 0], b.angle,
                               P.max_direction_diff_rad, a.min_matchable_cells * P.layers)
    np.testing.assert_allclose(sim, ref, atol=1e-6)
    assert (sim > 0).sum() > 10
    keys, size = similarity_keys(*args)
    loop_keys, loop_size = _similarities_any(*args)
    assert size == loop_size == (sim > 0).sum()
    np.testing.assert_array_equal(keys[:size], loop_keys[:size])
    np.testing.assert_array_equal(keys[:size], _keys_of(sim)[0][:size])  # the matrix's keys, in its order
    assert (a.bits.shape[1] == 11) == (cells == 12)


def _pairing_agrees(args):
    """Run the pairing kernel and its twin on ``args``; assert they agree; return the kernel's result."""
    got = pair_minutiae(*args)
    want = pair_minutiae_reference(*args)
    assert got[0] == pytest.approx(want[0], rel=1e-12)
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[2], want[2])
    assert got[3] == want[3]
    return got


@pytest.mark.parametrize("ka, kb", PAIRS)
def test_pairing_matches_reference(fvc_template, ka, kb):
    a = prepare(fvc_template("fvc2002_db1_b", ka))
    b = prepare(fvc_template("fvc2002_db1_b", kb))
    rng = np.random.default_rng(0)
    seeds_a = rng.integers(0, a.all_x.size, 6)
    seeds_b = rng.integers(0, b.all_x.size, 6)
    args = (a.all_x, a.all_y, a.all_angle, a.foreground, a.block_px, b.all_x, b.all_y, b.all_angle, b.foreground,
            b.block_px, seeds_a, seeds_b, P.pairing_tol_px, P.pairing_tol_slope, P.pairing_tol_rad,
            P.pairing_min_overlap)
    _pairing_agrees(args)


@pytest.mark.parametrize("block", [16, 12])
def test_pairing_matches_reference_with_ties_and_many_minutiae(block):
    """Synthetic corners: more than 64 minutiae (several words of the loose test's bit mask), many
    candidates at exactly equal distances (the greedy pairing depends on how ties are ordered), and a
    block size that is not a power of two (the foreground test divides instead of scaling)."""
    rng = np.random.default_rng(3)
    gx, gy = np.meshgrid(np.arange(10) * 13.0, np.arange(9) * 13.0)
    xa = gx.ravel() + rng.integers(0, 3, gx.size) + 40
    ya = gy.ravel() + rng.integers(0, 3, gx.size) + 40
    ta = rng.choice(np.array([0.0, 0.25, np.pi / 2, -np.pi + 0.1]), xa.size)
    keep = rng.random(xa.size) > 0.1
    xb = np.concatenate([xa[keep] + 3.0, [10.0, 20.0]])  # every kept minutia 5 px away: equal distances
    yb = np.concatenate([ya[keep] + 4.0, [10.0, 15.0]])
    tb = np.concatenate([ta[keep], [0.0, 1.0]])
    assert xa.size > 64 and xb.size > 64
    fga = (rng.random((14, 14)) > 0.2).astype(np.uint8)
    fgb = (rng.random((14, 14)) > 0.2).astype(np.uint8)
    rows_b = np.flatnonzero(keep)
    seeds_a = np.array([0, 17, 40, 41, 88])
    seeds_b = np.array([np.searchsorted(rows_b, k) for k in seeds_a])
    args = (xa, ya, ta, fga, block, xb, yb, tb, fgb, block, seeds_a, seeds_b, P.pairing_tol_px,
            P.pairing_tol_slope, P.pairing_tol_rad, P.pairing_min_overlap)
    got = _pairing_agrees(args)
    assert got[1].size > 40


@pytest.mark.parametrize("ka, kb, rot", [("101_1", "101_2", 0.0), ("101_1", "104_5", 0.4), ("106_3", "106_7", -2.5)])
def test_orientation_agreement_matches_reference(fvc_template, ka, kb, rot):
    a = prepare(fvc_template("fvc2002_db1_b", ka))
    b = prepare(fvc_template("fvc2002_db1_b", kb))
    frame = (190.0, 170.0, 200.0, 185.0, rot)
    ba, bb = a.orientation_block_px, b.orientation_block_px
    got = orientation_agreement(a.orientation, ba, b.orientation, bb, *frame)
    want = orientation_agreement_reference(orientation_radians(a.orientation), ba,
                                           orientation_radians(b.orientation), bb, *frame)
    assert got[1] == want[1] and got[1] > 0
    assert got[0] == pytest.approx(want[0], rel=1e-12)
    same = orientation_agreement(a.orientation, ba, a.orientation, ba, 1.0, 2.0, 1.0, 2.0, 0.0)
    assert same[0] == pytest.approx(1.0)


@pytest.mark.parametrize("max_dir", [P.max_direction_diff_rad, np.pi])
def test_similarity_matches_reference_past_64_columns_and_at_the_window_edges(fvc_template, max_dir):
    """The direction window is tested 64 columns at a time on directions reduced to [0, 2 pi):
    more than 64 candidate cylinders, directions exactly at the window's edges, across the
    0 / 2 pi seam and just below 2 pi must all give the reference's similarities."""
    a = prepare(fvc_template("fvc2002_db1_b", "101_1"))
    b = prepare(fvc_template("fvc2002_db1_b", "101_2"))
    reps = -(-70 // len(b))  # enough copies of B's cylinders for more than 64 columns
    bits, valid, cells = (np.ascontiguousarray(np.tile(v, (reps, 1))) for v in (b.bits, b.valid, b.cells))
    rng = np.random.default_rng(5)
    angle = rng.uniform(0, 2 * np.pi, bits.shape[0])
    a0 = float(a.angle[0])
    edges = [a0 + max_dir, a0 - max_dir, a0 + max_dir + 1e-12, a0 - max_dir - 1e-12, 0.0,
             np.nextafter(2 * np.pi, 0), 2 * np.pi - 1e-9, a0]
    angle[:len(edges)] = np.mod(edges, 2 * np.pi)
    assert bits.shape[0] > 64
    m = cell_offsets(P.radius_px, P.cells).shape[0]
    sim = similarity_matrix(a.bits, a.valid, a.counts, a.cells, a.angle, bits, cells, angle, max_dir,
                            a.min_matchable_cells)
    ref = similarity_reference(_unpack(a.bits, m, P.layers), _unpack(a.valid, m, P.layers)[:, :, 0], a.angle,
                               _unpack(bits, m, P.layers), _unpack(valid, m, P.layers)[:, :, 0], angle,
                               max_dir, a.min_matchable_cells * P.layers)
    np.testing.assert_allclose(sim, ref, atol=1e-6)
    np.testing.assert_array_equal(sim > 0, ref > 0)
    assert (sim[:, 64:] > 0).any()


def test_relaxation_matches_reference_on_many_pairs(fvc_template):
    """All ordered pairs of a few distorted, minutiae-rich prints: covers angle wrap-around corners."""
    keys = ["101_1", "101_2", "102_1", "103_4", "107_6"]
    prepared = [prepare(fvc_template("fvc2004_db3_b", k, dpi=512)) for k in keys]
    for a in prepared:
        for b in prepared:
            sim = similarity_matrix(a.bits, a.valid, a.counts, a.cells, a.angle, b.bits, b.cells, b.angle,
                                    P.max_direction_diff_rad, a.min_matchable_cells)
            args = (a.x, a.y, a.angle, b.x, b.y, b.angle, min(len(a), len(b)), P.relax_iterations,
                    P.relax_weight, P.mu_p1, P.tau_p1, P.mu_p2, P.tau_p2, P.mu_p3, P.tau_p3)
            got, want = relaxed_pairs(sim, *args), relaxed_pairs_reference(sim, *args)
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_array_equal(got[1], want[1])
            np.testing.assert_allclose(got[3], want[3], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("count", [0, 1, 5, 40, 200])
def test_top_pairs_orders_by_value_then_lower_index(count):
    """The key-based selection equals a stable sort: ties (frequent, as similarities are ratios of
    popcounts) go to the lower flat index, zeros are never chosen."""
    rng = np.random.default_rng(count)
    sim = rng.choice(np.array([0.0, 0.0, 0.25, 0.5, 0.5, 0.75, 1.0], np.float32), size=(17, 23))
    sim[3, :] = rng.random(23).astype(np.float32)
    flat = sim.ravel()
    positive = np.nonzero(flat > 0)[0]
    want = positive[np.argsort(-flat[positive], kind="stable")][:count]
    np.testing.assert_array_equal(_top_pairs(sim, count), want)


@pytest.mark.parametrize("k", [0, 1, 4, 12, 40])
def test_smallest_stable_equals_a_stable_sort(k):
    """The selection of the most efficient LSS-R pairs equals ``np.argsort(kind="mergesort")[:k]``,
    ties (equal efficiencies) included, and negative zeros equal to zeros."""
    rng = np.random.default_rng(k)
    values = rng.choice(np.array([-1.0, -0.5, -0.5, -0.0, 0.0, 0.25, 2.0]), size=40)
    values[::7] = rng.random(6)
    np.testing.assert_array_equal(_smallest_stable(values, k), np.argsort(values, kind="mergesort")[:k])


@pytest.mark.parametrize("count", [3, 30, 120])
def test_top_pairs_with_tiny_and_equal_values(count):
    """Values below the selection histogram's lowest bin (2**-7) and long runs of equal values:
    the histogram only narrows what is sorted, the order stays value first, then lower index."""
    rng = np.random.default_rng(count)
    sim = rng.choice(np.array([0.0, 1e-6, 3e-4, 0.004, 0.004, 0.0078125, 0.3, 1.0], np.float32), size=(20, 25))
    flat = sim.ravel()
    positive = np.nonzero(flat > 0)[0]
    want = positive[np.argsort(-flat[positive], kind="stable")][:count]
    np.testing.assert_array_equal(_top_pairs(sim, count), want)


@pytest.mark.parametrize("n", [30, 100])
def test_relaxation_matches_reference_with_coincident_and_wrapped_minutiae(n):
    """Synthetic corners for the loose pre-tests: minutiae at the same place (radial angle of a zero
    vector), directions on both sides of +-pi, distances at the compatibility cut-offs; with 100
    pairs, the pre-test's bit masks span two words."""
    rng = np.random.default_rng(7)
    xa = np.round(rng.uniform(0, 200, n))
    ya = np.round(rng.uniform(0, 200, n))
    xa[5], ya[5] = xa[4], ya[4]
    ta = rng.choice(np.array([-np.pi, -np.pi + 1e-9, 0.0, np.pi - 1e-9, 1.0]), n) + rng.normal(0, 0.2, n)
    ta = np.mod(ta + np.pi, 2 * np.pi) - np.pi
    xb, yb = xa + 10.76 * (rng.random(n) > 0.5), ya.copy()
    tb = np.mod(ta + rng.normal(0, 0.3, n) + np.pi, 2 * np.pi) - np.pi
    xb[5], yb[5] = xb[4], yb[4]  # coincident in both prints, and among the most similar pairs
    tb[4], tb[5] = ta[4] + 0.05, ta[5] - 0.05
    sim = rng.choice(np.array([0.0, 0.3, 0.6, 0.9], np.float32), size=(n, n))
    sim[4, 4] = sim[5, 5] = 1.0
    # coincident in A only: B's line from 7 to 6 points at pi, so only the radial angle taken
    # against that line (not against a zero vector's 0) makes the pairs compatible
    xa[7], ya[7] = xa[6], ya[6]
    xb[6], yb[6], xb[7], yb[7] = xa[6], ya[6], xa[6] + 5.0, ya[6]
    ta[6] = ta[7] = 0.3
    tb[6] = tb[7] = 0.3 + np.pi - 2 * np.pi
    sim[6, 6], sim[7, 7] = 1.0, 0.95
    args = (xa, ya, ta, xb, yb, tb, n, P.relax_iterations, P.relax_weight,
            P.mu_p1, P.tau_p1, P.mu_p2, P.tau_p2, P.mu_p3, P.tau_p3)
    got, want = relaxed_pairs(sim, *args), relaxed_pairs_reference(sim, *args)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_allclose(got[3], want[3], rtol=1e-6, atol=1e-9)
    assert np.any(got[3] != got[2])  # some pairs were compatible
    six = np.flatnonzero((got[0] == 6) & (got[1] == 6))[0]
    assert got[3][six] > P.relax_weight ** P.relax_iterations * got[2][six] * (1 + 1e-6)  # (6, 6) had support


def test_relaxation_matches_reference_at_the_angle_cut_offs():
    """The loose pre-test reads pair rotations from a table (within pi / 1024) and widens its angle
    cut-offs to cover that: pairs whose rotation difference and radial angle lie just inside and just
    outside the exact cut-offs must get the reference's compatibilities."""
    cut = P.mu_p2 + np.log(9999.0) / -P.tau_p2  # the direction cut-off (the radial one is the same)
    assert cut == pytest.approx(P.mu_p3 + np.log(9999.0) / -P.tau_p3)
    n = 60
    rng = np.random.default_rng(11)
    # the same positions in both prints (distance and radial line agree), B's directions all 0, so
    # the rotation of pair t is ta[t]: half near 0, half near the cut-off, each within 0.01 of it
    xa = rng.uniform(0, 150, n)
    ya = rng.uniform(0, 150, n)
    ta = np.where(np.arange(n) % 2 == 0, 0.0, cut) + rng.uniform(-0.01, 0.01, n)
    ta[1], ta[3] = cut - 1e-9, cut + 1e-9
    tb = np.zeros(n)
    sim = np.diag(np.linspace(1.0, 0.5, n)).astype(np.float32)
    args = (xa, ya, ta, xa.copy(), ya.copy(), tb, n, P.relax_iterations, P.relax_weight,
            P.mu_p1, P.tau_p1, P.mu_p2, P.tau_p2, P.mu_p3, P.tau_p3)
    got, want = relaxed_pairs(sim, *args), relaxed_pairs_reference(sim, *args)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_allclose(got[3], want[3], rtol=1e-6, atol=1e-12)
    # the inputs straddle both cut-offs closely: rotation differences and rotations within the
    # table's error of them, on either side
    diff = np.abs(ta[:, None] - ta[None, :])
    near = np.abs(diff - cut) < 2 * np.pi / 1024
    assert np.any(near & (diff <= cut)) and np.any(near & (diff > cut))
    assert np.any(np.abs(ta - cut) < 1e-6)
    assert np.any(got[3] != P.relax_weight ** P.relax_iterations * got[2])  # some pairs were compatible
