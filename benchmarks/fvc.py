"""FVC verification benchmark: EER, FMR100, FMR1000, ZeroFMR, speed, DET curves.

Protocol per set (Maio et al., FVC2002): genuine = all pairs of impressions
of the same finger (280 for a B set); impostor = impression 1 of each finger
against impression 1 of every other finger (45); and the steadier all-pairs
impostor variant (every impression against every impression of the other
fingers, each unordered pair once: 2,880).
"""
from __future__ import annotations

import itertools
import json
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from ..extractors.fingerprint import (DEFAULT_PARAMS, EXTRACTOR_VERSION, ExtractorParams, detector_params,
                                     extract_fingerprint)
from ..extractors.imageio import load_grey
from ..matcher.fingerprint import MATCHER_VERSION, PreparedGallery, prepare, score, score_many
from .datasets import data_root, fvc_images, fvc_set_dpi
from .metrics import error_rates, finger_bootstrap_eer

__all__ = ["run_fvc", "SetResult", "fvc_pairs"]


@dataclass
class SetResult:
    name: str
    dpi: int
    images: int
    genuine: list = field(default_factory=list)
    impostor: list = field(default_factory=list)
    impostor_all: list = field(default_factory=list)
    extract_ms: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    minutiae: list = field(default_factory=list)
    pairs: tuple = ()  # (genuine, impostor, impostor_all) key pairs, in the order of the score lists


def fvc_pairs(keys) -> tuple[list, list, list]:
    """Genuine, FVC impostor and all-pairs impostor index pairs over ``(finger, impression)`` keys."""
    fingers = sorted({f for f, _ in keys})
    by_finger = {f: sorted(i for g, i in keys if g == f) for f in fingers}
    genuine = [((f, a), (f, b)) for f in fingers for a, b in itertools.combinations(by_finger[f], 2)]
    firsts = {f: (f, by_finger[f][0]) for f in fingers}
    impostor = [(firsts[f], firsts[g]) for f, g in itertools.combinations(fingers, 2)]
    impostor_all = [
        ((f, a), (g, b)) for f, g in itertools.combinations(fingers, 2) for a in by_finger[f] for b in by_finger[g]
    ]
    return genuine, impostor, impostor_all


def _evaluate_set(folder: Path, dpi: int, progress: bool,
                  params: ExtractorParams = DEFAULT_PARAMS) -> tuple[SetResult, float, int]:
    images = fvc_images(folder)
    res = SetResult(folder.name, dpi, len(images))
    prepared = {}
    for key, path in tqdm(sorted(images.items()), desc=f"extract {folder.name}", disable=not progress, leave=False):
        grey = load_grey(path)
        start = time.perf_counter()
        try:
            tpl = extract_fingerprint(grey, dpi, params=params)
        except ValueError as exc:  # failure to enrol: every comparison with it scores 0
            res.failures.append(f"{path.name}: {exc}")
            prepared[key] = None
            continue
        res.extract_ms.append((time.perf_counter() - start) * 1e3)
        res.minutiae.append(len(tpl))
        prepared[key] = prepare(tpl)
    genuine, impostor, impostor_all = fvc_pairs(list(images))
    res.pairs = (genuine, impostor, impostor_all)

    def compare(pairs):
        return [score(prepared[a], prepared[b]) if prepared[a] is not None and prepared[b] is not None else 0.0
                for a, b in pairs]

    res.genuine = compare(genuine)
    res.impostor = compare(impostor)
    res.impostor_all = compare(impostor_all)
    # throughput: each prepared probe against a prepared gallery of the other fingers' impressions
    # (impostors, as nearly every comparison of a 1:N search is), one call per probe
    keys_ok = [k for k, p in prepared.items() if p is not None]
    if keys_ok:
        score_many(prepared[keys_ok[0]], PreparedGallery.from_prepared([prepared[keys_ok[0]]]))  # compile first
    elapsed, compared = 0.0, 0
    for key in keys_ok:
        others = [prepared[k] for k in keys_ok if k[0] != key[0]]
        gallery = PreparedGallery.from_prepared(others)
        start = time.perf_counter()
        score_many(prepared[key], gallery)
        elapsed += time.perf_counter() - start
        compared += len(others)
    return res, elapsed, compared


