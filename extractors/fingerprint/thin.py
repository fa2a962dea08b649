"""Thinning of binary ridges to one-pixel-wide skeletons."""
from __future__ import annotations

import numpy as np
from skimage.morphology import skeletonize

__all__ = ["thin_ridges"]


def thin_ridges(ridges: np.ndarray) -> np.ndarray:
    """One-pixel-wide, 8-connected ridge skeleton (Zhang & Suen 1984, via scikit-image).

    Parameters
    ----------
    ridges : (rows, cols) bool

    Returns
    -------
    (rows, cols) bool
    """
    return skeletonize(ridges)
