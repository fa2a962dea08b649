"""Pairwise fingerprint comparison: prepare the probe once, score many candidates."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ...extractors.fingerprint.template import FingerprintTemplate
from . import _batch as B
from .cylinders import PreparedFingerprint, prepare
from .params import DEFAULT_MATCHER_PARAMS, MatcherParams

__all__ = ["MatchResult", "prepare", "score", "match", "PreparedFingerprint", "params_vector"]


@dataclass(frozen=True)
class MatchResult:
    """Outcome of one comparison.

    Attributes
    ----------
    score : float
        Raw similarity in [0, 1]; higher is more similar.
    pairs : (k, 2) int64
        Paired minutiae as rows ``(probe row, candidate row)`` of the two
        templates, nearest first: the correspondences to show an examiner.
    """

    score: float
    pairs: np.ndarray


@lru_cache(maxsize=16)
def params_vector(params: MatcherParams) -> np.ndarray:
    """The matcher parameters packed as the float64 vector the kernels read."""
    v = np.zeros(B.N_PARAMS, np.float64)
    v[B.P_MAX_DIR] = params.max_direction_diff_rad
    v[B.P_ITER] = params.relax_iterations
    v[B.P_WEIGHT] = params.relax_weight
    v[B.P_MU1], v[B.P_TAU1] = params.mu_p1, params.tau_p1
    v[B.P_MU2], v[B.P_TAU2] = params.mu_p2, params.tau_p2
    v[B.P_MU3], v[B.P_TAU3] = params.mu_p3, params.tau_p3
    v[B.P_SEEDS] = params.pairing_seeds
    v[B.P_TOL_PX], v[B.P_TOL_SLOPE], v[B.P_TOL_RAD] = params.pairing_tol_px, params.pairing_tol_slope, params.pairing_tol_rad
    v[B.P_MIN_OVERLAP] = params.pairing_min_overlap
    v[B.P_MIN_NP], v[B.P_MAX_NP], v[B.P_TAU_P], v[B.P_MU_P] = params.min_np, params.max_np, params.tau_p, params.mu_p
    v[B.P_OF_WEIGHT], v[B.P_OF_MISSING] = params.orientation_weight, params.missing_orientation_agreement
    v.setflags(write=False)
    return v


def _as_prepared(item, params: MatcherParams) -> PreparedFingerprint:
    if isinstance(item, PreparedFingerprint):
        if item.params is not params and item.params.cylinder_key() != params.cylinder_key():
            raise ValueError("prepared fingerprint was built with other matcher parameters (cylinder geometry)")
        return item
    if isinstance(item, FingerprintTemplate):
        return prepare(item, params)
    raise ValueError(f"expected a FingerprintTemplate or PreparedFingerprint, got {type(item).__name__}")


def _args(p: PreparedFingerprint) -> tuple:
    return (p.bits, p.valid, p.counts, p.cells, p.x, p.y, p.angle, p.index, p.all_x, p.all_y, p.all_angle, p.foreground,
            p.block_px, p.orientation, p.orientation_block_px)


def match(probe, candidate, params: MatcherParams = DEFAULT_MATCHER_PARAMS) -> MatchResult:
    """Compare two fingerprints and return the score and paired minutiae.

    Parameters
    ----------
    probe, candidate : FingerprintTemplate or PreparedFingerprint
        Prepared inputs are used as they are; templates are prepared first.
    params : MatcherParams

    Returns
    -------
    MatchResult

    Notes
    -----
    Local similarities of all cylinder pairs (binary MCC with popcount) feed
    the Local Similarity Sort with Relaxation: the ``min(nA, nB)`` most
    similar pairs have their similarity reinforced by geometrically
    compatible pairs; the ``nP`` pairs with the highest efficiency (relaxed
    over initial similarity) give the local score, their mean relaxed
    similarity [1]_. The best of those pairs then seed alignments under which
    all minutiae are paired with a tolerance that grows with the distance
    from the seed (elastic distortion), and the pairing score
    ``m^2 / (overlapping minutiae of A x of B)`` measures how much of the
    common area agrees. Under the best alignment, the two ridge-orientation
    fields are compared block by block (mean ``cos 2 dtheta``, a second cue
    independent of minutiae). The score is the geometric mean of the local
    and pairing scores times ``agreement ** orientation_weight``.

    References
    ----------
    .. [1] R. Cappelli, M. Ferrara, D. Maltoni, "Minutia Cylinder-Code: a new
       representation and matching technique for fingerprint recognition",
       IEEE TPAMI 32(12), 2010.
    """
    a = _as_prepared(probe, params)
    b = _as_prepared(candidate, params)
    prm = params_vector(params).copy()
    prm[B.P_MIN_BITS] = a.min_matchable_cells
    value, qa, qb = B.compare_one(*_args(a), *_args(b), prm)
    return MatchResult(float(value), np.stack([qa, qb], axis=1))


def score(probe, candidate, params: MatcherParams = DEFAULT_MATCHER_PARAMS) -> float:
    """Similarity of two fingerprints in [0, 1] (see :func:`match`)."""
    return match(probe, candidate, params).score
