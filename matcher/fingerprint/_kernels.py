"""Numba kernels of the MCC matcher. No validation: the wrappers own it.

Each kernel has an independent plain-numpy twin in :mod:`._reference`;
``tests/matcher/fingerprint/test_kernels.py`` checks that they agree.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._popcount import popcount64


@njit(cache=True, nogil=True)
def _wrap(a):
    """Wrap an angle to [-pi, pi)."""
    two_pi = 2.0 * math.pi
    a = a + math.pi
    a = a - two_pi * math.floor(a / two_pi)
    return a - math.pi


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
    valid_cells : (n,) int64, number of valid cells.
    neighbours : (n,) int64, minutiae within ``neighbour_radius``.
    """
    n = x.shape[0]
    m = offsets.shape[0]
    bits = np.zeros((n, words), dtype=np.uint64)
    valid = np.zeros((n, words), dtype=np.uint64)
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
    return bits, valid, valid_cells, neighbours


@njit(cache=True, nogil=True)
def similarity_matrix(bits_a, valid_a, angle_a, bits_b, valid_b, angle_b, max_dir, min_matchable_bits):
    """Local similarities of all cylinder pairs (binary MCC).

    ``sim[i, j] = 1 - sqrt(|a^b|) / (sqrt(|a|) + sqrt(|b|))`` over the bits
    valid in both cylinders; 0 where the directions differ by more than
    ``max_dir`` or fewer than ``min_matchable_bits`` bits are valid in both.
    """
    na = bits_a.shape[0]
    nb = bits_b.shape[0]
    words = bits_a.shape[1]
    sim = np.zeros((na, nb), dtype=np.float32)
    for i in range(na):
        for j in range(nb):
            if abs(_wrap(angle_a[i] - angle_b[j])) > max_dir:
                continue
            both = np.uint64(0)
            ca = np.uint64(0)
            cb = np.uint64(0)
            cx = np.uint64(0)
            for w in range(words):
                va = valid_a[i, w]
                vb = valid_b[j, w]
                ta = bits_a[i, w] & vb
                tb = bits_b[j, w] & va
                both += popcount64(va & vb)
                ca += popcount64(ta)
                cb += popcount64(tb)
                cx += popcount64(ta ^ tb)
            if both < min_matchable_bits:
                continue
            denom = math.sqrt(ca) + math.sqrt(cb)
            if denom > 0:
                sim[i, j] = 1.0 - math.sqrt(cx) / denom
    return sim


@njit(cache=True, nogil=True)
def _sigmoid(v, mu, tau):
    return 1.0 / (1.0 + math.exp(-tau * (v - mu)))


@njit(cache=True, nogil=True)
def relaxed_pairs(sim, xa, ya, ta, xb, yb, tb, n_relax, iterations, weight,
                  mu1, tau1, mu2, tau2, mu3, tau3):
    """Local Similarity Sort with Relaxation (LSS-R) of Cappelli et al. 2010.

    Returns
    -------
    pa, pb : (r,) int64, the ``n_relax`` most similar pairs (LSS order).
    lam0 : (r,) float64, their local similarities.
    lam : (r,) float64, similarities after relaxation.
    """
    na, nb = sim.shape
    flat = sim.ravel()
    r = min(n_relax, na * nb)
    order = np.argsort(-flat, kind="mergesort")[:r]
    count = 0
    for t in range(r):
        if flat[order[t]] <= 0:
            break
        count += 1
    pa = np.empty(count, dtype=np.int64)
    pb = np.empty(count, dtype=np.int64)
    lam0 = np.empty(count, dtype=np.float64)
    for t in range(count):
        pa[t] = order[t] // nb
        pb[t] = order[t] % nb
        lam0[t] = flat[order[t]]
    rho = np.zeros((count, count), dtype=np.float64)
    for t in range(count):
        for k in range(t + 1, count):
            ia, ka = pa[t], pa[k]
            ib, kb = pb[t], pb[k]
            dax = xa[ka] - xa[ia]
            day = ya[ka] - ya[ia]
            dbx = xb[kb] - xb[ib]
            dby = yb[kb] - yb[ib]
            d1 = abs(math.sqrt(dax * dax + day * day) - math.sqrt(dbx * dbx + dby * dby))
            d2 = abs(_wrap(_wrap(ta[ia] - ta[ka]) - _wrap(tb[ib] - tb[kb])))
            ra = _wrap(ta[ia] - math.atan2(-day, -dax))
            rb = _wrap(tb[ib] - math.atan2(-dby, -dbx))
            d3 = abs(_wrap(ra - rb))
            v = _sigmoid(d1, mu1, tau1) * _sigmoid(d2, mu2, tau2) * _sigmoid(d3, mu3, tau3)
            rho[t, k] = v
            rho[k, t] = v
    lam = lam0.copy()
    nxt = np.empty(count, dtype=np.float64)
    if count > 1:
        for _ in range(iterations):
            for t in range(count):
                acc = 0.0
                for k in range(count):
                    acc += rho[t, k] * lam[k]
                nxt[t] = weight * lam[t] + (1.0 - weight) * acc / (count - 1)
            lam[:] = nxt
    return pa, pb, lam0, lam
