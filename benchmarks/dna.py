"""DNA benchmark: N synthetic profiles from a frequency table, search latencies, memory, exactness.

Run as ``biomatch bench dna --profiles 20000000 --json OUT.json``. Profiles are
drawn (Hardy-Weinberg) from ``NIST1036/All`` on the 20 CODIS loci, in chunks
so that memory stays bounded, straight into the index's code arrays. Probes:
mated ones (a database profile reduced to 12 loci with 3 alleles dropped, as
a degraded crime-scene sample) and non-mated ones (fresh draws). Latencies
are medians over the probes of the best of ``repeats`` runs each (the cores
are shared with other users' jobs; the best run is the code's own time, and
the machine's load average is recorded); batched figures search all probes
in one call.
Exactness compares every kernel with its numpy reference on a sample.
"""
from __future__ import annotations

import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

from biomatch.extractors.dna import CODIS_CORE_20, SearchParams, StrProfile, load_population_tables, read_frequency_csv
from biomatch.index.dna import DnaIndex, default_categories, prepare_probes, search, search_prum
from biomatch.index.dna import reference as R
from biomatch.index.dna.familial import familial_search, prepare_familial
from biomatch.index.dna.synthetic import locus_samplers, synthetic_codes

from .datasets import data_root

__all__ = ["run_dna_benchmark", "build_index"]


def _rss_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def build_index(n: int, table, *, seed: int = 0, chunk: int = 1_000_000) -> tuple[DnaIndex, float, float]:
    """Generate ``n`` profiles chunk by chunk into a preallocated index; returns (index, gen_s, add_s)."""
    index = DnaIndex(SearchParams(loci=CODIS_CORE_20), capacity=n)
    samplers = locus_samplers(index.vocab, table)
    rng = np.random.default_rng(seed)
    index.agency_code("AGENCY-0")
    gen_s = add_s = 0.0
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        t = time.perf_counter()
        codes = synthetic_codes(samplers, m, rng)
        cats = np.where(rng.random(m) < 0.75, 1, 2).astype(np.uint8)  # 3/4 offenders, 1/4 arrestees (NDIS-like)
        gen_s += time.perf_counter() - t
        t = time.perf_counter()
        index.add_codes(np.arange(start, start + m), codes, cats, np.zeros(m, np.uint16))
        add_s += time.perf_counter() - t
        del codes
    return index, gen_s, add_s


