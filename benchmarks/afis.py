"""``biomatch bench afis``: identification on the FVC sets, simulated marks, and a scale run.

* Identification: gallery = impression 1 of every finger of every set; probes =
  impressions 2-8. Rank-1, rank-20, FNIR at FPIR 1%, with the index's
  shortlist and exhaustively, so the hit rate lost by the shortlist shows.
* Marks: windows of 25-40% of the print area of impressions 2-8, Gaussian
  blur and noise, rotated at random on a white canvas, re-extracted inside an
  examiner ROI (the window 12 px inside its edges), searched at any rotation.
* Scale: a gallery of ``--scale`` fingers, distractors warped from real
  templates around the real impression-1 mates, streamed
  (:mod:`.afis_scale`, :mod:`.afis_gallery`): latency of print, mark and
  tenprint searches, hit rate against penetration, rank-1 against exhaustive
  on a subsample, enrolment throughput, RSS per finger.
"""
from __future__ import annotations

import json
import math
import os
import time

import cv2
import numpy as np

from biomatch.extractors.fingerprint import detector_params, extract_fingerprint
from biomatch.extractors.imageio import load_grey
from biomatch.index.fingerprint.decision import mark_calibration, search_threshold
from biomatch.index.fingerprint.gallery import FingerIndex
from biomatch.index.fingerprint.marks import mark_template
from biomatch.index.fingerprint.params import DEFAULT_INDEX_PARAMS, IndexParams
from biomatch.matcher.fingerprint import prepare
from biomatch.matcher.fingerprint.params import ANY_ROTATION_PARAMS

from .afis_scale import run_scale
from .datasets import data_root, fvc_images, fvc_set_dpi

__all__ = ["run_afis", "format_table"]


def _load(data):
    root = data_root(data) / "fingerprints" if data is None else data_root(data)
    out = {}
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        dpi = fvc_set_dpi(d)
        for (f, i), path in sorted(fvc_images(d).items()):
            out[(d.name, f, i)] = (path, dpi)
    return out


