"""Extraction on real FVC prints, determinism, resolution handling and bad input."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from biomatch.extractors.fingerprint import FingerprintTemplate, MinutiaKind, extract_fingerprint
from biomatch.extractors.fingerprint.render import write_trace


def test_real_print_gives_plausible_template(fvc_dir):
    t = extract_fingerprint(fvc_dir / "fvc2002_db1_b" / "101_1.tif", 500)
    assert isinstance(t, FingerprintTemplate)
    assert 12 <= len(t) <= 120
    assert set(np.unique(t.kind)) <= {MinutiaKind.ENDING, MinutiaKind.BIFURCATION}
    assert (t.width, t.height, t.dpi) == (388, 374, 500)
    assert t.orientation is not None and (t.orientation != 255).mean() > 0.3
    assert 0 < t.quality_score <= 100
    t.validate()
    # minutiae lie on the print, away from the image border
    assert t.x.min() > 10 and t.x.max() < t.width - 10 and t.y.min() > 10 and t.y.max() < t.height - 10


def test_extraction_is_deterministic(fvc_dir):
    path = fvc_dir / "fvc2002_db3_b" / "105_2.tif"
    assert extract_fingerprint(path, 500).to_bytes() == extract_fingerprint(path, 500).to_bytes()


def test_array_and_file_inputs_agree(fvc_dir):
    path = fvc_dir / "fvc2002_db1_b" / "102_3.tif"
    with Image.open(path) as img:
        grey = np.asarray(img.convert("L"))
    assert extract_fingerprint(grey, 500) == extract_fingerprint(path, 500)


def test_other_resolutions_are_normalised_to_500_ppi(fvc_dir):
    t = extract_fingerprint(fvc_dir / "fvc2002_db2_b" / "101_1.tif", 569)  # 296 x 560 at 569 ppi
    assert t.dpi == 500
    assert (t.width, t.height) == (round(296 * 500 / 569), round(560 * 500 / 569))


def test_trace_records_every_stage_and_writes_pngs(fvc_dir, tmp_path):
    trace = {}
    t = extract_fingerprint(fvc_dir / "fvc2002_db1_b" / "101_1.tif", 500, trace=trace)
    for key in ("grey", "normalized", "orientation", "coherence", "mask", "period", "enhanced", "ridges",
                "skeleton", "candidates", "minutiae"):
        assert key in trace
    assert trace["minutiae"] == t
    written = write_trace(trace, tmp_path / "trace")
    names = {p.name for p in written}
    assert "minutiae.png" in names and any(n.endswith("_skeleton.png") for n in names)
    for path in written:
        with Image.open(path) as img:
            assert img.size == (388, 374)


def _png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize("data, message", [
    (b"this is not an image", "not a supported image"),
    (b"", "empty"),
])
def test_bad_bytes_are_refused(data, message):
    with pytest.raises(ValueError, match=message):
        extract_fingerprint(data, 500)


def test_truncated_file_is_refused(fvc_dir):
    data = (fvc_dir / "fvc2002_db1_b" / "101_1.tif").read_bytes()
    with pytest.raises(ValueError, match="corrupt or truncated"):
        extract_fingerprint(data[: len(data) // 3], 500)


def test_tiny_images_are_refused():
    with pytest.raises(ValueError, match="too small"):
        extract_fingerprint(_png(np.zeros((1, 1), np.uint8)), 500)
    with pytest.raises(ValueError, match="too small to hold a fingerprint"):
        extract_fingerprint(np.full((40, 40), 128, np.uint8), 500)


@pytest.mark.parametrize("image", [
    np.full((300, 300), 255, np.uint8),  # blank
    np.full((300, 300), 0, np.uint8),  # black
])
def test_images_without_ridges_are_refused(image):
    with pytest.raises(ValueError, match="no fingerprint ridges"):
        extract_fingerprint(_png(image), 500)


@pytest.mark.parametrize("dpi", [50, 0, -500, 10000, float("nan")])
def test_unsupported_resolution_is_refused(dpi, fvc_dir):
    with pytest.raises(ValueError, match="unsupported resolution"):
        extract_fingerprint(fvc_dir / "fvc2002_db1_b" / "101_1.tif", dpi)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no such image file"):
        extract_fingerprint(tmp_path / "nothing.png", 500)
