import cv2
import numpy as np
import pytest

from biomatch.extractors.faces import (NO_FACE_FOUND, DEFAULT_FACE_PARAMS, FaceParams, extract_faces,
                                       get_model, model_names, register_model)
from biomatch.extractors.faces.extract import downscale_for_detection
from biomatch.extractors.faces.models import ModelFileError, YuNetSFace, packaged_file

from face_test_images import OTHER, SAME_A, SAME_B, THIRD, composite, lfw, png_header_only


def test_one_face_gives_a_valid_unit_template():
    result = extract_faces(lfw(SAME_A))
    assert len(result.faces) == 1 and result.faces[0].accepted
    t = result.faces[0].template.validate()
    assert t.model_id == YuNetSFace.model_id and t.embedding.shape == (128,)
    assert abs(np.linalg.norm(t.embedding) - 1) < 1e-5
    assert (t.image_width, t.image_height) == (250, 250)
    x, y, w, h = t.box
    assert 40 < x + w / 2 < 210 and 40 < y + h / 2 < 210  # LFW faces are centred
    right_eye, left_eye = t.landmarks[0], t.landmarks[1]
    assert right_eye[0] < left_eye[0]  # subject's right eye is on the image left
    assert 0.5 < t.detection_score <= 1 and t.size_px > 40 and t.blur > 0


def test_same_person_scores_higher_than_different_person():
    a, b, c = (extract_faces(lfw(p)).accepted[0] for p in (SAME_A, SAME_B, OTHER))
    assert float(a.embedding @ b.embedding) > 0.5
    assert float(a.embedding @ c.embedding) < 0.3


def test_image_with_several_faces_gives_several_templates():
    image = composite(SAME_A, OTHER, THIRD)
    result = extract_faces(image)
    assert len(result.faces) >= 3
    singles = [extract_faces(lfw(p)).accepted[0] for p in (SAME_A, OTHER, THIRD)]
    for single in singles:  # each person's own face is among the composite's faces
        best = max(float(f.template.embedding @ single.embedding) for f in result.faces)
        assert best > 0.9
    centres_x = sorted(float(f.template.box[0] + f.template.box[2] / 2) for f in result.faces)
    assert centres_x[0] < 250 < centres_x[-1] and centres_x[-1] > 500


def test_no_face_is_a_result_not_an_error():
    rng = np.random.default_rng(0)
    flat = np.full((240, 320, 3), 128, np.uint8)
    noise = cv2.GaussianBlur(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8), (9, 9), 3)
    for image in (flat, noise):
        result = extract_faces(image)
        assert result.no_face and result.faces == () and result.accepted == ()
        assert result.message == NO_FACE_FOUND


def test_faces_below_the_floor_are_reported_with_reasons():
    strict = DEFAULT_FACE_PARAMS.with_changes(min_face_px=1000.0)
    result = extract_faces(lfw(SAME_A), params=strict)
    assert len(result.faces) == 1 and result.accepted == ()
    assert any("px <" in r for r in result.faces[0].below_floor)
    assert "below the quality floor" in result.message


def test_large_image_is_detected_downscaled_and_aligned_from_original():
    from biomatch.extractors.imageio import load_colour

    small = load_colour(lfw(SAME_A))
    big = cv2.resize(small, (1500, 1500), interpolation=cv2.INTER_CUBIC)
    shrunk, scale = downscale_for_detection(big, DEFAULT_FACE_PARAMS.detect_max_side_px)
    assert max(shrunk.shape[:2]) == 640 and scale == pytest.approx(640 / 1500)
    a = extract_faces(small).accepted[0]
    b = extract_faces(big).accepted[0]
    # landmarks (steadier than box edges across detection scales) land where the small image's do, x6
    np.testing.assert_allclose(b.landmarks, (a.landmarks + 0.5) * 6 - 0.5, atol=0.08 * b.box[2])
    assert (b.image_width, b.image_height) == (1500, 1500)
    assert float(a.embedding @ b.embedding) > 0.85


def test_grey_pgm_is_read():
    from biomatch.benchmarks.datasets import data_root

    path = data_root() / "faces" / "orl_att" / "s1" / "1.pgm"
    if not path.is_file():
        pytest.skip("orl_att missing")
    result = extract_faces(path)
    assert len(result.accepted) == 1


@pytest.mark.parametrize("data, match", [
    (b"", "empty"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 40, "corrupt"),
    (b"%PDF-1.4 not an image at all", "not a supported image"),
    (png_header_only(30000, 30000), "over the limit"),
])
def test_bad_input_raises_value_error(data, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        extract_faces(data)
    path = tmp_path / "upload.jpg"
    path.write_bytes(data)
    with pytest.raises(ValueError):
        extract_faces(path)


def test_params_are_checked():
    with pytest.raises(ValueError, match="detect_max_side_px"):
        FaceParams(detect_max_side_px=10)
    with pytest.raises(ValueError, match="min_detection_score"):
        FaceParams(min_detection_score=2.0)


def test_model_files_are_checked_against_pinned_digest():
    with pytest.raises(ModelFileError, match="sha256"):
        packaged_file(YuNetSFace.PACKAGE, YuNetSFace.DETECTOR_FILE, "0" * 64)
    with pytest.raises(ModelFileError, match="missing"):
        packaged_file(YuNetSFace.PACKAGE, "models/nope.onnx", "0" * 64)
    with pytest.raises(ModelFileError, match="not installed"):
        packaged_file("no_such_package_xyz", "x", "0" * 64)


class _OffsetModel:
    """A stand-in model: wraps the real one and negates embeddings, to prove pluggability."""

    model_id = "test-negated"
    embedding_dim = 128

    def __init__(self):
        self.inner = get_model(DEFAULT_FACE_PARAMS.model)

    def detect(self, image, **kw):
        return self.inner.detect(image, **kw)

    def align(self, image, row):
        return self.inner.align(image, row)

    def embed(self, crops):
        return -self.inner.embed(crops)


def test_registry_plugs_in_another_model():
    register_model("test-negated", _OffsetModel)
    assert "test-negated" in model_names()
    params = DEFAULT_FACE_PARAMS.with_changes(model="test-negated")
    plugged = extract_faces(lfw(SAME_A), params=params).accepted[0]
    default = extract_faces(lfw(SAME_A)).accepted[0]
    assert plugged.model_id == "test-negated"
    np.testing.assert_allclose(plugged.embedding, -default.embedding, atol=1e-6)
    with pytest.raises(ValueError, match="unknown face model"):
        get_model("no-such-model")
