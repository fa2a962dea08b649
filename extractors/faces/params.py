"""Every tuned constant of the face pipeline, in one frozen dataclass.

Changing a value that alters templates or scores means bumping
:data:`FACE_ALGORITHM_VERSION`, so stored results never change silently.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

__all__ = ["FaceParams", "DEFAULT_FACE_PARAMS", "FACE_ALGORITHM_VERSION"]

#: Version of the detection/alignment/quality recipe (stored in every template).
#: 2: two-scale detection (coarse pass at 320 px, refined at 640 px when small
#: faces may be present), ONNX Runtime and numpy alignment (same model files).
FACE_ALGORITHM_VERSION = 2


@dataclass(frozen=True)
class FaceParams:
    """Parameters of detection, alignment, quality and the quality floor.

    Attributes
    ----------
    model : str
        Registry name of the face model (see :mod:`biomatch.extractors.faces.models`).
    detect_max_side_px : int
        Images whose longer side exceeds this are downscaled (area interpolation)
        for detection only; landmarks are mapped back and alignment reads the
        original pixels. YuNet's cost grows with the pixel count (about 17 ms at
        640x480 and 142 ms at 1920x1080 on one core with OpenCV's DNN).
    detect_coarse_side_px : int
        First, cheaper detection pass on a copy this large (0: off, detect at
        ``detect_max_side_px`` only). Its result is kept unless it shows a
        possible small face (next two values); then detection runs again at
        ``detect_max_side_px`` and that result is used.
    refine_proposal_score : float
        Detector confidence down to which a coarse-pass box counts as a
        possible face when deciding whether to refine.
    refine_below_px : float
        A coarse-pass box whose shorter side is below this many detector pixels
        triggers the refined pass. YuNet finds every LFW face of 20 px at its
        input, 96% at 16 px and 72% at 12 px (``biomatch bench faces``,
        ``detection``), so smaller coarse boxes are checked at the finer scale.
    detect_score_threshold : float
        YuNet confidence below which a box is not reported as a face at all.
    detect_nms_threshold : float
        IoU for YuNet's non-maximum suppression.
    detect_top_k : int
        Boxes kept before NMS.
    max_faces : int
        At most this many faces per image, largest first (bounds the work on
        crowd photos).
    min_face_px : float
        Quality floor: shorter side of the face box, in original pixels.
    min_detection_score : float
        Quality floor on the detector confidence.
    min_blur : float
        Quality floor on sharpness, the variance of the Laplacian of the
        112x112 grey aligned crop (higher is sharper).
    max_abs_yaw_deg, max_abs_pitch_deg : float
        Quality floor on the landmark pose estimate.
    """

    model: str = "yunet-sface-ort"
    detect_max_side_px: int = 640
    detect_coarse_side_px: int = 320
    refine_proposal_score: float = 0.1
    refine_below_px: float = 20.0
    detect_score_threshold: float = 0.6
    detect_nms_threshold: float = 0.3
    detect_top_k: int = 5000
    max_faces: int = 64
    min_face_px: float = 24.0
    min_detection_score: float = 0.7
    min_blur: float = 15.0
    max_abs_yaw_deg: float = 60.0
    max_abs_pitch_deg: float = 50.0

    def __post_init__(self):
        if self.detect_max_side_px < 64:
            raise ValueError(f"detect_max_side_px must be at least 64, got {self.detect_max_side_px}")
        if self.detect_coarse_side_px != 0 and self.detect_coarse_side_px < 64:
            raise ValueError(f"detect_coarse_side_px must be 0 (off) or at least 64, got {self.detect_coarse_side_px}")
        if self.refine_below_px < 0:
            raise ValueError(f"refine_below_px must be >= 0, got {self.refine_below_px}")
        for name in ("detect_score_threshold", "detect_nms_threshold", "min_detection_score", "refine_proposal_score"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        if self.max_faces < 1 or self.detect_top_k < 1:
            raise ValueError("max_faces and detect_top_k must be positive")

    def with_changes(self, **changes) -> "FaceParams":
        """A copy with some values changed (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)


DEFAULT_FACE_PARAMS = FaceParams()
