"""Numba kernel: one prepared probe against many prepared candidates in one call.

These functions inline kernels of other modules, and Numba's on-disk cache
only notices changes to the file that defines a function: a cached caller
would keep an old callee. So this file carries :data:`KERNEL_SOURCES_STAMP`,
a hash of the callees' sources; ``tests/matcher/fingerprint/test_kernel_cache_stamps.py``
fails when it is stale, and updating it (an edit of this file) invalidates
the cached code. Compiling these kernels takes about 15 s, so caching them
matters to every command-line call and service start.

It runs exactly the per-pair kernels of :func:`..matcher.match` on views of
concatenated candidate arrays, so its scores equal the pairwise ones; the
test ``test_score_many_equals_pairwise`` checks that.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._kernels import _wrap
from ._pairing import orientation_agreement, pair_minutiae
from ._relaxation import compare_cylinders

#: sha256[:16] of _kernels.py, _pairing.py, _popcount.py and _relaxation.py (see the module docstring).
KERNEL_SOURCES_STAMP = "350bd3841ebc6fbd"

# layout of the parameter vector
P_MAX_DIR, P_MIN_BITS, P_ITER, P_WEIGHT, P_MU1, P_TAU1, P_MU2, P_TAU2, P_MU3, P_TAU3 = range(10)
P_SEEDS, P_TOL_PX, P_TOL_SLOPE, P_TOL_RAD, P_MIN_OVERLAP, P_MIN_NP, P_MAX_NP, P_TAU_P, P_MU_P = range(10, 19)
P_OF_WEIGHT, P_OF_MISSING = 19, 20
N_PARAMS = 21


@njit(cache=True, nogil=True)
def n_pairs(na, nb, prm):
    """Number of pairs nP averaged into the local score (Cappelli et al. 2010, eq. 24)."""
    z = 1.0 / (1.0 + math.exp(-prm[P_TAU_P] * (min(na, nb) - prm[P_MU_P])))
    return int(prm[P_MIN_NP] + math.floor(z * (prm[P_MAX_NP] - prm[P_MIN_NP]) + 0.5))


@njit(cache=True, nogil=True)
def finish_score(local, paired, seed_a, seed_b, all_xa, all_ya, all_ta, oa, blocka,
                 all_xb, all_yb, all_tb, ob, blockb, prm):
    """Final score from the local score, the pairing score and the orientation-field agreement
    under the best seed's alignment (``seed_a``, ``seed_b``: rows of the full templates)."""
    if local <= 0.0 or paired <= 0.0:
        return 0.0
    if oa.size == 0 or ob.size == 0:
        agree = prm[P_OF_MISSING]
    else:
        rot = _wrap(all_ta[seed_a] - all_tb[seed_b])
        agree, count = orientation_agreement(oa, blocka, ob, blockb, all_xa[seed_a], all_ya[seed_a],
                                             all_xb[seed_b], all_yb[seed_b], rot)
        if count == 0:
            agree = 0.0
    if agree <= 0.0:
        return 0.0
    return math.sqrt(local * paired) * agree ** prm[P_OF_WEIGHT]


@njit(cache=True, nogil=True)
def compare_one(bits_a, valid_a, counts_a, cells_a, xa, ya, ta, index_a, all_xa, all_ya, all_ta, fga, blocka, oa,
                oblocka, bits_b, valid_b, counts_b, cells_b, xb, yb, tb, index_b, all_xb, all_yb, all_tb, fgb, blockb,
                ob, oblockb, prm):
    """Score of one pair and its paired minutiae (rows of the full templates); B's ``valid_b`` and
    ``counts_b`` are not needed (see :func:`._kernels.similarity_matrix`)."""
    na = bits_a.shape[0]
    nb = bits_b.shape[0]
    empty = np.zeros(0, np.int64)
    if na == 0 or nb == 0:
        return 0.0, empty, empty
    local, pa, pb = compare_cylinders(
        bits_a, valid_a, counts_a, cells_a, xa, ya, ta, bits_b, cells_b, xb, yb, tb,
        prm[P_MAX_DIR], int(prm[P_MIN_BITS]), n_pairs(na, nb, prm), int(prm[P_ITER]), prm[P_WEIGHT],
        prm[P_MU1], prm[P_TAU1], prm[P_MU2], prm[P_TAU2], prm[P_MU3], prm[P_TAU3],
    )
    if local <= 0.0:
        return 0.0, empty, empty
    seeds = min(int(prm[P_SEEDS]), pa.size)
    sa = np.empty(seeds, np.int64)
    sb = np.empty(seeds, np.int64)
    for q in range(seeds):
        sa[q] = index_a[pa[q]]
        sb[q] = index_b[pb[q]]
    paired, qa, qb, best = pair_minutiae(all_xa, all_ya, all_ta, fga, blocka, all_xb, all_yb, all_tb, fgb, blockb,
                                         sa, sb, prm[P_TOL_PX], prm[P_TOL_SLOPE], prm[P_TOL_RAD],
                                         int(prm[P_MIN_OVERLAP]))
    if best < 0:
        return 0.0, empty, empty
    value = finish_score(local, paired, sa[best], sb[best], all_xa, all_ya, all_ta, oa, oblocka,
                         all_xb, all_yb, all_tb, ob, oblockb, prm)
    return value, qa.copy(), qb.copy()


