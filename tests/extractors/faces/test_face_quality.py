import numpy as np
import pytest

from biomatch.extractors.faces.quality import blur_variance, pose_from_landmarks

FRONTAL = np.array([[40, 50], [80, 50], [60, 70], [45, 90], [75, 90]], float)


def _rotate(points, deg, centre=(60, 70)):
    r = np.radians(deg)
    rot = np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]])
    return (points - centre) @ rot.T + centre


def test_frontal_landmarks_give_zero_pose():
    yaw, pitch, roll = pose_from_landmarks(FRONTAL)
    assert abs(yaw) < 1e-6 and abs(roll) < 1e-6 and abs(pitch) < 1e-6


@pytest.mark.parametrize("deg", [-30, 15, 40])
def test_roll_follows_in_plane_rotation_and_leaves_yaw(deg):
    yaw, pitch, roll = pose_from_landmarks(_rotate(FRONTAL, deg))
    assert roll == pytest.approx(deg, abs=1e-6)
    assert abs(yaw) < 1e-6 and abs(pitch) < 1e-6


def test_nose_towards_one_eye_gives_yaw_of_that_sign():
    turned = FRONTAL.copy()
    turned[2, 0] += 10  # nose halfway to the left eye: sin(yaw) = 0.5
    yaw, _, _ = pose_from_landmarks(turned)
    assert yaw == pytest.approx(30.0, abs=1e-6)
    turned[2, 0] = FRONTAL[2, 0] - 25  # beyond the right eye: clipped at -90
    assert pose_from_landmarks(turned)[0] == pytest.approx(-90.0)


def test_blur_measure_falls_when_the_crop_is_smoothed():
    import cv2

    rng = np.random.default_rng(1)
    sharp = rng.integers(0, 255, (112, 112, 3), dtype=np.uint8)
    soft = cv2.GaussianBlur(sharp, (0, 0), 3)
    assert blur_variance(soft) < blur_variance(sharp) / 10
