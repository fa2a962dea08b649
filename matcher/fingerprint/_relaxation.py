"""Numba kernels of the MCC matcher: Local Similarity Sort with Relaxation, and the whole local comparison.

Twins in :mod:`._reference`; ``tests/matcher/fingerprint/test_kernels_matcher.py``
checks that they agree.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._kernels import _wrap_near, key_index, key_value, similarity_key, similarity_keys
from ._popcount import trailing_zeros64

#: sha256[:16] of _kernels.py and _popcount.py, whose kernels these inline: Numba's cache
#: notices changes to this file only (see :mod:`._batch`).
KERNEL_SOURCES_STAMP = "6b60f7d1b62be9da"


@njit(cache=True, nogil=True)
def _sigmoid(v, mu, tau):
    return 1.0 / (1.0 + math.exp(-tau * (v - mu)))


#: histogram bins of :func:`_top_keys`: the top 14 bits of a key, those of its float32 similarity's sign,
#: exponent and 5 mantissa bits (32 bins per octave), from 2**-7 (bin 0 also takes everything smaller)
#: up to 1.0
_HIST_SHIFT = np.uint64(50)
_HIST_BASE = 0x3C000000 >> 18
_HIST_BINS = (0x3F800000 >> 18) - _HIST_BASE + 1


@njit(cache=True, nogil=True)
def _top_keys(keys, size, count_max):
    """Flat indices of the ``count_max`` largest of ``keys[:size]`` (:func:`._kernels.similarity_key`
    values), largest first: largest similarity, ties by lower index. Reorders ``keys``.

    A histogram of the keys' top 14 bits (32 bins per octave) gives the
    lowest bin that the ``count_max`` largest reach; only the keys from that
    bin up are sorted (about 25 on the FVC sets).
    """
    if count_max <= 0:
        return np.zeros(0, np.int64)
    if size > count_max:
        hist = np.zeros(_HIST_BINS, np.int64)
        for q in range(size):
            b = min(max(np.int64(keys[q] >> _HIST_SHIFT) - _HIST_BASE, 0), _HIST_BINS - 1)
            hist[b] += 1
        need = count_max
        t = _HIST_BINS - 1
        while t > 0 and hist[t] < need:
            need -= hist[t]
            t -= 1
        limit = np.uint64(t + _HIST_BASE) << _HIST_SHIFT if t > 0 else np.uint64(0)
        m = 0
        for q in range(size):
            keys[m] = keys[q]
            m += keys[q] >= limit
    else:
        m = size
    if m <= _INSERTION_MAX:
        _sort_decreasing(keys, m)
    else:  # many values in one bin (equal similarities): insertion would be quadratic
        keys[:m] = np.sort(keys[:m])[::-1]
    k = min(m, count_max)
    out = np.empty(k, np.int64)
    for t in range(k):
        out[t] = key_index(keys[t])
    return out


@njit(cache=True, nogil=True)
def _keys_of(sim):
    """The :func:`._kernels.similarity_key` values of the positive entries of a float32 matrix, and
    their count (without branches: the sign test would be unpredictable)."""
    flat = sim.ravel()
    keys = np.empty(flat.size, np.uint64)
    size = 0
    for q in range(flat.size):
        keys[size] = similarity_key(flat[q], q)
        size += flat[q] > 0
    return keys, size


@njit(cache=True, nogil=True)
def _top_pairs(sim, count_max):
    """Indices (flat) of the ``count_max`` largest positive entries of a float32 similarity matrix,
    largest first (ties: lower index); :func:`_top_keys` of its keys."""
    keys, size = _keys_of(sim)
    return _top_keys(keys, size, count_max)


#: largest count :func:`_top_pairs` sorts by insertion
_INSERTION_MAX = 64


@njit(cache=True, nogil=True)
def _sort_decreasing(keys, m):
    """Sort ``keys[:m]`` in place, largest first, by insertion: the histogram leaves a few dozen,
    where this is several times faster than ``np.sort`` (no copy, no recursion)."""
    for q in range(1, m):
        v = keys[q]
        r = q
        while r > 0 and keys[r - 1] < v:
            keys[r] = keys[r - 1]
            r -= 1
        keys[r] = v


@njit(cache=True, nogil=True)
def _bits_between(lo, hi):
    """The uint64 with bits ``max(lo, 0) .. min(hi, 64) - 1`` set (none when that range is empty)."""
    lo = max(lo, 0)
    hi = min(hi, 64)
    if hi <= lo:
        return np.uint64(0)
    upper = np.uint64(0xFFFFFFFFFFFFFFFF) if hi == 64 else (np.uint64(1) << np.uint64(hi)) - np.uint64(1)
    return upper & ~((np.uint64(1) << np.uint64(lo)) - np.uint64(1))


#: cos and sin of _TURNS equally spaced directions. The loose tests of :func:`relaxed_pairs_keys` read a
#: pair's rotation here, off by at most half a step (pi / 1024): two rotations differ by at most
#: 2 pi / 1024 = 0.0061 rad more or less than they do, and a tested angle at most that much more
#: than its exact value, which _ANGLE_MARGIN covers (cos decreases on [0, pi]). Two libm calls
#: per pair cost more than the rest of the loose pass.
_TURNS = 1024
_TURN_SCALE = _TURNS / (2.0 * math.pi)
_SINCOS = np.stack([np.cos(np.arange(_TURNS) / _TURN_SCALE), np.sin(np.arange(_TURNS) / _TURN_SCALE)], axis=1)
#: margin (radians) of the loose angle tests of :func:`relaxed_pairs_keys`
_ANGLE_MARGIN = 0.01


@njit(cache=True, nogil=True)
def relaxed_pairs(sim, xa, ya, ta, xb, yb, tb, n_relax, iterations, weight,
                  mu1, tau1, mu2, tau2, mu3, tau3):
    """:func:`relaxed_pairs_keys` of a float32 similarity matrix (its positive entries)."""
    keys, size = _keys_of(sim)
    return relaxed_pairs_keys(keys, size, sim.shape[1], xa, ya, ta, xb, yb, tb, n_relax, iterations, weight,
                              mu1, tau1, mu2, tau2, mu3, tau3)


@njit(cache=True, nogil=True)
def relaxed_pairs_keys(keys, size, nb, xa, ya, ta, xb, yb, tb, n_relax, iterations, weight,
                       mu1, tau1, mu2, tau2, mu3, tau3):
    """Local Similarity Sort with Relaxation (LSS-R) of Cappelli et al. 2010.

    The similarities come as the ``keys[:size]`` of :func:`._kernels.similarity_keys`
    (``nb`` columns); ``keys`` is reordered.

    Returns
    -------
    pa, pb : (r,) int64, the ``n_relax`` most similar pairs (LSS order).
    lam0 : (r,) float64, their local similarities.
    lam : (r,) float64, similarities after relaxation.

    Notes
    -----
    The compatibility of two pairs is the product of three sigmoids of
    distance, direction-difference and radial-angle disagreement; it is set
    to 0 when any factor is below 1e-4. Unlike the paper, the compatibility
    is symmetric: the radial angle is taken at the pair ranked higher by
    LSS, for both directions. On the six FVC sets this measured lower EERs
    than the paper's asymmetric form (all-pairs mean 3.7% vs 4.3% on
    FVC2004 DB3-4, equal on FVC2002).
    """
    top = _top_keys(keys, size, n_relax)
    count = top.size
    pa = np.empty(count, dtype=np.int64)
    pb = np.empty(count, dtype=np.int64)
    lam0 = np.empty(count, dtype=np.float64)
    inv_nb = 1.0 / nb
    for t in range(count):
        # row of flat index q = i * nb + j: (q + 0.5) / nb lies 0.5 / nb inside (i, i + 1), far beyond
        # the rounding of the product, so the floor is exact (no integer division)
        pa[t] = np.int64((top[t] + 0.5) * inv_nb)
        pb[t] = top[t] - pa[t] * nb
        lam0[t] = key_value(keys[t])  # keys[:count] are the top ones, in order
    # compatibilities are sparse: keep the non-zero ones as (t, k, value) triples
    cap = count * (count - 1)
    rt = np.empty(cap, dtype=np.int64)
    rk = np.empty(cap, dtype=np.int64)
    rv = np.empty(cap, dtype=np.float64)
    nnz = 0
    # beyond these disagreements a sigmoid factor is below 1e-4: the pair is incompatible
    cut2 = mu2 + math.log(9999.0) / -tau2
    cut3 = mu3 + math.log(9999.0) / -tau3
    cut1 = mu1 + math.log(9999.0) / -tau1
    # A branch-free pass (vectorised by the compiler) first marks the pairs k that pass
    # looser versions of the three tests: the two angle tests as cosines (of the pairs'
    # rotation difference; of the radial angles' difference, from dot and cross products of
    # the connecting vectors) with a margin of _ANGLE_MARGIN, which covers the rotations
    # being read from a table (_SINCOS), and the distance test with a 1e-6 px margin, as
    # (da - db)^2 = da^2 + db^2 - 2 sqrt(da^2 db^2) (one square root). Coincident minutiae
    # always pass. The pass runs over whole rows padded to a multiple of 8 (long, even
    # loops vectorise; rows k <= t are about half of it), and a bit mask keeps t < k < count.
    # The exact tests run on the marked pairs only, so the result equals testing every pair exactly.
    padded = (count + 7) // 8 * 8
    gxa = np.zeros(padded, np.float64)
    gya = np.zeros(padded, np.float64)
    gxb = np.zeros(padded, np.float64)
    gyb = np.zeros(padded, np.float64)
    rot_cos = np.zeros(padded, np.float64)
    rot_sin = np.zeros(padded, np.float64)
    for t in range(count):
        gxa[t] = xa[pa[t]]
        gya[t] = ya[pa[t]]
        gxb[t] = xb[pb[t]]
        gyb[t] = yb[pb[t]]
        # the nearest of _TURNS directions (an integer multiple of the turn wraps away: two's complement)
        q = np.int64(math.floor((ta[pa[t]] - tb[pb[t]]) * _TURN_SCALE + 0.5)) & (_TURNS - 1)
        rot_cos[t] = _SINCOS[q, 0]
        rot_sin[t] = _SINCOS[q, 1]
    cos_limit = math.cos(cut2 + _ANGLE_MARGIN) if cut2 + _ANGLE_MARGIN < math.pi else -2.0
    cos_limit3 = math.cos(cut3 + _ANGLE_MARGIN) if cut3 + _ANGLE_MARGIN < math.pi else -2.0
    loose1_sq = (cut1 + 1e-6) ** 2
    for t in range(count):
        ia = pa[t]
        ib = pb[t]
        xt, yt, ut, vt, ct, st = gxa[t], gya[t], gxb[t], gyb[t], rot_cos[t], rot_sin[t]
        for k0 in range((t + 1) // 8 * 8, padded, 64):
            # the loose tests of pairs k0 .. k0 + 63 as one bit mask; the exact tests run on its set bits
            mask = np.uint64(0)
            for k in range(k0, min(k0 + 64, padded)):
                ex = gxa[k] - xt
                ey = gya[k] - yt
                fx = gxb[k] - ut
                fy = gyb[k] - vt
                da2 = ex * ex + ey * ey
                db2 = fx * fx + fy * fy
                dadb = math.sqrt(da2 * db2)
                # cos of (rotation of pair t) - (angle of the connecting vector in A - in B), times da * db
                radial = ct * (ex * fx + ey * fy) + st * (ey * fx - ex * fy)
                near = ((ct * rot_cos[k] + st * rot_sin[k] > cos_limit)
                        & (da2 + db2 - 2.0 * dadb <= loose1_sq)
                        & ((dadb < 1e-9) | (radial > cos_limit3 * dadb)))
                mask |= np.uint64(near) << np.uint64(k - k0)
            mask &= _bits_between(t + 1 - k0, count - k0)
            while mask != 0:
                k = k0 + np.int64(trailing_zeros64(mask))
                mask &= mask - np.uint64(1)
                ka = pa[k]
                kb = pb[k]
                d2 = abs(_wrap_near(_wrap_near(ta[ia] - ta[ka]) - _wrap_near(tb[ib] - tb[kb])))
                if d2 > cut2:
                    continue
                # the vectors joining the two pairs' minutiae, in A and in B
                ux = xa[ia] - xa[ka]
                uy = ya[ia] - ya[ka]
                vx = xb[ib] - xb[kb]
                vy = yb[ib] - yb[kb]
                d1 = abs(math.sqrt(ux * ux + uy * uy) - math.sqrt(vx * vx + vy * vy))
                if d1 > cut1:
                    continue
                # radial angle: the direction of the more similar pair's minutia against the line
                # from the other one, compared between the prints. The difference of the two
                # lines' angles is the angle from B's line to A's, one atan2 of their cross and
                # dot products. atan2 of a zero vector is 0 (coincident minutiae), so then the
                # two angles are taken apart, as the twin does.
                if (ux == 0.0 and uy == 0.0) or (vx == 0.0 and vy == 0.0):
                    d3 = abs(_wrap_near(_wrap_near(ta[ia] - math.atan2(uy, ux))
                                        - _wrap_near(tb[ib] - math.atan2(vy, vx))))
                else:
                    d3 = abs(_wrap_near(_wrap_near(ta[ia] - tb[ib])
                                        - math.atan2(vx * uy - vy * ux, vx * ux + vy * uy)))
                if d3 > cut3:
                    continue
                v = _sigmoid(d1, mu1, tau1) * _sigmoid(d2, mu2, tau2) * _sigmoid(d3, mu3, tau3)
                rt[nnz] = t
                rk[nnz] = k
                rv[nnz] = v
                nnz += 1
                rt[nnz] = k
                rk[nnz] = t
                rv[nnz] = v
                nnz += 1
    lam = lam0.copy()
    acc = np.empty(count, dtype=np.float64)
    if count > 1:
        scale = (1.0 - weight) / (count - 1)
        for _ in range(iterations):
            acc[:] = 0.0
            for e in range(nnz):
                acc[rt[e]] += rv[e] * lam[rk[e]]
            for t in range(count):
                lam[t] = weight * lam[t] + scale * acc[t]
    return pa, pb, lam0, lam


@njit(cache=True, nogil=True)
def _smallest_stable(values, k):
    """Indices of the ``k`` smallest ``values``, in the order of a stable sort (equal values: lower
    index first); ``np.argsort(values, kind="mergesort")[:k]`` without sorting the rest. By
    insertion into the k kept so far: k is at most ``max_np`` (12) and values a few dozen."""
    out = np.empty(k, np.int64)
    if k <= 0:
        return out
    size = 0
    for t in range(values.shape[0]):
        v = values[t]
        if size == k and not v < values[out[k - 1]]:
            continue
        r = size if size < k else k - 1
        while r > 0 and values[out[r - 1]] > v:
            out[r] = out[r - 1]
            r -= 1
        out[r] = t
        if size < k:
            size += 1
    return out


@njit(cache=True, nogil=True)
def compare_cylinders(bits_a, valid_a, counts_a, cells_a, xa, ya, ta, bits_b, cells_b, xb, yb, tb, max_dir,
                      min_matchable_cells, n_pairs, iterations, weight, mu1, tau1, mu2, tau2, mu3, tau3):
    """Whole comparison in one call: similarities, LSS-R, selection by efficiency.

    Returns
    -------
    score : float
        Sum of the relaxed similarities of the ``n_pairs`` most efficient
        pairs, divided by ``n_pairs``.
    pa, pb : (k,) int64
        Those pairs (rows of the prepared arrays), by decreasing relaxed similarity.
    """
    na = bits_a.shape[0]
    nb = bits_b.shape[0]
    if na == 0 or nb == 0:
        return 0.0, np.zeros(0, np.int64), np.zeros(0, np.int64)
    keys, size = similarity_keys(bits_a, valid_a, counts_a, cells_a, ta, bits_b, cells_b, tb, max_dir,
                                 min_matchable_cells)
    pa, pb, lam0, lam = relaxed_pairs_keys(keys, size, nb, xa, ya, ta, xb, yb, tb, min(na, nb), iterations, weight,
                                           mu1, tau1, mu2, tau2, mu3, tau3)
    count = pa.size
    if count == 0:
        return 0.0, np.zeros(0, np.int64), np.zeros(0, np.int64)
    eff = np.empty(count, dtype=np.float64)
    for t in range(count):
        eff[t] = -(lam[t] / max(lam0[t], 1e-12))
    k = min(n_pairs, count)
    chosen = _smallest_stable(eff, k)  # the k most efficient, as a stable sort orders them
    total = 0.0
    rel = np.empty(k, dtype=np.float64)
    for q in range(k):
        total += lam[chosen[q]]
        rel[q] = -lam[chosen[q]]
    by_lam = _smallest_stable(rel, k)
    out_a = np.empty(k, dtype=np.int64)
    out_b = np.empty(k, dtype=np.int64)
    for q in range(k):
        out_a[q] = pa[chosen[by_lam[q]]]
        out_b[q] = pb[chosen[by_lam[q]]]
    return total / n_pairs, out_a, out_b
