"""Segments of a fingerprint index: a packed gallery and the bucket tables of its cylinders.

A :class:`Segment` holds the fingers of a contiguous range of slots as one
:class:`~biomatch.matcher.fingerprint.PreparedGallery` (the matcher's compact
form: no Python object per finger) and the :class:`~.lsh.Level` of their
cylinders' min-hash keys. Enrolment adds small segments; adjacent ones merge
(gallery and tables together) as in a log-structured merge tree, up to
``IndexParams.max_segment`` fingers, so appends cost time in proportion to
the new fingers and a search runs over a few large segments.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from biomatch.matcher.fingerprint import PreparedFingerprint, PreparedGallery
from biomatch.matcher.fingerprint.cylinders import cell_count_planes, cell_offsets
from biomatch.matcher.fingerprint.params import MatcherParams

from .lsh import Level, keys_of, with_position
from .params import IndexParams

__all__ = ["Segment", "item_of", "merge_tail"]


@dataclass(frozen=True, eq=False)
class Segment:
    """Fingers in slots ``start .. start + len(gallery) - 1`` (immutable, shared by concurrent searches)."""

    start: int
    gallery: PreparedGallery
    level: Level

    def __len__(self) -> int:
        return len(self.gallery)

    @classmethod
    def build(cls, items: Sequence[PreparedFingerprint], positions, start: int, first_cyl: int,
              params: IndexParams, matcher_params: MatcherParams) -> "Segment":
        """The segment of ``items`` (finger ``positions``, one each) in slots ``start ..``, cylinders ``first_cyl ..``."""
        gallery = PreparedGallery.from_prepared(list(items), matcher_params)
        cyl_pos = np.repeat(np.asarray(positions, np.int64), np.diff(gallery.cyl_off))
        keys = with_position(keys_of(gallery.bits, params), cyl_pos, params)
        return cls(int(start), gallery, Level.build(keys, first_cyl))

    @staticmethod
    def merge(a: "Segment", b: "Segment") -> "Segment":
        if b.start != a.start + len(a):
            raise ValueError("only adjacent segments merge")
        return Segment(a.start, PreparedGallery.concat([a.gallery, b.gallery]), Level.merge(a.level, b.level))

    @property
    def nbytes(self) -> int:
        return int(self.gallery.nbytes + self.level.nbytes)


def merge_tail(segments: list[Segment], ratio: int, cap: int) -> list[Segment]:
    """Merge the newest segments while the older of the last two is at most ``ratio`` times the newer
    (and the result holds at most ``cap`` fingers): a geometric series of sizes, so every finger is
    copied a bounded number of times on average."""
    out = list(segments)
    while len(out) >= 2 and len(out[-2]) <= ratio * len(out[-1]) and len(out[-2]) + len(out[-1]) <= cap:
        b = out.pop()
        out[-1] = Segment.merge(out[-1], b)
    return out


def item_of(gallery: PreparedGallery, i: int) -> PreparedFingerprint:
    """Candidate ``i`` of ``gallery`` as the :class:`PreparedFingerprint` ``prepare`` gave (``template=None``).

    The gallery's form is lossless (float32 coordinates are the template's own
    precision, validity is the cell words, orientations are degree codes), so
    this equals the prepared fingerprint field by field; a test checks it.
    """
    g, p = gallery, gallery.params
    c0, c1 = int(g.cyl_off[i]), int(g.cyl_off[i + 1])
    m0, m1 = int(g.min_off[i]), int(g.min_off[i + 1])
    n_cells = cell_offsets(p.radius_px, p.cells).shape[0]
    codes = g.or_flat[g.or_off[i]:g.or_off[i + 1]].reshape(tuple(int(v) for v in g.or_shape[i]))
    fg = g.fg_flat[g.fg_off[i]:g.fg_off[i + 1]].reshape(tuple(int(v) for v in g.fg_shape[i]))
    rows = m0 + g.index[c0:c1].astype(np.int64)  # the cylinders' minutiae
    orient = np.ascontiguousarray(codes) if codes.size else np.zeros((0, 0), np.uint8)
    cells = np.ascontiguousarray(g.cells[c0:c1])
    return PreparedFingerprint(
        template=None, index=g.index[c0:c1].astype(np.int64),
        x=g.all_x[rows].astype(np.float64), y=g.all_y[rows].astype(np.float64),
        angle=g.all_angle[rows].astype(np.float64),
        bits=np.ascontiguousarray(g.bits[c0:c1]), valid=_valid_from_cells(cells, g.bits.shape[1], n_cells, p.layers),
        counts=cell_count_planes(g.bits[c0:c1], n_cells, p.layers), cells=cells, params=p,
        min_matchable_cells=int(math.ceil(p.min_matchable_cells * n_cells)),
        all_x=g.all_x[m0:m1].astype(np.float64), all_y=g.all_y[m0:m1].astype(np.float64),
        all_angle=g.all_angle[m0:m1].astype(np.float64), foreground=np.ascontiguousarray(fg),
        block_px=int(g.fg_block[i]), orientation=orient,
        orientation_block_px=int(g.or_block[i]))


def _valid_from_cells(cells: np.ndarray, words: int, n_cells: int, layers: int) -> np.ndarray:
    """Cell validity replicated over the direction layers (bit ``cell * layers + layer``)."""
    k = cells.shape[0]
    if k == 0:
        return np.zeros((0, words), np.uint64)
    cell_ok = np.unpackbits(cells.view(np.uint8), axis=1, bitorder="little")[:, :n_cells]
    full = np.zeros((k, words * 64), np.uint8)
    full[:, :n_cells * layers] = np.repeat(cell_ok, layers, axis=1)
    return np.ascontiguousarray(np.packbits(full, axis=1, bitorder="little").view(np.uint64))
