"""An in-memory set of prepared fingerprints (fingers or marks) with a two-stage 1:N search.

Stage 1 votes with the min-hash tables of :mod:`.lsh` and keeps a shortlist
(every slot when the gallery is smaller than ``min_shortlist``); stage 2
re-scores the shortlist with the pairwise matcher: one
:func:`~biomatch.matcher.fingerprint.gallery.top_candidates` call per segment
with the shortlisted positions, on ``search_threads`` threads (the kernels
release the GIL).

The fingers live in :class:`~.segment.Segment` s: packed matcher galleries
with the bucket tables of their cylinders, and no Python object per finger.
Slot bookkeeping (row id, owner, finger position, alive, cylinder count) is
kept in numpy arrays. Removed fingers stay in their segment, masked, until
the index is rebuilt from the store.
"""
from __future__ import annotations

import ctypes
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from biomatch.matcher.fingerprint import PreparedFingerprint
from biomatch.matcher.fingerprint.gallery import score_many, top_candidates
from biomatch.matcher.fingerprint.params import DEFAULT_MATCHER_PARAMS

from .lsh import probe_keys_of, with_position
from .params import DEFAULT_INDEX_PARAMS, IndexParams
from .segment import Segment, item_of, merge_tail
from .slots import Slots

__all__ = ["FingerIndex", "Hit"]

_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOL_LOCK = threading.Lock()


def _pool(threads: int) -> ThreadPoolExecutor:
    with _POOL_LOCK:
        if threads not in _POOLS:
            _POOLS[threads] = ThreadPoolExecutor(threads, thread_name_prefix="afis-search")
        return _POOLS[threads]


@dataclass(frozen=True)
class Hit:
    """One re-scored gallery entry: its row id (``fingerprints.id`` or ``marks.id``) and raw score."""

    row_id: int
    score: float
    slot: int


