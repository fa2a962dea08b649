"""Foreground segmentation: where the print has ridges."""
from __future__ import annotations

import cv2
import numpy as np

from .smoothing import wide_blur
from .params import DEFAULT_PARAMS, ExtractorParams

__all__ = ["segment_foreground"]


def segment_foreground(
    image: np.ndarray, coherence: np.ndarray, params: ExtractorParams = DEFAULT_PARAMS
) -> np.ndarray:
    """Foreground mask from local ridge contrast and orientation coherence.

    Parameters
    ----------
    image : (rows, cols) uint8
        The print at 500 ppi.
    coherence : (rows, cols) float32
        Orientation coherence in [0, 1] (see :func:`orient.orientation_field`).

    Returns
    -------
    (rows, cols) bool
        True on the fingerprint area. Morphological closing fills gaps, only
        the largest region is kept, holes are filled and the border eroded.

    Notes
    -----
    Local contrast is the smoothed magnitude of a band-pass (difference of
    Gaussians tuned to ridge periods of 5-15 px), which is high on ridges and
    low on both flat background and fine sensor noise; the threshold is a
    fraction of its 98th percentile, so it adapts to each sensor's contrast.
    """
    img = image.astype(np.float32)
    band = cv2.GaussianBlur(img, (0, 0), 1.2) - cv2.GaussianBlur(img, (0, 0), 4.0)
    small = np.sqrt(wide_blur(band * band, params.segment_sigma_px, full=False))
    ref = float(np.percentile(small, 98))
    energy = cv2.resize(small, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    if ref <= 1e-3:
        return np.zeros(image.shape, dtype=bool)
    mask = (energy > params.segment_rel_threshold * ref) & (coherence > params.segment_min_coherence)
    mask = mask.astype(np.uint8)
    k = params.segment_close_px
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
    count, labels = cv2.connectedComponents(mask, connectivity=4)
    if count <= 1:
        return np.zeros(image.shape, dtype=bool)
    largest = 1 + int(np.argmax(np.bincount(labels.ravel(), minlength=count)[1:]))
    mask = (labels == largest).astype(np.uint8)
    mask = _fill_holes(mask)
    e = params.segment_erode_px
    if e > 0:
        mask = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * e + 1, 2 * e + 1)))
    return mask.astype(bool)


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    padded = np.pad(mask, 1)
    flood = padded.copy()
    ff = np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), np.uint8)
    cv2.floodFill(flood, ff, (0, 0), 1)
    holes = (flood == 0)[1:-1, 1:-1]
    return (mask | holes).astype(np.uint8)
