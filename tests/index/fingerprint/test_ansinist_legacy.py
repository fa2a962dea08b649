"""Legacy ANSI/NIST-ITL Type-9 minutiae (9.004-9.012): conventions, round trips, matching, bad input.

The worked examples are computed by hand from the NBIS formulas quoted in
``index/fingerprint/ansinist_legacy.py`` (0.01 mm units, origin bottom-left,
theta counter-clockwise and half a turn from INCITS 378 / ISO).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from afis_helpers import SET
from biomatch.extractors.fingerprint.formats import read_iso, read_xyt, write_iso
from biomatch.extractors.fingerprint.template import FingerprintTemplate
from biomatch.extractors.imageio import load_grey
from biomatch.index.fingerprint.ansinist import read_transaction, type9_record, write_transaction
from biomatch.index.fingerprint.ansinist_legacy import read_legacy, write_legacy
from biomatch.matcher.fingerprint import prepare, score
from biomatch.matcher.fingerprint.calibration import default_calibration

PX_PER_UNIT = 500 / 2540  # 0.01 mm at 500 ppi
NBIS_XYT = Path(__file__).parents[2] / "extractors" / "fingerprint" / "golden" / "nbis_mindtct_fvc2002_db1_b_102_1.xyt"
FUZZ = settings(max_examples=int(os.environ.get("BIOMATCH_FUZZ_EXAMPLES", 100)), deadline=None,
                derandomize="BIOMATCH_FUZZ_EXAMPLES" not in os.environ, suppress_health_check=[HealthCheck.too_slow])


def _transaction(type9: dict, *, image_px: tuple[int, int] | None = (400, 500), dpi: int = 500, idc: int = 1) -> bytes:
    """A transaction with a Type-9 record of the given fields, and a Type-14 image (width, height) of the same IDC."""
    import nistitl

    msg = nistitl.Message()
    msg.TOT, msg[0].TCN = "CAR", "LEGACY-1"
    if image_px is not None:
        w, h = image_px
        r = nistitl.AsciiRecord(14)
        r.IDC, r.IMP, r.SRC = idc, "3", "TEST"
        r.HLL, r.VLL, r.SLC, r.THPS, r.TVPS = str(w), str(h), "1", str(dpi), str(dpi)
        r.CGA, r.BPX, r.FGP = "NONE", "8", "2"
        r._999 = bytes(w * h)
        msg += r
    r9 = nistitl.AsciiRecord(9)
    r9.IDC = idc
    for tag, value in [(3, "0"), (4, "S")] + sorted(type9.items()):
        r9 += nistitl.Field(9, tag, value)
    msg += r9
    return msg.NIST


def _angle_deg_diff(a, b) -> np.ndarray:
    return np.degrees(np.abs(np.angle(np.exp(1j * (np.asarray(a, np.float64) - np.asarray(b, np.float64))))))


# --------------------------------------------------------------------------------------------- conventions
WORKED = {5: [["AFIS-X", "A"]], 6: "02", 7: [["T", "UN"]], 10: "2", 11: "0",
          # ending at (100, 100) px pointing right (biomatch 0): 100 px = 5.08 mm -> X 0508; in a 500 px
          # (25.40 mm, H = 2540) tall image, y from the bottom = 2540 - 1 - 508 = 2031; theta half a turn from
          # INCITS 378's 0 = 180. Bifurcation at (200, 300) px pointing down the image (biomatch pi/2): X 1016,
          # Y = 2539 - 1524 = 1015, theta = 180 - 90 = 90 (INCITS 378 / ISO would say 270).
          12: [["001", "05082031180", "02", "A"], ["002", "10161015090", "63", "B"]],
          # a core at (200, 200) px: Y = 2539 - 1016; a delta at (203 units = 39.96 px, 400 px): Y = 2539 - 2032
          8: "10161523", 9: "02030507"}


@pytest.mark.parametrize("dpi", [500, 1000])
def test_worked_example_lands_at_the_hand_computed_pixels_and_angles(dpi):
    scale = dpi // 500  # the same 20.32 x 25.40 mm image at 1000 ppi: 0.01 mm units do not depend on the scan
    tx = read_transaction(_transaction(WORKED, image_px=(400 * scale, 500 * scale), dpi=dpi))
    idc, pos, t = tx.minutiae[0]
    assert (idc, pos, t.width, t.height, t.dpi) == (1, 2, 400, 500, 500)
    np.testing.assert_allclose(t.x, [100, 200], atol=1e-3)
    np.testing.assert_allclose(t.y, [100, 300], atol=1e-3)
    np.testing.assert_allclose(t.angle, [0, np.pi / 2], atol=1e-6)
    assert t.kind.tolist() == [1, 2] and t.quality.tolist() == [100, 1]  # legacy 2 is best, 63 worst
    np.testing.assert_allclose(t.cores[:, :2], [[200, 200]], atol=1e-3)
    np.testing.assert_allclose(t.deltas[:, :2], [[203 * PX_PER_UNIT, 400]], atol=1e-3)
    assert np.isnan(t.cores[0, 2])
    # ISO writes the same bifurcation as 270 degrees counter-clockwise (code 192): half a turn from legacy 90
    assert read_iso(write_iso(t)).angle[1] == pytest.approx(np.pi / 2, abs=1e-6)
    assert write_iso(t)[28 + 6 + 4] == 192  # 24-byte header, 4-byte view header, second minutia's angle byte
    # and writing the template back gives the hand-computed items
    fields = dict(write_legacy(t, position=2))
    assert [row[:2] + row[3:] for row in fields[12]] == [["001", "05082031180", "A"], ["002", "10161015090", "B"]]
    assert [row[2] for row in fields[12]] == ["02", "63"]
    assert fields[8] == [["10161523"]] and fields[10] == "2" and fields[6] == "02"


def test_without_the_image_height_y_is_right_up_to_a_shift():
    tx = read_transaction(_transaction(WORKED, image_px=None))
    t = tx.minutiae[0][2]
    np.testing.assert_allclose(t.x, [100, 200], atol=1e-3)
    # handedness kept: the ending is 200 px above the bifurcation, as in the image; only the origin moved
    assert t.y[1] - t.y[0] == pytest.approx(200, abs=1e-3)
    np.testing.assert_allclose(t.angle, [0, np.pi / 2], atol=1e-6)


def test_nbis_mindtct_minutiae_written_as_9012_point_the_way_ours_do(fvc_template):
    """NBIS's own minutiae, encoded into 9.012 with NBIS's ``minutiae2field_12`` formulas, read like ours.

    The golden file holds mindtct's minutiae of FVC2002 DB1_B 102_1 in NIST
    internal xyt (y = ih - row, theta = 270 - LFS degrees: the value NBIS also
    writes as the 9.012 theta). A missing y flip would mirror them and a
    missing half turn would oppose them; both would fail this test.
    """
    ours = fvc_template("fvc2002_db1_b", "102_1")
    xyt = np.loadtxt(NBIS_XYT, dtype=np.int64, ndmin=2)
    ppmm = 500 / 25.4
    h_units = int(np.floor(ours.height / ppmm * 100 + 0.5))
    items = []
    for i, (x, y_up, theta, rel) in enumerate(xyt):
        row = ours.height - y_up
        xu, yu = int(np.floor(x / ppmm * 100 + 0.5)), h_units - 1 - int(np.floor(row / ppmm * 100 + 0.5))
        items.append([f"{i + 1:03d}", f"{xu:04d}{yu:04d}{theta:03d}", f"{int(np.floor(63 - rel / 100 * 61 + 0.5)):02d}",
                      "D"])
    raw = _transaction({10: str(len(items)), 11: "0", 12: items}, image_px=(ours.width, ours.height))
    theirs = read_transaction(raw).minutiae[0][2]
    again = read_xyt(NBIS_XYT, width=ours.width, height=ours.height, dpi=500)
    assert np.abs(theirs.x - again.x).max() <= 0.11 and np.abs(theirs.y - again.y).max() <= 0.11
    assert _angle_deg_diff(theirs.angle, again.angle).max() < 1e-3
    diffs = []
    for x, y, a in zip(ours.x, ours.y, ours.angle):
        dist = np.hypot(theirs.x - x, theirs.y - y)
        j = int(np.argmin(dist))
        if dist[j] <= 5:
            diffs.append(_angle_deg_diff(theirs.angle[j], a))
    diffs = np.array(diffs)
    assert len(diffs) >= 10
    assert np.mean(diffs < 45) >= 0.9 and np.median(diffs) < 15  # same criteria as the NIST xyt import test


# --------------------------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("key", ["101_1", "104_3", "108_2"])
def test_round_trip_on_fvc_templates_is_exact_within_format_precision(fvc_dir, fvc_template, key):
    t = fvc_template(SET, key)
    image = load_grey(fvc_dir / SET / f"{key}.tif")
    raw = write_transaction(fingers={4: (image, 500)}, compression="NONE", minutiae={4: t}, type9_blocks="legacy")
    tx = read_transaction(raw)
    idc, pos, back = tx.minutiae[0]
    assert idc == tx.fingers[0].idc and pos == 4  # the Type-9 record shares its image's IDC
    assert (back.width, back.height, len(back)) == (t.width, t.height, len(t))
    half_unit_px = 0.5 * PX_PER_UNIT  # 0.005 mm: half the 0.01 mm step
    assert np.abs(back.x - t.x).max() <= half_unit_px + 1e-3
    assert np.abs(back.y - t.y).max() <= half_unit_px + 1e-3
    assert _angle_deg_diff(back.angle, t.angle).max() <= 0.5 + 1e-3  # whole degrees
    np.testing.assert_array_equal(back.kind, t.kind)
    assert np.abs(back.quality.astype(int) - t.quality).max() <= 1  # 0..100 onto 2..63
    for got, want in ((back.cores, t.cores), (back.deltas, t.deltas)):
        assert got.shape == want.shape
        assert np.abs(got[:, :2] - want[:, :2]).max(initial=0) <= half_unit_px + 1e-3
    # a second round trip changes nothing: the record is a fixed point
    again = read_transaction(write_transaction(fingers={4: (image, 500)}, compression="NONE", minutiae={4: back},
                                               type9_blocks="legacy")).minutiae[0][2]
    np.testing.assert_array_equal(again.x, back.x)
    np.testing.assert_array_equal(again.y, back.y)
    np.testing.assert_array_equal(again.angle, back.angle)
    np.testing.assert_array_equal(again.quality, back.quality)


def test_both_blocks_by_default_incits_read_first_and_legacy_when_it_is_unusable(fvc_template):
    import nistitl

    t = fvc_template(SET, "102_1")
    rec = type9_record(t, 3, 2)
    assert rec[4].value == "S" and rec[12] is not None and rec[137] is not None
    assert type9_record(t, 3, 2, blocks="incits")[12] is None and type9_record(t, 3, 2, blocks="incits")[4].value == "U"
    assert type9_record(t, 3, 2, blocks="legacy")[137] is None
    with pytest.raises(ValueError, match="blocks"):
        type9_record(t, 3, 2, blocks="iso")
    back = read_transaction(write_transaction(minutiae={2: t})).minutiae[0][2]
    np.testing.assert_array_equal(back.x, np.round(t.x))  # the INCITS block (integer pixels) was read
    rec[137].value = [["1", "x"]]  # break the INCITS minutiae: the legacy fields, sized by 9.128-9.131, take over
    msg = nistitl.Message()
    msg += rec
    legacy = read_transaction(msg.NIST).minutiae[0][2]
    assert (legacy.width, legacy.height) == (t.width, t.height)
    assert np.abs(legacy.y - t.y).max() <= 0.5 * PX_PER_UNIT + 1e-3


def test_legacy_type9_still_matches_its_mate(fvc_template):
    probe, mate = fvc_template(SET, "103_1"), fvc_template(SET, "103_2")
    back = read_transaction(write_transaction(minutiae={3: probe}, type9_blocks="legacy")).minutiae[0][2]
    threshold = default_calibration().threshold(1e-3)
    got = score(prepare(back), prepare(mate))
    assert got >= threshold, (got, threshold)
    impostor = fvc_template(SET, "105_2")
    assert score(prepare(back), prepare(impostor)) < threshold


# --------------------------------------------------------------------------------------------- bad input
BAD = [
    ({12: [["001", "0508203118", "02", "A"]], 10: "1"}, "9.012 minutia 0: '0508203118' is not XXXXYYYYTTT"),
    ({12: [["001", "05082031x80", "02", "A"]], 10: "1"}, "9.012 minutia 0: .* is not XXXXYYYYTTT"),
    ({12: [["001", "05082031360", "02", "A"]], 10: "1"}, "9.012 minutia 0: theta 360"),
    ({12: [["001", "05082031180", "64", "A"]], 10: "1"}, "9.012 minutia 0: quality '64'"),
    ({12: [["001", "05082031180", "02", "E"]], 10: "1"}, "9.012 minutia 0: minutia type 'E'"),
    ({12: [["001", "05082031180", "02", "A", "002;03"]], 10: "1"}, "9.012 minutia 0: ridge count"),
    ({12: [["x1", "05082031180", "02", "A"]], 10: "1"}, "9.012 minutia 0: index"),
    ({12: [["001", "05082031180"], ["002"]], 10: "2"}, "9.012 minutia 1: needs at least"),
    ({12: [["001", "05082031180", "02", "A"]], 10: "3"}, "9.010 says '3' minutiae, field 9.012 holds 1"),
    ({12: [["001", "05082031180", "02", "A"]], 10: "1", 8: "1016"}, "9.008 item 0: '1016' is not XXXXYYYY"),
    ({12: [["001", "99990000180", "02", "A"]], 10: "1"}, "9.012 item 0: position \\(9999, 0\\)"),
]


@pytest.mark.parametrize("fields,message", BAD, ids=[m.split(":")[0] + f"-{i}" for i, (_, m) in enumerate(BAD)])
def test_malformed_legacy_fields_raise_value_error_naming_the_field(fields, message):
    with pytest.raises(ValueError, match=message):
        read_transaction(_transaction(fields))


def test_writer_refuses_positions_beyond_four_digits():
    t = FingerprintTemplate(x=[30000], y=[10], angle=[0], kind=[1], quality=[50], width=30001, height=20)
    with pytest.raises(ValueError, match="9.012: a position beyond 99.99 mm"):
        write_legacy(t)


def test_fuzzed_legacy_records_answer_or_raise_value_error():
    t = FingerprintTemplate(x=[100, 250, 17.5], y=[20, 300, 360], angle=[0, 1.5, 4], kind=[1, 2, 0],
                            quality=[80, 45, 0], width=388, height=374, cores=[[150, 150, np.nan]])
    valid = write_transaction(minutiae={2: t}, type9_blocks="legacy")
    assert len(read_transaction(valid).minutiae[0][2]) == 3
    item = st.text(alphabet="0123456789ABCDE,;- x²", max_size=14)

    @FUZZ
    @given(st.one_of(
        st.builds(lambda data, i, b: data[:i] + bytes([b]) + data[i + 1:],
                  st.just(valid), st.integers(0, len(valid) - 1), st.integers(0, 255)),
        st.builds(lambda data, i: data[:i], st.just(valid), st.integers(1, len(valid)))),
        st.lists(st.lists(item, max_size=7), max_size=4), st.one_of(st.none(), item))
    def check(data, mrc, count):
        for call in (lambda: read_transaction(data),
                     lambda: read_legacy({12: mrc} if count is None else {12: mrc, 10: [[count]]})):
            try:
                call()
            except ValueError:
                pass

    check()
