"""Numba kernels of the fingerprint index: min-hash keys of cylinders, bucket tables, candidate voting.

Each kernel has a plain-numpy twin in :mod:`._reference`, and the tests check
that the two agree.
"""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["cylinder_keys", "bucket_level", "merge_levels", "vote_level"]

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
def bucket_level(keys, first_id):  # pragma: no cover - compiled
    """One level of bucket tables over cylinders ``first_id + row`` of ``keys (n, tables)`` uint32.

    Per table ``t``, the distinct keys ``ukeys[kstart[t]:kstart[t + 1]]``
    (ascending) own the cylinder ids ``entries[bstart[u]:bstart[u + 1]]``
    (ascending, uint32). Empty keys are left out. ``bstart`` is uint32: a level holds
    fewer than 2**32 keys (the caller checks).
    """
    n, tables = keys.shape
    kstart = np.zeros(tables + 1, np.int64)
    ukeys = np.empty(n * tables, np.uint32)
    bstart = np.zeros(n * tables + 1, np.uint32)
    entries = np.empty(n * tables, np.uint32)
    nu = 0
    ne = 0
    for t in range(tables):
        col = keys[:, t].copy()
        order = np.argsort(col, kind="mergesort")
        for j in range(n):
            i = order[j]
            k = col[i]
            if k == EMPTY_KEY:
                break  # EMPTY_KEY is the largest uint32: the rest are empty
            if nu == kstart[t] or ukeys[nu - 1] != k:
                ukeys[nu] = k
                bstart[nu] = ne
                nu += 1
            entries[ne] = np.uint32(first_id + i)
            ne += 1
        kstart[t + 1] = nu
    bstart[nu] = ne
    return kstart, ukeys[:nu].copy(), bstart[:nu + 1].copy(), entries[:ne].copy()


@njit(cache=True, nogil=True)
def merge_levels(ka, ua, ba, ea, kb, ub, bb, eb):  # pragma: no cover - compiled
    """Merge two levels (``a`` over lower cylinder ids than ``b``) into one, keeping every order."""
    tables = ka.shape[0] - 1
    nu_max = ua.shape[0] + ub.shape[0]
    kstart = np.zeros(tables + 1, np.int64)
    ukeys = np.empty(nu_max, np.uint32)
    bstart = np.zeros(nu_max + 1, np.uint32)
    entries = np.empty(ea.shape[0] + eb.shape[0], np.uint32)
    nu = 0
    ne = 0
    for t in range(tables):
        i, i1 = ka[t], ka[t + 1]
        j, j1 = kb[t], kb[t + 1]
        while i < i1 or j < j1:
            if j >= j1 or (i < i1 and ua[i] < ub[j]):
                k = ua[i]
            else:
                k = ub[j]
            ukeys[nu] = k
            bstart[nu] = ne
            nu += 1
            if i < i1 and ua[i] == k:
                for e in range(ba[i], ba[i + 1]):
                    entries[ne] = ea[e]
                    ne += 1
                i += 1
            if j < j1 and ub[j] == k:
                for e in range(bb[j], bb[j + 1]):
                    entries[ne] = eb[e]
                    ne += 1
                j += 1
        kstart[t + 1] = nu
    bstart[nu] = ne
    return kstart, ukeys[:nu].copy(), bstart[:nu + 1].copy(), entries


@njit(cache=True, nogil=True)
def vote_level(probe_keys, kstart, ukeys, bstart, entries, first_id, n_cyl, cyl_slot, slot_ok, max_bucket,
               weights, probe_weights, votes):  # pragma: no cover - compiled
    """Add to ``votes`` (per slot, float32) the votes of one level's bucket tables.

    For each probe cylinder ``i``, a gallery cylinder colliding with it in
    ``c`` tables gives its slot ``c`` collisions, and the slot's best
    collision count over its cylinders ``b`` adds
    ``probe_weights[i] * weights[b]`` (the candidate score of Cappelli et
    al., TPAMI 2011). A slot's cylinders all lie in one level, so the votes
    of several levels add up. Buckets larger than ``max_bucket`` carry no
    information and are skipped; slots with ``slot_ok == 0`` get nothing.
    """
    m, tables = probe_keys.shape
    count = np.zeros(n_cyl, np.uint8)
    best = np.zeros(slot_ok.shape[0], np.int32)
    room = min(n_cyl, tables * max_bucket)  # distinct cylinders one probe cylinder can reach
    cyls = np.empty(room, np.int64)
    touched = np.empty(room, np.int64)
    for i in range(m):
        nc = 0
        for t in range(tables):
            k = probe_keys[i, t]
            if k == EMPTY_KEY:
                continue
            lo = kstart[t]
            hi = kstart[t + 1]
            u = lo + np.searchsorted(ukeys[lo:hi], k)
            if u >= hi or ukeys[u] != k:
                continue
            b0 = bstart[u]
            b1 = bstart[u + 1]
            if b1 - b0 > max_bucket:
                continue
            for e in range(b0, b1):
                c = np.int64(entries[e]) - first_id
                if count[c] == 0:
                    cyls[nc] = c
                    nc += 1
                count[c] += 1
        nt = 0
        for j in range(nc):
            c = cyls[j]
            run = np.int32(count[c])
            count[c] = 0
            s = cyl_slot[c + first_id]
            if slot_ok[s]:
                if best[s] == 0:
                    touched[nt] = s
                    nt += 1
                if run > best[s]:
                    best[s] = run
        for j in range(nt):
            s = touched[j]
            votes[s] += probe_weights[i] * weights[best[s]]
            best[s] = 0
