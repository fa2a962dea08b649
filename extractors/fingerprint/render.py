"""Pictures for examiners and developers: stage images and minutiae overlays."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import cv2
import numpy as np

from .template import FingerprintTemplate, MinutiaKind

__all__ = ["draw_minutiae", "to_picture", "write_trace"]

_COLOURS = {int(MinutiaKind.ENDING): (0, 0, 255), int(MinutiaKind.BIFURCATION): (0, 170, 0), int(MinutiaKind.OTHER): (255, 0, 0)}


def to_picture(key: str, value) -> np.ndarray | None:
    """Render one traced stage as an 8-bit image, or ``None`` if it is not an image."""
    if not isinstance(value, np.ndarray) or value.ndim != 2:
        return None
    if value.dtype == bool:
        return np.where(value, 0, 255).astype(np.uint8) if key in ("ridges", "skeleton") else value.astype(np.uint8) * 255
    if key == "orientation":
        return np.rint(value / np.pi * 255).astype(np.uint8)
    if key == "coherence":
        return np.clip(value * 255, 0, 255).astype(np.uint8)
    v = value.astype(np.float64)
    if key in ("normalized", "enhanced"):
        v = -v  # ridges dark, as on the print
    lo, hi = np.percentile(v, 1), np.percentile(v, 99)
    return np.clip((v - lo) / max(hi - lo, 1e-9) * 255, 0, 255).astype(np.uint8)


def draw_minutiae(background: np.ndarray, template: FingerprintTemplate, *, length_px: float = 12.0) -> np.ndarray:
    """Draw minutiae on a grey image: red endings, green bifurcations, a tick for direction.

    Cores are drawn as blue circles, deltas as blue triangles.
    """
    img = cv2.cvtColor(background, cv2.COLOR_GRAY2BGR) if background.ndim == 2 else background.copy()
    for x, y, a, k in zip(template.x, template.y, template.angle, template.kind):
        colour = _COLOURS.get(int(k), (255, 0, 0))
        p = (int(round(x)), int(round(y)))
        q = (int(round(x + length_px * np.cos(a))), int(round(y + length_px * np.sin(a))))
        cv2.circle(img, p, 4, colour, 1, cv2.LINE_AA)
        cv2.line(img, p, q, colour, 1, cv2.LINE_AA)
    for x, y, _ in template.cores:
        cv2.circle(img, (int(x), int(y)), 9, (255, 0, 0), 2, cv2.LINE_AA)
    for x, y, _ in template.deltas:
        pts = np.array([[x, y - 9], [x - 8, y + 6], [x + 8, y + 6]], np.int32)
        cv2.polylines(img, [pts], True, (255, 0, 0), 2, cv2.LINE_AA)
    return img


def write_trace(trace: Mapping[str, object], folder: str | os.PathLike) -> list[Path]:
    """Write every image stage of an extraction trace as PNG, plus the minutiae overlay.

    Files are numbered in stage order (``01_grey.png``, ...). The overlay
    ``minutiae.png`` draws the minutiae on the enhanced image.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for i, (key, value) in enumerate(trace.items(), start=1):
        pic = to_picture(key, value)
        if pic is not None:
            path = folder / f"{i:02d}_{key}.png"
            cv2.imwrite(str(path), pic)
            written.append(path)
    template = trace.get("minutiae")
    if isinstance(template, FingerprintTemplate):
        base = to_picture("enhanced", trace["enhanced"]) if "enhanced" in trace else to_picture("grey", trace["grey"])
        path = folder / "minutiae.png"
        cv2.imwrite(str(path), draw_minutiae(base, template))
        written.append(path)
    return written
