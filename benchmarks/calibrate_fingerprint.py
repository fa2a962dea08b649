"""Rebuild the fingerprint score calibration from the FVC impostor comparisons.

Usage::

    python -m biomatch.benchmarks.calibrate_fingerprint [--report fvc.json] [--out PATH]

Without ``--report`` the FVC benchmark runs first on every shared set. The
impostor scores of the all-pairs protocol (2,880 per set) become the table.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..extractors.fingerprint import EXTRACTOR_VERSION
from ..matcher.fingerprint.calibration import ScoreCalibration
from ..matcher.fingerprint.params import MATCHER_VERSION


def calibration_from_report(report: dict) -> ScoreCalibration:
    scores = np.concatenate([np.asarray(s["impostor_all_scores"], np.float64) for s in report["sets"].values()])
    names = ", ".join(report["sets"])
    return ScoreCalibration(MATCHER_VERSION, scores, f"FVC all-pairs impostor comparisons of {names} "
                            f"(extractor version {EXTRACTOR_VERSION})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report", help="an FVC benchmark JSON report (default: run the benchmark now)")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "matcher" / "fingerprint" / "calibration.json"))
    args = parser.parse_args(argv)
    if args.report:
        report = json.loads(Path(args.report).read_text())
    else:
        from .fvc import run_fvc

        report = run_fvc()
    cal = calibration_from_report(report)
    Path(args.out).write_text(cal.to_json())
    print(f"wrote {args.out}: {cal.n} impostor scores; threshold at FMR 1e-3 = {cal.threshold(1e-3):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
