"""Many prepared fingerprints in concatenated arrays, scored against a probe in one call."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Sequence

import numpy as np

from . import _batch as B
from .cylinders import PreparedFingerprint
from .matcher import _args, _as_prepared, params_vector
from .params import DEFAULT_MATCHER_PARAMS, MatcherParams

__all__ = ["PreparedGallery", "score_many", "top_candidates"]


@dataclass(frozen=True, eq=False)
class PreparedGallery:
    """Prepared candidates packed for :func:`score_many` (immutable, thread-safe).

    The arrays are the per-candidate arrays of :class:`PreparedFingerprint`
    concatenated, with offsets, in a compact lossless form: coordinates as
    float32 (the template's own precision) and once only (a cylinder's
    minutia is a row of the minutiae), cylinder validity as cell words only
    (a candidate's similarities need no more, see ``similarity_matrix``), the
    orientation field as the degree codes ``prepare`` averages, and the
    foreground blocks as bytes. About 4 KB per FVC finger; this is the
    in-memory form a 1:N index keeps.
    """

    params: MatcherParams
    cyl_off: np.ndarray  # (n + 1,) int64
    bits: np.ndarray  # (K, words) uint64
    cells: np.ndarray  # (K, cell words) uint64
    index: np.ndarray  # (K,) int32 template rows (the cylinders' minutiae)
    min_off: np.ndarray  # (n + 1,) int64
    all_x: np.ndarray  # (M,) float32
    all_y: np.ndarray
    all_angle: np.ndarray
    fg_off: np.ndarray  # (n + 1,) int64
    fg_shape: np.ndarray  # (n, 2) int32
    fg_block: np.ndarray  # (n,) int32
    fg_flat: np.ndarray  # uint8
    or_off: np.ndarray  # (n + 1,) int64
    or_shape: np.ndarray  # (n, 2) int32
    or_block: np.ndarray  # (n,) int32, pixels per orientation block (the template's, times the averaging cell)
    or_flat: np.ndarray  # uint8 degree codes, 255 background

    def __len__(self) -> int:
        return int(self.cyl_off.shape[0] - 1)

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays."""
        return sum(getattr(self, f.name).nbytes for f in fields(self) if f.name != "params")

    @classmethod
    def from_prepared(cls, items: Sequence[PreparedFingerprint],
                      params: MatcherParams = DEFAULT_MATCHER_PARAMS) -> "PreparedGallery":
        """Pack prepared fingerprints (or templates, prepared here) in order."""
        items = [_as_prepared(it, params) for it in items]
        words = items[0].bits.shape[1] if items else 1
        cell_words = items[0].cells.shape[1] if items else 1

        def offsets(sizes):
            return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)

        def cat(parts, dtype, shape_tail=()):
            if not parts:
                return np.zeros((0, *shape_tail), dtype)
            return np.ascontiguousarray(np.concatenate(parts), dtype=dtype)

        return cls(
            params=params,
            cyl_off=offsets([len(it) for it in items]),
            bits=cat([it.bits for it in items], np.uint64, (words,)),
            cells=cat([it.cells for it in items], np.uint64, (cell_words,)),
            index=cat([it.index for it in items], np.int32),
            min_off=offsets([it.all_x.shape[0] for it in items]),
            all_x=cat([it.all_x for it in items], np.float32), all_y=cat([it.all_y for it in items], np.float32),
            all_angle=cat([it.all_angle for it in items], np.float32),
            fg_off=offsets([it.foreground.size for it in items]),
            fg_shape=np.array([it.foreground.shape for it in items], np.int32).reshape(-1, 2),
            fg_block=np.array([it.block_px for it in items], np.int32),
            fg_flat=cat([it.foreground.ravel() for it in items], np.uint8),
            or_off=offsets([it.orientation.size for it in items]),
            or_shape=np.array([it.orientation.shape for it in items], np.int32).reshape(-1, 2),
            or_block=np.array([it.orientation_block_px for it in items], np.int32),
            or_flat=cat([it.orientation.ravel() for it in items], np.uint8),
        )

    @classmethod
    def concat(cls, galleries: Sequence["PreparedGallery"]) -> "PreparedGallery":
        """One gallery holding the candidates of ``galleries`` in order (same cylinder geometry)."""
        if not galleries:
            raise ValueError("nothing to concatenate")
        first = galleries[0]
        for g in galleries[1:]:
            if g.params.cylinder_key() != first.params.cylinder_key():
                raise ValueError("galleries were prepared with other matcher parameters (cylinder geometry)")

        def offsets(name):
            parts, base = [], 0
            for g in galleries:
                off = getattr(g, name)
                parts.append(off[:-1] + base)
                base += int(off[-1])
            return np.concatenate(parts + [np.array([base], np.int64)]).astype(np.int64)

        data = {}
        for f in fields(cls):
            if f.name == "params":
                continue
            if f.name.endswith("_off"):
                data[f.name] = offsets(f.name)
            else:
                data[f.name] = np.ascontiguousarray(np.concatenate([getattr(g, f.name) for g in galleries]))
        return cls(params=first.params, **data)


