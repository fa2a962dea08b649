"""Face detection recall: YuNet by face size, and the two-scale policy on multi-face images.

Real LFW faces are pasted, shrunk to a chosen size, onto grey canvases; a
pasted face is found when a detected box overlaps its expected box with
IoU >= 0.3 (the expected box is the detector's own box on the original
image, scaled). ``size_curve`` measures recall by face size at the
detector's input; ``policy_recall`` compares detection settings on web-sized
canvases holding many faces of 24-120 px, the bulk probe's case.
"""
from __future__ import annotations

import numpy as np

__all__ = ["reference_faces", "size_curve", "policy_recall"]


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    return inter / max(a[2] * a[3] + b[2] * b[3] - inter, 1e-9)


def _found(rows: np.ndarray, expected: np.ndarray) -> bool:
    return any(_iou(r[:4], expected) >= 0.3 for r in rows)


def reference_faces(images: list[np.ndarray], model) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(image, central face box)`` for each image where the detector finds a face at full size."""
    out = []
    for img in images:
        rows = model.detect(img)
        if rows.shape[0]:
            centre = rows[:, :2] + rows[:, 2:4] / 2
            d = np.hypot(centre[:, 0] - img.shape[1] / 2, centre[:, 1] - img.shape[0] / 2)
            out.append((img, rows[int(np.argmin(d)), :4].copy()))
    return out


def _paste(canvas: np.ndarray, img: np.ndarray, box: np.ndarray, face_px: float, x0: int, y0: int) -> np.ndarray:
    """Paste ``img`` shrunk so its face box is ``face_px`` wide at ``(x0, y0)``; the expected box."""
    import cv2

    s = face_px / box[2]
    small = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    rows = min(small.shape[0], canvas.shape[0] - y0)
    cols = min(small.shape[1], canvas.shape[1] - x0)
    canvas[y0:y0 + rows, x0:x0 + cols] = small[:rows, :cols]
    return np.array([box[0] * s + x0, box[1] * s + y0, box[2] * s, box[3] * s])


def size_curve(refs, model, sizes=(8, 10, 12, 14, 16, 20, 24, 32), score_threshold: float = 0.6) -> dict:
    """Recall of single faces ``size`` px wide at the detector's input (no downscaling)."""
    out = {}
    for size in sizes:
        hits = 0
        for img, box in refs:
            s = size / box[2]
            canvas = np.full((max(64, int(img.shape[0] * s) + 32), max(64, int(img.shape[1] * s) + 32), 3), 127,
                             np.uint8)
            expected = _paste(canvas, img, box, size, 16, 16)
            hits += _found(model.detect(canvas, score_threshold=score_threshold), expected)
        out[str(size)] = hits / max(len(refs), 1)
    return out


def policy_recall(refs, model, settings: dict, *, canvases=((1024, 768), (1920, 1080)), per_canvas: int = 12,
                  face_px=(24, 120), images: int = 20, seed: int = 0) -> dict:
    """Recall and ms per image of each detection setting on canvases holding ``per_canvas`` faces.

    Faces are spread on a grid (one per cell, random size in ``face_px`` and
    random offset in the cell); the same canvases go through every setting.
    """
    import time

    from biomatch.extractors.faces import detect_faces

    rng = np.random.default_rng(seed)
    out = {}
    for cols, rows in canvases:
        grid_c = int(np.ceil(np.sqrt(per_canvas * cols / rows)))
        grid_r = int(np.ceil(per_canvas / grid_c))
        cell_c, cell_r = cols // grid_c, rows // grid_r
        scenes = []
        for _ in range(images):
            canvas = np.full((rows, cols, 3), 127, np.uint8)
            expected = []
            for k in range(per_canvas):
                img, box = refs[int(rng.integers(len(refs)))]
                px = float(rng.uniform(*face_px))
                px = min(px, 0.8 * cell_c * box[2] / img.shape[1], 0.8 * cell_r * box[2] / img.shape[0])
                s = px / box[2]
                x0 = (k % grid_c) * cell_c + int(rng.integers(0, max(1, cell_c - int(img.shape[1] * s))))
                y0 = (k // grid_c) * cell_r + int(rng.integers(0, max(1, cell_r - int(img.shape[0] * s))))
                expected.append((px, _paste(canvas, img, box, px, x0, y0)))
            scenes.append((canvas, expected))
        for label, params in settings.items():
            hits = small_hits = small = 0
            ms = []
            for canvas, expected in scenes:
                t0 = time.perf_counter()
                found = detect_faces(model, canvas, params)
                ms.append(1000 * (time.perf_counter() - t0))
                for px, box in expected:
                    hit = _found(found, box)
                    hits += hit
                    if px < 48:
                        small += 1
                        small_hits += hit
            total = sum(len(e) for _, e in scenes)
            out[f"{cols}x{rows} {label}"] = {"recall": hits / total, "recall_under_48px": small_hits / max(small, 1),
                                             "faces": total, "faces_under_48px": small,
                                             "detect_ms_median": float(np.median(ms))}
    return out
