"""FMR tables from histograms of impostor scores, and FPIR requests beyond the calibrated range."""
import numpy as np
import pytest

from biomatch.matcher.faces import FmrCalibration, fit_fmr_table, fit_fmr_table_from_counts
from biomatch.matcher.faces.thresholds import beyond_calibration_message, lowest_fpir, search_threshold


def _counts(scores: np.ndarray, bins: int) -> np.ndarray:
    idx = np.clip(((scores + 1.0) * (bins / 2.0)).astype(np.int64), 0, bins - 1)
    return np.bincount(idx, minlength=bins)


def test_table_from_counts_keeps_fmr_at_or_below_each_level_and_matches_exact_fit():
    rng = np.random.default_rng(1)
    imp = np.clip(rng.normal(0.05, 0.09, 300_000), -1, 1)
    table = fit_fmr_table_from_counts(_counts(imp, 200_000), model_id="x", protocol="synthetic")
    exact = fit_fmr_table(imp, model_id="x", protocol="synthetic")
    assert table["n_impostor"] == imp.size and table["fmr"] == exact["fmr"]
    for level, t, t_exact in zip(table["fmr"], table["threshold"], exact["threshold"]):
        assert np.mean(imp >= t) <= level
        assert t_exact - 1e-6 <= t <= t_exact + 1e-5 + 1e-6  # at most one bin width above the exact score
    cal = FmrCalibration.from_dict(table)
    assert cal.min_fmr == exact["fmr"][-1]
    with pytest.raises(ValueError, match="at least 1000"):
        fit_fmr_table_from_counts(np.ones(10, np.int64), model_id="x", protocol="p")


def test_fpir_beyond_the_calibration_is_named_with_the_lowest_reachable_fpir():
    cal = FmrCalibration("x", "p", 1_000_000, (1e-2, 1e-3, 1e-5), (0.3, 0.36, 0.46))
    t, exact = search_threshold(cal, 100_000, 0.01)
    assert not exact and t == 0.46
    low = lowest_fpir(cal, 100_000)
    assert low == pytest.approx(1 - (1 - 1e-5) ** 100_000)
    message = beyond_calibration_message(cal, 100_000, 0.01)
    assert "100,000 gallery faces" in message and "1e-05" in message and f"{low:.3g}" in message
    _, exact = search_threshold(cal, 100_000, min(0.99, low * 1.01))
    assert exact
