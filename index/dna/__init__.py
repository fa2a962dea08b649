"""DNA index: compact STR allele codes, Numba scans at CODIS and Prüm rules, familial search."""
from .encoding import LocusVocabulary, encode_profiles
from .index import DnaIndex
from .search import SEARCH_MATRIX, DnaHit, default_categories, prepare_probes, search, search_prum

__all__ = ["LocusVocabulary", "encode_profiles", "DnaIndex", "SEARCH_MATRIX", "DnaHit", "default_categories",
           "prepare_probes", "search", "search_prum"]
