"""Legacy ANSI/NIST-ITL Type-9 "standard format" minutiae (fields 9.004-9.012).

Many AFIS exchanges still carry minutiae only in these fields, not in the
INCITS 378 block (9.126-9.137) that :mod:`.ansinist` reads first. This module
is the codec between them and :class:`FingerprintTemplate`; it knows nothing
of ``nistitl``: a field is a list of subfields, each a list of item strings.

Fields
------
9.004 FMT ``S``; 9.005 OFR (system name, method ``A``/``E``/``M``); 9.006 FGP
finger position(s); 9.007 FPC pattern class (table ``T``/``U``, class); 9.008
CRP and 9.009 DLT cores and deltas, ``XXXXYYYY``; 9.010 MIN the number of
minutiae; 9.011 RDG ``0``/``1`` ridge counts present; 9.012 MRC one subfield
per minutia: index, ``XXXXYYYYTTT``, quality, type, then ``NNN,CC`` ridge counts.

Conventions (and the conversion to biomatch's, ``docs/fingerprint.md``)
-------------------------------------------------------------------------
* **Units**: ``XXXX``/``YYYY`` in 0.01 mm, so at 500 ppi a unit is
  ``500 / 2540 = 0.19685`` px: ``x_px = X * 5 / 25.4``. No resolution is needed.
* **Origin bottom-left, y up**: ``Y = H - 1 - round(y_mm * 100)`` with
  ``H = round(image height in mm * 100)``, so reading needs the image height
  (from the INCITS 378 size fields of the same record, else the image record
  of the same IDC). Without either, ``H = max(Y) + 1`` is used: positions are
  then right up to a vertical shift, which matching ignores; handedness is kept.
* **Theta**: whole degrees counter-clockwise from +x (y up), pointing half a
  turn from INCITS 378 / ISO: *out of* the ridge at an ending, along the stem
  away from the branches at a bifurcation. biomatch
  ``angle_deg = (180 - T) mod 360``, ``T = (180 - angle_deg) mod 360`` (the
  NIST xyt rule of ``docs/fingerprint-formats.md``).
* **Types** ``A`` ending, ``B`` bifurcation, ``C`` compound, ``D``
  undetermined; ``C``/``D`` read as ``OTHER``, ``OTHER`` is written as ``D``.
* **Quality** 0 manually encoded, 1 none, 2 best .. 63 worst. biomatch 0-100:
  ``1 + round((63 - q) * 99 / 61)`` for 2..63, 100 for 0, 0 ("not reported")
  for 1; written as ``63 - round((quality - 1) * 61 / 99)``, 1 for quality 0.

Sources
-------
ANSI/NIST-ITL 1-2011 section 8.9 keeps 9.005-9.012 as legacy fields and
defers to ANSI/NIST-ITL 1-2007 for them; that text was not available here, so
the conventions are NIST's reference implementation of the 2007 edition, NBIS
(``an2k`` and ``mindtct``): ``minutiae2field_12`` in
``mindtct/src/lib/mindtct/to_type9.c`` writes ``x = sround(x / ppmm * 100)``,
``y = h_units - 1 - sround(y / ppmm * 100)`` ("origin at the bottom of the
image"), ``theta = (270 - lfs_deg) mod 360`` ("The ANSI/NIST standard
specifies directional angles to be 180 degrees rotated from the directions
computed by LFS"), quality ``sround(63 - reliability * 61)`` ("[2..63] with 2
being highest"), type ``A`` ending / ``B`` bifurcation; ``an2k``'s
``nist2iafis_minutia_type`` (``to_iafis.c``) names ``C`` compound and ``D``
type undefined, ``flip_y_coord``/``flip_direction`` (``flip.c``) convert to
FBI/IAFIS's top-left, opposite-direction encoding, and ``an2k.h`` bounds the
quality to 0..63. No difference between NBIS and the standard could be checked
for lack of the 2007 text. No code was copied.
"""
from __future__ import annotations

import math
import re

import numpy as np

from biomatch.extractors.fingerprint.formats._common import (
    angle_to_screen_ccw_deg, round_half_up, screen_ccw_deg_to_angle)
from biomatch.extractors.fingerprint.template import FingerprintTemplate, MinutiaeSource, MinutiaKind

__all__ = ["LEGACY_TAGS", "field_items", "read_legacy", "write_legacy", "UNITS_PER_MM"]

#: Tags of the legacy standard-format block (9.004 FMT is set by the record writer).
LEGACY_TAGS = (5, 6, 7, 8, 9, 10, 11, 12)
UNITS_PER_MM = 100.0  # 0.01 mm units
_PX_PER_UNIT = 500.0 / 25.4 / UNITS_PER_MM  # biomatch pixels (500 ppi) per 0.01 mm
_TYPES = {"A": MinutiaKind.ENDING, "B": MinutiaKind.BIFURCATION, "C": MinutiaKind.OTHER, "D": MinutiaKind.OTHER}
_CODES = {int(MinutiaKind.ENDING): "A", int(MinutiaKind.BIFURCATION): "B"}
_XYT = re.compile(r"[0-9]{11}")
_XY = re.compile(r"[0-9]{8}")
_RIDGE_COUNT = re.compile(r"[0-9]{1,3},[0-9]{1,3}")
_NUMBER = re.compile(r"[0-9]{1,9}")


