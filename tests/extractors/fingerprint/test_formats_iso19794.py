"""ISO/IEC 19794-2:2005 records: layout, conventions, round trips, malformed input."""
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biomatch.extractors.fingerprint.formats import read_iso, read_iso_record, write_iso
from biomatch.extractors.fingerprint.template import FingerprintTemplate, MinutiaeSource

W, H = 388, 374


def record(views, width=W, height=H, ppcm=197, version=b" 20\x00", equipment=0):
    """Build a record by hand, byte by byte, independently of write_iso.

    ``views``: list of (position, view, impression, quality, minutiae, ext) with
    minutiae as (kind, x, y, angle_code, quality) tuples.
    """
    body = b""
    for position, view, impression, quality, minutiae, ext in views:
        body += bytes([position, (view << 4) | impression, quality, len(minutiae)])
        for kind, x, y, code, q in minutiae:
            body += struct.pack(">HHBB", (kind << 14) | x, y, code, q)
        body += struct.pack(">H", len(ext)) + ext
    header = b"FMR\x00" + version + struct.pack(">IHHHHHBB", 24 + len(body), equipment, width, height, ppcm, ppcm,
                                               len(views), 0)
    return header + body


def one(x, y, angle, kind=1, quality=50, **kw):
    return FingerprintTemplate(x=[x], y=[y], angle=[angle], kind=[kind], quality=[quality], width=W, height=H, **kw)


# ------------------------------------------------------------------ layout
def test_written_layout_field_by_field():
    t = FingerprintTemplate(x=[10, 387], y=[5, 373], angle=[0.0, np.pi / 2], kind=[1, 2], quality=[80, 0],
                            width=W, height=H, dpi=500, quality_score=61)
    data = write_iso(t, finger_position=7, view_number=2, impression_type=1, equipment_id=0x123)
    assert data[:8] == b"FMR\x00 20\x00"
    assert struct.unpack(">I", data[8:12])[0] == len(data) == 24 + 4 + 2 * 6 + 2
    assert struct.unpack(">HHHHHBB", data[12:24]) == (0x123, W, H, 197, 197, 1, 0)
    assert data[24:28] == bytes([7, 0x21, 61, 2])
    assert struct.unpack(">HHBB", data[28:34]) == ((1 << 14) | 10, 5, 0, 80)
    assert struct.unpack(">HHBB", data[34:40]) == ((2 << 14) | 387, 373, 192, 0)  # down = 270 deg = 192 units
    assert data[40:] == b"\x00\x00"


@pytest.mark.parametrize(
    "angle, code",
    [(0.0, 0), (np.pi / 2, 192), (np.pi, 128), (3 * np.pi / 2, 64), (np.radians(45), 224), (np.radians(359.5), 0)],
)
def test_angle_units_are_counter_clockwise_256ths(angle, code):
    assert write_iso(one(3, 4, angle))[24 + 4 + 4] == code


def test_hand_made_record_reads_to_image_convention():
    data = record([(2, 0, 0, 77, [(1, 100, 30, 0, 90), (2, 5, 6, 192, 10), (0, 7, 8, 64, 0)], b"")])
    t = read_iso(data)
    np.testing.assert_array_equal(t.x, [100, 5, 7])
    np.testing.assert_array_equal(t.y, [30, 6, 8])
    np.testing.assert_allclose(t.angle, [0.0, np.pi / 2, 3 * np.pi / 2], atol=1e-6)  # right, down, up
    np.testing.assert_array_equal(t.kind, [1, 2, 0])
    np.testing.assert_array_equal(t.quality, [90, 10, 0])
    assert (t.width, t.height, t.dpi, t.quality_score) == (W, H, 500, 77)


