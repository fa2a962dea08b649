"""Preparation of templates for matching: binary Minutia Cylinder-Codes."""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from ...extractors.fingerprint.template import FingerprintTemplate
from ._kernels import build_cylinders
from .params import DEFAULT_MATCHER_PARAMS, MatcherParams

_BACKGROUND = 255  # orientation code of background blocks

__all__ = ["PreparedFingerprint", "prepare", "cell_offsets", "local_cylinders", "coarse_orientation",
           "cell_count_planes"]


@lru_cache(maxsize=8)
def cell_offsets(radius_px: float, cells: int) -> np.ndarray:
    """Centres ``(dx, dy)`` of the cylinder cells lying inside the radius, row-major.

    The result is read-only and shared; it is a pure function of its arguments.
    """
    step = 2.0 * radius_px / cells
    centres = (np.arange(cells) + 0.5) * step - radius_px
    dx, dy = np.meshgrid(centres, centres)
    inside = np.hypot(dx, dy) <= radius_px
    out = np.stack([dx[inside], dy[inside]], axis=1).astype(np.float64)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class PreparedFingerprint:
    """A template with its cylinders, ready to be compared many times.

    Only minutiae with a valid cylinder take part in matching; ``index`` maps
    them back to rows of ``template``. Immutable, so safe to share between threads.
    """

    template: FingerprintTemplate
    index: np.ndarray  # (k,) int64 rows of template with valid cylinders
    x: np.ndarray  # (k,) float64
    y: np.ndarray
    angle: np.ndarray
    bits: np.ndarray  # (k, words) uint64
    valid: np.ndarray  # (k, words) uint64
    counts: np.ndarray  # (k, planes * cell words) uint64, per-cell set-bit counts, bit-sliced (cell_count_planes)
    cells: np.ndarray  # (k, cell words) uint64, cell validity
    params: MatcherParams
    min_matchable_cells: int  # cells that must be valid in both cylinders of a pair
    all_x: np.ndarray  # (n,) float64, every minutia of the template, for pairing
    all_y: np.ndarray
    all_angle: np.ndarray
    foreground: np.ndarray  # (rows, cols) uint8 foreground blocks
    block_px: int
    # (rows, cols) uint8 ridge orientation of orientation_block_px blocks (the template's, or averaged:
    # coarse_orientation), whole degrees, 255 on background; (0, 0) if none
    orientation: np.ndarray
    orientation_block_px: int

    def __len__(self) -> int:
        return int(self.index.shape[0])


def cell_count_planes(bits: np.ndarray, n_cells: int, layers: int) -> np.ndarray:
    """Each cylinder's count of set direction bits per cell, bit-sliced.

    Parameters
    ----------
    bits : (k, words) uint64
        Cylinders (bit ``cell * layers + layer``).
    n_cells, layers : int
        Cells per cylinder and direction layers.

    Returns
    -------
    (k, planes * cell words) uint64
        Words ``p * cw .. p * cw + cw - 1`` hold bit p of every cell's count
        (bit = cell; ``cw = ceil(n_cells / 64)``, ``planes`` the bit length of
        ``layers``). The set bits of a cylinder inside the valid cells of
        another are then ``sum_p 2^p popcount(plane_p & cells)``: cell words
        instead of layer words, and no replicated validity for the other.
    """
    k = bits.shape[0]
    cw = (n_cells + 63) // 64
    planes = int(layers).bit_length()
    if k == 0:
        return np.zeros((0, planes * cw), np.uint64)
    flat = np.unpackbits(np.ascontiguousarray(bits).view(np.uint8), axis=1, bitorder="little")
    counts = flat[:, :n_cells * layers].reshape(k, n_cells, layers).sum(axis=2)
    sliced = np.zeros((k, planes, cw * 64), np.uint8)
    for p in range(planes):
        sliced[:, p, :n_cells] = (counts >> p) & 1
    return np.ascontiguousarray(np.packbits(sliced.reshape(k, -1), axis=1, bitorder="little").view(np.uint64))


