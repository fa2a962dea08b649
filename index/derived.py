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
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable, ContextManager, Iterator

__all__ = ["save_derived", "save_derived_stream", "load_derived", "open_derived", "write_atomic", "atomic_file",
           "MAGIC"]

MAGIC = b"BMDERIV1"
_HEADER = struct.Struct("<8sQQ32s")
_CHUNK = 1 << 24  # bytes read at a time when checking a payload
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
    _check_generation(generation)
    if not isinstance(payload_bytes, (bytes, bytearray, memoryview)):
        raise ValueError(f"payload_bytes must be bytes, got {type(payload_bytes).__name__}")
    payload = memoryview(payload_bytes).cast("B")
    header = _HEADER.pack(MAGIC, generation, payload.nbytes, hashlib.sha256(payload).digest())
    write_atomic(path, header, payload)


def save_derived_stream(path: str | os.PathLike, generation: int, write_payload: Callable[[BinaryIO], object]) -> None:
    """:func:`save_derived` for a payload too large to hold twice in memory.

    ``write_payload(f)`` writes the payload to ``f``, the (seekable) temporary
    file, from its current position; the checksum is then computed by reading
    the file back in chunks and the header written in front. A 1M-finger
    index (7.5 GB) is saved without a second copy in memory.
    """
    _check_generation(generation)
    with atomic_file(path) as f:
        f.write(bytes(_HEADER.size))
        write_payload(f)
        length = f.seek(0, os.SEEK_END) - _HEADER.size
        digest = _payload_sha256(f, length)
        f.seek(0)
        f.write(_HEADER.pack(MAGIC, generation, length, digest))


@contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A temporary file (``w+b``) in ``path``'s folder that becomes ``path`` when the block ends.

    On success the file is flushed, fsynced and renamed over ``path``
    (``os.replace``), and the folder is fsynced. On an exception the
    temporary file is removed and ``path`` is left as it was. The folder is
    created if missing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w+b") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def write_atomic(path: str | os.PathLike, *parts: bytes) -> None:
    """Write the concatenation of ``parts`` to ``path`` atomically and durably (see :func:`atomic_file`).

    A crash leaves either the old file or the new one, never a mix.
    """
    with atomic_file(path) as f:
        for part in parts:
            f.write(part)


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
    with _checked(path, expected_generation, whole=True) as payload:
        return payload


def open_derived(path: str | os.PathLike, expected_generation: int) -> ContextManager[BinaryIO | None]:
    """The derived file at ``path``, positioned at its payload, or None when it must be rebuilt.

    As :func:`load_derived`, but the payload is not read into memory: the
    checksum is verified by reading it in chunks, and the caller reads the
    payload from the yielded file (``np.load`` of an ``.npz`` works on it).
    Use as ``with open_derived(path, generation) as f: ...``.
    """
    return _checked(path, expected_generation, whole=False)


@contextmanager
def _checked(path, expected_generation: int, *, whole: bool):
    """Yield the checked payload (``whole``: as bytes, read once; else the file at it), or None."""
    path = Path(path)
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        _log.info("derived file %s is missing; rebuild", path)
        yield None
        return
    with f:
        why, payload = _check(f, expected_generation, whole)
        if why:
            _reject(path, why)
            yield None
            return
        if whole:
            yield payload
        else:
            f.seek(_HEADER.size)
            yield f


def _check(f: BinaryIO, expected_generation: int, whole: bool) -> tuple[str | None, bytes | None]:
    """``(why the open derived file f cannot be used or None, its payload when whole)``."""
    head = f.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return "truncated header", None
    magic, generation, length, digest = _HEADER.unpack(head)
    if magic != MAGIC:
        return "not a biomatch derived file", None
    size = f.seek(0, os.SEEK_END) - _HEADER.size
    if size != length:
        return f"payload is {size} bytes, header says {length}", None
    if generation != expected_generation:  # before the checksum: a stale file is not read through
        return f"stale: built from generation {generation}, store is at {expected_generation}", None
    if whole:
        f.seek(_HEADER.size)
        payload = f.read()
        ok = hashlib.sha256(payload).digest() == digest
    else:
        payload, ok = None, _payload_sha256(f, length) == digest
    return (None, payload) if ok else ("checksum mismatch (corrupt)", None)


def _payload_sha256(f: BinaryIO, length: int) -> bytes:
    """SHA-256 of the ``length`` payload bytes after the header, read in chunks."""
    h = hashlib.sha256()
    f.seek(_HEADER.size)
    left = length
    while left:
        chunk = f.read(min(_CHUNK, left))
        if not chunk:
            raise OSError("derived file shrank while being read")
        h.update(chunk)
        left -= len(chunk)
    return h.digest()


def _check_generation(generation) -> None:
    if isinstance(generation, bool) or not isinstance(generation, int) or not 0 <= generation < 2**64:
        raise ValueError(f"generation must be a non-negative integer, got {generation!r}")


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