class FingerIndex:
    """Prepared fingerprints keyed by store row id, with owner and finger position per row.

    Thread-safe: one lock around changes; searches take the immutable
    segments they need under it and score outside it.
    """

    def __init__(self, params: IndexParams = DEFAULT_INDEX_PARAMS):
        self.params = params
        self._lock = threading.RLock()
        self.slots = Slots()
        self._segments: list[Segment] = []
        self._pending: list[PreparedFingerprint] = []  # added, not yet in a segment
        self._cyl_slot = np.zeros(1024, np.uint32)  # slot of every cylinder id
        self._n_cyl = 0

    def __len__(self) -> int:
        return self.slots.alive_count

    def __contains__(self, row_id: int) -> bool:
        return self.slots.slot_of(row_id) is not None

    def row_ids(self) -> list[int]:
        return self.slots.alive_rows().tolist()

    def owner(self, row_id: int) -> int:
        return int(self.slots.owner[self._slot(row_id)])

    def position(self, row_id: int) -> int:
        return int(self.slots.pos[self._slot(row_id)])

    def _slot(self, row_id: int) -> int:
        s = self.slots.slot_of(row_id)
        if s is None:
            raise KeyError(row_id)
        return s

    def prepared(self, row_id: int) -> PreparedFingerprint:
        """The entry's prepared fingerprint (default matcher parameters, ``template=None``)."""
        with self._lock:
            self._flush()
            s = self._slot(row_id)
            seg = self._segments[self._segment_of(np.array([s]))[0]]
        return item_of(seg.gallery, s - seg.start)

    # ------------------------------------------------------------------ writes
    def add(self, row_id: int, owner: int, position: int, prepared: PreparedFingerprint) -> None:
        """Add (or replace) one entry; it goes into a new segment at the next search (or every ``flush_fingers``)."""
        prepared = _with_params(prepared, DEFAULT_MATCHER_PARAMS)
        with self._lock:
            self.slots.append(int(row_id), int(owner), int(position), len(prepared))
            k = len(prepared)
            if self._n_cyl + k > self._cyl_slot.shape[0]:
                grown = np.zeros(max(2 * self._cyl_slot.shape[0], self._n_cyl + k), np.uint32)
                grown[:self._n_cyl] = self._cyl_slot[:self._n_cyl]
                self._cyl_slot = grown
            self._cyl_slot[self._n_cyl:self._n_cyl + k] = self.slots.n - 1
            self._n_cyl += k
            self._pending.append(prepared)
            if len(self._pending) >= self.params.flush_fingers:
                self._flush()

    def remove(self, row_ids) -> int:
        """Remove entries by row id; returns how many were present."""
        with self._lock:
            return self.slots.kill(row_ids)

    def flush(self) -> None:
        """Put the pending entries into a segment (done by every search)."""
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        start = self.slots.n - len(self._pending)
        first_cyl = self._n_cyl - sum(len(p) for p in self._pending)
        seg = Segment.build(self._pending, self.slots.pos[start:self.slots.n], start, first_cyl, self.params,
                            DEFAULT_MATCHER_PARAMS)
        self._pending = []
        self._segments = merge_tail(self._segments + [seg], self.params.merge_ratio, self.params.max_segment)
        _release_freed_heap()

    def _segment_of(self, slots: np.ndarray) -> np.ndarray:
        starts = np.array([s.start for s in self._segments], np.int64)
        return np.searchsorted(starts, slots, side="right") - 1

    # ------------------------------------------------------------------ search
    def shortlist_size(self, eligible: int | None = None) -> int:
        """Candidates re-scored out of ``eligible`` entries (default: all)."""
        n = len(self) if eligible is None else int(eligible)
        return min(n, max(self.params.min_shortlist, math.ceil(self.params.penetration * n)))

    def votes(self, probe: PreparedFingerprint, slot_ok: np.ndarray, positions=None, *,
              multi_probe: bool | None = None) -> np.ndarray:
        """Stage-1 candidate scores per slot (``slot_ok == 0`` slots score 0); see :mod:`.lsh`.

        ``positions``: the finger positions ``slot_ok`` allows (default: every one held);
        keys are looked up once per position (see :func:`.lsh.with_position`).
        ``multi_probe``: look up the multi-probe key variants too (default ``params.multi_probe``).
        """
        with self._lock:
            self._flush()
            segments, cyl_slot, n = list(self._segments), self._cyl_slot, self.slots.n
            held = self.slots.positions_held()
            slot_pos = self.slots.pos  # grows by replacement, never in place: safe to read outside the lock
            norm = self.slots.vote_norm(self.params.size_power)
        wanted = held if positions is None else held & ({int(p) for p in positions} | {0})
        key_params = self.params
        if multi_probe is not None and bool(multi_probe) != key_params.multi_probe:
            key_params = replace(key_params, multi_probe=bool(multi_probe))
        pk = probe_keys_of(probe.bits, key_params)
        ok = np.zeros(n, np.uint8)  # slots added since slot_ok was made get no votes
        ok[:min(n, len(slot_ok))] = slot_ok[:n]
        parts = np.array_split(np.arange(len(pk)), max(1, min(self.params.search_threads, len(pk))))

        def run(rows):
            v = np.zeros(n, np.float32)
            w = np.ones(len(rows), np.float32)
            rows_keys = pk[rows]
            for p in sorted(wanted):
                keys = np.ascontiguousarray(with_position(rows_keys, p, self.params))
                for seg in segments:
                    seg.level.vote_into(v, keys, w, cyl_slot, ok, self.params, slot_pos, p)
            return v

        if len(parts) > 1:
            total, *rest = _pool(self.params.search_threads).map(run, parts)
            for v in rest:
                total += v
        else:
            total = run(parts[0])
        total *= norm
        return total

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
            :func:`~biomatch.matcher.fingerprint.gallery.top_candidates`;
            default: every re-scored candidate.
        """
        slots, eligible = self.shortlist(probe, positions=positions, shortlist=shortlist, exhaustive=exhaustive)
        if eligible == 0:
            return [], 0
        return self.rescore(probe, slots, matcher_params=matcher_params, top=top), eligible

    def shortlist(self, probe: PreparedFingerprint, *, positions=None, shortlist: int | None = None,
                  exhaustive: bool = False, with_votes: bool = False, multi_probe: bool | None = None):
        """Stage 1: the slots to re-score (ascending) and the number of eligible entries
        (and, ``with_votes``, their votes: all ones when every eligible entry is kept).
        ``multi_probe`` as in :meth:`votes`."""
        with self._lock:
            self._flush()
            ok = self.slots.eligible(positions)
        eligible = int(ok.sum())
        k = eligible if exhaustive else min(eligible, shortlist or self.shortlist_size(eligible))
        if k >= eligible:
            slots = np.nonzero(ok)[0].astype(np.int64)
            return (slots, eligible, np.ones(len(slots), np.float32)) if with_votes else (slots, eligible)
        v = self.votes(probe, ok, positions, multi_probe=multi_probe)[:len(ok)]
        v[ok == 0] = -1.0
        slots = np.sort(np.argpartition(-v, k - 1)[:k]).astype(np.int64)
        return (slots, eligible, v[slots]) if with_votes else (slots, eligible)

    def rescore(self, probe: PreparedFingerprint, slots: np.ndarray, *, matcher_params=None,
                top: int | None = None) -> list[Hit]:
        """Stage 2: the matcher's scores of ``slots`` (ascending), best first (ties: lower slot first)."""
        mp = matcher_params or probe.params
        if mp.cylinder_key() != DEFAULT_MATCHER_PARAMS.cylinder_key():
            raise ValueError("matcher parameters differ from the cylinder geometry the gallery was prepared with")
        probe = _with_params(probe, mp)
        with self._lock:
            self._flush()
            segs = list(self._segments)
            rows = self.slots.row[slots]
        which = self._segment_of_list(segs, slots)
        jobs = []
        for j in np.unique(which):
            local = slots[which == j] - segs[j].start
            n_parts = max(1, min(self.params.search_threads, len(local) // 64))
            for part in np.array_split(local, n_parts):  # balance the threads within a large segment
                jobs.append((segs[j], part))

        def run(job):
            seg, pos = job
            if top is None:
                return pos, score_many(probe, seg.gallery, positions=pos, params=mp), seg.start
            ids, sc, _ = top_candidates(probe, seg.gallery, int(top), positions=pos, params=mp)
            return ids, sc, seg.start

        pool = _pool(self.params.search_threads)
        results = list(pool.map(run, jobs)) if len(jobs) > 1 else [run(j) for j in jobs]
        got_slots = np.concatenate([r[0] + r[2] for r in results]) if results else np.zeros(0, np.int64)
        got_scores = np.concatenate([r[1] for r in results]) if results else np.zeros(0)
        order = np.lexsort((got_slots, -got_scores))
        if top is not None:
            order = order[:int(top)]
        row_of = dict(zip(slots.tolist(), rows.tolist()))
        return [Hit(int(row_of[int(got_slots[i])]), float(got_scores[i]), int(got_slots[i])) for i in order]

    @staticmethod
    def _segment_of_list(segs, slots):
        starts = np.array([s.start for s in segs], np.int64)
        return np.searchsorted(starts, slots, side="right") - 1

    # ------------------------------------------------------------------ memory and persistence
    def nbytes(self) -> int:
        """Bytes held by the galleries, the bucket tables and the slot arrays (Python objects not included)."""
        with self._lock:
            self._flush()
            return int(sum(s.nbytes for s in self._segments) + self._cyl_slot.nbytes + self.slots.nbytes)

    def segments(self) -> list[Segment]:
        with self._lock:
            self._flush()
            return list(self._segments)

    def restore(self, slots: "Slots", segments: list[Segment], cyl_slot: np.ndarray) -> None:
        """Replace the contents with saved ones (see :mod:`.persist`)."""
        with self._lock:
            self.slots, self._segments, self._pending = slots, list(segments), []
            self._cyl_slot, self._n_cyl = np.ascontiguousarray(cyl_slot, np.uint32), int(cyl_slot.shape[0])


def _release_freed_heap() -> None:
    """Give the heap pages freed by the packed fingers back to the OS (glibc only; else nothing).

    The queued prepared fingers are many small arrays; once packed and freed,
    glibc keeps their pages, and the process would hold about 1.7 times the
    index's bytes (measured at 30k fingers: 16.7 KB of RSS per finger for 9.4
    KB of arrays, 9.6 KB after trimming).
    """
    global _TRIM
    if _TRIM is None:
        try:
            _TRIM = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _TRIM = False
    if _TRIM:
        _TRIM(0)


_TRIM = None


def _with_params(item: PreparedFingerprint, params) -> PreparedFingerprint:
    """The same cylinders under other matching parameters (only comparison-time parameters may differ)."""
    if item.params.cylinder_key() != params.cylinder_key():
        raise ValueError("matcher parameters differ from the cylinder geometry the gallery was prepared with")
    return item if item.params == params else replace(item, params=params)
