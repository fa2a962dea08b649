"""``biomatch bench afis``: identification on the FVC sets, simulated marks, and a scale run.

* Identification: gallery = impression 1 of every finger of every set; probes =
  impressions 2-8. Rank-1, rank-20, FNIR at FPIR 1%, with the index's
  shortlist and exhaustively, so the hit rate lost by the shortlist shows.
* Marks: windows of 25-40% of the print area of impressions 2-8, Gaussian
  blur and noise, rotated at random on a white canvas, re-extracted inside an
  examiner ROI (the window 12 px inside its edges), searched at any rotation.
* Scale: a gallery of ``--scale`` fingers built from the real templates by
  perturbation (rotation +-30 deg, translation, 10-20% minutiae dropped, 5-10%
  spurious minutiae added, smooth sinusoidal distortion) around the real
  impression-1 mates; latency, penetration, hit rate against exhaustive on a
  subsample, enrolment throughput, bytes per finger. Mark probes there are
  template windows (25-40% of the area, random rotation) of impression 2.
"""
from __future__ import annotations

import json
import math
import os
import resource
import statistics
import time

import cv2
import numpy as np

from biomatch.extractors.fingerprint import extract_fingerprint
from biomatch.extractors.fingerprint.template import FingerprintTemplate
from biomatch.extractors.imageio import load_grey
from biomatch.index.fingerprint.decision import mark_calibration, search_threshold
from biomatch.index.fingerprint.gallery import FingerIndex
from biomatch.index.fingerprint.marks import mark_template
from biomatch.matcher.fingerprint import prepare
from biomatch.matcher.fingerprint.params import ANY_ROTATION_PARAMS

from .datasets import data_root, fvc_images, fvc_set_dpi

__all__ = ["run_afis", "perturb", "format_table"]


def _load(data):
    root = data_root(data) / "fingerprints" if data is None else data_root(data)
    out = {}
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        dpi = fvc_set_dpi(d)
        for (f, i), path in sorted(fvc_images(d).items()):
            out[(d.name, f, i)] = (path, dpi)
    return out


def perturb(t: FingerprintTemplate, rng: np.random.Generator) -> FingerprintTemplate:
    """A new finger-like template from ``t``: rotation, translation, minutiae drop/add, distortion."""
    n = len(t)
    keep = rng.random(n) >= rng.uniform(0.10, 0.20)
    x, y, a = t.x[keep].astype(np.float64), t.y[keep].astype(np.float64), t.angle[keep].astype(np.float64)
    add = int(round(n * rng.uniform(0.05, 0.10)))
    x = np.concatenate([x, rng.uniform(x.min(), x.max(), add)]) if add and len(x) else x
    y = np.concatenate([y, rng.uniform(y.min(), y.max(), add)]) if add and len(y) else y
    a = np.concatenate([a, rng.uniform(0, 2 * math.pi, add)]) if add else a
    cx, cy = t.width / 2, t.height / 2
    r = math.radians(rng.uniform(-30, 30))
    amp, per = rng.uniform(2, 6), rng.uniform(120, 250)
    x = x + amp * np.sin(y / per * 2 * math.pi)
    xr = math.cos(r) * (x - cx) - math.sin(r) * (y - cy) + cx + rng.uniform(-20, 20)
    yr = math.sin(r) * (x - cx) + math.cos(r) * (y - cy) + cy + rng.uniform(-20, 20)
    m = len(xr)
    return FingerprintTemplate(x=xr, y=yr, angle=np.mod(a + r, 2 * math.pi), kind=np.ones(m, np.uint8),
                               quality=np.full(m, 50, np.uint8), width=t.width, height=t.height, dpi=500)


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


def run_afis(data=None, *, scale: int = 10_000, scale_probes: int = 30, scale_exhaustive: int = 10, seed: int = 7,
             progress=print) -> dict:
    items = _load(data)
    t0 = time.perf_counter()
    temps = {k: extract_fingerprint(p, dpi) for k, (p, dpi) in items.items()}
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
    report = {"gallery": len(gal), "threshold_fpir_1pct": thr, "threshold_resolved": resolved}
    report["identification"] = {"exhaustive": _summary(_ranks(gal, probes, mates, exhaustive=True), thr)}
    for k in (6, 12):
        report["identification"][f"shortlist_{k}"] = _summary(_ranks(gal, probes, mates, shortlist=k), thr)
    rng = np.random.default_rng(seed)
    mprobes, mmates = [], []
    for slot, (s, f) in enumerate(fingers):
        for i in range(2, 9):
            if (s, f, i) in items:
                path, dpi = items[(s, f, i)]
                img, roi = _mark_image(path, dpi, rng, rotate=True, with_roi=True)
                try:
                    t = mark_template(img, dpi=dpi, roi=roi)
                except ValueError:  # fewer than 6 minutiae: refused, as the service would
                    continue
                mprobes.append(prepare(t))
                mmates.append(slot)
    mr = _ranks(gal, mprobes, mmates, exhaustive=True, matcher_params=ANY_ROTATION_PARAMS)
    mthr, _ = search_threshold(len(gal), calibration=mark_calibration())
    report["marks"] = {**_summary(mr, mthr), "threshold_fpir_1pct": mthr,
                       "refused_under_6_minutiae": len(probes) - len(mprobes)}
    progress("identification and marks done")
    if scale:
        report["scale"] = _scale(temps, fingers, scale, scale_probes, rng, progress, scale_exhaustive)
    report["load_average"] = os.getloadavg()
    return report