def field_items(value) -> list[list[str]]:
    """A parsed field's value (a string, or subfields of a string or items) as subfields of items."""
    if isinstance(value, str):
        return [[value]] if value else []
    if not isinstance(value, (list, tuple)):
        return []
    return [[sub] if isinstance(sub, str) else [str(v) for v in sub] for sub in value]


def _scalar(fields: dict, tag: int) -> str | None:
    items = fields.get(tag)
    if not items or not items[0]:
        return None
    return items[0][0].strip()


def _points(fields: dict, tag: int, what: str) -> np.ndarray:
    """CRP/DLT ``XXXXYYYY`` subfields as (k, 2) units."""
    out = []
    for i, sub in enumerate(fields.get(tag) or []):
        text = sub[0].strip() if sub else ""
        if not _XY.fullmatch(text):
            raise ValueError(f"{what}: field 9.{tag:03d} item {i}: {text[:20]!r} is not XXXXYYYY (0.01 mm digits)")
        out.append((int(text[:4]), int(text[4:])))
    return np.array(out, np.float64).reshape(-1, 2)


def _minutia(sub: list[str], i: int, what: str) -> tuple[int, int, int, int, str]:
    name = f"{what}: field 9.012 minutia {i}"
    if len(sub) < 2:
        raise ValueError(f"{name}: needs at least an index and XXXXYYYYTTT, got {len(sub)} item(s)")
    index, xyt = sub[0].strip(), sub[1].strip()
    if not _NUMBER.fullmatch(index):
        raise ValueError(f"{name}: index {index[:20]!r} is not a number")
    if not _XYT.fullmatch(xyt):
        raise ValueError(f"{name}: {xyt[:20]!r} is not XXXXYYYYTTT (11 digits: 0.01 mm, 0.01 mm, degrees)")
    theta = int(xyt[8:])
    if theta >= 360:
        raise ValueError(f"{name}: theta {theta} is not in 0..359 degrees")
    quality = sub[2].strip() if len(sub) > 2 else "1"
    if not (_NUMBER.fullmatch(quality) and int(quality) <= 63):
        raise ValueError(f"{name}: quality {quality[:20]!r} is not in 0..63")
    kind = sub[3].strip() if len(sub) > 3 else "D"
    if kind not in _TYPES:
        raise ValueError(f"{name}: minutia type {kind[:20]!r} is not A, B, C or D")
    for rc in sub[4:]:
        if not _RIDGE_COUNT.fullmatch(rc.strip()):
            raise ValueError(f"{name}: ridge count {rc[:20]!r} is not 'neighbour,count'")
    return int(xyt[:4]), int(xyt[4:8]), theta, int(quality), kind


def _incits_size_mm(fields: dict) -> tuple[float, float] | None:
    """The image size from the INCITS 378 fields 9.128-9.131 of the same record, if they are there and sane."""
    try:
        w, h, dpi = (int(_scalar(fields, tag)) for tag in (128, 129, 131))
    except (TypeError, ValueError):
        return None
    dpi *= 2.54 if _scalar(fields, 130) == "2" else 1.0
    return (w * 25.4 / dpi, h * 25.4 / dpi) if w > 0 and h > 0 and 100 <= dpi <= 5000 else None


def _quality_from_legacy(q: np.ndarray) -> np.ndarray:
    out = 1 + round_half_up((63.0 - q) * 99.0 / 61.0)
    out[q == 0] = 100  # manually encoded and verified
    out[q == 1] = 0  # no quality reported
    return np.clip(out, 0, 100).astype(np.uint8)


