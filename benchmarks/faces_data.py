"""Face benchmark data: folder-per-identity sets, LFW pairs files, and an embedding cache.

Embedding the 5,011 lfw_dev images takes minutes on one core, so every face
found in every image is cached (embedding, box, score, quality-floor flag) in
an ``.npz`` keyed by the folder, the model and the parameters. Reruns read the
cache; a change of model or parameters makes a new key.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["FaceSet", "list_identity_folder", "read_pairs", "embed_folder", "cache_dir", "central_face"]

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".pgm", ".ppm", ".bmp", ".tif", ".tiff", ".webp", ".gif"}


@dataclass(frozen=True)
class FaceSet:
    """Every face of every image of a set, as parallel arrays.

    ``paths[i]``/``identities[i]`` describe image ``i``; face ``j`` lies in
    image ``face_image[j]``.
    """

    root: Path
    paths: tuple[str, ...]
    identities: tuple[str, ...]
    face_image: np.ndarray  # (m,) int32
    embeddings: np.ndarray  # (m, d) float32, unit length
    boxes: np.ndarray  # (m, 4) float32
    scores: np.ndarray  # (m,) float32
    accepted: np.ndarray  # (m,) bool
    image_shape: np.ndarray  # (n, 2) int32 rows, cols


def cache_dir() -> Path:
    """``$BIOMATCH_CACHE/faces`` (default ``<tmp>/biomatch-cache/faces``)."""
    from biomatch.extractors.faces.graph_cache import cache_root

    path = cache_root() / "faces"
    path.mkdir(parents=True, exist_ok=True)
    return path


def list_identity_folder(root: str | os.PathLike) -> list[tuple[str, str]]:
    """``(relative path, identity)`` for every image, identity = sub-folder name, sorted."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: not a folder")
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for f in sorted(folder.iterdir()):
            if f.suffix.lower() in IMAGE_SUFFIXES or (f.suffix == "" and f.is_file()):
                out.append((f"{folder.name}/{f.name}", folder.name))
    if not out:
        raise ValueError(f"{root}: no images in per-identity sub-folders")
    return out


def read_pairs(path: str | os.PathLike) -> tuple[list[tuple[str, str, bool]], int]:
    """LFW View-2 pairs: ``([(path_a, path_b, same), ...], pairs_per_fold_half)``.

    Rows are ``name i j`` (same person) or ``name1 i name2 j``; images are
    ``name/name_%04d.jpg``. The header ``folds n`` gives n same then n
    different pairs per fold.
    """
    lines = [ln.split() for ln in Path(path).read_text(encoding="utf-8").splitlines() if ln.strip()]
    if not lines or len(lines[0]) != 2:
        raise ValueError(f"{path}: first line must be '<folds> <pairs per half-fold>'")
    folds, half = int(lines[0][0]), int(lines[0][1])
    pairs = []
    for row in lines[1:]:
        if len(row) == 3:
            a, b, same = f"{row[0]}/{row[0]}_{int(row[1]):04d}.jpg", f"{row[0]}/{row[0]}_{int(row[2]):04d}.jpg", True
        elif len(row) == 4:
            a, b, same = f"{row[0]}/{row[0]}_{int(row[1]):04d}.jpg", f"{row[2]}/{row[2]}_{int(row[3]):04d}.jpg", False
        else:
            raise ValueError(f"{path}: bad pairs row {' '.join(row)!r}")
        pairs.append((a, b, same))
    if len(pairs) != folds * 2 * half:
        raise ValueError(f"{path}: {len(pairs)} pairs, header promises {folds * 2 * half}")
    return pairs, half


def _cache_key(root: Path, rel_paths: list[str], model_id: str, params) -> str:
    h = hashlib.sha256()
    h.update(str(root.resolve()).encode())
    h.update(json.dumps(params.to_dict(), sort_keys=True).encode())
    h.update(model_id.encode())
    for p in rel_paths:
        h.update(p.encode())
    return h.hexdigest()[:20]


def embed_folder(root: str | os.PathLike, items: list[tuple[str, str]], *, params=None, progress: bool = True) -> FaceSet:
    """Embed every face of every listed image (cached); unreadable images are logged and kept faceless."""
    from tqdm import tqdm

    from biomatch.extractors.faces import DEFAULT_FACE_PARAMS, extract_faces, get_model

    params = params or DEFAULT_FACE_PARAMS
    root = Path(root)
    model = get_model(params.model)
    rel = [p for p, _ in items]
    cache = cache_dir() / f"{root.name}-{_cache_key(root, rel, model.model_id, params)}.npz"
    if cache.is_file():
        z = np.load(cache)
        return FaceSet(root, tuple(rel), tuple(i for _, i in items), z["face_image"], z["embeddings"], z["boxes"],
                       z["scores"], z["accepted"], z["image_shape"])
    face_image, emb, boxes, scores, accepted, shapes = [], [], [], [], [], []
    for i, path in enumerate(tqdm(rel, desc=f"embedding {root.name}", unit="img", disable=not progress)):
        try:
            result = extract_faces(root / path, params=params, model=model)
        except ValueError as exc:
            log.warning("skipped %s: %s", path, exc)
            shapes.append((0, 0))
            continue
        shapes.append((result.image_height, result.image_width))
        for f in result.faces:
            face_image.append(i)
            emb.append(f.template.embedding)
            boxes.append(f.template.box)
            scores.append(f.template.detection_score)
            accepted.append(f.accepted)
    arrays = dict(face_image=np.asarray(face_image, np.int32),
                  embeddings=np.asarray(emb, np.float32).reshape(-1, model.embedding_dim),
                  boxes=np.asarray(boxes, np.float32).reshape(-1, 4), scores=np.asarray(scores, np.float32),
                  accepted=np.asarray(accepted, bool), image_shape=np.asarray(shapes, np.int32).reshape(-1, 2))
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, cache)
    return FaceSet(root, tuple(rel), tuple(i for _, i in items), **arrays)


def central_face(faces: FaceSet) -> np.ndarray:
    """Per image, the index of the face whose box centre is nearest the image centre, or -1.

    LFW images are centred on the labelled person; other faces in the frame
    are bystanders.
    """
    n = len(faces.paths)
    best = np.full(n, -1, np.int64)
    best_d = np.full(n, np.inf)
    centres = faces.boxes[:, :2] + faces.boxes[:, 2:] / 2
    for j, i in enumerate(faces.face_image):
        rows, cols = faces.image_shape[i]
        d = float(np.hypot(centres[j, 0] - cols / 2, centres[j, 1] - rows / 2))
        if d < best_d[i]:
            best[i], best_d[i] = j, d
    return best
