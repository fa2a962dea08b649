"""The shortlist stage: min-hash tables over Minutia Cylinder-Code bit vectors, with candidate voting."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._kernels import EMPTY_KEY, build_buckets, cylinder_keys, vote
from .params import DEFAULT_INDEX_PARAMS, IndexParams

__all__ = ["hash_ranks", "keys_of", "VoteTable"]


@lru_cache(maxsize=4)
def hash_ranks(params: IndexParams, nbits: int) -> np.ndarray:
    """The ``tables * per_key`` random permutations of ``nbits`` bit positions (seeded, read-only)."""
    rng = np.random.default_rng(params.seed)
    out = np.stack([rng.permutation(nbits) for _ in range(params.tables * params.per_key)]).astype(np.int32)
    out.setflags(write=False)
    return out


def keys_of(bits: np.ndarray, params: IndexParams = DEFAULT_INDEX_PARAMS) -> np.ndarray:
    """Min-hash keys ``(cylinders, tables)`` of a fingerprint's binary cylinders."""
    bits = np.ascontiguousarray(bits, np.uint64)
    ranks = hash_ranks(params, bits.shape[1] * 64)
    return cylinder_keys(bits, ranks, params.tables, params.per_key, params.key_bits)


class VoteTable:
    """Bucket tables over the keys of many slots (fingers), built in one pass.

    Parameters
    ----------
    keys : (cylinders, tables) uint32
        Keys of every cylinder, slot after slot.
    cyl_slot : (cylinders,) int32
        Slot of each cylinder.
    n_slots : int
    """

    def __init__(self, keys: np.ndarray, cyl_slot: np.ndarray, n_slots: int,
                 params: IndexParams = DEFAULT_INDEX_PARAMS):
        self.params = params
        self.n_slots = int(n_slots)
        self.cyl_slot = np.ascontiguousarray(cyl_slot, np.int32)
        # bucket tables sized to the gallery: 2**bits buckets for about as many cylinders
        self.bucket_bits = int(min(params.key_bits, max(10, int(np.ceil(np.log2(max(len(self.cyl_slot), 2)))))))
        self.offsets, self.entries = build_buckets(self._fold(keys), self.bucket_bits)
        sizes = np.bincount(self.cyl_slot, minlength=self.n_slots).astype(np.float32)
        self._norm = (1.0 / np.maximum(sizes, 1.0) ** params.size_power).astype(np.float32)
        self._weights = (np.arange(params.tables + 1, dtype=np.float32) ** params.count_power).astype(np.float32)

    def _fold(self, keys: np.ndarray) -> np.ndarray:
        keys = np.ascontiguousarray(keys, np.uint32)
        folded = keys & np.uint32((1 << self.bucket_bits) - 1)
        return np.where(keys == EMPTY_KEY, EMPTY_KEY, folded).astype(np.uint32)

    @property
    def nbytes(self) -> int:
        return int(self.offsets.nbytes + self.entries.nbytes + self.cyl_slot.nbytes + self._norm.nbytes)

    def votes(self, probe_keys: np.ndarray, slot_ok: np.ndarray) -> np.ndarray:
        """Candidate score per slot: votes over the square root of the slot's cylinders.

        Normalising by ``sqrt(cylinders)`` keeps prints with many minutiae
        from collecting votes by size alone (measured on the FVC sets: top-20
        hit rate 92.6% raw, 95.2% normalised, 91.0% normalised by the count).
        """
        v = vote(self._fold(probe_keys), self.offsets, self.entries, self.cyl_slot,
                 np.ascontiguousarray(slot_ok, np.uint8), self.n_slots, self.params.max_bucket, self._weights)
        return v * self._norm
