"""Face speed: extraction per image, and exact search on generated galleries.

Generated galleries follow the real embedding distribution: a Gaussian with
the mean and covariance of real SFace embeddings, projected to the unit
sphere. Queries are gallery vectors perturbed so that their cosine to the
mate is near the real genuine mean (~0.66), so the recall of an approximate
shortlist is measured on realistic distances.
"""
from __future__ import annotations

import os
import resource
import statistics
import time

import numpy as np

__all__ = ["embed_speed", "GalleryModel", "search_speed", "rss_bytes"]


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _canvas(image: np.ndarray, cols: int, rows: int) -> np.ndarray:
    """The image scaled to ``rows`` high and centred on a grey cols x rows canvas."""
    import cv2

    scale = rows / image.shape[0]
    small = cv2.resize(image, (round(image.shape[1] * scale), rows))
    out = np.full((rows, cols, 3), 127, np.uint8)
    x0 = (cols - small.shape[1]) // 2
    out[:, x0:x0 + small.shape[1]] = small[:, : cols - x0]
    return out


def embed_speed(image_paths: list, *, size=(640, 480), repeats: int = 1, threads: int = 1) -> dict:
    """Median ms of detect, align and embed (whole pipeline, and per stage) on ``size`` images."""
    import cv2

    from biomatch.extractors.faces import DEFAULT_FACE_PARAMS, detect_faces, extract_faces_many, get_model
    from biomatch.extractors.imageio import load_colour

    old = cv2.getNumThreads()
    cv2.setNumThreads(threads)
    try:
        model = get_model(DEFAULT_FACE_PARAMS.model)
        images = [_canvas(load_colour(p), *size) for p in image_paths]
        extract_faces_many(images[:2], model=model)  # warm-up
        total, cpu, det, emb, faces = [], [], [], [], 0
        for _ in range(repeats):
            for img in images:
                t0 = time.perf_counter()
                rows = detect_faces(model, img)
                t1 = time.perf_counter()
                crops = [model.align(img, r) for r in rows]
                if crops:
                    model.embed(crops)
                t2 = time.perf_counter()
                c2 = time.thread_time()  # CPU time of this thread: OpenCV runs here with 1 thread
                res = extract_faces_many([img], model=model)[0]
                cpu.append(time.thread_time() - c2)
                t3 = time.perf_counter()
                det.append(t1 - t0)
                emb.append((t2 - t1) / max(len(crops), 1))
                total.append(t3 - t2)
                faces += len(res.faces)
    finally:
        cv2.setNumThreads(old)
    ms = lambda v: 1000 * statistics.median(v)  # noqa: E731
    return {"image_size": f"{size[0]}x{size[1]}", "threads": threads, "images": len(total),
            "faces_per_image": faces / max(len(total), 1), "embed_ms_median": ms(total),
            "embed_cpu_ms_median": ms(cpu), "load_average_1min": os.getloadavg()[0],
            "detect_ms_median": ms(det), "align_embed_ms_per_face_median": ms(emb)}


class GalleryModel:
    """Gaussian model of real unit embeddings, to generate large galleries and mated queries."""

    def __init__(self, real: np.ndarray, genuine_cosine: float = 0.66):
        real = np.asarray(real, np.float64)
        self.mean = real.mean(axis=0)
        cov = np.cov(real, rowvar=False) + 1e-6 * np.eye(real.shape[1])
        self.chol = np.linalg.cholesky(cov)
        self.dim = real.shape[1]
        self.genuine_cosine = genuine_cosine

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        x = (self.mean + rng.standard_normal((n, self.dim)) @ self.chol.T).astype(np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return x

    def mated(self, vectors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Unit vectors at cosine ~``genuine_cosine`` to each input (isotropic perturbation)."""
        noise = rng.standard_normal(vectors.shape).astype(np.float32)
        noise -= (noise * vectors).sum(axis=1, keepdims=True) * vectors
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        c = self.genuine_cosine
        q = c * vectors + np.sqrt(1 - c * c) * noise
        return q / np.linalg.norm(q, axis=1, keepdims=True)


def build_gallery(model: GalleryModel, n: int, *, kind: str = "flat", threads: int = 2, seed: int = 0,
                  chunk: int = 500_000):
    """A :class:`FaceIndex` of ``n`` generated faces (ids 0..n-1), built in chunks to bound memory."""
    from biomatch.index.faces import FaceIndex

    rng = np.random.default_rng(seed)
    index = FaceIndex(model.dim, kind, threads=threads)
    if not index.is_trained:
        index.train(model.sample(100_000, np.random.default_rng(seed + 1)))
    index.reserve(n)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        index.add(np.arange(start, start + m, dtype=np.int64), model.sample(m, rng))
    return index


def search_speed(index, queries: np.ndarray, *, k: int = 10, single: int = 50, batch: int = 256,
                 batches: int = 4, threads=(1, 2)) -> dict:
    """ms per query, one query at a time and in batches, for each thread count."""
    out = {}
    for t in threads:
        index.threads = t
        index.search(queries[:2], k)
        singles = []
        for q in queries[:single]:
            t0 = time.perf_counter()
            index.search(q[None, :], k)
            singles.append(time.perf_counter() - t0)
        timed = []
        for start in range(0, min(len(queries), batches * batch) - batch + 1, batch):
            chunk = queries[start:start + batch]
            t0 = time.perf_counter()
            index.search(chunk, k)
            timed.append((time.perf_counter() - t0) / len(chunk))
        out[f"threads_{t}"] = {"ms_per_query_single": 1000 * statistics.median(singles),
                               "ms_per_query_batched": 1000 * statistics.median(timed),
                               "qps_single": 1 / statistics.median(singles),
                               "qps_batched": 1 / statistics.median(timed), "batch": batch,
                               "load_average_1min": os.getloadavg()[0]}
    return out
