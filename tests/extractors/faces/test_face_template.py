from pathlib import Path

import numpy as np
import pytest

from biomatch.extractors.faces import FaceTemplate, FaceTemplateVersionError

GOLDEN = Path(__file__).parent / "data" / "face_template_v1.bin"


def make_template(**changes) -> FaceTemplate:
    emb = np.cos(np.arange(128, dtype=np.float64) * 0.37)
    values = dict(embedding=emb / np.linalg.norm(emb), model_id="sface-2021dec-int8bq",
                  box=[10.5, 20.25, 100, 120], landmarks=np.arange(10).reshape(5, 2) + 30.0,
                  detection_score=0.93, size_px=100.0, blur=150.5, yaw_deg=-9.5, pitch_deg=5.25, roll_deg=0.125,
                  image_width=250, image_height=250, algorithm_version=1)
    values.update(changes)
    return FaceTemplate(**values)


def test_round_trip():
    t = make_template().validate()
    assert FaceTemplate.from_bytes(t.to_bytes()) == t


def test_golden_file_still_loads_and_writes_identically():
    # written once by make_template().to_bytes() at template version 1; never regenerate it
    data = GOLDEN.read_bytes()
    assert FaceTemplate.from_bytes(data) == make_template()
    assert make_template().to_bytes() == data


@pytest.mark.parametrize("changes, match", [
    (dict(embedding=np.ones(128)), "norm"),
    (dict(embedding=np.full(128, np.nan)), "non-finite"),
    (dict(box=[0, 0, 0, 10]), "no area"),
    (dict(landmarks=np.zeros((4, 2))), "shape"),
    (dict(detection_score=1.5), "detection score"),
    (dict(model_id=""), "model_id"),
    (dict(image_width=0), "image size"),
])
def test_validate_names_the_problem(changes, match):
    with pytest.raises(ValueError, match=match):
        make_template(**changes).validate()


def test_from_bytes_refuses_malformed_data():
    data = make_template().to_bytes()
    with pytest.raises(ValueError, match="too short"):
        FaceTemplate.from_bytes(data[:3])
    with pytest.raises(ValueError, match="magic"):
        FaceTemplate.from_bytes(b"XXXX" + data[4:])
    with pytest.raises(ValueError, match="expected"):
        FaceTemplate.from_bytes(data[:-1])
    future = bytearray(data)
    future[4] = 99
    with pytest.raises(FaceTemplateVersionError):
        FaceTemplate.from_bytes(bytes(future))
