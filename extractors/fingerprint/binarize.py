"""Binarisation of the enhanced print and removal of small specks."""
from __future__ import annotations

import cv2
import numpy as np

from .params import DEFAULT_PARAMS, ExtractorParams

__all__ = ["binarize_ridges"]


def binarize_ridges(enhanced: np.ndarray, mask: np.ndarray, params: ExtractorParams = DEFAULT_PARAMS) -> np.ndarray:
    """Ridge pixels of the enhanced print.

    Parameters
    ----------
    enhanced : (rows, cols) float32
        Gabor-enhanced image, ridges positive.
    mask : (rows, cols) bool
        Foreground.

    Returns
    -------
    (rows, cols) bool
        Ridges, with ridge specks and valley holes smaller than
        ``params.min_blob_px`` pixels removed.
    """
    ridges = (enhanced > 0) & mask
    if params.min_blob_px <= 0:
        return ridges
    ridges = _drop_small(ridges, params.min_blob_px)
    valleys = _drop_small(~ridges & mask, params.min_blob_px)
    return mask & ~valleys


def _drop_small(binary: np.ndarray, min_px: int) -> np.ndarray:
    # labels without OpenCV's per-component statistics, areas by bincount: the same
    # result in about two thirds of the time
    count, labels = cv2.connectedComponents(binary.astype(np.uint8), connectivity=8)
    keep = np.bincount(labels.ravel(), minlength=count) >= min_px
    keep[0] = False
    return keep[labels]
