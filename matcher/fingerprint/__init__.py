"""Fingerprint comparison: Minutia Cylinder-Code with relaxation, calibrated to FMR."""
from .cylinders import PreparedFingerprint, prepare
from .matcher import MatchResult, match, score
from .params import DEFAULT_MATCHER_PARAMS, MATCHER_VERSION, MatcherParams

__all__ = ["prepare", "score", "match", "MatchResult", "PreparedFingerprint", "MatcherParams",
           "DEFAULT_MATCHER_PARAMS", "MATCHER_VERSION"]
