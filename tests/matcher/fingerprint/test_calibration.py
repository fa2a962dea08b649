"""Score calibration to FMR."""
from __future__ import annotations

import numpy as np
import pytest

from biomatch.matcher.fingerprint.calibration import ScoreCalibration, default_calibration
from biomatch.matcher.fingerprint.params import MATCHER_VERSION


def test_shipped_calibration_is_for_this_matcher():
    cal = default_calibration()
    assert cal.matcher_version == MATCHER_VERSION
    assert cal.n >= 10_000


def test_fmr_is_the_share_of_impostors_at_or_above():
    cal = ScoreCalibration(MATCHER_VERSION, np.arange(1000) / 1000.0, "test")
    assert cal.fmr(0.9)[0] == pytest.approx(0.1)
    assert cal.fmr(0.0)[0] == 1.0
    fmr, bound = cal.fmr(5.0)
    assert bound and fmr == pytest.approx(1e-3)
    assert cal.strength(0.9).strength == pytest.approx(1.0)
    t = cal.threshold(0.01)
    assert cal.fmr(t)[0] <= 0.01 and cal.fmr(np.nextafter(t, -1) - 1e-3)[0] > 0.01


def test_threshold_outside_resolution_is_refused():
    cal = ScoreCalibration(MATCHER_VERSION, np.linspace(0, 1, 200), "test")
    with pytest.raises(ValueError, match="below what 200 calibration impostors can resolve"):
        cal.threshold(1e-4)
    with pytest.raises(ValueError, match="must be in"):
        cal.threshold(0)


def test_round_trip_json():
    cal = ScoreCalibration(MATCHER_VERSION, np.linspace(0, 1, 300), "test")
    back = ScoreCalibration.from_json(cal.to_json())
    np.testing.assert_allclose(back.impostor_scores, cal.impostor_scores, atol=1e-6)
