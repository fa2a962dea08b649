"""The fingerprint part of ``biomatch demo``: two comparisons and the FVC benchmark on one set."""
from __future__ import annotations

import tempfile
from pathlib import Path

__all__ = ["run_demo"]

DEMO_SET = "fvc2002_db1_b"


def run_demo(args) -> None:
    from ..benchmarks.datasets import data_root
    from ..benchmarks.fvc import format_table, run_fvc, write_report
    from ..extractors.fingerprint import extract_fingerprint
    from ..matcher.fingerprint import match, prepare
    from ..matcher.fingerprint.calibration import DEFAULT_DECISION_FMR, default_calibration

    root = data_root(getattr(args, "data", None)) / "fingerprints"
    folder = root / DEMO_SET
    if not folder.is_dir():
        raise ValueError(f"{folder}: shared FVC data not found (set BIOMATCH_DATA or --data)")
    cal = default_calibration()
    threshold = cal.threshold(DEFAULT_DECISION_FMR)
    print(f"Comparing prints from {folder} (decision threshold {threshold:.4f} = FMR {DEFAULT_DECISION_FMR:g})")
    for a, b in (("101_1", "101_2"), ("101_1", "102_1")):
        ta = extract_fingerprint(folder / f"{a}.tif", 500)
        tb = extract_fingerprint(folder / f"{b}.tif", 500)
        result = match(prepare(ta), prepare(tb))
        st = cal.strength(result.score)
        verdict = "MATCH" if result.score >= threshold else "no match"
        bound = "<=" if st.fmr_is_bound else ""
        print(f"  {a} vs {b}: {len(ta)} / {len(tb)} minutiae, score {result.score:.4f}, "
              f"FMR {bound}{st.fmr:.1e}, {len(result.pairs)} paired minutiae -> {verdict}")
    print(f"\nFVC protocol on {DEMO_SET}:")
    report = run_fvc(root, [DEMO_SET], progress=True)
    print(format_table(report))
    out = Path(tempfile.gettempdir()) / "biomatch-demo-fvc.json"
    write_report(report, out)
    print(f"report written to {out}")
