"""Calibration of face scores to FMR, and 1:N thresholds set on FPIR.

A threshold means something only through the impostor distribution: the
FMR at score ``s`` is the share of different-person comparisons scoring at
or above ``s`` (ISO/IEC 19795-1). The table shipped with the package
(``<model id>.fmr.json`` beside this module) was fitted by ``biomatch bench faces
--write-calibration`` from the impostor scores of the benchmark set; its
``protocol`` field says which pairs.

For 1:N, an FMR threshold is the wrong knob: with independent comparisons
FPIR(N, T) = 1 - (1 - FMR(T))^N, so at N = 1,000 an FMR of 0.1% already
gives an FPIR near 63%. :meth:`FmrCalibration.threshold_for_fpir` inverts
that for the gallery size.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = ["FmrCalibration", "fit_fmr_table", "fit_fmr_table_from_counts", "load_calibration", "fmr_for_fpir",
           "SCORE_BINS"]

#: Histogram bins over [-1, 1] for :func:`fit_fmr_table_from_counts` (width 1e-5).
SCORE_BINS = 200_000

#: FMR levels tabulated by :func:`fit_fmr_table` (those with enough impostor scores).
FMR_LEVELS = tuple(float(f"{m}e{e}") for e in range(-1, -9, -1) for m in (5, 2, 1))


def fmr_for_fpir(fpir: float, gallery_size: int) -> float:
    """The per-comparison FMR giving ``fpir`` over ``gallery_size`` independent comparisons."""
    if not 0.0 < fpir < 1.0:
        raise ValueError(f"fpir must be in (0, 1), got {fpir}")
    if gallery_size < 1:
        raise ValueError(f"gallery_size must be at least 1, got {gallery_size}")
    return -math.expm1(math.log1p(-fpir) / gallery_size)


def fit_fmr_table(impostor_scores: np.ndarray, *, model_id: str, protocol: str) -> dict:
    """Tabulate score thresholds at FMR levels from impostor scores.

    Each threshold is the smallest score with an empirical FMR (share of
    impostor scores >= it) at most the level. Levels below ``10 / n`` are left
    out: too few impostor scores above them to estimate.
    """
    s = np.sort(np.asarray(impostor_scores, np.float64).ravel())[::-1]
    n = s.size
    if n < 1000:
        raise ValueError(f"need at least 1000 impostor scores, got {n}")
    rows = []
    for level in FMR_LEVELS:
        k = int(math.floor(level * n))  # at most k impostors may score >= threshold
        if k < 10:
            break
        rows.append((level, float(np.nextafter(s[k], np.inf))))
    return {"model_id": model_id, "protocol": protocol, "n_impostor": int(n),
            "fmr": [r[0] for r in rows], "threshold": [math.ceil(r[1] * 1e6) / 1e6 for r in rows],  # round up: FMR stays <= level
            "impostor_mean": float(s.mean()), "impostor_std": float(s.std())}


def fit_fmr_table_from_counts(counts: np.ndarray, *, model_id: str, protocol: str) -> dict:
    """Tabulate thresholds at FMR levels from a histogram of impostor scores.

    ``counts[j]`` is the number of impostor scores in bin ``j`` of
    ``len(counts)`` equal bins over [-1, 1] (the last bin includes 1). Each
    threshold is the lowest bin edge with at most ``floor(level * n)``
    scores at or above it, so the empirical FMR stays at or below its level
    (the edge may sit up to one bin width above the exact score). Lets
    calibrations use far more scores than fit in memory.
    """
    counts = np.asarray(counts, np.int64).ravel()
    n = int(counts.sum())
    if n < 1000:
        raise ValueError(f"need at least 1000 impostor scores, got {n}")
    edges = np.linspace(-1.0, 1.0, counts.size + 1)
    tail = np.cumsum(counts[::-1])[::-1]  # tail[j]: scores >= edges[j]
    rows = []
    for level in FMR_LEVELS:
        k = int(math.floor(level * n))
        if k < 10:
            break
        j = int(np.argmax(tail <= k))  # first bin edge with at most k scores at or above it
        rows.append((level, float(edges[j]) if tail[j] <= k else 1.0))
    centres = (edges[:-1] + edges[1:]) / 2
    mean = float((counts * centres).sum() / n)
    return {"model_id": model_id, "protocol": protocol, "n_impostor": n,
            "fmr": [r[0] for r in rows], "threshold": [math.ceil(r[1] * 1e6) / 1e6 for r in rows],
            "impostor_mean": mean, "impostor_std": float(np.sqrt((counts * (centres - mean) ** 2).sum() / n)),
            "bin_width": 2.0 / counts.size}


@dataclass(frozen=True)
class FmrCalibration:
    """Monotone map between cosine score and FMR, interpolated in log10(FMR)."""

    model_id: str
    protocol: str
    n_impostor: int
    fmr: tuple[float, ...]
    threshold: tuple[float, ...]

    def __post_init__(self):
        if len(self.fmr) < 2 or len(self.fmr) != len(self.threshold):
            raise ValueError("calibration table needs at least two (fmr, threshold) rows of equal length")
        if np.any(np.diff(self.threshold) < 0) or np.any(np.diff(self.fmr) > 0):
            raise ValueError("calibration table must have falling FMR and rising thresholds")

    @classmethod
    def from_dict(cls, table: dict) -> "FmrCalibration":
        return cls(table["model_id"], table["protocol"], int(table["n_impostor"]),
                   tuple(table["fmr"]), tuple(table["threshold"]))

    @property
    def min_fmr(self) -> float:
        return self.fmr[-1]

    def fmr_at(self, score) -> np.ndarray | float:
        """Estimated FMR at ``score`` (clipped to the tabulated range; the floor means 'at most')."""
        s = np.asarray(score, np.float64)
        out = 10.0 ** np.interp(s, self.threshold, np.log10(self.fmr), left=np.log10(self.fmr[0]),
                                right=np.log10(self.fmr[-1]))
        return float(out) if out.ndim == 0 else out

    def threshold_at_fmr(self, fmr: float) -> float:
        """Score threshold for a per-comparison FMR within the table's range."""
        if not self.fmr[-1] <= fmr <= self.fmr[0]:
            raise ValueError(f"FMR {fmr:g} outside the calibrated range {self.fmr[-1]:g}..{self.fmr[0]:g}")
        return float(np.interp(np.log10(fmr), np.log10(self.fmr[::-1]), self.threshold[::-1]))

    def threshold_for_fpir(self, fpir: float, gallery_size: int) -> float:
        """1:N threshold giving ``fpir`` for a gallery of ``gallery_size`` faces.

        Raises ``ValueError`` when the needed FMR is below the calibrated range
        (the gallery is too large for the impostor sample; fit on more data).
        """
        return self.threshold_at_fmr(max(fmr_for_fpir(fpir, max(1, gallery_size)), 0.0))


def load_calibration(model_id: str = "sface-2021dec-int8bq", path: str | Path | None = None) -> FmrCalibration:
    """The packaged calibration of ``model_id`` (or the table at ``path``)."""
    if path is not None:
        return FmrCalibration.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    return _packaged(model_id)


@lru_cache(maxsize=8)
def _packaged(model_id: str) -> FmrCalibration:
    ref = resources.files("biomatch.matcher.faces") / f"{model_id}.fmr.json"
    if not ref.is_file():
        raise ValueError(f"no packaged FMR calibration for face model {model_id!r}")
    return FmrCalibration.from_dict(json.loads(ref.read_text(encoding="utf-8")))
