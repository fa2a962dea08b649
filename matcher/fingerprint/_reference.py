"""Plain-numpy twins of the matcher's Numba kernels, for tests only.

Written independently of :mod:`._kernels` (vectorised where the kernels
loop), so agreement between the two is evidence that both are right.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import erf


def wrap(a):
    return np.mod(np.asarray(a, np.float64) + np.pi, 2 * np.pi) - np.pi


def build_cylinders_reference(x, y, angle, foreground, block_px, offsets, layers, sigma_s, sigma_d, mu_psi,
                              neighbour_radius):
    """Cell values as booleans (n, m, layers) and cell validity (n, m); see ``build_cylinders``."""
    n, m = x.size, offsets.shape[0]
    delta_d = 2 * np.pi / layers
    centres = -np.pi + (np.arange(layers) + 0.5) * delta_d
    values = np.zeros((n, m, layers), bool)
    validity = np.zeros((n, m), bool)
    counts = np.zeros(n, np.int64)
    for i in range(n):
        c, s = math.cos(angle[i]), math.sin(angle[i])
        px = x[i] + c * offsets[:, 0] - s * offsets[:, 1]
        py = y[i] + s * offsets[:, 0] + c * offsets[:, 1]
        br = np.floor(py / block_px).astype(int)
        bc = np.floor(px / block_px).astype(int)
        inside = (br >= 0) & (br < foreground.shape[0]) & (bc >= 0) & (bc < foreground.shape[1])
        validity[i, inside] = foreground[br[inside], bc[inside]] != 0
        others = np.array([t for t in range(n) if t != i and math.hypot(x[t] - x[i], y[t] - y[i]) <= neighbour_radius],
                          dtype=int)
        counts[i] = others.size
        if others.size == 0:
            continue
        d2 = (px[:, None] - x[others][None]) ** 2 + (py[:, None] - y[others][None]) ** 2
        gs = np.where(d2 <= (3 * sigma_s) ** 2, np.exp(-0.5 * d2 / sigma_s ** 2) / (sigma_s * math.sqrt(2 * math.pi)), 0)
        dtheta = wrap(angle[others] - angle[i])
        diff = wrap(centres[:, None] - dtheta[None])  # (layers, k)
        r2 = sigma_d * math.sqrt(2)
        gd = 0.5 * (erf((diff + delta_d / 2) / r2) - erf((diff - delta_d / 2) / r2))
        acc = gs @ gd.T  # (m, layers)
        values[i] = (acc > mu_psi) & validity[i][:, None]
    return values, validity, counts


def similarity_reference(values_a, validity_a, angle_a, values_b, validity_b, angle_b, max_dir, min_matchable_bits):
    """Binary MCC similarity matrix from boolean cylinders (n, m, layers)."""
    na, nb = values_a.shape[0], values_b.shape[0]
    layers = values_a.shape[2]
    sim = np.zeros((na, nb), np.float32)
    for i in range(na):
        for j in range(nb):
            if abs(wrap(angle_a[i] - angle_b[j])) > max_dir:
                continue
            both = validity_a[i] & validity_b[j]
            if both.sum() * layers < min_matchable_bits:
                continue
            a = values_a[i][both]
            b = values_b[j][both]
            denom = math.sqrt(a.sum()) + math.sqrt(b.sum())
            if denom > 0:
                sim[i, j] = 1 - math.sqrt((a ^ b).sum()) / denom
    return sim


def relaxed_pairs_reference(sim, xa, ya, ta, xb, yb, tb, n_relax, iterations, weight, mu1, tau1, mu2, tau2, mu3, tau3):
    """LSS-R with dense numpy arrays; returns (pa, pb, lam0, lam) like the kernel."""
    flat = sim.ravel()
    cand = np.nonzero(flat > 0)[0]
    order = cand[np.argsort(-flat[cand], kind="stable")][:n_relax]
    pa, pb = order // sim.shape[1], order % sim.shape[1]
    lam0 = flat[order].astype(np.float64)

    def z(v, mu, tau):
        return 1 / (1 + np.exp(-tau * (v - mu)))

    da = np.hypot(xa[pa][:, None] - xa[pa][None], ya[pa][:, None] - ya[pa][None])
    db = np.hypot(xb[pb][:, None] - xb[pb][None], yb[pb][:, None] - yb[pb][None])
    d1 = np.abs(da - db)
    d2 = np.abs(wrap(wrap(ta[pa][:, None] - ta[pa][None]) - wrap(tb[pb][:, None] - tb[pb][None])))
    ra = wrap(ta[pa][:, None] - np.arctan2(ya[pa][:, None] - ya[pa][None], xa[pa][:, None] - xa[pa][None]))
    rb = wrap(tb[pb][:, None] - np.arctan2(yb[pb][:, None] - yb[pb][None], xb[pb][:, None] - xb[pb][None]))
    d3 = np.abs(wrap(ra - rb))
    upper = np.triu(np.ones_like(d3, dtype=bool), k=1)
    d3 = np.where(upper, d3, d3.T)  # symmetric: the radial angle is taken at the higher-ranked pair
    f1, f2, f3 = z(d1, mu1, tau1), z(d2, mu2, tau2), z(d3, mu3, tau3)
    rho = f1 * f2 * f3
    rho[(f1 < 1e-4) | (f2 < 1e-4) | (f3 < 1e-4)] = 0
    np.fill_diagonal(rho, 0)
    lam = lam0.copy()
    count = lam.size
    if count > 1:
        for _ in range(iterations):
            lam = weight * lam + (1 - weight) * (rho @ lam) / (count - 1)
    return pa, pb, lam0, lam


def pair_minutiae_reference(xa, ya, ta, fga, blocka, xb, yb, tb, fgb, blockb, seeds_a, seeds_b,
                            tol_px, tol_slope, tol_rad, min_overlap):
    """Pairing under seed alignments with dense distance matrices; returns (best, pairs_a, pairs_b)."""

    def inside(fg, block, px, py):
        r, c = np.floor(py / block).astype(int), np.floor(px / block).astype(int)
        ok = (r >= 0) & (r < fg.shape[0]) & (c >= 0) & (c < fg.shape[1])
        out = np.zeros(px.shape, bool)
        out[ok] = fg[r[ok], c[ok]] != 0
        return out

    best, best_pairs, best_seed = 0.0, (np.zeros(0, np.int64), np.zeros(0, np.int64)), -1
    for seed, (i0, j0) in enumerate(zip(seeds_a, seeds_b)):
        rot = float(wrap(ta[i0] - tb[j0]))
        c, s = math.cos(rot), math.sin(rot)
        bx = c * (xb - xb[j0]) - s * (yb - yb[j0]) + xa[i0]
        by = s * (xb - xb[j0]) + c * (yb - yb[j0]) + ya[i0]
        ax = c * (xa - xa[i0]) + s * (ya - ya[i0]) + xb[j0]
        ay = -s * (xa - xa[i0]) + c * (ya - ya[i0]) + yb[j0]
        n_b = inside(fga, blocka, bx, by).sum()
        n_a = inside(fgb, blockb, ax, ay).sum()
        dist = np.hypot(xa[:, None] - bx[None], ya[:, None] - by[None])
        tol = tol_px + tol_slope * np.hypot(xa - xa[i0], ya - ya[i0])
        ok = (dist < tol[:, None]) & (np.abs(wrap(ta[:, None] - tb[None] - rot)) < tol_rad)
        ii, jj = np.nonzero(ok)
        order = np.argsort(dist[ii, jj], kind="stable")
        used_a, used_b, pairs = set(), set(), []
        for q in order:
            if ii[q] in used_a or jj[q] in used_b:
                continue
            used_a.add(ii[q]); used_b.add(jj[q]); pairs.append((ii[q], jj[q]))
        value = len(pairs) ** 2 / (max(n_a, min_overlap) * max(n_b, min_overlap))
        if value > best:
            best, best_seed = value, seed
            arr = np.array(pairs, np.int64).reshape(-1, 2)
            best_pairs = (arr[:, 0], arr[:, 1])
    return best, best_pairs[0], best_pairs[1], best_seed


def orientation_agreement_reference(orient_a, block_a, orient_b, block_b, xa0, ya0, xb0, yb0, rot):
    """Orientation-field agreement with array operations; see ``orientation_agreement``.

    Takes the fields in radians with NaN on background (``orientation_radians`` of the codes)
    and evaluates the cosine directly, without the kernel's table.
    """
    rr, cc = np.nonzero(~np.isnan(orient_a))
    dx = cc * block_a + block_a / 2 - xa0
    dy = rr * block_a + block_a / 2 - ya0
    c, s = math.cos(rot), math.sin(rot)
    rb = np.floor((-s * dx + c * dy + yb0) / block_b).astype(int)
    cb = np.floor((c * dx + s * dy + xb0) / block_b).astype(int)
    ok = (rb >= 0) & (rb < orient_b.shape[0]) & (cb >= 0) & (cb < orient_b.shape[1])
    tb = np.full(rr.shape, np.nan)
    tb[ok] = orient_b[rb[ok], cb[ok]]
    common = ~np.isnan(tb)
    if not common.any():
        return 0.0, 0
    return float(np.mean(np.cos(2 * (orient_a[rr[common], cc[common]] - tb[common] - rot)))), int(common.sum())


def orientation_radians(codes):
    """Degree codes (255: background) as radians with NaN on background."""
    codes = np.asarray(codes)
    return np.where(codes == 255, np.nan, np.radians(codes.astype(np.float64)))
