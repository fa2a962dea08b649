"""Saving and loading a :class:`~.gallery.FingerIndex` as a derived file of the store.

The payload is an ``.npz`` archive (no pickle) holding, for every array field
of :class:`~biomatch.matcher.fingerprint.PreparedFingerprint`, the arrays of
all entries concatenated with their shapes, plus the scalar fields, row ids,
owners and finger positions. It is written atomically with
:func:`biomatch.index.derived.save_derived` under the store generation. The
fields are discovered from the dataclass, so a matcher that adds a field
makes old files unreadable (and rebuilt), never silently wrong. Vote tables
are rebuilt from the cylinders at load. :func:`load_index` returns None when
the file is missing, corrupt, stale, or of another index or matcher version.
"""
from __future__ import annotations

import dataclasses
import io
import logging
import os

import numpy as np

from biomatch.matcher.fingerprint import MATCHER_VERSION, PreparedFingerprint
from biomatch.matcher.fingerprint.params import DEFAULT_MATCHER_PARAMS

from ..derived import load_derived, save_derived
from .gallery import FingerIndex
from .params import INDEX_VERSION

__all__ = ["save_index", "load_index"]

log = logging.getLogger(__name__)
_SKIP = ("template", "params")


def _fields(sample: PreparedFingerprint | None) -> tuple[list[str], list[str]]:
    names = [f.name for f in dataclasses.fields(PreparedFingerprint) if f.name not in _SKIP]
    if sample is None:
        return names, []
    arrays = [n for n in names if isinstance(getattr(sample, n), np.ndarray)]
    return arrays, [n for n in names if n not in arrays]


def save_index(index: FingerIndex, path: str | os.PathLike, generation: int) -> None:
    """Write ``index`` atomically, labelled with the store ``generation`` it holds."""
    rows = index.row_ids()
    items = [index.prepared(r) for r in rows]
    arrays, scalars = _fields(items[0] if items else None)
    out = {"version": np.array([INDEX_VERSION, MATCHER_VERSION], np.int64),
           "row": np.array(rows, np.int64), "owner": np.array([index.owner(r) for r in rows], np.int64),
           "position": np.array([index.position(r) for r in rows], np.int64),
           "fields": np.array(arrays + ["|"] + scalars)}
    for n in arrays:
        parts = [getattr(it, n) for it in items]
        out[f"a_{n}"] = np.concatenate([p.reshape(-1) for p in parts]) if parts else np.zeros(0)
        out[f"s_{n}"] = np.array([p.shape + (1,) * (2 - p.ndim) for p in parts], np.int64).reshape(-1, 2)
        out[f"d_{n}"] = np.array([p.ndim for p in parts], np.int64)
    for n in scalars:
        out[f"v_{n}"] = np.array([getattr(it, n) for it in items], np.int64)
    buf = io.BytesIO()
    np.savez(buf, **out)
    save_derived(path, int(generation), buf.getvalue())


def load_index(path: str | os.PathLike, generation: int) -> FingerIndex | None:
    """The index saved at ``path`` if it is current for ``generation``, else None."""
    payload = load_derived(path, int(generation))
    if payload is None:
        return None
    try:
        z = np.load(io.BytesIO(payload), allow_pickle=False)
        if list(z["version"]) != [INDEX_VERSION, MATCHER_VERSION]:
            log.info("fingerprint index %s is of another version; rebuild", path)
            return None
        index = FingerIndex()
        rows = z["row"]
        if len(rows) == 0:
            return index
        names = [str(n) for n in z["fields"]]
        cut = names.index("|")
        arrays, scalars = names[:cut], names[cut + 1:]
        want_arrays, want_scalars = _fields(None)[0], []
        if sorted(arrays + scalars) != sorted(want_arrays):
            log.info("fingerprint index %s holds fields %s, the matcher has %s; rebuild", path, names, want_arrays)
            return None
        split = {}
        for n in arrays:
            shapes, dims = z[f"s_{n}"], z[f"d_{n}"]
            sizes = shapes[:, 0] * shapes[:, 1]
            pieces = np.split(z[f"a_{n}"], np.cumsum(sizes)[:-1])
            split[n] = [p.reshape(tuple(s[:d])) for p, s, d in zip(pieces, shapes, dims)]
        values = {n: z[f"v_{n}"] for n in scalars}
        for i, (row, owner, pos) in enumerate(zip(rows, z["owner"], z["position"])):
            kw = {n: split[n][i] for n in arrays}
            kw.update({n: int(values[n][i]) for n in scalars})
            index.add(int(row), int(owner), int(pos),
                      PreparedFingerprint(template=None, params=DEFAULT_MATCHER_PARAMS, **kw))
        return index
    except Exception as exc:  # passed its checksum but is not ours
        log.warning("fingerprint index %s unreadable (%s); rebuild", path, exc)
        return None