def _mark_image(path, dpi, rng, rotate: bool = False, with_roi: bool = False):
    """A window of 25-40% of the print area, Gaussian blur (sigma 1) and noise (sd 12), optionally rotated.

    With ``with_roi``, also returns the examiner's region of interest: the
    window's outline 12 px inside its edges, in the output image's pixels.
    """
    img = load_grey(path)
    h, w = img.shape
    frac = rng.uniform(0.25, 0.40)
    ch, cw = int(h * math.sqrt(frac)), int(w * math.sqrt(frac))
    y0 = rng.integers(h // 4, max(h // 4 + 1, h - ch - h // 8))
    x0 = rng.integers(w // 6, max(w // 6 + 1, w - cw - w // 6))
    crop = img[y0:y0 + ch, x0:x0 + cw].astype(np.float32)
    crop = cv2.GaussianBlur(crop, (0, 0), 1.0) + rng.normal(0, 12, crop.shape)
    out = np.clip(crop, 0, 255).astype(np.uint8)
    ch, cw = out.shape
    roi = np.array([[12, 12], [cw - 12, 12], [cw - 12, ch - 12], [12, ch - 12]], np.float64)
    if rotate:
        side = int(math.hypot(ch, cw)) + 2
        m = cv2.getRotationMatrix2D((cw / 2, ch / 2), float(rng.uniform(0, 360)), 1.0)
        m[:, 2] += ((side - cw) / 2, (side - ch) / 2)
        out = cv2.warpAffine(out, m, (side, side), flags=cv2.INTER_LINEAR, borderValue=255)
        roi = roi @ m[:, :2].T + m[:, 2]
    return (out, roi) if with_roi else out


def _ranks(index, probes, mates, **kw):
    out = []
    for p, mate in zip(probes, mates):
        hits, _ = index.search(p, **kw)
        rows = [h.row_id for h in hits]
        score = next((h.score for h in hits if h.row_id == mate), -1.0)
        out.append((rows.index(mate) if mate in rows else 10**9, score, hits[0].score if hits else 0.0))
    return out


def _summary(r, thr):
    rank = np.array([x[0] for x in r])
    mate = np.array([x[1] for x in r])
    return {"rank1": float(np.mean(rank < 1)), "rank20": float(np.mean(rank < 20)),
            "fnir_at_fpir_1pct": float(np.mean((rank >= 1) | (mate < thr))), "probes": len(r)}


def run_afis(data=None, *, scale: int = 10_000, scale_probes: int = 30, scale_exhaustive: int = 10,
             scale_exhaustive_marks: int | None = None, seed: int = 7, fvc: bool = True,
             index_params: IndexParams = DEFAULT_INDEX_PARAMS, progress=print, minutiae: str = "ridges") -> dict:
    params = detector_params(minutiae)  # ValueError for an unknown detector
    items = _load(data)
    t0 = time.perf_counter()
    temps = {k: extract_fingerprint(p, dpi, params=params) for k, (p, dpi) in items.items()}
    progress(f"extracted {len(temps)} prints in {time.perf_counter() - t0:.1f} s")
    fingers = sorted({(s, f) for s, f, _ in temps})
    gal = FingerIndex()
    for slot, (s, f) in enumerate(fingers):
        gal.add(slot, slot, 0, prepare(temps[(s, f, 1)]))
    probes, mates = [], []
    for slot, (s, f) in enumerate(fingers):
        for i in range(2, 9):
            if (s, f, i) in temps:
                probes.append(prepare(temps[(s, f, i)]))
                mates.append(slot)
    thr, resolved = search_threshold(len(gal))
    report = {"gallery": len(gal), "threshold_fpir_1pct": thr, "threshold_resolved": resolved,
              "minutiae_detector": minutiae}
    rng = np.random.default_rng(seed)
    if fvc:
        report.update(_fvc_identification(gal, items, fingers, probes, mates, thr, rng, progress, minutiae))
    if scale:
        report["scale"] = run_scale(temps, fingers, scale, scale_probes, rng, progress, scale_exhaustive,
                                    scale_exhaustive_marks, index_params)
    report["load_average"] = os.getloadavg()
    return report


def _fvc_identification(gal, items, fingers, probes, mates, thr, rng, progress, minutiae="ridges") -> dict:
    report = {}
    report["identification"] = {"exhaustive": _summary(_ranks(gal, probes, mates, exhaustive=True), thr)}
    for k in (6, 12):
        report["identification"][f"shortlist_{k}"] = _summary(_ranks(gal, probes, mates, shortlist=k), thr)
    report["identification_hit_rate_vs_penetration"] = _fvc_curve(gal, probes, mates)
    mprobes, mmates = [], []
    for slot, (s, f) in enumerate(fingers):
        for i in range(2, 9):
            if (s, f, i) in items:
                path, dpi = items[(s, f, i)]
                img, roi = _mark_image(path, dpi, rng, rotate=True, with_roi=True)
                try:
                    t = mark_template(img, dpi=dpi, roi=roi, detector=minutiae)
                except ValueError:  # fewer than 6 minutiae: refused, as the service would
                    continue
                mprobes.append(prepare(t))
                mmates.append(slot)
    mr = _ranks(gal, mprobes, mmates, exhaustive=True, matcher_params=ANY_ROTATION_PARAMS)
    mthr, _ = search_threshold(len(gal), calibration=mark_calibration())
    report["marks"] = {**_summary(mr, mthr), "threshold_fpir_1pct": mthr,
                       "refused_under_6_minutiae": len(probes) - len(mprobes)}
    progress("identification and marks done")
    return report


def _fvc_curve(gal, probes, mates) -> dict:
    """Share of probes whose mate is among the best-voted k gallery fingers (votes alone)."""
    ranks = []
    ok = gal.slots.eligible()
    for p, mate in zip(probes, mates):
        v = gal.votes(p, ok)
        ranks.append(int((v > v[gal.slots.slot_of(mate)]).sum()))
    n = len(gal)
    return {f"{k}/{n}": float(np.mean(np.array(ranks) < k)) for k in (1, 3, 6, 12, 30)}


def format_table(r: dict) -> str:
    lines = [f"gallery {r['gallery']} fingers, threshold at FPIR 1%: {r['threshold_fpir_1pct']:.4f}"
             f"{'' if r['threshold_resolved'] else ' (beyond calibration resolution: bound)'}",
             f"{'mode':24s} {'rank1':>7s} {'rank20':>7s} {'FNIR@FPIR1%':>12s} {'probes':>7s}"]
    rows = [(f"ident {k}", v) for k, v in r.get("identification", {}).items()]
    rows += [("marks (exhaustive)", r["marks"])] if "marks" in r else []
    for name, v in rows:
        lines.append(f"{name:24s} {v['rank1']:7.3f} {v['rank20']:7.3f} {v['fnir_at_fpir_1pct']:12.3f} {v['probes']:7d}")
    if "scale" in r:
        lines += [f"scale: {k} = {v:.4g}" if isinstance(v, float) else f"scale: {k} = {v}" for k, v in r["scale"].items()]
    return "\n".join(lines)


def write_report(report: dict, path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=2)