def _foreground_blocks(template: FingerprintTemplate) -> tuple[np.ndarray, int]:
    """Foreground blocks: the stored orientation field's, or for imported minutiae (no field)
    the convex hull of the minutiae grown by one block (Cappelli et al. 2010 use the hull too)."""
    if template.orientation is not None and template.orientation_block_px > 0:
        return (template.orientation != 255).astype(np.uint8), template.orientation_block_px
    block = 16
    rows = max(1, math.ceil(template.height / block))
    cols = max(1, math.ceil(template.width / block))
    if len(template) < 3:
        return np.ones((rows, cols), np.uint8), block
    points = np.stack([template.x, template.y], axis=1).astype(np.float32) / block
    hull = cv2.convexHull(points)
    fg = np.zeros((rows, cols), np.uint8)
    cv2.fillConvexPoly(fg, np.rint(hull).astype(np.int32), 1)
    fg = cv2.dilate(fg, np.ones((3, 3), np.uint8))
    return fg, block


def coarse_orientation(codes: np.ndarray, cell: int) -> np.ndarray:
    """Block orientation codes averaged over ``cell x cell`` blocks.

    Parameters
    ----------
    codes : (rows, cols) uint8
        Whole degrees 0..179, 255 on background (the template's form).
    cell : int
        Blocks per side of an averaging cell (1: the codes unchanged).

    Returns
    -------
    (ceil(rows / cell), ceil(cols / cell)) uint8
        The mean orientation of each cell's foreground blocks, as whole
        degrees, averaged on doubled angles (orientations are axial: 0 and
        179 degrees are neighbours; Kass & Witkin 1987); 255 where fewer than
        half of the cell's blocks are foreground.
    """
    codes = np.asarray(codes, np.uint8)
    if cell == 1 or codes.size == 0:
        return np.ascontiguousarray(codes)
    rows, cols = -(-codes.shape[0] // cell), -(-codes.shape[1] // cell)
    padded = np.full((rows * cell, cols * cell), _BACKGROUND, np.uint8)
    padded[:codes.shape[0], :codes.shape[1]] = codes
    ok = padded != _BACKGROUND
    doubled = np.radians(2.0 * padded.astype(np.float64))

    def cell_sums(values):
        return np.where(ok, values, 0.0).reshape(rows, cell, cols, cell).sum(axis=(1, 3))

    degrees = np.rint(np.degrees(np.arctan2(cell_sums(np.sin(doubled)), cell_sums(np.cos(doubled)))) / 2.0) % 180
    enough = 2 * ok.reshape(rows, cell, cols, cell).sum(axis=(1, 3)) >= cell * cell
    return np.where(enough, degrees, _BACKGROUND).astype(np.uint8)


def _orientation_codes(template: FingerprintTemplate, params: MatcherParams) -> tuple[np.ndarray, int]:
    """The template's block orientations as the orientation cue compares them, and their block size:
    averaged over ``orientation_cell`` blocks when the field has at least
    ``orientation_cell_min_blocks`` foreground blocks; ((0, 0), 0) when it has none."""
    if template.orientation is None or template.orientation_block_px <= 0:
        return np.zeros((0, 0), np.uint8), 0
    cell = params.orientation_cell
    if int(np.count_nonzero(template.orientation != _BACKGROUND)) < params.orientation_cell_min_blocks:
        cell = 1
    return coarse_orientation(template.orientation, cell), template.orientation_block_px * cell


def local_cylinders(rows: np.ndarray, quality: np.ndarray, params: MatcherParams = DEFAULT_MATCHER_PARAMS
                    ) -> np.ndarray:
    """The rows (increasing) whose cylinders take part in the local stage.

    The ``params.local_share`` of ``rows`` with the best minutia quality,
    rounded up, but at least ``params.local_min_cylinders`` (every row when
    there are fewer); equal qualities keep their order, and when every
    quality is the same (minutiae imported without one) there is nothing to
    choose by and every row is kept. Cylinders of
    unreliable minutiae (spurious ones, or in noisy areas) otherwise fill
    the most similar pairs that LSS-R starts from and the local score, and
    the similarities cost the product of the two prints' cylinder counts.
    With share 0.6 and at least 25, on the FVC sets (docs/fingerprint.md;
    5 pairing seeds, as then):
    FVC2002 mean EER 1.43 -> 0.62% (all-pairs 0.98 -> 0.87%), FVC2004 DB3-4
    2.22 -> 2.22% (all-pairs 2.10 -> 1.62%), LEADER minutiae unchanged
    within a pair, and comparisons 30% faster. The share, not a fixed count,
    keeps a large print (a rolled impression of 100 minutiae) covered where
    a smaller one overlaps it.
    """
    n = rows.size
    keep = max(min(n, params.local_min_cylinders), math.ceil(params.local_share * n - 1e-9))
    q = quality[rows].astype(np.int64)
    if keep >= n or np.all(q == q[0]):
        return rows
    best = np.argsort(-q, kind="stable")[:keep]
    return rows[np.sort(best)]


def prepare(template: FingerprintTemplate, params: MatcherParams = DEFAULT_MATCHER_PARAMS) -> PreparedFingerprint:
    """Compute the binary cylinders of a template (Cappelli, Ferrara & Maltoni 2010).

    Parameters
    ----------
    template : FingerprintTemplate
    params : MatcherParams

    Returns
    -------
    PreparedFingerprint

    Notes
    -----
    Each minutia gets a cylinder of ``cells x cells`` spatial cells (those
    inside ``radius_px``) by ``layers`` direction layers, in its own frame. A
    cell is valid where it falls on the print's foreground; its bit in layer
    k is set when neighbouring minutiae near the cell, with a direction
    difference near layer k's angle, contribute more than ``mu_psi``.
    Cylinders with too few valid cells or neighbours are dropped, and of the
    rest only the ``params.local_share`` of best minutia quality (at least
    ``params.local_min_cylinders``) are kept for the local stage
    (:func:`local_cylinders`); pairing uses every minutia.

    References
    ----------
    .. [1] R. Cappelli, M. Ferrara, D. Maltoni, "Minutia Cylinder-Code: a new
       representation and matching technique for fingerprint recognition",
       IEEE TPAMI 32(12), 2010.
    """
    p = params
    offsets = cell_offsets(p.radius_px, p.cells)
    words = (offsets.shape[0] * p.layers + 63) // 64
    fg, block = _foreground_blocks(template)
    x = template.x.astype(np.float64)
    y = template.y.astype(np.float64)
    a = template.angle.astype(np.float64)
    bits, valid, cells, valid_cells, neighbours = build_cylinders(
        x, y, a, fg, block, offsets, p.layers, p.sigma_s_px, p.sigma_d_rad, p.mu_psi,
        p.radius_px + 3.0 * p.sigma_s_px, words,
    )
    ok = (valid_cells >= p.min_valid_cells * offsets.shape[0]) & (neighbours >= p.min_neighbours)
    idx = local_cylinders(np.nonzero(ok)[0], template.quality, p)
    orientation, orientation_block = _orientation_codes(template, p)
    return PreparedFingerprint(
        template=template, index=idx,
        x=np.ascontiguousarray(x[idx]), y=np.ascontiguousarray(y[idx]), angle=np.ascontiguousarray(a[idx]),
        bits=np.ascontiguousarray(bits[idx]), valid=np.ascontiguousarray(valid[idx]),
        counts=cell_count_planes(bits[idx], offsets.shape[0], p.layers), cells=np.ascontiguousarray(cells[idx]),
        params=p,
        min_matchable_cells=int(math.ceil(p.min_matchable_cells * offsets.shape[0])),
        all_x=x, all_y=y, all_angle=a, foreground=fg, block_px=block, orientation=orientation,
        orientation_block_px=orientation_block,
    )