def _probes(index, table, n_probes: int, rng) -> tuple[list[StrProfile], list[int]]:
    mated_rows = rng.choice(index.narrow.n, n_probes // 2, replace=False)
    probes, truth = [], []
    for j, row in enumerate(mated_rows):
        loci = index.decode(index.narrow, int(row))
        keep = rng.choice(list(loci), 12, replace=False)
        kept = {k: loci[k] for k in keep}
        hets = [k for k, v in kept.items() if len(v) == 2]
        for k in rng.choice(hets, min(3, len(hets)), replace=False):
            kept[k] = kept[k][:1]
        probes.append(StrProfile(f"M{j}", kept, category="forensic_unknown"))
        truth.append(int(index.narrow.ids_at([row])[0]))
    fresh = synthetic_codes(locus_samplers(index.vocab, table), n_probes - len(probes), rng)
    tmp = DnaIndex(index.params)
    tmp.vocab = index.vocab
    tmp.add_codes(np.arange(fresh.shape[1]), fresh, np.ones(fresh.shape[1], np.uint8), np.zeros(fresh.shape[1], np.uint16))
    for j in range(fresh.shape[1]):
        probes.append(StrProfile(f"N{j}", tmp.decode(tmp.narrow, j), category="forensic_unknown"))
        truth.append(-1)
    return probes, truth


def _time(fn, repeats: int) -> float:
    best = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best.append(time.perf_counter() - t)
    return min(best)


def _exactness(index, probes, tables, sample: int) -> dict:
    """Search the first ``sample`` profiles with the kernels and with the numpy references; count disagreements."""
    n = min(sample, index.narrow.n)
    sub = DnaIndex(index.params, capacity=n)
    sub.vocab, sub.agency_names, sub._agency_code = index.vocab, index.agency_names, index._agency_code
    sh = index.narrow
    sub.add_codes(np.arange(n), sh.codes[:, :n], sh.cats[:n], sh.agencies[:n])
    s = sub.narrow
    cat_ok = np.stack([sub.category_filter(default_categories(p.category)) for p in probes])
    ag_ok = np.tile(sub.agency_filter(None), (len(probes), 1))
    out = {"sample_profiles": n, "checks": 0, "mismatches": 0}
    for code, rule in enumerate(("high", "moderate", "low")):
        got = search(sub, probes, stringency=rule)
        pp = prepare_probes(sub, probes, rule)
        ref = R.codis_reference(s.codes, s.cats, s.agencies, pp.member, pp.alleles, pp.n, pp.order, pp.n_loci,
                                cat_ok, ag_ok, code, sub.params.min_compared_loci)
        for hits, (want, _) in zip(got, ref):
            out["checks"] += 1
            out["mismatches"] += int(sorted(h.id for h in hits) != want.tolist())
    got = search_prum(sub, probes)
    pp = prepare_probes(sub, probes, "prum")
    ref = R.prum_reference(s.codes, s.cats, s.agencies, pp.pair, pp.full, pp.order, pp.n_loci, cat_ok, ag_ok,
                           sub.params.prum_min_loci, sub.params.prum_max_mismatches)
    for hits, (want, _, _) in zip(got, ref):
        out["checks"] += 1
        out["mismatches"] += int(sorted(h.id for h in hits) != want.tolist())
    for probe in probes[:4]:
        got = familial_search(sub, probe, tables, relationship="full_sib", top=20)
        fp = prepare_familial(sub, probe, tables, "full_sib")
        _, want = R.familial_reference(s.codes, s.cats, s.agencies, sub.category_filter(["offender", "arrestee"]),
                                       sub.agency_filter(None), fp.loci, fp.pair, fp.g, *fp.k, 0.0, 20)
        out["checks"] += 1
        out["mismatches"] += int([c.id for c in got] != want.tolist())
    return out


def run_dna_benchmark(n: int, *, json_path: str | None = None, n_probes: int = 16, seed: int = 0,
                      sample: int = 200_000, chunk: int = 1_000_000, data: str | None = None,
                      repeats: int = 3) -> dict:
    """Build, search, measure; print a table and write JSON (atomically) when ``json_path`` is given."""
    if n < 1000:
        raise ValueError("--profiles must be at least 1000")
    freq_csv = data_root(data) / "dna" / "str_allele_frequencies.csv"
    table = read_frequency_csv(freq_csv, source="NIST1036", population="All")["NIST1036/All"]
    pops = load_population_tables(freq_csv, "NIST1036")
    load_start = os.getloadavg()[0]
    t0 = time.perf_counter()
    index, gen_s, add_s = build_index(n, table, seed=seed, chunk=chunk)
    build_s = time.perf_counter() - t0
    rng = np.random.default_rng(seed + 1)
    probes, truth = _probes(index, table, n_probes, rng)
    # Warm-up compiles (or loads cached) kernels before timing.
    search(index, probes[:1], stringency="moderate")
    search_prum(index, probes[:1])
    familial_search(index, probes[0], pops, relationship="full_sib", top=20)
    res = {"profiles": n, "threads": numba.get_num_threads(), "factory": index.factory_string,
           "generate_s": round(gen_s, 3), "build_s": round(add_s, 3), "build_total_s": round(build_s, 3),
           "bytes_per_profile": index.nbytes() / n, "index_mb": index.nbytes() / 2**20, "repeats": repeats}
    mated = [i for i, t in enumerate(truth) if t >= 0]
    for rule in ("high", "moderate", "low"):
        single = [_time(lambda p=p: search(index, [p], stringency=rule), repeats) for p in probes]
        batch = _time(lambda: search(index, probes, stringency=rule), repeats)
        res[f"{rule}_single_s_median"] = statistics.median(single)
        res[f"{rule}_batch{len(probes)}_s"] = batch
        res[f"{rule}_batch_per_query_s"] = batch / len(probes)
    hits = search(index, probes, stringency="moderate")
    res["mated_found_moderate"] = sum(truth[i] in [h.id for h in hits[i]] for i in mated) / len(mated)
    single = [_time(lambda p=p: search_prum(index, [p]), repeats) for p in probes]
    res["prum_near_single_s_median"] = statistics.median(single)
    batch = _time(lambda: search_prum(index, probes), repeats)
    res[f"prum_near_batch{len(probes)}_s"] = batch
    for rel in ("full_sib", "parent_child"):
        fam = [_time(lambda p=p: familial_search(index, p, pops, relationship=rel, top=50), repeats)
               for p in probes[:8]]
        res[f"familial_{rel}_s_median"] = statistics.median(fam)
    res["exactness"] = _exactness(index, probes, pops, sample)
    res["peak_rss_mb"] = _rss_peak_mb()
    # Other users' jobs share the 2 cores: the 1-minute load average says how busy the machine was.
    res["load_avg_1min_start"], res["load_avg_1min_end"] = load_start, os.getloadavg()[0]
    _print(res)
    if json_path:
        path = Path(json_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(res, f, indent=2)
        os.replace(tmp, path)
    return res


def _print(res: dict) -> None:
    print(f"DNA benchmark: {res['profiles']:,} profiles, {res['threads']} threads, {res['factory']}")
    for key, value in res.items():
        if key in ("profiles", "threads", "factory"):
            continue
        if isinstance(value, float):
            shown = f"{value * 1000:9.1f} ms" if key.endswith("_s") or "_s_" in key else f"{value:12.3f}"
        else:
            shown = str(value)
        print(f"  {key:<34} {shown}")
