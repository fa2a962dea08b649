"""Per-minutia reliability and whole-print quality."""
from __future__ import annotations

import cv2
import numpy as np

__all__ = ["border_distance", "minutia_quality", "print_quality"]


def border_distance(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance in pixels (3x3 mask approximation) from each pixel to the nearest
    background pixel or image edge; 0 on the background."""
    return cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, 3)[1:-1, 1:-1]


def minutia_quality(
    row: np.ndarray, col: np.ndarray, coherence: np.ndarray, enhanced: np.ndarray, mask: np.ndarray,
    border: np.ndarray | None = None,
) -> np.ndarray:
    """Reliability of each minutia, 0 to 100.

    ``border`` is :func:`border_distance` of ``mask`` when the caller already has it.

    The product of three local cues: orientation coherence (clear, parallel
    ridges), ridge contrast after enhancement relative to the print's typical
    contrast, and distance from the foreground border (saturating at 32 px),
    in the spirit of NBIS's ``combined_minutia_quality`` [1]_.

    References
    ----------
    .. [1] K. Ko, "User's Guide to NIST Biometric Image Software (NBIS)", NIST, 2007.
    """
    if row.size == 0:
        return np.zeros(0, np.uint8)
    coh = cv2.blur(coherence, (9, 9))[row, col]
    energy = cv2.blur(np.abs(enhanced), (13, 13))
    sub = energy[::4, ::4][mask[::4, ::4]]
    ref = float(np.percentile(sub, 90)) if sub.size else 1.0
    contrast = np.clip(energy[row, col] / max(ref, 1e-6), 0, 1)
    dist = border_distance(mask) if border is None else border
    border = np.clip(dist[row, col] / 32.0, 0, 1)
    q = 100.0 * np.sqrt(np.clip(coh, 0, 1)) * np.sqrt(contrast) * (0.5 + 0.5 * border)
    return np.clip(np.rint(q), 0, 100).astype(np.uint8)


def print_quality(coherence: np.ndarray, mask: np.ndarray) -> int:
    """Whole-print quality, 0 to 100: mean foreground coherence times an area term.

    The area term reaches 1 at 60,000 foreground pixels (a plain impression of
    about 12 x 12 mm at 500 ppi) and falls linearly below.
    """
    area = int(mask.sum())
    if area == 0:
        return 0
    coh = float(coherence[mask].mean())
    return int(np.clip(round(100.0 * coh * min(1.0, area / 60000.0) ** 0.5 * 1.4), 0, 100))
