"""The LFW-style pairs protocol: per-fold thresholds, error count and the accuracy's confidence interval."""
from pathlib import Path

import numpy as np

from biomatch.benchmarks.faces_accuracy import pairs_protocol
from biomatch.benchmarks.faces_data import FaceSet


def _face_set(vectors: dict[str, list[float]]) -> FaceSet:
    paths = tuple(vectors)
    emb = np.array([vectors[p] for p in paths], np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    n = len(paths)
    return FaceSet(Path("."), paths, tuple(p.split("/")[0] for p in paths), np.arange(n, dtype=np.int32), emb,
                   np.tile(np.array([[10, 10, 50, 50]], np.float32), (n, 1)), np.ones(n, np.float32),
                   np.ones(n, bool), np.tile(np.array([[100, 100]], np.int32), (n, 1)))


def test_errors_and_interval_follow_the_folds():
    faces = _face_set({"a/1": [1, 0, 0], "a/2": [0.9, 0.1, 0], "b/1": [0, 1, 0], "b/2": [0, 0.95, 0.1],
                       "c/1": [0, 0, 1], "c/2": [0.2, 0.1, 1], "d/1": [1, 0.2, 0], "d/2": [0, 0.3, 1]})
    pairs = [("a/1", "a/2", True), ("b/1", "b/2", True), ("a/1", "b/1", False), ("c/1", "b/2", False),
             ("c/1", "c/2", True), ("d/1", "d/2", True), ("a/2", "d/1", False), ("b/1", "c/2", False)]
    r = pairs_protocol(faces, pairs, half=2)
    assert r["folds"] == 2 and r["pairs"] == 8
    # fold 1: d/1-d/2 (cosine ~0.05) is a genuine pair below any useful threshold, a/2-d/1 (~0.97) an impostor above it
    wrong = round(sum((1 - a) * 4 for a in r["fold_accuracy"]))
    assert r["errors"] == wrong >= 1
    lo, hi = r["accuracy_ci95"]
    pooled = 1 - r["errors"] / 8
    assert 0 <= lo < pooled < hi <= 1 and hi - lo > 0.3  # eight pairs say little
