"""Searching a :class:`~.index.DnaIndex`: CODIS stringencies and Prüm rules.

Probes are encoded once into per-locus membership tables, and every probe of
a batch is tested against a block of profiles while that block sits in cache
(one pass over memory for the whole batch). Loci are visited in order of
selectivity for each probe (the smallest allele mass in the database first),
so most candidates are rejected after one or two loci. Results are exact: a
block holding more hits than the first pass kept is scanned again alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from biomatch.extractors.dna.alleles import WILDCARD
from biomatch.extractors.dna.params import STRINGENCIES
from biomatch.extractors.dna.profile import ProfileCategory

from . import _kernels as K
from .encoding import WILDCARD_CODE

__all__ = ["DnaHit", "PreparedProbes", "prepare_probes", "search", "search_prum", "default_categories",
           "SEARCH_MATRIX"]

C = ProfileCategory
#: Candidate categories searched by default for each probe category (an NDIS-style search matrix).
SEARCH_MATRIX = {
    C.FORENSIC_UNKNOWN: (C.CONVICTED_OFFENDER, C.ARRESTEE, C.FORENSIC_UNKNOWN, C.FORENSIC_MIXTURE),
    C.FORENSIC_MIXTURE: (C.CONVICTED_OFFENDER, C.ARRESTEE, C.FORENSIC_UNKNOWN),
    C.CONVICTED_OFFENDER: (C.CONVICTED_OFFENDER, C.ARRESTEE, C.FORENSIC_UNKNOWN, C.FORENSIC_MIXTURE),
    C.ARRESTEE: (C.CONVICTED_OFFENDER, C.ARRESTEE, C.FORENSIC_UNKNOWN, C.FORENSIC_MIXTURE),
    C.MISSING_PERSON: (C.UNIDENTIFIED_REMAINS, C.FORENSIC_UNKNOWN),
    C.UNIDENTIFIED_REMAINS: (C.MISSING_PERSON, C.UNIDENTIFIED_REMAINS, C.FORENSIC_UNKNOWN,
                             C.CONVICTED_OFFENDER, C.ARRESTEE),
    C.RELATIVE_OF_MISSING_PERSON: (C.UNIDENTIFIED_REMAINS,),
}


def default_categories(probe_category) -> tuple[ProfileCategory, ...]:
    """Candidate categories that a probe of this category searches by default."""
    return SEARCH_MATRIX[ProfileCategory.parse(probe_category)]


@dataclass(frozen=True)
class DnaHit:
    """One candidate: its id, loci compared (Prüm: fully designated common loci), mismatching alleles."""

    id: int
    n_compared: int
    n_mismatches: int = 0


@dataclass(frozen=True)
class PreparedProbes:
    """Probe tables shared by the kernels (see :mod:`._kernels`)."""

    member: np.ndarray    # (Q, L, 256) bool: code is in the probe set (wildcards match all)
    alleles: np.ndarray   # (Q, L, 8) uint8 probe codes, sorted, zero padded
    n: np.ndarray         # (Q, L) int64 alleles per locus
    pair: np.ndarray      # (Q, L, 2) uint8 first two codes (Prüm)
    full: np.ndarray      # (Q, L) bool fully designated (no wildcard, <= 2 alleles)
    order: np.ndarray     # (Q, L) int64 typed loci, most selective first
    n_loci: np.ndarray    # (Q,) int64 typed loci per probe


def _selectivity(index, k: int, codes, rule: str) -> float:
    """Estimated share of database profiles passing locus ``k`` under ``rule``: lowest is visited first.

    Hardy-Weinberg estimates from the index's own allele counts: with f the
    frequencies of the probe's alleles and m their sum, high passes 2f1f2 (f^2),
    moderate adds m^2 (candidate inside the probe) and, for a one-allele
    probe, 2f - f^2; low and Prüm pass 1 - (1 - m)^2. Untyped loci and
    wildcards always pass.
    """
    counts = index.code_counts[k]
    n_profiles = max(1, index.narrow.n + index.wide.n)
    n_alleles = max(1, int(counts[1:].sum()))
    distinct = sorted(set(int(c) for c in codes if c != 0))
    f = [counts[c] / n_alleles if c != 255 else 0.0 for c in distinct if c != WILDCARD_CODE]
    always = counts[0] / n_profiles + counts[WILDCARD_CODE] / n_alleles + (1.0 if len(f) < len(distinct) else 0.0)
    m = sum(f)
    exact = f[0] ** 2 if len(f) == 1 else (2 * f[0] * f[1] if len(f) == 2 else 0.0)
    if rule in ("low", "prum"):
        share = 1 - (1 - min(m, 1.0)) ** 2
    elif rule == "high":
        share = exact
    else:
        share = m * m + (2 * f[0] - f[0] ** 2 if len(f) == 1 else exact)
    return float(always + share)


def prepare_probes(index, probes, rule: str = "moderate") -> PreparedProbes:
    """Encode probes in the index vocabulary (unseen alleles match nothing).

    ``rule`` (a stringency or ``"prum"``) only sets the order in which loci are visited.
    """
    vocab, loci = index.vocab, index.params.loci
    q, n_loci = len(probes), len(loci)
    member = np.zeros((q, n_loci, 256), bool)
    alleles = np.zeros((q, n_loci, 8), np.uint8)
    n = np.zeros((q, n_loci), np.int64)
    full = np.zeros((q, n_loci), bool)
    order = np.zeros((q, n_loci), np.int64)
    typed = np.zeros(q, np.int64)
    for i, p in enumerate(probes):
        sel = []
        for k, locus in enumerate(loci):
            values = p.loci.get(locus)
            if not values:
                continue
            if len(values) > 8:
                raise ValueError(f"specimen {p.specimen_id!r}, locus {locus!r}: more than 8 alleles")
            codes = sorted(vocab.code(k, a, add=False) for a in values)
            alleles[i, k, :len(codes)] = codes
            n[i, k] = len(codes)
            member[i, k, codes] = True
            member[i, k, WILDCARD_CODE] = True
            if WILDCARD in values:
                member[i, k, :] = True
            full[i, k] = WILDCARD not in values and len(values) <= 2
            sel.append((_selectivity(index, k, codes, rule), k))
        sel.sort()
        order[i, :len(sel)] = [k for _, k in sel]
        typed[i] = len(sel)
    return PreparedProbes(member, alleles, n, alleles[:, :, :2].copy(), full, order, typed)


def _filters(index, probes, categories, agencies):
    cat_ok = np.stack([index.category_filter(categories if categories is not None else default_categories(p.category))
                       for p in probes])
    agency_ok = np.stack([index.agency_filter(agencies)] * len(probes))
    return cat_ok, agency_ok


def _collect(n_blocks, cap, counts, arrays, rescan):
    """Gather the hits of every block; rescan blocks whose hits overflowed ``cap``."""
    parts = [[] for _ in arrays]
    for b in range(n_blocks):
        c = int(counts[b])
        if c == 0:
            continue
        if c <= cap:
            for part, arr in zip(parts, arrays):
                part.append(arr[b * cap:b * cap + c])
        else:
            for part, arr in zip(parts, rescan(b, c)):
                part.append(arr)
    return [np.concatenate(p) if p else np.zeros(0, np.int64) for p in parts]


def _n_codes(index) -> np.ndarray:
    return np.array([index.vocab.n_codes(k) for k in range(len(index.params.loci))], np.int64)


#: Loci looked up in the branch-free first pass, per stringency code (high, moderate, low).
#: Two loci leave well under 1% of profiles at moderate (one locus leaves 3-10%, whose full
#: evaluation then dominates: measured 1.2-2.6x slower on 2M profiles); low needs three.
CODIS_PREFILTER_LOCI = (2, 2, 3)


def _codis_shard(shard, pp, cat_ok, agency_ok, stringency, min_loci, block, cap, n_codes):
    n = shard.n
    if n == 0:
        return [np.zeros(0, np.int64)] * 3
    n_blocks = (n + block - 1) // block
    idx, qq, ncmp = (np.zeros(n_blocks * cap, np.int64) for _ in range(3))
    counts = np.zeros(n_blocks, np.int64)
    codes, pair16, cats, agencies = shard.kernel_arrays()
    use_pre = shard.width == 2
    n_pre = CODIS_PREFILTER_LOCI[stringency] if use_pre else 1
    pre = np.zeros((len(pp.n_loci), n_pre, 65536 if use_pre else 1), np.uint8)
    if use_pre:
        K.codis_pass_tables(pp.member, pp.alleles, pp.n, pp.order, pp.n_loci, n_codes, stringency, pre)
    probe = (pp.member, pp.alleles, pp.n, pp.order, pp.n_loci, cat_ok, agency_ok, stringency, min_loci)
    K.codis_scan(codes, pair16, pre, use_pre, cats, agencies, n, *probe, block, cap, idx, qq, ncmp, counts)

    def rescan(b, c):
        out = [np.zeros(c, np.int64) for _ in range(3)]
        K.codis_scan_range(codes, pair16, pre, use_pre, cats, agencies, b * block, min(n, (b + 1) * block), *probe,
                           *out, 0, c)
        return out

    return _collect(n_blocks, cap, counts, (idx, qq, ncmp), rescan)


def search(index, probes, *, stringency: str = "moderate", categories=None, agencies=None,
           min_loci: int | None = None) -> list[list[DnaHit]]:
    """Search probes at a CODIS stringency, all in one pass over the index.

    Parameters
    ----------
    index : DnaIndex
    probes : sequence of StrProfile
    stringency : {"high", "moderate", "low"}
        high: identical allele sets at every compared locus; moderate: one
        side's alleles a subset of the other's; low: one shared allele.
        A locus is compared when both profiles type it.
    categories : iterable of ProfileCategory or str, optional
        Candidate categories; default from :data:`SEARCH_MATRIX` per probe.
    agencies : iterable of str, optional
        Owner agencies to search (default all).
    min_loci : int, optional
        Fewest compared loci (default ``index.params.min_compared_loci``).

    Returns
    -------
    list of list of DnaHit
        Per probe, hits ordered by loci compared (most first), then id.
    """
    if stringency not in STRINGENCIES:
        raise ValueError(f"stringency must be one of {STRINGENCIES}, got {stringency!r}")
    probes = list(probes)
    if not probes:
        return []
    min_loci = index.params.min_compared_loci if min_loci is None else int(min_loci)
    if min_loci < 1:
        raise ValueError("min_loci must be >= 1")
    pp = prepare_probes(index, probes, stringency)
    cat_ok, agency_ok = _filters(index, probes, categories, agencies)
    code = STRINGENCIES.index(stringency)
    results = [[] for _ in probes]
    for shard in index.shards:
        idx, qq, ncmp = _codis_shard(shard, pp, cat_ok, agency_ok, code, min_loci,
                                     index.params.block_size, index.params.hit_capacity, _n_codes(index))
        ids = shard.ids_at(idx)
        for i, q, c in zip(ids.tolist(), qq.tolist(), ncmp.tolist()):
            results[q].append(DnaHit(i, c))
    return [sorted(r, key=lambda h: (-h.n_compared, h.id)) for r in results]


#: Loci of each probe whose mismatches the Prüm first pass sums without branches.
PRUM_PREFILTER_LOCI = 3


def _prum_shard(shard, pp, cat_ok, agency_ok, min_loci, max_mm, block, cap, n_codes):
    n = shard.n
    if n == 0:
        return [np.zeros(0, np.int64)] * 4
    n_blocks = (n + block - 1) // block
    arrays = tuple(np.zeros(n_blocks * cap, np.int64) for _ in range(4))
    counts = np.zeros(n_blocks, np.int64)
    codes, pair16, cats, agencies = shard.kernel_arrays()
    use_pre = shard.width == 2
    pre = np.zeros((len(pp.n_loci), PRUM_PREFILTER_LOCI if use_pre else 1, 65536 if use_pre else 1), np.uint8)
    if use_pre:
        K.prum_mismatch_tables(pp.pair, pp.order, pp.n_loci, n_codes, pre)
    probe = (pp.pair, pp.full, pp.order, pp.n_loci, cat_ok, agency_ok, min_loci, max_mm)
    K.prum_scan(codes, pair16, pre, use_pre, cats, agencies, n, *probe, block, cap, *arrays, counts)

    def rescan(b, c):
        out = [np.zeros(c, np.int64) for _ in range(4)]
        K.prum_scan_range(codes, pair16, pre, use_pre, cats, agencies, b * block, min(n, (b + 1) * block), *probe,
                          *out, 0, c)
        return out

    return _collect(n_blocks, cap, counts, arrays, rescan)


def search_prum(index, probes, *, min_loci: int | None = None, max_mismatches: int | None = None,
                categories=None, agencies=None) -> list[list[DnaHit]]:
    """Search under the Prüm / DNA Gateway rules: full and near matches.

    Only loci both profiles hold are compared, a wildcard matches any allele,
    a homozygote counts as two equal alleles, and at least ``min_loci`` common
    fully designated loci (default 6) are required. A locus with more than two
    alleles on either side is not compared. Hits are ordered full matches
    first (0 mismatches), then by loci compared.
    """
    probes = list(probes)
    if not probes:
        return []
    min_loci = index.params.prum_min_loci if min_loci is None else int(min_loci)
    max_mm = index.params.prum_max_mismatches if max_mismatches is None else int(max_mismatches)
    if min_loci < 1 or max_mm not in (0, 1):
        raise ValueError("min_loci must be >= 1 and max_mismatches 0 or 1")
    pp = prepare_probes(index, probes, "prum")
    # Probe loci with more than two alleles are not compared under the Prüm rules.
    order = np.zeros_like(pp.order)
    n_loci = np.zeros_like(pp.n_loci)
    for q in range(len(probes)):
        keep = [k for k in pp.order[q, :pp.n_loci[q]] if pp.n[q, k] <= 2]
        order[q, :len(keep)] = keep
        n_loci[q] = len(keep)
    pp = PreparedProbes(pp.member, pp.alleles, pp.n, pp.pair, pp.full, order, n_loci)
    cat_ok, agency_ok = _filters(index, probes, categories, agencies)
    results = [[] for _ in probes]
    for shard in index.shards:
        idx, qq, ncmp, mm = _prum_shard(shard, pp, cat_ok, agency_ok, min_loci, max_mm,
                                        index.params.block_size, index.params.hit_capacity, _n_codes(index))
        for i, q, c, m in zip(shard.ids_at(idx).tolist(), qq.tolist(), ncmp.tolist(), mm.tolist()):
            results[q].append(DnaHit(i, c, m))
    return [sorted(r, key=lambda h: (h.n_mismatches, -h.n_compared, h.id)) for r in results]
