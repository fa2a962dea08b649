"""Error-rate read-outs and the FVC pair protocol."""
from __future__ import annotations

import numpy as np
import pytest

from biomatch.benchmarks.fvc import fvc_pairs
from biomatch.benchmarks.metrics import error_rates, fmr_threshold


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
