"""ONNX Runtime model: same detections and embeddings as OpenCV's, graph clean-up, flip, two-scale detection."""
import cv2
import numpy as np
import pytest

from biomatch.extractors.faces import DEFAULT_FACE_PARAMS, detect_faces, extract_faces, get_model
from biomatch.extractors.faces import onnx_graph as og
from biomatch.extractors.faces.align import TEMPLATE_112, align_crop, similarity_transform
from biomatch.extractors.faces.models import YuNetSFace, packaged_file
from biomatch.extractors.faces.ort_model import detector_graph, recognizer_graph
from biomatch.extractors.imageio import load_colour

from face_test_images import OTHER, SAME_A, SAME_B, THIRD, composite, lfw

IMAGES = (SAME_A, SAME_B, OTHER, THIRD)


@pytest.fixture(scope="module")
def models():
    return get_model("yunet-sface"), get_model("yunet-sface-ort")


def test_detections_match_opencv(models):
    cv, ort = models
    canvas = np.full((480, 640, 3), 127, np.uint8)
    canvas[100:350, 200:450] = load_colour(lfw(SAME_A))
    for image in [load_colour(lfw(p)) for p in IMAGES] + [canvas, composite(SAME_A, OTHER, THIRD)]:
        a, b = cv.detect(image), ort.detect(image)
        assert a.shape == b.shape and a.shape[0] >= 1
        np.testing.assert_allclose(b, a, atol=2e-3)  # pixels and score


def test_embeddings_agree_with_opencv_face_recognizer(models):
    cv, ort = models
    for rel in IMAGES:
        image = load_colour(lfw(rel))
        row = cv.detect(image)[0]
        crop = cv.align(image, row)  # the same crop through both runtimes
        a, b = cv.embed([crop])[0], ort.embed([crop])[0]
        assert float(a @ b) > 0.999
        assert float(a @ b) > 0.99999  # measured: 0.9999998


def test_numpy_alignment_matches_opencv_align_crop(models):
    cv, ort = models
    for rel in IMAGES:
        image = load_colour(lfw(rel))
        row = cv.detect(image)[0]
        diff = np.abs(cv.align(image, row).astype(int) - ort.align(image, row).astype(int))
        assert diff.mean() < 1.5 and diff.max() <= 8  # bilinear rounding of a float64 vs float32 matrix


def test_similarity_transform_recovers_a_known_transform():
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -5.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    src = TEMPLATE_112 * 0.5 + 20
    dst = src @ rot.T + shift
    np.testing.assert_allclose(similarity_transform(src, dst), np.column_stack([rot, shift]), atol=1e-9)
    crop = align_crop(np.zeros((200, 200, 3), np.uint8), TEMPLATE_112)
    assert crop.shape == (112, 112, 3)
    with pytest.raises(ValueError, match="point sets"):
        similarity_transform(np.zeros((1, 2)), np.zeros((1, 2)))


def test_cleaned_graphs_hold_no_dequantize_or_prelu():
    det = packaged_file(YuNetSFace.PACKAGE, YuNetSFace.DETECTOR_FILE, YuNetSFace.DETECTOR_SHA256).read_bytes()
    rec = packaged_file(YuNetSFace.PACKAGE, YuNetSFace.RECOGNIZER_FILE, YuNetSFace.RECOGNIZER_SHA256).read_bytes()
    assert og.graph_ops(rec)["PRelu"] == 27 and og.graph_ops(rec)["DequantizeLinear"] == 29
    rec_ops, det_ops = og.graph_ops(recognizer_graph(rec)), og.graph_ops(detector_graph(det))
    assert "PRelu" not in rec_ops and "DequantizeLinear" not in rec_ops and "DequantizeLinear" not in det_ops
    assert rec_ops["Conv"] == og.graph_ops(rec)["Conv"] + 2 * 27
    with pytest.raises(ValueError, match="no graph|malformed"):
        og.graph_ops(b"\x0a\x03abc") or og.fold_dequantize(b"\x0a\x03abc")


def test_dequantize_per_tensor_axis_and_block():
    q = np.arange(-6, 6, dtype=np.int8).reshape(2, 6)
    np.testing.assert_allclose(og.dequantize(q, np.float32([0.5]), np.int8([1]), block_size=4), (q - 1) * 0.5)
    per_axis = og.dequantize(q, np.float32([1, 2]), np.int8([0, 1]), axis=0)
    np.testing.assert_allclose(per_axis, np.stack([q[0] * 1.0, (q[1] - 1) * 2.0]))
    blocked = og.dequantize(q, np.float32([[1, 10], [2, 20]]), None, axis=1, block_size=4)
    np.testing.assert_allclose(blocked[0], np.r_[q[0, :4] * 1.0, q[0, 4:] * 10.0])
    np.testing.assert_allclose(blocked[1], np.r_[q[1, :4] * 2.0, q[1, 4:] * 20.0])


def test_flip_model_adds_the_mirror_embedding():
    plain, flip = get_model("yunet-sface-ort"), get_model("yunet-sface-ort-flip")
    assert flip.model_id == plain.model_id + "-flip"
    image = load_colour(lfw(SAME_A))
    crop = plain.align(image, plain.detect(image)[0])
    both = plain.embed([crop, np.ascontiguousarray(crop[:, ::-1])])
    expected = both.sum(axis=0) / np.linalg.norm(both.sum(axis=0))
    np.testing.assert_allclose(flip.embed([crop])[0], expected, atol=1e-5)
    a = extract_faces(lfw(SAME_A), params=DEFAULT_FACE_PARAMS.with_changes(model="yunet-sface-ort-flip"))
    b = extract_faces(lfw(SAME_B), params=DEFAULT_FACE_PARAMS.with_changes(model="yunet-sface-ort-flip"))
    assert a.accepted[0].model_id == flip.model_id
    assert float(a.accepted[0].embedding @ b.accepted[0].embedding) > 0.5


class _Spy:
    """Wraps a model and records the input sizes the detector is run at."""

    def __init__(self, inner):
        self.inner, self.sizes = inner, []
        self.model_id, self.embedding_dim = inner.model_id, inner.embedding_dim

    def detect(self, image, **kw):
        self.sizes.append(max(image.shape[:2]))
        return self.inner.detect(image, **kw)


def test_two_scale_detection_refines_only_when_a_small_face_may_be_missed():
    spy = _Spy(get_model(DEFAULT_FACE_PARAMS.model))
    face = load_colour(lfw(SAME_A))
    big_face = np.full((480, 640, 3), 127, np.uint8)
    big_face[100:350, 200:450] = face
    rows = detect_faces(spy, big_face)
    assert spy.sizes == [320] and rows.shape[0] == 1
    # three faces about 26 px wide in a 1024x768 image: 8 px at the coarse scale, 16 px at the fine one
    small = cv2.resize(face, (70, 70), interpolation=cv2.INTER_AREA)
    crowd = np.full((768, 1024, 3), 127, np.uint8)
    for x in (100, 450, 800):
        crowd[300:370, x:x + 70] = small
    spy.sizes.clear()
    rows = detect_faces(spy, crowd)
    assert spy.sizes == [320, 640] and rows.shape[0] == 3
    off = DEFAULT_FACE_PARAMS.with_changes(detect_coarse_side_px=0)
    spy.sizes.clear()
    assert detect_faces(spy, crowd, off).shape[0] == 3 and spy.sizes == [640]
    spy.sizes.clear()
    detect_faces(spy, face)  # 250 px: already below the coarse size, one pass at full size
    assert spy.sizes == [250]
