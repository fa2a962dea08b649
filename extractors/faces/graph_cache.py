"""On-disk cache of the cleaned ONNX graphs, so a process starts in a fraction of a second.

Cleaning SFace's graph (:mod:`.onnx_graph`: weights dequantised, PRelu
rewritten) takes about 2 s of pure Python at every model load, which every
``biomatch face ...`` command and every service start paid. The cleaned bytes
are a pure function of the packaged file (whose sha256 is checked first) and
of the cleaning code, so they are cached under ``$BIOMATCH_CACHE/models``
(default ``<tmp>/biomatch-cache``) in a file named for both.

The file is a derived file (:mod:`biomatch.index.derived`): written
atomically, with a SHA-256 of its contents that is checked on every read. A
missing, corrupt or unwritable cache only means the graph is cleaned again.
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Callable

from biomatch.index.derived import load_derived, save_derived

from . import onnx_graph

__all__ = ["cache_root", "cleaned_graph"]

log = logging.getLogger(__name__)


def cache_root() -> Path:
    """``$BIOMATCH_CACHE``, or ``<tmp>/biomatch-cache`` (not created here)."""
    return Path(os.environ.get("BIOMATCH_CACHE") or Path(tempfile.gettempdir()) / "biomatch-cache")


def cleaned_graph(name: str, raw: bytes, source_sha256: str, clean: Callable[[bytes], bytes]) -> bytes:
    """``clean(raw)``, read from the cache when an earlier process already computed it.

    Parameters
    ----------
    name : str
        Short name of the graph (``"sface"``), part of the file name.
    raw : bytes
        The packaged model file, already checked against ``source_sha256``.
    source_sha256 : str
        Its pinned digest.
    clean : callable
        The cleaning function; its module's source is part of the cache key, with
        :mod:`.onnx_graph`'s, so editing either invalidates the cache.
    """
    stamp = _stamp(source_sha256, clean)
    folder = cache_root() / "models"
    path = folder / f"{name}-{stamp:016x}.onnx"
    try:
        cached = load_derived(path, stamp)
    except OSError as exc:  # e.g. the cache path is not a folder
        log.info("cleaned %s graph cache %s unreadable: %s", name, folder, exc)
        cached = None
    if cached is not None:
        return cached
    out = clean(raw)
    try:
        for old in folder.glob(f"{name}-*.onnx"):  # earlier code or files: never read again
            old.unlink(missing_ok=True)
        save_derived(path, stamp, out)
    except OSError as exc:  # a read-only or full cache folder costs time, nothing else
        log.info("cleaned %s graph not cached in %s: %s", name, folder, exc)
    return out


def _stamp(source_sha256: str, clean: Callable) -> int:
    """64-bit key of the source file and of the code that cleans it."""
    h = hashlib.sha256(source_sha256.encode())
    h.update(f"{clean.__module__}.{clean.__qualname__}".encode())
    for module in sorted({onnx_graph.__file__, _module_file(clean)}):
        h.update(Path(module).read_bytes())
    return int.from_bytes(h.digest()[:8], "little")


def _module_file(fn: Callable) -> str:
    import sys

    return sys.modules[fn.__module__].__file__
