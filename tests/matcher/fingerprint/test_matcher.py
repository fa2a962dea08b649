"""Pairwise matching on real FVC prints: genuine above the calibrated threshold, impostors below."""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from biomatch.extractors.fingerprint import FingerprintTemplate
from biomatch.matcher.fingerprint import PreparedGallery, match, prepare, score, score_many, top_candidates
from biomatch.matcher.fingerprint.params import ANY_ROTATION_PARAMS, DEFAULT_MATCHER_PARAMS
from biomatch.matcher.fingerprint.calibration import DEFAULT_DECISION_FMR, default_calibration

# clear genuine pairs (same finger, good overlap) from sets of three sensors
GENUINE = [("fvc2002_db1_b", "101_1", "101_2"), ("fvc2002_db1_b", "104_1", "104_3"),
           ("fvc2002_db3_b", "102_1", "102_2"), ("fvc2002_db4_b", "103_1", "103_4")]
IMPOSTOR = [("fvc2002_db1_b", "101_1", "102_1"), ("fvc2002_db1_b", "104_1", "107_1"),
            ("fvc2002_db3_b", "102_1", "108_1"), ("fvc2002_db4_b", "103_1", "105_1")]


@pytest.fixture(scope="module")
def threshold():
    return default_calibration().threshold(DEFAULT_DECISION_FMR)


@pytest.mark.parametrize("set_name, a, b", GENUINE)
def test_genuine_pairs_score_above_threshold(fvc_template, threshold, set_name, a, b):
    result = match(fvc_template(set_name, a), fvc_template(set_name, b))
    assert result.score >= threshold
    assert len(result.pairs) >= 6


@pytest.mark.parametrize("set_name, a, b", IMPOSTOR)
def test_impostor_pairs_score_below_threshold(fvc_template, threshold, set_name, a, b):
    assert score(fvc_template(set_name, a), fvc_template(set_name, b)) < threshold


def _moved(t: FingerprintTemplate, angle: float, dx: float, dy: float) -> FingerprintTemplate:
    """The same minutiae rotated about the image centre and shifted (orientation field dropped)."""
    cx, cy = t.width / 2, t.height / 2
    c, s = math.cos(angle), math.sin(angle)
    x = c * (t.x - cx) - s * (t.y - cy) + cx + dx
    y = s * (t.x - cx) + c * (t.y - cy) + cy + dy
    pad = 200
    return FingerprintTemplate(x=x + pad, y=y + pad, angle=np.mod(t.angle + angle, 2 * np.pi), kind=t.kind,
                               quality=t.quality, width=t.width + 2 * pad, height=t.height + 2 * pad, dpi=t.dpi)


@pytest.mark.parametrize("angle_deg, params", [
    (0, DEFAULT_MATCHER_PARAMS), (35, DEFAULT_MATCHER_PARAMS), (-50, DEFAULT_MATCHER_PARAMS),
    (-120, ANY_ROTATION_PARAMS), (180, ANY_ROTATION_PARAMS),
])
def test_score_is_invariant_to_rotation_and_translation(fvc_template, threshold, angle_deg, params):
    t = fvc_template("fvc2002_db1_b", "101_1")
    moved = _moved(t, math.radians(angle_deg), 37.0, -21.0)
    other = fvc_template("fvc2002_db1_b", "101_2")
    plain = FingerprintTemplate(x=t.x, y=t.y, angle=t.angle, kind=t.kind, quality=t.quality, width=t.width,
                                height=t.height, dpi=t.dpi)
    # the same minutiae, moved, score as if unmoved (no orientation field on either side here)
    assert score(plain, moved, params) == pytest.approx(score(plain, plain, params), rel=1e-6)
    assert score(plain, moved, params) > 0.7
    assert score(other, moved, params) >= threshold  # a genuine mate still matches after the move


def test_default_params_bound_the_rotation(fvc_template):
    t = fvc_template("fvc2002_db1_b", "101_1")
    plain = FingerprintTemplate(x=t.x, y=t.y, angle=t.angle, kind=t.kind, quality=t.quality, width=t.width,
                                height=t.height, dpi=t.dpi)
    upside_down = _moved(t, math.pi, 0.0, 0.0)
    assert score(plain, upside_down) < 0.1 < score(plain, upside_down, ANY_ROTATION_PARAMS)


def test_partial_overlap_still_matches(fvc_template, threshold):
    t = fvc_template("fvc2002_db1_b", "104_1")
    half = t.select(t.y < np.median(t.y))  # the upper half of the minutiae only
    assert score(half, fvc_template("fvc2002_db1_b", "104_3")) >= threshold


def test_pairs_index_real_minutiae_once(fvc_template):
    a, b = fvc_template("fvc2002_db1_b", "101_1"), fvc_template("fvc2002_db1_b", "101_2")
    pairs = match(a, b).pairs
    assert pairs.shape[1] == 2
    assert len(set(pairs[:, 0])) == len(pairs) and len(set(pairs[:, 1])) == len(pairs)
    assert pairs[:, 0].max() < len(a) and pairs[:, 1].max() < len(b)


def test_empty_templates_score_zero(fvc_template):
    t = fvc_template("fvc2002_db1_b", "101_1")
    empty = t.select(np.zeros(len(t), bool))
    assert score(empty, t) == 0.0 and score(t, empty) == 0.0


