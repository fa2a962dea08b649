"""The index kernels agree with their numpy twins; the vote tables find a print's own cylinders."""
import numpy as np

from biomatch.index.fingerprint._kernels import EMPTY_KEY, build_buckets, cylinder_keys, vote
from biomatch.index.fingerprint._reference import cylinder_keys_ref, vote_ref
from biomatch.index.fingerprint.lsh import VoteTable, hash_ranks, keys_of
from biomatch.index.fingerprint.params import DEFAULT_INDEX_PARAMS as P


def _random_bits(rng, n, words=11, density=0.07):
    b = rng.random((n, words * 64)) < density
    b[0] = False  # an empty cylinder
    return np.packbits(b, axis=1, bitorder="little").view(np.uint64)


def test_cylinder_keys_match_reference():
    rng = np.random.default_rng(3)
    bits = _random_bits(rng, 40)
    ranks = hash_ranks(P, bits.shape[1] * 64)
    got = cylinder_keys(bits, ranks, P.tables, P.per_key, P.key_bits)
    assert got[0].tolist() == [EMPTY_KEY] * P.tables
    np.testing.assert_array_equal(got, cylinder_keys_ref(bits, ranks, P.tables, P.per_key, P.key_bits))


def test_vote_matches_reference_and_buckets_hold_every_key():
    rng = np.random.default_rng(4)
    gallery = _random_bits(rng, 300)
    keys = keys_of(gallery)
    slot = np.repeat(np.arange(30, dtype=np.int32), 10)
    ok = np.ones(30, np.uint8)
    ok[7] = 0
    offsets, entries = build_buckets(keys, P.key_bits)
    for t in range(3):
        got = sorted(entries[t][entries[t] >= 0].tolist())
        assert got == [i for i in range(300) if keys[i, t] != EMPTY_KEY]
    probe = np.concatenate([gallery[50:60], _random_bits(rng, 5)])
    pk = keys_of(probe)
    for max_bucket, power in ((50_000, 1.0), (2, 1.0), (50_000, 2.0)):
        w = (np.arange(P.tables + 1) ** power).astype(np.float32)
        v = vote(pk, offsets, entries, slot, ok, 30, max_bucket, w)
        np.testing.assert_array_equal(v, vote_ref(pk, keys, slot, ok, 30, max_bucket, w))
    table = VoteTable(keys, slot, 30)
    v = table.votes(pk, ok)
    assert int(np.argmax(v)) == 5 and v[7] == 0
