"""Numba kernel: minutiae pairing under the alignment given by a seed pair.

Twin: :func:`._reference.pair_minutiae_reference`.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._kernels import _wrap, _wrap_near
from ._popcount import trailing_zeros64

#: sha256[:16] of _kernels.py and _popcount.py, whose kernels these inline: Numba's cache
#: notices changes to this file only (see :mod:`._batch`).
KERNEL_SOURCES_STAMP = "6b60f7d1b62be9da"


@njit(cache=True, nogil=True)
def _count_in_foreground(fg, block, xs, ys, n):
    """How many of the points ``(xs[k], ys[k])``, ``k < n``, fall on foreground blocks of ``fg``.

    For a power-of-two block, ``v / block`` equals ``v * (1 / block)`` exactly (both are ``v``
    scaled by a power of two), so the division is a multiplication there. A block row or
    column below 0 wraps to a huge unsigned value, so one comparison tests both bounds, and
    a point off the grid reads block (0, 0) but does not count: no branch to mispredict.
    """
    if fg.size == 0:
        return 0
    rows = np.uint64(fg.shape[0])
    cols = np.uint64(fg.shape[1])
    zero = np.uint64(0)
    inside = 0
    pow2 = block > 0 and block & (block - 1) == 0
    scale = 1.0 / block
    for k in range(n):
        if pow2:
            r = np.uint64(np.int64(math.floor(ys[k] * scale)))
            c = np.uint64(np.int64(math.floor(xs[k] * scale)))
        else:
            r = np.uint64(np.int64(math.floor(ys[k] / block)))
            c = np.uint64(np.int64(math.floor(xs[k] / block)))
        ok = (r < rows) & (c < cols)
        inside += ok & (fg[r if ok else zero, c if ok else zero] != 0)
    return inside


#: coordinate of the points padding B: their squared distance to any minutia is infinite
_FAR = 1e300


@njit(cache=True, nogil=True)
def _exact_candidates(i, w0, mask, xa, ya, ta, bx, by, tb, rot, tol2, tol_rad, cand_d, cand_i, cand_j, count):
    """The exact tests of minutia ``i`` of A against the minutiae ``w0 + bit`` of B set in ``mask``.

    Each pair is written at ``count``, which then moves on only if the pair passes: no branch on
    the outcome (the direction test fails about half the pairs, unpredictably). Returns the
    new count.
    """
    while mask != 0:
        j = w0 + np.int64(trailing_zeros64(mask))
        mask &= mask - np.uint64(1)
        ex = xa[i] - bx[j]
        ey = ya[i] - by[j]
        d2 = ex * ex + ey * ey
        cand_d[count] = d2
        cand_i[count] = i
        cand_j[count] = j
        count += (d2 < tol2) & (abs(_wrap_near(ta[i] - tb[j] - rot)) < tol_rad)
    return count


@njit(cache=True, nogil=True)
def _sort_candidates(cand_d, cand_i, cand_j, count):
    """Sort the first ``count`` candidates in increasing (d2, i, j) order, by insertion (a seed has a
    few dozen at most)."""
    for q0 in range(1, count):
        d2 = cand_d[q0]
        i = cand_i[q0]
        j = cand_j[q0]
        q = q0
        while q > 0 and (cand_d[q - 1] > d2 or (cand_d[q - 1] == d2 and (
                cand_i[q - 1] > i or (cand_i[q - 1] == i and cand_j[q - 1] > j)))):
            cand_d[q] = cand_d[q - 1]
            cand_i[q] = cand_i[q - 1]
            cand_j[q] = cand_j[q - 1]
            q -= 1
        cand_d[q] = d2
        cand_i[q] = i
        cand_j[q] = j


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

    The candidate search runs in two passes. A branch-free pass over B, four
    minutiae of A at a time (the compiler vectorises it; B is padded to a
    multiple of 8 with far-away points, so no scalar remainder is left), sets
    a bit for each minutia of B within a slightly looser distance, one mask
    per minutia of A. The exact tests then run on the set bits only (about
    15 of 1,200 pairs on FVC2002 DB1), reached through a mask of the rows
    that have any, and append the pairs that pass without branching on the
    outcome: few branches, so few mispredicted ones. The candidates are then
    sorted by distance, ties in the order (i, j). The result equals the exact
    tests on every pair.

    Returns
    -------
    best : float, the best pairing score.
    pairs_a, pairs_b : (m,) int64, the pairs of the best alignment, nearest first (views of a
        work array: copy them to keep them long).
    seed : int, index into the seeds of the best alignment (-1 if none scored).
    """
    na = xa.shape[0]
    nb = xb.shape[0]
    best = 0.0
    best_m = 0
    best_seed = -1
    padded = (nb + 7) // 8 * 8
    m_max = min(na, nb)
    # Work arrays, one allocation per kind (each costs about 20 ns): B aligned onto A (padded with
    # far-away points, which never pass a distance test); A aligned onto B and the squared pairing
    # tolerance of each minutia of A under the seed; candidate distances; candidate rows and
    # columns, the pairs found and the best ones; the used flags of A and B.
    b_xy = np.full(2 * padded, _FAR)
    bx = b_xy[:padded]
    by = b_xy[padded:]
    a_work = np.empty(3 * na, np.float64)
    ax = a_work[:na]
    ay = a_work[na:2 * na]
    tol2s = a_work[2 * na:]
    cand_d = np.empty(na * nb, np.float64)
    ints = np.empty(2 * na * nb + 4 * m_max, np.int64)
    cand_i = ints[:na * nb]
    cand_j = ints[na * nb:2 * na * nb]
    pa = ints[2 * na * nb:2 * na * nb + m_max]
    pb = ints[2 * na * nb + m_max:2 * na * nb + 2 * m_max]
    best_a = ints[2 * na * nb + 2 * m_max:2 * na * nb + 3 * m_max]
    best_b = ints[2 * na * nb + 3 * m_max:]
    used = np.zeros(na + nb, np.bool_)
    used_a = used[:na]
    used_b = used[na:]
    masks = np.zeros(na + 3, np.uint64)  # per row of A: its loose candidates in B (64 at a time)
    for s in range(seeds_a.shape[0]):
        i0 = seeds_a[s]
        j0 = seeds_b[s]
        rot = _wrap(ta[i0] - tb[j0])
        c = math.cos(rot)
        sn = math.sin(rot)
        for j in range(nb):
            dx = xb[j] - xb[j0]
            dy = yb[j] - yb[j0]
            bx[j] = c * dx - sn * dy + xa[i0]
            by[j] = sn * dx + c * dy + ya[i0]
        for i in range(na):
            dx = xa[i] - xa[i0]
            dy = ya[i] - ya[i0]
            ax[i] = c * dx + sn * dy + xb[j0]
            ay[i] = -sn * dx + c * dy + yb[j0]
        inside_b = _count_in_foreground(fga, blocka, bx, by, nb)
        inside_a = _count_in_foreground(fgb, blockb, ax, ay, na)
        for i in range(na):
            tol = tol_px + tol_slope * math.sqrt((xa[i] - xa[i0]) ** 2 + (ya[i] - ya[i0]) ** 2)
            tol2s[i] = tol * tol
        # the candidates (d2, i, j) that pass, appended (sorted below)
        count = 0
        for w0 in range(0, padded, 64):
            # the loose distance tests of rows i .. i + 3 over B's minutiae w0 .. w0 + 63, as bit
            # masks (rows past the end repeat the last one; their masks land past na, unread)
            for i in range(0, na, 4):
                i1 = min(i + 1, na - 1)
                i2 = min(i + 2, na - 1)
                i3 = min(i + 3, na - 1)
                l0 = tol2s[i] * (1.0 + 1e-9) + 1e-9
                l1 = tol2s[i1] * (1.0 + 1e-9) + 1e-9
                l2 = tol2s[i2] * (1.0 + 1e-9) + 1e-9
                l3 = tol2s[i3] * (1.0 + 1e-9) + 1e-9
                x0, y0, x1, y1, x2, y2, x3, y3 = xa[i], ya[i], xa[i1], ya[i1], xa[i2], ya[i2], xa[i3], ya[i3]
                m0 = np.uint64(0)
                m1 = np.uint64(0)
                m2 = np.uint64(0)
                m3 = np.uint64(0)
                for j in range(w0, min(w0 + 64, padded)):
                    shift = np.uint64(j - w0)
                    u = bx[j]
                    v = by[j]
                    gx = x0 - u
                    gy = y0 - v
                    m0 |= np.uint64(gx * gx + gy * gy < l0) << shift
                    gx = x1 - u
                    gy = y1 - v
                    m1 |= np.uint64(gx * gx + gy * gy < l1) << shift
                    gx = x2 - u
                    gy = y2 - v
                    m2 |= np.uint64(gx * gx + gy * gy < l2) << shift
                    gx = x3 - u
                    gy = y3 - v
                    m3 |= np.uint64(gx * gx + gy * gy < l3) << shift
                masks[i] = m0
                masks[i + 1] = m1
                masks[i + 2] = m2
                masks[i + 3] = m3
            # the exact tests, on the rows with a loose candidate (64 rows of A at a time)
            for r0 in range(0, na, 64):
                rows = np.uint64(0)
                for i in range(r0, min(r0 + 64, na)):
                    rows |= np.uint64(masks[i] != 0) << np.uint64(i - r0)
                while rows != 0:
                    i = r0 + np.int64(trailing_zeros64(rows))
                    rows &= rows - np.uint64(1)
                    count = _exact_candidates(i, w0, masks[i], xa, ya, ta, bx, by, tb, rot, tol2s[i], tol_rad,
                                              cand_d, cand_i, cand_j, count)
        _sort_candidates(cand_d, cand_i, cand_j, count)
        used[:] = False
        m = 0
        for q in range(count):
            i = cand_i[q]
            j = cand_j[q]
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
            best_seed = s
            best_m = m
            best_a[:m] = pa[:m]
            best_b[:m] = pb[:m]
    return best, best_a[:best_m], best_b[:best_m], best_seed


