"""Bulk probe: every face in every image of a pile of scraped files, searched in the gallery.

Inputs are images, folders (walked recursively) or text files listing paths
(one per line, relative to the list's folder). Files are decoded with the
shared size and bomb checks; an unreadable file is skipped with its reason
(logged and reported), never fatal. Images go through the extractor in
batches and all faces of a batch are searched in one FAISS call.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from biomatch.extractors.faces import DEFAULT_FACE_PARAMS, FaceParams, FaceTemplate, extract_faces_many, get_model
from biomatch.extractors.imageio import load_colour, sniff_format

from .gallery import FaceCandidate, FaceGallery

__all__ = ["collect_paths", "ProbeFace", "ProbeResult", "run_probe", "IMAGE_SUFFIXES", "LIST_SUFFIXES"]

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".tif", ".tiff", ".gif", ".webp", ".pgm", ".ppm", ".pnm"}
LIST_SUFFIXES = {".txt", ".lst", ".list"}
MAX_FILES = 1_000_000


def _read_list(path: Path) -> list[Path]:
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            p = Path(line).expanduser()
            out.append(p if p.is_absolute() else path.parent / p)
    return out


def collect_paths(inputs: Sequence[str | os.PathLike]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand images, folders and path lists into ``(files, [(input, reason), ...])``, sorted, unique."""
    files, problems, seen = [], [], set()

    def add(p: Path):
        key = os.path.realpath(p)
        if key not in seen:
            seen.add(key)
            files.append(p)
        if len(files) > MAX_FILES:
            raise ValueError(f"more than {MAX_FILES} files to probe; split the job")

    for raw in inputs:
        p = Path(raw).expanduser()
        if p.is_dir():
            for root, dirs, names in os.walk(p):
                dirs.sort()
                for name in sorted(names):
                    if Path(name).suffix.lower() in IMAGE_SUFFIXES:
                        add(Path(root) / name)
        elif p.is_file() and p.suffix.lower() in LIST_SUFFIXES:
            with open(p, "rb") as fh:
                head = fh.read(16)
            if sniff_format(head) is None:
                for q in _read_list(p):
                    add(q) if q.is_file() else problems.append((str(q), f"listed in {p} but not a file"))
            else:
                add(p)
        elif p.is_file():
            add(p)
        else:
            problems.append((str(p), "no such file or folder"))
    return files, problems


@dataclass(frozen=True, eq=False)
class ProbeFace:
    """One face found in a probe file, with its candidates."""

    source: str
    face_index: int
    template: FaceTemplate
    below_floor: tuple[str, ...]
    candidates: list[FaceCandidate]
    crop: np.ndarray | None = None
    cluster: int = -1


@dataclass
class ProbeResult:
    """Everything a report needs."""

    faces: list[ProbeFace] = field(default_factory=list)
    no_face: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    files: int = 0
    threshold: float | None = None
    top: int = 10
    gallery_size: int = 0
    clusters: list[list[int]] = field(default_factory=list)  # face positions, groups spanning >= 2 images


def _decode(paths: Iterable[Path], result: ProbeResult, max_pixels: int, progress):
    for path in paths:
        try:
            yield path, load_colour(path, max_pixels=max_pixels)
        except (ValueError, OSError) as exc:
            reason = str(exc).replace(f"{path}: ", "")
            log.warning("skipped %s: %s", path, reason)
            result.skipped.append((str(path), reason))
            if progress:
                progress(1)


def run_probe(inputs: Sequence[str | os.PathLike], gallery: FaceGallery, *, top: int = 10,
              threshold: float | None = None, batch_images: int = 16, keep_crops: bool = False,
              cluster_threshold: float | None = None, params: FaceParams = DEFAULT_FACE_PARAMS,
              max_pixels: int = 40_000_000, progress: Callable[[int], None] | None = None,
              requester_agency: str | None = None) -> ProbeResult:
    """Probe every face of every input file against ``gallery``.

    ``threshold`` None returns the top ``top`` candidates regardless of score
    (an investigative list for an examiner); faces below the quality floor are
    searched too and carry their reasons. ``cluster_threshold`` groups probe
    faces of the same person across images. ``progress(n)`` is called after
    each file.
    """
    if not 1 <= batch_images <= 1024:
        raise ValueError(f"batch_images must be in 1..1024, got {batch_images}")
    files, problems = collect_paths(inputs)
    result = ProbeResult(skipped=list(problems), files=len(files), threshold=threshold, top=top,
                         gallery_size=len(gallery))
    model = get_model(params.model)
    batch: list[tuple[Path, np.ndarray]] = []

    def flush():
        extractions = extract_faces_many([img for _, img in batch], params=params, model=model, keep_crops=keep_crops)
        found = [(str(path), k, f) for (path, _), ex in zip(batch, extractions) for k, f in enumerate(ex.faces)]
        result.no_face.extend(str(path) for (path, _), ex in zip(batch, extractions) if ex.no_face)
        if found:
            cands = gallery.search(np.stack([f.template.embedding for _, _, f in found]), top=top, threshold=threshold,
                                   requester_agency=requester_agency)
            for (src, k, f), c in zip(found, cands):
                result.faces.append(ProbeFace(src, k, f.template, f.below_floor, c, f.crop))
        if progress:
            progress(len(batch))
        batch.clear()

    for path, image in _decode(files, result, max_pixels, progress):
        batch.append((path, image))
        if len(batch) >= batch_images:
            flush()
    if batch:
        flush()
    if cluster_threshold is not None and result.faces:
        _assign_clusters(result, cluster_threshold)
    return result


def _assign_clusters(result: ProbeResult, threshold: float) -> None:
    from biomatch.matcher.faces import cluster_faces

    labels = cluster_faces(np.stack([f.template.embedding for f in result.faces]), threshold)
    groups: dict[int, list[int]] = {}
    for pos, lab in enumerate(labels):
        groups.setdefault(int(lab), []).append(pos)
    kept = [g for g in groups.values() if len({result.faces[i].source for i in g}) >= 2]
    kept.sort(key=lambda g: (-len(g), g[0]))
    for number, members in enumerate(kept, start=1):
        for i in members:
            f = result.faces[i]
            result.faces[i] = ProbeFace(f.source, f.face_index, f.template, f.below_floor, f.candidates, f.crop, number)
    result.clusters = kept
