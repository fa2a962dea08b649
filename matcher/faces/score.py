"""Face comparison: cosine similarity of unit embeddings (higher is more similar).

``prepare(probe)`` runs once per probe; ``score(prepared, candidate)`` is a
dot product, so one prepared probe is matched against many candidates, from
any number of threads.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from biomatch.extractors.faces.template import FaceTemplate

__all__ = ["PreparedFace", "prepare", "score", "score_matrix"]


@dataclass(frozen=True, eq=False)
class PreparedFace:
    """A probe ready for matching: its unit embedding and model id."""

    embedding: np.ndarray
    model_id: str


def prepare(probe: FaceTemplate) -> PreparedFace:
    """Validate a probe template once, for many comparisons."""
    if not isinstance(probe, FaceTemplate):
        raise ValueError(f"probe must be a FaceTemplate, got {type(probe).__name__}")
    probe.validate()
    return PreparedFace(probe.embedding, probe.model_id)


def score(prepared: PreparedFace, candidate: FaceTemplate) -> float:
    """Cosine similarity in [-1, 1] of a prepared probe and a candidate of the same model."""
    if candidate.model_id != prepared.model_id:
        raise ValueError(f"cannot compare model {prepared.model_id!r} with {candidate.model_id!r}")
    if candidate.embedding.shape != prepared.embedding.shape:
        raise ValueError(f"embedding lengths differ: {prepared.embedding.shape} vs {candidate.embedding.shape}")
    return float(np.clip(np.dot(prepared.embedding, candidate.embedding), -1.0, 1.0))


def score_matrix(probes: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """(p, c) cosine scores of unit embeddings, rows probes and columns candidates."""
    a = np.asarray(probes, np.float32)
    b = np.asarray(candidates, np.float32)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"expected (p, d) and (c, d) arrays, got {a.shape} and {b.shape}")
    return np.clip(a @ b.T, -1.0, 1.0)
