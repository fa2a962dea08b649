"""Which cylinders take part in the local stage (``cylinders.local_cylinders``): the rule, and a real print."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from biomatch.matcher.fingerprint import prepare
from biomatch.matcher.fingerprint.cylinders import cell_count_planes, cell_offsets, coarse_orientation, local_cylinders
from biomatch.matcher.fingerprint.params import DEFAULT_MATCHER_PARAMS, MatcherParams


def test_local_cylinders_keep_the_best_share_with_a_floor():
    p = MatcherParams(local_share=0.6, local_min_cylinders=4)
    rows = np.array([0, 2, 3, 5, 7, 8, 9, 11, 12, 13])  # the 10 rows with valid cylinders
    quality = np.zeros(14, np.uint8)
    quality[rows] = [50, 90, 10, 90, 70, 20, 60, 30, 80, 40]
    # the 6 best (90, 90, 80, 70, 60, 50), returned as increasing rows
    assert local_cylinders(rows, quality, p).tolist() == [0, 2, 5, 7, 9, 12]
    # 5 rows: the share would keep 3, the floor keeps 4
    assert local_cylinders(rows[:5], quality, p).tolist() == [0, 2, 5, 7]
    # fewer rows than the floor: all of them
    assert local_cylinders(rows[:3], quality, p).tolist() == [0, 2, 3]
    # equal qualities keep their order: seven rows of quality 90 for six places
    ties = quality.copy()
    ties[[0, 7, 9, 11, 13]] = 90
    assert local_cylinders(rows, ties, p).tolist() == [0, 2, 5, 7, 9, 11]
    # one quality for all (imported without qualities): nothing to choose by, all kept
    assert local_cylinders(rows, np.full(14, 7, np.uint8), p).tolist() == rows.tolist()
    assert local_cylinders(rows, quality, MatcherParams(local_share=1.0)).tolist() == rows.tolist()
    # rounded up without float slop: 0.7 * 10 is 7.000000000000001 in floating point, 7 are kept
    assert local_cylinders(rows, quality, MatcherParams(local_share=0.7, local_min_cylinders=0)).size == 7


def test_a_rich_print_keeps_its_best_minutiae_for_the_local_stage_and_all_for_pairing(fvc_template):
    t = fvc_template("fvc2004_db3_b", "101_1", dpi=512)
    kept = prepare(t)
    every = prepare(t, replace(DEFAULT_MATCHER_PARAMS, local_share=1.0, local_min_cylinders=0))
    n = every.index.size
    assert n > 40
    assert kept.index.size == max(25, math.ceil(0.6 * n - 1e-9))
    assert set(kept.index.tolist()) <= set(every.index.tolist())
    dropped = np.setdiff1d(every.index, kept.index)
    assert t.quality[kept.index].min() >= t.quality[dropped].max()
    assert kept.all_x.size == len(t)  # pairing sees every minutia


def test_local_stage_parameters_are_checked():
    with pytest.raises(ValueError, match="local_share"):
        MatcherParams(local_share=0.0)
    with pytest.raises(ValueError, match="local_min_cylinders"):
        MatcherParams(local_min_cylinders=-1)
    with pytest.raises(ValueError, match="orientation_cell"):
        MatcherParams(orientation_cell=0)
    with pytest.raises(ValueError, match="orientation_cell_min_blocks"):
        MatcherParams(orientation_cell_min_blocks=-1)


def test_coarse_orientation_averages_axial_angles_over_foreground_blocks():
    codes = np.array([[178, 4, 90, 255],
                      [2, 176, 255, 255],
                      [30, 255, 255, 255]], np.uint8)
    out = coarse_orientation(codes, 2)
    assert out.shape == (2, 2)
    assert out[0, 0] == 0  # 178, 4, 2 and 176 degrees lie around 0, not around 90
    assert out[0, 1] == 255  # one foreground block of four: background
    assert out[1, 0] == 255  # the cell over the last row: one of four (the rest is padding)
    assert out[1, 1] == 255
    two = coarse_orientation(np.array([[40, 50], [255, 255]], np.uint8), 2)
    assert two.tolist() == [[45]]  # half the blocks suffice
    assert np.array_equal(coarse_orientation(codes, 1), codes)


def test_prepared_orientation_field_is_the_coarse_field_of_the_template(fvc_template):
    t = fvc_template("fvc2002_db1_b", "101_1")
    p = prepare(t)
    assert p.orientation_block_px == 2 * t.orientation_block_px
    assert np.array_equal(p.orientation, coarse_orientation(t.orientation, 2))
    assert p.foreground.shape == t.orientation.shape  # pairing keeps the template's blocks
    assert np.count_nonzero(t.orientation != 255) >= DEFAULT_MATCHER_PARAMS.orientation_cell_min_blocks
    fine = prepare(t, replace(DEFAULT_MATCHER_PARAMS, orientation_cell=1))
    assert np.array_equal(fine.orientation, t.orientation)
    # a field with fewer foreground blocks than the minimum (a mark, a small print) is not averaged
    small = prepare(t, replace(DEFAULT_MATCHER_PARAMS, orientation_cell_min_blocks=10**6))
    assert np.array_equal(small.orientation, t.orientation) and small.orientation_block_px == t.orientation_block_px


def test_cell_count_planes_hold_each_cells_count_of_set_layers(fvc_template):
    p = prepare(fvc_template("fvc2002_db1_b", "102_3"))
    m, layers = cell_offsets(p.params.radius_px, p.params.cells).shape[0], p.params.layers
    rng = np.random.default_rng(0)
    dense = rng.integers(0, 2**63, size=(7, p.bits.shape[1]), dtype=np.uint64)  # counts up to 6
    for bits in (p.bits, dense):
        bools = np.unpackbits(bits.view(np.uint8), axis=1, bitorder="little")[:, :m * layers]
        want = bools.reshape(len(bits), m, layers).sum(axis=2)
        counts = cell_count_planes(bits, m, layers)
        planes = np.unpackbits(counts.view(np.uint8), axis=1, bitorder="little").reshape(len(bits), 3, -1)[:, :, :m]
        np.testing.assert_array_equal(planes[:, 0] + 2 * planes[:, 1] + 4 * planes[:, 2], want)
    assert want.max() == layers
    np.testing.assert_array_equal(p.counts, cell_count_planes(p.bits, m, layers))
    assert cell_count_planes(np.zeros((0, p.bits.shape[1]), np.uint64), m, layers).shape == (0, p.counts.shape[1])
