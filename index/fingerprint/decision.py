"""Lights-out thresholds on FPIR at the gallery's size, and candidate strengths."""
from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources

from biomatch.matcher.fingerprint.calibration import ScoreCalibration, default_calibration
from biomatch.matcher.fingerprint.params import MATCHER_VERSION

__all__ = ["fmr_for_fpir", "search_threshold", "mark_calibration", "DEFAULT_FPIR"]

#: Default false-positive identification rate of the lights-out decision.
DEFAULT_FPIR = 0.01


def fmr_for_fpir(fpir: float, comparisons: int) -> float:
    """1:1 FMR that gives ``fpir`` over ``comparisons`` independent impostor comparisons.

    ``FPIR = 1 - (1 - FMR)^N``, so ``FMR = 1 - (1 - FPIR)^(1/N)``.
    """
    if not 0 < fpir < 1:
        raise ValueError(f"FPIR must be in (0, 1), got {fpir}")
    n = max(1, int(comparisons))
    return -math.expm1(math.log1p(-fpir) / n)


@lru_cache(maxsize=1)
def mark_calibration() -> ScoreCalibration:
    """Calibration of mark comparisons (partial probe, any rotation), shipped as ``mark_calibration.json``.

    Built by ``python -m biomatch.benchmarks.calibrate_marks``; refused when
    its matcher version is not the running matcher's.
    """
    text = resources.files(__package__).joinpath("mark_calibration.json").read_text(encoding="utf-8")
    cal = ScoreCalibration.from_json(text)
    if cal.matcher_version != MATCHER_VERSION:
        raise ValueError(f"mark score calibration is for matcher version {cal.matcher_version}, the code is version "
                         f"{MATCHER_VERSION}; rebuild it with python -m biomatch.benchmarks.calibrate_marks")
    return cal


def search_threshold(comparisons: int, fpir: float = DEFAULT_FPIR, calibration: ScoreCalibration | None = None
                     ) -> tuple[float, bool]:
    """Raw score threshold for ``fpir`` at ``comparisons``, and whether the calibration resolves it.

    When the FMR needed is below what the calibration's impostors resolve
    (``1/n``), the threshold at ``1/n`` is returned with ``False``: the true
    FPIR is then higher than asked, and lights-out decisions should not be
    taken on it.
    """
    cal = calibration or default_calibration()
    fmr = fmr_for_fpir(fpir, comparisons)
    floor = 1.0 / cal.n
    return cal.threshold(max(fmr, floor)), fmr >= floor
