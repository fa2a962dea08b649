"""Plain-Python twins of the extractor's Numba kernels, for tests only."""
from __future__ import annotations

import numpy as np

# clockwise from east, y down
_RING = [(0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1)]


def _on(skeleton, r, c):
    return 0 <= r < skeleton.shape[0] and 0 <= c < skeleton.shape[1] and bool(skeleton[r, c])


def _runs(skeleton, r, c):
    """List of runs; each run a list of ring positions k (clockwise), starting after an 'off' neighbour."""
    on = [_on(skeleton, r + dr, c + dc) for dr, dc in _RING]
    if all(on):
        return [list(range(8))]
    if not any(on):
        return []
    start = next(k for k in range(8) if on[k] and not on[(k - 1) % 8])
    runs, current = [], None
    for step in range(8):
        k = (start + step) % 8
        if on[k]:
            if not on[(k - 1) % 8]:
                current = []
                runs.append(current)
            current.append(k)
    return runs


def trace_branches_reference(skeleton, minutia_id, rows_px, cols_px, max_steps, probe_step):
    """Same contract as :func:`._kernels.trace_branches`, with Python sets for the visited pixels."""
    n = len(rows_px)
    hit = np.full((n, 3), -2, np.int32)
    length = np.zeros((n, 3), np.int32)
    probe_r = np.zeros((n, 3), np.float32)
    probe_c = np.zeros((n, 3), np.float32)
    for i in range(n):
        r0, c0 = int(rows_px[i]), int(cols_px[i])
        runs = _runs(skeleton, r0, c0)
        for b, run in enumerate(runs[:3]):
            visited = {(r0, c0)}
            for other in runs:
                if other is not run:
                    visited |= {(r0 + _RING[k][0], c0 + _RING[k][1]) for k in other}
            even = sorted(k for k in run if k % 2 == 0)  # the kernel scans k = 0..7
            k0 = even[0] if even else min(run)
            cur = (r0 + _RING[k0][0], c0 + _RING[k0][1])
            steps, result, probe = 1, -1, cur
            while True:
                visited.add(cur)
                if steps <= probe_step:
                    probe = cur
                mid = int(minutia_id[cur])
                if mid >= 0 and mid != i:
                    result = mid
                    break
                if steps >= max_steps:
                    break
                order = [k for k in range(0, 8, 2)] + [k for k in range(1, 8, 2)]
                nxt = None
                for k in order:
                    cand = (cur[0] + _RING[k][0], cur[1] + _RING[k][1])
                    if _on(skeleton, *cand) and cand not in visited:
                        nxt = cand
                        break
                if nxt is None:
                    break
                cur = nxt
                steps += 1
            hit[i, b], length[i, b] = result, steps
            probe_r[i, b], probe_c[i, b] = probe
    return hit, length, probe_r, probe_c


def crossing_numbers_reference(skeleton, lut):
    """Twin of ``crossing_number_map``: the neighbour byte of every pixel by shifted whole-image ORs."""
    sk = np.asarray(skeleton).astype(np.uint8)
    padded = np.pad(sk, 1)
    rows, cols = sk.shape
    code = np.zeros(sk.shape, dtype=np.uint8)
    offsets = ((0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1))  # clockwise from east
    for bit, (dr, dc) in enumerate(offsets):
        code |= padded[1 + dr:1 + dr + rows, 1 + dc:1 + dc + cols] << bit
    return lut[code] * sk


def overlap_add_reference(filtered, sel_r, sel_c, hop, rows, cols):
    """Twin of ``overlap_add``: four vectorised quadrant additions on a grid of hop x hop cells
    (within one quadrant no two blocks share a destination cell)."""
    cells = np.zeros((rows // hop, cols // hop, hop, hop), np.float32)
    quads = np.asarray(filtered, np.float32).reshape(-1, 2, hop, 2, hop)
    for qr in (0, 1):
        for qc in (0, 1):
            cells[sel_r + qr, sel_c + qc] += quads[:, qr, :, qc, :]
    return cells.transpose(0, 2, 1, 3).reshape(rows, cols)
