"""Saving and loading a :class:`~.gallery.FingerIndex` as a derived file of the store.

The payload is an ``.npz`` archive (no pickle) of the prepared cylinders of
every entry, packed as :class:`~biomatch.matcher.fingerprint.PreparedGallery`
arrays, with row ids, owners and finger positions; it is written atomically
with :func:`biomatch.index.derived.save_derived` under the store generation.
Vote tables are rebuilt from the cylinders at load (one pass, seconds per
million cylinders). :func:`load_index` returns None when the file is
missing, corrupt, stale, or from another index or matcher version.
"""
from __future__ import annotations

import io
import logging
import os

import numpy as np

from biomatch.matcher.fingerprint import MATCHER_VERSION, PreparedFingerprint, PreparedGallery
from biomatch.matcher.fingerprint.params import DEFAULT_MATCHER_PARAMS

from ..derived import load_derived, save_derived
from .gallery import FingerIndex
from .params import INDEX_VERSION

__all__ = ["save_index", "load_index"]

log = logging.getLogger(__name__)
_FIELDS = ("cyl_off", "bits", "valid", "cells", "x", "y", "angle", "index", "min_off", "all_x", "all_y",
           "all_angle", "fg_off", "fg_shape", "fg_block", "fg_flat")


def save_index(index: FingerIndex, path: str | os.PathLike, generation: int) -> None:
    """Write ``index`` atomically, labelled with the store ``generation`` it holds."""
    rows = index.row_ids()
    g = PreparedGallery.from_prepared([index.prepared(r) for r in rows], DEFAULT_MATCHER_PARAMS)
    buf = io.BytesIO()
    np.savez(buf, version=np.array([INDEX_VERSION, MATCHER_VERSION], np.int64),
             row=np.array(rows, np.int64), owner=np.array([index.owner(r) for r in rows], np.int64),
             position=np.array([index.position(r) for r in rows], np.int64),
             mmc=np.array([index.prepared(r).min_matchable_cells for r in rows], np.int64),
             **{f: getattr(g, f) for f in _FIELDS})
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
        a = {f: z[f] for f in _FIELDS}
        index = FingerIndex()
        for i, (row, owner, pos, mmc) in enumerate(zip(z["row"], z["owner"], z["position"], z["mmc"])):
            c0, c1 = a["cyl_off"][i], a["cyl_off"][i + 1]
            m0, m1 = a["min_off"][i], a["min_off"][i + 1]
            f0, f1 = a["fg_off"][i], a["fg_off"][i + 1]
            p = PreparedFingerprint(
                template=None, index=a["index"][c0:c1], x=a["x"][c0:c1], y=a["y"][c0:c1], angle=a["angle"][c0:c1],
                bits=a["bits"][c0:c1], valid=a["valid"][c0:c1], cells=a["cells"][c0:c1],
                params=DEFAULT_MATCHER_PARAMS, min_matchable_cells=int(mmc),
                all_x=a["all_x"][m0:m1], all_y=a["all_y"][m0:m1], all_angle=a["all_angle"][m0:m1],
                foreground=a["fg_flat"][f0:f1].reshape(a["fg_shape"][i]), block_px=int(a["fg_block"][i]))
            index.add(int(row), int(owner), int(pos), p)
        return index
    except Exception as exc:  # passed its checksum but is not ours
        log.warning("fingerprint index %s unreadable (%s); rebuild", path, exc)
        return None
