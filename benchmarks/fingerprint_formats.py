"""What a template loses on its way through each exchange format, measured as FVC error rates.

Every image of a set is extracted once. The templates are then written to
each format, read back, and compared with the FVC protocol (all genuine
pairs, impression-1 impostors, and all-pairs impostors). ``native`` is the
reference. The other formats quantise positions or angles, and they drop the
orientation field, which the matcher uses as the print's foreground.

Usage::

    python -m biomatch.benchmarks.fingerprint_formats [--sets fvc2002_db1_b ...] [--json OUT.json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

import numpy as np

from ..extractors.fingerprint import extract_fingerprint
from ..extractors.fingerprint.formats import read_template, write_template
from ..matcher.fingerprint import prepare, score
from .datasets import data_root, fvc_images, fvc_set_dpi
from .fvc import fvc_pairs
from .metrics import error_rates

FORMATS = ("native", "iso19794", "xyt", "json")


def _round_trip(template, fmt: str):
    data = write_template(template, fmt)
    return read_template(data, fmt, width=template.width, height=template.height, dpi=template.dpi)


def evaluate_set(folder: Path) -> dict:
    """Error rates and genuine-score medians per format for one FVC set."""
    images = fvc_images(folder)
    dpi = fvc_set_dpi(folder)
    templates = {key: extract_fingerprint(path, dpi) for key, path in sorted(images.items())}
    genuine, impostor, impostor_all = fvc_pairs(list(templates))
    out = {}
    for fmt in FORMATS:
        prepared = {key: prepare(_round_trip(t, fmt)) for key, t in templates.items()}
        scores = {name: np.array([score(prepared[a], prepared[b]) for a, b in pairs])
                  for name, pairs in (("genuine", genuine), ("impostor", impostor), ("impostor_all", impostor_all))}
        out[fmt] = {
            "eer": error_rates(scores["genuine"], scores["impostor"])["eer"],
            "eer_all_pairs": error_rates(scores["genuine"], scores["impostor_all"])["eer"],
            "genuine_median": float(statistics.median(scores["genuine"])),
            "impostor_all_max": float(scores["impostor_all"].max()),
        }
    return {"dpi": dpi, "formats": out}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder of FVC sets (default $BIOMATCH_DATA/fingerprints)")
    parser.add_argument("--sets", nargs="+", default=["fvc2002_db1_b", "fvc2002_db3_b"])
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    root = Path(args.data) if args.data else data_root() / "fingerprints"
    report = {"sets": {}}
    print(f"{'set':<15} {'format':<9} {'EER %':>7} {'EER all %':>9} {'gen. median':>11} {'imp. max':>8}")
    for name in args.sets:
        result = evaluate_set(root / name)
        report["sets"][name] = result
        for fmt, r in result["formats"].items():
            print(f"{name:<15} {fmt:<9} {100 * r['eer']:7.2f} {100 * r['eer_all_pairs']:9.2f} "
                  f"{r['genuine_median']:11.4f} {r['impostor_all_max']:8.4f}")
    if args.json:
        tmp = Path(args.json).with_suffix(".tmp")
        tmp.write_text(json.dumps(report, indent=1))
        os.replace(tmp, args.json)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
