"""Numba kernels of the extractor. No validation here: callers own it.

Each kernel has an independent plain-Python twin in :mod:`._reference`, and
``tests/extractors/fingerprint/test_kernels.py`` checks that they agree.
"""
from __future__ import annotations

import numpy as np
from numba import njit

# 8-neighbourhood, clockwise from east (image coordinates, y down)
NEIGHBOUR_DR = np.array([0, 1, 1, 1, 0, -1, -1, -1], dtype=np.int64)
NEIGHBOUR_DC = np.array([1, 1, 0, -1, -1, -1, 0, 1], dtype=np.int64)


@njit(cache=True, nogil=True)
def overlap_add(filtered, sel_r, sel_c, hop, rows, cols):
    """Sum of filtered ``2 hop`` x ``2 hop`` blocks placed at hop-grid cells (``sel_r``, ``sel_c``).

    Block b covers the image from ``(sel_r[b] * hop, sel_c[b] * hop)``. The four
    quadrants are added in the order (0, 0), (0, 1), (1, 0), (1, 1) over all
    blocks, so every pixel sums its contributions in the same order as the
    twin's vectorised quadrant additions (bit-identical float32 sums).

    Parameters
    ----------
    filtered : (b, 2 hop, 2 hop) float32
    sel_r, sel_c : (b,) int64
    hop : int
    rows, cols : int, the output size (covers every block)

    Returns
    -------
    (rows, cols) float32
    """
    out = np.zeros((rows, cols), np.float32)
    for qr in range(2):
        for qc in range(2):
            for b in range(filtered.shape[0]):
                r0 = (sel_r[b] + qr) * hop
                c0 = (sel_c[b] + qc) * hop
                for y in range(hop):
                    for x in range(hop):
                        out[r0 + y, c0 + x] += filtered[b, qr * hop + y, qc * hop + x]
    return out


@njit(cache=True, nogil=True)
def crossing_number_map(skeleton, lut):
    """``lut`` of the 8-neighbour byte of every skeleton pixel (0 elsewhere).

    Bit k of the byte is neighbour k, clockwise from east; pixels outside the
    image count as off. Only skeleton pixels are visited.

    Parameters
    ----------
    skeleton : (H, W) uint8 or bool
    lut : (256,) uint8

    Returns
    -------
    (H, W) uint8
    """
    rows, cols = skeleton.shape
    out = np.zeros((rows, cols), np.uint8)
    for r in range(rows):
        for c in range(cols):
            if not skeleton[r, c]:
                continue
            code = 0
            for k in range(8):
                rr = r + NEIGHBOUR_DR[k]
                cc = c + NEIGHBOUR_DC[k]
                if 0 <= rr < rows and 0 <= cc < cols and skeleton[rr, cc]:
                    code |= 1 << k
            out[r, c] = lut[code]
    return out


@njit(cache=True, nogil=True)
def neighbour_runs(skeleton, r, c, run_of):
    """Label the skeleton neighbours of (r, c) by run; return the number of runs.

    ``run_of[k]`` receives the run index of neighbour k (clockwise from east)
    or -1 when that neighbour is off. A run is a maximal sequence of
    consecutive 'on' neighbours around the circle: one run per branch.
    """
    rows, cols = skeleton.shape
    on = np.zeros(8, dtype=np.bool_)
    for k in range(8):
        rr = r + NEIGHBOUR_DR[k]
        cc = c + NEIGHBOUR_DC[k]
        on[k] = 0 <= rr < rows and 0 <= cc < cols and skeleton[rr, cc] != 0
        run_of[k] = -1
    first = -1
    for k in range(8):
        if on[k] and not on[(k + 7) % 8]:
            first = k
            break
    if first < 0:
        if on[0]:  # all eight on: one run
            for k in range(8):
                run_of[k] = 0
            return 1
        return 0
    runs = -1
    for step in range(8):
        k = (first + step) % 8
        if on[k]:
            if not on[(k + 7) % 8]:
                runs += 1
            run_of[k] = runs
    return runs + 1


@njit(cache=True, nogil=True)
def trace_branches(skeleton, minutia_id, rows_px, cols_px, max_steps, probe_step):
    """Follow every branch of every minutia along the skeleton.

    Parameters
    ----------
    skeleton : (H, W) uint8, 1 on ridge-skeleton pixels.
    minutia_id : (H, W) int32, -1 or the index of the minutia at that pixel.
    rows_px, cols_px : (n,) int64, minutia pixel positions.
    max_steps : int, longest walk in pixels.
    probe_step : int, step at which the direction probe point is taken.

    Returns
    -------
    hit : (n, 3) int32
        Minutia reached by each branch; -1 if none within ``max_steps`` or at
        a dead end; -2 where the minutia has no such branch.
    length : (n, 3) int32
        Pixels walked along each branch.
    probe_r, probe_c : (n, 3) float32
        Position after ``probe_step`` pixels, or the last one reached.

    Notes
    -----
    A walk never revisits a pixel, never returns to its origin and never
    enters another branch's first pixels; among the unvisited neighbours it
    prefers 4-connected ones. Branches are taken in clockwise order from east.
    """
    n = rows_px.shape[0]
    hit = np.full((n, 3), -2, dtype=np.int32)
    length = np.zeros((n, 3), dtype=np.int32)
    probe_r = np.zeros((n, 3), dtype=np.float32)
    probe_c = np.zeros((n, 3), dtype=np.float32)
    rows, cols = skeleton.shape
    stamp = np.zeros((rows, cols), dtype=np.int32)
    run_of = np.zeros(8, dtype=np.int64)
    trace_id = 0
    for i in range(n):
        r0 = rows_px[i]
        c0 = cols_px[i]
        runs = neighbour_runs(skeleton, r0, c0, run_of)
        for b in range(min(runs, 3)):
            trace_id += 1
            stamp[r0, c0] = trace_id
            cr = -1
            cc = -1
            for k in range(8):  # block other branches, pick this run's start (4-neighbour first)
                if run_of[k] < 0:
                    continue
                rr = r0 + NEIGHBOUR_DR[k]
                qq = c0 + NEIGHBOUR_DC[k]
                if run_of[k] != b:
                    stamp[rr, qq] = trace_id
                elif cr < 0:
                    cr = rr
                    cc = qq
            for k in range(0, 8, 2):  # prefer the 4-connected member of the run
                if run_of[k] == b:
                    cr = r0 + NEIGHBOUR_DR[k]
                    cc = c0 + NEIGHBOUR_DC[k]
                    break
            steps = 1
            result = -1
            pr = np.float32(cr)
            pc = np.float32(cc)
            while True:
                stamp[cr, cc] = trace_id
                if steps <= probe_step:
                    pr = np.float32(cr)
                    pc = np.float32(cc)
                mid = minutia_id[cr, cc]
                if mid >= 0 and mid != i:
                    result = mid
                    break
                if steps >= max_steps:
                    break
                nr = -1
                nc = -1
                for pass_ in range(2):
                    for k in range(pass_, 8, 2):
                        rr = cr + NEIGHBOUR_DR[k]
                        qq = cc + NEIGHBOUR_DC[k]
                        if 0 <= rr < rows and 0 <= qq < cols and skeleton[rr, qq] != 0 and stamp[rr, qq] != trace_id:
                            nr = rr
                            nc = qq
                            break
                    if nr >= 0:
                        break
                if nr < 0:
                    break
                cr = nr
                cc = nc
                steps += 1
            hit[i, b] = result
            length[i, b] = steps
            probe_r[i, b] = pr
            probe_c[i, b] = pc
    return hit, length, probe_r, probe_c