def _scale(temps, fingers, n, n_probes, rng, progress, n_exhaustive=10):
    # probe fingers (even) and distractor sources (odd) are different fingers: a perturbed copy of
    # the probe's own finger would be a mate, not a distractor
    mine, others = fingers[::2], set(fingers[1::2])
    real = [temps[k] for k in sorted(temps) if (k[0], k[1]) in others]
    idx = FingerIndex()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    for slot, (s, f) in enumerate(mine):
        idx.add(slot, slot, 0, prepare(temps[(s, f, 1)]))
    for j in range(len(mine), n):
        idx.add(j, j, 0, prepare(perturb(real[j % len(real)], rng)))
    enrol_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    idx._vote_table()
    build_s = time.perf_counter() - t1
    progress(f"scale gallery of {n} fingers built: enrol {enrol_s:.1f} s, vote tables {build_s:.1f} s")
    keys = [(s, f, 2) for s, f in mine if (s, f, 2) in temps][:n_probes]
    probes = [prepare(temps[k]) for k in keys]
    mates = [mine.index((s, f)) for s, f, _ in keys]
    from .calibrate_marks import simulated_mark

    marks = [simulated_mark(temps[k], rng) for k in keys]
    marks = [prepare(m) if len(m) >= 6 else None for m in marks]
    lat_p, lat_m, found_idx, found_mark, n_marks, found_exh = [], [], 0, 0, 0, 0
    for p, mark, mate in zip(probes, marks, mates):
        t = time.perf_counter()
        hits, _ = idx.search(p, top=20)
        lat_p.append(time.perf_counter() - t)
        if mark is not None:
            t = time.perf_counter()
            mh, _ = idx.search(mark, matcher_params=ANY_ROTATION_PARAMS, top=20)
            lat_m.append(time.perf_counter() - t)
            n_marks += 1
            found_mark += bool(mh) and mh[0].row_id == mate
        in_idx = bool(hits) and hits[0].row_id == mate
        found_idx += in_idx
    sub = list(zip(probes, mates))[:n_exhaustive]
    exh_ms = []
    for p, mate in sub:
        t = time.perf_counter()
        hits, _ = idx.search(p, exhaustive=True, top=20)
        exh_ms.append(time.perf_counter() - t)
        found_exh += bool(hits) and hits[0].row_id == mate
    sub_idx = sum(bool(h) and h[0].row_id == m for h, m in ((idx.search(p, top=20)[0], m) for p, m in sub))
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"fingers": n, "gallery_kind": "30 real impression-1 mates + perturbed copies of the 240 templates of the 30 other FVC fingers",
            "shortlist": idx.shortlist_size(), "penetration": idx.shortlist_size() / n,
            "print_search_ms_median": 1000 * statistics.median(lat_p),
            "print_search_ms_p95": 1000 * float(np.percentile(lat_p, 95)),
            "mark_search_ms_median": 1000 * statistics.median(lat_m) if lat_m else None,
            "mark_search_ms_p95": 1000 * float(np.percentile(lat_m, 95)) if lat_m else None,
            "exhaustive_search_ms_median": 1000 * statistics.median(exh_ms),
            "rank1_indexed": found_idx / len(probes),
            "mark_rank1_indexed": found_mark / max(1, n_marks), "mark_probes": n_marks,
            "rank1_indexed_subsample": sub_idx / len(sub), "rank1_exhaustive_subsample": found_exh / len(sub),
            "enrol_fingers_per_s": n / enrol_s, "vote_table_build_s": build_s,
            "index_bytes_per_finger": idx.nbytes() / n,
            "max_rss_growth_bytes_per_finger": (rss1 - rss0) * 1024 / n}


def format_table(r: dict) -> str:
    lines = [f"gallery {r['gallery']} fingers, threshold at FPIR 1%: {r['threshold_fpir_1pct']:.4f}"
             f"{'' if r['threshold_resolved'] else ' (beyond calibration resolution: bound)'}",
             f"{'mode':24s} {'rank1':>7s} {'rank20':>7s} {'FNIR@FPIR1%':>12s} {'probes':>7s}"]
    rows = [(f"ident {k}", v) for k, v in r["identification"].items()] + [("marks (exhaustive)", r["marks"])]
    for name, v in rows:
        lines.append(f"{name:24s} {v['rank1']:7.3f} {v['rank20']:7.3f} {v['fnir_at_fpir_1pct']:12.3f} {v['probes']:7d}")
    if "scale" in r:
        lines += [f"scale: {k} = {v:.4g}" if isinstance(v, float) else f"scale: {k} = {v}" for k, v in r["scale"].items()]
    return "\n".join(lines)


def write_report(report: dict, path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=2)