@njit(cache=True, nogil=True)
def _widen(values):
    out = np.empty(values.shape[0], np.float64)
    for i in range(values.shape[0]):
        out[i] = values[i]
    return out


@njit(cache=True, nogil=True)
def _local(bits_a, valid_a, counts_a, cells_a, xa, ya, ta, index_a, c, cyl_off, bits, cells, index, min_off, all_x,
           all_y, all_t, prm):
    """Local score of candidate ``c`` and its seeds (rows of the candidate's template).

    The cylinders' minutiae are rows ``index`` of the candidate's minutiae, so
    their coordinates are read there (the gallery does not store them twice).
    """
    c0, c1 = cyl_off[c], cyl_off[c + 1]
    nb = c1 - c0
    empty = np.zeros(0, np.int64)
    if bits_a.shape[0] == 0 or nb == 0:
        return 0.0, empty, empty
    m0 = min_off[c]
    xb = np.empty(nb, np.float64)
    yb = np.empty(nb, np.float64)
    tb = np.empty(nb, np.float64)
    for k in range(nb):
        r = m0 + index[c0 + k]
        xb[k] = all_x[r]
        yb[k] = all_y[r]
        tb[k] = all_t[r]
    value, pa, pb = compare_cylinders(
        bits_a, valid_a, counts_a, cells_a, xa, ya, ta, bits[c0:c1], cells[c0:c1], xb, yb, tb, prm[P_MAX_DIR],
        int(prm[P_MIN_BITS]),
        n_pairs(bits_a.shape[0], nb, prm), int(prm[P_ITER]), prm[P_WEIGHT], prm[P_MU1], prm[P_TAU1], prm[P_MU2],
        prm[P_TAU2], prm[P_MU3], prm[P_TAU3],
    )
    s = min(int(prm[P_SEEDS]), pa.size)
    sa = np.empty(s, np.int64)
    sb = np.empty(s, np.int64)
    for q in range(s):
        sa[q] = index_a[pa[q]]
        sb[q] = index[c0 + pb[q]]
    return value, sa, sb


@njit(cache=True, nogil=True)
def _final(local, sa, sb, all_xa, all_ya, all_ta, fga, blocka, oa, oblocka, c, min_off, all_x, all_y, all_t,
           fg_off, fg_shape, fg_block, fg_flat, or_off, or_shape, or_block, or_flat, prm):
    """Final score of candidate ``c`` from its local score and seeds (pairing, orientation agreement)."""
    if local <= 0.0 or sa.size == 0:
        return 0.0
    m0, m1 = min_off[c], min_off[c + 1]
    bx = _widen(all_x[m0:m1])
    by = _widen(all_y[m0:m1])
    bt = _widen(all_t[m0:m1])
    fg = fg_flat[fg_off[c]:fg_off[c + 1]].reshape(fg_shape[c, 0], fg_shape[c, 1])
    paired, _, _, best = pair_minutiae(all_xa, all_ya, all_ta, fga, blocka, bx, by, bt, fg, fg_block[c], sa, sb,
                                       prm[P_TOL_PX], prm[P_TOL_SLOPE], prm[P_TOL_RAD], int(prm[P_MIN_OVERLAP]))
    if best < 0:
        return 0.0
    ob = or_flat[or_off[c]:or_off[c + 1]].reshape(or_shape[c, 0], or_shape[c, 1])
    return finish_score(local, paired, sa[best], sb[best], all_xa, all_ya, all_ta, oa, oblocka, bx, by, bt, ob,
                        or_block[c], prm)


