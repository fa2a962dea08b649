"""Face quality measures: size, sharpness and a coarse pose from 5 landmarks.

Pure functions over arrays. They are deliberately simple and explainable;
an analyst sees why a face was flagged, which matters more here than a
learned quality score.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FaceQuality", "face_size_px", "blur_variance", "pose_from_landmarks", "assess_quality", "floor_reasons"]

# Nose position between the eye line (0) and the mouth line (1) on a level, frontal face.
_FRONTAL_NOSE_RATIO = 0.5


@dataclass(frozen=True)
class FaceQuality:
    """Quality of one detected face.

    Attributes
    ----------
    size_px : float
        Shorter side of the face box in original-image pixels.
    blur : float
        Variance of the Laplacian of the grey 112x112 aligned crop (higher is sharper).
    yaw_deg, pitch_deg, roll_deg : float
        Landmark pose estimate in degrees (see :func:`pose_from_landmarks`).
    """

    size_px: float
    blur: float
    yaw_deg: float
    pitch_deg: float
    roll_deg: float


def face_size_px(box_xywh: np.ndarray) -> float:
    """Shorter side of an ``(x, y, w, h)`` box."""
    return float(min(box_xywh[2], box_xywh[3]))


def blur_variance(crop_bgr: np.ndarray) -> float:
    """Variance of the Laplacian of the grey crop, a standard focus measure [1]_.

    References
    ----------
    .. [1] J. L. Pech-Pacheco et al., "Diatom autofocusing in brightfield
       microscopy: a comparative study", ICPR 2000.
    """
    import cv2

    grey = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY) if crop_bgr.ndim == 3 else crop_bgr
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def pose_from_landmarks(landmarks_xy: np.ndarray) -> tuple[float, float, float]:
    """Coarse (yaw, pitch, roll) in degrees from five landmarks.

    Parameters
    ----------
    landmarks_xy : (5, 2) float
        Right eye, left eye, nose tip, right and left mouth corners; columns x, y
        (y down), as YuNet reports them.

    Notes
    -----
    1. Roll is the angle of the line from the right to the left eye.
    2. The landmarks are rotated by -roll about the eye midpoint.
    3. Yaw: the nose's horizontal offset from the eye midpoint, over half the
       eye distance, read as the sine of the yaw (a face turned 90 degrees puts
       the nose at the outer eye).
    4. Pitch: the nose's vertical position between the eye line and the mouth
       line, relative to the frontal ratio 0.5, read the same way.
    It is a geometric proxy, not a 3-D head-pose fit, and good to +-10 degrees
    at best; it is used only for the quality floor and reports.
    """
    pts = np.asarray(landmarks_xy, dtype=np.float64).reshape(5, 2)
    right_eye, left_eye, nose, mouth_r, mouth_l = pts
    eye_vec = left_eye - right_eye
    eye_dist = float(np.hypot(*eye_vec))
    if eye_dist < 1e-6:
        return 0.0, 0.0, 0.0
    roll = float(np.degrees(np.arctan2(eye_vec[1], eye_vec[0])))
    c, s = np.cos(np.radians(-roll)), np.sin(np.radians(-roll))
    rot = np.array([[c, -s], [s, c]])
    eye_mid = (right_eye + left_eye) / 2
    nose_r = rot @ (nose - eye_mid)
    mouth_r_ = rot @ ((mouth_r + mouth_l) / 2 - eye_mid)
    yaw = float(np.degrees(np.arcsin(np.clip(nose_r[0] / (eye_dist / 2), -1.0, 1.0))))
    mouth_drop = mouth_r_[1]
    if mouth_drop <= 1e-6:
        pitch = 90.0
    else:
        ratio = nose_r[1] / mouth_drop
        pitch = float(np.degrees(np.arcsin(np.clip((ratio - _FRONTAL_NOSE_RATIO) / _FRONTAL_NOSE_RATIO, -1.0, 1.0))))
    return yaw, pitch, roll


def assess_quality(box_xywh: np.ndarray, landmarks_xy: np.ndarray, crop_bgr: np.ndarray) -> FaceQuality:
    """All quality measures of one face."""
    yaw, pitch, roll = pose_from_landmarks(landmarks_xy)
    return FaceQuality(face_size_px(box_xywh), blur_variance(crop_bgr), yaw, pitch, roll)


def floor_reasons(quality: FaceQuality, detection_score: float, params) -> tuple[str, ...]:
    """Why a face is below the quality floor of ``params`` (empty when it is not)."""
    reasons = []
    if quality.size_px < params.min_face_px:
        reasons.append(f"face {quality.size_px:.0f} px < {params.min_face_px:.0f} px")
    if detection_score < params.min_detection_score:
        reasons.append(f"detection score {detection_score:.2f} < {params.min_detection_score:.2f}")
    if quality.blur < params.min_blur:
        reasons.append(f"blur {quality.blur:.1f} < {params.min_blur:.1f}")
    if abs(quality.yaw_deg) > params.max_abs_yaw_deg:
        reasons.append(f"yaw {quality.yaw_deg:.0f} deg beyond +-{params.max_abs_yaw_deg:.0f}")
    if abs(quality.pitch_deg) > params.max_abs_pitch_deg:
        reasons.append(f"pitch {quality.pitch_deg:.0f} deg beyond +-{params.max_abs_pitch_deg:.0f}")
    return tuple(reasons)