def test_all_views_read_and_chosen_view_returned():
    ext = b"\x00\x02\x00\x05\x01"  # an opaque extended data item, kept raw
    data = record([
        (1, 0, 0, 50, [(1, 10, 10, 0, 50)], b""),
        (6, 1, 2, 40, [(2, 20, 20, 64, 60), (1, 30, 30, 128, 70)], ext),
    ], equipment=(3 << 12) | 0x456)
    rec = read_iso_record(data)
    assert (rec.width, rec.height, rec.dpi, rec.compliance, rec.equipment_id) == (W, H, 500, 3, 0x456)
    assert [(v.finger_position, v.view_number, v.impression_type, v.finger_quality) for v in rec.views] == [
        (1, 0, 0, 50), (6, 1, 2, 40)]
    assert rec.views[1].extended_data == ext
    assert len(read_iso(data)) == 1
    second = read_iso(data, view=1)
    assert len(second) == 2 and second.quality_score == 40
    with pytest.raises(ValueError, match="has 2 finger views, no view index 2"):
        read_iso(data, view=2)


@pytest.mark.parametrize("ppcm, dpi", [(197, 500), (394, 1000), (98, 250), (224, 569), (202, 513), (200, 508)])
def test_resolution_from_pixels_per_cm(ppcm, dpi):
    # 394 px/cm is 1000.76 dpi: the cell [999.5, 1002.0) holds 1000, so 1000 it is
    assert read_iso_record(record([(0, 0, 0, 0, [], b"")], ppcm=ppcm)).dpi == dpi


def test_resolution_override():
    rec = read_iso_record(record([(0, 0, 0, 0, [], b"")], ppcm=202), dpi_override=512)
    assert rec.dpi == 512 and rec.views[0].template.dpi == 512


# ------------------------------------------------------------------ round trips
def test_bytes_round_trip_exact():
    data = record([(3, 0, 0, 88, [(1, 0, 0, 0, 100), (2, 387, 373, 255, 1), (0, 200, 100, 17, 0)], b"")])
    assert write_iso(read_iso(data), finger_position=3) == data


@settings(max_examples=80, deadline=None, database=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 2), st.integers(0, W - 1), st.integers(0, H - 1), st.integers(0, 255),
                            st.integers(0, 100)), max_size=60),
    quality_score=st.integers(0, 100),
    dpi=st.sampled_from([500, 1000, 569, 250, 600, 2000]),
)
def test_template_on_format_grid_round_trips_exactly(rows, quality_score, dpi):
    arr = np.array(rows, dtype=np.int64).reshape(-1, 5)
    angle = np.radians(np.mod(360.0 - arr[:, 3] * 1.40625, 360.0)).astype(np.float32)
    t = FingerprintTemplate(x=arr[:, 1], y=arr[:, 2], angle=angle, kind=arr[:, 0], quality=arr[:, 4],
                            width=W, height=H, dpi=dpi, quality_score=quality_score,
                            minutiae_source=MinutiaeSource.IMPORTED)  # the format carries no detector
    assert read_iso(write_iso(t)) == t


@settings(max_examples=80, deadline=None, database=None)
@given(st.floats(0, W), st.floats(0, H), st.floats(0, 2 * np.pi, exclude_max=True))
def test_any_template_round_trips_within_half_a_unit(x, y, angle):
    back = read_iso(write_iso(one(x, y, angle)))
    # nearest pixel, halves up, clamped into the image (x = W is a valid template position, not an ISO one)
    assert back.x[0] == min(np.floor(float(np.float32(x)) + 0.5), W - 1)
    assert back.y[0] == min(np.floor(float(np.float32(y)) + 0.5), H - 1)
    diff = abs((float(back.angle[0]) - angle + np.pi) % (2 * np.pi) - np.pi)
    assert diff <= np.pi / 256 + 1e-6