#: finger-level bootstrap replicates behind each EER's 95% interval
BOOTSTRAP_RESAMPLES = 1000


def _bootstrap(res: SetResult) -> dict[str, np.ndarray]:
    """EER replicates of one set, for both impostor protocols (see :func:`.metrics.finger_bootstrap_eer`)."""
    genuine_pairs, impostor_pairs, all_pairs = res.pairs
    genuine: dict = {}
    for (a, _), score in zip(genuine_pairs, res.genuine):
        genuine.setdefault(a[0], []).append(score)
    out = {}
    for key, pairs, scores in (("eer", impostor_pairs, res.impostor), ("eer_all_pairs", all_pairs, res.impostor_all)):
        impostor: dict = {}
        for (a, b), score in zip(pairs, scores):
            impostor.setdefault((min(a[0], b[0]), max(a[0], b[0])), []).append(score)
        out[key] = finger_bootstrap_eer(genuine, impostor, resamples=BOOTSTRAP_RESAMPLES, seed=0)
    return out


def _interval(replicates: np.ndarray) -> list[float]:
    """The central 95% of the replicates."""
    return [float(v) for v in np.percentile(replicates, [2.5, 97.5])]


def run_fvc(data: str | os.PathLike | None = None, sets: list[str] | None = None, dpi: int | None = None,
            *, progress: bool = True, minutiae: str = "ridges") -> dict:
    """Run the FVC protocol on each set and return the JSON-ready report.

    Parameters
    ----------
    data : path, optional
        A folder of set folders (default ``$BIOMATCH_DATA/fingerprints``), or
        a single folder of FVC-named images.
    sets : list of str, optional
        Names of the set folders to run (default: all).
    dpi : int, optional
        Resolution for every set (default: from each set's SOURCES.md table, else 500).
    minutiae : {"ridges", "leader"}
        The extractor's minutiae detector (``ExtractorParams.minutiae_detector``).
    """
    params = detector_params(minutiae)  # ValueError for an unknown detector
    root = Path(data) if data else data_root() / "fingerprints"
    if not root.is_dir():
        raise ValueError(f"{root}: no such data folder")
    folders = [root] if any(root.glob("*_*.*")) and not any(p.is_dir() for p in root.iterdir()) else sorted(
        p for p in root.iterdir() if p.is_dir())
    if sets:
        missing = set(sets) - {p.name for p in folders}
        if missing:
            raise ValueError(f"unknown set(s) {sorted(missing)}; available: {[p.name for p in folders]}")
        folders = [p for p in folders if p.name in sets]
    report = {"protocol": "FVC B-set: 280 genuine, 45 impostor (first impressions), 2880 all-pairs impostor",
              "minutiae_detector": minutiae, "extractor_version": EXTRACTOR_VERSION,
              "matcher_version": MATCHER_VERSION, "sets": {}}
    all_ms, cmp_time, cmp_count = [], 0.0, 0
    replicates = {}
    cv2.setNumThreads(1)
    with threadpool_limits(1):
        for folder in folders:
            set_dpi = dpi or fvc_set_dpi(folder)
            res, elapsed, count = _evaluate_set(folder, set_dpi, progress, params)
            cmp_time += elapsed
            cmp_count += count
            all_ms += res.extract_ms
            fvc = error_rates(np.array(res.genuine), np.array(res.impostor))
            allp = error_rates(np.array(res.genuine), np.array(res.impostor_all))
            replicates[res.name] = _bootstrap(res)
            report["sets"][res.name] = {
                "dpi": set_dpi, "images": res.images, "failures_to_enrol": res.failures,
                **fvc, **{f"{k}_all_pairs": v for k, v in allp.items()},
                "eer_ci95": _interval(replicates[res.name]["eer"]),
                "eer_all_pairs_ci95": _interval(replicates[res.name]["eer_all_pairs"]),
                "genuine_scores": res.genuine, "impostor_scores": res.impostor, "impostor_all_scores": res.impostor_all,
                "extract_ms_median": statistics.median(res.extract_ms) if res.extract_ms else None,
                "minutiae_median": statistics.median(res.minutiae) if res.minutiae else 0,
            }
    per = report["sets"].values()
    report["mean_eer"] = float(np.mean([s["eer"] for s in per]))
    report["bootstrap"] = (f"95% intervals from {BOOTSTRAP_RESAMPLES} finger-level bootstrap replicates per set "
                           "(Bolle, Ratha & Pankanti 2004, the subsets bootstrap; seed 0); a mean's interval "
                           "averages the sets' replicates, the sets being independent")
    report["mean_eer_all_pairs"] = float(np.mean([s["eer_all_pairs"] for s in per]))
    names = [n for n in report["sets"] if n.startswith("fvc2002")]
    if names:
        for key in ("eer", "eer_all_pairs"):
            report[f"mean_{key}_fvc2002"] = float(np.mean([report["sets"][n][key] for n in names]))
            report[f"mean_{key}_fvc2002_ci95"] = _interval(np.mean([replicates[n][key] for n in names], axis=0))
    report["extract_ms_median"] = statistics.median(all_ms) if all_ms else None
    if minutiae == "leader":
        report["extract_timing_note"] = ("wall time per image; LEADER runs in onnxruntime, whose thread pool "
                                         "uses every core (the other stages run on one)")
    report["comparisons_per_s_core"] = cmp_count / cmp_time if cmp_time > 0 else None
    report["comparisons_timing_note"] = ("one thread; a prepared probe against a prepared gallery (cylinders built "
                                          "once per template, as a gallery stores them) with score_many; every "
                                          "image of a set against the impressions of the set's other fingers "
                                          "(impostor comparisons, the bulk of a 1:N search); wall time")
    return report


