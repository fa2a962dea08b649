"""Plain-numpy twins of :mod:`._kernels` (slow, obviously correct; used by the tests)."""
from __future__ import annotations

import numpy as np

from ._kernels import EMPTY_KEY

__all__ = ["cylinder_keys_ref", "probe_keys_ref", "bucket_level_ref", "vote_ref"]


def cylinder_keys_ref(bits, ranks, tables, per_key, key_bits):
    """Twin of :func:`._kernels.cylinder_keys`."""
    nbits = ranks.shape[1]
    unpacked = np.unpackbits(np.ascontiguousarray(bits).view(np.uint8), axis=1, bitorder="little")[:, :nbits]
    out = np.full((bits.shape[0], tables), EMPTY_KEY, np.uint32)
    for i, row in enumerate(unpacked.astype(bool)):
        if not row.any():
            continue
        mins = ranks[:, row].min(axis=1).astype(np.uint64)
        for t in range(tables):
            key = 0
            for j in range(per_key):
                key = key * nbits + int(mins[t * per_key + j])
            out[i, t] = key & ((1 << key_bits) - 1)
    return out


def probe_keys_ref(bits, ranks, tables, per_key, key_bits):
    """Twin of :func:`._kernels.probe_keys` (``ranks (permutations, nbits)`` as :func:`cylinder_keys_ref` takes)."""
    nbits = ranks.shape[1]
    unpacked = np.unpackbits(np.ascontiguousarray(bits).view(np.uint8), axis=1, bitorder="little")[:, :nbits]
    out = np.full((bits.shape[0], tables, 1 + per_key), EMPTY_KEY, np.uint32)
    for i, row in enumerate(unpacked.astype(bool)):
        if not row.any():
            continue
        r = np.sort(ranks[:, row], axis=1)
        m1 = r[:, 0]
        m2 = r[:, 1] if r.shape[1] > 1 else np.full(len(m1), -1)
        for t in range(tables):
            seen = []
            for var in range(1 + per_key):
                comp = [int(m1[t * per_key + j]) for j in range(per_key)]
                if var > 0:
                    if m2[t * per_key + var - 1] < 0:
                        continue
                    comp[var - 1] = int(m2[t * per_key + var - 1])
                key = 0
                for c in comp:
                    key = key * nbits + c
                key &= (1 << key_bits) - 1
                if key not in seen:
                    out[i, t, var] = key
                seen.append(key)
    return out


def bucket_level_ref(keys, first_id):
    """Twin of :func:`._kernels.bucket_level`: per table, ``{key: [cylinder ids ascending]}``."""
    out = []
    for t in range(keys.shape[1]):
        table: dict[int, list[int]] = {}
        for i, k in enumerate(keys[:, t]):
            if k != EMPTY_KEY:
                table.setdefault(int(k), []).append(first_id + i)
        out.append(table)
    return out


def vote_ref(probe_keys, gallery_keys, cyl_slot, slot_ok, n_slots, max_bucket, weights, probe_weights=None):
    """Twin of :func:`._kernels.vote_level` over one level, by direct comparison of keys (no bucket tables)."""
    votes = np.zeros(n_slots, np.float32)
    if probe_keys.ndim == 2:
        probe_keys = probe_keys[:, :, None]
    tables = probe_keys.shape[1]
    pw = np.ones(len(probe_keys), np.float32) if probe_weights is None else probe_weights
    sizes = [{k: int(c) for k, c in zip(*np.unique(gallery_keys[:, t], return_counts=True))} for t in range(tables)]
    for pk, w in zip(probe_keys, pw):
        counts = np.zeros(len(gallery_keys), np.int64)
        for t in range(tables):
            for k in pk[t]:
                if k != EMPTY_KEY and sizes[t].get(k, 0) <= max_bucket:
                    counts += gallery_keys[:, t] == k
        best = np.zeros(n_slots, np.int64)
        np.maximum.at(best, cyl_slot, counts)
        votes += np.where(slot_ok.astype(bool), np.float32(w) * weights[best], 0).astype(np.float32)
    return votes