def read_legacy(fields: dict[int, list[list[str]]], *, image_mm: tuple[float, float] | None = None,
                what: str = "Type-9 record") -> FingerprintTemplate:
    """A template from legacy Type-9 fields (see the module notes for the conventions).

    Parameters
    ----------
    fields : dict
        Tag (5..12) to subfields, each a list of item strings; the INCITS 378
        size fields 9.128-9.131, where given, set the image size.
    image_mm : (width_mm, height_mm), optional
        The image the minutiae were taken from (the image record of the same
        IDC); without it or 9.128-9.131 the template spans the minutiae and
        y is exact up to a shift.
    what : str
        Names the record in error messages.

    Returns
    -------
    FingerprintTemplate
        At 500 ppi, x right, y down, angles in radians (image coordinates).

    Raises
    ------
    ValueError
        Naming the field (and minutia) that is malformed.
    """
    image_mm = _incits_size_mm(fields) or image_mm
    rows = [_minutia(sub, i, what) for i, sub in enumerate(fields.get(12) or [])]
    count = _scalar(fields, 10)
    if count is not None and (not _NUMBER.fullmatch(count) or int(count) != len(rows)):
        raise ValueError(f"{what}: field 9.010 says {count[:20]!r} minutiae, field 9.012 holds {len(rows)}")
    a = np.array([r[:4] for r in rows], np.float64).reshape(-1, 4)
    cores, deltas = _points(fields, 8, what), _points(fields, 9, what)
    ys = np.concatenate([a[:, 1], cores[:, 1], deltas[:, 1]])
    if image_mm is not None:
        w_mm, h_mm = image_mm
        if not (0 < w_mm <= 1000 and 0 < h_mm <= 1000):
            raise ValueError(f"{what}: image size {w_mm:g} x {h_mm:g} mm out of range")
        h_units = int(round_half_up(h_mm * UNITS_PER_MM))
        width = max(1, int(round_half_up(w_mm * UNITS_PER_MM * _PX_PER_UNIT)))
        height = max(1, int(round_half_up(h_units * _PX_PER_UNIT)))
    else:
        h_units = int(ys.max()) + 1 if ys.size else 1
        xs = np.concatenate([a[:, 0], cores[:, 0], deltas[:, 0]])
        width = max(1, math.ceil(((xs.max() if xs.size else 0) + 1) * _PX_PER_UNIT))
        height = max(1, math.ceil(h_units * _PX_PER_UNIT))

    def to_px(xy: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
        x = xy[:, 0] * _PX_PER_UNIT
        y = (h_units - 1 - xy[:, 1]) * _PX_PER_UNIT
        bad = (x > width + 1) | (y < -1) | (y > height + 1)  # beyond a rounding step
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{what}: field {name} item {i}: position ({int(xy[i, 0])}, {int(xy[i, 1])}) "
                             f"(0.01 mm) lies outside the {width}x{height} px image")
        return np.clip(x, 0, width), np.clip(y, 0, height)

    x, y = to_px(a[:, :2], "9.012")
    singular = [np.column_stack([*to_px(p, f"9.{tag:03d}"), np.full(len(p), np.nan)])  # CRP/DLT: no direction
                for p, tag in ((cores, 8), (deltas, 9))]
    kinds = np.array([int(_TYPES[r[4]]) for r in rows], np.uint8)
    t = FingerprintTemplate(x=x, y=y, angle=screen_ccw_deg_to_angle(np.mod(a[:, 2] + 180.0, 360.0)),
                            kind=kinds, quality=_quality_from_legacy(a[:, 3]), width=width, height=height,
                            dpi=500, cores=singular[0], deltas=singular[1], minutiae_source=MinutiaeSource.IMPORTED)
    return t.validate()


def _units(template: FingerprintTemplate, xy: np.ndarray, h_units: int, tag: int) -> tuple[np.ndarray, np.ndarray]:
    per_px = 25.4 / float(template.dpi) * UNITS_PER_MM
    x = round_half_up(xy[:, 0] * per_px)
    y = np.clip(h_units - 1 - round_half_up(xy[:, 1] * per_px), 0, None)
    if xy.size and (x.max() > 9999 or y.max() > 9999):
        raise ValueError(f"field 9.{tag:03d}: a position beyond 99.99 mm cannot be written as XXXXYYYY")
    return x, y


def write_legacy(template: FingerprintTemplate, position: int = 0) -> list[tuple[int, str | list[list[str]]]]:
    """Legacy Type-9 fields 9.005-9.012 for ``template``, as ``(tag, value)`` in tag order.

    A value is a string, or a list of subfields of item strings. Ridge counts
    are not computed (9.011 RDG ``0``); cores and deltas are written without
    direction (CRP/DLT have none); the pattern class is ``UN`` (unknown).
    """
    template.validate()
    h_units = int(round_half_up(template.height * 25.4 / float(template.dpi) * UNITS_PER_MM))
    x, y = _units(template, np.column_stack([template.x, template.y]), h_units, 12)
    theta = np.mod(round_half_up(np.mod(angle_to_screen_ccw_deg(template.angle) + 180.0, 360.0)), 360)
    q = template.quality.astype(np.float64)
    quality = np.where(q == 0, 1, 63 - round_half_up((q - 1) * 61.0 / 99.0))
    out: list[tuple[int, str | list[list[str]]]] = [
        (5, [["BIOMATCH", "A"]]), (6, f"{int(position):02d}"), (7, [["T", "UN"]])]
    for tag, points in ((8, template.cores), (9, template.deltas)):
        if len(points):
            px, py = _units(template, points[:, :2].astype(np.float64), h_units, tag)
            out.append((tag, [[f"{a:04d}{b:04d}"] for a, b in zip(px, py)]))
    out += [(10, str(len(template))), (11, "0")]
    if len(template):
        out.append((12, [[f"{i + 1:03d}", f"{x[i]:04d}{y[i]:04d}{theta[i]:03d}", f"{quality[i]:02d}",
                          _CODES.get(int(template.kind[i]), "D")] for i in range(len(template))]))
    return out
