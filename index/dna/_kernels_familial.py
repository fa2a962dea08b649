"""Numba kernels of familial search: kinship-index products and exact per-chunk top-k.

Contiguous typed arrays only, no validation: :mod:`.familial` owns the API.
The numpy twin is :func:`.reference.familial_reference`.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._kernels import WILD


@njit(cache=True, nogil=True)
def ki_product(codes, i, loci, pair, g, pop, k0, k1, k2):
    """Combined kinship index of candidate ``i`` for population ``pop``.

    ``g[pop, k, c]`` is (copies of allele c in the probe) / frequency, so that
    X1 = g[a]/2 (homozygous candidate) or (g[a] + g[b])/4, and X2 = X1**2 or
    g[a] g[b]/2 when the genotypes are identical, else 0.
    """
    width = codes.shape[2]
    prod = 1.0
    for t in range(loci.shape[0]):
        k = loci[t]
        a = codes[k, i, 0]
        if a == 0 or a == WILD:
            continue
        b = codes[k, i, 1]
        if b == WILD or (width > 2 and codes[k, i, 2] != 0):
            continue
        ga = g[pop, k, a]
        if b == 0:
            x1 = 0.5 * ga
            x2 = x1 * x1 if (a == pair[k, 0] and pair[k, 1] == 0) else 0.0
        else:
            gb = g[pop, k, b]
            x1 = 0.25 * (ga + gb)
            x2 = 0.5 * ga * gb if (a == pair[k, 0] and b == pair[k, 1]) else 0.0
        prod *= k0 + k1 * x1 + k2 * x2
        if prod == 0.0:
            break
    return prod


@njit(cache=True, nogil=True)
def _worst(scores, idx, filled):
    w = 0
    for j in range(1, filled):
        if scores[j] < scores[w] or (scores[j] == scores[w] and idx[j] > idx[w]):
            w = j
    return w


@njit(cache=True, nogil=True)
def familial_range(codes, cats, agencies, start, stop, cat_ok, agency_ok, loci, pair, g, k0, k1, k2,
                   min_ki, out_score, out_idx):
    """Top-k by minimum-over-populations KI among ``start:stop``; returns how many were kept."""
    k_top = out_score.shape[0]
    n_pops = g.shape[0]
    filled = 0
    w = 0
    for i in range(start, stop):
        if not cat_ok[cats[i]] or not agency_ok[agencies[i]]:
            continue
        s = ki_product(codes, i, loci, pair, g, 0, k0, k1, k2)
        if s < min_ki or (filled == k_top and s <= out_score[w]):
            continue
        for pop in range(1, n_pops):
            sp = ki_product(codes, i, loci, pair, g, pop, k0, k1, k2)
            if sp < s:
                s = sp
                if s < min_ki or (filled == k_top and s <= out_score[w]):
                    break
        if s < min_ki or (filled == k_top and s <= out_score[w]):
            continue
        if filled < k_top:
            out_score[filled] = s
            out_idx[filled] = i
            filled += 1
        else:
            out_score[w] = s
            out_idx[w] = i
        w = _worst(out_score, out_idx, filled)
    return filled


@njit(cache=True, nogil=True)
def _insert(s, i, out_score, out_idx, filled, k_top):
    """Put (s, i) in a chunk's top-k (replacing the worst when full); returns the new fill."""
    if filled < k_top:
        out_score[filled] = s
        out_idx[filled] = i
        return filled + 1
    w = _worst(out_score, out_idx, filled)
    out_score[w] = s
    out_idx[w] = i
    return filled


@njit(cache=True, nogil=True)
def _ki_entry(a, b, p, r, gk, k0, k1, k2):
    """KI of narrow genotype (a, b) against probe pair (p, r): the arithmetic of :func:`ki_product`."""
    if a == 0 or a == WILD or b == WILD:
        return 1.0
    ga = gk[a]
    if b == 0:
        x1 = 0.5 * ga
        x2 = x1 * x1 if (a == p and r == 0) else 0.0
    else:
        gb = gk[b]
        x1 = 0.25 * (ga + gb)
        x2 = 0.5 * ga * gb if (a == p and b == r) else 0.0
    return k0 + k1 * x1 + k2 * x2


@njit(cache=True, nogil=True)
def ki_tables(loci, pair, g, pop, n_codes, k0, k1, k2, offsets, out):
    """Per used locus t, out[offsets[t] + (a | b << 8)] = KI of genotype (a, b) for population ``pop``.

    Each locus table covers ``n_codes[k] << 8`` entries plus one last entry
    (1.0) that every pair holding a wildcard second code is clamped to.
    """
    for t in range(loci.shape[0]):
        k = loci[t]
        limit = n_codes[k] << 8
        base = offsets[t]
        out[base:base + limit + 1] = 1.0
        for a in range(0, 255):
            if a >= n_codes[k] and a != WILD:
                continue
            for b in range(0, n_codes[k]):
                v = a | (b << 8)
                if v < limit:
                    out[base + v] = _ki_entry(a, b, pair[k, 0], pair[k, 1], g[pop, k], k0, k1, k2)


