"""A compact in-memory form of :class:`~biomatch.matcher.fingerprint.PreparedFingerprint`.

A 1:N index holds every gallery finger prepared, so its size per finger is
the index's memory. The matcher's prepared form keeps float64 coordinates,
cylinder validity replicated over the direction layers, and the orientation
field as float64 radians: about 15 KB for a typical FVC finger. This form
keeps the same information losslessly in about 40% of that (60% for imported
minutiae, which have no orientation field):

* coordinates as float32 (the template's own precision: ``prepare`` widens them);
* cylinder validity as the cell words only (``valid`` is the cell validity
  replicated over layers, bit ``cell * layers + layer``);
* the orientation field as the template's degree codes (255 = background).

:func:`expand` rebuilds a ``PreparedFingerprint`` equal field by field to the
one :func:`compress` was given; a test checks this against ``prepare`` on
real prints, so a change of the matcher's prepared form shows up there.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from biomatch.matcher.fingerprint import PreparedFingerprint
from biomatch.matcher.fingerprint.cylinders import cell_offsets

__all__ = ["CompactFinger", "compress", "expand"]


@dataclass(frozen=True, slots=True)
class CompactFinger:
    bits: np.ndarray  # (k, words) uint64
    cells: np.ndarray  # (k, cell words) uint64
    xya: np.ndarray  # (3, k) float32: x, y, angle of the cylinders' minutiae
    index: np.ndarray  # (k,) int16 rows of the template
    all_xya: np.ndarray  # (3, n) float32: every minutia
    foreground: np.ndarray  # (rows, cols) uint8
    orientation: np.ndarray  # (rows, cols) uint8 degree codes, 255 background; (0, 0) if none
    block_px: int
    min_matchable_cells: int

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, f).nbytes for f in ("bits", "cells", "xya", "index", "all_xya", "foreground",
                                                    "orientation"))


def compress(p: PreparedFingerprint) -> CompactFinger:
    """The compact form of ``p`` (raises ValueError if it would not expand back exactly)."""
    o = p.orientation
    if o.size:
        codes = np.where(np.isnan(o), 255, np.rint(np.degrees(o))).astype(np.uint8)
    else:
        codes = np.zeros((0, 0), np.uint8)
    c = CompactFinger(
        bits=p.bits, cells=p.cells, xya=np.stack([p.x, p.y, p.angle]).astype(np.float32),
        index=p.index.astype(np.int16), all_xya=np.stack([p.all_x, p.all_y, p.all_angle]).astype(np.float32),
        foreground=p.foreground, orientation=codes, block_px=int(p.block_px),
        min_matchable_cells=int(p.min_matchable_cells))
    if len(p.index) and (int(p.index.max()) > np.iinfo(np.int16).max):
        raise ValueError("template with more than 32767 minutiae")
    return c


def _valid_from_cells(cells: np.ndarray, words: int, params) -> np.ndarray:
    m = cell_offsets(params.radius_px, params.cells).shape[0]
    k = cells.shape[0]
    if k == 0:
        return np.zeros((0, words), np.uint64)
    cell_ok = np.unpackbits(np.ascontiguousarray(cells).view(np.uint8), axis=1, bitorder="little")[:, :m]
    rep = np.repeat(cell_ok, params.layers, axis=1)
    full = np.zeros((k, words * 64), np.uint8)
    full[:, :rep.shape[1]] = rep
    return np.ascontiguousarray(np.packbits(full, axis=1, bitorder="little").view(np.uint64))


def expand(c: CompactFinger, params) -> PreparedFingerprint:
    """The ``PreparedFingerprint`` (``template=None``) that :func:`compress` was given."""
    xya = c.xya.astype(np.float64)
    allv = c.all_xya.astype(np.float64)
    o = c.orientation
    orient = np.where(o == 255, np.nan, np.radians(o.astype(np.float64))) if o.size else np.zeros((0, 0))
    return PreparedFingerprint(
        template=None, index=c.index.astype(np.int64), x=np.ascontiguousarray(xya[0]),
        y=np.ascontiguousarray(xya[1]), angle=np.ascontiguousarray(xya[2]), bits=c.bits,
        valid=_valid_from_cells(c.cells, c.bits.shape[1], params), cells=c.cells, params=params,
        min_matchable_cells=c.min_matchable_cells, all_x=np.ascontiguousarray(allv[0]),
        all_y=np.ascontiguousarray(allv[1]), all_angle=np.ascontiguousarray(allv[2]),
        foreground=c.foreground, block_px=c.block_px, orientation=orient)
