"""Input robustness of biomatch.extractors.imageio: every bad input is a clear ValueError."""
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from biomatch.benchmarks.datasets import data_root
from biomatch.extractors.imageio import MAX_PIXELS, decode_image, load_colour, load_grey, sniff_format

FVC_IMAGE = data_root() / "fingerprints" / "fvc2002_db1_b" / "101_1.tif"
needs_fvc = pytest.mark.skipif(not FVC_IMAGE.is_file(), reason="shared FVC data not available")


def encode(arr, fmt, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt, **kw)
    return buf.getvalue()


def ramp(rows=100, cols=80) -> np.ndarray:
    return (np.arange(rows * cols) % 251).astype(np.uint8).reshape(rows, cols)


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` 8-bit grey pixels.

    The single IDAT holds a few compressed zero bytes, so the file is under
    100 bytes; decoding it would need width*height bytes of memory.
    """
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(1024))) + chunk(b"IEND", b"")


@pytest.fixture
def no_decoding(monkeypatch):
    """Record any attempt to decode pixels (ImageFile.load)."""
    calls = []
    original = ImageFile.ImageFile.load

    def spy(self):
        calls.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return calls


# ----------------------------------------------------------------- files that are not images
def test_non_image_file(tmp_path):
    path = tmp_path / "notes.png"  # the name lies; the bytes decide
    path.write_text("minutiae: 42\n")
    with pytest.raises(ValueError, match=r"notes.png: not a supported image \(unrecognised leading bytes"):
        load_grey(path)


def test_biomatch_template_is_not_taken_for_a_bmp():
    # native templates start with b"BMFP", and BMP files with b"BM"
    from biomatch.extractors.fingerprint.template import FingerprintTemplate

    data = FingerprintTemplate(x=[1], y=[2], angle=[0], kind=[1], quality=[9], width=40, height=40).to_bytes()
    assert sniff_format(data) is None
    with pytest.raises(ValueError, match="not a supported image"):
        load_grey(data)
    assert sniff_format(encode(ramp(), "BMP")) == "BMP"
    np.testing.assert_array_equal(load_grey(encode(ramp(), "BMP")), ramp())


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.tif"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty.tif: empty file \(0 bytes\)"):
        load_grey(path)
    with pytest.raises(ValueError, match=r"empty file \(0 bytes\)"):
        load_grey(b"")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ValueError, match="no such image file"):
        load_grey(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="no such image file"):
        load_grey(tmp_path)


def test_file_over_byte_limit(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(encode(ramp(), "PNG"))
    with pytest.raises(ValueError, match="over the limit of 100"):
        load_grey(path, max_bytes=100)


# ----------------------------------------------------------------- truncated files
def test_truncated_png():
    data = encode(ramp(200, 200), "PNG")
    with pytest.raises(ValueError, match="corrupt or truncated PNG image"):
        load_grey(data[: len(data) // 2])


def test_png_missing_only_its_end_marker_still_has_all_pixels():
    # IEND and the last CRC carry no pixels; losing them loses nothing.
    data = encode(ramp(), "PNG")
    np.testing.assert_array_equal(load_grey(data[:-12]), ramp())


@pytest.mark.parametrize("compression", [None, "tiff_adobe_deflate"])
@pytest.mark.parametrize("keep", [8, 20, 0.5])
def test_truncated_tiff(compression, keep):
    data = encode(ramp(200, 200), "TIFF", compression=compression)
    cut = keep if isinstance(keep, int) else int(len(data) * keep)
    with pytest.raises(ValueError, match="corrupt or truncated TIFF image"):
        load_grey(data[:cut])


@needs_fvc
def test_truncated_real_fvc_tiff():
    data = FVC_IMAGE.read_bytes()
    assert load_grey(data).shape == (374, 388)
    with pytest.raises(ValueError, match="corrupt or truncated TIFF image"):
        load_grey(data[: len(data) - 200])


# ----------------------------------------------------------------- sizes
def test_one_by_one_image():
    with pytest.raises(ValueError, match="image is 1x1, too small"):
        load_grey(encode(np.zeros((1, 1), np.uint8), "PNG"))
    with pytest.raises(ValueError, match="at least 2x2"):
        load_grey(np.zeros((1, 1), np.uint8))


def test_decompression_bomb_refused_before_decoding(no_decoding):
    data = png_header_only(30000, 30000)
    assert len(data) < 200
    with pytest.raises(ValueError, match=f"image too large, over the limit of {MAX_PIXELS} pixels"):
        load_grey(data)
    assert no_decoding == []


def test_image_over_pixel_limit_but_under_pillows_is_refused_by_our_check(no_decoding):
    data = png_header_only(8000, 8000)  # 64 Mpx: Pillow's own bomb check stays quiet
    with pytest.raises(ValueError, match=f"8000x8000 image has 64000000 pixels, over the limit of {MAX_PIXELS}"):
        load_grey(data)
    assert no_decoding == []


def test_pixel_limit_is_a_parameter():
    data = encode(ramp(100, 100), "PNG")
    with pytest.raises(ValueError, match="over the limit of 5000"):
        load_grey(data, max_pixels=5000)
    with pytest.raises(ValueError, match="over the pixel limit of 5000"):
        load_grey(ramp(100, 100), max_pixels=5000)


# ----------------------------------------------------------------- colour and bit depth
def test_colour_image_converted_to_grey_with_bt601_weights():
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[0, :, 0] = 255  # red
    rgb[1, :, 1] = 255  # green
    rgb[2, :, 2] = 255  # blue
    rgb[3, :] = (10, 200, 90)
    grey = load_grey(encode(rgb, "PNG"))
    assert grey.shape == (4, 6) and grey.dtype == np.uint8
    # L = round((299 R + 587 G + 114 B) / 1000), ITU-R BT.601 luma as Pillow computes it
    np.testing.assert_array_equal(grey[:, 0], [76, 150, 29, 131])
    bgr = load_colour(encode(rgb, "PNG"))
    np.testing.assert_array_equal(bgr[0, 0], [0, 0, 255])
    # a colour array (BGR, as OpenCV hands it over) gives the same grey as the file, within rounding
    assert np.abs(load_grey(bgr).astype(int) - grey).max() <= 1


def test_grey_alpha_and_palette_images():
    grey = ramp(10, 12)
    la = Image.fromarray(np.dstack([grey, np.full_like(grey, 255)]), "LA")
    buf = io.BytesIO()
    la.save(buf, "PNG")
    np.testing.assert_array_equal(load_grey(buf.getvalue()), grey)
    pal = Image.fromarray(grey).convert("P")
    buf = io.BytesIO()
    pal.save(buf, "PNG")
    np.testing.assert_array_equal(load_grey(buf.getvalue()), grey)


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_sixteen_bit_input_is_mapped_to_eight_bits(fmt):
    values = (np.arange(100 * 80, dtype=np.int64).reshape(100, 80) * 7 + 1000).astype(np.uint16)
    data = encode(values, fmt)
    assert Image.open(io.BytesIO(data)).mode.startswith("I;16")
    grey = load_grey(data)
    assert grey.dtype == np.uint8 and grey.shape == (100, 80)
    assert (grey.min(), grey.max()) == (0, 255)  # stretched over the image's own range
    flat = grey.ravel()
    assert np.all(np.diff(flat.astype(int)) >= 0)  # order of intensities preserved
    expected = ((values.astype(np.float64) - 1000) * 255.0 / (values.max() - 1000)).astype(np.uint8)
    np.testing.assert_array_equal(grey, expected)


def test_constant_sixteen_bit_image_does_not_divide_by_zero():
    grey = load_grey(encode(np.full((10, 10), 4000, np.uint16), "PNG"))
    np.testing.assert_array_equal(grey, 0)


@pytest.mark.parametrize("orientation, turn", [(1, lambda a: a), (3, lambda a: np.rot90(a, 2)),
                                               (6, lambda a: np.rot90(a, -1)), (8, lambda a: np.rot90(a, 1)),
                                               (2, lambda a: a[:, ::-1])])
def test_exif_orientation_is_applied(orientation, turn):
    # a phone photo stores pixels as the sensor saw them and says how to turn them for display
    stored = ramp(6, 4)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(stored, "PNG", exif=exif.tobytes())
    np.testing.assert_array_equal(load_grey(data), turn(stored))
    assert load_colour(data).shape[:2] == turn(stored).shape


# ----------------------------------------------------------------- arrays
@pytest.mark.parametrize(
    "arr, message",
    [
        (np.zeros((10, 10), np.uint16), "expected an 8-bit image"),
        (np.zeros((10, 10), np.float32), "expected an 8-bit image"),
        (np.zeros(10, np.uint8), "expected a 2-D grey or 3-D colour image"),
        (np.zeros((10, 10, 2), np.uint8), "1, 3 or 4 channels"),
        (np.zeros((10, 10, 5), np.uint8), "1, 3 or 4 channels"),
    ],
)
def test_bad_arrays(arr, message):
    for load in (load_grey, load_colour):
        with pytest.raises(ValueError, match=message):
            load(arr)


def test_single_channel_3d_array_is_grey():
    arr = ramp(10, 12)[:, :, None]
    np.testing.assert_array_equal(load_grey(arr), arr[:, :, 0])
    assert load_colour(arr).shape == (10, 12, 3)


def test_decode_mode_must_be_known():
    with pytest.raises(ValueError, match="mode must be 'L' or 'RGB'"):
        decode_image(encode(ramp(), "PNG"), mode="CMYK")


# ----------------------------------------------------------------- WSQ
@needs_fvc
def test_wsq_round_trip_through_the_pillow_plugin(tmp_path):
    original = load_grey(FVC_IMAGE)
    path = tmp_path / "101_1.wsq"
    Image.fromarray(original).save(path, "WSQ")  # the wsq package's Pillow plugin (NBIS codec)
    data = path.read_bytes()
    assert sniff_format(data) == "WSQ"
    assert len(data) < original.size / 5  # really compressed (~17:1 here)
    decoded = load_grey(path)
    assert decoded.shape == original.shape and decoded.dtype == np.uint8
    diff = decoded.astype(np.float64) - original
    psnr = 10 * np.log10(255.0**2 / np.mean(diff**2))
    assert np.abs(diff).mean() < 6 and psnr > 28  # measured: mean |diff| 4.0, PSNR 31.1 dB


@needs_fvc
def test_truncated_wsq(tmp_path):
    path = tmp_path / "t.wsq"
    Image.fromarray(load_grey(FVC_IMAGE)).save(path, "WSQ")
    data = path.read_bytes()
    for cut in (2, 200, len(data) // 2):
        with pytest.raises(ValueError, match="corrupt or truncated WSQ image"):
            load_grey(data[:cut])


@needs_fvc
def test_shared_fvc_images_decode_to_their_manifest_pixels():
    import csv
    import hashlib

    root = data_root() / "fingerprints"
    with (root / "MANIFEST.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["file"].endswith(("101_1.tif", "110_8.tif"))]
    assert len(rows) == 12  # first and last image of each of the six sets
    for row in rows:
        grey = load_grey(root / row["file"])
        assert grey.shape == (int(row["height"]), int(row["width"]))
        assert hashlib.sha256(grey.tobytes()).hexdigest() == row["sha256_pixels_uint8_rowmajor"], row["file"]
