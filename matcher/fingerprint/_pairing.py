"""Numba kernel: minutiae pairing under the alignment given by a seed pair.

Twin: :func:`._reference.pair_minutiae_reference`.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._kernels import _wrap


@njit(cache=True, nogil=True)
def _in_foreground(fg, block, x, y):
    r = int(math.floor(y / block))
    c = int(math.floor(x / block))
    return 0 <= r < fg.shape[0] and 0 <= c < fg.shape[1] and fg[r, c] != 0


@njit(cache=True, nogil=True)
def pair_minutiae(xa, ya, ta, fga, blocka, xb, yb, tb, fgb, blockb, seeds_a, seeds_b,
                  tol_px, tol_slope, tol_rad, min_overlap):
    """Best pairing score over seed alignments, with distortion-tolerant matching.

    For each seed pair (i, j), candidate B is rotated and translated so that
    minutia j lands on minutia i of A with the same direction. Minutiae pairs
    closer than ``tol_px + tol_slope * r`` (r: distance from the seed, so
    that elastic distortion far from the seed is tolerated) with directions
    within ``tol_rad`` are paired greedily, nearest first, one-to-one.
    The pairing score is ``m^2 / (na * nb)``, where m is the number of pairs
    and na, nb are the minutiae of each print that fall inside the other's
    foreground once aligned (at least ``min_overlap``). Every seed is tried:
    the tolerance grows with the distance from the seed, so even a seed
    paired under another seed's alignment can pair more around itself
    (skipping such seeds measured worse on FVC2004).

    Returns
    -------
    best : float, the best pairing score.
    pairs_a, pairs_b : (m,) int64, the pairs of the best alignment, nearest first.
    """
    na = xa.shape[0]
    nb = xb.shape[0]
    best = 0.0
    best_a = np.zeros(0, np.int64)
    best_b = np.zeros(0, np.int64)
    bx = np.empty(nb, np.float64)
    by = np.empty(nb, np.float64)
    cand_d = np.empty(na * nb, np.float64)
    cand_i = np.empty(na * nb, np.int64)
    cand_j = np.empty(na * nb, np.int64)
    used_a = np.zeros(na, np.bool_)
    used_b = np.zeros(nb, np.bool_)
    for s in range(seeds_a.shape[0]):
        i0 = seeds_a[s]
        j0 = seeds_b[s]
        rot = _wrap(ta[i0] - tb[j0])
        c = math.cos(rot)
        sn = math.sin(rot)
        inside_b = 0
        for j in range(nb):
            dx = xb[j] - xb[j0]
            dy = yb[j] - yb[j0]
            bx[j] = c * dx - sn * dy + xa[i0]
            by[j] = sn * dx + c * dy + ya[i0]
            if _in_foreground(fga, blocka, bx[j], by[j]):
                inside_b += 1
        inside_a = 0
        for i in range(na):
            dx = xa[i] - xa[i0]
            dy = ya[i] - ya[i0]
            if _in_foreground(fgb, blockb, c * dx + sn * dy + xb[j0], -sn * dx + c * dy + yb[j0]):
                inside_a += 1
        count = 0
        for i in range(na):
            r = math.sqrt((xa[i] - xa[i0]) ** 2 + (ya[i] - ya[i0]) ** 2)
            tol = tol_px + tol_slope * r
            tol2 = tol * tol
            for j in range(nb):
                ex = xa[i] - bx[j]
                if ex > tol or ex < -tol:
                    continue
                ey = ya[i] - by[j]
                d2 = ex * ex + ey * ey
                if d2 < tol2 and abs(_wrap(ta[i] - tb[j] - rot)) < tol_rad:
                    cand_d[count] = d2
                    cand_i[count] = i
                    cand_j[count] = j
                    count += 1
        order = np.argsort(cand_d[:count], kind="mergesort")
        used_a[:] = False
        used_b[:] = False
        m = 0
        pa = np.empty(min(na, nb), np.int64)
        pb = np.empty(min(na, nb), np.int64)
        for q in range(count):
            i = cand_i[order[q]]
            j = cand_j[order[q]]
            if used_a[i] or used_b[j]:
                continue
            used_a[i] = True
            used_b[j] = True
            pa[m] = i
            pb[m] = j
            m += 1
        score = (m * m) / (max(inside_a, min_overlap) * max(inside_b, min_overlap))
        if score > best:
            best = score
            best_a = pa[:m].copy()
            best_b = pb[:m].copy()
    return best, best_a, best_b
