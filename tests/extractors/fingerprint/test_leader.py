"""The LEADER minutiae detector: real prints in, biomatch's conventions and correct decisions out."""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np
import pytest

from biomatch.extractors.fingerprint import DEFAULT_PARAMS, FingerprintTemplate, MinutiaeSource, extract_fingerprint
from biomatch.matcher.fingerprint import prepare, score
from biomatch.matcher.fingerprint.calibration import DEFAULT_DECISION_FMR, default_calibration

LEADER = replace(DEFAULT_PARAMS, minutiae_detector="leader")


@lru_cache(maxsize=None)
def _leader(path: str):
    return extract_fingerprint(path, 500, params=LEADER)


@pytest.fixture(scope="module")
def leader_template(fvc_dir):
    return lambda key: _leader(str(fvc_dir / "fvc2002_db1_b" / f"{key}.tif"))


def test_leader_minutiae_follow_the_template_conventions(leader_template, fvc_template):
    ours = fvc_template("fvc2002_db1_b", "101_1")
    lead = leader_template("101_1")
    assert lead.minutiae_source == MinutiaeSource.LEADER and ours.minutiae_source == MinutiaeSource.RIDGES
    assert 15 <= len(lead) <= 80
    assert set(np.unique(lead.kind)) <= {1, 2}
    assert lead.angle.min() >= 0 and lead.angle.max() < 2 * np.pi
    # same orientation field and foreground as the default path: only the minutiae differ
    assert np.array_equal(lead.orientation, ours.orientation)
    # minutiae both detectors find point the same way (y down, along the ridge away from the minutia)
    d = np.hypot(lead.x[:, None] - ours.x[None], lead.y[:, None] - ours.y[None])
    i, j = np.nonzero(d < 5)
    assert i.size >= 10
    diff = np.abs(np.angle(np.exp(1j * (lead.angle[i].astype(float) - ours.angle[j]))))
    assert np.median(diff) < 0.3
    again = FingerprintTemplate.from_bytes(lead.to_bytes())
    assert again == lead and again.minutiae_source == MinutiaeSource.LEADER


def test_leader_is_deterministic(fvc_dir, leader_template):
    fresh = extract_fingerprint(str(fvc_dir / "fvc2002_db1_b" / "101_1.tif"), 500, params=LEADER)
    assert fresh == leader_template("101_1")


def test_leader_templates_accept_mates_and_reject_impostors(leader_template):
    threshold = default_calibration().threshold(DEFAULT_DECISION_FMR)
    probe = prepare(leader_template("101_1"))
    for mate in ("101_2", "101_4"):
        assert score(probe, prepare(leader_template(mate))) > threshold
    for other in ("104_1", "106_1", "109_1"):
        assert score(probe, prepare(leader_template(other))) < threshold


def test_oversized_print_is_refused_before_the_network_runs():
    big = np.full((1500, 1500), 200, np.uint8)
    big[::9] = 40  # ridges, so that segmentation finds a print
    with pytest.raises(ValueError, match="LEADER detector takes at most 2.0 million"):
        extract_fingerprint(big, 500, params=LEADER)


def test_unknown_detector_is_a_clear_error(fvc_dir):
    with pytest.raises(ValueError, match="unknown minutiae detector 'cnn'"):
        extract_fingerprint(str(fvc_dir / "fvc2002_db1_b" / "101_1.tif"), 500,
                            params=replace(DEFAULT_PARAMS, minutiae_detector="cnn"))


def test_unknown_minutiae_source_code_is_rejected(fvc_template):
    data = bytearray(fvc_template("fvc2002_db1_b", "101_1").to_bytes())
    data[15] = 7  # the header byte that holds the source
    with pytest.raises(ValueError, match="unknown minutiae source code 7"):
        FingerprintTemplate.from_bytes(bytes(data))


def test_marks_keep_lower_scored_leader_detections(fvc_dir):
    """A noisy window of a real print, searched as a mark: LEADER minutiae with the latent parameters,
    which keep detections down to a lower score than prints do."""
    from biomatch.extractors.fingerprint import LATENT_PARAMS
    from biomatch.extractors.imageio import load_grey
    from biomatch.index.fingerprint.marks import mark_template

    img = load_grey(fvc_dir / "fvc2002_db1_b" / "103_2.tif")
    h, w = img.shape
    window = img[h // 4: h // 4 + h // 2, w // 5: w // 5 + 3 * w // 5].astype(np.float32)
    window = np.clip(window + np.random.default_rng(3).normal(0, 12, window.shape), 0, 255).astype(np.uint8)
    mark = mark_template(window, detector="leader")
    assert mark.minutiae_source == MinutiaeSource.LEADER
    assert LATENT_PARAMS.leader_min_quality < DEFAULT_PARAMS.leader_min_quality
    strict = extract_fingerprint(window, 500, params=replace(LATENT_PARAMS, minutiae_detector="leader",
                                                              leader_min_quality=DEFAULT_PARAMS.leader_min_quality))
    assert len(mark) > len(strict) >= 1
    assert mark.quality.min() < 55 <= strict.quality.min()
