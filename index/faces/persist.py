"""Saving and loading the face index as a derived file of the store.

The store holds the templates and a ``face`` generation counter that every
write bumps; the index file is derived data, written atomically with
:func:`biomatch.index.derived.save_derived` (header: generation + SHA-256).
:func:`load_index` returns ``None`` when the file is missing, corrupt, stale
or built for another model or index kind, and the caller rebuilds.

Payload layout: u32 header length, a JSON header (file version, kind, dim,
model id, count, bytes of the record map), the record map (``(face id,
record id)`` int64 pairs, so a restart needs no pass over the store), then the
bytes of ``faiss.serialize_index`` (FAISS keeps old files loading across
versions).
"""
from __future__ import annotations

import json
import logging
import os
import struct

import numpy as np

from ..derived import load_derived, save_derived
from .gallery_index import FaceIndex

__all__ = ["save_index", "load_index"]

log = logging.getLogger(__name__)
_FILE_VERSION = 1


def save_index(index: FaceIndex, path: str | os.PathLike, *, model_id: str, generation: int,
               record_map: np.ndarray | None = None) -> None:
    """Write ``index`` atomically, labelled with the store ``generation`` it was built from.

    ``record_map`` is an optional ``(n, 2)`` int64 array of ``(face id, record id)``.
    """
    from .threads import load_faiss
    faiss = load_faiss()

    rmap = np.zeros((0, 2), "<i8") if record_map is None else np.ascontiguousarray(record_map, "<i8").reshape(-1, 2)
    header = json.dumps({"version": _FILE_VERSION, "kind": index.kind, "dim": index.dim, "model_id": model_id,
                         "count": len(index), "record_map_bytes": rmap.nbytes}).encode()
    body = faiss.serialize_index(index.index)
    save_derived(path, int(generation), struct.pack("<I", len(header)) + header + rmap.tobytes() + body.tobytes())


def load_index(path: str | os.PathLike, *, generation: int, model_id: str, kind: str, dim: int,
               threads: int = 1) -> tuple[FaceIndex, np.ndarray] | None:
    """``(index, record map)`` at ``path`` if current for ``generation``/``model_id``/``kind``, else ``None``."""
    from .threads import load_faiss
    faiss = load_faiss()

    payload = load_derived(path, int(generation))
    if payload is None:
        return None
    try:
        (n,) = struct.unpack_from("<I", payload, 0)
        header = json.loads(payload[4:4 + n])
        wanted = {"version": _FILE_VERSION, "kind": kind, "dim": dim, "model_id": model_id}
        if any(header.get(k) != v for k, v in wanted.items()):
            log.info("face index %s was built for %s, need %s; rebuild", path, header, wanted)
            return None
        # deserialize_index already returns the concrete type; downcast_index would return a
        # non-owning proxy and let the owning one free the index.
        nmap = int(header.get("record_map_bytes", 0))
        rmap = np.frombuffer(payload, "<i8", count=nmap // 8, offset=4 + n).reshape(-1, 2).astype(np.int64)
        raw = faiss.deserialize_index(np.frombuffer(payload, np.uint8, offset=4 + n + nmap))
    except Exception as exc:  # a file that passed its checksum but is not ours
        log.warning("face index %s unreadable (%s); rebuild", path, exc)
        return None
    if not isinstance(raw, faiss.IndexIDMap2) or raw.ntotal != header.get("count"):
        log.warning("face index %s has unexpected content; rebuild", path)
        return None
    return FaceIndex(dim, kind, threads=threads, _faiss_index=raw), rmap
