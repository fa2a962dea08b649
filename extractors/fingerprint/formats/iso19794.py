"""ISO/IEC 19794-2:2005 finger minutiae record ("FMR", version " 20").

Layout (all multi-byte fields big-endian), as described by the standard and
implemented by NIST biomdi (``fingerminutia/src/include/fmr.h``) and
FingerprintIO (``iso19794p2v2005``)::

    record header, 24 bytes
      0  4  format identifier      b"FMR\\0"
      4  4  version                b" 20\\0"
      8  4  record length          total bytes, header included
     12  2  capture equipment      4 bits compliance | 12 bits equipment id
     14  2  image width  (px)
     16  2  image height (px)
     18  2  x resolution (pixels per centimetre)
     20  2  y resolution (pixels per centimetre)
     22  1  number of finger views
     23  1  reserved (0)
    per finger view, 4 bytes + 6 per minutia + extended data
      0  1  finger position        0 unknown, 1..10 (ANSI/NIST codes)
      1  1  view number (high 4 bits) | impression type (low 4 bits)
      2  1  finger quality         0..100
      3  1  number of minutiae     0..255
      per minutia:
      0  2  type (2 high bits: 01 ending, 10 bifurcation, 00 other) | x (14 bits)
      2  2  reserved (2 high bits) | y (14 bits)
      4  1  angle                  units of 360/256 = 1.40625 degrees
      5  1  quality                0..100 (0: not reported)
      then 2 bytes extended data block length, and that many bytes.

Conventions: origin top-left, x right, y down, integer pixel positions; the
angle counts 256ths of a turn **counter-clockwise as seen on screen** from the
positive x axis and points into the ridge (ending) / between the branches
(bifurcation), as SourceAFIS's ``Iso19794p2v2005Codec`` exports its own
(y-down, clockwise) directions with no half turn.  Conversion::

    x_iso = round(x)     y_iso = round(y)      (clamped to width-1 / height-1)
    code  = round((360 - degrees(angle)) / 1.40625) mod 256
    angle = radians((360 - 1.40625 * code) mod 360)

so pointing right is code 0, up 64, left 128 and down the image 192.  The
resolution is stored in pixels per centimetre, ``ppcm = round(dpi / 2.54)``;
one ppcm value covers about 2.5 dpi, so the reader returns the multiple of 50
dpi in that cell when there is one (394 px/cm -> 1000, 197 -> 500) and
``round(ppcm * 2.54)`` otherwise (224 -> 569). Scanner resolutions such as 500
and 1000 dpi therefore round-trip exactly, but not every value does (512 dpi
reads back as 513; pass ``dpi_override=512``).
Minutia kind codes equal :class:`MinutiaKind`. Extended data (ridge counts,
cores and deltas) is kept as raw bytes on read and not written.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from biomatch.extractors.fingerprint.formats._common import (
    angle_to_screen_ccw_deg,
    check_dpi,
    read_source,
    round_half_up,
    screen_ccw_deg_to_angle,
)
from biomatch.extractors.fingerprint.template import FingerprintTemplate, MinutiaeSource

__all__ = ["IsoFingerView", "IsoRecord", "ISO_MAGIC", "read_iso_record", "read_iso", "write_iso"]

ISO_MAGIC = b"FMR\x00"
_VERSION = b" 20\x00"
_HEADER = struct.Struct(">4s4sIHHHHHBB")  # 24 bytes
_VIEW = struct.Struct(">BBBB")
_MINUTIA = struct.Struct(">HHBB")
_UNIT_DEG = 360.0 / 256.0
_MAX_COORD = 0x3FFF


@dataclass(frozen=True)
class IsoFingerView:
    """One finger view of an ISO record, with its minutiae as a template."""

    finger_position: int
    view_number: int
    impression_type: int
    finger_quality: int
    template: FingerprintTemplate
    extended_data: bytes = b""


@dataclass(frozen=True)
class IsoRecord:
    """A whole ISO/IEC 19794-2:2005 record."""

    width: int
    height: int
    dpi: int
    compliance: int
    equipment_id: int
    views: tuple[IsoFingerView, ...]


def _check_header(data: bytes) -> tuple:
    if len(data) < 8 or data[:4] != ISO_MAGIC:
        raise ValueError("not an ISO/IEC 19794-2 record (bad magic, expected b'FMR\\x00')")
    if data[4:8] != _VERSION:
        raise ValueError(
            f"ISO/IEC 19794-2 version {data[4:8]!r} is not supported; only the 2005 edition (b' 20\\x00') is read"
        )
    if len(data) < _HEADER.size:
        raise ValueError(f"truncated ISO/IEC 19794-2 record: {len(data)} bytes, the header alone needs {_HEADER.size}")
    fields = _HEADER.unpack_from(data)
    length = fields[2]
    if length != len(data):
        if int.from_bytes(data[8:10], "big") == len(data) or int.from_bytes(data[10:14], "big") == len(data):
            raise ValueError("this looks like an ANSI INCITS 378 record (FMR with a 2- or 6-byte length), not ISO/IEC 19794-2")
        if length > len(data):
            raise ValueError(f"truncated ISO/IEC 19794-2 record: header says {length} bytes, got {len(data)}")
        raise ValueError(f"ISO/IEC 19794-2 record length field says {length} bytes but there are {len(data)}")
    return fields


def _read_view(data: bytes, off: int, index: int, width: int, height: int, dpi: int) -> tuple[IsoFingerView, int]:
    if off + _VIEW.size > len(data):
        raise ValueError(f"truncated ISO/IEC 19794-2 record: finger view {index} header cut short")
    position, view_impression, finger_quality, count = _VIEW.unpack_from(data, off)
    off += _VIEW.size
    if position > 10:
        raise ValueError(f"ISO finger view {index}: finger position {position} is not 0..10")
    if finger_quality > 100:
        raise ValueError(f"ISO finger view {index}: finger quality {finger_quality} out of range 0..100")
    end = off + _MINUTIA.size * count
    if end + 2 > len(data):
        raise ValueError(f"truncated ISO/IEC 19794-2 record: finger view {index} declares {count} minutiae")
    raw = np.frombuffer(data, dtype=">u2", count=3 * count, offset=off).reshape(count, 3)
    off = end
    type_x, y_raw = raw[:, 0].astype(np.int64), raw[:, 1].astype(np.int64)
    angle_quality = raw[:, 2].astype(np.int64)
    kind, x, y = type_x >> 14, type_x & _MAX_COORD, y_raw & _MAX_COORD
    code, quality = angle_quality >> 8, angle_quality & 0xFF
    for i in range(count):
        if kind[i] == 3:
            raise ValueError(f"ISO finger view {index} minutia {i}: reserved minutia type code 3")
        if x[i] >= width or y[i] >= height:
            raise ValueError(
                f"ISO finger view {index} minutia {i}: position ({x[i]}, {y[i]}) outside the {width}x{height} image"
            )
        if quality[i] > 100:
            raise ValueError(f"ISO finger view {index} minutia {i}: quality {quality[i]} out of range 0..100")
    ext_len = int.from_bytes(data[off : off + 2], "big")
    off += 2
    if off + ext_len > len(data):
        raise ValueError(f"truncated ISO/IEC 19794-2 record: finger view {index} extended data cut short")
    template = FingerprintTemplate(
        x=x.astype(np.float32), y=y.astype(np.float32), angle=screen_ccw_deg_to_angle(code * _UNIT_DEG),
        kind=kind.astype(np.uint8), quality=quality.astype(np.uint8),
        width=width, height=height, dpi=dpi, quality_score=finger_quality, minutiae_source=MinutiaeSource.IMPORTED,
    ).validate()
    view = IsoFingerView(position, view_impression >> 4, view_impression & 0x0F, finger_quality, template,
                         data[off : off + ext_len])
    return view, off + ext_len


def _ppcm_to_dpi(ppcm: int) -> int:
    """The dpi for a pixels-per-cm value: a multiple of 50 in its cell if any, else the nearest integer."""
    low, high = (ppcm - 0.5) * 2.54, (ppcm + 0.5) * 2.54
    round_50 = 50 * int(np.ceil(low / 50))
    if round_50 < high and int(round_half_up(round_50 / 2.54)) == ppcm:
        return round_50
    return int(round_half_up(ppcm * 2.54))


def read_iso_record(source, *, dpi_override: int | None = None) -> IsoRecord:
    """Read every finger view of an ISO/IEC 19794-2:2005 record.

    Parameters
    ----------
    source : bytes or path
        The record, or a path to it.
    dpi_override : int, optional
        Resolution to use instead of the header's pixels-per-centimetre value
        (which cannot express e.g. 512 dpi exactly). Named apart from the
        ``dpi=`` hint of :func:`read_template`, which only formats without a
        resolution of their own (xyt) take.

    Raises
    ------
    ValueError
        Wrong magic or version, truncated data, a length field that disagrees
        with the data, non-square pixels, a reserved type code, a quality above
        100, or a minutia outside the image.
    """
    data = read_source(source, what="ISO/IEC 19794-2 record")
    _magic, _version, _length, equipment, width, height, res_x, res_y, n_views, _reserved = _check_header(data)
    if width == 0 or height == 0:
        raise ValueError(f"ISO/IEC 19794-2 header gives an empty image size {width}x{height}")
    if res_x != res_y:
        raise ValueError(f"ISO/IEC 19794-2 record has non-square pixels ({res_x} x {res_y} per cm), not supported")
    if dpi_override is None:
        if res_x == 0:
            raise ValueError("ISO/IEC 19794-2 header gives resolution 0 pixels/cm; pass dpi_override=")
        dpi = _ppcm_to_dpi(res_x)
    else:
        dpi = dpi_override
    dpi = check_dpi(dpi, what="ISO/IEC 19794-2 record")
    views, off = [], _HEADER.size
    for index in range(n_views):
        view, off = _read_view(data, off, index, width, height, dpi)
        views.append(view)
    if off != len(data):
        raise ValueError(f"ISO/IEC 19794-2 record has {len(data) - off} bytes after its last finger view")
    return IsoRecord(width, height, dpi, equipment >> 12, equipment & 0x0FFF, tuple(views))


def read_iso(source, *, view: int = 0, dpi_override: int | None = None) -> FingerprintTemplate:
    """Read one finger view (default the first) of an ISO/IEC 19794-2:2005 record as a template."""
    record = read_iso_record(source, dpi_override=dpi_override)
    if not record.views:
        raise ValueError("ISO/IEC 19794-2 record has no finger views")
    if not 0 <= view < len(record.views):
        raise ValueError(f"ISO/IEC 19794-2 record has {len(record.views)} finger views, no view index {view}")
    return record.views[view].template


def _check_field(name: str, value: int, high: int) -> int:
    if not 0 <= int(value) <= high:
        raise ValueError(f"ISO/IEC 19794-2: {name} {value} out of range 0..{high}")
    return int(value)


def write_iso(
    template: FingerprintTemplate,
    *,
    finger_position: int = 0,
    view_number: int = 0,
    impression_type: int = 0,
    equipment_id: int = 0,
) -> bytes:
    """Write ``template`` as a one-view ISO/IEC 19794-2:2005 record.

    The finger quality is ``template.quality_score``. Positions are rounded to
    whole pixels (halves up, then clamped into the image) and angles to
    256ths of a turn. Singular points and the orientation field are not
    written (the extended data block is empty).

    Raises
    ------
    ValueError
        More than 255 minutiae, an image wider or taller than 16384 pixels
        (14-bit coordinates), or header fields out of range.
    """
    template.validate()
    n = len(template)
    if n > 255:
        raise ValueError(f"ISO/IEC 19794-2: {n} minutiae, a finger view holds at most 255")
    if template.width > _MAX_COORD + 1 or template.height > _MAX_COORD + 1:
        raise ValueError(f"ISO/IEC 19794-2: image {template.width}x{template.height} exceeds 14-bit coordinates")
    position = _check_field("finger position", finger_position, 10)
    view_number = _check_field("view number", view_number, 15)
    impression_type = _check_field("impression type", impression_type, 15)
    equipment_id = _check_field("equipment id", equipment_id, 0x0FFF)
    x = np.clip(round_half_up(template.x), 0, template.width - 1)
    y = np.clip(round_half_up(template.y), 0, template.height - 1)
    code = np.mod(round_half_up(angle_to_screen_ccw_deg(template.angle) / _UNIT_DEG), 256)
    body = np.empty((n, 3), dtype=">u2")
    body[:, 0] = (template.kind.astype(np.int64) << 14) | x
    body[:, 1] = y
    body[:, 2] = (code << 8) | template.quality.astype(np.int64)
    ppcm = int(round_half_up(template.dpi / 2.54))
    length = _HEADER.size + _VIEW.size + body.nbytes + 2
    header = _HEADER.pack(ISO_MAGIC, _VERSION, length, equipment_id, template.width, template.height, ppcm, ppcm, 1, 0)
    view = _VIEW.pack(position, (view_number << 4) | impression_type, template.quality_score, n)
    return header + view + body.tobytes() + b"\x00\x00"
