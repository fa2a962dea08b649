"""Every tuned constant of the fingerprint matcher, in one place.

Distances in pixels at 500 ppi, angles in radians. Changing a value changes
scores, so it must bump ``MATCHER_VERSION`` (and the score calibration).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

__all__ = ["MatcherParams", "DEFAULT_MATCHER_PARAMS", "ANY_ROTATION_PARAMS", "MATCHER_VERSION"]

# 2: orientation-field cue, symmetric LSS-R compatibility; 3: local stage on the best cylinders, 4 seeds;
# 4: orientation cue on 2x2 block averages of large fields
MATCHER_VERSION = 4


@dataclass(frozen=True)
class MatcherParams:
    """Parameters of the Minutia Cylinder-Code matcher (Cappelli et al. 2010)."""

    # cylinder geometry
    radius_px: float = 70.0
    cells: int = 12  # Ns: cells per side (paper: 16; 12 halves the bits at no measured accuracy cost)
    layers: int = 6  # Nd: direction layers
    sigma_s_px: float = 28.0 / 3.0
    sigma_d_rad: float = 2.0 * math.pi / 9.0
    mu_psi: float = 0.01  # binarisation threshold of the cell contribution
    min_valid_cells: float = 0.30  # share of in-radius cells that must be valid (paper: 0.75; partial prints need less)
    min_neighbours: int = 2
    # The local stage (similarities, LSS-R) compares the cylinders of the minutiae of best quality
    # only: this share of a print's cylinders, but at least local_min_cylinders of them (all, when
    # it has fewer). Pairing still uses every minutia.
    local_share: float = 0.6
    local_min_cylinders: int = 25
    # local similarity
    # Cylinder pairs whose minutiae directions differ by more are not compared:
    # this bounds the rotation between two impressions (paper: pi/2). Prints
    # taken on a scanner or a card are upright within +-60 degrees; a mark of
    # unknown orientation needs ANY_ROTATION_PARAMS.
    max_direction_diff_rad: float = math.pi / 3
    min_matchable_cells: float = 0.30  # paper: 0.60
    # LSS-R consolidation
    min_np: int = 4
    max_np: int = 12
    tau_p: float = 0.4
    mu_p: float = 20.0
    relax_iterations: int = 5
    relax_weight: float = 0.5
    mu_p1: float = 5.0
    tau_p1: float = -1.6
    mu_p2: float = math.pi / 12
    tau_p2: float = -30.0
    mu_p3: float = math.pi / 12
    tau_p3: float = -30.0
    # consolidation by pairing under the best alignments
    pairing_seeds: int = 4  # session 6: 5 -> 4 with the local stage on the best cylinders (equal accuracy, less work)
    pairing_tol_px: float = 10.0
    pairing_tol_slope: float = 0.1  # extra tolerance per pixel of distance from the seed (distortion)
    pairing_tol_rad: float = math.pi / 6
    pairing_min_overlap: int = 10
    # second cue: ridge-flow agreement of the orientation fields under the best alignment
    orientation_weight: float = 0.5  # the score is multiplied by agreement ** weight
    # the fields are compared as averages over orientation_cell x orientation_cell template blocks
    # (session 7: 2, 32-px cells at 500 ppi: a quarter of the work, equal accuracy on the FVC sets),
    # but fields of fewer than orientation_cell_min_blocks foreground blocks (marks, small prints)
    # keep the template's blocks: averaged, they leave the cue too few
    orientation_cell: int = 2
    orientation_cell_min_blocks: int = 200
    # used when a template has no orientation field (imported minutiae): the median
    # agreement of impostor pairs on the FVC sets, so impostor scores stay calibrated
    missing_orientation_agreement: float = 0.54

    def __post_init__(self):
        if not 0.0 < self.local_share <= 1.0:
            raise ValueError(f"local_share must be in (0, 1], got {self.local_share}")
        if self.local_min_cylinders < 0:
            raise ValueError(f"local_min_cylinders must be >= 0, got {self.local_min_cylinders}")
        if self.orientation_cell < 1:
            raise ValueError(f"orientation_cell must be >= 1, got {self.orientation_cell}")
        if self.orientation_cell_min_blocks < 0:
            raise ValueError(f"orientation_cell_min_blocks must be >= 0, got {self.orientation_cell_min_blocks}")

    def cylinder_key(self) -> tuple:
        """The fields that shape prepared cylinders; the rest only act at comparison time."""
        return (self.radius_px, self.cells, self.layers, self.sigma_s_px, self.sigma_d_rad, self.mu_psi,
                self.min_valid_cells, self.min_neighbours, self.min_matchable_cells, self.local_share,
                self.local_min_cylinders, self.orientation_cell, self.orientation_cell_min_blocks)


DEFAULT_MATCHER_PARAMS = MatcherParams()
#: For probes of unknown orientation (crime-scene marks): every rotation is tried.
ANY_ROTATION_PARAMS = replace(DEFAULT_MATCHER_PARAMS, max_direction_diff_rad=math.pi)
