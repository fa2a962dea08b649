"""Lights-out thresholds on FPIR at the gallery's size, and candidate strengths."""
from __future__ import annotations

import math

from biomatch.matcher.fingerprint.calibration import default_calibration

__all__ = ["fmr_for_fpir", "search_threshold", "DEFAULT_FPIR"]

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


def search_threshold(comparisons: int, fpir: float = DEFAULT_FPIR) -> tuple[float, bool]:
    """Raw score threshold for ``fpir`` at ``comparisons``, and whether the calibration resolves it.

    When the FMR needed is below what the calibration's impostors resolve
    (``1/n``), the threshold at ``1/n`` is returned with ``False``: the true
    FPIR is then higher than asked, and lights-out decisions should not be
    taken on it.
    """
    cal = default_calibration()
    fmr = fmr_for_fpir(fpir, comparisons)
    floor = 1.0 / cal.n
    return cal.threshold(max(fmr, floor)), fmr >= floor
