"""read_template / write_template / save_template: sniffing, dispatch, robustness."""
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biomatch.extractors.fingerprint.formats import (
    read_template,
    save_template,
    sniff_template_format,
    write_template,
)
from biomatch.extractors.fingerprint.template import FingerprintTemplate

GOLDEN = Path(__file__).parent / "golden" / "template_v1.bin"
W, H = 388, 374


@pytest.fixture
def template():
    return FingerprintTemplate(x=[10, 200, 387], y=[5, 100, 373], angle=[0.0, np.pi / 2, 4.0], kind=[1, 2, 1],
                               quality=[80, 40, 100], width=W, height=H, dpi=500, quality_score=70)


@pytest.mark.parametrize("fmt", ["native", "iso19794", "xyt", "json"])
def test_written_formats_are_sniffed_and_read_back(template, fmt):
    data = write_template(template, fmt)
    assert sniff_template_format(data) == fmt
    back = read_template(data, width=W, height=H)
    np.testing.assert_array_equal(back.x, template.x)
    np.testing.assert_array_equal(back.y, template.y)
    np.testing.assert_allclose(back.angle, template.angle, atol=np.pi / 256)
    np.testing.assert_array_equal(back.quality, template.quality)


def test_native_round_trip_exact_through_dispatch(template):
    assert read_template(write_template(template)) == template


def test_golden_file_reads_through_dispatch_by_path():
    assert len(read_template(GOLDEN)) == 5
    assert len(read_template(str(GOLDEN))) == 5


def test_iso_view_hint_is_passed_and_size_hints_ignored(template):
    data = write_template(template, "iso")
    assert read_template(data, view=0, width=1, height=1, dpi=1000) == read_template(data)
    assert read_template(data).dpi == 500  # a dpi hint (meant for xyt) never overrides the record's own
    assert read_template(data, dpi_override=512).dpi == 512


def test_xyt_without_size_is_refused(template):
    with pytest.raises(ValueError, match="pass width= and height="):
        read_template(write_template(template, "xyt"))


def test_explicit_format_overrides_sniffing(template):
    with pytest.raises(ValueError, match="bad magic"):
        read_template(write_template(template, "json"), fmt="iso19794")


@pytest.mark.parametrize(
    "source, message",
    [
        (b"", "empty data"),
        (b"GIF89a....", "unrecognised fingerprint template format"),
        (b"hello world\n", "unrecognised fingerprint template format"),
        ("/nonexistent/template.iso", "no such fingerprint template file"),
        (12345, "expected bytes or a path, got int"),
    ],
)
def test_bad_sources_rejected(source, message):
    with pytest.raises(ValueError, match=message):
        read_template(source)


def test_unknown_format_name(template):
    with pytest.raises(ValueError, match="unknown fingerprint template format 'ansi'"):
        write_template(template, "ansi")


@pytest.mark.parametrize("suffix, fmt", [(".xyt", "xyt"), (".json", "json"), (".fmr", "iso19794"), (".bmfp", "native")])
def test_save_template_picks_format_from_suffix_and_is_atomic(tmp_path, template, suffix, fmt):
    path = save_template(template, tmp_path / f"t{suffix}")
    assert sniff_template_format(path.read_bytes()) == fmt
    assert [p.name for p in tmp_path.iterdir()] == [f"t{suffix}"]  # no temporary file left behind


def test_save_template_into_missing_folder(tmp_path, template):
    with pytest.raises(ValueError, match="no such folder"):
        save_template(template, tmp_path / "missing" / "t.iso")


def test_truncated_native_template_rejected():
    data = GOLDEN.read_bytes()
    for cut in (3, 10, 40, len(data) - 1):
        with pytest.raises(ValueError):
            read_template(data[:cut], fmt="native")


@settings(max_examples=400, deadline=None, database=None)
@given(st.binary(max_size=300), st.sampled_from([b"", b"BMFP", b"FMR\x00 20\x00", b"{", b"1 2 3 4\n"]))
def test_random_bytes_raise_only_value_error(data, prefix):
    try:
        read_template(prefix + data, width=W, height=H)
    except ValueError:
        pass


@settings(max_examples=400, deadline=None, database=None)
@given(st.integers(0, 143), st.integers(0, 255), st.integers(0, 144))
def test_mutated_native_templates_raise_only_value_error(index, value, cut):
    data = bytearray(GOLDEN.read_bytes())
    data[index] = value
    try:
        read_template(bytes(data[:cut]), fmt="native")
    except ValueError:
        pass
