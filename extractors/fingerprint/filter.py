"""Removal of false minutiae: border, short ridges, spurs, bridges, holes, breaks, clusters."""
from __future__ import annotations

import numpy as np

from .minutiae import CandidateMinutiae
from .params import DEFAULT_PARAMS, ExtractorParams
from .quality import border_distance
from .template import MinutiaKind

__all__ = ["remove_false_minutiae"]

END, BIF = int(MinutiaKind.ENDING), int(MinutiaKind.BIFURCATION)


def remove_false_minutiae(
    cand: CandidateMinutiae, mask: np.ndarray, params: ExtractorParams = DEFAULT_PARAMS,
    border: np.ndarray | None = None,
) -> np.ndarray:
    """Indices of the candidate minutiae that survive the structural checks.

    Parameters
    ----------
    cand : CandidateMinutiae
        Output of :func:`minutiae.detect_minutiae`.
    mask : (rows, cols) bool
        Foreground.
    border : (rows, cols) float32, optional
        :func:`quality.border_distance` of ``mask``, when the caller already has it.

    Returns
    -------
    (m,) int64
        Indices into ``cand`` of the kept minutiae.

    Notes
    -----
    Rules, in the order applied (after Ratha et al. 1995 and Maltoni et al.,
    Handbook of Fingerprint Recognition, 2nd ed., section 3.8):

    1. skeleton links shorter than a threshold between two minutiae mark a
       short ridge or dot (ending-ending), a spur (ending-bifurcation) or a
       bridge or hole (bifurcation-bifurcation): both ends go;
    2. two endings facing each other across a short gap, with opposite
       directions, mark a broken ridge: both go;
    3. minutiae closer to the foreground border than a margin go;
    4. minutiae with too many neighbours within a small radius form a noise
       cluster: all of them go.
    """
    n = cand.row.size
    if n == 0:
        return np.zeros(0, np.int64)
    drop = np.zeros(n, dtype=bool)
    limits = np.zeros((3, 3))
    limits[END, END] = params.short_ridge_px
    limits[END, BIF] = limits[BIF, END] = params.spur_px
    limits[BIF, BIF] = params.bridge_px
    src, branch = np.nonzero(cand.hit >= 0)
    dst = cand.hit[src, branch]
    short = cand.length[src, branch] < limits[cand.kind[src], cand.kind[dst]]
    drop[src[short]] = True
    drop[dst[short]] = True
    _drop_broken_ridges(cand, drop, params)
    dist = border_distance(mask) if border is None else border
    drop |= dist[cand.row, cand.col] < params.border_margin_px
    keep = np.nonzero(~drop)[0]
    return _drop_clusters(cand, keep, params)


def _drop_broken_ridges(cand: CandidateMinutiae, drop: np.ndarray, params: ExtractorParams) -> None:
    ends = np.nonzero((cand.kind == END) & ~drop)[0]
    if ends.size < 2:
        return
    y = cand.row[ends].astype(np.float64)
    x = cand.col[ends].astype(np.float64)
    a = cand.angle[ends].astype(np.float64)
    dx = x[None, :] - x[:, None]
    dy = y[None, :] - y[:, None]
    dist = np.hypot(dx, dy)
    gap = np.arctan2(dy, dx)  # direction from i to j
    opposite = np.abs(np.mod(a[:, None] - a[None, :], 2 * np.pi) - np.pi) < params.break_angle_rad
    # i's ridge runs away from j: i's direction is opposite to the gap direction
    facing = np.abs(np.mod(a[:, None] - gap + np.pi, 2 * np.pi) - np.pi) > np.pi - params.break_angle_rad
    pair = (dist < params.break_gap_px) & opposite & facing & facing.T
    np.fill_diagonal(pair, False)
    hit = pair.any(axis=1)
    drop[ends[hit]] = True


def _drop_clusters(cand: CandidateMinutiae, keep: np.ndarray, params: ExtractorParams) -> np.ndarray:
    if keep.size < 2:
        return keep
    y = cand.row[keep].astype(np.float64)
    x = cand.col[keep].astype(np.float64)
    close = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :]) < params.cluster_radius_px
    crowded = (close.sum(axis=1) - 1) > params.cluster_max_neighbours
    return keep[~crowded]
