"""Approximate search only as a wide shortlist, re-scored exactly.

An IVF index proposes ``shortlist`` candidates per query; their stored
vectors are fetched from the exact :class:`FaceIndex` and scored by exact
inner product, and the best ``k`` are returned. The benchmark reports the
recall of this against exact search; use it only where exact search is too
slow, and with a wide shortlist.
"""
from __future__ import annotations

import numpy as np

from .gallery_index import FaceIndex, _check_vectors
from .threads import search_threads

__all__ = ["ShortlistIndex"]


class ShortlistIndex:
    """IVF shortlist over the vectors of an exact index, with exact re-scoring.

    Parameters
    ----------
    exact : FaceIndex
        The gallery; its vectors are the re-scoring reference.
    nlist : int, optional
        IVF cells (default ``4 * sqrt(n)``).
    nprobe : int
        Cells visited per query.
    shortlist : int
        Candidates re-scored per query (at least ``k``).
    """

    def __init__(self, exact: FaceIndex, *, nlist: int | None = None, nprobe: int = 32, shortlist: int = 200,
                 train_size: int = 200_000, seed: int = 0):
        from .threads import load_faiss
        faiss = load_faiss()

        n = len(exact)
        if n < 1000:
            raise ValueError(f"a shortlist index needs at least 1000 faces, the gallery has {n}")
        self.exact, self.nprobe, self.shortlist = exact, int(nprobe), int(shortlist)
        self.nlist = int(nlist or max(16, round(4 * np.sqrt(n))))
        self.factory_string = f"IDMap2,IVF{self.nlist},SQ8"
        self.index = faiss.index_factory(exact.dim, f"IVF{self.nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
        ids = exact.ids()
        rng = np.random.default_rng(seed)
        sample = np.sort(rng.choice(n, size=min(n, train_size), replace=False))
        with search_threads(exact.threads):
            self.index.train(exact.reconstruct(ids[sample]))
            self.index = faiss.IndexIDMap2(self.index)
            for start in range(0, n, 100_000):
                chunk = ids[start:start + 100_000]
                self.index.add_with_ids(exact.reconstruct(chunk), chunk)

    def search(self, queries, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        from .threads import load_faiss
        faiss = load_faiss()

        q = _check_vectors(queries, self.exact.dim, "queries")
        width = max(int(k), self.shortlist)
        with search_threads(self.exact.threads):
            faiss.extract_index_ivf(self.index.index).nprobe = self.nprobe
            _, cand = self.index.search(q, width)
        scores = np.full(cand.shape, -np.inf, np.float32)
        valid = cand >= 0
        vecs = self.exact.reconstruct(cand[valid])
        scores[valid] = np.einsum("ij,ij->i", vecs, np.repeat(q, valid.sum(axis=1), axis=0))
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        top_ids = np.take_along_axis(cand, order, axis=1)
        top_scores = np.take_along_axis(scores, order, axis=1)
        top_ids[~np.isfinite(top_scores)] = -1
        return top_scores, top_ids
