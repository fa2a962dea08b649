"""The index kernels agree with their numpy twins; levels merge exactly; votes add up over levels."""
import numpy as np

from biomatch.index.fingerprint._kernels import EMPTY_KEY, cylinder_keys, probe_keys
from biomatch.index.fingerprint._reference import bucket_level_ref, cylinder_keys_ref, probe_keys_ref, vote_ref
from biomatch.index.fingerprint.lsh import Level, hash_ranks, keys_of, probe_keys_of, vote_weights
from biomatch.index.fingerprint.params import DEFAULT_INDEX_PARAMS as P


def _random_bits(rng, n, words=11, density=0.07):
    b = rng.random((n, words * 64)) < density
    b[0] = False  # an empty cylinder
    return np.packbits(b, axis=1, bitorder="little").view(np.uint64)


def _clustered_keys(rng, n, tables=P.tables):
    """Keys with many collisions (few distinct values), as real cylinders give."""
    k = rng.integers(0, 40, (n, tables)).astype(np.uint32)
    k[3] = EMPTY_KEY
    return k


def test_cylinder_keys_match_reference():
    rng = np.random.default_rng(3)
    bits = _random_bits(rng, 40)
    ranks = hash_ranks(P, bits.shape[1] * 64)
    got = cylinder_keys(bits, np.ascontiguousarray(ranks.T.astype(np.uint16)), P.tables, P.per_key, P.key_bits)
    assert got[0].tolist() == [EMPTY_KEY] * P.tables
    np.testing.assert_array_equal(got, cylinder_keys_ref(bits, ranks, P.tables, P.per_key, P.key_bits))
    multi = probe_keys(bits, np.ascontiguousarray(ranks.T.astype(np.uint16)), P.tables, P.per_key, P.key_bits)
    np.testing.assert_array_equal(multi, probe_keys_ref(bits, ranks, P.tables, P.per_key, P.key_bits))
    np.testing.assert_array_equal(multi[:, :, 0], got)  # variant 0 is the key itself
    assert (multi[1:, :, 1:] != EMPTY_KEY).mean() > 0.9


def test_level_matches_reference_and_merges_exactly():
    rng = np.random.default_rng(4)
    keys = _clustered_keys(rng, 300)
    level = Level.build(keys, 7)
    ref = bucket_level_ref(keys, 7)
    for t in range(P.tables):
        lo, hi = level.kstart[t], level.kstart[t + 1]
        got = {int(level.ukeys[u]): level.entries[level.bstart[u]:level.bstart[u + 1]].tolist() for u in range(lo, hi)}
        assert got == ref[t] and list(got) == sorted(got)
    merged = Level.merge(Level.merge(Level.build(keys[:100], 7), Level.build(keys[100:250], 107)),
                         Level.build(keys[250:], 257))
    for f in ("kstart", "ukeys", "bstart", "entries"):
        np.testing.assert_array_equal(getattr(merged, f), getattr(level, f), err_msg=f)
    assert (merged.first, merged.n) == (7, 300)


def test_votes_over_levels_match_reference():
    rng = np.random.default_rng(5)
    gallery = _random_bits(rng, 300)
    keys = keys_of(gallery)
    slot = np.repeat(np.arange(30, dtype=np.uint32), 10)
    ok = np.ones(30, np.uint8)
    ok[7] = 0
    probe = np.concatenate([gallery[50:60], _random_bits(rng, 5)])
    pk = probe_keys_of(probe)
    pw = rng.uniform(0.5, 1.5, len(pk)).astype(np.float32)
    w = vote_weights(P)
    levels = [Level.build(keys[:120], 0), Level.build(keys[120:], 120)]  # slots never straddle levels
    v = np.zeros(30, np.float32)
    for lv in levels:
        lv.vote_into(v, pk, pw, slot, ok, P)
    np.testing.assert_allclose(v, vote_ref(pk, keys, slot, ok, 30, P.max_bucket, w, pw), rtol=1e-6)
    assert int(np.argmax(v)) == 5 and v[7] == 0
    # a bucket larger than max_bucket is skipped, in the kernel as in the twin
    ck = _clustered_keys(rng, 300)
    small = type(P)(max_bucket=9)
    v = np.zeros(30, np.float32)
    Level.build(ck, 0).vote_into(v, np.ascontiguousarray(ck[50:60, :, None]), np.ones(10, np.float32), slot, ok, small)
    np.testing.assert_allclose(v, vote_ref(ck[50:60], ck, slot, ok, 30, 9, w), rtol=1e-6)
