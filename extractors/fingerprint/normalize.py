"""Resampling to the working resolution and local contrast normalisation."""
from __future__ import annotations

import cv2
import numpy as np

from .smoothing import wide_blur
from .params import DEFAULT_PARAMS, WORKING_DPI, ExtractorParams

__all__ = ["resample_to_working_dpi", "normalize_contrast"]


def resample_to_working_dpi(image: np.ndarray, dpi: float, params: ExtractorParams = DEFAULT_PARAMS) -> np.ndarray:
    """Resample a grey image from ``dpi`` to 500 ppi.

    Parameters
    ----------
    image : (rows, cols) uint8
    dpi : float
        Resolution of ``image`` in pixels per inch.

    Returns
    -------
    (rows', cols') uint8
        The image at 500 ppi (the input itself when ``dpi`` is already 500).

    Raises
    ------
    ValueError
        For a resolution outside ``[params.min_dpi, params.max_dpi]`` or an
        image smaller than ``params.min_side_px`` after resampling.
    """
    if not np.isfinite(dpi) or not params.min_dpi <= dpi <= params.max_dpi:
        raise ValueError(f"unsupported resolution {dpi} dpi (supported: {params.min_dpi}..{params.max_dpi})")
    if dpi != WORKING_DPI:
        scale = WORKING_DPI / float(dpi)
        rows = max(1, int(round(image.shape[0] * scale)))
        cols = max(1, int(round(image.shape[1] * scale)))
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        image = cv2.resize(image, (cols, rows), interpolation=interp)
    if min(image.shape) < params.min_side_px:
        raise ValueError(
            f"image is {image.shape[1]}x{image.shape[0]} px at 500 ppi, smaller than "
            f"{params.min_side_px} px: too small to hold a fingerprint"
        )
    return image


def normalize_contrast(image: np.ndarray, params: ExtractorParams = DEFAULT_PARAMS) -> np.ndarray:
    """Zero local mean and unit local standard deviation, dark ridges positive.

    The sign is flipped so that ridges (dark in a print) come out positive.

    Returns
    -------
    (rows, cols) float32
    """
    img = image.astype(np.float32)
    sigma = params.normalize_sigma_px
    mean = wide_blur(img, sigma)
    centred = mean - img
    var = wide_blur(centred * centred, sigma)
    return centred / np.sqrt(var + 25.0)
