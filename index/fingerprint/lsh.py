"""The shortlist stage: min-hash tables over Minutia Cylinder-Code bit vectors, with candidate voting.

The bucket tables are kept in *levels* (as a log-structured merge tree
keeps runs): a level indexes a contiguous range of cylinder ids in
compressed sparse rows (per table, the distinct keys ascending, each with its
cylinder ids, uint32). Enrolment adds a small level for the new fingers only;
adjacent levels are merged in one linear pass, without the keys, when the
newer one grows to a fraction of the older one. A finger's cylinders lie in
one level, so votes add up over levels.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ._kernels import EMPTY_KEY, bucket_level, cylinder_keys, merge_levels, probe_keys, vote_level
from .params import DEFAULT_INDEX_PARAMS, IndexParams

__all__ = ["hash_ranks", "keys_of", "probe_keys_of", "with_position", "Level", "vote_weights", "EMPTY_KEY"]


@lru_cache(maxsize=4)
def hash_ranks(params: IndexParams, nbits: int) -> np.ndarray:
    """The ``tables * per_key`` random permutations of ``nbits`` bit positions (seeded, read-only)."""
    rng = np.random.default_rng(params.seed)
    out = np.stack([rng.permutation(nbits) for _ in range(params.tables * params.per_key)]).astype(np.int32)
    out.setflags(write=False)
    return out


def keys_of(bits: np.ndarray, params: IndexParams = DEFAULT_INDEX_PARAMS) -> np.ndarray:
    """Min-hash keys ``(cylinders, tables)`` uint32 of binary cylinders ``(cylinders, words)``."""
    bits = np.ascontiguousarray(bits, np.uint64)
    return cylinder_keys(bits, _ranks_t(params, bits.shape[1] * 64), params.tables, params.per_key, params.key_bits)


def probe_keys_of(bits: np.ndarray, params: IndexParams = DEFAULT_INDEX_PARAMS) -> np.ndarray:
    """A probe's keys ``(cylinders, tables, variants)``: with ``params.multi_probe``, each key and its
    ``per_key`` variants with one min-hash replaced by the second-lowest rank (see
    :func:`._kernels.probe_keys`); else the keys alone (one variant)."""
    bits = np.ascontiguousarray(bits, np.uint64)
    ranks_t = _ranks_t(params, bits.shape[1] * 64)
    if params.multi_probe:
        return probe_keys(bits, ranks_t, params.tables, params.per_key, params.key_bits)
    return np.ascontiguousarray(cylinder_keys(bits, ranks_t, params.tables, params.per_key, params.key_bits)[:, :, None])


@lru_cache(maxsize=4)
def _ranks_t(params: IndexParams, nbits: int) -> np.ndarray:
    """:func:`hash_ranks` transposed to ``(nbits, permutations)`` uint16, as the kernel reads them."""
    if nbits > 65535:
        raise ValueError("cylinders of more than 65535 bits")
    out = np.ascontiguousarray(hash_ranks(params, nbits).T.astype(np.uint16))
    out.setflags(write=False)
    return out


def with_position(keys: np.ndarray, positions, params: IndexParams = DEFAULT_INDEX_PARAMS) -> np.ndarray:
    """Keys moved by the finger position (``positions``: one per row, or one for all).

    A finger stored at position ``p`` is bucketed under ``key + p * 0x9E3779B1``
    (mod ``2**key_bits``), so a print search of known position looks up one
    tenth of the collisions a search over every position does, and a mark
    search looks its keys up once per position the index holds. Position 0
    (unknown) leaves the keys as they are.
    """
    pos = np.asarray(positions, np.uint64)
    if pos.ndim == 1:
        pos = pos[:, None]
    mask = np.uint64((1 << params.key_bits) - 1)
    moved = ((keys.astype(np.uint64) + pos * np.uint64(0x9E3779B1)) & mask).astype(np.uint32)
    return np.where(keys == EMPTY_KEY, EMPTY_KEY, moved).astype(np.uint32)


@lru_cache(maxsize=8)
def vote_weights(params: IndexParams) -> np.ndarray:
    """``weights[c]``: the vote of a best collision count ``c`` (``c ** count_power``)."""
    w = (np.arange(params.tables + 1, dtype=np.float64) ** params.count_power).astype(np.float32)
    w.setflags(write=False)
    return w


_LOCAL = threading.local()


def _scratch(n_cyl: int, n_slots: int) -> tuple[np.ndarray, np.ndarray]:
    """This thread's zeroed vote scratch arrays, grown as needed (the kernel leaves them zeroed)."""
    count = getattr(_LOCAL, "count", None)
    if count is None or count.shape[0] < n_cyl:
        count = _LOCAL.count = np.zeros(max(n_cyl, 1 << 16), np.uint8)
    best = getattr(_LOCAL, "best", None)
    if best is None or best.shape[0] < n_slots:
        best = _LOCAL.best = np.zeros(max(n_slots, 1 << 12) + (n_slots >> 3), np.int32)
    return count, best


