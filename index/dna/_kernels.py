"""Numba kernels of the DNA index: CODIS stringency scan and Prüm scan (familial: ``_kernels_familial``).

Contiguous typed arrays only, no validation: :mod:`.search` owns the API.
Every kernel has a plain-numpy twin in :mod:`.reference` and a test that
compares them. Shards are ``codes[locus, profile, slot]`` uint8 (see
:mod:`.encoding`): 0 = empty slot, 254 = wildcard, 255 = unseen probe allele.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

HIGH, MODERATE, LOW = 0, 1, 2
WILD = 254


@njit(cache=True, nogil=True)
def _codis_locus(codes, k, i, q, q_member, q_alleles, q_n, stringency):
    """Does candidate ``i`` pass probe ``q`` at locus ``k`` (typed on both sides)?"""
    width = codes.shape[2]
    cand_sub = True
    shared = False
    cand_wild = False
    for j in range(width):
        c = codes[k, i, j]
        if c == 0:
            break
        if c == WILD:
            cand_wild = True
        if q_member[q, k, c]:
            shared = True
        else:
            cand_sub = False
    if stringency == LOW:
        return shared
    if stringency == MODERATE and cand_sub:
        return True
    if stringency == HIGH and not cand_sub:
        return False
    if cand_wild:
        return True
    for jp in range(q_n[q, k]):
        p = q_alleles[q, k, jp]
        if p == WILD:
            continue
        inside = False
        for j in range(width):
            c = codes[k, i, j]
            if c == 0:
                break
            if c == p:
                inside = True
                break
        if not inside:
            return False
    return True


@njit(cache=True, nogil=True)
def _pair_codis(a, b, q, k, q_member, q_alleles, q_n, stringency):
    """:func:`_codis_locus` for an explicit narrow genotype (a, b), b = 0 for a homozygote."""
    cand_sub = q_member[q, k, a] and (b == 0 or q_member[q, k, b])
    if stringency == LOW:
        return q_member[q, k, a] or (b != 0 and q_member[q, k, b])
    if stringency == MODERATE and cand_sub:
        return True
    if stringency == HIGH and not cand_sub:
        return False
    if a == WILD or b == WILD:
        return True
    for jp in range(q_n[q, k]):
        p = q_alleles[q, k, jp]
        if p != WILD and p != a and p != b:
            return False
    return True


@njit(cache=True, nogil=True)
def codis_pass_tables(q_member, q_alleles, q_n, q_order, q_nloci, n_codes, stringency, out):
    """out[q, t, a | b << 8] = 1 where genotype (a, b) fails probe q at its t-th locus (0: passes or untyped).

    A probe with fewer typed loci than ``out.shape[1]`` gets all-pass tables
    for the missing ones (and all-fail if it has none at all).
    """
    for q in range(out.shape[0]):
        out[q] = 0
        if q_nloci[q] == 0:
            out[q, 0, :] = 1
            continue
        for t in range(min(out.shape[1], q_nloci[q])):
            k = q_order[q, t]
            for a in range(1, 255):
                if a >= n_codes[k] and a != WILD:
                    continue
                for b in range(0, 255):
                    if b >= n_codes[k] and b != WILD:
                        continue
                    if not _pair_codis(a, b, q, k, q_member, q_alleles, q_n, stringency):
                        out[q, t, a | (b << 8)] = 1


@njit(cache=True, nogil=True)
def _codis_candidate(codes, i, q, q_member, q_alleles, q_n, q_order, n_loci, stringency, min_loci):
    """Loci compared for candidate ``i`` if it passes probe ``q`` at every one, else -1."""
    compared = 0
    for t in range(n_loci):
        if compared + (n_loci - t) < min_loci:
            return -1
        k = q_order[q, t]
        if codes[k, i, 0] == 0:
            continue
        if not _codis_locus(codes, k, i, q, q_member, q_alleles, q_n, stringency):
            return -1
        compared += 1
    return compared


@njit(cache=True, nogil=True)
def codis_scan_range(codes, pair16, pre, use_pre, cats, agencies, start, stop, q_member, q_alleles, q_n, q_order,
                     q_nloci, q_cat_ok, q_agency_ok, stringency, min_loci, out_idx, out_q, out_ncmp, slot0, cap):
    """Scan profiles ``start:stop`` for every probe; write up to ``cap`` hits at ``slot0``.

    With ``use_pre`` (narrow shards), a branch-free first pass looks each
    profile's genotypes at the probe's most selective loci up in ``pre`` (see
    :func:`codis_pass_tables`) and only the survivors are evaluated in full.
    Returns the number of hits found (it may exceed ``cap``; then the caller
    rescans the range with room for all of them).
    """
    found = 0
    survivors = np.empty(stop - start, np.int64)
    for q in range(q_member.shape[0]):
        n_loci = q_nloci[q]
        n_surv = 0
        if use_pre:
            n_pre = max(1, min(pre.shape[1], n_loci))
            for i in range(start, stop):
                fails = 0
                for t in range(n_pre):
                    fails += pre[q, t, pair16[q_order[q, t], i]]
                survivors[n_surv] = i
                n_surv += fails == 0
        else:
            for i in range(start, stop):
                survivors[n_surv] = i
                n_surv += 1
        for j in range(n_surv):
            i = survivors[j]
            if not q_cat_ok[q, cats[i]] or not q_agency_ok[q, agencies[i]]:
                continue
            compared = _codis_candidate(codes, i, q, q_member, q_alleles, q_n, q_order, n_loci, stringency, min_loci)
            if compared >= min_loci:
                if found < cap:
                    out_idx[slot0 + found] = i
                    out_q[slot0 + found] = q
                    out_ncmp[slot0 + found] = compared
                found += 1
    return found


@njit(cache=True, nogil=True, parallel=True)
def codis_scan(codes, pair16, pre, use_pre, cats, agencies, n, q_member, q_alleles, q_n, q_order, q_nloci,
               q_cat_ok, q_agency_ok, stringency, min_loci, block, cap, out_idx, out_q, out_ncmp, counts):
    """All probes against profiles ``0:n`` in one pass, blocks in parallel; counts[b] hits per block."""
    n_blocks = (n + block - 1) // block
    for b in prange(n_blocks):
        start = b * block
        stop = min(n, start + block)
        counts[b] = codis_scan_range(codes, pair16, pre, use_pre, cats, agencies, start, stop, q_member, q_alleles,
                                     q_n, q_order, q_nloci, q_cat_ok, q_agency_ok, stringency, min_loci,
                                     out_idx, out_q, out_ncmp, b * cap, cap)


@njit(cache=True, nogil=True)
def _mismatch(x, y):
    return 0 if (x == y or x == WILD or y == WILD) else 1


@njit(cache=True, nogil=True)
def _prum_locus(a, b, p, r):
    """Differing alleles between genotype (a, b) and probe (p, r); 0 in a second slot is a homozygote."""
    if b == 0:
        b = a
    if r == 0:
        r = p
    return min(_mismatch(a, p) + _mismatch(b, r), _mismatch(a, r) + _mismatch(b, p))


@njit(cache=True, nogil=True)
def prum_mismatch_tables(q_pair, q_order, q_nloci, n_codes, out):
    """out[q, t, a | b << 8]: mismatches of genotype (a, b) at probe q's t-th locus (0 if untyped)."""
    for q in range(out.shape[0]):
        out[q] = 0
        for t in range(min(out.shape[1], q_nloci[q])):
            k = q_order[q, t]
            for a in range(1, 255):
                if a >= n_codes[k] and a != WILD:
                    continue
                for b in range(0, 255):
                    if b >= n_codes[k] and b != WILD:
                        continue
                    out[q, t, a | (b << 8)] = _prum_locus(a, b, q_pair[q, k, 0], q_pair[q, k, 1])


