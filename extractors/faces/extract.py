"""Image -> face templates: detect, align, assess, embed. Reads like a script.

>>> from biomatch.extractors.faces import extract_faces
>>> result = extract_faces("photo.jpg")            # doctest: +SKIP
>>> [f.template.box for f in result.faces]          # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..imageio import MAX_BYTES, MAX_PIXELS, ImageInput, load_colour
from .models import FaceModel, get_model
from .params import DEFAULT_FACE_PARAMS, FACE_ALGORITHM_VERSION, FaceParams
from .quality import assess_quality, floor_reasons
from .template import FaceTemplate

__all__ = ["DetectedFace", "FaceExtraction", "NO_FACE_FOUND", "downscale_for_detection", "detect_faces", "needs_refinement",
           "extract_faces", "extract_faces_many"]

NO_FACE_FOUND = "no face found"


@dataclass(frozen=True, eq=False)
class DetectedFace:
    """One face found in an image.

    ``below_floor`` lists why the face fails the quality floor; it is empty
    for faces fit to enrol or search with. ``crop`` is the aligned 112x112
    BGR crop (kept for reports; ``None`` when not requested).
    """

    template: FaceTemplate
    below_floor: tuple[str, ...] = ()
    crop: np.ndarray | None = None

    @property
    def accepted(self) -> bool:
        return not self.below_floor


@dataclass(frozen=True, eq=False)
class FaceExtraction:
    """Every face found in one image, largest first, accepted or not."""

    faces: tuple[DetectedFace, ...]
    image_width: int
    image_height: int

    @property
    def no_face(self) -> bool:
        return not self.faces

    @property
    def accepted(self) -> tuple[FaceTemplate, ...]:
        """Templates of the faces above the quality floor."""
        return tuple(f.template for f in self.faces if f.accepted)

    @property
    def message(self) -> str:
        if not self.faces:
            return NO_FACE_FOUND
        low = sum(1 for f in self.faces if not f.accepted)
        return f"{len(self.faces)} face(s) found, {low} below the quality floor"


def downscale_for_detection(image_bgr: np.ndarray, max_side_px: int) -> tuple[np.ndarray, float]:
    """A copy no larger than ``max_side_px`` on its longer side, and the scale applied (<= 1)."""
    import cv2

    rows, cols = image_bgr.shape[:2]
    scale = min(1.0, max_side_px / max(rows, cols))
    if scale >= 1.0:
        return image_bgr, 1.0
    size = (max(1, round(cols * scale)), max(1, round(rows * scale)))
    return cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA), scale


def _detect_at(model: FaceModel, image_bgr: np.ndarray, max_side_px: int, score_threshold: float,
               params: FaceParams) -> tuple[np.ndarray, float]:
    """Detector rows on a copy no larger than ``max_side_px``, in that copy's pixels, and its scale."""
    small, scale = downscale_for_detection(image_bgr, max_side_px)
    rows = model.detect(small, score_threshold=score_threshold, nms_threshold=params.detect_nms_threshold,
                        top_k=params.detect_top_k)
    return rows, scale


def needs_refinement(rows: np.ndarray, params: FaceParams) -> bool:
    """Whether coarse-pass rows (proposals down to ``refine_proposal_score``) hold a possible small face."""
    return bool(rows.shape[0] and np.any(np.minimum(rows[:, 2], rows[:, 3]) < params.refine_below_px))


def detect_faces(model: FaceModel, image_bgr: np.ndarray, params: FaceParams = DEFAULT_FACE_PARAMS) -> np.ndarray:
    """Detector rows ``(x, y, w, h, 10 landmark coords, score)`` in original pixels, largest face first.

    Notes
    -----
    Two scales. When the image is larger than ``params.detect_coarse_side_px``,
    a coarse pass runs on a copy that size and also keeps weak proposals
    (down to ``refine_proposal_score``). If none of its boxes is below
    ``refine_below_px`` detector pixels, its confident faces are the result;
    otherwise (a small face may be missed at that scale) detection runs again
    on a copy of at most ``params.detect_max_side_px`` and that result is used.
    Boxes and landmarks are mapped back to the original pixels, where alignment
    reads them.
    """
    rows = None
    coarse = params.detect_coarse_side_px
    if coarse and coarse < params.detect_max_side_px and max(image_bgr.shape[:2]) > coarse:
        proposals, scale = _detect_at(model, image_bgr, coarse, min(params.refine_proposal_score,
                                                                     params.detect_score_threshold), params)
        if not needs_refinement(proposals, params):
            rows = proposals[proposals[:, 14] >= params.detect_score_threshold]
    if rows is None:
        rows, scale = _detect_at(model, image_bgr, params.detect_max_side_px, params.detect_score_threshold, params)
    if rows.shape[0] == 0:
        return np.zeros((0, 15), np.float32)
    rows = rows.copy()
    rows[:, :14] /= scale
    order = np.argsort(-(rows[:, 2] * rows[:, 3]), kind="stable")
    return rows[order[: params.max_faces]]


