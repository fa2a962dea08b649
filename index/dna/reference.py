"""Plain-numpy twins of the kernels in :mod:`._kernels` (no early exit, whole arrays).

Slow and simple on purpose: the tests and the benchmark's exactness check
compare every kernel against these on random and real data.
"""
from __future__ import annotations

import numpy as np

from ._kernels import HIGH, LOW, MODERATE, WILD

__all__ = ["codis_reference", "prum_reference", "familial_reference"]


def codis_reference(codes, cats, agencies, q_member, q_alleles, q_n, q_order, q_nloci, q_cat_ok, q_agency_ok,
                    stringency, min_loci):
    """Per probe, the (sorted) profile indices and compared-loci counts of every CODIS hit."""
    out = []
    for q in range(q_member.shape[0]):
        passing = q_cat_ok[q, cats] & q_agency_ok[q, agencies]
        compared = np.zeros(codes.shape[1], np.int64)
        for k in q_order[q, :q_nloci[q]]:
            c = codes[k].astype(np.int64)
            present = c != 0
            typed = present[:, 0]
            member = q_member[q, k][c] & present
            cand_sub = np.all(member | ~present, axis=1)
            shared = np.any(member, axis=1)
            probe_sub = np.any(c == WILD, axis=1)
            all_in = np.ones(len(typed), bool)
            for p in q_alleles[q, k, :q_n[q, k]]:
                if p != WILD:
                    all_in &= np.any(c == p, axis=1)
            probe_sub |= all_in
            passed = {HIGH: cand_sub & probe_sub, MODERATE: cand_sub | probe_sub, LOW: shared}[stringency]
            passing &= passed | ~typed
            compared += typed
        hit = np.flatnonzero(passing & (compared >= min_loci))
        out.append((hit, compared[hit]))
    return out


def prum_reference(codes, cats, agencies, q_pair, q_full, q_order, q_nloci, q_cat_ok, q_agency_ok, min_loci,
                   max_mismatch):
    """Per probe, indices, fully designated common loci and mismatch counts of Prüm hits."""
    out = []
    width = codes.shape[2]
    for q in range(q_pair.shape[0]):
        mism = np.zeros(codes.shape[1], np.int64)
        full = np.zeros(codes.shape[1], np.int64)
        for k in q_order[q, :q_nloci[q]]:
            a = codes[k, :, 0].astype(np.int64)
            b = codes[k, :, 1].astype(np.int64)
            b = np.where(b == 0, a, b)
            used = a != 0
            if width > 2:
                used &= codes[k, :, 2] == 0
            p, r = int(q_pair[q, k, 0]), int(q_pair[q, k, 1])
            r = p if r == 0 else r

            def mm(x, y):
                return ((x != y) & (x != WILD) & (y != WILD)).astype(np.int64)

            m = np.minimum(mm(a, p) + mm(b, r), mm(a, r) + mm(b, p))
            mism += np.where(used, m, 0)
            full += used & (a != WILD) & (b != WILD) & bool(q_full[q, k])
        ok = q_cat_ok[q, cats] & q_agency_ok[q, agencies] & (mism <= max_mismatch) & (full >= min_loci)
        hit = np.flatnonzero(ok)
        out.append((hit, full[hit], mism[hit]))
    return out


def familial_reference(codes, cats, agencies, cat_ok, agency_ok, loci, pair, g, k0, k1, k2, min_ki, k_top):
    """Top-k (scores, indices) by minimum-over-populations KI, ties to the lower index."""
    width = codes.shape[2]
    n = codes.shape[1]
    best = np.full(n, np.inf)
    for pop in range(g.shape[0]):
        prod = np.ones(n)
        for k in loci:
            a = codes[k, :, 0].astype(np.int64)
            b = codes[k, :, 1].astype(np.int64)
            used = (a != 0) & (a != WILD) & (b != WILD)
            if width > 2:
                used &= codes[k, :, 2] == 0
            ga, gb = g[pop, k][a], g[pop, k][b]
            hom = b == 0
            x1 = np.where(hom, 0.5 * ga, 0.25 * (ga + gb))
            same = (a == pair[k, 0]) & (b == pair[k, 1])
            x2 = np.where(same, np.where(hom, x1 * x1, 0.5 * ga * gb), 0.0)
            prod = prod * np.where(used, k0 + k1 * x1 + k2 * x2, 1.0)
        best = np.minimum(best, prod)
    ok = cat_ok[cats] & agency_ok[agencies] & (best >= min_ki)
    idx = np.flatnonzero(ok)
    order = np.lexsort((idx, -best[idx]))[:k_top]
    return best[idx[order]], idx[order]
