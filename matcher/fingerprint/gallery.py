"""Many prepared fingerprints in concatenated arrays, scored against a probe in one call."""
from __future__ import annotations

from dataclasses import dataclass
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
    concatenated, with offsets; this is also the in-memory form a 1:N index
    keeps for its shortlist re-scoring.
    """

    params: MatcherParams
    cyl_off: np.ndarray
    bits: np.ndarray
    valid: np.ndarray
    cells: np.ndarray
    x: np.ndarray
    y: np.ndarray
    angle: np.ndarray
    index: np.ndarray
    min_off: np.ndarray
    all_x: np.ndarray
    all_y: np.ndarray
    all_angle: np.ndarray
    fg_off: np.ndarray
    fg_shape: np.ndarray
    fg_block: np.ndarray
    fg_flat: np.ndarray
    or_off: np.ndarray
    or_shape: np.ndarray
    or_flat: np.ndarray

    def __len__(self) -> int:
        return int(self.cyl_off.shape[0] - 1)

    @classmethod
    def from_prepared(cls, items: Sequence[PreparedFingerprint],
                      params: MatcherParams = DEFAULT_MATCHER_PARAMS) -> "PreparedGallery":
        """Pack prepared fingerprints (or templates, prepared here) in order."""
        items = [_as_prepared(it, params) for it in items]
        words = items[0].bits.shape[1] if items else 1

        def offsets(sizes):
            return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)

        def cat(name, dtype, shape_tail=()):
            parts = [getattr(it, name) for it in items]
            return np.ascontiguousarray(np.concatenate(parts) if parts else np.zeros((0, *shape_tail), dtype), dtype=dtype)

        return cls(
            params=params,
            cyl_off=offsets([len(it) for it in items]),
            bits=cat("bits", np.uint64, (words,)), valid=cat("valid", np.uint64, (words,)),
            cells=cat("cells", np.uint64, (items[0].cells.shape[1] if items else 1,)),
            x=cat("x", np.float64), y=cat("y", np.float64), angle=cat("angle", np.float64),
            index=cat("index", np.int64),
            min_off=offsets([it.all_x.shape[0] for it in items]),
            all_x=cat("all_x", np.float64), all_y=cat("all_y", np.float64), all_angle=cat("all_angle", np.float64),
            fg_off=offsets([it.foreground.size for it in items]),
            fg_shape=np.array([it.foreground.shape for it in items], np.int64).reshape(-1, 2),
            fg_block=np.array([it.block_px for it in items], np.int64),
            fg_flat=np.ascontiguousarray(
                np.concatenate([it.foreground.ravel() for it in items]) if items else np.zeros(0, np.uint8)),
            or_off=offsets([it.orientation.size for it in items]),
            or_shape=np.array([it.orientation.shape for it in items], np.int64).reshape(-1, 2),
            or_flat=np.ascontiguousarray(
                np.concatenate([it.orientation.ravel() for it in items]) if items else np.zeros(0, np.float64)),
        )


def score_many(probe, gallery: PreparedGallery) -> np.ndarray:
    """Scores of one probe against every candidate of ``gallery``, in gallery order.

    Equal to ``[score(probe, c) for c in candidates]``, without the per-call
    overhead; releases the GIL, so several threads can search in parallel.
    """
    a = _as_prepared(probe, gallery.params)
    prm = params_vector(gallery.params).copy()
    prm[B.P_MIN_BITS] = a.min_matchable_cells
    g = gallery
    return B.score_gallery(*_args(a), g.cyl_off, g.bits, g.valid, g.cells, g.x, g.y, g.angle, g.index, g.min_off,
                           g.all_x, g.all_y, g.all_angle, g.fg_off, g.fg_shape, g.fg_block, g.fg_flat,
                           g.or_off, g.or_shape, g.or_flat, prm)


def top_candidates(probe, gallery: PreparedGallery, k: int = 20) -> tuple[np.ndarray, np.ndarray, int]:
    """The ``k`` best candidates of ``gallery`` for ``probe``, best first.

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
    a = _as_prepared(probe, gallery.params)
    prm = params_vector(gallery.params).copy()
    prm[B.P_MIN_BITS] = a.min_matchable_cells
    g = gallery
    ids, scores, paired = B.top_gallery(*_args(a), g.cyl_off, g.bits, g.valid, g.cells, g.x, g.y, g.angle, g.index,
                                        g.min_off, g.all_x, g.all_y, g.all_angle, g.fg_off, g.fg_shape, g.fg_block,
                                        g.fg_flat, g.or_off, g.or_shape, g.or_flat, prm, int(k))
    return ids, scores, int(paired)