# ------------------------------------------------------------------ bad input
GOOD = record([(1, 0, 0, 50, [(1, 10, 10, 0, 50), (2, 20, 20, 64, 60)], b"")])


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "bad magic"),
        (b"BMFP" + GOOD[4:], "bad magic"),
        (b"FMR\x00 30\x00" + GOOD[8:], "version b' 30\\\\x00' is not supported"),
        (GOOD[:20], "header alone needs 24"),
        (GOOD[:-3], f"header says {len(GOOD)} bytes, got {len(GOOD) - 3}"),
        (GOOD[:8] + struct.pack(">I", len(GOOD) - 1) + GOOD[12:], f"says {len(GOOD) - 1} bytes but there are"),
        (record([(1, 0, 0, 50, [(3, 10, 10, 0, 50)], b"")]), "minutia 0: reserved minutia type code 3"),
        (record([(1, 0, 0, 50, [(1, 10, 10, 0, 50), (1, W, 10, 0, 50)], b"")]),
         r"minutia 1: position \(388, 10\) outside the 388x374 image"),
        (record([(1, 0, 0, 50, [(1, 10, H + 5, 0, 50)], b"")]), r"position \(10, 379\) outside"),
        (record([(1, 0, 0, 50, [(1, 10, 10, 0, 101)], b"")]), "quality 101 out of range"),
        (record([(1, 0, 0, 150, [], b"")]), "finger quality 150 out of range"),
        (record([(11, 0, 0, 50, [], b"")]), "finger position 11 is not 0..10"),
        (record([(1, 0, 0, 50, [], b"")], width=0), "empty image size 0x374"),
        (record([(1, 0, 0, 50, [], b"")], ppcm=0), "resolution 0 pixels/cm"),
        (record([(1, 0, 0, 50, [], b"")], ppcm=10), "resolution 25 dpi out of range"),
        (record([]), "no finger views"),
    ],
)
def test_malformed_records_rejected_precisely(data, message):
    with pytest.raises(ValueError, match=message):
        read_iso(data)


def test_declared_minutiae_beyond_the_data_are_truncation():
    data = bytearray(GOOD)
    data[27] = 200  # the view claims 200 minutiae
    with pytest.raises(ValueError, match="finger view 0 declares 200 minutiae"):
        read_iso(bytes(data))


def test_extra_bytes_after_last_view_rejected():
    data = GOOD + b"\x00\x00"
    data = data[:8] + struct.pack(">I", len(data)) + data[12:]
    with pytest.raises(ValueError, match="2 bytes after its last finger view"):
        read_iso(data)


def test_ansi_378_record_is_named():
    ansi = b"FMR\x00 20\x00" + struct.pack(">H", 26) + bytes(16)
    with pytest.raises(ValueError, match="ANSI INCITS 378"):
        read_iso(ansi)


def test_non_square_pixels_refused():
    data = bytearray(record([(1, 0, 0, 50, [], b"")]))
    data[20:22] = struct.pack(">H", 150)
    with pytest.raises(ValueError, match="non-square pixels"):
        read_iso(bytes(data))


@pytest.mark.parametrize(
    "kw, message",
    [({"finger_position": 11}, "finger position 11"), ({"view_number": 16}, "view number 16"),
     ({"impression_type": -1}, "impression type -1"), ({"equipment_id": 5000}, "equipment id 5000")],
)
def test_writer_rejects_bad_header_fields(kw, message):
    with pytest.raises(ValueError, match=message):
        write_iso(one(1, 1, 0.0), **kw)


def test_writer_rejects_too_many_minutiae():
    n = 256
    t = FingerprintTemplate(x=np.zeros(n), y=np.zeros(n), angle=np.zeros(n), kind=np.ones(n), quality=np.ones(n),
                            width=W, height=H)
    with pytest.raises(ValueError, match="256 minutiae, a finger view holds at most 255"):
        write_iso(t)


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=120))
def test_random_bytes_raise_only_value_error(data):
    for candidate in (data, b"FMR\x00 20\x00" + data):
        try:
            read_iso_record(candidate)
        except ValueError:
            pass


@settings(max_examples=300, deadline=None, database=None)
@given(st.integers(0, len(GOOD) - 1), st.integers(0, 255), st.integers(0, len(GOOD)))
def test_mutated_records_raise_only_value_error(index, value, cut):
    data = bytearray(GOOD)
    data[index] = value
    try:
        read_iso_record(bytes(data[:cut]))
    except ValueError:
        pass
