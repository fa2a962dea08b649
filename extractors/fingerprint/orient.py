"""Ridge orientation field and its coherence, from the gradient structure tensor."""
from __future__ import annotations

import cv2
import numpy as np

from .smoothing import wide_blur
from .params import DEFAULT_PARAMS, ExtractorParams

__all__ = ["orientation_field"]


def orientation_field(
    image: np.ndarray, params: ExtractorParams = DEFAULT_PARAMS
) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-wise ridge orientation and coherence.

    Parameters
    ----------
    image : (rows, cols) float32
        Contrast-normalised print (see :func:`normalize.normalize_contrast`).

    Returns
    -------
    theta : (rows, cols) float32
        Ridge direction in radians, in ``[0, pi)``, image coordinates (y down).
    coherence : (rows, cols) float32
        ``sqrt((Gxx-Gyy)^2 + 4 Gxy^2) / (Gxx+Gyy)`` in ``[0, 1]``, before the
        final smoothing; 1 for perfectly parallel ridges.

    Notes
    -----
    The averaged squared gradient (Kass & Witkin 1987; Bazen & Gerez 2002) is
    followed by a Gaussian smoothing of the coherence-weighted doubled-angle
    vector field, which bridges scars and noisy patches.

    References
    ----------
    .. [1] A. M. Bazen, S. H. Gerez, "Systematic methods for the computation of
       the directional fields and singular points of fingerprints", IEEE TPAMI
       24(7), 2002.
    """
    s = params.gradient_sigma_px
    smooth = cv2.GaussianBlur(image, (0, 0), s) if s > 0 else image
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)
    rows, cols = image.shape
    t = params.tensor_sigma_px
    c2 = wide_blur(gx * gx - gy * gy, t, full=False)
    s2 = wide_blur(2.0 * gx * gy, t, full=False)
    energy = wide_blur(gx * gx + gy * gy, t, full=False)
    coherence = np.sqrt(c2 * c2 + s2 * s2) / (energy + 1e-6)
    o = params.orient_smooth_sigma_px / 4.0
    c2 = cv2.GaussianBlur(c2, (0, 0), o, borderType=cv2.BORDER_REFLECT)
    s2 = cv2.GaussianBlur(s2, (0, 0), o, borderType=cv2.BORDER_REFLECT)
    size = (cols, rows)
    c2 = cv2.resize(c2, size, interpolation=cv2.INTER_LINEAR)
    s2 = cv2.resize(s2, size, interpolation=cv2.INTER_LINEAR)
    coherence = cv2.resize(coherence, size, interpolation=cv2.INTER_LINEAR)
    # gradient direction is 0.5*atan2(s2, c2); ridges run perpendicular to it
    theta = 0.5 * np.arctan2(s2, c2) + np.pi / 2
    theta = np.mod(theta, np.pi).astype(np.float32)
    return theta, np.clip(coherence, 0, 1).astype(np.float32)
