"""Calibration of raw fingerprint scores to false match rates.

A raw score means nothing by itself; the FMR at that score, estimated from a
large set of impostor comparisons, does: a threshold set at "FMR 1e-4" means
the same thing whichever matcher version or data produced the score. The
table ships with the package (``calibration.json``) and is rebuilt with
``python -m biomatch.benchmarks.calibrate_fingerprint`` whenever the matcher
changes (its ``matcher_version`` must equal :data:`MATCHER_VERSION`).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from .params import MATCHER_VERSION

__all__ = ["ScoreCalibration", "default_calibration", "DEFAULT_DECISION_FMR", "Strength"]

#: FMR of the default 1:1 decision threshold.
DEFAULT_DECISION_FMR = 1e-3


@dataclass(frozen=True)
class Strength:
    """A score read through the calibration.

    Attributes
    ----------
    score : float
        Raw matcher score.
    fmr : float
        Estimated false match rate at this score: the share of calibration
        impostor comparisons scoring at or above it.
    fmr_is_bound : bool
        True when no calibration impostor reached the score: ``fmr`` is then
        the upper bound ``1 / n_impostors``.
    strength : float
        ``-log10(fmr)``: 3 means one false match in a thousand impostors.
    """

    score: float
    fmr: float
    fmr_is_bound: bool
    strength: float


@dataclass(frozen=True, eq=False)
class ScoreCalibration:
    """Impostor score distribution of one matcher version."""

    matcher_version: int
    impostor_scores: np.ndarray  # sorted ascending
    source: str

    def __post_init__(self):
        scores = np.sort(np.asarray(self.impostor_scores, np.float64))
        if scores.size < 100:
            raise ValueError(f"calibration needs at least 100 impostor scores, got {scores.size}")
        object.__setattr__(self, "impostor_scores", scores)

    @property
    def n(self) -> int:
        return int(self.impostor_scores.size)

    def fmr(self, score: float) -> tuple[float, bool]:
        """FMR at ``score`` and whether it is only an upper bound."""
        above = self.n - int(np.searchsorted(self.impostor_scores, score, side="left"))
        if above == 0:
            return 1.0 / self.n, True
        return above / self.n, False

    def strength(self, score: float) -> Strength:
        """Read ``score`` as an FMR and a strength ``-log10(FMR)``."""
        fmr, bound = self.fmr(score)
        return Strength(float(score), fmr, bound, -math.log10(fmr))

    def threshold(self, fmr: float) -> float:
        """Lowest score whose estimated FMR is at most ``fmr``.

        Raises
        ------
        ValueError
            If ``fmr`` is outside (0, 1] or below the resolution ``1 / n``.
        """
        if not 0 < fmr <= 1:
            raise ValueError(f"FMR must be in (0, 1], got {fmr}")
        if fmr < 1.0 / self.n:
            raise ValueError(f"FMR {fmr:g} is below what {self.n} calibration impostors can resolve (1/{self.n})")
        allowed = int(math.floor(fmr * self.n))
        value = self.impostor_scores[self.n - 1 - allowed] if allowed < self.n else self.impostor_scores[0]
        return float(np.nextafter(value, np.inf))

    def to_json(self) -> str:
        return json.dumps({
            "matcher_version": self.matcher_version,
            "source": self.source,
            "impostor_scores": [round(float(s), 6) for s in self.impostor_scores],
        })

    @classmethod
    def from_json(cls, text: str) -> "ScoreCalibration":
        data = json.loads(text)
        return cls(int(data["matcher_version"]), np.asarray(data["impostor_scores"], np.float64), str(data["source"]))


@lru_cache(maxsize=1)
def default_calibration() -> ScoreCalibration:
    """The calibration shipped with the package, checked against the matcher version.

    Raises
    ------
    ValueError
        When the shipped table was built by another matcher version: scores
        would be mis-read, so this is refused rather than guessed.
    """
    text = resources.files(__package__).joinpath("calibration.json").read_text(encoding="utf-8")
    cal = ScoreCalibration.from_json(text)
    if cal.matcher_version != MATCHER_VERSION:
        raise ValueError(
            f"fingerprint score calibration is for matcher version {cal.matcher_version}, the code is version "
            f"{MATCHER_VERSION}; rebuild it with python -m biomatch.benchmarks.calibrate_fingerprint"
        )
    return cal
