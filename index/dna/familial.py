"""Familial search: rank database profiles by kinship index against a forensic profile.

Every candidate's combined KI is computed for every population table, and the
candidates are ranked by the minimum over populations, the conservative
choice (Myers et al. 2011). The Numba kernel keeps an exact top-k per chunk
and skips the other populations as soon as the first one cannot enter the
list; the shortlist is then re-scored by :mod:`biomatch.matcher.dna.kinship`
for the per-locus report.
"""
from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from biomatch.extractors.dna.alleles import WILDCARD
from biomatch.extractors.dna.params import StatsParams
from biomatch.extractors.dna.profile import ProfileCategory
from biomatch.matcher.dna.kinship import ibd_coefficients
from biomatch.matcher.dna.stats import allele_frequency

from . import _kernels_familial as K

__all__ = ["FamilialProbe", "FamilialCandidate", "prepare_familial", "familial_search", "FAMILIAL_MATRIX"]

C = ProfileCategory
#: Candidate categories searched by default for each probe category.
FAMILIAL_MATRIX = {
    C.FORENSIC_UNKNOWN: (C.CONVICTED_OFFENDER, C.ARRESTEE),
    C.UNIDENTIFIED_REMAINS: (C.RELATIVE_OF_MISSING_PERSON,),
    C.RELATIVE_OF_MISSING_PERSON: (C.UNIDENTIFIED_REMAINS,),
}


@dataclass(frozen=True)
class FamilialProbe:
    """Kernel inputs for one probe: used loci, its code pairs and the X1 lookup tables."""

    loci: np.ndarray      # (m,) int64 locus numbers used
    pair: np.ndarray      # (L, 2) uint8 sorted codes, (a, 0) for a homozygote
    g: np.ndarray         # (P, L, 256) float64 copies-in-probe / frequency
    k: tuple[float, float, float]
    populations: tuple[str, ...]


@dataclass(frozen=True)
class FamilialCandidate:
    """A ranked candidate: id, minimum KI over populations, and KI per population."""

    id: int
    ki: float
    ki_by_population: dict


def prepare_familial(index, probe, tables, relationship: str, params: StatsParams | None = None) -> FamilialProbe:
    """Encode a single-source probe and its per-population X1 tables.

    Loci with a wildcard, more than two alleles, or missing from any table are
    not used.
    """
    params = params or StatsParams()
    tables = list(tables.values()) if isinstance(tables, dict) else list(tables)
    if not tables:
        raise ValueError("familial search needs at least one frequency table")
    k = ibd_coefficients(relationship)
    loci = index.params.loci
    pair = np.zeros((len(loci), 2), np.uint8)
    g = np.zeros((len(tables), len(loci), 256))
    used = []
    for kk, locus in enumerate(loci):
        alleles = probe.loci.get(locus)
        if not alleles or len(alleles) > 2 or WILDCARD in alleles or not all(t.has_locus(locus) for t in tables):
            continue
        codes = [index.vocab.code(kk, a, add=False) for a in alleles]
        order = np.argsort(codes)
        codes = [codes[j] for j in order]
        alleles = [alleles[j] for j in order]
        pair[kk, :len(codes)] = codes
        copies = 2.0 if len(codes) == 1 else 1.0
        for pi, table in enumerate(tables):
            for code, allele in zip(codes, alleles):
                if code != 255:
                    g[pi, kk, code] = copies / allele_frequency(table, locus, allele, params)
        used.append(kk)
    if not used:
        raise ValueError(f"specimen {probe.specimen_id!r}: no locus usable for kinship")
    fp = FamilialProbe(np.array(used, np.int64), pair, g, k, tuple(t.name for t in tables))
    # Visit the loci largest possible KI first, so the bound on what is left shrinks fastest.
    maxima = _locus_maxima(fp, _n_codes(index))
    order = np.argsort(-maxima, kind="stable")
    return FamilialProbe(fp.loci[order], pair, g, k, fp.populations)


def _n_codes(index) -> np.ndarray:
    return np.array([index.vocab.n_codes(k) for k in range(len(index.params.loci))], np.int64)


def _locus_maxima(fp: FamilialProbe, n_codes: np.ndarray) -> np.ndarray:
    tables, offsets, limits = _tables(fp, n_codes)
    return np.array([tables[o:o + lim + 1].max() for o, lim in zip(offsets, limits)])


def _tables(fp: FamilialProbe, n_codes: np.ndarray):
    limits = np.array([int(n_codes[k]) << 8 for k in fp.loci], np.int64)
    offsets = np.concatenate([[0], np.cumsum(limits + 1)[:-1]]).astype(np.int64)
    tables = np.empty(int((limits + 1).sum()))
    K.ki_tables(fp.loci, fp.pair, fp.g, 0, n_codes, *fp.k, offsets, tables)
    return tables, offsets, limits


#: Profiles per block of the locus-major familial scan (one float64 accumulator each).
FAMILIAL_BLOCK = 2048


