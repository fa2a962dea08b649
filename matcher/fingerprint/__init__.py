"""Fingerprint comparison: Minutia Cylinder-Code with relaxation and pairing, calibrated to FMR."""
from .cylinders import PreparedFingerprint, prepare
from .gallery import PreparedGallery, score_many, top_candidates
from .matcher import MatchResult, match, score
from .params import DEFAULT_MATCHER_PARAMS, MATCHER_VERSION, MatcherParams

__all__ = ["prepare", "score", "match", "score_many", "top_candidates", "MatchResult", "PreparedFingerprint", "PreparedGallery",
           "MatcherParams", "DEFAULT_MATCHER_PARAMS", "MATCHER_VERSION"]
