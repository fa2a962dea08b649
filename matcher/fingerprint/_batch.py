"""Numba kernel: one prepared probe against many prepared candidates in one call.

These functions call kernels of other modules, and Numba's on-disk cache
does not notice when a callee in another file changes: a cached caller would
keep the old callee inlined. So they are compiled once per process
(``cache=False``), from the callees' cached code.

It runs exactly the per-pair kernels of :func:`..matcher.match` on views of
concatenated candidate arrays, so its scores equal the pairwise ones; the
test ``test_score_many_equals_pairwise`` checks that.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._kernels import compare_cylinders
from ._pairing import pair_minutiae

# layout of the parameter vector
P_MAX_DIR, P_MIN_BITS, P_ITER, P_WEIGHT, P_MU1, P_TAU1, P_MU2, P_TAU2, P_MU3, P_TAU3 = range(10)
P_SEEDS, P_TOL_PX, P_TOL_SLOPE, P_TOL_RAD, P_MIN_OVERLAP, P_MIN_NP, P_MAX_NP, P_TAU_P, P_MU_P = range(10, 19)
N_PARAMS = 19


@njit(cache=False, nogil=True)
def n_pairs(na, nb, prm):
    """Number of pairs nP averaged into the local score (Cappelli et al. 2010, eq. 24)."""
    z = 1.0 / (1.0 + math.exp(-prm[P_TAU_P] * (min(na, nb) - prm[P_MU_P])))
    return int(prm[P_MIN_NP] + math.floor(z * (prm[P_MAX_NP] - prm[P_MIN_NP]) + 0.5))


@njit(cache=False, nogil=True)
def compare_one(bits_a, valid_a, cells_a, xa, ya, ta, index_a, all_xa, all_ya, all_ta, fga, blocka,
                bits_b, valid_b, cells_b, xb, yb, tb, index_b, all_xb, all_yb, all_tb, fgb, blockb, prm):
    """Score of one pair and its paired minutiae (rows of the full templates)."""
    na = bits_a.shape[0]
    nb = bits_b.shape[0]
    empty = np.zeros(0, np.int64)
    if na == 0 or nb == 0:
        return 0.0, empty, empty
    local, pa, pb = compare_cylinders(
        bits_a, valid_a, cells_a, xa, ya, ta, bits_b, valid_b, cells_b, xb, yb, tb,
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
    paired, qa, qb = pair_minutiae(all_xa, all_ya, all_ta, fga, blocka, all_xb, all_yb, all_tb, fgb, blockb,
                                   sa, sb, prm[P_TOL_PX], prm[P_TOL_SLOPE], prm[P_TOL_RAD], int(prm[P_MIN_OVERLAP]))
    return math.sqrt(local * paired), qa, qb


@njit(cache=False, nogil=True)
def score_gallery(bits_a, valid_a, cells_a, xa, ya, ta, index_a, all_xa, all_ya, all_ta, fga, blocka,
                  cyl_off, bits, valid, cells, x, y, t, index, min_off, all_x, all_y, all_t,
                  fg_off, fg_shape, fg_block, fg_flat, prm):
    """Scores of the probe (``*_a``) against every candidate of a concatenated gallery.

    Candidate c owns cylinder rows ``cyl_off[c]:cyl_off[c+1]``, minutiae
    rows ``min_off[c]:min_off[c+1]`` and foreground cells
    ``fg_off[c]:fg_off[c+1]`` of ``fg_flat`` (shape ``fg_shape[c]``).
    """
    n = cyl_off.shape[0] - 1
    out = np.zeros(n, np.float64)
    for c in range(n):
        c0, c1 = cyl_off[c], cyl_off[c + 1]
        m0, m1 = min_off[c], min_off[c + 1]
        fg = fg_flat[fg_off[c]:fg_off[c + 1]].reshape(fg_shape[c, 0], fg_shape[c, 1])
        value, _, _ = compare_one(
            bits_a, valid_a, cells_a, xa, ya, ta, index_a, all_xa, all_ya, all_ta, fga, blocka,
            bits[c0:c1], valid[c0:c1], cells[c0:c1], x[c0:c1], y[c0:c1], t[c0:c1], index[c0:c1],
            all_x[m0:m1], all_y[m0:m1], all_t[m0:m1], fg, fg_block[c], prm,
        )
        out[c] = value
    return out
