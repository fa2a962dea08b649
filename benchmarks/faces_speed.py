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

__all__ = ["SPEED_CONFIGS", "embed_speed", "GalleryModel", "search_speed", "rss_bytes"]


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


#: Extraction settings timed side by side by :func:`embed_speed` (label -> FaceParams changes).
SPEED_CONFIGS = {
    "opencv-dnn, detect 640": {"model": "yunet-sface", "detect_coarse_side_px": 0},
    "onnxruntime, detect 640": {"model": "yunet-sface-ort", "detect_coarse_side_px": 0},
    "onnxruntime, two-scale 320/640 (default)": {},
    "onnxruntime + flip, two-scale 320/640": {"model": "yunet-sface-ort-flip"},
}


def embed_speed(image_paths: list, *, size=(640, 480), repeats: int = 1, threads: int = 1,
                configs: dict | None = None) -> dict:
    """Median ms of detect, align and embed per ``size`` image, for several settings, interleaved.

    Every image is run through each setting in turn (the order rotates from
    image to image), so a load change on the shared machine hits them alike.
    The first setting whose label ends in ``(default)`` (or the first one)
    gives the headline ``embed_ms_median`` (wall) and ``embed_cpu_ms_median``
    (CPU time of the calling thread: OpenCV and ONNX Runtime run there with
    one thread).
    """
    import cv2

    from biomatch.extractors.faces import DEFAULT_FACE_PARAMS, detect_faces, extract_faces_many, get_model
    from biomatch.extractors.faces.extract import _detect_at, needs_refinement
    from biomatch.extractors.imageio import load_colour

    configs = SPEED_CONFIGS if configs is None else configs
    settings = {label: DEFAULT_FACE_PARAMS.with_changes(**changes) for label, changes in configs.items()}
    old = cv2.getNumThreads()
    cv2.setNumThreads(threads)
    load_start = os.getloadavg()[0]
    try:
        models = {label: get_model(p.model) for label, p in settings.items()}
        images = [_canvas(load_colour(p), *size) for p in image_paths]
        for label, p in settings.items():
            extract_faces_many(images[:2], model=models[label], params=p)  # warm-up
        wall = {label: [] for label in settings}
        cpu = {label: [] for label in settings}
        faces = dict.fromkeys(settings, 0)
        labels = list(settings)
        for rep in range(repeats):
            for i, img in enumerate(images):
                shift = (i + rep) % len(labels)
                for label in labels[shift:] + labels[:shift]:
                    t0, c0 = time.perf_counter(), time.thread_time()
                    res = extract_faces_many([img], model=models[label], params=settings[label])[0]
                    cpu[label].append(time.thread_time() - c0)
                    wall[label].append(time.perf_counter() - t0)
                    faces[label] += len(res.faces)
        head = next((label for label in labels if label.endswith("(default)")), labels[0])
        params, model = settings[head], models[head]
        det, emb, refined = [], [], 0
        for img in images:  # stage split of the headline setting, CPU time of this thread
            t0 = time.thread_time()
            rows = detect_faces(model, img, params)
            t1 = time.thread_time()
            crops = [model.align(img, r) for r in rows]
            if crops:
                model.embed(crops)
            det.append(t1 - t0)
            emb.append((time.thread_time() - t1) / max(len(crops), 1))
            if params.detect_coarse_side_px and max(img.shape[:2]) > params.detect_coarse_side_px:
                proposals, _ = _detect_at(model, img, params.detect_coarse_side_px,
                                          min(params.refine_proposal_score, params.detect_score_threshold), params)
                refined += needs_refinement(proposals, params)
    finally:
        cv2.setNumThreads(old)
    ms = lambda v: 1000 * statistics.median(v)  # noqa: E731
    n = len(wall[head])
    compare = {label: {"model_id": models[label].model_id, "embed_ms_median": ms(wall[label]),
                       "embed_cpu_ms_median": ms(cpu[label]), "faces_per_image": faces[label] / max(n, 1),
                       "params": configs[label]} for label in labels}
    return {"image_size": f"{size[0]}x{size[1]}", "threads": threads, "images": n, "setting": head,
            "model_id": model.model_id, "faces_per_image": faces[head] / max(n, 1),
            "embed_ms_median": ms(wall[head]), "embed_cpu_ms_median": ms(cpu[head]),
            "load_average_1min_start": load_start, "load_average_1min": os.getloadavg()[0],
            "detect_cpu_ms_median": ms(det), "align_embed_cpu_ms_per_face_median": ms(emb),
            "refined_share": refined / max(len(images), 1), "compare": compare}


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
