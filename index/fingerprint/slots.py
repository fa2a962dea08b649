"""Per-slot bookkeeping of a fingerprint index in numpy arrays (no Python object per finger).

A slot is an entry's place in the index, in the order of enrolment. Each has
the store row id, the owner (record or mark id), the finger position, an
alive flag and its cylinder count. Row ids are looked up through a sorted
copy of the live rows, kept up to date cheaply while rows arrive in
increasing order (the store's ids do) and rebuilt otherwise.
"""
from __future__ import annotations

import numpy as np

__all__ = ["Slots"]

_FIELDS = (("row", np.int64), ("owner", np.int64), ("pos", np.int8), ("alive", np.uint8), ("ncyl", np.uint16))


class Slots:
    """Growable parallel arrays ``row, owner, pos, alive, ncyl`` (not locked: the index locks)."""

    def __init__(self, capacity: int = 64):
        for name, dtype in _FIELDS:
            setattr(self, name, np.zeros(capacity, dtype))
        self.n = 0
        self.alive_count = 0
        self._sorted_rows = np.zeros(capacity, np.int64)  # live rows ascending, with their slots
        self._sorted_slots = np.zeros(capacity, np.int64)
        self._n_sorted = 0
        self._sorted_ok = True
        self._held: set[int] = set()
        self._held_n = 0

    def _grow(self, need: int) -> None:
        cap = self.row.shape[0]
        if need <= cap:
            return
        new = max(2 * cap, need)
        for name, dtype in _FIELDS:
            a = np.zeros(new, dtype)
            a[:self.n] = getattr(self, name)[:self.n]
            setattr(self, name, a)

    def append(self, row: int, owner: int, pos: int, ncyl: int) -> int:
        """A new slot for ``row`` (a live slot of the same row is killed: a replacement)."""
        if not 0 <= ncyl <= np.iinfo(np.uint16).max:
            raise ValueError(f"a finger has {ncyl} cylinders; at most 65535 are indexed")
        self.kill([row])
        self._grow(self.n + 1)
        s = self.n
        self.row[s], self.owner[s], self.pos[s], self.alive[s], self.ncyl[s] = row, owner, pos, 1, ncyl
        self.n += 1
        self.alive_count += 1
        if self._sorted_ok and (self._n_sorted == 0 or row > self._sorted_rows[self._n_sorted - 1]):
            if self._n_sorted == self._sorted_rows.shape[0]:
                room = max(64, 2 * self._n_sorted)
                self._sorted_rows = np.resize(self._sorted_rows, room)
                self._sorted_slots = np.resize(self._sorted_slots, room)
            self._sorted_rows[self._n_sorted], self._sorted_slots[self._n_sorted] = row, s
            self._n_sorted += 1
        else:
            self._sorted_ok = False
        return s

    def _lookup(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._sorted_ok:
            live = np.nonzero(self.alive[:self.n])[0]
            order = np.argsort(self.row[live], kind="stable")
            self._sorted_rows, self._sorted_slots = self.row[live][order], live[order].astype(np.int64)
            self._n_sorted, self._sorted_ok = len(live), True
        return self._sorted_rows[:self._n_sorted], self._sorted_slots[:self._n_sorted]

    def slot_of(self, row: int) -> int | None:
        rows, slots = self._lookup()
        i = int(np.searchsorted(rows, int(row)))
        if i < len(rows) and rows[i] == int(row):
            return int(slots[i])
        return None

    def kill(self, rows) -> int:
        """Mark the slots of ``rows`` dead; returns how many were alive."""
        n = 0
        for r in rows:
            s = self.slot_of(int(r))
            if s is not None:
                self.alive[s] = 0
                self.alive_count -= 1
                n += 1
                sorted_rows, _ = self._lookup()
                i = int(np.searchsorted(sorted_rows, int(r)))
                keep = np.arange(self._n_sorted) != i
                self._sorted_rows = self._sorted_rows[:self._n_sorted][keep]
                self._sorted_slots = self._sorted_slots[:self._n_sorted][keep]
                self._n_sorted -= 1
        return n

    def alive_rows(self) -> np.ndarray:
        return self._lookup()[0].copy()

    def positions_held(self) -> set[int]:
        """Finger positions of the slots (alive or not): the ones a search over every position looks up."""
        if self._held_n != self.n:
            self._held |= set(np.unique(self.pos[self._held_n:self.n]).tolist())
            self._held_n = self.n
        return set(self._held)

    def eligible(self, positions=None) -> np.ndarray:
        """``(n,)`` uint8: alive slots, at ``positions`` when given (0, unknown, always allowed)."""
        ok = self.alive[:self.n].copy()
        if positions is not None:
            pos = self.pos[:self.n]
            at = pos == 0
            for p in set(int(p) for p in positions) - {0}:
                at |= pos == p
            ok &= at
        return ok

    def vote_norm(self, size_power: float) -> np.ndarray:
        """``(n,)`` float32: ``1 / max(cylinders, 1) ** size_power`` per slot, extended as slots arrive."""
        if getattr(self, "_norm_power", None) != size_power:
            self._norm, self._norm_n, self._norm_power = np.zeros(0, np.float32), 0, size_power
        if self._norm_n < self.n:
            fresh = 1.0 / np.maximum(self.ncyl[self._norm_n:self.n].astype(np.float32), 1.0) ** size_power
            self._norm = np.concatenate([self._norm[:self._norm_n], fresh.astype(np.float32)])
            self._norm_n = self.n
        return self._norm[:self.n]

    @property
    def nbytes(self) -> int:
        return int(sum(getattr(self, name).nbytes for name, _ in _FIELDS)
                   + self._sorted_rows.nbytes + self._sorted_slots.nbytes)

    def arrays(self) -> dict:
        return {name: getattr(self, name)[:self.n].copy() for name, _ in _FIELDS}

    @classmethod
    def from_arrays(cls, a: dict) -> "Slots":
        n = int(a["row"].shape[0])
        out = cls(max(64, n))
        for name, dtype in _FIELDS:
            getattr(out, name)[:n] = np.asarray(a[name], dtype)
        out.n, out.alive_count, out._sorted_ok = n, int(out.alive[:n].sum()), False
        return out
