"""Numba kernels of the fingerprint index: min-hash keys of cylinders, bucket tables, candidate voting.

Each kernel has a plain-numpy twin in :mod:`._reference`, and the tests check
that the two agree.
"""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["cylinder_keys", "probe_keys", "bucket_level", "merge_levels", "vote_level"]

#: Key of a cylinder with no set bit: never stored, never looked up.
EMPTY_KEY = np.uint32(0xFFFFFFFF)


@njit(cache=True, nogil=True)
def cylinder_keys(bits, ranks_t, tables, per_key, key_bits):  # pragma: no cover - compiled
    """Min-hash keys ``(n, tables)`` uint32 of binary cylinders ``bits (n, words)``.

    ``ranks_t (nbits, tables * per_key)`` uint16 holds, per bit position, its
    rank under each of the random permutations; the min-hash of a cylinder
    under one permutation is the lowest rank of its set bits, and a key joins
    ``per_key`` min-hashes. The inner loop runs over the permutations of one
    set bit (contiguous), so it vectorises.
    """
    n = bits.shape[0]
    words = bits.shape[1]
    nbits = ranks_t.shape[0]
    n_hash = ranks_t.shape[1]
    mask = np.uint64((1 << key_bits) - 1)
    out = np.full((n, tables), EMPTY_KEY, np.uint32)
    mins = np.empty(n_hash, np.uint16)
    for i in range(n):
        mins[:] = 65535
        any_set = False
        for w in range(words):
            v = bits[i, w]
            if v == 0:
                continue
            for byte in range(8):
                chunk = (v >> np.uint64(8 * byte)) & np.uint64(255)
                if chunk == 0:
                    continue
                for b in range(8):
                    if (chunk >> np.uint64(b)) & np.uint64(1):
                        pos = w * 64 + byte * 8 + b
                        if pos >= nbits:
                            continue
                        any_set = True
                        row = ranks_t[pos]
                        for h in range(n_hash):
                            mins[h] = min(mins[h], row[h])
        if not any_set:
            continue
        for t in range(tables):
            key = np.uint64(0)
            for j in range(per_key):
                key = key * np.uint64(nbits) + np.uint64(mins[t * per_key + j])
            out[i, t] = np.uint32(key & mask)
    return out


@njit(cache=True, nogil=True)
def probe_keys(bits, ranks_t, tables, per_key, key_bits):  # pragma: no cover - compiled
    """Multi-probe keys ``(n, tables, 1 + per_key)`` uint32 of a probe's cylinders.

    Variant 0 is the key of :func:`cylinder_keys`; variant ``j`` replaces the
    ``j``-th min-hash by the second-lowest rank under that permutation. A
    gallery cylinder whose set bits lack the probe's lowest one (a minutia
    missed, a cell just out of tolerance) has that second rank as its
    min-hash, so it still collides. A variant equal to an earlier one of
    its table, or with no second rank, is ``EMPTY_KEY``.
    """
    n = bits.shape[0]
    words = bits.shape[1]
    nbits = ranks_t.shape[0]
    n_hash = ranks_t.shape[1]
    mask = np.uint64((1 << key_bits) - 1)
    out = np.full((n, tables, 1 + per_key), EMPTY_KEY, np.uint32)
    m1 = np.empty(n_hash, np.uint16)
    m2 = np.empty(n_hash, np.uint16)
    comp = np.empty(per_key, np.uint64)
    for i in range(n):
        m1[:] = 65535
        m2[:] = 65535
        any_set = False
        for w in range(words):
            v = bits[i, w]
            if v == 0:
                continue
            for b in range(64):
                if (v >> np.uint64(b)) & np.uint64(1):
                    pos = w * 64 + b
                    if pos >= nbits:
                        continue
                    any_set = True
                    for h in range(n_hash):
                        r = ranks_t[pos, h]
                        if r < m1[h]:
                            m2[h] = m1[h]
                            m1[h] = r
                        elif r < m2[h]:
                            m2[h] = r
        if not any_set:
            continue
        for t in range(tables):
            for var in range(1 + per_key):
                ok = True
                for j in range(per_key):
                    comp[j] = np.uint64(m1[t * per_key + j])
                if var > 0:
                    second = m2[t * per_key + var - 1]
                    if second == 65535:
                        ok = False
                    comp[var - 1] = np.uint64(second)
                if not ok:
                    continue
                key = np.uint64(0)
                for j in range(per_key):
                    key = key * np.uint64(nbits) + comp[j]
                k32 = np.uint32(key & mask)
                for q in range(var):
                    if out[i, t, q] == k32:
                        ok = False
                if ok:
                    out[i, t, var] = k32
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
    packed = np.empty(n, np.uint64)
    for t in range(tables):
        for i in range(n):
            packed[i] = (np.uint64(keys[i, t]) << np.uint64(32)) | np.uint64(i)
        packed.sort()  # by key, then row: unique values, so any sort is stable
        for j in range(n):
            k = np.uint32(packed[j] >> np.uint64(32))
            if k == EMPTY_KEY:
                break  # EMPTY_KEY is the largest uint32: the rest are empty
            if nu == kstart[t] or ukeys[nu - 1] != k:
                ukeys[nu] = k
                bstart[nu] = ne
                nu += 1
            entries[ne] = np.uint32(first_id + (packed[j] & np.uint64(0xFFFFFFFF)))
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
def vote_level(probe_keys, kstart, ukeys, bstart, entries, first_id, n_cyl, cyl_slot, slot_ok, slot_pos, want_pos,
               max_bucket, weights, probe_weights, votes, count, best):  # pragma: no cover - compiled
    """Add to ``votes`` (per slot, float32) the votes of one level's bucket tables.

    ``probe_keys (m, tables, variants)``: the probe's keys per table (one
    or several distinct multi-probe variants, ``EMPTY_KEY`` for none). For
    each probe cylinder ``i``, a gallery cylinder colliding with it in
    ``c`` tables gives its slot ``c`` collisions, and the slot's best
    collision count over its cylinders ``b`` adds
    ``probe_weights[i] * weights[b]`` (the candidate score of Cappelli et
    al., TPAMI 2011). A slot's cylinders all lie in one level, so the votes
    of several levels add up. Buckets larger than ``max_bucket`` carry no
    information and are skipped; slots with ``slot_ok == 0`` get nothing, nor
    (when ``want_pos >= 0``) slots whose ``slot_pos`` differs: keys moved by one
    finger position can collide by chance with keys moved by another.

    ``count`` (uint8, at least ``n_cyl``) and ``best`` (int32, at least the
    slots) are zeroed scratch arrays, left zeroed: only the entries touched
    are reset, so one pair serves many calls without clearing megabytes.
    """
    m, tables, variants = probe_keys.shape
    room = min(n_cyl, tables * variants * max_bucket)  # distinct cylinders one probe cylinder can reach
    cyls = np.empty(room, np.int64)
    touched = np.empty(room, np.int64)
    for i in range(m):
        nc = 0
        for t in range(tables):
            lo = kstart[t]
            hi = kstart[t + 1]
            for var in range(variants):  # distinct keys: a gallery cylinder matches one at most
                k = probe_keys[i, t, var]
                if k == EMPTY_KEY:
                    continue
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
            if slot_ok[s] and (want_pos < 0 or slot_pos[s] == want_pos):
                if best[s] == 0:
                    touched[nt] = s
                    nt += 1
                if run > best[s]:
                    best[s] = run
        for j in range(nt):
            s = touched[j]
            votes[s] += probe_weights[i] * weights[best[s]]
            best[s] = 0
