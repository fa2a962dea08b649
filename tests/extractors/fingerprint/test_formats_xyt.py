"""NIST xyt import/export: NBIS conventions, round trips, malformed input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biomatch.extractors.fingerprint.formats import read_xyt, write_xyt
from biomatch.extractors.fingerprint.template import FingerprintTemplate

W, H = 388, 374


def one(x, y, angle, quality=50, kind=1):
    return FingerprintTemplate(x=[x], y=[y], angle=[angle], kind=[kind], quality=[quality], width=W, height=H)


# ------------------------------------------------------------------ conventions
@pytest.mark.parametrize(
    "angle, nist_theta, m1_theta",
    [
        (0.0, 180, 0),  # pointing right: M1 keeps it, NIST internal turns it half a turn
        (np.pi / 2, 90, 270),  # pointing down the image
        (np.pi, 0, 180),  # pointing left
        (3 * np.pi / 2, 270, 90),  # pointing up the image
        (np.radians(30), 150, 330),  # 30 deg clockwise on screen from right
    ],
)
def test_angle_conventions_match_nbis(angle, nist_theta, m1_theta):
    t = one(100, 20, angle)
    assert write_xyt(t, rep="nist") == f"100 {H - 20} {nist_theta} 50\n".encode()
    assert write_xyt(t, rep="m1") == f"100 20 {m1_theta} 50\n".encode()


def test_mindtct_nist_formula_imports_to_image_convention():
    # mindtct (xytreps.c): x = col, y = ih - row, t = (270 - 11.25 * lfs_dir) mod 360,
    # lfs_dir 0 = up the image, turning clockwise, pointing up the ridge.
    # lfs_dir 8 (pointing right) on row 10 -> xyt "50 364 180"; lfs_dir 16 (down) -> 90.
    t = read_xyt(b"50 364 180 73\n60 300 90 12\n", width=W, height=H)
    np.testing.assert_array_equal(t.x, [50, 60])
    np.testing.assert_array_equal(t.y, [10, H - 300])
    np.testing.assert_allclose(t.angle, [0.0, np.pi / 2], atol=1e-6)
    np.testing.assert_array_equal(t.quality, [73, 12])
    assert (t.width, t.height, t.dpi) == (W, H, 500)


def test_m1_rep_keeps_top_left_origin():
    t = read_xyt(b"50 10 0 73\n", width=W, height=H, rep="m1")
    assert (t.x[0], t.y[0], t.angle[0]) == (50, 10, 0)


def test_bozorth3_style_negative_theta_and_three_columns():
    t = read_xyt(b"1 2 -90\n3 4 270\n", width=W, height=H, default_quality=7)
    assert t.angle[0] == t.angle[1]  # -90 and 270 are the same direction
    np.testing.assert_array_equal(t.quality, [7, 7])


def test_empty_file_is_an_empty_template():
    t = read_xyt(b"", width=W, height=H, dpi=569)
    assert len(t) == 0 and t.dpi == 569


# ------------------------------------------------------------------- round trip
def test_text_round_trip_is_byte_exact():
    text = b"0 374 0 0\n387 1 359 100\n120 200 45 61\n5 5 180 9\n"
    for rep in ("nist", "m1"):
        assert write_xyt(read_xyt(text, width=W, height=H, rep=rep), rep=rep) == text


@settings(max_examples=60, deadline=None, database=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, W), st.integers(0, H), st.integers(0, 359), st.integers(0, 100)),
        max_size=40,
    ),
    rep=st.sampled_from(["nist", "m1"]),
)
def test_integer_template_round_trips_exactly(rows, rep):
    arr = np.array(rows, dtype=np.float64).reshape(-1, 4)
    angle = np.float32(np.radians(arr[:, 2]))
    t = FingerprintTemplate(x=arr[:, 0], y=arr[:, 1], angle=angle, kind=np.zeros(len(arr)), quality=arr[:, 3],
                            width=W, height=H)
    back = read_xyt(write_xyt(t, rep=rep), width=W, height=H, rep=rep)
    np.testing.assert_array_equal(back.x, t.x)
    np.testing.assert_array_equal(back.y, t.y)
    np.testing.assert_array_equal(back.quality, t.quality)
    np.testing.assert_allclose(back.angle, t.angle, atol=1e-6)


@settings(max_examples=60, deadline=None, database=None)
@given(st.floats(0, W), st.floats(0, H), st.floats(0, 2 * np.pi, exclude_max=True))
def test_any_template_round_trips_within_half_a_unit(x, y, angle):
    t = one(x, y, angle)
    back = read_xyt(write_xyt(t), width=W, height=H)
    assert abs(back.x[0] - t.x[0]) <= 0.5 and abs(back.y[0] - t.y[0]) <= 0.5
    diff = abs((float(back.angle[0]) - float(t.angle[0]) + np.pi) % (2 * np.pi) - np.pi)
    assert diff <= np.radians(0.5) + 1e-6


# ------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "text, message",
    [
        (b"1 2\n", "line 1: expected 3 or 4 columns"),
        (b"1 2 3 4 5\n", "line 1: expected 3 or 4 columns"),
        (b"1 2 3 4\n1 2 3\n", "line 2: 3 columns where earlier lines have 4"),
        (b"1 2 x 4\n", "line 1: 'x' is not an integer"),
        (b"1.5 2 3 4\n", "line 1: '1.5' is not an integer"),
        (b"1 2 nan 4\n", "line 1: 'nan' is not an integer"),
        (b"1 2 3 101\n", "line 1: quality 101 out of range"),
        (b"1 2 3 -1\n", "line 1: quality -1 out of range"),
        (b"1 2 400 5\n", "line 1: theta 400 out of range"),
        (b"389 2 3 5\n", r"line 1: position \(389, 2\) outside the 388x374 image"),
        (b"5 5 5 5\n\n5 375 3 5\n", r"line 3: position \(5, 375\) outside the 388x374 image"),
        (b"-1 2 3 5\n", r"position \(-1, 2\) outside"),
        (b"\xff\xfe1 2 3\n", "not ASCII text"),
        (b"99999999 2 3 5\n", "line 1: '99999999' is out of range"),
    ],
)
def test_malformed_xyt_rejected_precisely(text, message):
    with pytest.raises(ValueError, match=message):
        read_xyt(text, width=W, height=H)


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"width": 0, "height": H}, "image width 0 out of range"),
        ({"width": W, "height": 70000}, "image height 70000 out of range"),
        ({"width": W, "height": H, "dpi": 50}, "resolution 50 dpi out of range"),
        ({"width": W, "height": H, "rep": "ansi"}, "rep must be one of"),
        ({"width": 388.0, "height": H}, "width must be an integer"),
    ],
)
def test_bad_reader_arguments_rejected(kw, message):
    with pytest.raises(ValueError, match=message):
        read_xyt(b"1 2 3 4\n", **kw)


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_value_error(data):
    try:
        read_xyt(data, width=W, height=H)
    except ValueError:
        pass


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(alphabet="0123456789 -+\n\t.x", max_size=120))
def test_random_xyt_like_text_raises_only_value_error(text):
    try:
        read_xyt(text.encode(), width=W, height=H)
    except ValueError:
        pass
