"""Singular points (cores and deltas) by the Poincaré index of the orientation field."""
from __future__ import annotations

import numpy as np

from .orient import OrientationField
from .params import DEFAULT_PARAMS, ExtractorParams

__all__ = ["singular_points"]


def singular_points(
    field: OrientationField, mask: np.ndarray, params: ExtractorParams = DEFAULT_PARAMS
) -> tuple[np.ndarray, np.ndarray]:
    """Cores and deltas of the orientation field.

    Parameters
    ----------
    field : OrientationField
        Ridge orientation.
    mask : (rows, cols) bool
        Foreground.

    Returns
    -------
    cores, deltas : (k, 3) float32
        Rows ``(x, y, angle)``; the angle is NaN (not estimated).

    Notes
    -----
    The orientation is sampled on a grid of ``params.singular_block_px``; the
    Poincaré index sums the wrapped orientation differences around each
    2x2 cell of samples: +pi marks a core, -pi a delta (Kawagoe & Tojo 1984;
    Bazen & Gerez 2002). Adjacent detections are merged into their centroid
    and points in unreliable or border areas are dropped.
    """
    b = params.singular_block_px
    half = b // 2
    t = field.theta_grid(b).astype(np.float64)
    m = mask[half::b, half::b]
    loop = [t[:-1, :-1], t[:-1, 1:], t[1:, 1:], t[1:, :-1]]
    total = np.zeros(loop[0].shape)
    for k in range(4):
        d = loop[(k + 1) % 4] - loop[k]
        d = np.where(d > np.pi / 2, d - np.pi, d)
        d = np.where(d < -np.pi / 2, d + np.pi, d)
        total += d
    ok = m[:-1, :-1] & m[:-1, 1:] & m[1:, 1:] & m[1:, :-1]
    out = []
    for sign in (1, -1):
        hits = ok & (np.abs(total - sign * np.pi) < 0.5)
        out.append(_merge(np.nonzero(hits), b, half))
    return out[0], out[1]


def _merge(hits, b: int, half: int) -> np.ndarray:
    rs, cs = hits
    if rs.size == 0:
        return np.zeros((0, 3), np.float32)
    points = np.stack([cs * b + half + b / 2, rs * b + half + b / 2], axis=1).astype(np.float64)
    groups: list[list[int]] = []
    for i, p in enumerate(points):
        for g in groups:
            if np.hypot(*(points[g].mean(axis=0) - p)) < 2.5 * b:
                g.append(i)
                break
        else:
            groups.append([i])
    rows = [(*points[g].mean(axis=0), np.nan) for g in groups]
    return np.asarray(rows, np.float32).reshape(-1, 3)
