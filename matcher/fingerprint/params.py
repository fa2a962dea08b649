"""Every tuned constant of the fingerprint matcher, in one place.

Distances in pixels at 500 ppi, angles in radians. Changing a value changes
scores, so it must bump ``MATCHER_VERSION`` (and the score calibration).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["MatcherParams", "DEFAULT_MATCHER_PARAMS", "MATCHER_VERSION"]

MATCHER_VERSION = 1


@dataclass(frozen=True)
class MatcherParams:
    """Parameters of the Minutia Cylinder-Code matcher (Cappelli et al. 2010)."""

    # cylinder geometry
    radius_px: float = 70.0
    cells: int = 16  # Ns: cells per side
    layers: int = 6  # Nd: direction layers
    sigma_s_px: float = 28.0 / 3.0
    sigma_d_rad: float = 2.0 * math.pi / 9.0
    mu_psi: float = 0.01  # binarisation threshold of the cell contribution
    min_valid_cells: float = 0.75  # share of in-radius cells that must be valid
    min_neighbours: int = 2
    # local similarity
    max_direction_diff_rad: float = math.pi / 2
    min_matchable_cells: float = 0.60
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


DEFAULT_MATCHER_PARAMS = MatcherParams()