#: cos and sin of twice each whole-degree angle difference (orientation codes are whole degrees),
#: indexed by the difference plus 179 (-179..179 degrees; a difference d and d + 180 share a value)
_COS2 = np.cos(np.radians(2.0 * np.arange(180)))[(np.arange(-179, 180)) % 180]
_SIN2 = np.sin(np.radians(2.0 * np.arange(180)))[(np.arange(-179, 180)) % 180]


@njit(cache=True, nogil=True)
def orientation_agreement(orient_a, block_a, orient_b, block_b, xa0, ya0, xb0, yb0, rot):
    """Agreement of two ridge-orientation fields under an alignment.

    Each foreground block centre of A is carried into B's frame (B's point
    ``(xb0, yb0)`` onto A's ``(xa0, ya0)``, B turned by ``rot``); where it
    lands on B's foreground the two ridge orientations are compared.

    Parameters
    ----------
    orient_a, orient_b : (rows, cols) uint8
        Block ridge orientations as the template stores them: whole degrees
        0..179, 255 on background.
    block_a, block_b : int
        Block sizes in pixels.

    Returns
    -------
    agreement : float
        Mean of ``cos(2 (theta_a - theta_b - rot))`` over the common blocks:
        1 for identical ridge flow, about 0 for unrelated flow.
    count : int
        Number of common blocks (0: no overlap, or no field on one side).

    Notes
    -----
    ``cos(2 (d - rot)) = cos 2d cos 2rot + sin 2d sin 2rot``, and ``d``
    is a whole number of degrees, so the sums of ``cos 2d`` and ``sin 2d``
    come from a table (by difference, -179..179) and the rotation enters once at the end.
    """
    total_c = 0.0
    total_s = 0.0
    count = 0
    c = math.cos(rot)
    s = math.sin(rot)
    rb, cb = orient_b.shape
    # for a power-of-two block, dividing by it equals multiplying by its inverse exactly
    pow2 = block_b > 0 and block_b & (block_b - 1) == 0
    scale = 1.0 / block_b
    for r in range(orient_a.shape[0]):
        dy = r * block_a + 0.5 * block_a - ya0
        for q in range(orient_a.shape[1]):
            ta = orient_a[r, q]
            if ta == 255:
                continue
            dx = q * block_a + 0.5 * block_a - xa0
            xb = c * dx + s * dy + xb0
            yb = -s * dx + c * dy + yb0
            if pow2:
                br = int(math.floor(yb * scale))
                bc = int(math.floor(xb * scale))
            else:
                br = int(math.floor(yb / block_b))
                bc = int(math.floor(xb / block_b))
            if br < 0 or br >= rb or bc < 0 or bc >= cb:
                continue
            tb = orient_b[br, bc]
            if tb == 255:
                continue
            d = np.int64(ta) - np.int64(tb) + 179
            total_c += _COS2[d]
            total_s += _SIN2[d]
            count += 1
    if count == 0:
        return 0.0, 0
    return (total_c * math.cos(2.0 * rot) + total_s * math.sin(2.0 * rot)) / count, count
