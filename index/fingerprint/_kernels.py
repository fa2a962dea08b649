"""Numba kernels of the fingerprint index: min-hash keys of cylinders, bucket tables, candidate voting.

Each kernel has a plain-numpy twin in :mod:`._reference`, and the tests check
that the two agree.
"""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["cylinder_keys", "build_buckets", "vote"]

#: Key of a cylinder with no set bit: never stored, never looked up.
EMPTY_KEY = np.uint32(0xFFFFFFFF)


@njit(cache=True, nogil=True)
def cylinder_keys(bits, ranks, tables, per_key, key_bits):  # pragma: no cover - compiled
    """Min-hash keys ``(n, tables)`` uint32 of binary cylinders ``bits (n, words)``.

    ``ranks (tables * per_key, nbits)`` are random permutations of the bit
    positions; the min-hash of a cylinder under one permutation is the lowest
    rank of its set bits, and a key joins ``per_key`` min-hashes.
    """
    n = bits.shape[0]
    words = bits.shape[1]
    nbits = ranks.shape[1]
    mask = np.uint64((1 << key_bits) - 1)
    out = np.full((n, tables), EMPTY_KEY, np.uint32)
    mins = np.empty(ranks.shape[0], np.int64)
    for i in range(n):
        for h in range(ranks.shape[0]):
            mins[h] = nbits
        any_set = False
        for w in range(words):
            v = bits[i, w]
            while v != 0:
                low = v & (~v + np.uint64(1))
                b = 0
                t = low
                while t > np.uint64(1):
                    t >>= np.uint64(1)
                    b += 1
                pos = w * 64 + b
                v ^= low
                if pos >= nbits:
                    continue
                any_set = True
                for h in range(ranks.shape[0]):
                    r = ranks[h, pos]
                    if r < mins[h]:
                        mins[h] = r
        if not any_set:
            continue
        for t in range(tables):
            key = np.uint64(0)
            for j in range(per_key):
                key = key * np.uint64(nbits) + np.uint64(mins[t * per_key + j])
            key = key & mask
            out[i, t] = np.uint32(key)
    return out


@njit(cache=True, nogil=True)
def build_buckets(keys, key_bits):  # pragma: no cover - compiled
    """Bucket tables by counting sort: ``offsets (tables, 2**key_bits + 1)`` and ``entries (tables, n)``.

    ``entries[t, offsets[t, k]:offsets[t, k + 1]]`` are the rows of ``keys``
    whose key in table ``t`` is ``k``, ascending; empty keys are left out
    (the tail of each entries row is then -1).
    """
    n, tables = keys.shape
    size = 1 << key_bits
    offsets = np.zeros((tables, size + 1), np.int64)
    entries = np.full((tables, n), -1, np.int32)
    for t in range(tables):
        for i in range(n):
            k = keys[i, t]
            if k != EMPTY_KEY:
                offsets[t, k + 1] += 1
        for k in range(size):
            offsets[t, k + 1] += offsets[t, k]
        fill = offsets[t, :size].copy()
        for i in range(n):
            k = keys[i, t]
            if k != EMPTY_KEY:
                entries[t, fill[k]] = i
                fill[k] += 1
    return offsets, entries


@njit(cache=True, nogil=True)
def vote(probe_keys, offsets, entries, cyl_slot, slot_ok, n_slots, max_bucket, weights):  # pragma: no cover - compiled
    """Votes per gallery slot: for each probe cylinder, the best collision count over the slot's cylinders.

    A probe cylinder colliding with a gallery cylinder in ``c`` of the tables
    gives that cylinder's slot ``c`` votes (the best of the slot's cylinders
    counts once per probe cylinder), the candidate score of Cappelli et al.
    (TPAMI 2011). Buckets larger than ``max_bucket`` carry no information
    and are skipped. Slots with ``slot_ok == 0`` get no votes. A best count
    ``c`` adds ``weights[c]`` (``weights`` has ``tables + 1`` entries). Collisions are
    counted in a scratch array over the gallery cylinders (no sorting), so
    the cost is linear in the number of collisions.
    """
    m, tables = probe_keys.shape
    votes = np.zeros(n_slots, np.float32)
    best = np.zeros(n_slots, np.int32)
    count = np.zeros(cyl_slot.shape[0], np.uint8)
    cyls = np.empty(tables * max_bucket, np.int32)
    touched = np.empty(tables * max_bucket, np.int32)
    for i in range(m):
        nc = 0
        for t in range(tables):
            k = probe_keys[i, t]
            if k == EMPTY_KEY:
                continue
            lo = offsets[t, k]
            hi = offsets[t, k + 1]
            if hi - lo > max_bucket:
                continue
            for e in range(lo, hi):
                c = entries[t, e]
                if count[c] == 0:
                    cyls[nc] = c
                    nc += 1
                count[c] += 1
        nt = 0
        for j in range(nc):
            c = cyls[j]
            run = np.int32(count[c])
            count[c] = 0
            s = cyl_slot[c]
            if slot_ok[s]:
                if best[s] == 0:
                    touched[nt] = s
                    nt += 1
                if run > best[s]:
                    best[s] = run
        for j in range(nt):
            s = touched[j]
            votes[s] += weights[best[s]]
            best[s] = 0
    return votes