def test_score_many_equals_pairwise_and_is_thread_safe(fvc_template):
    keys = [f"{f}_{i}" for f in (101, 102, 103, 104) for i in (1, 2, 3)]
    prepared = [prepare(fvc_template("fvc2002_db1_b", k)) for k in keys]
    gallery = PreparedGallery.from_prepared(prepared)
    pairwise = np.array([[score(p, c) for c in prepared] for p in prepared])
    batched = np.array([score_many(p, gallery) for p in prepared])
    np.testing.assert_array_equal(batched, pairwise)
    with ThreadPoolExecutor(4) as pool:
        threaded = np.array(list(pool.map(lambda p: score_many(p, gallery), prepared * 3)))
    np.testing.assert_array_equal(threaded, np.vstack([batched] * 3))
    # the mate of each probe (same finger) is its best other candidate
    for i, row in enumerate(batched):
        row = row.copy()
        row[i] = -1
        assert keys[int(np.argmax(row))].split("_")[0] == keys[i].split("_")[0]


def test_prepared_with_other_params_is_refused(fvc_template):
    from biomatch.matcher.fingerprint import MatcherParams

    t = fvc_template("fvc2002_db1_b", "101_1")
    with pytest.raises(ValueError, match="other matcher parameters"):
        score(prepare(t, MatcherParams(cells=8)), t)


@pytest.mark.parametrize("k", [1, 3, 20])
def test_top_candidates_equal_the_top_of_score_many(fvc_template, k):
    keys = [f"{f}_{i}" for f in range(101, 111) for i in (1, 4)]
    prepared = [prepare(fvc_template("fvc2002_db3_b", key)) for key in keys]
    gallery = PreparedGallery.from_prepared(prepared)
    for probe_key in ("101_2", "105_6", "110_8"):
        probe = prepare(fvc_template("fvc2002_db3_b", probe_key))
        full = score_many(probe, gallery)
        order = np.lexsort((np.arange(full.size), -full))
        want = [i for i in order[:k] if full[i] > 0]
        ids, scores, paired = top_candidates(probe, gallery, k)
        assert list(ids) == want
        np.testing.assert_array_equal(scores, full[want])
        assert paired <= len(prepared)
        assert keys[ids[0]].split("_")[0] == probe_key.split("_")[0]  # the mate comes first


def test_comparison_only_params_reuse_prepared_cylinders(fvc_template):
    from biomatch.matcher.fingerprint.params import ANY_ROTATION_PARAMS, DEFAULT_MATCHER_PARAMS

    a, b = fvc_template("fvc2002_db1_b", "101_1"), fvc_template("fvc2002_db1_b", "101_2")
    prepared = prepare(a, DEFAULT_MATCHER_PARAMS)
    assert score(prepared, b, ANY_ROTATION_PARAMS) == score(a, b, ANY_ROTATION_PARAMS)


def test_gallery_positions_and_concat_score_as_the_whole(fvc_template):
    keys = [f"{f}_{i}" for f in (101, 102, 103, 104, 105) for i in (1, 3)]
    prepared = [prepare(fvc_template("fvc2002_db1_b", k)) for k in keys]
    whole = PreparedGallery.from_prepared(prepared)
    parts = PreparedGallery.concat([PreparedGallery.from_prepared(prepared[:3]),
                                    PreparedGallery.from_prepared(prepared[3:])])
    probe = prepare(fvc_template("fvc2002_db1_b", "103_2"))
    full = score_many(probe, whole)
    np.testing.assert_array_equal(score_many(probe, parts), full)
    subset = np.array([7, 2, 4, 5])
    np.testing.assert_array_equal(score_many(probe, whole, positions=subset), full[subset])
    ids, scores, _ = top_candidates(probe, parts, 2, positions=subset)
    want = sorted(subset, key=lambda i: (-full[i], i))[:2]
    assert list(ids) == [i for i in want if full[i] > 0]
    assert keys[ids[0]].startswith("103")
    # compact: well under the matcher's per-finger prepared arrays
    per_finger = sum(p.bits.nbytes + p.valid.nbytes + p.cells.nbytes + p.orientation.nbytes + 8 * 7 * len(p.all_x)
                     for p in prepared)
    assert whole.nbytes < 0.6 * per_finger
    with pytest.raises(ValueError, match="positions"):
        score_many(probe, whole, positions=[len(keys)])


def test_gallery_comparison_params_override(fvc_template):
    prepared = [prepare(fvc_template("fvc2002_db1_b", k)) for k in ("101_1", "102_1", "101_3")]
    gallery = PreparedGallery.from_prepared(prepared)
    probe = prepare(fvc_template("fvc2002_db1_b", "101_2"))
    wide = score_many(probe, gallery, params=ANY_ROTATION_PARAMS)
    np.testing.assert_array_equal(wide, [score(probe, p, ANY_ROTATION_PARAMS) for p in prepared])
    from biomatch.matcher.fingerprint import MatcherParams
    with pytest.raises(ValueError, match="cylinder geometry"):
        score_many(probe, gallery, params=MatcherParams(cells=8))


def test_gallery_mixing_imported_minutiae_scores_as_pairwise(fvc_template):
    """Templates without an orientation field have a convex hull foreground and no field to compare;
    mixed with extracted ones in a gallery, both score as pairwise."""
    extracted = [fvc_template("fvc2002_db1_b", k) for k in ("104_1", "104_2", "106_1")]
    imported = [FingerprintTemplate(x=t.x, y=t.y, angle=t.angle, kind=t.kind, quality=t.quality, width=t.width,
                                    height=t.height, dpi=t.dpi) for t in extracted]
    prepared = [prepare(t) for t in extracted + imported]
    gallery = PreparedGallery.from_prepared(prepared)
    assert all(gallery.fg_shape[:, 0] > 0) and list(gallery.or_shape[3:, 0]) == [0, 0, 0]
    for probe in (prepared[1], prepared[4]):
        np.testing.assert_array_equal(score_many(probe, gallery), [score(probe, c) for c in prepared])
