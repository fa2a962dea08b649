"""Ridge period (inverse frequency) estimation."""
from __future__ import annotations

import cv2
import numpy as np
import scipy.fft as sfft
from numpy.lib.stride_tricks import sliding_window_view

from .params import DEFAULT_PARAMS, ExtractorParams

__all__ = ["ridge_period"]


def ridge_period(image: np.ndarray, mask: np.ndarray, params: ExtractorParams = DEFAULT_PARAMS) -> float:
    """Dominant ridge period of the print in pixels.

    Parameters
    ----------
    image : (rows, cols) float32
        Contrast-normalised print.
    mask : (rows, cols) bool
        Foreground.

    Returns
    -------
    float
        The period in ``[params.min_period_px, params.max_period_px]``;
        ``params.default_period_px`` when the foreground is too small.

    Notes
    -----
    Square blocks tiling the foreground are Hann-windowed and transformed; the
    power spectra are summed and averaged over rings of equal radius, and the
    period is the ring of highest power (refined by a parabola through its
    neighbours). Summing spectra rather than images keeps ridges of different
    orientations from cancelling.

    Each ring's mean power is weighted by its frequency before the peak is
    sought: a first-order whitening of the broad low-frequency background of a
    print's spectrum (uneven pressure, blotches, a faint or swept print), which
    otherwise pulls the peak towards long periods and can outweigh the ridge
    peak altogether (power spectra of natural images fall roughly as
    ``1/f**2``, van der Schaaf & van Hateren 1996). On the six FVC B sets the
    estimates of the eight impressions of a finger agree better with the
    weighting (mean standard deviation per finger 0.34 -> 0.27 px on
    FVC2002 DB1, 1.09 -> 0.75 px on FVC2004 DB3), and all the benchmark's
    EERs fell (docs/fingerprint.md).

    References
    ----------
    .. [1] A. van der Schaaf, J. H. van Hateren, "Modelling the power spectra
       of natural images: statistics and information", Vision Research 36(17),
       1996.
    .. [2] S. Chikkerur, A. N. Cartwright, V. Govindaraju, "Fingerprint
       enhancement using STFT analysis", Pattern Recognition 40(1), 2007.
    """
    b = params.frequency_block_px
    rows, cols = image.shape
    if rows < b or cols < b:
        return params.default_period_px
    # share of foreground in every b x b block on a b/2 grid, from an integral image
    integral = cv2.integral(mask.astype(np.uint8))
    r0 = np.arange(0, rows - b + 1, b // 2)
    c0 = np.arange(0, cols - b + 1, b // 2)
    area = (integral[r0[:, None] + b, c0[None] + b] - integral[r0[:, None], c0[None] + b]
            - integral[r0[:, None] + b, c0[None]] + integral[r0[:, None], c0[None]])
    sel_r, sel_c = np.nonzero(area > 0.9 * b * b)
    if sel_r.size < 2:
        return params.default_period_px
    blocks = sliding_window_view(image, (b, b))[r0[sel_r], c0[sel_c]]
    window = np.outer(np.hanning(b), np.hanning(b)).astype(np.float32)
    stack = blocks * window
    power = (np.abs(sfft.rfft2(stack, workers=1)) ** 2).sum(axis=0)
    fy = np.fft.fftfreq(b)[:, None]
    fx = np.fft.rfftfreq(b)[None, :]
    radius = np.sqrt(fx * fx + fy * fy) * b  # cycles per block
    ring = np.rint(radius).astype(int)
    profile = np.bincount(ring.ravel(), weights=power.ravel())
    counts = np.bincount(ring.ravel())
    profile = profile / np.maximum(counts, 1) * np.arange(profile.size)  # ring mean power times frequency
    lo = int(np.ceil(b / params.max_period_px))
    hi = int(np.floor(b / params.min_period_px))
    hi = min(hi, len(profile) - 2)
    if hi <= lo:
        return params.default_period_px
    k = lo + int(np.argmax(profile[lo:hi + 1]))
    y0, y1, y2 = profile[k - 1], profile[k], profile[k + 1]
    denom = y0 - 2 * y1 + y2
    shift = 0.5 * (y0 - y2) / denom if denom < 0 else 0.0
    freq = (k + np.clip(shift, -0.5, 0.5)) / b
    return float(np.clip(1.0 / freq, params.min_period_px, params.max_period_px))