def _first_check(fp: FamilialProbe) -> int:
    """Locus from which the narrow kernel prunes with its bound.

    Parent-child (k0 = 0) zeroes most profiles within a few loci, so pruning
    pays from the first locus. For siblings every locus multiplies by at least
    k0 and the bound bites only near the end; measured on 2M profiles, the
    plain dense pass was as fast or faster, so pruning is off for them.
    """
    return 0 if fp.k[0] == 0.0 else len(fp.loci)


#: Relative slack on the pruning bound, far above the rounding of a 60-term product.
BOUND_SLACK = 1e-9


def ki_lookup(fp: FamilialProbe, n_codes: np.ndarray):
    """First population's per-genotype KI tables for the narrow kernel.

    Returns ``(tables, offsets, limits, bound)``; ``bound[t]`` is the product
    of the table maxima of the loci after ``t`` (with a small slack), an upper
    bound on what those loci can multiply a profile's KI by.
    """
    tables, offsets, limits = _tables(fp, n_codes)
    maxima = np.array([tables[o:o + lim + 1].max() for o, lim in zip(offsets, limits)])
    after = np.append(np.cumprod(maxima[::-1])[::-1][1:], 1.0)
    return tables, offsets, limits, after * (1.0 + BOUND_SLACK)


def _scan_shard(shard, fp, cat_ok, agency_ok, min_ki: float, top: int, n_codes) -> list[tuple[float, int]]:
    """Exact top-``top`` (score, row) pairs of one shard, from per-chunk kernel lists."""
    n_chunks = max(1, min(shard.n // 4096, 8 * numba.get_num_threads()))
    scores = np.full((n_chunks, top), -1.0)
    idx = np.full((n_chunks, top), -1, np.int64)
    counts = np.zeros(n_chunks, np.int64)
    codes, pair16, cats, agencies = shard.kernel_arrays()
    if shard.width == 2:
        tables, offsets, limits, bound = ki_lookup(fp, n_codes)
        K.familial_narrow_scan(codes, pair16, cats, agencies, shard.n, cat_ok, agency_ok, fp.loci, fp.pair, fp.g,
                               *fp.k, tables, offsets, limits, bound, _first_check(fp), min_ki, n_chunks,
                               FAMILIAL_BLOCK, scores, idx, counts)
    else:
        K.familial_scan(shard.codes, shard.cats, shard.agencies, cat_ok, agency_ok, fp.loci, fp.pair, fp.g, *fp.k,
                        min_ki, n_chunks, scores, idx, counts)
    found = [(float(s), int(i)) for c in range(n_chunks) for s, i in zip(scores[c, :counts[c]], idx[c, :counts[c]])]
    found.sort(key=lambda t: (-t[0], t[1]))
    return found[:top]


def familial_search(index, probe, tables, *, relationship: str = "full_sib", top: int = 50, min_ki: float = 0.0,
                    categories=None, agencies=None, params: StatsParams | None = None) -> list[FamilialCandidate]:
    """Rank the index by kinship index against ``probe`` (minimum over populations).

    Parameters
    ----------
    index : DnaIndex
    probe : StrProfile
        Single-source forensic profile.
    tables : dict or sequence of FrequencyTable
        One table per population.
    relationship : {"parent_child", "full_sib", "half_sib"}
    top : int
        Candidates returned.
    min_ki : float
        Only candidates with minimum KI >= this.
    categories, agencies : optional
        Candidate filters (default from :data:`FAMILIAL_MATRIX`: offenders and arrestees).

    Returns
    -------
    list of FamilialCandidate
        Highest minimum KI first, ties to the lower position in the index;
        candidates with KI 0 (excluded) are left out, so the list may be shorter.
    """
    if top < 1 or top > 100_000:
        raise ValueError(f"top must be 1..100000, got {top}")
    if not min_ki >= 0.0:
        raise ValueError("min_ki must be >= 0")
    fp = prepare_familial(index, probe, tables, relationship, params)
    if categories is None:
        categories = FAMILIAL_MATRIX.get(probe.category, (C.CONVICTED_OFFENDER, C.ARRESTEE))
    cat_ok, agency_ok = index.category_filter(categories), index.agency_filter(agencies)
    n_codes = np.array([index.vocab.n_codes(k) for k in range(len(index.params.loci))], np.int64)
    found = []
    for shard in index.shards:
        if shard.n == 0:
            continue
        for s, i in _scan_shard(shard, fp, cat_ok, agency_ok, float(min_ki), top, n_codes):
            found.append((-s, int(shard is index.wide), i, shard))
    found.sort(key=lambda t: t[:3])
    out = []
    for neg, _, i, shard in found[:top]:  # ties: narrow shard first, then lower row
        if neg == 0.0:
            break  # KI 0: excluded by a Mendelian inconsistency (parent-child), never a candidate
        per_pop = {name: K.ki_product(shard.codes, i, fp.loci, fp.pair, fp.g, pi, *fp.k)
                   for pi, name in enumerate(fp.populations)}
        out.append(FamilialCandidate(int(shard.ids_at([i])[0]), -neg, per_pop))
    return out
