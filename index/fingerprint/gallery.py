"""An in-memory set of prepared fingerprints (fingers or marks) with a two-stage 1:N search.

Stage 1 votes with the min-hash tables of :mod:`.lsh` and keeps a shortlist
(every slot when the gallery is smaller than ``min_shortlist``); stage 2
re-scores the shortlist with the pairwise matcher in one
:func:`~biomatch.matcher.fingerprint.score_many` call.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, replace

import numpy as np

from biomatch.matcher.fingerprint import PreparedFingerprint, PreparedGallery, score_many
from biomatch.matcher.fingerprint.gallery import top_candidates

from biomatch.matcher.fingerprint.params import DEFAULT_MATCHER_PARAMS

from .compact import CompactFinger, compress, expand
from .lsh import VoteTable, keys_of
from .params import DEFAULT_INDEX_PARAMS, IndexParams

__all__ = ["FingerIndex", "Hit"]


@dataclass(frozen=True)
class Hit:
    """One re-scored gallery entry: its row id (``fingerprints.id`` or ``marks.id``) and raw score."""

    row_id: int
    score: float
    slot: int


class FingerIndex:
    """Prepared fingerprints keyed by store row id, with owner and finger position per row.

    Thread-safe: one lock around changes; searches copy what they need under it.
    """

    def __init__(self, params: IndexParams = DEFAULT_INDEX_PARAMS):
        self.params = params
        self._lock = threading.RLock()
        self._row: list[int] = []
        self._owner: list[int] = []
        self._prepared: list[CompactFinger | None] = []  # compact: about a third of the prepared form
        self._slot_of: dict[int, int] = {}
        self._alive = np.zeros(64, np.uint8)  # per slot, grown by doubling
        self._pos = np.zeros(64, np.int8)
        self._table: VoteTable | None = None

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, row_id: int) -> bool:
        return int(row_id) in self._slot_of

    def row_ids(self) -> list[int]:
        return sorted(self._slot_of)

    def owner(self, row_id: int) -> int:
        return self._owner[self._slot_of[int(row_id)]]

    def position(self, row_id: int) -> int:
        return int(self._pos[self._slot_of[int(row_id)]])

    def prepared(self, row_id: int) -> PreparedFingerprint:
        """The entry's prepared fingerprint (default matcher parameters, ``template=None``)."""
        return expand(self._prepared[self._slot_of[int(row_id)]], DEFAULT_MATCHER_PARAMS)

    # ------------------------------------------------------------------ writes
    def add(self, row_id: int, owner: int, position: int, prepared: PreparedFingerprint) -> None:
        """Add (or replace) one entry; the vote tables are rebuilt lazily at the next search."""
        row_id = int(row_id)
        compact = compress(_with_params(prepared, DEFAULT_MATCHER_PARAMS))
        with self._lock:
            if row_id in self._slot_of:
                self.remove([row_id])
            slot = len(self._row)
            if slot == self._alive.shape[0]:
                self._alive = np.concatenate([self._alive, np.zeros_like(self._alive)])
                self._pos = np.concatenate([self._pos, np.zeros_like(self._pos)])
            self._slot_of[row_id] = slot
            self._row.append(row_id)
            self._owner.append(int(owner))
            self._prepared.append(compact)
            self._alive[slot], self._pos[slot] = 1, int(position)
            self._table = None

    def remove(self, row_ids) -> int:
        """Remove entries by row id; returns how many were present."""
        n = 0
        with self._lock:
            for r in row_ids:
                slot = self._slot_of.pop(int(r), None)
                if slot is not None:
                    self._prepared[slot] = None
                    self._alive[slot] = 0
                    n += 1
            if n:
                self._table = None
                if len(self._row) > 1024 and len(self._slot_of) < len(self._row) // 2:
                    self._compact()
        return n

    def _compact(self) -> None:
        keep = sorted(self._slot_of.values())
        for name in ("_row", "_owner", "_prepared"):
            old = getattr(self, name)
            setattr(self, name, [old[s] for s in keep])
        n = len(keep)
        cap = max(64, 1 << (n - 1).bit_length()) if n else 64
        alive, pos = np.zeros(cap, np.uint8), np.zeros(cap, np.int8)
        alive[:n], pos[:n] = 1, self._pos[keep]
        self._alive, self._pos = alive, pos
        self._slot_of = {r: i for i, r in enumerate(self._row)}

    def _vote_table(self) -> VoteTable:
        with self._lock:
            if self._table is None:
                empty = np.zeros((0, self.params.tables), np.uint32)
                keys = [keys_of(p.bits, self.params) if p is not None else empty for p in self._prepared]
                cyl_slot = np.concatenate([np.full(len(k), s, np.int32) for s, k in enumerate(keys)]) if keys \
                    else np.zeros(0, np.int32)
                allk = np.concatenate(keys) if keys else np.zeros((0, self.params.tables), np.uint32)
                self._table = VoteTable(allk, cyl_slot, len(keys), self.params)
            return self._table

    # ------------------------------------------------------------------ search
    def shortlist_size(self) -> int:
        n = len(self)
        return min(n, max(self.params.min_shortlist, math.ceil(self.params.penetration * n)))

    def search(self, probe: PreparedFingerprint, *, positions=None, matcher_params=None,
               shortlist: int | None = None, exhaustive: bool = False, top: int | None = None
               ) -> tuple[list[Hit], int]:
        """Re-scored hits of ``probe``, best first, and the number of entries eligible.

        Parameters
        ----------
        probe : PreparedFingerprint
        positions : iterable of int, optional
            Only entries at these finger positions (0, unknown, always allowed).
        matcher_params : MatcherParams, optional
            Matching parameters (e.g. ``ANY_ROTATION_PARAMS`` for marks); the
            cylinder geometry must equal the one the entries were prepared with.
        shortlist : int, optional
            Candidates re-scored (default :meth:`shortlist_size`).
        exhaustive : bool
            Re-score every eligible entry (no shortlist): the reference the
            index's hit rate is measured against.
        top : int, optional
            Return only the ``top`` best hits (scores above 0), found with
            :func:`~biomatch.matcher.fingerprint.gallery.top_candidates`, which
            skips the pairing stage for candidates that cannot reach them;
            default: every re-scored candidate.
        """
        with self._lock:
            n_slots = len(self._row)
            ok = self._alive[:n_slots].copy()
            if positions is not None:
                allowed = sorted(set(int(p) for p in positions) | {0})
                ok &= np.isin(self._pos[:n_slots], allowed).astype(np.uint8)
            eligible = int(ok.sum())
            if eligible == 0:
                return [], 0
            k = eligible if exhaustive else min(eligible, shortlist or self.shortlist_size())
            if k >= eligible:
                slots = np.nonzero(ok)[0]
            else:
                table = self._vote_table()
                v = table.votes(keys_of(probe.bits, self.params), ok)
                v[ok == 0] = -1.0
                slots = np.argpartition(-v, k - 1)[:k]
            compact = [self._prepared[s] for s in slots]
            rows = [self._row[s] for s in slots]
        mp = matcher_params or probe.params
        if mp != probe.params:
            probe = _with_params(probe, mp)
        _with_params(probe, DEFAULT_MATCHER_PARAMS)  # same cylinder geometry as the entries
        items = [expand(c, mp) for c in compact]
        gallery = PreparedGallery.from_prepared(items, mp)
        if top is not None:
            order, scores, _ = top_candidates(probe, gallery, int(top))
            return [Hit(rows[i], float(sc), int(slots[i])) for i, sc in zip(order, scores)], eligible
        scores = score_many(probe, gallery)
        order = np.argsort(-scores, kind="stable")
        return [Hit(rows[i], float(scores[i]), int(slots[i])) for i in order], eligible

    def nbytes(self) -> int:
        """Bytes held by the compact prepared arrays and the vote tables (Python object overhead not included)."""
        total = sum(c.nbytes for c in self._prepared if c is not None)
        if self._table is not None:
            total += self._table.nbytes
        return total


_GEOMETRY = ("radius_px", "cells", "layers", "sigma_s_px", "sigma_d_rad", "mu_psi", "min_valid_cells",
             "min_neighbours", "min_matchable_cells")


def _with_params(item: PreparedFingerprint, params) -> PreparedFingerprint:
    """The same cylinders under other matching parameters (only comparison-time parameters may differ)."""
    for f in _GEOMETRY:
        if getattr(item.params, f) != getattr(params, f):
            raise ValueError(f"matcher parameter {f} differs from the one the gallery was prepared with")
    return replace(item, params=params)
