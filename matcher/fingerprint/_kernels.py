"""Numba kernels of the MCC matcher: cylinders and their similarities. No validation: the wrappers own it.

Each kernel has an independent plain-numpy twin in :mod:`._reference`;
``tests/matcher/fingerprint/test_kernels_matcher.py`` checks that they agree.
The consolidation of the similarities (LSS-R) is in :mod:`._relaxation`.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._popcount import float32_bits, float32_from_bits, popcount64, trailing_zeros64

#: sha256[:16] of _popcount.py, whose intrinsics these kernels use: Numba's cache notices
#: changes to this file only (see :mod:`._batch`).
KERNEL_SOURCES_STAMP = "f2d6fbc2e0722e09"


@njit(cache=True, nogil=True)
def _wrap(a):
    """Wrap an angle to [-pi, pi)."""
    two_pi = 2.0 * math.pi
    a = a + math.pi
    a = a - two_pi * math.floor(a / two_pi)
    return a - math.pi


@njit(cache=True, nogil=True)
def _wrap_near(a):
    """Wrap an angle known to lie in [-3 pi, 3 pi) to [-pi, pi) without division. Written as selects
    (no branch to mispredict where the angles are random, as in the pairing's direction test)."""
    a = a - 2.0 * math.pi if a >= math.pi else a
    return a + 2.0 * math.pi if a < -math.pi else a


@njit(cache=True, nogil=True)
def build_cylinders(x, y, angle, foreground, block_px, offsets, layers, sigma_s, sigma_d, mu_psi,
                    neighbour_radius, words):
    """Binary Minutia Cylinder-Codes of every minutia.

    Parameters
    ----------
    x, y, angle : (n,) float64, minutiae (x right, y down, radians).
    foreground : (R, C) uint8, 1 where the block at (row, col) is foreground.
    block_px : int, block size of ``foreground``.
    offsets : (m, 2) float64, cell centres (dx, dy) in the minutia frame, inside the radius.
    layers : int, direction layers.
    sigma_s, sigma_d, mu_psi : float, MCC contribution parameters.
    neighbour_radius : float, neighbours farther than this never contribute.
    words : int, uint64 words per cylinder (>= ceil(m * layers / 64)).

    Returns
    -------
    bits : (n, words) uint64, cell-layer bits (bit = cell * layers + layer).
    valid : (n, words) uint64, validity of each bit's cell, replicated over layers.
    cells : (n, ceil(m / 64)) uint64, validity of each cell (bit = cell).
    valid_cells : (n,) int64, number of valid cells.
    neighbours : (n,) int64, minutiae within ``neighbour_radius``.
    """
    n = x.shape[0]
    m = offsets.shape[0]
    bits = np.zeros((n, words), dtype=np.uint64)
    valid = np.zeros((n, words), dtype=np.uint64)
    cells = np.zeros((n, (m + 63) // 64), dtype=np.uint64)
    valid_cells = np.zeros(n, dtype=np.int64)
    neighbours = np.zeros(n, dtype=np.int64)
    fr, fc = foreground.shape
    delta_d = 2.0 * math.pi / layers
    norm_s = 1.0 / (sigma_s * math.sqrt(2.0 * math.pi))
    reach2 = (3.0 * sigma_s) ** 2
    root2sd = sigma_d * math.sqrt(2.0)
    gd = np.zeros(layers, dtype=np.float64)
    acc = np.zeros((m, layers), dtype=np.float64)
    px = np.zeros(m, dtype=np.float64)
    py = np.zeros(m, dtype=np.float64)
    for i in range(n):
        c = math.cos(angle[i])
        s = math.sin(angle[i])
        for j in range(m):
            px[j] = x[i] + c * offsets[j, 0] - s * offsets[j, 1]
            py[j] = y[i] + s * offsets[j, 0] + c * offsets[j, 1]
            br = int(math.floor(py[j] / block_px))
            bc = int(math.floor(px[j] / block_px))
            if 0 <= br < fr and 0 <= bc < fc and foreground[br, bc] != 0:
                valid_cells[i] += 1
                cells[i, j >> 6] |= np.uint64(1) << np.uint64(j & 63)
                for k in range(layers):
                    b = j * layers + k
                    valid[i, b >> 6] |= np.uint64(1) << np.uint64(b & 63)
        acc[:, :] = 0.0
        for t in range(n):
            if t == i:
                continue
            dx = x[t] - x[i]
            dy = y[t] - y[i]
            if dx * dx + dy * dy > neighbour_radius * neighbour_radius:
                continue
            neighbours[i] += 1
            dtheta = _wrap(angle[t] - angle[i])
            for k in range(layers):
                centre = -math.pi + (k + 0.5) * delta_d
                diff = _wrap(centre - dtheta)
                gd[k] = 0.5 * (math.erf((diff + 0.5 * delta_d) / root2sd) - math.erf((diff - 0.5 * delta_d) / root2sd))
            for j in range(m):
                ex = px[j] - x[t]
                ey = py[j] - y[t]
                d2 = ex * ex + ey * ey
                if d2 > reach2:
                    continue
                gs = norm_s * math.exp(-0.5 * d2 / (sigma_s * sigma_s))
                for k in range(layers):
                    acc[j, k] += gs * gd[k]
        for j in range(m):
            for k in range(layers):
                if acc[j, k] > mu_psi:
                    b = j * layers + k
                    bits[i, b >> 6] |= np.uint64(1) << np.uint64(b & 63)
        for w in range(words):
            bits[i, w] &= valid[i, w]
    return bits, valid, cells, valid_cells, neighbours


#: square roots of the bit counts a cylinder pair can have (cylinders hold a few dozen set bits;
#: larger counts take ``math.sqrt``, which gives the same value): a load instead of a square root
_SQRT_COUNT = np.sqrt(np.arange(1024, dtype=np.float64))


@njit(cache=True, nogil=True)
def _sqrt_count(n):
    """``math.sqrt(n)`` of a bit count, from :data:`_SQRT_COUNT` where it reaches."""
    k = np.int64(n)
    return _SQRT_COUNT[k] if k < _SQRT_COUNT.size else math.sqrt(k)


@njit(cache=True, nogil=True, inline="always")
def _reduced(angle):
    """Angles reduced to [0, 2 pi)."""
    two_pi = 2.0 * math.pi
    out = np.empty(angle.shape[0], np.float64)
    for i in range(angle.shape[0]):
        out[i] = angle[i] - two_pi * math.floor(angle[i] / two_pi)
    return out


@njit(cache=True, nogil=True, inline="always")
def _direction_mask(ri, red_b, j0, nb, loose, far):
    """Bit ``j - j0`` set for each column ``j`` in ``j0 .. j0 + 63`` whose reduced direction is within
    ``loose`` of ``ri`` (a difference of at least ``far`` wraps round). Branch-free: vectorised."""
    mask = np.uint64(0)
    for j in range(j0, min(j0 + 64, nb)):
        d = abs(ri - red_b[j])
        mask |= np.uint64((d <= loose) | (d >= far)) << np.uint64(j - j0)
    return mask


@njit(cache=True, nogil=True, inline="always")
def _similarity(ca, cb, ab):
    """``1 - sqrt(|a' ^ b'|) / (sqrt(|a'|) + sqrt(|b'|))`` from the three counts (0 if both are empty)."""
    cx = ca + cb - (ab << np.uint64(1))
    denom = _sqrt_count(ca) + _sqrt_count(cb)
    return 1.0 - _sqrt_count(cx) / denom if denom > 0 else 0.0


_LOW32 = np.uint64(0xFFFFFFFF)


@njit(cache=True, nogil=True, inline="always")
def similarity_key(value, flat):
    """The sort key of a positive float32 similarity at flat index ``flat`` (row * columns + column).

    The value's bits (which order like the values, all being positive) above the complement of
    the index: a larger key is a larger similarity or, at equal similarity, a lower index.
    """
    return (np.uint64(float32_bits(value)) << np.uint64(32)) | (_LOW32 - np.uint64(flat))


@njit(cache=True, nogil=True, inline="always")
def key_value(key):
    """The similarity of a :func:`similarity_key` (a float32)."""
    return float32_from_bits(np.uint32(key >> np.uint64(32)))


@njit(cache=True, nogil=True, inline="always")
def key_index(key):
    """The flat index of a :func:`similarity_key`."""
    return np.int64(_LOW32 - (key & _LOW32))


@njit(cache=True, nogil=True)
def similarity_matrix(bits_a, valid_a, counts_a, cells_a, angle_a, bits_b, cells_b, angle_b, max_dir,
                      min_matchable_cells):
    """Local similarities of all cylinder pairs (binary MCC), as a matrix: the
    :func:`similarity_keys` spread out, 0 elsewhere."""
    keys, size = similarity_keys(bits_a, valid_a, counts_a, cells_a, angle_a, bits_b, cells_b, angle_b, max_dir,
                                 min_matchable_cells)
    sim = np.zeros((bits_a.shape[0], bits_b.shape[0]), dtype=np.float32)
    flat = sim.ravel()
    for q in range(size):
        flat[key_index(keys[q])] = key_value(keys[q])
    return sim


@njit(cache=True, nogil=True)
def similarity_keys(bits_a, valid_a, counts_a, cells_a, angle_a, bits_b, cells_b, angle_b, max_dir,
                    min_matchable_cells):
    """Local similarities of all cylinder pairs (binary MCC), the positive ones as sort keys.

    ``sim[i, j] = 1 - sqrt(|a^b|) / (sqrt(|a|) + sqrt(|b|))`` over the bits
    valid in both cylinders; 0 where the directions differ by more than
    ``max_dir`` or fewer than ``min_matchable_cells`` cells are valid in both
    (checked first, on the cell-validity words). The local stage needs the
    largest of them only, so they come out as :func:`similarity_key` values
    (float32 similarity, flat index ``i * nb + j``) of the positive ones:
    no matrix to clear and scan.

    Parameters
    ----------
    bits_a, valid_a : (na, words) uint64, A's cylinders and their validity replicated over the layers.
    counts_a : (na, planes * cell words) uint64, A's per-cell counts of set bits, bit-sliced
        (:func:`..cylinders.cell_count_planes`).
    cells_a, cells_b : (n, cell words) uint64, cell validity.
    bits_b : (nb, words) uint64, B's cylinders (B needs no replicated validity).

    Returns
    -------
    keys : (na * nb,) uint64, the keys in ``keys[:size]`` (row by row, then by column).
    size : int

    Notes
    -----
    Cylinder bits lie inside their own validity (``build_cylinders`` masks
    them), so with ``a' = a & valid_b`` and ``b' = b & valid_a``:
    ``|a'| = sum_p 2^p |plane_p(a) & cells_b|`` (cell words, not layer
    words), ``|b'| = |b & valid_a|`` and ``|a' ^ b'| = |a'| + |b'| - 2 |a & b|``.
    Exact integer identities: the values equal the three masked popcounts of
    the definition.

    The default geometry (12 cells, 6 layers: 11 words, 2 cell words, 3
    count planes) has its own copy of the loop, with the counts spelt out term
    by term. Written as loops over words, the counts are vectorised by LLVM
    with byte shuffles (AVX2 has no vector popcount), which on a CPU with a
    fast scalar ``popcnt`` is slower: on the AMD EPYC (Zen 3) of the
    benchmarks the spelt-out copy takes 0.77 of the time. Both give the same
    integers, hence the same similarities.
    """
    cw = cells_a.shape[1]
    planes = counts_a.shape[1] // cw if cw > 0 else 0
    if bits_a.shape[1] == 11 and cw == 2 and planes == 3:
        return _similarities_11_2_3(bits_a, valid_a, counts_a, cells_a, angle_a, bits_b, cells_b, angle_b, max_dir,
                                    min_matchable_cells)
    return _similarities_any(bits_a, valid_a, counts_a, cells_a, angle_a, bits_b, cells_b, angle_b, max_dir,
                             min_matchable_cells)


# A branch-free pass (vectorised by the compiler) marks, 64 columns at a time, the pairs that pass
# a slightly looser direction test; the exact test then runs on the marked pairs only. With
# directions reduced to [0, 2 pi), a difference d lies in (-2 pi, 2 pi), so its wrapped size is
# |d| or 2 pi - |d|: no division per pair.


@njit(cache=True, nogil=True)
def _similarities_any(bits_a, valid_a, counts_a, cells_a, angle_a, bits_b, cells_b, angle_b, max_dir,
                      min_matchable_cells):
    """:func:`similarity_keys` for any cylinder geometry."""
    na = bits_a.shape[0]
    nb = bits_b.shape[0]
    words = bits_a.shape[1]
    cw = cells_a.shape[1]
    planes = counts_a.shape[1] // cw if cw > 0 else 0
    keys = np.empty(na * nb, np.uint64)
    size = 0
    red_a = _reduced(angle_a)
    red_b = _reduced(angle_b)
    loose = max_dir + 1e-9
    far = 2.0 * math.pi - loose
    for i in range(na):
        ai = angle_a[i]
        row_bits, row_valid, row_counts, row_cells = bits_a[i], valid_a[i], counts_a[i], cells_a[i]
        for j0 in range(0, nb, 64):
            mask = _direction_mask(red_a[i], red_b, j0, nb, loose, far)
            while mask != 0:
                j = j0 + np.int64(trailing_zeros64(mask))
                mask &= mask - np.uint64(1)
                if abs(_wrap_near(ai - angle_b[j])) > max_dir:
                    continue
                col_cells = cells_b[j]
                both = np.uint64(0)
                for w in range(cw):
                    both += popcount64(row_cells[w] & col_cells[w])
                if both < min_matchable_cells:
                    continue
                col_bits = bits_b[j]
                ca = np.uint64(0)
                for p in range(planes):
                    plane = np.uint64(0)
                    for w in range(cw):
                        plane += popcount64(row_counts[p * cw + w] & col_cells[w])
                    ca += plane << np.uint64(p)
                cb = np.uint64(0)
                ab = np.uint64(0)
                for w in range(words):
                    cb += popcount64(col_bits[w] & row_valid[w])
                    ab += popcount64(row_bits[w] & col_bits[w])
                value = np.float32(_similarity(ca, cb, ab))
                keys[size] = similarity_key(value, i * nb + j)  # written always, kept if positive
                size += value > 0
    return keys, size


@njit(cache=True, nogil=True)
def _similarities_11_2_3(bits_a, valid_a, counts_a, cells_a, angle_a, bits_b, cells_b, angle_b, max_dir,
                         min_matchable_cells):
    """:func:`similarity_keys` for 11 words, 2 cell words and 3 count planes, spelt out."""
    na = bits_a.shape[0]
    nb = bits_b.shape[0]
    keys = np.empty(na * nb, np.uint64)
    size = 0
    red_a = _reduced(angle_a)
    red_b = _reduced(angle_b)
    loose = max_dir + 1e-9
    far = 2.0 * math.pi - loose
    for i in range(na):
        ai = angle_a[i]
        a, v, n = bits_a[i], valid_a[i], counts_a[i]
        a_c0, a_c1 = cells_a[i, 0], cells_a[i, 1]
        for j0 in range(0, nb, 64):
            mask = _direction_mask(red_a[i], red_b, j0, nb, loose, far)
            while mask != 0:
                j = j0 + np.int64(trailing_zeros64(mask))
                mask &= mask - np.uint64(1)
                if abs(_wrap_near(ai - angle_b[j])) > max_dir:
                    continue
                c0 = cells_b[j, 0]
                c1 = cells_b[j, 1]
                if popcount64(a_c0 & c0) + popcount64(a_c1 & c1) < min_matchable_cells:
                    continue
                b = bits_b[j]
                ca = ((popcount64(n[0] & c0) + popcount64(n[1] & c1))
                      + ((popcount64(n[2] & c0) + popcount64(n[3] & c1)) << np.uint64(1))
                      + ((popcount64(n[4] & c0) + popcount64(n[5] & c1)) << np.uint64(2)))
                cb = (popcount64(b[0] & v[0]) + popcount64(b[1] & v[1]) + popcount64(b[2] & v[2])
                      + popcount64(b[3] & v[3]) + popcount64(b[4] & v[4]) + popcount64(b[5] & v[5])
                      + popcount64(b[6] & v[6]) + popcount64(b[7] & v[7]) + popcount64(b[8] & v[8])
                      + popcount64(b[9] & v[9]) + popcount64(b[10] & v[10]))
                ab = (popcount64(b[0] & a[0]) + popcount64(b[1] & a[1]) + popcount64(b[2] & a[2])
                      + popcount64(b[3] & a[3]) + popcount64(b[4] & a[4]) + popcount64(b[5] & a[5])
                      + popcount64(b[6] & a[6]) + popcount64(b[7] & a[7]) + popcount64(b[8] & a[8])
                      + popcount64(b[9] & a[9]) + popcount64(b[10] & a[10]))
                value = np.float32(_similarity(ca, cb, ab))
                keys[size] = similarity_key(value, i * nb + j)  # written always, kept if positive
                size += value > 0
    return keys, size
