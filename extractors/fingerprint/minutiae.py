"""Minutiae detection on the ridge skeleton: crossing number, tracing, direction."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._kernels import crossing_number_map, trace_branches
from .orient import OrientationField
from .params import DEFAULT_PARAMS, ExtractorParams
from .template import MinutiaKind

__all__ = ["CandidateMinutiae", "crossing_numbers", "detect_minutiae"]


def _crossing_lut() -> np.ndarray:
    lut = np.zeros(256, dtype=np.uint8)
    for code in range(256):
        bits = [(code >> k) & 1 for k in range(8)]
        lut[code] = sum(1 for k in range(8) if bits[k] == 0 and bits[(k + 1) % 8] == 1)
    return lut


_CROSSING_LUT = _crossing_lut()


def crossing_numbers(skeleton: np.ndarray) -> np.ndarray:
    """Crossing number of every skeleton pixel (0 elsewhere).

    The 8 neighbours are packed into one byte and a 256-entry table gives the
    number of 0-to-1 transitions around the pixel (Arcelli & Baja 1985):
    1 is a ridge ending, 3 a bifurcation, 2 a ridge pixel. The Numba kernel
    visits skeleton pixels only (twin: ``_reference.crossing_numbers_reference``).

    Parameters
    ----------
    skeleton : (rows, cols) bool

    Returns
    -------
    (rows, cols) uint8
    """
    return crossing_number_map(np.ascontiguousarray(skeleton, dtype=np.uint8), _CROSSING_LUT)


@dataclass(frozen=True)
class CandidateMinutiae:
    """Minutiae found on the skeleton, before false-minutiae removal.

    ``hit``, ``length`` are the per-branch trace results of
    :func:`_kernels.trace_branches` (n, 3).
    """

    row: np.ndarray
    col: np.ndarray
    angle: np.ndarray
    kind: np.ndarray
    hit: np.ndarray
    length: np.ndarray


def detect_minutiae(
    skeleton: np.ndarray, field: OrientationField, mask: np.ndarray, params: ExtractorParams = DEFAULT_PARAMS
) -> CandidateMinutiae:
    """Find ridge endings and bifurcations with their directions.

    Parameters
    ----------
    skeleton : (rows, cols) bool
    field : OrientationField
        Ridge orientation.
    mask : (rows, cols) bool
        Foreground; skeleton pixels outside are ignored.

    Returns
    -------
    CandidateMinutiae

    Notes
    -----
    Adjacent bifurcation pixels (a junction thinned to a small cluster) are
    merged. Each minutia's branches are traced along the skeleton; the
    direction is the local ridge orientation, given its sense by the traced
    ridge: for an ending, pointing into its ridge; for a bifurcation, pointing
    away from the stem (the branch least aligned with the other two), between
    the two forks.
    """
    cn = crossing_numbers(skeleton & mask)
    ends_r, ends_c = np.nonzero(cn == 1)
    bif_r, bif_c = np.nonzero(cn == 3)
    bif_r, bif_c = _merge_adjacent(bif_r, bif_c)
    row = np.concatenate([ends_r, bif_r]).astype(np.int64)
    col = np.concatenate([ends_c, bif_c]).astype(np.int64)
    kind = np.concatenate([
        np.full(ends_r.size, MinutiaKind.ENDING, np.uint8),
        np.full(bif_r.size, MinutiaKind.BIFURCATION, np.uint8),
    ])
    ident = np.full(skeleton.shape, -1, dtype=np.int32)
    ident[row, col] = np.arange(row.size, dtype=np.int32)
    sk = np.ascontiguousarray(skeleton, dtype=np.uint8)
    hit, length, probe_r, probe_c = trace_branches(
        sk, ident, row, col, params.trace_max_px, params.direction_trace_px
    )
    angle = _directions(row, col, kind, probe_r, probe_c, length, field)
    return CandidateMinutiae(row=row, col=col, angle=angle, kind=kind, hit=hit, length=length)


def _merge_adjacent(r: np.ndarray, c: np.ndarray, radius: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    if r.size < 2:
        return r, c
    d2 = (r[:, None] - r[None, :]) ** 2 + (c[:, None] - c[None, :]) ** 2
    keep = np.ones(r.size, dtype=bool)
    close = np.triu(d2 <= radius * radius, k=1)
    for i, j in zip(*np.nonzero(close)):
        if keep[i]:
            keep[j] = False
    return r[keep], c[keep]


def _wrap(a: np.ndarray) -> np.ndarray:
    return np.mod(a + np.pi, 2 * np.pi) - np.pi


def _directions(row, col, kind, probe_r, probe_c, length, field) -> np.ndarray:
    n = row.size
    if n == 0:
        return np.zeros(0, np.float32)
    dy = probe_r - row[:, None]
    dx = probe_c - col[:, None]
    branch_angle = np.arctan2(dy, dx)  # (n, 3)
    valid = length > 0
    sense = branch_angle[:, 0].copy()
    bif = np.nonzero((kind == MinutiaKind.BIFURCATION) & valid.all(axis=1))[0]
    if bif.size:
        a = branch_angle[bif]
        spread = np.abs(_wrap(a[:, :, None] - a[:, None, :])).sum(axis=2)  # (m, 3)
        stem = np.argmax(spread, axis=1)
        sense[bif] = a[np.arange(bif.size), stem] + np.pi
    local = field.theta_at(row, col).astype(np.float64)
    flip = np.abs(_wrap(local - sense)) > np.pi / 2
    angle = np.where(flip, local + np.pi, local)
    return np.mod(angle, 2 * np.pi).astype(np.float32)
