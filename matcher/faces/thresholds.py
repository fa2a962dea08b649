"""Default decision thresholds of the face matcher, derived from the calibration.

* 1:1 verify: the score at FMR :data:`DEFAULT_VERIFY_FMR`.
* 1:N search: the score at which a gallery of N faces gives FPIR
  :data:`DEFAULT_SEARCH_FPIR` (see :meth:`FmrCalibration.threshold_for_fpir`).
  When the gallery is too large for the calibration's range, the highest
  calibrated threshold is used and the result says so
  (:func:`beyond_calibration_message`).
"""
from __future__ import annotations

import math

from .calibration import FmrCalibration, fmr_for_fpir

__all__ = ["DEFAULT_VERIFY_FMR", "DEFAULT_SEARCH_FPIR", "verify_threshold", "search_threshold", "lowest_fpir",
           "beyond_calibration_message"]

DEFAULT_VERIFY_FMR = 1e-3
DEFAULT_SEARCH_FPIR = 0.01


def verify_threshold(calibration: FmrCalibration, fmr: float = DEFAULT_VERIFY_FMR) -> float:
    """1:1 threshold at a per-comparison FMR."""
    return calibration.threshold_at_fmr(fmr)


def search_threshold(calibration: FmrCalibration, gallery_size: int,
                     fpir: float = DEFAULT_SEARCH_FPIR) -> tuple[float, bool]:
    """1:N threshold for FPIR at this gallery size, and whether it is exact (False: clamped at the table's end)."""
    need = fmr_for_fpir(fpir, max(1, gallery_size))
    if need < calibration.min_fmr:
        return float(calibration.threshold[-1]), False
    return calibration.threshold_at_fmr(min(need, calibration.fmr[0])), True


def lowest_fpir(calibration: FmrCalibration, gallery_size: int) -> float:
    """The smallest FPIR the calibration can set at this gallery size (its lowest FMR, N comparisons)."""
    return -math.expm1(max(1, gallery_size) * math.log1p(-calibration.min_fmr))


def beyond_calibration_message(calibration: FmrCalibration, gallery_size: int, fpir: float) -> str:
    """Why FPIR ``fpir`` cannot be set for ``gallery_size`` faces, and what can."""
    need = fmr_for_fpir(fpir, max(1, gallery_size))
    return (f"FPIR {fpir:g} at {gallery_size:,} gallery faces needs a per-comparison FMR of {need:.2g}, below the "
            f"calibrated range (down to FMR {calibration.min_fmr:g}, from {calibration.n_impostor:,} impostor scores); "
            f"the lowest FPIR it can set at this size is {lowest_fpir(calibration, gallery_size):.3g}, "
            f"or give a score threshold")