def format_table(report: dict) -> str:
    """The report as a plain-text table (percentages)."""
    head = f"{'set':<16}{'dpi':>5}{'EER%':>8}{'EER 95%':>12}{'FMR100%':>9}{'FMR1000%':>10}{'ZeroFMR%':>10}{'EER%all':>9}{'FMR100all':>10}{'ms':>7}{'min':>5}"
    lines = [head, "-" * len(head)]
    for name, s in report["sets"].items():
        interval = "{:.2f}-{:.2f}".format(*(100 * v for v in s["eer_ci95"]))
        lines.append(
            f"{name:<16}{s['dpi']:>5}{100 * s['eer']:>8.2f}{interval:>12}{100 * s['fmr100']:>9.2f}{100 * s['fmr1000']:>10.2f}"
            f"{100 * s['zero_fmr']:>10.2f}{100 * s['eer_all_pairs']:>9.2f}{100 * s['fmr100_all_pairs']:>10.2f}"
            f"{s['extract_ms_median'] or 0:>7.1f}{s['minutiae_median']:>5.0f}"
        )
    lines.append("-" * len(head))
    lines.append(f"mean EER {100 * report['mean_eer']:.2f}%  (all-pairs impostors {100 * report['mean_eer_all_pairs']:.2f}%)")
    if "mean_eer_fvc2002" in report:
        lo, hi = report["mean_eer_fvc2002_ci95"]
        alo, ahi = report["mean_eer_all_pairs_fvc2002_ci95"]
        count = sum(1 for name in report["sets"] if name.startswith("fvc2002"))
        label = "FVC2002 DB1-4" if count == 4 else f"FVC2002 ({count} set{'s' if count > 1 else ''})"
        lines.append(f"mean EER {label} {100 * report['mean_eer_fvc2002']:.2f}% (95% {100 * lo:.2f}-{100 * hi:.2f})  "
                     f"(all-pairs {100 * report['mean_eer_all_pairs_fvc2002']:.2f}%, 95% {100 * alo:.2f}-{100 * ahi:.2f}; "
                     "finger bootstrap)")
    where = ("one core" if report.get("minutiae_detector", "ridges") == "ridges"
             else "LEADER minutiae; onnxruntime uses every core")
    lines.append(f"extraction median {report['extract_ms_median']:.1f} ms/image ({where}); "
                 f"{report['comparisons_per_s_core']:.0f} comparisons/s (one core)")
    if "extractor_version" in report:
        lines.append(f"{report.get('minutiae_detector', 'ridges')} minutiae, extractor version "
                     f"{report['extractor_version']}, matcher version {report['matcher_version']}")
    return "\n".join(lines)


def write_report(report: dict, path: str | os.PathLike) -> None:
    """Write the report as JSON atomically."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(report, indent=1))
    os.replace(tmp, path)
