"""``biomatch bench faces``: accuracy, calibration and speed of the face engine.

Sections (all written to one JSON file, printed as a table):

* ``pairs``: LFW View-2 pairs protocol on the shared folds (mean +- std
  accuracy with the threshold chosen on the other folds, EER, TAR@FAR).
* ``all_pairs``: every genuine and impostor pair of ``lfw_dev``; the impostor
  scores fit the FMR calibration (``--write-calibration``); the default
  thresholds' FMR and FNMR are reported here and on ``orl_att``.
* ``identification``: 1:N on ``lfw_dev`` (rank-1, rank-5, FNIR at FPIR 1%),
  and ``identification_sets`` for the other folders.
* ``speed``: detect + align + embed per 640x480 image, one core.
* ``search``: exact search on generated 1M and 10M galleries, 1 and 2
  threads, single and batched; memory per million; the IVF shortlist's recall.
"""
from __future__ import annotations

import gc
import json
import logging
import os
import time
from pathlib import Path

import numpy as np

from . import faces_accuracy as acc
from . import faces_speed as spd
from .datasets import data_root
from .faces_data import embed_folder, list_identity_folder, read_pairs

__all__ = ["run_face_benchmark"]
log = logging.getLogger(__name__)


def _search_section(real: np.ndarray, sizes: list[int], threads: int, kinds: list[str]) -> dict:
    model = spd.GalleryModel(real)
    rng = np.random.default_rng(7)
    out = {}
    for n in sizes:
        for kind in kinds:
            before = spd.rss_bytes()
            t0 = time.perf_counter()
            index = spd.build_gallery(model, n, kind=kind, threads=threads)
            build_s = time.perf_counter() - t0
            grown = spd.rss_bytes() - before
            mates = rng.choice(n, size=1024, replace=False)
            queries = model.mated(index.reconstruct(mates), rng)
            big = n > 2_000_000
            timing = spd.search_speed(index, queries, threads=(1, 2), single=20 if big else 50, batches=2 if big else 4)
            index.threads = min(timing, key=lambda t: timing[t]["ms_per_query_batched"]).count("2") + 1
            key = str(n) if kind == "flat" else f"{n}_{kind}"
            entry = {"kind": index.factory_string, "faces": n, "build_s": build_s,
                     "memory_bytes": grown, "memory_gb": grown / 1e9,
                     "memory_per_million_mb": grown / n * 1e6 / 1e6, **timing[f"threads_{threads}"],
                     "by_threads": timing}
            exact_s, exact_i = index.search(queries[:256], 10)
            entry["mate_rank1"] = float(np.mean(exact_i[:, 0] == mates[:256]))
            if kind == "flat" and n <= 2_000_000:
                entry["shortlist"] = _shortlist(index, queries[:256], exact_i, mates[:256])
            out[key] = entry
            log.info("search %s %s: %s", n, kind, {k: v for k, v in entry.items() if k != "by_threads"})
            del index, queries
            gc.collect()
    return out


def _shortlist(index, queries, exact_i, mates) -> list[dict]:
    from biomatch.index.faces import ShortlistIndex

    rows = []
    t0 = time.perf_counter()
    sl = ShortlistIndex(index, shortlist=200)
    build = time.perf_counter() - t0
    for nprobe in (8, 32, 128):
        sl.nprobe = nprobe
        t0 = time.perf_counter()
        _, ids = sl.search(queries, 10)
        ms = 1000 * (time.perf_counter() - t0) / len(queries)
        recall10 = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids, exact_i)]))
        rows.append({"factory": sl.factory_string, "nprobe": nprobe, "shortlist": sl.shortlist,
                     "ms_per_query_batched": ms, "recall_at_10_vs_exact": recall10,
                     "top1_agrees_with_exact": float(np.mean(ids[:, 0] == exact_i[:, 0])),
                     "mate_rank1": float(np.mean(ids[:, 0] == mates)), "build_s": build})
    return rows


