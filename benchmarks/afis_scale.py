"""The scale run of ``biomatch bench afis``: a streamed distractor gallery around real mates.

The gallery holds the real impression-1 templates of the even-numbered FVC
fingers (the mates) and distractors from the templates of the odd-numbered
ones (:mod:`.afis_gallery`), so no distractor comes from a probe's finger.
Slot ``j`` is finger position ``1 + j % 10`` of record ``j // 10``, so the
mates form whole tenprint records (records 0-2 hold the 30 mates).

Measured, on ``IndexParams.search_threads`` threads:

* enrolment throughput (prepare + index, distractor generation excluded) and
  process RSS growth per finger (``/proc/self/statm``, after a garbage
  collection), with the index's own array bytes beside it;
* print search (impression 2 of a mate, position known), mark search (a
  template window of 25-40% of impression 2 at random rotation, every
  position, any rotation) and tenprint search (the 10 fingers of a mate
  record, each at its position, votes fused per record, scores summed per
  record: :func:`~biomatch.index.fingerprint.tenprint.search_records`):
  median and p95;
* hit rate against penetration: the share of probes whose mate is among the
  best-voted ``p`` of the eligible fingers, from the votes alone;
* rank-1 indexed against exhaustive on the first ``n_exhaustive`` probes of
  each kind (exhaustive re-scores every eligible finger).
"""
from __future__ import annotations

import gc
import os
import resource
import statistics
import time

import numpy as np

from biomatch.index.fingerprint.gallery import FingerIndex
from biomatch.index.fingerprint.params import DEFAULT_INDEX_PARAMS, IndexParams
from biomatch.index.fingerprint.tenprint import search_records
from biomatch.matcher.fingerprint import prepare
from biomatch.matcher.fingerprint.params import ANY_ROTATION_PARAMS

from .afis_gallery import distractors
from .calibrate_marks import simulated_mark

__all__ = ["run_scale", "PENETRATIONS"]

PENETRATIONS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _ms(values) -> dict:
    return {"median_ms": 1000 * statistics.median(values), "p95_ms": 1000 * float(np.percentile(values, 95)),
            "n": len(values)}


