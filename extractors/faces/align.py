"""Face alignment: a similarity transform of the 5 landmarks onto SFace's 112x112 template.

The same least-squares (Umeyama) estimate and bilinear warp as OpenCV's
``FaceRecognizerSF.alignCrop``, without loading a second copy of the
recognition network just to align.

References
----------
.. [1] S. Umeyama, "Least-squares estimation of transformation parameters
   between two point patterns", IEEE TPAMI 13(4), 1991.
.. [2] J. Deng et al., "ArcFace", CVPR 2019 (the 112x112 five-point template).
"""
from __future__ import annotations

import numpy as np

__all__ = ["TEMPLATE_112", "similarity_transform", "align_crop"]

#: Right eye, left eye, nose tip, right and left mouth corners (x, y) in the 112x112 crop.
TEMPLATE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                         [41.5493, 92.3655], [70.7299, 92.2041]], np.float64)


def similarity_transform(src_xy: np.ndarray, dst_xy: np.ndarray = TEMPLATE_112) -> np.ndarray:
    """The 2x3 rotation + uniform scale + translation mapping ``src_xy`` onto ``dst_xy`` (least squares)."""
    src = np.asarray(src_xy, np.float64).reshape(-1, 2)
    dst = np.asarray(dst_xy, np.float64).reshape(-1, 2)
    if src.shape != dst.shape or src.shape[0] < 2:
        raise ValueError(f"need matching (n >= 2, 2) point sets, got {src.shape} and {dst.shape}")
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / src.shape[0]
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(cov) < 0:
        d[1] = -1.0
    rotation = u @ np.diag(d) @ vt
    var = (src_c ** 2).sum() / src.shape[0]
    scale = float((s * d).sum() / var) if var > 0 else 1.0
    out = np.empty((2, 3))
    out[:, :2] = scale * rotation
    out[:, 2] = dst_mean - out[:, :2] @ src_mean
    return out


def align_crop(image_bgr: np.ndarray, landmarks_xy: np.ndarray, size: int = 112) -> np.ndarray:
    """The ``(size, size, 3)`` aligned crop for 5 landmarks ``(x, y)`` in ``image_bgr``'s pixels."""
    import cv2

    matrix = similarity_transform(landmarks_xy, TEMPLATE_112 * (size / 112.0))
    return cv2.warpAffine(image_bgr, matrix, (size, size), flags=cv2.INTER_LINEAR)