def _default_threshold_rates(genuine, impostor, gallery_size: int, cal) -> dict:
    from biomatch.matcher.faces.thresholds import DEFAULT_VERIFY_FMR, verify_threshold

    t = verify_threshold(cal)
    out = {"verify": {"target_fmr": DEFAULT_VERIFY_FMR, **acc.rates_at_threshold(genuine, impostor, t)}}
    try:
        ts = cal.threshold_for_fpir(0.01, gallery_size)
        out["search_fpir_0_01"] = {"gallery_size": gallery_size, **acc.rates_at_threshold(genuine, impostor, ts)}
    except ValueError as exc:
        out["search_fpir_0_01"] = {"error": str(exc)}
    return out


def run_face_benchmark(*, data: str | None = None, pairs: str | None = None, json_out: str,
                       plot: str | None = None, sets=("lfw_dev", "orl_att"), sizes=(1_000_000, 10_000_000),
                       speed_repeats: int = 3,
                       kinds=("flat",), threads: int = 2, speed_images: int = 40,
                       write_calibration: str | None = None, skip=(), model: str | None = None,
                       calibration_sets=None) -> dict:
    from biomatch.index.faces.threads import prefer_passive_openmp

    prefer_passive_openmp()  # before scikit-learn or faiss loads libgomp
    import cv2

    cv2.setNumThreads(1)
    from biomatch.extractors.faces import DEFAULT_FACE_PARAMS, get_model
    from biomatch.matcher.faces import FmrCalibration, fit_fmr_table_from_counts, load_calibration
    from biomatch.matcher.faces.calibration import SCORE_BINS

    params = DEFAULT_FACE_PARAMS.with_changes(model=model) if model else DEFAULT_FACE_PARAMS
    model_id = get_model(params.model).model_id
    root, sets = _resolve_sets(data, sets)
    results: dict = {"data": str(root), "threads": threads, "model": params.model, "model_id": model_id}
    embedded = {name: embed_folder(root / name, list_identity_folder(root / name), params=params) for name in sets}
    main = embedded.get("lfw_dev") or next(iter(embedded.values()))
    pairs_file = Path(pairs) if pairs else main.root / "pairs_view2_folds1-5.txt"
    if "pairs" not in skip and pairs_file.is_file():
        p = acc.pairs_protocol(main, *read_pairs(pairs_file))
        results["pairs"] = {k: v for k, v in p.items() if k not in ("scores", "same")}
        results["pairs"]["file"] = str(pairs_file)
    genuine, impostor = acc.all_pairs_scores(main)
    results["all_pairs"] = {"set": main.root.name, "n_genuine": int(genuine.size), "n_impostor": int(impostor.size),
                            **{k: v for k, v in acc._roc_summary(np.concatenate([genuine, impostor]),
                               np.r_[np.ones(genuine.size, bool), np.zeros(impostor.size, bool)]).items()}}
    cal_sets = [embedded[n] for n in (calibration_sets or (main.root.name,)) if n in embedded]
    if not cal_sets:
        raise ValueError(f"calibration sets {calibration_sets} are not among the benchmark sets {list(embedded)}")
    counts, n_images = acc.impostor_counts(cal_sets, bins=SCORE_BINS)
    table = fit_fmr_table_from_counts(counts, model_id=model_id, protocol=(
        f"{' + '.join(fs.root.name for fs in cal_sets)}: every different-identity pair of the central "
        f"faces of {n_images} images, people of different sets taken as different ({int(counts.sum())} scores; "
        f"pairs share images, so not independent); binned at {2 / SCORE_BINS:g}"))
    results["calibration"] = {k: v for k, v in table.items() if k not in ("fmr", "threshold")}
    results["calibration"].update(min_fmr=table["fmr"][-1], written=write_calibration)
    if write_calibration:
        Path(write_calibration).write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
        cal = FmrCalibration.from_dict(table)
    else:
        cal = load_calibration(model_id)
    ident = {name: acc.identification(fs, threads=threads) for name, fs in embedded.items()}
    results["identification"] = ident[main.root.name]
    results["identification_sets"] = ident
    results["default_thresholds"] = {main.root.name: _default_threshold_rates(
        genuine, impostor, results["identification"]["gallery_size"], cal)}
    for name, fs in embedded.items():
        if fs is not main:
            g, i = acc.all_pairs_scores(fs)
            results["default_thresholds"][name] = _default_threshold_rates(g, i, ident[name]["gallery_size"], cal)
    if "speed" not in skip:
        paths = [main.root / p for p in main.paths[:: max(1, len(main.paths) // speed_images)][:speed_images]]
        results["speed"] = spd.embed_speed(paths, threads=1, repeats=speed_repeats)
        results["speed_1920x1080"] = spd.embed_speed(paths[:10], size=(1920, 1080), threads=1,
                                                     configs={"two-scale 320/640 (default)": {}})
    if "detection" not in skip:
        results["detection"] = _detection_section(main, params)
    if "search" not in skip:
        real = main.embeddings[main.accepted]
        results["search"] = _search_section(real, list(sizes), threads, list(kinds))
    results["peak_rss_gb"] = spd.peak_rss_bytes() / 1e9
    results["omp_wait_policy"] = os.environ.get("OMP_WAIT_POLICY")
    results["load_average_1min_end"] = os.getloadavg()[0]
    if plot:
        _plot_det(genuine, impostor, plot, main.root.name, model_id)
    Path(json_out).write_text(json.dumps(results, indent=1, default=float) + "\n", encoding="utf-8")
    print_table(results)
    return results


def _detection_section(main, params, images: int = 100) -> dict:
    from biomatch.extractors.faces import get_model
    from biomatch.extractors.imageio import load_colour

    from . import faces_detection as fd

    model = get_model(params.model)
    step = max(1, len(main.paths) // images)
    refs = fd.reference_faces([load_colour(main.root / p) for p in main.paths[::step][:images]], model)
    settings = {"two-scale 320/640 (default)": params, "640 only (v1)": params.with_changes(detect_coarse_side_px=0),
                "320 only": params.with_changes(detect_max_side_px=320, detect_coarse_side_px=0),
                "full resolution": params.with_changes(detect_max_side_px=4096, detect_coarse_side_px=0)}
    return {"faces": len(refs), "recall_by_face_px": fd.size_curve(refs, model),
            "multi_face": fd.policy_recall(refs, model, settings, images=10)}


def _resolve_sets(data, sets) -> tuple[Path, tuple[str, ...]]:
    """``(folder, set names)``: the shared ``faces`` folder, a folder holding sets, or one set itself."""
    base = data_root(data)
    for root in (base / "faces", base):
        found = tuple(name for name in sets if (root / name).is_dir())
        if found:
            return root, found
    if data is not None and Path(data).is_dir():  # a folder-per-identity set of its own
        return Path(data).resolve().parent, (Path(data).resolve().name,)
    raise ValueError(f"{base}: no face set found (expected {', '.join(sets)} or folder-per-identity sub-folders)")


def _plot_det(genuine, impostor, path, name, model_id) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    fmr, fnmr = acc.det_points(genuine, impostor)
    ok = (fmr > 0) & (fnmr > 0)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(norm.ppf(fmr[ok]), norm.ppf(fnmr[ok]), label=f"YuNet+SFace ({model_id}), {name}")
    ticks = np.array([1e-6, 1e-4, 1e-3, 1e-2, 0.1, 0.5])
    ax.set_xticks(norm.ppf(ticks), [f"{t:g}" for t in ticks])
    ax.set_yticks(norm.ppf(ticks), [f"{t:g}" for t in ticks])
    ax.set_xlim(norm.ppf(1e-7), norm.ppf(0.6))
    ax.set_ylim(norm.ppf(5e-5), norm.ppf(0.6))
    ax.set_xlabel("FMR")
    ax.set_ylabel("FNMR")
    ax.grid(True)
    ax.legend()
    ax.set_title("DET (probit axes)")
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def print_table(r: dict) -> None:
    rows = []
    if "pairs" in r:
        p = r["pairs"]
        lo, hi = p["accuracy_ci95"]
        rows += [("pairs accuracy (mean +- std)", f"{100 * p['accuracy_mean']:.2f}% +- {100 * p['accuracy_std']:.2f}%"
                  f" ({p['folds']} folds)", ">= 99.3%"),
                 ("pairs errors, 95% interval of the accuracy",
                  f"{p['errors']} of {p['pairs']:,}; {100 * lo:.2f}-{100 * hi:.2f}% (Wilson)", ""),
                 ("pairs EER / TAR@FAR=1e-3", f"{100 * p['eer']:.2f}% / {100 * p['tar_at_far_1e-3']:.2f}%", "")]
    c = r["calibration"]
    rows.append((f"FMR calibration ({c['model_id']})", f"{c['n_impostor']:,} impostor scores, down to FMR {c['min_fmr']:g}",
                 ""))
    a = r["all_pairs"]
    rows.append((f"all pairs {a['set']} EER / TAR@1e-3 / TAR@1e-4",
                 f"{100 * a['eer']:.2f}% / {100 * a['tar_at_far_1e-3']:.2f}% / {100 * a['tar_at_far_1e-4']:.2f}%", ""))
    for name, i in r["identification_sets"].items():
        fn = i.get("fnir_at_fpir_0_01")
        rows.append((f"1:N {name} rank-1 / rank-5 / FNIR@FPIR1%",
                     f"{100 * i['rank1']:.2f}% / {100 * i['rank5']:.2f}% / "
                     + (f"{100 * fn:.2f}%" if fn is not None else "n/a"), ">= 97.5%" if name == "lfw_dev" else ""))
    for name, d in r["default_thresholds"].items():
        v = d["verify"]
        rows.append((f"default verify threshold {v['threshold']:.3f} on {name}",
                     f"FMR {100 * v['fmr']:.3f}% FNMR {100 * v['fnmr']:.2f}%", f"FMR {v['target_fmr']:g}"))
    if "speed" in r:
        s = r["speed"]
        rows.append(("detect+align+embed 640x480, 1 core", f"{s['embed_ms_median']:.1f} ms wall, "
                     f"{s['embed_cpu_ms_median']:.1f} ms CPU (CPU: detect {s['detect_cpu_ms_median']:.1f}, embed/face "
                     f"{s['align_embed_cpu_ms_per_face_median']:.1f}, refined {100 * s['refined_share']:.0f}%; load "
                     f"{s['load_average_1min_start']:.1f}-{s['load_average_1min']:.1f})", "<= 25 ms"))
        for label, c in s["compare"].items():
            rows.append((f"  {label}", f"{c['embed_ms_median']:.1f} ms wall, {c['embed_cpu_ms_median']:.1f} ms CPU, "
                         f"{c['faces_per_image']:.2f} faces/image", ""))
        s = r["speed_1920x1080"]
        rows.append(("detect+align+embed 1920x1080, 1 core", f"{s['embed_ms_median']:.1f} ms", ""))
    if "detection" in r:
        d = r["detection"]
        rows.append(("detection recall by face px at the detector", " ".join(
            f"{k}:{100 * v:.0f}%" for k, v in d["recall_by_face_px"].items()), ""))
        for label, m in d["multi_face"].items():
            rows.append((f"  faces 24-120 px, {label}", f"recall {100 * m['recall']:.1f}% (<48 px "
                         f"{100 * m['recall_under_48px']:.1f}%), detect {m['detect_ms_median']:.1f} ms", ""))
    for key, e in r.get("search", {}).items():
        rows.append((f"search {key} ({e['kind']}) batched / single, {r['threads']} thr",
                     f"{e['ms_per_query_batched']:.2f} / {e['ms_per_query_single']:.2f} ms/query",
                     "<= 11 ms" if key == "1000000" else ""))
        t1 = e["by_threads"]["threads_1"]
        rows.append((f"search {key} batched / single, 1 thr",
                     f"{t1['ms_per_query_batched']:.2f} / {t1['ms_per_query_single']:.2f} ms/query", ""))
        rows.append((f"memory {key}", f"{e['memory_gb']:.2f} GB ({e['memory_per_million_mb']:.0f} MB per million)",
                     "<= 8 GB" if key == "10000000" else ""))
        for s in e.get("shortlist", []):
            rows.append((f"  shortlist {s['factory']} nprobe {s['nprobe']}", f"recall@10 {100 * s['recall_at_10_vs_exact']:.1f}% "
                         f"{s['ms_per_query_batched']:.2f} ms/query", ""))
    width = max(len(r_[0]) for r_ in rows)
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:<42} {target}")
