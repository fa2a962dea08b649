"""Error-rate read-outs and the FVC pair protocol."""
from __future__ import annotations

import numpy as np
import pytest

from biomatch.benchmarks.fvc import fvc_pairs
from biomatch.benchmarks.metrics import error_rates, finger_bootstrap_eer, fmr_threshold


def test_fvc_protocol_pair_counts():
    keys = [(f, i) for f in range(101, 111) for i in range(1, 9)]
    genuine, impostor, impostor_all = fvc_pairs(keys)
    assert (len(genuine), len(impostor), len(impostor_all)) == (280, 45, 2880)
    assert all(a[0] == b[0] for a, b in genuine)
    assert all(a[0] != b[0] and a[1] == b[1] == 1 for a, b in impostor)


def test_perfect_separation_has_zero_errors():
    r = error_rates(np.array([0.8, 0.9, 0.95]), np.array([0.1, 0.2, 0.3]))
    assert r == {"eer": 0.0, "fmr100": 0.0, "fmr1000": 0.0, "zero_fmr": 0.0}


def test_known_overlap():
    impostor = np.arange(0, 100) / 100.0  # 0.00 .. 0.99
    genuine = np.arange(95, 195) / 100.0  # 0.95 .. 1.94: five genuine scores below the top impostor
    r = error_rates(genuine, impostor)
    assert r["eer"] == pytest.approx(0.025, abs=0.006)
    assert r["zero_fmr"] == pytest.approx(0.05)
    assert r["fmr100"] == pytest.approx(0.04)  # FMR 1% admits the impostor at 0.99


def test_fmr_threshold():
    imp = np.arange(1000) / 1000.0
    t = fmr_threshold(imp, 0.01)
    assert (imp >= t).mean() <= 0.01


def _scores(separated: bool, fingers: int = 10):
    rng = np.random.default_rng(1)
    genuine = {f: rng.normal(0.6, 0.1, 28) for f in range(fingers)}
    if not separated:
        genuine[3] = rng.normal(0.2, 0.1, 28)  # one hard finger, like a very dry print
    impostor = {(a, b): rng.normal(0.1, 0.05, 64) for a in range(fingers) for b in range(a + 1, fingers)}
    return genuine, impostor


def test_finger_bootstrap_of_separated_scores_is_zero():
    genuine, impostor = _scores(separated=True)
    eers = finger_bootstrap_eer(genuine, impostor, resamples=50)
    assert eers.shape == (50,) and np.all(eers == 0.0)


def test_finger_bootstrap_brackets_the_eer_and_is_reproducible():
    genuine, impostor = _scores(separated=False)
    point = error_rates(np.concatenate(list(genuine.values())), np.concatenate(list(impostor.values())))["eer"]
    eers = finger_bootstrap_eer(genuine, impostor, resamples=300, seed=5)
    lo, hi = np.percentile(eers, [2.5, 97.5])
    assert lo < point < hi
    assert lo == 0.0  # a third of the replicates leave the hard finger out
    np.testing.assert_array_equal(eers, finger_bootstrap_eer(genuine, impostor, resamples=300, seed=5))
    assert not np.array_equal(eers, finger_bootstrap_eer(genuine, impostor, resamples=300, seed=6))


def test_finger_bootstrap_never_pairs_a_finger_with_itself():
    """Self-pairs would need an impostor score a finger cannot have; a drawn twice finger adds none."""
    genuine = {0: [0.9], 1: [0.8]}
    impostor = {(0, 1): [0.85]}
    eers = finger_bootstrap_eer(genuine, impostor, resamples=200)
    # replicates drawing one finger twice have no impostor score and are skipped
    assert 0 < eers.size < 200 and set(np.round(eers, 6)) <= {0.0, 0.5}
    with pytest.raises(ValueError, match="two fingers"):
        finger_bootstrap_eer({0: [0.9]}, {}, resamples=3)
