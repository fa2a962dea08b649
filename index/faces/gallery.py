"""The face gallery: templates in the shared store, vectors in a FAISS index, 1:N flow.

Enrolment writes the record and its face templates to the store in one
transaction, then adds the embeddings to the in-memory index under the face
row ids. Search runs the exact index, keeps the best face per record, and
returns ranked candidates with cosine score and calibrated FMR. The index file
is derived data (``<store.derived_dir>/faces-<model>-<kind>.idx``): it is
loaded when its generation matches the store's and rebuilt from one store
snapshot otherwise, and saved again on :meth:`FaceGallery.save`/``close``.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from biomatch.extractors.faces import FaceTemplate, get_model
from biomatch.matcher.faces import load_calibration
from biomatch.matcher.faces.thresholds import beyond_calibration_message, search_threshold

from .gallery_index import FaceIndex
from .persist import load_index, save_index

__all__ = ["FaceGallery", "FaceCandidate"]


def get_model_by_id(model_id: str):
    """The registered model whose ``model_id`` is this (for rebuilding a gallery's index)."""
    from biomatch.extractors.faces import model_names

    for name in model_names():
        m = get_model(name)
        if m.model_id == model_id:
            return m
    raise ValueError(f"no registered face model has id {model_id!r}")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaceCandidate:
    """One ranked candidate record of a search."""

    rank: int
    record_id: int
    face_id: int
    external_ref: str
    owner_agency: str
    restricted: bool
    score: float
    fmr: float
    fmr_is_bound: bool = False  # the score is beyond the calibrated range: the true FMR is at most ``fmr``

    @property
    def fmr_text(self) -> str:
        return f"{'<=' if self.fmr_is_bound else ''}{self.fmr:.1g}"


class FaceGallery:
    """Face records of one store with their exact search index.

    Use :meth:`open`; thread-safe (one lock around index changes and searches).
    """

    def __init__(self, store, index: FaceIndex, face_record: dict[int, int], *, model_id: str, generation: int,
                 model=None):
        self.store, self.index, self.model_id = store, index, model_id
        self._model = model  # the FaceModel that made these faces (looked up by id when not given)
        self._face_record = face_record
        self._generation = generation
        self._lock = threading.RLock()
        self._calibration = load_calibration(model_id)

    # ----------------------------------------------------------------- set-up
    @classmethod
    def open(cls, store, *, model: str | None = None, kind: str = "flat", threads: int = 1) -> "FaceGallery":
        """Load the derived index if current, else rebuild it from the store and save it.

        ``model`` is a registry name (default: ``DEFAULT_FACE_PARAMS.model``);
        the gallery holds the faces of that model's id only.
        """
        from biomatch.extractors.faces import DEFAULT_FACE_PARAMS

        if kind not in ("flat", "fp16"):
            raise ValueError(f"a store-backed gallery is 'flat' or 'fp16', got {kind!r}")
        m = get_model(model or DEFAULT_FACE_PARAMS.model)
        path = store.derived_dir / f"faces-{m.model_id}-{kind}.idx"
        generation = store.generation("face")
        loaded = load_index(path, generation=generation, model_id=m.model_id, kind=kind, dim=m.embedding_dim,
                            threads=threads)
        if loaded is not None:
            index, rmap = loaded
            face_record = dict(zip(rmap[:, 0].tolist(), rmap[:, 1].tolist()))
            if len(face_record) == len(index) and np.array_equal(np.sort(index.ids()), np.sort(rmap[:, 0])):
                return cls(store, index, face_record, model_id=m.model_id, generation=generation, model=m)
            log.warning("face index %s: record map does not match the index; rebuild", path)
        face_record = {}
        index, generation = cls._rebuild(store, m, kind, threads, face_record)
        gallery = cls(store, index, face_record, model_id=m.model_id, generation=generation, model=m)
        gallery._write(generation)
        return gallery

    @staticmethod
    def _rebuild(store, m, kind, threads, face_record):
        index = FaceIndex(m.embedding_dim, kind, threads=threads)
        index.reserve(store.count("face"))
        skipped = 0
        with store.template_snapshot("face", batch=10_000) as (generation, batches):
            for rows in batches:
                mine = [r for r in rows if r["model_id"] == m.model_id]
                skipped += len(rows) - len(mine)
                rows = mine
                if not rows:
                    continue
                emb = np.stack([FaceTemplate.from_bytes(r["data"]).embedding for r in rows])
                index.add(np.array([r["row_id"] for r in rows], np.int64), emb)
                face_record.update((r["row_id"], r["record_id"]) for r in rows)
        if skipped:
            log.warning("%d faces of other models were not indexed", skipped)
        return index, generation

    def refresh(self) -> bool:
        """Rebuild from the store if another process changed its faces; returns whether it did."""
        with self._lock:
            if self.store.generation("face") == self._generation:
                return False
            log.info("face store changed outside this gallery (generation %s -> %s); rebuilding",
                     self._generation, self.store.generation("face"))
            face_record: dict[int, int] = {}
            m = self._model or get_model_by_id(self.model_id)
            self.index, self._generation = self._rebuild(self.store, m, self.index.kind, self.index.threads,
                                                         face_record)
            self._face_record = face_record
            return True

    def _write(self, generation: int) -> None:
        path = self.store.derived_dir / f"faces-{self.model_id}-{self.index.kind}.idx"
        rmap = np.array(list(self._face_record.items()), np.int64).reshape(-1, 2)
        save_index(self.index, path, model_id=self.model_id, generation=generation, record_map=rmap)

    def save(self) -> None:
        """Write the index file if the store has not moved on since it was last synced."""
        with self._lock:
            if self.store.generation("face") == self._generation:
                self._write(self._generation)

    def close(self) -> None:
        self.save()

    def __len__(self) -> int:
        return len(self.index)

    # ----------------------------------------------------------------- writes
    def enrol(self, external_ref: str, owner_agency: str, templates: Sequence[FaceTemplate], *,
              restricted: bool = False, image_sha256: str | None = None) -> tuple[int, list[int]]:
        """Store a record with its faces and index them; returns ``(record_id, face_ids)``."""
        if not templates:
            raise ValueError(f"{external_ref}: no face to enrol (no face found above the quality floor)")
        for t in templates:
            t.validate()
            if t.model_id != self.model_id:
                raise ValueError(f"template of model {t.model_id!r}; this gallery holds {self.model_id!r}")
        with self._lock:
            with self.store.transaction():
                rid = self.store.add_record("face", external_ref, owner_agency, restricted=restricted)
                ids = [self.store.add_face(rid, t.to_bytes(), t.model_id, 1, image_sha256) for t in templates]
            self.index.add(np.array(ids, np.int64), np.stack([t.embedding for t in templates]))
            self._face_record.update((i, rid) for i in ids)
            self._generation = self.store.generation("face")
        return rid, ids

    def delete(self, record_id: int) -> int:
        """Delete a record (store and index); returns how many faces were removed."""
        with self._lock:
            face_ids = self.store.template_ids("face", [record_id]).get(record_id, [])
            self.store.delete_record(record_id)
            removed = self.index.remove(np.array(face_ids, np.int64))
            for i in face_ids:
                self._face_record.pop(i, None)
            self._generation = self.store.generation("face")
        return removed

    # ----------------------------------------------------------------- search
    def threshold(self, fpir: float = 0.01, *, clamp: bool = False) -> tuple[float, bool]:
        """The 1:N threshold for this gallery's size at ``fpir``, and whether it is within calibration.

        Raises ``ValueError`` (saying the lowest FPIR that can be set) when the
        needed FMR is below the calibrated range, unless ``clamp``: then the
        highest calibrated threshold comes back with ``False``.
        """
        t, within = search_threshold(self._calibration, max(1, len(self)), fpir)
        if not within and not clamp:
            raise ValueError(beyond_calibration_message(self._calibration, max(1, len(self)), fpir))
        return t, within

    def fmr(self, scores) -> np.ndarray:
        return self._calibration.fmr_at(scores)

    def search(self, probes: np.ndarray, *, top: int = 10, threshold: float | None = None,
               requester_agency: str | None = None) -> list[list[FaceCandidate]]:
        """Best ``top`` records per probe embedding, score >= ``threshold`` (None: no threshold).

        Restricted records are returned only to their owner agency when
        ``requester_agency`` is given (None: an administrator sees all). The
        index is read ``3 * top`` faces deep, so a record with several faces
        counts once.
        """
        probes = np.asarray(probes, np.float32).reshape(-1, self.index.dim)
        if not 1 <= top <= 10_000:
            raise ValueError(f"top must be in 1..10000, got {top}")
        self.refresh()
        with self._lock:
            scores, ids = self.index.search(probes, min(max(top * 3, top + 10), max(1, len(self))))
            face_record = {int(i): self._face_record.get(int(i)) for i in np.unique(ids) if i >= 0}
        records = self._record_info({r for r in face_record.values() if r is not None})
        out = []
        for srow, irow in zip(scores, ids):
            seen, cands = set(), []
            for s, i in zip(srow, irow):
                rid = face_record.get(int(i)) if i >= 0 else None
                if rid is None or rid in seen or rid not in records or (threshold is not None and s < threshold):
                    continue
                seen.add(rid)
                ref, agency, restricted = records[rid]
                if restricted and requester_agency is not None and agency != requester_agency:
                    continue
                cands.append(FaceCandidate(len(cands) + 1, rid, int(i), ref, agency, restricted, float(s),
                                           float(self._calibration.fmr_at(float(s))),
                                           bool(s >= self._calibration.threshold[-1])))
                if len(cands) == top:
                    break
            out.append(cands)
        return out

    def _record_info(self, record_ids: set[int]) -> dict[int, tuple[str, str, bool]]:
        from biomatch.index.store import NotFoundError

        info = {}
        for rid in sorted(record_ids):
            try:
                rec = self.store.get_record(rid)
            except NotFoundError:  # deleted meanwhile
                continue
            info[rid] = (rec.external_ref, rec.owner_agency, bool(rec.restricted))
        return info
