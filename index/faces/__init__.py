"""Face gallery index: exact FAISS search by id, persisted as a derived file, with an optional re-scored shortlist."""
from .gallery import FaceCandidate, FaceGallery
from .gallery_index import INDEX_KINDS, FaceIndex
from .persist import load_index, save_index
from .shortlist import ShortlistIndex
from .threads import configure_faiss, search_threads

__all__ = ["FaceCandidate", "FaceGallery", "INDEX_KINDS", "FaceIndex", "load_index", "save_index",
           "ShortlistIndex", "configure_faiss", "search_threads"]
