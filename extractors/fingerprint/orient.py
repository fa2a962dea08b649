"""Ridge orientation field and its coherence, from the gradient structure tensor."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .params import DEFAULT_PARAMS, ExtractorParams
from .smoothing import wide_blur

__all__ = ["OrientationField", "orientation_field"]


@dataclass(frozen=True, eq=False)
class OrientationField:
    """A smooth ridge-orientation field kept on a reduced grid, sampled where needed.

    Attributes
    ----------
    c2, s2 : (r, c) float32
        Smoothed doubled-angle tensor components ``Gxx - Gyy`` and ``2 Gxy``
        on the reduced grid.
    coherence_small : (r, c) float32
        Coherence in [0, 1] on the reduced grid.
    shape : (rows, cols)
        Full-resolution image shape.
    """

    c2: np.ndarray
    s2: np.ndarray
    coherence_small: np.ndarray
    shape: tuple[int, int]

    def _sample(self, arrays, rows, cols):
        rows = np.asarray(rows, np.float64)
        cols = np.asarray(cols, np.float64)
        h, w = self.c2.shape
        u = np.clip((rows + 0.5) * (h / self.shape[0]) - 0.5, 0, h - 1)
        v = np.clip((cols + 0.5) * (w / self.shape[1]) - 0.5, 0, w - 1)
        i0 = np.floor(u).astype(np.int64)
        j0 = np.floor(v).astype(np.int64)
        i1 = np.minimum(i0 + 1, h - 1)
        j1 = np.minimum(j0 + 1, w - 1)
        du = u - i0
        dv = v - j0
        return [(a[i0, j0] * (1 - du) + a[i1, j0] * du) * (1 - dv) + (a[i0, j1] * (1 - du) + a[i1, j1] * du) * dv
                for a in arrays]

    def theta_at(self, rows, cols) -> np.ndarray:
        """Ridge direction in ``[0, pi)`` at full-resolution positions (bilinear on the tensor)."""
        c2, s2 = self._sample((self.c2, self.s2), rows, cols)
        # the gradient direction is 0.5 * atan2(s2, c2); ridges run perpendicular to it
        return np.mod(0.5 * np.arctan2(s2, c2) + np.pi / 2, np.pi).astype(np.float32)

    def theta_grid(self, step: int) -> np.ndarray:
        """Ridge direction sampled at ``(step // 2 + k * step)`` in both axes."""
        rows = np.arange(step // 2, self.shape[0], step)
        cols = np.arange(step // 2, self.shape[1], step)
        return self.theta_at(rows[:, None], cols[None, :])

    def theta_full(self) -> np.ndarray:
        """Ridge direction at every pixel (for pictures; the pipeline samples instead)."""
        return self.theta_at(np.arange(self.shape[0])[:, None], np.arange(self.shape[1])[None, :])

    def coherence_full(self) -> np.ndarray:
        """Coherence at every pixel, linearly interpolated."""
        return cv2.resize(self.coherence_small, (self.shape[1], self.shape[0]), interpolation=cv2.INTER_LINEAR)


def orientation_field(image: np.ndarray, params: ExtractorParams = DEFAULT_PARAMS) -> OrientationField:
    """Ridge orientation and coherence of a print.

    Parameters
    ----------
    image : (rows, cols) float32
        Contrast-normalised print (see :func:`normalize.normalize_contrast`).

    Returns
    -------
    OrientationField

    Notes
    -----
    The averaged squared gradient (Kass & Witkin 1987; Bazen & Gerez 2002):
    gradients at full resolution, tensor products averaged on a 4x reduced
    grid, coherence ``sqrt((Gxx-Gyy)^2 + 4 Gxy^2) / (Gxx+Gyy)``, then a
    Gaussian smoothing of the doubled-angle field that bridges scars and
    noisy patches.

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
    gxx = gx * gx
    gyy = gy * gy
    t = params.tensor_sigma_px
    c2 = wide_blur(gxx - gyy, t, full=False)
    s2 = wide_blur(2.0 * gx * gy, t, full=False)
    energy = wide_blur(gxx + gyy, t, full=False)
    coherence = np.clip(np.sqrt(c2 * c2 + s2 * s2) / (energy + 1e-6), 0, 1).astype(np.float32)
    o = params.orient_smooth_sigma_px / 4.0
    c2 = cv2.GaussianBlur(c2, (0, 0), o, borderType=cv2.BORDER_REFLECT)
    s2 = cv2.GaussianBlur(s2, (0, 0), o, borderType=cv2.BORDER_REFLECT)
    return OrientationField(c2=c2, s2=s2, coherence_small=coherence, shape=image.shape)