@dataclass(frozen=True, eq=False)
class Level:
    """Bucket tables over cylinder ids ``first .. first + n - 1`` (immutable).

    Per table ``t``: distinct keys ``ukeys[kstart[t]:kstart[t + 1]]``
    ascending; key ``u`` owns the cylinder ids ``entries[bstart[u]:bstart[u + 1]]``.
    """

    first: int
    n: int
    kstart: np.ndarray  # (tables + 1,) int64
    ukeys: np.ndarray  # (distinct keys,) uint32
    bstart: np.ndarray  # (distinct keys + 1,) uint32
    entries: np.ndarray  # (stored keys,) uint32 cylinder ids

    @classmethod
    def build(cls, keys: np.ndarray, first: int) -> "Level":
        """The level of cylinders ``first ..`` with min-hash ``keys (n, tables)``."""
        keys = np.ascontiguousarray(keys, np.uint32)
        if first + keys.shape[0] > 2**32 - 1 or keys.size > 2**32 - 1:
            raise ValueError("more than 2**32 - 1 cylinders in one index, or keys in one level")
        return cls(int(first), int(keys.shape[0]), *bucket_level(keys, int(first)))

    @staticmethod
    def merge(a: "Level", b: "Level") -> "Level":
        """One level holding ``a`` and the level right after it, ``b``."""
        if b.first != a.first + a.n:
            raise ValueError("only adjacent levels merge")
        if a.entries.size + b.entries.size > 2**32 - 1:
            raise ValueError("a level holds at most 2**32 - 1 keys")
        return Level(a.first, a.n + b.n, *merge_levels(a.kstart, a.ukeys, a.bstart, a.entries,
                                                        b.kstart, b.ukeys, b.bstart, b.entries))

    @property
    def nbytes(self) -> int:
        return int(self.kstart.nbytes + self.ukeys.nbytes + self.bstart.nbytes + self.entries.nbytes)

    def vote_into(self, votes: np.ndarray, probe_keys: np.ndarray, probe_weights: np.ndarray,
                  cyl_slot: np.ndarray, slot_ok: np.ndarray, params: IndexParams,
                  slot_pos: np.ndarray | None = None, want_pos: int = -1) -> None:
        """Add this level's votes for ``probe_keys`` (``(m, tables, variants)``) to ``votes`` (per slot, float32).

        With ``want_pos >= 0`` only slots whose ``slot_pos`` is ``want_pos`` get votes (see :func:`._kernels.vote_level`).
        """
        if self.n:
            pos = np.zeros(1, np.int8) if slot_pos is None else slot_pos
            count, best = _scratch(self.n, slot_ok.shape[0])
            vote_level(probe_keys, self.kstart, self.ukeys, self.bstart, self.entries, self.first, self.n,
                       cyl_slot, slot_ok, pos, int(want_pos) if slot_pos is not None else -1,
                       params.max_bucket, vote_weights(params), probe_weights, votes, count, best)

    def arrays(self) -> dict:
        return {"first_n": np.array([self.first, self.n], np.int64), "kstart": self.kstart, "ukeys": self.ukeys,
                "bstart": self.bstart, "entries": self.entries}

    @classmethod
    def from_arrays(cls, a: dict) -> "Level":
        first, n = (int(v) for v in a["first_n"])
        return cls(first, n, np.ascontiguousarray(a["kstart"], np.int64), np.ascontiguousarray(a["ukeys"], np.uint32),
                   np.ascontiguousarray(a["bstart"], np.uint32), np.ascontiguousarray(a["entries"], np.uint32))