@njit(cache=True, nogil=True)
def score_gallery(bits_a, valid_a, counts_a, cells_a, xa, ya, ta, index_a, all_xa, all_ya, all_ta, fga, blocka, oa,
                  oblocka, positions, cyl_off, bits, cells, index, min_off, all_x, all_y, all_t,
                  fg_off, fg_shape, fg_block, fg_flat, or_off, or_shape, or_block, or_flat, prm):
    """Scores of the probe (``*_a``) against the candidates ``positions`` of a concatenated gallery.

    Candidate c owns cylinder rows ``cyl_off[c]:cyl_off[c+1]`` (their
    minutiae: rows ``index`` of its minutiae), minutiae rows
    ``min_off[c]:min_off[c+1]``, foreground blocks ``fg_off[c]:fg_off[c+1]``
    of ``fg_flat`` (shape ``fg_shape[c]``, ``fg_block[c]`` pixels) and
    orientation codes ``or_off[c]:or_off[c+1]`` of ``or_flat`` (shape
    ``or_shape[c]``, ``or_block[c]`` pixels). The gallery keeps coordinates
    as float32 (the template's precision; widened to float64 here), cell
    validity without its layer replication (a candidate's similarities need
    only its cell words) and orientations as degree codes, so scores equal
    the pairwise ones.
    """
    out = np.zeros(positions.shape[0], np.float64)
    for q in range(positions.shape[0]):
        c = positions[q]
        local, sa, sb = _local(bits_a, valid_a, counts_a, cells_a, xa, ya, ta, index_a, c, cyl_off, bits, cells,
                               index, min_off, all_x, all_y, all_t, prm)
        out[q] = _final(local, sa, sb, all_xa, all_ya, all_ta, fga, blocka, oa, oblocka, c, min_off, all_x, all_y,
                        all_t, fg_off, fg_shape, fg_block, fg_flat, or_off, or_shape, or_block, or_flat, prm)
    return out


@njit(cache=True, nogil=True)
def top_gallery(bits_a, valid_a, counts_a, cells_a, xa, ya, ta, index_a, all_xa, all_ya, all_ta, fga, blocka, oa,
                oblocka, positions, cyl_off, bits, cells, index, min_off, all_x, all_y, all_t,
                fg_off, fg_shape, fg_block, fg_flat, or_off, or_shape, or_block, or_flat, prm, k):
    """The ``k`` best of the candidates ``positions`` (increasing), exactly as :func:`score_gallery` ranks them.

    The final score is ``sqrt(local * paired) * agreement ** w`` with
    ``paired <= 1`` and ``agreement <= 1``, so ``sqrt(local)`` bounds it. Local scores are computed for every candidate;
    the pairing stage then runs in decreasing order of local score and stops
    once the bound falls below the k-th best final score found: the result
    equals sorting the full :func:`score_gallery` output (ties by gallery position).

    Returns
    -------
    ids : (m,) int64, gallery positions, best first (m <= k).
    scores : (m,) float64, their final scores.
    paired : int, how many candidates went through the pairing stage.
    """
    n = positions.shape[0]
    seeds_max = max(int(prm[P_SEEDS]), 1)
    local = np.zeros(n, np.float64)
    seed_a = np.zeros((n, seeds_max), np.int64)
    seed_b = np.zeros((n, seeds_max), np.int64)
    n_seeds = np.zeros(n, np.int64)
    for q in range(n):
        value, sa, sb = _local(bits_a, valid_a, counts_a, cells_a, xa, ya, ta, index_a, positions[q], cyl_off, bits,
                               cells, index, min_off, all_x, all_y, all_t, prm)
        local[q] = value
        n_seeds[q] = sa.size
        seed_a[q, :sa.size] = sa
        seed_b[q, :sb.size] = sb
    # decreasing local score, ties by gallery position (positions are increasing)
    order = np.argsort(-local, kind="mergesort")
    best_s = np.full(max(k, 1), -1.0)
    best_i = np.full(max(k, 1), -1, np.int64)
    count = 0
    done = 0
    for r in range(n):
        q = order[r]
        if local[q] <= 0.0:
            break
        if count == k and math.sqrt(local[q]) < best_s[k - 1]:
            break
        c = positions[q]
        s = n_seeds[q]
        value = _final(local[q], seed_a[q, :s], seed_b[q, :s], all_xa, all_ya, all_ta, fga, blocka, oa, oblocka, c,
                       min_off, all_x, all_y, all_t, fg_off, fg_shape, fg_block, fg_flat, or_off, or_shape, or_block,
                       or_flat, prm)
        done += 1
        if value <= 0.0:
            continue
        # insert (value, c) into the sorted top list: higher value first, then lower position
        pos = count if count < k else k
        while pos > 0 and (best_s[pos - 1] < value or (best_s[pos - 1] == value and best_i[pos - 1] > c)):
            if pos < k:
                best_s[pos] = best_s[pos - 1]
                best_i[pos] = best_i[pos - 1]
            pos -= 1
        if pos < k:
            best_s[pos] = value
            best_i[pos] = c
            if count < k:
                count += 1
    return best_i[:count].copy(), best_s[:count].copy(), done
