"""Fingerprint template formats: readers returning, writers taking a
:class:`~biomatch.extractors.fingerprint.template.FingerprintTemplate`.

=============  =======================================  =================================
name           module                                   content
=============  =======================================  =================================
``native``     :mod:`~...template` (``to_bytes``)       biomatch versioned binary, ``BMFP``
``iso19794``   :mod:`.iso19794`                         ISO/IEC 19794-2:2005 record, ``FMR\\0``
``xyt``        :mod:`.xyt`                              NIST mindtct/bozorth3 text
``json``       :mod:`.minutiae_json`                    examiner minutiae JSON
=============  =======================================  =================================

Each format module documents its coordinate and angle conventions and the
exact conversion to biomatch's (x right, y down, angle in radians measured in
image coordinates, pointing away from the minutia along the ridge); see also
``docs/fingerprint-formats.md``.

Examples
--------
>>> from biomatch.extractors.fingerprint.formats import read_template, write_template
>>> t = read_template(b"100 200 90 80\\n", width=388, height=374)   # doctest: +SKIP
>>> iso = write_template(t, "iso19794")                              # doctest: +SKIP
"""
from __future__ import annotations

import inspect
import os
import tempfile
from pathlib import Path

from biomatch.extractors.fingerprint.formats._common import read_source
from biomatch.extractors.fingerprint.formats.iso19794 import ISO_MAGIC, read_iso, read_iso_record, write_iso
from biomatch.extractors.fingerprint.formats.minutiae_json import read_json, write_json
from biomatch.extractors.fingerprint.formats.xyt import read_xyt, write_xyt
from biomatch.extractors.fingerprint.template import FingerprintTemplate

__all__ = [
    "FORMATS",
    "sniff_template_format",
    "read_template",
    "write_template",
    "save_template",
    "read_iso_record",
    "read_iso",
    "write_iso",
    "read_xyt",
    "write_xyt",
    "read_json",
    "write_json",
]

_NATIVE_MAGIC = b"BMFP"


def _read_native(source) -> FingerprintTemplate:
    return FingerprintTemplate.from_bytes(read_source(source, what="biomatch template"))


def _write_native(template: FingerprintTemplate) -> bytes:
    return template.to_bytes()


#: Format name -> (reader, writer).
FORMATS = {
    "native": (_read_native, _write_native),
    "iso19794": (read_iso, write_iso),
    "xyt": (read_xyt, write_xyt),
    "json": (read_json, write_json),
}
_ALIASES = {"iso": "iso19794", "fmr": "iso19794", "bmfp": "native", "nist": "xyt"}
_SUFFIXES = {".xyt": "xyt", ".json": "json", ".iso": "iso19794", ".fmr": "iso19794", ".ist": "iso19794"}


def _format_name(fmt: str) -> str:
    name = _ALIASES.get(str(fmt).lower(), str(fmt).lower())
    if name not in FORMATS:
        raise ValueError(f"unknown fingerprint template format {fmt!r}; choose one of {sorted(FORMATS)}")
    return name


def sniff_template_format(data: bytes) -> str | None:
    """Name the template format of ``data`` from its leading bytes, or ``None``."""
    if data.startswith(_NATIVE_MAGIC):
        return "native"
    if data.startswith(ISO_MAGIC):
        return "iso19794"
    head = data[:4096]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    stripped = head.lstrip()
    if stripped.startswith(b"{"):
        return "json"
    first = stripped.split(b"\n", 1)[0].split()
    if len(first) in (3, 4) and all(f.lstrip(b"+-").isdigit() for f in first):
        return "xyt"
    return None


def read_template(source, fmt: str | None = None, **hints) -> FingerprintTemplate:
    """Read a fingerprint template in any supported format.

    Parameters
    ----------
    source : bytes or path
        Template content (``bytes``) or a path (``str`` or ``PathLike``; a
        ``str`` is always taken as a path).
    fmt : str, optional
        ``"native"``, ``"iso19794"``, ``"xyt"`` or ``"json"``; sniffed from the
        leading bytes when omitted.
    **hints
        Passed to the chosen reader where it takes them (e.g. ``width=``,
        ``height=``, ``dpi=`` for xyt, ``view=`` for ISO) and ignored by
        formats that carry that information themselves.

    Raises
    ------
    ValueError
        Empty or unrecognised data, or whatever the format's reader rejects.
    """
    data = read_source(source, what="fingerprint template")
    if fmt is None:
        if not data:
            raise ValueError("fingerprint template: empty data (0 bytes)")
        fmt = sniff_template_format(data)
        if fmt is None:
            raise ValueError(
                f"unrecognised fingerprint template format (leading bytes {data[:8]!r}); expected biomatch "
                "native (BMFP), ISO/IEC 19794-2 (FMR), minutiae JSON or NIST xyt text"
            )
    reader = FORMATS[_format_name(fmt)][0]
    params = inspect.signature(reader).parameters
    if _format_name(fmt) == "xyt" and not {"width", "height"} <= set(hints):
        raise ValueError("xyt minutiae need the image size: pass width= and height= (height flips mindtct's y axis)")
    return reader(data, **{k: v for k, v in hints.items() if k in params})


def write_template(template: FingerprintTemplate, fmt: str = "native", **options) -> bytes:
    """Serialise ``template`` to ``fmt`` (see :data:`FORMATS`); ``options`` go to that writer."""
    return FORMATS[_format_name(fmt)][1](template, **options)


def save_template(template: FingerprintTemplate, path, fmt: str | None = None, **options) -> Path:
    """Write ``template`` to ``path`` atomically (temporary file, fsync, rename).

    ``fmt`` defaults from the suffix: ``.xyt``, ``.json``, ``.iso``/``.fmr``/
    ``.ist``, anything else ``native``.
    """
    path = Path(path)
    name = _format_name(fmt) if fmt is not None else _SUFFIXES.get(path.suffix.lower(), "native")
    data = write_template(template, name, **options)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