@njit(cache=True, nogil=True)
def prum_scan_range(codes, pair16, pre, use_pre, cats, agencies, start, stop, q_pair, q_full, q_order, q_nloci,
                    q_cat_ok, q_agency_ok, min_loci, max_mismatch, out_idx, out_q, out_ncmp, out_mm, slot0, cap):
    """Prüm rules over profiles ``start:stop``: full (0) and near (1 allele) matches.

    With ``use_pre``, mismatches at the probe's first loci are summed from
    ``pre`` (see :func:`prum_mismatch_tables`) without branches, and only the
    profiles still within ``max_mismatch`` are evaluated in full.
    """
    width = codes.shape[2]
    found = 0
    survivors = np.empty(stop - start, np.int64)
    for q in range(q_pair.shape[0]):
        n_loci = q_nloci[q]
        n_surv = 0
        n_pre = min(pre.shape[1], n_loci) if use_pre else 0
        for i in range(start, stop):
            penalty = 0
            for t in range(n_pre):
                penalty += pre[q, t, pair16[q_order[q, t], i]]
            survivors[n_surv] = i
            n_surv += penalty <= max_mismatch
        for j in range(n_surv):
            i = survivors[j]
            if not q_cat_ok[q, cats[i]] or not q_agency_ok[q, agencies[i]]:
                continue
            mismatches = 0
            full = 0
            for t in range(n_loci):
                if full + (n_loci - t) < min_loci:
                    break
                k = q_order[q, t]
                a = codes[k, i, 0]
                if a == 0 or (width > 2 and codes[k, i, 2] != 0):
                    continue
                b = codes[k, i, 1]
                mismatches += _prum_locus(a, b, q_pair[q, k, 0], q_pair[q, k, 1])
                if mismatches > max_mismatch:
                    break
                if q_full[q, k] and a != WILD and b != WILD:
                    full += 1
            if mismatches <= max_mismatch and full >= min_loci:
                if found < cap:
                    out_idx[slot0 + found] = i
                    out_q[slot0 + found] = q
                    out_ncmp[slot0 + found] = full
                    out_mm[slot0 + found] = mismatches
                found += 1
    return found


@njit(cache=True, nogil=True, parallel=True)
def prum_scan(codes, pair16, pre, use_pre, cats, agencies, n, q_pair, q_full, q_order, q_nloci, q_cat_ok,
              q_agency_ok, min_loci, max_mismatch, block, cap, out_idx, out_q, out_ncmp, out_mm, counts):
    """All probes, Prüm rules, blocks in parallel; counts[b] hits per block."""
    n_blocks = (n + block - 1) // block
    for b in prange(n_blocks):
        start = b * block
        stop = min(n, start + block)
        counts[b] = prum_scan_range(codes, pair16, pre, use_pre, cats, agencies, start, stop, q_pair, q_full,
                                    q_order, q_nloci, q_cat_ok, q_agency_ok, min_loci, max_mismatch,
                                    out_idx, out_q, out_ncmp, out_mm, b * cap, cap)