def _to_template(model: FaceModel, row: np.ndarray, embedding: np.ndarray, crop: np.ndarray,
                 shape: tuple[int, int], params: FaceParams, keep_crop: bool) -> DetectedFace:
    landmarks = row[4:14].reshape(5, 2)
    quality = assess_quality(row[:4], landmarks, crop)
    score = float(np.clip(row[14], 0.0, 1.0))
    template = FaceTemplate(
        embedding=embedding, model_id=model.model_id, box=row[:4], landmarks=landmarks, detection_score=score,
        size_px=quality.size_px, blur=quality.blur, yaw_deg=quality.yaw_deg, pitch_deg=quality.pitch_deg,
        roll_deg=quality.roll_deg, image_width=shape[1], image_height=shape[0],
        algorithm_version=FACE_ALGORITHM_VERSION,
    )
    return DetectedFace(template, floor_reasons(quality, score, params), crop if keep_crop else None)


def extract_faces_many(images: Sequence[np.ndarray], *, params: FaceParams = DEFAULT_FACE_PARAMS,
                       model: FaceModel | None = None, keep_crops: bool = False) -> list[FaceExtraction]:
    """Extract from several decoded BGR images, embedding all their faces in one batch."""
    model = model or get_model(params.model)
    per_image, crops = [], []
    for image in images:
        rows = detect_faces(model, image, params)
        aligned = [model.align(image, row) for row in rows]
        per_image.append((image.shape[:2], rows, aligned))
        crops.extend(aligned)
    embeddings = model.embed(crops) if crops else np.zeros((0, model.embedding_dim), np.float32)
    out, k = [], 0
    for shape, rows, aligned in per_image:
        faces = []
        for row, crop in zip(rows, aligned):
            faces.append(_to_template(model, row, embeddings[k], crop, shape, params, keep_crops))
            k += 1
        out.append(FaceExtraction(tuple(faces), int(shape[1]), int(shape[0])))
    return out


def extract_faces(image: ImageInput, *, params: FaceParams = DEFAULT_FACE_PARAMS, model: FaceModel | None = None,
                  keep_crops: bool = False, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> FaceExtraction:
    """Find every face in an image and make a template of each.

    Parameters
    ----------
    image : path, encoded bytes or (rows, cols[, 3]) uint8 array (BGR)
        Decoded with size and decompression-bomb checks (:mod:`biomatch.extractors.imageio`).
    params : FaceParams
        Detection and quality-floor settings.
    model : FaceModel, optional
        Defaults to the registered ``params.model``.
    keep_crops : bool
        Keep the aligned crops (for reports).

    Returns
    -------
    FaceExtraction
        All faces, largest first. No face is a normal result
        (``result.no_face``, ``result.message == "no face found"``), not an error.

    Raises
    ------
    ValueError
        The input is not a readable image within the size limits.

    Notes
    -----
    1. Decode to BGR. 2. Detect with YuNet [1]_ on a downscaled copy (two
    scales, see :func:`detect_faces`); map the box and 5 landmarks back. 3. Align each face from the original pixels by a
    similarity transform to SFace's 112x112 template. 4. Assess size, blur and
    landmark pose; flag faces below the floor. 5. Embed with SFace [2]_ and
    L2-normalise.

    References
    ----------
    .. [1] W. Wu, H. Peng, S. Yu, "YuNet", Machine Intelligence Research 20, 2023.
    .. [2] Y. Zhong et al., "SFace", IEEE TIP 30, 2021.
    """
    bgr = load_colour(image, max_bytes=max_bytes, max_pixels=max_pixels)
    return extract_faces_many([bgr], params=params, model=model, keep_crops=keep_crops)[0]
