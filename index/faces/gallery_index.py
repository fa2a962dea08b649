"""The face gallery index: FAISS ``IndexIDMap2`` over inner product on unit vectors.

Exact search by default. Genuine face pairs sit at cosine ~0.66, far from
their mates in absolute terms, and IVF/HNSW at useful speeds missed a third
or more of mates; so approximate search is offered only as a wide shortlist
re-scored exactly (:mod:`.shortlist`). For many millions of faces a compressed
*exact* scan (every vector compared, codes of 1 or 2 bytes per value) keeps
memory down: ``"sq8"`` (4x smaller, trained on gallery vectors) or
``"fp16"`` (2x smaller, no training).

The search contract is FAISS's: ``scores, ids = index.search(queries, k)``,
with id ``-1`` and score ``-inf`` where there is no candidate.
"""
from __future__ import annotations

import numpy as np

from .threads import search_threads

__all__ = ["FaceIndex", "INDEX_KINDS"]

#: kind -> FAISS factory string (the string is both configuration and log line).
INDEX_KINDS = {"flat": "IDMap2,Flat", "fp16": "IDMap2,SQfp16", "sq8": "IDMap2,SQ8"}


def _check_vectors(vectors, dim: int, what: str) -> np.ndarray:
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim == 1:
        x = x.reshape(1, -1)
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(f"{what}: expected shape (n, {dim}), got {np.asarray(vectors).shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{what}: non-finite values")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if np.any(norms < 1e-6):
        raise ValueError(f"{what}: zero vector")
    return np.ascontiguousarray(x / norms)


def _check_ids(ids, n: int) -> np.ndarray:
    i = np.asarray(ids)
    if i.ndim != 1 or i.shape[0] != n or not np.issubdtype(i.dtype, np.integer):
        raise ValueError(f"ids: expected {n} integers, got {i.shape} {i.dtype}")
    i = i.astype(np.int64)
    if np.any(i < 0):
        raise ValueError("ids must be non-negative")
    if np.unique(i).shape[0] != n:
        raise ValueError("ids must be unique")
    return np.ascontiguousarray(i)


class FaceIndex:
    """Id-addressed inner-product index of unit embeddings.

    Parameters
    ----------
    dim : int
        Embedding length.
    kind : {"flat", "fp16", "sq8"}
        Storage: exact float32, or a compressed exact scan.
    threads : int
        FAISS/BLAS threads used by :meth:`search` (set deliberately; see :mod:`.threads`).
    """

    def __init__(self, dim: int = 128, kind: str = "flat", *, threads: int = 1, _faiss_index=None):
        from .threads import load_faiss
        faiss = load_faiss()

        if kind not in INDEX_KINDS:
            raise ValueError(f"index kind must be one of {sorted(INDEX_KINDS)}, got {kind!r}")
        if not 1 <= dim <= 4096:
            raise ValueError(f"dim must be in 1..4096, got {dim}")
        self.dim, self.kind, self.threads = int(dim), kind, int(threads)
        self.index = _faiss_index or faiss.index_factory(self.dim, INDEX_KINDS[kind], faiss.METRIC_INNER_PRODUCT)

    @property
    def factory_string(self) -> str:
        return INDEX_KINDS[self.kind]

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def __repr__(self) -> str:
        return f"FaceIndex({self.factory_string!r}, dim={self.dim}, n={len(self)}, threads={self.threads})"

    @property
    def is_trained(self) -> bool:
        return bool(self.index.is_trained)

    def train(self, vectors) -> None:
        """Fit the SQ8 value ranges (a no-op for other kinds)."""
        if self.is_trained:
            return
        x = _check_vectors(vectors, self.dim, "training vectors")
        if x.shape[0] < 100:
            raise ValueError(f"sq8 needs at least 100 training vectors, got {x.shape[0]}")
        with search_threads(self.threads):
            self.index.train(x)

    def reserve(self, n: int) -> None:
        """Allocate storage for ``n`` vectors at once on an empty index.

        FAISS stores codes in a growing vector that doubles its capacity, so
        adding 10M faces in chunks would briefly hold the old and the new copy
        (a peak near twice the final size). Reserving first avoids that.
        """
        from .threads import load_faiss
        faiss = load_faiss()

        if len(self) or n <= 0:
            return
        inner = faiss.downcast_index(self.index.index)
        codes = getattr(inner, "codes", None)
        if codes is None or not hasattr(codes, "resize"):
            return
        code_size = int(getattr(inner, "code_size", 4 * self.dim))
        codes.resize(int(n) * code_size)  # sets the capacity ...
        codes.resize(0)  # ... which shrinking keeps

    def ids(self) -> np.ndarray:
        """All ids held, in insertion order."""
        from .threads import load_faiss
        faiss = load_faiss()

        return faiss.vector_to_array(self.index.id_map).astype(np.int64)

    def contains(self, ids) -> np.ndarray:
        return np.isin(np.asarray(ids, np.int64), self.ids())

    def add(self, ids, vectors) -> None:
        """Add vectors under new ids (ValueError if an id is already present)."""
        x = _check_vectors(vectors, self.dim, "vectors")
        i = _check_ids(ids, x.shape[0])
        if len(self) and np.any(self.contains(i)):
            raise ValueError(f"ids already in the index: {i[self.contains(i)][:5].tolist()} (use update)")
        if not self.is_trained:
            raise ValueError(f"{self.factory_string}: train() before adding")
        with search_threads(self.threads):
            self.index.add_with_ids(x, i)

    def remove(self, ids) -> int:
        """Remove ids; returns how many were present."""
        i = np.asarray(ids, np.int64).reshape(-1)
        if i.size == 0:
            return 0
        return int(self.index.remove_ids(np.ascontiguousarray(i)))

    def update(self, ids, vectors) -> None:
        """Replace (or insert) the vectors of ``ids``."""
        x = _check_vectors(vectors, self.dim, "vectors")
        i = _check_ids(ids, x.shape[0])
        self.remove(i)
        self.add(i, x)

    def reconstruct(self, ids) -> np.ndarray:
        """Stored vectors of ``ids`` (decoded for compressed kinds)."""
        i = np.ascontiguousarray(np.asarray(ids, np.int64).reshape(-1))
        return self.index.reconstruct_batch(i)

    def search(self, queries, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` by inner product: ``(scores (q, k) float32, ids (q, k) int64)``; -1 ids pad."""
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        q = _check_vectors(queries, self.dim, "queries")
        if len(self) == 0:
            return np.full((q.shape[0], k), -np.inf, np.float32), np.full((q.shape[0], k), -1, np.int64)
        with search_threads(self.threads):
            scores, ids = self.index.search(q, int(k))
        scores[ids < 0] = -np.inf
        return scores, ids

    def memory_bytes(self) -> int:
        """Bytes of vector codes and ids (the bulk of the index's memory)."""
        from .threads import load_faiss
        faiss = load_faiss()

        inner = faiss.downcast_index(self.index.index)
        code_size = int(getattr(inner, "code_size", 4 * self.dim))
        return len(self) * (code_size + 8)
