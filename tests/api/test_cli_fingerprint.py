"""The fingerprint command line: results on real prints, clear errors without tracebacks."""
from __future__ import annotations

import json

import numpy as np

from biomatch.api.cli import main


def test_compare_genuine_prints_a_match(fvc_dir, capsys):
    d = fvc_dir / "fvc2002_db1_b"
    assert main(["fingerprint", "compare", str(d / "101_1.tif"), str(d / "101_2.tif"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["decision"] == "match" and out["score"] >= out["threshold"] and out["fmr"] <= 1e-3
    assert len(out["pairs"]) >= 6


def test_compare_impostor_prints_no_match(fvc_dir, capsys):
    d = fvc_dir / "fvc2002_db1_b"
    assert main(["fingerprint", "compare", str(d / "101_1.tif"), str(d / "105_1.tif")]) == 0
    assert "NO MATCH" in capsys.readouterr().out


def test_extract_writes_template_and_trace_then_compares_template(fvc_dir, tmp_path, capsys):
    d = fvc_dir / "fvc2002_db1_b"
    out = tmp_path / "t.iso"
    assert main(["fingerprint", "extract", str(d / "103_1.tif"), "-o", str(out), "--format", "iso19794",
                 "--trace", str(tmp_path / "trace")]) == 0
    assert out.read_bytes().startswith(b"FMR\x00")
    assert (tmp_path / "trace" / "minutiae.png").is_file()
    assert main(["fingerprint", "compare", str(out), str(d / "103_2.tif")]) == 0
    assert "decision  MATCH" in capsys.readouterr().out


def test_bad_input_exits_2_with_one_error_line(tmp_path, capsys, fvc_dir):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    assert main(["fingerprint", "extract", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "not a supported image" in err and "Traceback" not in err
    assert main(["fingerprint", "extract", str(fvc_dir / "fvc2002_db1_b" / "101_1.tif"), "--dpi", "20"]) == 2
    assert "unsupported resolution" in capsys.readouterr().err
    assert main(["fingerprint", "compare", str(tmp_path / "missing.tif"), str(bad)]) == 2
    assert "no such image file" in capsys.readouterr().err


def test_compare_accepts_xyt_with_its_image_size(fvc_dir, tmp_path, capsys):
    d = fvc_dir / "fvc2002_db1_b"
    xyt = tmp_path / "a.xyt"
    assert main(["fingerprint", "extract", str(d / "104_1.tif"), "-o", str(xyt), "--format", "xyt"]) == 0
    assert main(["fingerprint", "compare", str(xyt), str(d / "104_3.tif")]) == 2
    assert "image size" in capsys.readouterr().err
    assert main(["fingerprint", "compare", str(xyt), str(d / "104_3.tif"), "--xyt-size", "388x374"]) == 0
    assert "decision  MATCH" in capsys.readouterr().out


def test_extract_latent_writes_the_latent_template(fvc_dir, tmp_path):
    from biomatch.extractors.fingerprint import LATENT_PARAMS, FingerprintTemplate, extract_fingerprint

    img = fvc_dir / "fvc2002_db1_b" / "106_3.tif"
    out = tmp_path / "mark.bmfp"
    assert main(["fingerprint", "extract", str(img), "--latent", "-o", str(out)]) == 0
    written = FingerprintTemplate.from_bytes(out.read_bytes())
    want = extract_fingerprint(img, 500, params=LATENT_PARAMS)
    np.testing.assert_array_equal(written.x, want.x)
    assert len(written) < len(extract_fingerprint(img, 500))


def test_leader_extract_then_compare_warns_across_detectors(fvc_dir, tmp_path, capsys):
    d = fvc_dir / "fvc2002_db1_b"
    out = tmp_path / "a.bmfp"
    assert main(["fingerprint", "extract", str(d / "101_1.tif"), "--minutiae", "leader", "-o", str(out)]) == 0
    assert "leader detector" in capsys.readouterr().out
    assert main(["fingerprint", "compare", str(out), str(d / "101_2.tif"), "--minutiae", "leader"]) == 0
    cap = capsys.readouterr()
    assert "decision  MATCH" in cap.out and "different detectors" not in cap.err
    assert main(["fingerprint", "compare", str(out), str(d / "101_2.tif")]) == 0  # the image: ridge tracer
    assert "different detectors (leader and ridges)" in capsys.readouterr().err
