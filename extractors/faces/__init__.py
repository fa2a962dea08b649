"""Faces: detection (YuNet), alignment, quality and embedding (SFace) into :class:`FaceTemplate`."""
from .extract import NO_FACE_FOUND, DetectedFace, FaceExtraction, detect_faces, extract_faces, extract_faces_many
from .models import FaceModel, ModelFileError, get_model, model_names, register_model
from .ort_model import YuNetSFaceOrt
from .params import DEFAULT_FACE_PARAMS, FACE_ALGORITHM_VERSION, FaceParams
from .quality import FaceQuality
from .template import FACE_TEMPLATE_VERSION, FaceTemplate, FaceTemplateVersionError

__all__ = [
    "NO_FACE_FOUND", "DetectedFace", "FaceExtraction", "detect_faces", "extract_faces", "extract_faces_many",
    "FaceModel", "ModelFileError", "get_model", "model_names", "register_model", "YuNetSFaceOrt",
    "DEFAULT_FACE_PARAMS", "FACE_ALGORITHM_VERSION", "FaceParams", "FaceQuality",
    "FACE_TEMPLATE_VERSION", "FaceTemplate", "FaceTemplateVersionError",
]
