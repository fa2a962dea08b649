"""The face template: one detected face, its embedding and where it came from.

Coordinates are original-image pixels, ``x`` right and ``y`` down, origin at
the top-left pixel. Landmarks are in YuNet's order: right eye, left eye, nose
tip, right mouth corner, left mouth corner (the subject's right and left).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from .quality import FaceQuality

__all__ = ["FaceTemplate", "FaceTemplateVersionError", "FACE_TEMPLATE_VERSION"]

FACE_TEMPLATE_VERSION = 1
_MAGIC = b"BMFA"
_HEAD = struct.Struct("<4sHHHB")  # magic, template version, embedding dim, algorithm version, model id length
_BODY = struct.Struct("<II4f10f6f")  # width, height, box, landmarks, score, size, blur, yaw, pitch, roll
_MAX_DIM = 4096


class FaceTemplateVersionError(ValueError):
    """A serialized face template has a version this code cannot read."""


@dataclass(frozen=True, eq=False)
class FaceTemplate:
    """One face: an L2-normalised embedding plus detection and quality data.

    Parameters
    ----------
    embedding : (d,) float32
        Unit-length embedding; the score between two templates is their dot product.
    model_id : str
        Embedding model; templates of different models are never compared.
    box : (4,) float32
        ``(x, y, w, h)`` of the face in the original image.
    landmarks : (5, 2) float32
        Five landmarks, columns x, y.
    detection_score : float
        Detector confidence in [0, 1].
    size_px, blur, yaw_deg, pitch_deg, roll_deg : float
        Quality measures (see :class:`~biomatch.extractors.faces.quality.FaceQuality`).
    image_width, image_height : int
        Size of the image the face was found in.
    algorithm_version : int
        :data:`~biomatch.extractors.faces.params.FACE_ALGORITHM_VERSION` at extraction.
    """

    embedding: np.ndarray
    model_id: str
    box: np.ndarray
    landmarks: np.ndarray
    detection_score: float
    size_px: float
    blur: float
    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    image_width: int
    image_height: int
    algorithm_version: int = 1

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "embedding", np.ascontiguousarray(np.asarray(self.embedding, np.float32).reshape(-1)))
        set_(self, "box", np.ascontiguousarray(np.asarray(self.box, np.float32).reshape(-1)))
        set_(self, "landmarks", np.ascontiguousarray(np.asarray(self.landmarks, np.float32).reshape(-1, 2)))
        for name in ("detection_score", "size_px", "blur", "yaw_deg", "pitch_deg", "roll_deg"):
            set_(self, name, float(np.float32(getattr(self, name))))
        for name in ("image_width", "image_height", "algorithm_version"):
            set_(self, name, int(getattr(self, name)))
        set_(self, "model_id", str(self.model_id))

    @property
    def quality(self) -> FaceQuality:
        return FaceQuality(self.size_px, self.blur, self.yaw_deg, self.pitch_deg, self.roll_deg)

    def __eq__(self, other) -> bool:
        if not isinstance(other, FaceTemplate):
            return NotImplemented
        scalars = ("model_id", "detection_score", "size_px", "blur", "yaw_deg", "pitch_deg", "roll_deg",
                   "image_width", "image_height", "algorithm_version")
        return all(getattr(self, k) == getattr(other, k) for k in scalars) and all(
            np.array_equal(getattr(self, k), getattr(other, k)) for k in ("embedding", "box", "landmarks"))

    def validate(self) -> "FaceTemplate":
        """Check consistency; raise ``ValueError`` naming the problem. Returns ``self``."""
        d = self.embedding.shape[0]
        if not 1 <= d <= _MAX_DIM:
            raise ValueError(f"face template: embedding has {d} values, expected 1..{_MAX_DIM}")
        if not np.all(np.isfinite(self.embedding)):
            raise ValueError("face template: embedding has non-finite values")
        norm = float(np.linalg.norm(self.embedding))
        if abs(norm - 1.0) > 1e-3:
            raise ValueError(f"face template: embedding norm is {norm:.4f}, expected 1 (L2-normalised)")
        if not self.model_id or len(self.model_id.encode()) > 255:
            raise ValueError("face template: model_id must be 1..255 bytes")
        if self.box.shape != (4,) or self.landmarks.shape != (5, 2):
            raise ValueError(f"face template: box shape {self.box.shape} / landmarks shape {self.landmarks.shape}, "
                             "expected (4,) / (5, 2)")
        floats = np.concatenate([self.box, self.landmarks.ravel(), [self.size_px, self.blur, self.yaw_deg,
                                                                    self.pitch_deg, self.roll_deg]])
        if not np.all(np.isfinite(floats)):
            raise ValueError("face template: box, landmarks or quality have non-finite values")
        if self.box[2] <= 0 or self.box[3] <= 0:
            raise ValueError(f"face template: box {self.box.tolist()} has no area")
        if not 0.0 <= self.detection_score <= 1.0 + 1e-6:
            raise ValueError(f"face template: detection score {self.detection_score} outside [0, 1]")
        if not (0 < self.image_width <= 1_000_000 and 0 < self.image_height <= 1_000_000):
            raise ValueError(f"face template: image size {self.image_width}x{self.image_height} out of range")
        return self

    def to_bytes(self) -> bytes:
        """Versioned little-endian binary form (see :meth:`from_bytes`)."""
        self.validate()
        mid = self.model_id.encode()
        return b"".join([
            _HEAD.pack(_MAGIC, FACE_TEMPLATE_VERSION, self.embedding.shape[0], self.algorithm_version, len(mid)),
            mid,
            _BODY.pack(self.image_width, self.image_height, *self.box.tolist(), *self.landmarks.ravel().tolist(),
                       self.detection_score, self.size_px, self.blur, self.yaw_deg, self.pitch_deg, self.roll_deg),
            self.embedding.astype("<f4").tobytes(),
        ])

    @classmethod
    def from_bytes(cls, data: bytes) -> "FaceTemplate":
        """Read :meth:`to_bytes` output; raise ``ValueError`` on anything malformed."""
        data = bytes(data)
        if len(data) < _HEAD.size:
            raise ValueError(f"face template: {len(data)} bytes, too short for a header")
        magic, version, dim, algo, mid_len = _HEAD.unpack_from(data)
        if magic != _MAGIC:
            raise ValueError(f"face template: bad magic {magic!r}, expected {_MAGIC!r}")
        if version != FACE_TEMPLATE_VERSION:
            raise FaceTemplateVersionError(f"face template: version {version}, this code reads {FACE_TEMPLATE_VERSION}")
        expected = _HEAD.size + mid_len + _BODY.size + 4 * dim
        if len(data) != expected:
            raise ValueError(f"face template: {len(data)} bytes, expected {expected}")
        pos = _HEAD.size
        model_id = data[pos:pos + mid_len].decode("utf-8", errors="strict")
        pos += mid_len
        v = _BODY.unpack_from(data, pos)
        pos += _BODY.size
        emb = np.frombuffer(data, dtype="<f4", count=dim, offset=pos).astype(np.float32)
        return cls(embedding=emb, model_id=model_id, box=v[2:6], landmarks=np.array(v[6:16]).reshape(5, 2),
                   detection_score=v[16], size_px=v[17], blur=v[18], yaw_deg=v[19], pitch_deg=v[20],
                   roll_deg=v[21], image_width=v[0], image_height=v[1], algorithm_version=algo).validate()
