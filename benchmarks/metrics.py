"""Verification error rates (ISO/IEC 19795-1) from genuine and impostor scores.

ROC points come from scikit-learn's ``roc_curve``; only the read-outs that
biometrics adds (EER, FNMR at a fixed FMR, ZeroFMR) are computed here.
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_curve

__all__ = ["error_rates", "det_points", "fmr_threshold", "finger_bootstrap_eer"]


def det_points(genuine: np.ndarray, impostor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FMR, FNMR and the thresholds, one point per distinct score (higher = more similar).

    At threshold t a comparison is accepted when ``score >= t``.
    """
    genuine = np.asarray(genuine, np.float64)
    impostor = np.asarray(impostor, np.float64)
    if genuine.size == 0 or impostor.size == 0:
        raise ValueError("need at least one genuine and one impostor score")
    labels = np.concatenate([np.ones(genuine.size), np.zeros(impostor.size)])
    scores = np.concatenate([genuine, impostor])
    fmr, tmr, thresholds = roc_curve(labels, scores, drop_intermediate=False)
    return fmr, 1.0 - tmr, thresholds


def error_rates(genuine: np.ndarray, impostor: np.ndarray) -> dict[str, float]:
    """EER, FMR100, FMR1000 and ZeroFMR (all as fractions).

    Notes
    -----
    The EER is read where FNMR and FMR cross, by linear interpolation between
    the two ROC points around the crossing. FMRx is the lowest FNMR with
    ``FMR <= 1/x``; ZeroFMR the lowest FNMR with no false match (FVC
    definitions, Maio et al. 2002).
    """
    fmr, fnmr, _ = det_points(genuine, impostor)
    diff = fnmr - fmr  # decreasing from +1 to -1 along the ROC
    k = int(np.argmax(diff <= 0))
    if k == 0:
        eer = float(fmr[0])
    else:
        d0, d1 = diff[k - 1], diff[k]
        w = d0 / (d0 - d1) if d0 != d1 else 0.5
        eer = float(fmr[k - 1] + w * (fmr[k] - fmr[k - 1]))
    def at(limit):
        ok = fmr <= limit + 1e-12
        return float(fnmr[ok].min()) if ok.any() else 1.0
    return {"eer": eer, "fmr100": at(0.01), "fmr1000": at(0.001), "zero_fmr": at(0.0)}


def fmr_threshold(impostor: np.ndarray, fmr: float) -> float:
    """Smallest threshold whose false match rate on ``impostor`` is at most ``fmr``."""
    imp = np.sort(np.asarray(impostor, np.float64))
    if imp.size == 0:
        raise ValueError("no impostor scores")
    allowed = int(np.floor(fmr * imp.size))
    if allowed >= imp.size:
        return float(imp[0])
    return float(np.nextafter(imp[imp.size - 1 - allowed], np.inf))


def finger_bootstrap_eer(genuine: dict, impostor: dict, *, resamples: int = 1000,
                         seed: int = 0) -> np.ndarray:
    """EERs of bootstrap replicates that resample fingers, not comparisons.

    Comparisons that share a finger are not independent, so each replicate
    draws the set's fingers with replacement and keeps every comparison
    among the drawn ones (the "subsets bootstrap" of Bolle, Ratha and
    Pankanti [1]_): the genuine scores of each drawn finger, and the impostor
    scores of each pair of draws that are different fingers.

    Parameters
    ----------
    genuine : dict
        Finger -> its genuine scores.
    impostor : dict
        ``(finger_a, finger_b)`` with ``finger_a < finger_b`` -> the impostor scores between them.
    resamples : int
    seed : int
        Seed of the resampling, so a report can be reproduced.

    Returns
    -------
    (resamples,) float64
        One EER per replicate (replicates with no genuine or no impostor score are skipped).

    References
    ----------
    .. [1] R. M. Bolle, N. K. Ratha, S. Pankanti, "Error analysis of pattern recognition systems:
       the subsets bootstrap", Computer Vision and Image Understanding 93(1), 2004.
    """
    fingers = sorted(genuine)
    if len(fingers) < 2:
        raise ValueError("the finger bootstrap needs at least two fingers")
    rng = np.random.default_rng(seed)
    empty = np.zeros(0, np.float64)
    gen_of = {f: np.asarray(genuine[f], np.float64) for f in fingers}
    imp_of = {key: np.asarray(v, np.float64) for key, v in impostor.items()}
    out = []
    for _ in range(resamples):
        draw = [fingers[i] for i in rng.integers(0, len(fingers), len(fingers))]
        gen = np.concatenate([gen_of[f] for f in draw])
        imp = np.concatenate([imp_of.get((min(a, b), max(a, b)), empty)
                              for i, a in enumerate(draw) for b in draw[i + 1:] if a != b] or [empty])
        if gen.size and imp.size:
            out.append(error_rates(gen, imp)["eer"])
    return np.asarray(out, np.float64)
