"""Minutiae JSON (examiner markup): schema, conventions, round trips, malformed input."""
import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biomatch.extractors.fingerprint.formats import read_json, read_iso, write_iso, write_json
from biomatch.extractors.fingerprint.template import FingerprintTemplate, MinutiaeSource

W, H = 388, 374


def doc(minutiae, **top):
    base = {"width": W, "height": H, "dpi": 1000, "minutiae": minutiae}
    base.update(top)
    return json.dumps(base).encode()


def test_examiner_markup_reads_in_iso_convention_by_default():
    t = read_json(doc([
        {"x": 10.5, "y": 20, "angle_deg": 0, "kind": "ending", "quality": 90},
        {"x": 30, "y": 40, "angle_deg": 270, "kind": "bifurcation"},
        {"x": 50, "y": 60, "angle_deg": -90},
    ], quality_score=12))
    np.testing.assert_array_equal(t.x, [10.5, 30, 50])
    np.testing.assert_array_equal(t.y, [20, 40, 60])
    # 0 = right; 270 counter-clockwise on screen = down the image = pi/2 in image coordinates
    np.testing.assert_allclose(t.angle, [0.0, np.pi / 2, np.pi / 2], atol=1e-6)
    np.testing.assert_array_equal(t.kind, [1, 2, 0])
    np.testing.assert_array_equal(t.quality, [90, 0, 0])
    assert (t.width, t.height, t.dpi, t.quality_score) == (W, H, 1000, 12)


def test_image_convention_is_clockwise_on_screen():
    t = read_json(doc([{"x": 1, "y": 1, "angle_deg": 90, "kind": 2}], angle_convention="image"))
    np.testing.assert_allclose(t.angle, [np.pi / 2], atol=1e-6)


def test_json_and_iso_agree_on_a_minutia_pointing_down():
    t = read_json(doc([{"x": 100, "y": 100, "angle_deg": 270, "kind": "ending", "quality": 50}]))
    assert write_iso(t)[24 + 4 + 4] == 192
    assert read_iso(write_iso(t)).angle[0] == t.angle[0]


@settings(max_examples=60, deadline=None, database=None)
@given(
    rows=st.lists(st.tuples(st.floats(0, W, width=32), st.floats(0, H, width=32),
                            st.just(0.0) | st.floats(0.0009765625, 6.2831850051879883, width=32), st.integers(0, 2),
                            st.integers(0, 100)), max_size=30),
    convention=st.sampled_from(["iso", "image"]),
)
def test_round_trip_is_exact(rows, convention):
    # Exact for every float32 angle except those within ~1e-13 rad of 0 (they read back as 0):
    # 360 - degrees(angle) cannot resolve them in float64.
    arr = np.array(rows, dtype=np.float64).reshape(-1, 5)
    angle = arr[:, 2].astype(np.float32)  # float32 values below 2*pi
    t = FingerprintTemplate(x=arr[:, 0], y=arr[:, 1], angle=angle, kind=arr[:, 3], quality=arr[:, 4],
                            width=W, height=H, dpi=500, quality_score=33)
    back = read_json(write_json(t, angle_convention=convention))
    # the format carries no detector: what is read back is marked as imported
    assert back.minutiae_source == MinutiaeSource.IMPORTED
    assert back == dataclasses.replace(t, minutiae_source=MinutiaeSource.IMPORTED)


def test_written_document_is_self_describing():
    t = FingerprintTemplate(x=[1.25], y=[2], angle=[np.pi], kind=[1], quality=[9], width=W, height=H)
    out = json.loads(write_json(t))
    assert out["format"] == "biomatch.minutiae" and out["version"] == 1 and out["angle_convention"] == "iso"
    assert out["minutiae"] == [{"x": 1.25, "y": 2, "angle_deg": 180, "kind": "ending", "quality": 9}]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "not valid JSON"),
        (b"[1, 2]", "top level must be an object, got list"),
        (b"\xff\xfe{}", "not UTF-8 text"),
        (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
        (doc([]).replace(b'"dpi": 1000, ', b""), "missing required key 'dpi'"),
        (doc([], angle="x"), r"unknown key\(s\) \['angle'\]"),
        (doc([], version=2), "version 2 is not supported"),
        (doc([], format="other"), "format 'other' is not"),
        (doc([], angle_convention="cw"), "angle_convention 'cw' is not one of"),
        (doc([], width=0), "image width 0 out of range"),
        (doc([], dpi=10), "resolution 10 dpi out of range"),
        (doc([], dpi=500.5), "dpi must be an integer"),
        (doc({"x": 1}), "'minutiae' must be a list"),
        (doc([[1, 2, 3]]), "minutia 0 must be an object"),
        (doc([{"x": 1, "y": 2, "angle": 3}]), r"minutia 0: unknown key\(s\) \['angle'\]"),
        (doc([{"x": 1, "y": 2}]), "minutia 0: missing 'angle_deg'"),
        (doc([{"x": 1, "y": 2, "angle_deg": 0}, {"x": "1", "y": 2, "angle_deg": 0}]), "minutia 1 x must be a number"),
        (doc([{"x": True, "y": 2, "angle_deg": 0}]), "minutia 0 x must be a number"),
        (b'{"width": 388, "height": 374, "dpi": 500, "minutiae": [{"x": NaN, "y": 1, "angle_deg": 0}]}',
         "NaN is not a number"),
        (doc([{"x": 1, "y": 2, "angle_deg": 0}]).replace(b'"x": 1,', b'"x": 1e400,'), "minutia 0 x must be finite"),
        (doc([{"x": 389, "y": 2, "angle_deg": 0}]), r"minutia 0: position \(389, 2\) outside the 388x374 image"),
        (doc([{"x": 3, "y": -0.5, "angle_deg": 0}]), r"position \(3, -0.5\) outside"),
        (doc([{"x": 3, "y": 2, "angle_deg": 400}]), "angle_deg 400 out of range"),
        (doc([{"x": 3, "y": 2, "angle_deg": 0, "kind": "lake"}]), "minutia 0 kind 'lake' is not one of"),
        (doc([{"x": 3, "y": 2, "angle_deg": 0, "kind": 3}]), "minutia 0 kind 3 out of range 0..2"),
        (doc([{"x": 3, "y": 2, "angle_deg": 0, "quality": 101}]), "minutia 0 quality 101 out of range"),
        (doc([{"x": 3, "y": 2, "angle_deg": 0, "quality": 50.0}]), "quality must be an integer"),
    ],
)
def test_malformed_json_rejected_precisely(data, message):
    with pytest.raises(ValueError, match=message):
        read_json(data)


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_value_error(data):
    try:
        read_json(data)
    except ValueError:
        pass


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, database=None)
@given(
    top=st.fixed_dictionaries({}, optional={k: _json_values for k in ("width", "height", "dpi", "version",
                                                                      "angle_convention", "quality_score")}),
    minutiae=st.lists(st.dictionaries(st.sampled_from(["x", "y", "angle_deg", "kind", "quality"]), _json_values),
                      max_size=3) | _json_values,
)
def test_structured_garbage_raises_only_value_error(top, minutiae):
    top = {"width": W, "height": H, "dpi": 500, **top, "minutiae": minutiae}
    try:
        read_json(json.dumps(top).encode())
    except ValueError:
        pass
