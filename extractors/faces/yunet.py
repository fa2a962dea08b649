"""YuNet's input blob and the decoding of its outputs, as OpenCV's ``FaceDetectorYN`` does them.

Pure functions, so a runtime other than OpenCV's DNN (ONNX Runtime) can run
the same detector file and return the same rows:
``(x, y, w, h, 10 landmark coordinates, score)``.

References
----------
.. [1] W. Wu, H. Peng, S. Yu, "YuNet: A Tiny Millisecond-level Face Detector",
   Machine Intelligence Research 20, 2023.
.. [2] OpenCV 4.x, modules/objdetect/src/face_detect.cpp (padding to a
   multiple of 32, ``sqrt(cls * obj)`` score, anchor-free decoding, NMS).
"""
from __future__ import annotations

import numpy as np

__all__ = ["STRIDES", "OUTPUT_NAMES", "padded_size", "input_blob", "decode_faces"]

STRIDES = (8, 16, 32)
OUTPUT_NAMES = tuple(f"{kind}_{s}" for kind in ("cls", "obj", "bbox", "kps") for s in STRIDES)
_DIVISOR = 32


def padded_size(rows: int, cols: int) -> tuple[int, int]:
    """The image size rounded up to a multiple of 32 (the zero padding is at the bottom and right)."""
    return ((rows - 1) // _DIVISOR + 1) * _DIVISOR, ((cols - 1) // _DIVISOR + 1) * _DIVISOR


def input_blob(image_bgr: np.ndarray) -> np.ndarray:
    """``(1, 3, padded rows, padded cols)`` float32 BGR blob, unscaled, zero-padded bottom/right."""
    if image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
        raise ValueError(f"expected a (rows, cols, 3) BGR image, got shape {image_bgr.shape}")
    rows, cols = image_bgr.shape[:2]
    prows, pcols = padded_size(rows, cols)
    blob = np.zeros((1, 3, prows, pcols), np.float32)
    blob[0, :, :rows, :cols] = np.moveaxis(image_bgr, 2, 0)
    return blob


def decode_faces(outputs: dict[str, np.ndarray], padded: tuple[int, int], *, score_threshold: float,
                 nms_threshold: float, top_k: int) -> np.ndarray:
    """Face rows ``(n, 15)`` float32 from YuNet's 12 outputs, after NMS, best score first.

    Parameters
    ----------
    outputs : dict of name -> array
        ``cls_8 ... kps_32`` as the network returns them.
    padded : (rows, cols)
        The padded input size.
    """
    import cv2

    prows, pcols = padded
    found = []
    for stride in STRIDES:
        rows, cols = prows // stride, pcols // stride
        cls = np.clip(outputs[f"cls_{stride}"].reshape(-1), 0.0, 1.0)
        obj = np.clip(outputs[f"obj_{stride}"].reshape(-1), 0.0, 1.0)
        if cls.size != rows * cols:
            raise ValueError(f"YuNet output cls_{stride} has {cls.size} cells, expected {rows * cols}")
        score = np.sqrt(cls * obj)
        keep = np.nonzero(score >= score_threshold)[0]
        if keep.size == 0:
            continue
        bbox = outputs[f"bbox_{stride}"].reshape(-1, 4)[keep]
        kps = outputs[f"kps_{stride}"].reshape(-1, 10)[keep]
        c = (keep % cols).astype(np.float32)[:, None]
        r = (keep // cols).astype(np.float32)[:, None]
        cx, cy = (c[:, 0] + bbox[:, 0]) * stride, (r[:, 0] + bbox[:, 1]) * stride
        w, h = np.exp(bbox[:, 2]) * stride, np.exp(bbox[:, 3]) * stride
        marks = np.empty_like(kps)
        marks[:, 0::2] = (kps[:, 0::2] + c) * stride
        marks[:, 1::2] = (kps[:, 1::2] + r) * stride
        found.append(np.column_stack([cx - w / 2, cy - h / 2, w, h, marks, score[keep]]).astype(np.float32))
    if not found:
        return np.zeros((0, 15), np.float32)
    faces = np.concatenate(found)
    if faces.shape[0] > 1:
        boxes = [(int(x), int(y), int(w), int(h)) for x, y, w, h in faces[:, :4]]
        keep = np.asarray(cv2.dnn.NMSBoxes(boxes, faces[:, 14].tolist(), score_threshold, nms_threshold,
                                           eta=1.0, top_k=int(top_k)), np.int64).reshape(-1)
        faces = faces[keep]
    return np.ascontiguousarray(faces)