def build_gallery(temps, fingers, n, seed, params: IndexParams, progress):
    """The index and the mates' slots; returns ``(index, mates, timings)``."""
    mine, others = fingers[::2], set(fingers[1::2])
    sources = [temps[k] for k in sorted(temps) if (k[0], k[1]) in others]
    idx = FingerIndex(params)
    mates = {}
    gen_s = t_add = 0.0
    t0 = time.perf_counter()
    for slot, (s, f) in enumerate(mine):
        idx.add(slot, slot // 10, 1 + slot % 10, prepare(temps[(s, f, 1)]))
        mates[(s, f)] = slot
    stream = distractors(sources, max(0, n - len(mine)), seed)
    for j in range(len(mine), n):
        g = time.perf_counter()
        t = next(stream)
        gen_s += time.perf_counter() - g
        idx.add(j, j // 10, 1 + j % 10, prepare(t))
        if j % 100_000 == 0:
            progress(f"  {j} fingers enrolled, {time.perf_counter() - t0:.0f} s")
    idx.flush()
    t_add = time.perf_counter() - t0 - gen_s
    return idx, mates, {"enrol_s": t_add, "distractor_generation_s": gen_s}


def _mate_rank(idx, probe, mate_slot, positions):
    ok = idx.slots.eligible(positions)
    v = idx.votes(probe, ok, positions)
    v[ok == 0] = -1.0
    return int((v > v[mate_slot]).sum()), int(ok.sum())


def run_scale(temps, fingers, n, n_probes, rng, progress, n_exhaustive=10, n_exhaustive_marks=None,
              params: IndexParams = DEFAULT_INDEX_PARAMS) -> dict:
    _warm_up(temps, fingers, params)  # compile the kernels first: their memory is not the index's
    gc.collect()
    rss0 = _rss_bytes()
    idx, mates, timing = build_gallery(temps, fingers, n, int(rng.integers(2**31)), params, progress)
    gc.collect()
    rss1 = _rss_bytes()
    progress(f"scale gallery of {n} fingers: enrol {timing['enrol_s']:.0f} s, RSS +{(rss1 - rss0) / 2**20:.0f} MiB")
    # impression 2 of every mate first, then impression 3, ...: the default 30 probes are the impression-2
    # prints, and more probes (up to 7 per mate finger) measure the hit rates more finely
    keys = [(s, f, i) for i in range(2, 100) for (s, f) in mates if (s, f, i) in temps][:n_probes]
    probes = [(prepare(temps[k]), mates[k[:2]], 1 + mates[k[:2]] % 10) for k in keys]
    marks = []
    for k in keys:
        m = simulated_mark(temps[k], rng)
        if len(m) >= 6:
            marks.append((prepare(m), mates[k[:2]]))
    lat_p, lat_m, ranks_p, ranks_m, top1_p, top1_m = [], [], [], [], [], []
    for p, mate, pos in probes:
        t = time.perf_counter()
        hits, _ = idx.search(p, positions=[pos], top=20)
        lat_p.append(time.perf_counter() - t)
        top1_p.append(bool(hits) and hits[0].slot == mate)
        ranks_p.append(_mate_rank(idx, p, mate, [pos]))
    for m, mate in marks:
        t = time.perf_counter()
        hits, _ = idx.search(m, matcher_params=ANY_ROTATION_PARAMS, top=20)
        lat_m.append(time.perf_counter() - t)
        top1_m.append(bool(hits) and hits[0].slot == mate)
        ranks_m.append(_mate_rank(idx, m, mate, None))
    lat_tp, tp_found = _tenprint_latencies(idx, temps, mates)
    progress("scale searches done; exhaustive reference next")
    exh = {"prints": _exhaustive(idx, [(p, mate, [pos], None) for p, mate, pos in probes[:n_exhaustive]], top1_p),
           "marks": _exhaustive(idx, [(m, mate, None, ANY_ROTATION_PARAMS)
                                     for m, mate in marks[:n_exhaustive if n_exhaustive_marks is None
                                                          else n_exhaustive_marks]], top1_m)}
    gc.collect()
    rss2 = _rss_bytes()
    return {"fingers": n, "index": repr(params), "threads": params.search_threads,
            "gallery_kind": "30 real impression-1 mates + distractors warped from the 240 templates of the 30 "
                            "other FVC fingers (benchmarks/afis_gallery.py)",
            "shortlist_print": idx.shortlist_size(int(idx.slots.eligible([1]).sum())),
            "shortlist_mark": idx.shortlist_size(), "penetration": params.penetration,
            "print_search": _ms(lat_p), "mark_search": _ms(lat_m),
            "tenprint_search": {**_ms(lat_tp), "rank1": float(np.mean(tp_found)), "records": len(tp_found) // 3,
                                "fingers_per_record": 10, "record_penetration": params.record_penetration},
            "rank1_indexed": {"prints": float(np.mean(top1_p)), "marks": float(np.mean(top1_m)),
                              "print_probes": len(top1_p), "mark_probes": len(top1_m)},
            "hit_rate_vs_penetration": {"prints": _curve(ranks_p), "marks": _curve(ranks_m)},
            "exhaustive_subsample": exh,
            "enrol_fingers_per_s": n / timing["enrol_s"], **timing,
            "segments": len(idx.segments()),
            "index_bytes_per_finger": idx.nbytes() / n,
            "rss_growth_bytes_per_finger": (rss1 - rss0) / n,
            "rss_growth_gb_per_million": (rss1 - rss0) / n * 1e6 / 1e9,
            "rss_after_searches_bytes_per_finger": (rss2 - rss0) / n,
            "max_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9}


def _warm_up(temps, fingers, params) -> None:
    idx, _, _ = build_gallery(temps, fingers, 300, 1, params, lambda *_: None)
    p = prepare(temps[(*fingers[0], 2)])
    idx.search(p, positions=[1], top=20, shortlist=50)
    idx.search(p, matcher_params=ANY_ROTATION_PARAMS, top=20, shortlist=50)
    idx.search(p, exhaustive=True)


def _curve(ranks) -> dict:
    return {f"{100 * p:g}%": float(np.mean([r < max(1, int(np.ceil(p * e))) for r, e in ranks])) for p in PENETRATIONS}


def _tenprint_latencies(idx, temps, mates) -> list[float]:
    """TP->TP over the mate records: each finger at its position, scores summed per record."""
    by_record: dict[int, list] = {}
    for (s, f), slot in mates.items():
        if (s, f, 2) in temps:
            by_record.setdefault(slot // 10, []).append((1 + slot % 10, prepare(temps[(s, f, 2)])))
    out, found = [], []
    for _ in range(3):
        for rec, fingers in by_record.items():
            t = time.perf_counter()
            hits, _ = search_records(idx, dict(fingers), top=50)
            best = max(hits, key=lambda r: sum(h.score for h in hits[r].values()), default=None)
            out.append(time.perf_counter() - t)
            found.append(best == rec)
    return out, found


def _exhaustive(idx, cases, top1_indexed) -> dict:
    found, ms = [], []
    for probe, mate, positions, mp in cases:
        t = time.perf_counter()
        hits, _ = idx.search(probe, positions=positions, matcher_params=mp, exhaustive=True, top=20)
        ms.append(time.perf_counter() - t)
        found.append(bool(hits) and hits[0].slot == mate)
    k = len(found)
    return {"probes": k, "rank1_exhaustive": float(np.mean(found)) if k else None,
            "rank1_indexed_same_probes": float(np.mean(top1_indexed[:k])) if k else None,
            "lost_points": 100 * float(np.mean(found) - np.mean(top1_indexed[:k])) if k else None,
            "search_ms_median": 1000 * statistics.median(ms) if ms else None}