@njit(cache=True, nogil=True)
def familial_narrow_range(codes, pair16, cats, agencies, start, stop, cat_ok, agency_ok, loci, pair, g, k0, k1, k2,
                          tables, offsets, limits, bound, first_check, min_ki, block, out_score, out_idx):
    """:func:`familial_range` for narrow shards, locus-major over blocks of profiles.

    The first population's KI product is accumulated one locus column at a
    time from the per-genotype tables of :func:`ki_tables` (one load and one
    multiply per profile and locus, the same values as :func:`ki_product`).
    ``bound[t]`` bounds the product of the loci after ``t`` (the loci come
    largest maximum first), so a profile whose product so far times the bound
    cannot beat the chunk's current k-th score, or reach ``min_ki``, is
    dropped, from locus ``first_check`` on (``len(loci)``: never), in the same
    pass as the multiplication. Only the profiles left are scored for the
    other populations.
    """
    k_top = out_score.shape[0]
    n_pops = g.shape[0]
    n_loci = loci.shape[0]
    acc = np.empty(block)
    alive = np.empty(block, np.int64)
    filled = 0
    worst = -1.0
    for b0 in range(start, stop, block):
        m = min(stop, b0 + block) - b0
        acc[:m] = 1.0
        n_alive = m
        for j in range(m):
            alive[j] = j
        for t in range(n_loci):
            k = loci[t]
            base = offsets[t]
            limit = limits[t]
            if t >= first_check and (filled == k_top or min_ki > 0.0):
                # Multiply and keep only the profiles that can still qualify, in one pass.
                factor = bound[t]
                full = filled == k_top
                kept = 0
                for jj in range(n_alive):
                    j = alive[jj]
                    v = acc[j] * tables[base + min(np.int64(pair16[k, b0 + j]), limit)]
                    acc[j] = v
                    best = v * factor
                    alive[kept] = j
                    kept += best >= min_ki and (not full or best > worst)
                n_alive = kept
                if n_alive == 0:
                    break
            elif n_alive == m:
                for j in range(m):
                    acc[j] *= tables[base + min(np.int64(pair16[k, b0 + j]), limit)]
            else:
                for jj in range(n_alive):
                    j = alive[jj]
                    acc[j] *= tables[base + min(np.int64(pair16[k, b0 + j]), limit)]
        for jj in range(n_alive):
            j = alive[jj]
            s = acc[j]
            i = b0 + j
            if s < min_ki or (filled == k_top and s <= worst):
                continue
            if not cat_ok[cats[i]] or not agency_ok[agencies[i]]:
                continue
            for pop in range(1, n_pops):
                sp = ki_product(codes, i, loci, pair, g, pop, k0, k1, k2)
                if sp < s:
                    s = sp
                    if s < min_ki or (filled == k_top and s <= worst):
                        break
            if s < min_ki or (filled == k_top and s <= worst):
                continue
            filled = _insert(s, i, out_score, out_idx, filled, k_top)
            if filled == k_top:
                worst = out_score[_worst(out_score, out_idx, filled)]
    return filled


@njit(cache=True, nogil=True, parallel=True)
def familial_narrow_scan(codes, pair16, cats, agencies, n, cat_ok, agency_ok, loci, pair, g, k0, k1, k2, tables,
                         offsets, limits, bound, first_check, min_ki, n_chunks, block, out_score, out_idx, counts):
    """Exact top-k per chunk of a narrow shard, in parallel (the caller merges the chunks)."""
    step = (n + n_chunks - 1) // n_chunks
    for c in prange(n_chunks):
        start = min(n, c * step)
        stop = min(n, start + step)
        counts[c] = familial_narrow_range(codes, pair16, cats, agencies, start, stop, cat_ok, agency_ok, loci, pair,
                                          g, k0, k1, k2, tables, offsets, limits, bound, first_check, min_ki, block,
                                          out_score[c], out_idx[c])


@njit(cache=True, nogil=True, parallel=True)
def familial_scan(codes, cats, agencies, cat_ok, agency_ok, loci, pair, g, k0, k1, k2, min_ki,
                  n_chunks, out_score, out_idx, counts):
    """Exact top-k per chunk in parallel (the caller merges the chunks)."""
    n = codes.shape[1]
    step = (n + n_chunks - 1) // n_chunks
    for c in prange(n_chunks):
        start = min(n, c * step)
        stop = min(n, start + step)
        counts[c] = familial_range(codes, cats, agencies, start, stop, cat_ok, agency_ok, loci, pair, g,
                                   k0, k1, k2, min_ki, out_score[c], out_idx[c])
