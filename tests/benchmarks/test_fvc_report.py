"""The FVC benchmark end to end on a small folder of real prints (linked, not copied)."""
from __future__ import annotations

import json

from biomatch.benchmarks.fvc import format_table, run_fvc, write_report
from biomatch.extractors.fingerprint import EXTRACTOR_VERSION
from biomatch.matcher.fingerprint import MATCHER_VERSION


def test_fvc_run_reports_rates_intervals_and_speed(fvc_dir, tmp_path):
    folder = tmp_path / "fvc2002_db1_b"
    folder.mkdir()
    for finger in (101, 102, 103):
        for impression in (1, 2, 3):
            name = f"{finger}_{impression}.tif"
            (folder / name).symlink_to(fvc_dir / "fvc2002_db1_b" / name)
    report = run_fvc(tmp_path, progress=False)
    s = report["sets"]["fvc2002_db1_b"]
    assert (len(s["genuine_scores"]), len(s["impostor_scores"]), len(s["impostor_all_scores"])) == (9, 3, 27)
    # a percentile interval need not contain the point estimate, so only its shape is asserted
    for key in ("eer", "eer_all_pairs"):
        lo, hi = s[f"{key}_ci95"]
        assert 0.0 <= lo <= hi <= 1.0
    lo, hi = report["mean_eer_fvc2002_ci95"]
    assert 0.0 <= lo <= hi <= 1.0
    assert report["comparisons_per_s_core"] > 0 and report["extract_ms_median"] > 0
    # figures are only comparable within one extractor and matcher version: the report names them
    assert (report["extractor_version"], report["matcher_version"]) == (EXTRACTOR_VERSION, MATCHER_VERSION)
    table = format_table(report)
    assert "finger bootstrap" in table
    assert f"extractor version {EXTRACTOR_VERSION}, matcher version {MATCHER_VERSION}" in table
    assert "mean EER FVC2002 (1 set)" in table and "DB1-4" not in table  # only one FVC2002 set was run
    write_report(report, tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["sets"]["fvc2002_db1_b"]["eer_ci95"] == s["eer_ci95"]
