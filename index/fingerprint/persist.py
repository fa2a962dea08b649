"""Saving and loading a :class:`~.gallery.FingerIndex` as a derived file of the store.

The payload is an ``.npz`` archive (no pickle) holding the slot arrays, the
slot of every cylinder, and per segment the arrays of its packed gallery
(:class:`~biomatch.matcher.fingerprint.PreparedGallery`, fields discovered
from the dataclass) and of its bucket level, so loading neither prepares nor
hashes anything. It is written atomically with
:func:`biomatch.index.derived.save_derived_stream` under the store generation,
straight to the file (a 1M-finger index is 7.5 GB: no second copy is built
in memory), and read back array by array from the checked file.
:func:`load_index` returns None when the file is missing, corrupt, stale, or
of another index or matcher version, or when the gallery's fields differ
from the running matcher's: the caller then rebuilds from the store.
"""
from __future__ import annotations

import dataclasses
import logging
import os

import numpy as np

from biomatch.matcher.fingerprint import MATCHER_VERSION, PreparedGallery
from biomatch.matcher.fingerprint.params import DEFAULT_MATCHER_PARAMS

from ..derived import open_derived, save_derived_stream
from .gallery import FingerIndex
from .lsh import Level
from .params import INDEX_VERSION
from .segment import Segment
from .slots import Slots

__all__ = ["save_index", "load_index"]

log = logging.getLogger(__name__)
_SLOT_FIELDS = ("row", "owner", "pos", "alive", "ncyl")
_LEVEL_FIELDS = ("first_n", "kstart", "ukeys", "bstart", "entries")


def _gallery_fields() -> list[str]:
    return [f.name for f in dataclasses.fields(PreparedGallery) if f.name != "params"]


def save_index(index: FingerIndex, path: str | os.PathLike, generation: int) -> None:
    """Write ``index`` atomically, labelled with the store ``generation`` it holds."""
    with index._lock:
        segments = index.segments()
        out = {"version": np.array([INDEX_VERSION, MATCHER_VERSION], np.int64),
               "gallery_fields": np.array(_gallery_fields()),
               "segment_starts": np.array([s.start for s in segments], np.int64),
               "cyl_slot": index._cyl_slot[:index._n_cyl].copy()}
        out.update({f"slot_{k}": v for k, v in index.slots.arrays().items()})
    for i, seg in enumerate(segments):
        for name in _gallery_fields():
            out[f"g{i}_{name}"] = getattr(seg.gallery, name)
        for name, a in seg.level.arrays().items():
            out[f"l{i}_{name}"] = a
    save_derived_stream(path, int(generation), lambda f: np.savez(f, **out))  # no second copy in memory


def load_index(path: str | os.PathLike, generation: int) -> FingerIndex | None:
    """The index saved at ``path`` if it is current for ``generation``, else None."""
    with open_derived(path, int(generation)) as f:
        return None if f is None else _read(f, path)


def _read(f, path) -> FingerIndex | None:
    """The index in the open ``.npz`` payload ``f``, or None (logged) when it is not usable."""
    try:
        z = np.load(f, allow_pickle=False)
        if list(z["version"]) != [INDEX_VERSION, MATCHER_VERSION]:
            log.info("fingerprint index %s is of another version; rebuild", path)
            return None
        if [str(n) for n in z["gallery_fields"]] != _gallery_fields():
            log.info("fingerprint index %s holds other gallery fields than the matcher's; rebuild", path)
            return None
        slots = Slots.from_arrays({k: z[f"slot_{k}"] for k in _SLOT_FIELDS})
        segments = []
        for i, start in enumerate(z["segment_starts"]):
            gallery = PreparedGallery(params=DEFAULT_MATCHER_PARAMS,
                                      **{n: z[f"g{i}_{n}"] for n in _gallery_fields()})
            level = Level.from_arrays({n: z[f"l{i}_{n}"] for n in _LEVEL_FIELDS})
            segments.append(Segment(int(start), gallery, level))
        _check(slots, segments, z["cyl_slot"])
        index = FingerIndex()
        index.restore(slots, segments, z["cyl_slot"])
        return index
    except Exception as exc:  # passed its checksum but is not ours
        log.warning("fingerprint index %s unreadable (%s); rebuild", path, exc)
        return None


def _check(slots: Slots, segments: list[Segment], cyl_slot: np.ndarray) -> None:
    """Raise ValueError unless the segments tile the slots and the cylinders exactly."""
    slot, cyl = 0, 0
    for seg in segments:
        if seg.start != slot or seg.level.first != cyl or seg.level.n != int(seg.gallery.cyl_off[-1]):
            raise ValueError("segments do not tile the index")
        slot += len(seg)
        cyl += seg.level.n
    if slot != slots.n or cyl != cyl_slot.shape[0]:
        raise ValueError("segments do not cover every slot and cylinder")
