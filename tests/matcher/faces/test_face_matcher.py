import numpy as np
import pytest

from biomatch.extractors.faces import extract_faces
from biomatch.matcher.faces import FmrCalibration, fit_fmr_table, fmr_for_fpir, load_calibration, prepare, score
from biomatch.matcher.faces.thresholds import search_threshold, verify_threshold

from shared_data import lfw

PAIRS_SAME = [("Aaron_Sorkin/Aaron_Sorkin_0001.jpg", "Aaron_Sorkin/Aaron_Sorkin_0002.jpg"),
              ("Abdullah_Gul/Abdullah_Gul_0001.jpg", "Abdullah_Gul/Abdullah_Gul_0002.jpg")]
PAIRS_DIFF = [("Aaron_Sorkin/Aaron_Sorkin_0001.jpg", "Aaron_Pena/Aaron_Pena_0001.jpg"),
              ("Abdullah_Gul/Abdullah_Gul_0001.jpg", "Abbas_Kiarostami/Abbas_Kiarostami_0001.jpg")]


def _template(rel):
    return extract_faces(lfw(rel)).accepted[0]


def test_same_person_above_default_threshold_different_below():
    t = verify_threshold(load_calibration())
    for a, b in PAIRS_SAME:
        assert score(prepare(_template(a)), _template(b)) >= t, (a, b)
    for a, b in PAIRS_DIFF:
        assert score(prepare(_template(a)), _template(b)) < t, (a, b)


def test_packaged_calibration_is_monotone_and_names_its_protocol():
    cal = load_calibration()
    assert cal.model_id == "sface-2021dec-int8bq" and "pairs" in cal.protocol and cal.n_impostor > 1_000_000
    assert cal.fmr_at(cal.threshold_at_fmr(1e-3)) == pytest.approx(1e-3, rel=1e-6)
    assert cal.fmr_at(0.9) == cal.min_fmr and cal.fmr_at(-0.5) == cal.fmr[0]
    with pytest.raises(ValueError, match="outside the calibrated range"):
        cal.threshold_at_fmr(1e-12)


def test_fit_table_matches_empirical_fmr():
    rng = np.random.default_rng(0)
    imp = rng.normal(0.1, 0.09, 200_000)
    cal = FmrCalibration.from_dict(fit_fmr_table(imp, model_id="x", protocol="synthetic"))
    for level in (1e-2, 1e-3, 1e-4):
        t = cal.threshold_at_fmr(level)
        assert np.mean(imp >= t) <= level
        assert np.mean(imp >= t) > level * 0.8
    with pytest.raises(ValueError, match="at least 1000"):
        fit_fmr_table(imp[:10], model_id="x", protocol="p")


def test_fpir_threshold_is_stricter_than_fmr_threshold_for_large_galleries():
    assert fmr_for_fpir(0.01, 1) == pytest.approx(0.01)
    assert 1 - (1 - fmr_for_fpir(0.01, 1000)) ** 1000 == pytest.approx(0.01)
    cal = load_calibration()
    t_small, exact_small = search_threshold(cal, 10)
    t_big, exact_big = search_threshold(cal, 1000)
    assert exact_small and exact_big and t_big > t_small > verify_threshold(cal, 1e-2)
    _, exact_huge = search_threshold(cal, 10**9)
    assert not exact_huge  # beyond the calibrated range: flagged, not silently extrapolated


def test_score_refuses_other_models():
    a = _template(PAIRS_SAME[0][0])
    from dataclasses import replace

    with pytest.raises(ValueError, match="cannot compare"):
        score(prepare(a), replace(a, model_id="other"))
    with pytest.raises(ValueError, match="FaceTemplate"):
        prepare(a.embedding)
