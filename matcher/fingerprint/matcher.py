"""Pairwise fingerprint comparison: prepare the probe once, score many candidates."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...extractors.fingerprint.template import FingerprintTemplate
from ._kernels import relaxed_pairs, similarity_matrix
from .cylinders import PreparedFingerprint, prepare
from .params import DEFAULT_MATCHER_PARAMS, MatcherParams

__all__ = ["MatchResult", "prepare", "score", "match", "PreparedFingerprint"]


@dataclass(frozen=True)
class MatchResult:
    """Outcome of one comparison.

    Attributes
    ----------
    score : float
        Raw similarity in [0, 1]; higher is more similar.
    pairs : (k, 2) int64
        Matched minutiae as rows ``(probe row, candidate row)`` of the two
        templates, best first: the correspondences to show an examiner.
    """

    score: float
    pairs: np.ndarray


def _as_prepared(item, params: MatcherParams) -> PreparedFingerprint:
    if isinstance(item, PreparedFingerprint):
        if item.params != params:
            raise ValueError("prepared fingerprint was built with other matcher parameters")
        return item
    if isinstance(item, FingerprintTemplate):
        return prepare(item, params)
    raise ValueError(f"expected a FingerprintTemplate or PreparedFingerprint, got {type(item).__name__}")


def _n_pairs(na: int, nb: int, p: MatcherParams) -> int:
    z = 1.0 / (1.0 + math.exp(-p.tau_p * (min(na, nb) - p.mu_p)))
    return p.min_np + int(round(z * (p.max_np - p.min_np)))


def match(probe, candidate, params: MatcherParams = DEFAULT_MATCHER_PARAMS) -> MatchResult:
    """Compare two fingerprints and return the score and matched minutiae.

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
    over initial similarity) give the score as their mean relaxed similarity.

    References
    ----------
    .. [1] R. Cappelli, M. Ferrara, D. Maltoni, "Minutia Cylinder-Code: a new
       representation and matching technique for fingerprint recognition",
       IEEE TPAMI 32(12), 2010.
    """
    a = _as_prepared(probe, params)
    b = _as_prepared(candidate, params)
    if len(a) == 0 or len(b) == 0:
        return MatchResult(0.0, np.zeros((0, 2), np.int64))
    p = params
    min_bits = int(math.ceil(p.min_matchable_cells * _cells_in_radius(a) * p.layers))
    sim = similarity_matrix(a.bits, a.valid, a.angle, b.bits, b.valid, b.angle, p.max_direction_diff_rad, min_bits)
    n_relax = min(len(a), len(b))
    pa, pb, lam0, lam = relaxed_pairs(
        sim, a.x, a.y, a.angle, b.x, b.y, b.angle, n_relax, p.relax_iterations, p.relax_weight,
        p.mu_p1, p.tau_p1, p.mu_p2, p.tau_p2, p.mu_p3, p.tau_p3,
    )
    if pa.size == 0:
        return MatchResult(0.0, np.zeros((0, 2), np.int64))
    n_p = min(_n_pairs(len(a), len(b), p), pa.size)
    efficiency = lam / np.maximum(lam0, 1e-12)
    best = np.argsort(-efficiency, kind="stable")[:n_p]
    value = float(lam[best].sum() / _n_pairs(len(a), len(b), p))
    order = best[np.argsort(-lam[best], kind="stable")]
    pairs = np.stack([a.index[pa[order]], b.index[pb[order]]], axis=1)
    return MatchResult(value, pairs)


def _cells_in_radius(prepared: PreparedFingerprint) -> int:
    from .cylinders import cell_offsets

    return cell_offsets(prepared.params.radius_px, prepared.params.cells).shape[0]


def score(probe, candidate, params: MatcherParams = DEFAULT_MATCHER_PARAMS) -> float:
    """Similarity of two fingerprints in [0, 1] (see :func:`match`)."""
    return match(probe, candidate, params).score
