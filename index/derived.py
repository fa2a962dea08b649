"""Derived index files kept next to the store, written atomically and checked on load.

An index (FAISS file, DNA code arrays, ...) is derived data: the store is the
truth. Each file carries a header with a magic string, the store generation it
was built from and a SHA-256 of its payload. :func:`load_derived` returns None
for a missing, corrupt or stale file so the caller rebuilds from the store.

File layout (little-endian)::

    magic     8 bytes  b"BMDERIV1"
    generation  uint64
    length      uint64  payload bytes
    sha256     32 bytes of the payload
    payload
"""
from __future__ import annotations

import hashlib
import logging
import os
import struct
import tempfile
from pathlib import Path

__all__ = ["save_derived", "load_derived", "write_atomic", "MAGIC"]

MAGIC = b"BMDERIV1"
_HEADER = struct.Struct("<8sQQ32s")
_log = logging.getLogger(__name__)


def save_derived(path: str | os.PathLike, generation: int, payload_bytes: bytes) -> None:
    """Write ``payload_bytes`` labelled with ``generation`` to ``path`` atomically.

    Written with :func:`write_atomic`: a crash leaves either the old file or
    the new one, never a mix.

    Parameters
    ----------
    path : path-like
        Destination file; its folder is created if missing.
    generation : int
        The store generation the payload was built from, as
        ``Store.template_snapshot`` gives it with the rows.
    payload_bytes : bytes-like
        The serialised index.
    """
    if isinstance(generation, bool) or not isinstance(generation, int) or not 0 <= generation < 2**64:
        raise ValueError(f"generation must be a non-negative integer, got {generation!r}")
    if not isinstance(payload_bytes, (bytes, bytearray, memoryview)):
        raise ValueError(f"payload_bytes must be bytes, got {type(payload_bytes).__name__}")
    payload = memoryview(payload_bytes).cast("B")
    header = _HEADER.pack(MAGIC, generation, payload.nbytes, hashlib.sha256(payload).digest())
    write_atomic(path, header, payload)


def write_atomic(path: str | os.PathLike, *parts: bytes) -> None:
    """Write the concatenation of ``parts`` to ``path`` atomically and durably.

    The bytes go to a temporary file in the same folder, which is flushed
    and fsynced and renamed over ``path`` (``os.replace``); the folder is
    fsynced too. A crash leaves either the old file or the new one, never a
    mix. The folder is created if missing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            for part in parts:
                f.write(part)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def load_derived(path: str | os.PathLike, expected_generation: int) -> bytes | None:
    """Return the payload of a derived file, or None when it must be rebuilt.

    Parameters
    ----------
    path : path-like
    expected_generation : int
        The store's current generation for the index kind.

    Returns
    -------
    bytes or None
        None when the file is missing, not a derived file, truncated, fails
        its checksum, or was built from another generation. The reason is
        logged at INFO (missing) or WARNING level.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(_HEADER.size)
            payload = f.read()
    except FileNotFoundError:
        _log.info("derived file %s is missing; rebuild", path)
        return None
    if len(head) < _HEADER.size:
        return _reject(path, "truncated header")
    magic, generation, length, digest = _HEADER.unpack(head)
    if magic != MAGIC:
        return _reject(path, "not a biomatch derived file")
    if len(payload) != length:
        return _reject(path, f"payload is {len(payload)} bytes, header says {length}")
    if hashlib.sha256(payload).digest() != digest:
        return _reject(path, "checksum mismatch (corrupt)")
    if generation != expected_generation:
        return _reject(path, f"stale: built from generation {generation}, store is at {expected_generation}")
    return payload


def _reject(path: Path, why: str) -> None:
    _log.warning("derived file %s is unusable (%s); rebuild", path, why)
    return None


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
