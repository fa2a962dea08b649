"""Fingerprint 1:N: MCC min-hash shortlist + matcher re-scoring, tenprints and marks in the store.

See ``docs/afis.md``.
"""
from .afis import POSITIONS, Afis, Candidate, FingerScore
from .gallery import FingerIndex, Hit
from .marks import MIN_MARK_MINUTIAE, mark_template
from .params import DEFAULT_INDEX_PARAMS, IndexParams

__all__ = ["Afis", "Candidate", "FingerScore", "POSITIONS", "FingerIndex", "Hit", "mark_template",
           "MIN_MARK_MINUTIAE", "IndexParams", "DEFAULT_INDEX_PARAMS"]