def _positions(gallery: PreparedGallery, positions) -> np.ndarray:
    n = len(gallery)
    if positions is None:
        return np.arange(n, dtype=np.int64)
    pos = np.asarray(positions)
    if pos.ndim != 1 or (pos.size and not np.issubdtype(pos.dtype, np.integer)):
        raise ValueError("positions must be a 1-d array of integers")
    pos = pos.astype(np.int64)
    if pos.size and (pos.min() < 0 or pos.max() >= n):
        raise ValueError(f"positions must lie in 0..{n - 1}")
    return pos


def _call_args(probe, gallery: PreparedGallery, params: MatcherParams | None):
    params = params or gallery.params
    if params.cylinder_key() != gallery.params.cylinder_key():
        raise ValueError("matcher parameters differ from the gallery's cylinder geometry")
    a = _as_prepared(probe, params)
    prm = params_vector(params).copy()
    prm[B.P_MIN_BITS] = a.min_matchable_cells
    g = gallery
    arrays = (g.cyl_off, g.bits, g.cells, g.index, g.min_off, g.all_x, g.all_y, g.all_angle,
              g.fg_off, g.fg_shape, g.fg_block, g.fg_flat, g.or_off, g.or_shape, g.or_block, g.or_flat,
              prm)
    return _args(a), arrays


def score_many(probe, gallery: PreparedGallery, positions=None, params: MatcherParams | None = None) -> np.ndarray:
    """Scores of one probe against candidates of ``gallery``.

    Equal to ``[score(probe, c) for c in candidates]``, without the per-call
    overhead; releases the GIL, so several threads can search in parallel.

    Parameters
    ----------
    probe : FingerprintTemplate or PreparedFingerprint
    gallery : PreparedGallery
    positions : array of int, optional
        Gallery positions to score, in the order wanted (default: all, in gallery order).
    params : MatcherParams, optional
        Comparison parameters (default: the gallery's); the cylinder geometry must be the gallery's.

    Returns
    -------
    (len(positions),) float64
    """
    pos = _positions(gallery, positions)
    probe_args, arrays = _call_args(probe, gallery, params)
    return B.score_gallery(*probe_args, pos, *arrays)


def top_candidates(probe, gallery: PreparedGallery, k: int = 20, positions=None,
                   params: MatcherParams | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """The ``k`` best candidates of ``gallery`` (or of its ``positions``) for ``probe``, best first.

    Exactly the top of ``score_many`` (ties broken by gallery position), but
    the costly pairing stage runs only on candidates whose local score could
    still reach the top ``k``: the final score never exceeds
    ``sqrt(local score)``.

    Returns
    -------
    positions : (m,) int64
        Gallery positions, best first; m <= k (candidates scoring 0 are left out).
    scores : (m,) float64
    paired : int
        How many candidates needed the pairing stage.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    pos = np.unique(_positions(gallery, positions))
    probe_args, arrays = _call_args(probe, gallery, params)
    ids, scores, paired = B.top_gallery(*probe_args, pos, *arrays, int(k))
    return ids, scores, int(paired)
