"""Serialise a :class:`~.index.DnaIndex` (and a gallery's id maps) for derived index files.

The payload is an uncompressed ``.npz`` (no pickles) holding the live rows of
both shards, the vocabulary and agency names as JSON, and a format version.
Writing it atomically with its store generation is :mod:`biomatch.index.derived`'s job.
"""
from __future__ import annotations

import io
import json

import numpy as np

from biomatch.extractors.dna.params import SearchParams

from .encoding import LocusVocabulary
from .index import DnaIndex

__all__ = ["INDEX_FORMAT_VERSION", "index_to_bytes", "index_from_bytes"]

INDEX_FORMAT_VERSION = 1


def index_to_bytes(index: DnaIndex, extra: dict[str, np.ndarray] | None = None) -> bytes:
    """Bytes of the index; ``extra`` arrays (e.g. record ids) are stored alongside under ``x_`` names."""
    meta = {"version": INDEX_FORMAT_VERSION, "loci": list(index.params.loci), "vocab": index.vocab.to_dict(),
            "agencies": index.agency_names}
    arrays = {"meta": np.frombuffer(json.dumps(meta).encode("utf-8"), np.uint8), "code_counts": index.code_counts}
    for name, shard in (("narrow", index.narrow), ("wide", index.wide)):
        arrays[f"{name}_codes"] = np.ascontiguousarray(shard.codes)
        arrays[f"{name}_cats"] = shard.cats
        arrays[f"{name}_agencies"] = shard.agencies
        arrays[f"{name}_ids"] = shard.ids
    for key, value in (extra or {}).items():
        arrays[f"x_{key}"] = np.asarray(value)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def index_from_bytes(data: bytes, params: SearchParams | None = None) -> tuple[DnaIndex, dict[str, np.ndarray]]:
    """Inverse of :func:`index_to_bytes`: (index, extra arrays).

    Raises
    ------
    ValueError
        For a payload of another format version or locus panel (rebuild instead).
    """
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
    except (OSError, KeyError, ValueError) as exc:
        raise ValueError(f"unreadable DNA index payload: {exc}") from None
    if meta.get("version") != INDEX_FORMAT_VERSION:
        raise ValueError(f"DNA index payload version {meta.get('version')} is not {INDEX_FORMAT_VERSION}")
    params = params or SearchParams(loci=tuple(meta["loci"]))
    if list(params.loci) != meta["loci"]:
        raise ValueError("DNA index payload was built for another locus panel")
    index = DnaIndex(params, capacity=max(1, len(arrays["narrow_ids"])))
    index.vocab = LocusVocabulary.from_dict(meta["vocab"])
    for name in meta["agencies"]:
        index.agency_code(name)
    for name, shard in (("narrow", index.narrow), ("wide", index.wide)):
        if len(arrays[f"{name}_ids"]):
            shard.append(arrays[f"{name}_ids"], arrays[f"{name}_codes"], arrays[f"{name}_cats"],
                         arrays[f"{name}_agencies"])
    index.code_counts[:] = arrays["code_counts"]
    extra = {k[2:]: v for k, v in arrays.items() if k.startswith("x_")}
    return index, extra
