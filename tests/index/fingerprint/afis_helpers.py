"""Helpers shared by the AFIS tests: FVC fingers, simulated marks."""
from __future__ import annotations

import math

import numpy as np

from biomatch.extractors.fingerprint.template import FingerprintTemplate

SET = "fvc2002_db1_b"
FINGERS = (101, 102, 103, 104, 105)


def rotated_window(t: FingerprintTemplate, frac: float = 0.45, degrees: float = 90.0) -> FingerprintTemplate:
    """A simulated mark: the minutiae in a central window of ``frac`` of the print area, rotated."""
    cx, cy = np.median(t.x), np.median(t.y)
    half_w, half_h = t.width * math.sqrt(frac) / 2, t.height * math.sqrt(frac) / 2
    keep = (np.abs(t.x - cx) <= half_w) & (np.abs(t.y - cy) <= half_h)
    w = t.select(keep)
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    x0, y0 = w.x - cx, w.y - cy
    size = int(max(t.width, t.height) * 1.5)
    x = c * x0 - s * y0 + size / 2
    y = s * x0 + c * y0 + size / 2
    return FingerprintTemplate(x=x, y=y, angle=np.mod(w.angle + a, 2 * math.pi), kind=w.kind, quality=w.quality,
                               width=size, height=size, dpi=500)
