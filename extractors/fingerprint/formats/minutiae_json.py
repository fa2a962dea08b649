"""JSON minutiae, for examiner-annotated marks and hand-made test cases.

Schema (version 1)::

    {
      "format": "biomatch.minutiae",        optional on read; written
      "version": 1,                         optional on read; must be 1
      "width": 388, "height": 374,          image size in pixels (required)
      "dpi": 500,                           resolution of the coordinates (required)
      "angle_convention": "iso",            optional, "iso" (default) or "image"
      "quality_score": 0,                   optional whole-print quality 0..100
      "meta": {...},                        optional, free-form, ignored
      "minutiae": [                         required, may be empty
        {"x": 120.5, "y": 87, "angle_deg": 270.0, "kind": "ending", "quality": 80}
      ]
    }

* ``x``, ``y``: pixels, origin at the top-left pixel centre, x right, y down;
  numbers (fractions allowed), ``0 <= x <= width``, ``0 <= y <= height``.
* ``angle_deg``: degrees in ``-360..360``. With ``"angle_convention": "iso"``
  it is measured from the positive x axis **counter-clockwise as seen on
  screen**, as in ISO/IEC 19794-2 and the ANSI/NIST-ITL EFS fields examiners
  use; with ``"image"`` it is biomatch's own convention, measured in image
  coordinates (y down), i.e. clockwise on screen. Either way it points along
  the ridge away from an ending, and between the branches away from a
  bifurcation. A minutia pointing down the image is 270 ("iso") or 90 ("image").
* ``kind``: ``"ending"``, ``"bifurcation"``, ``"other"`` or the ISO codes
  1, 2, 0; optional, default ``"other"`` (examiners often cannot tell on marks).
* ``quality``: integer 0..100, optional, default 0 (ISO's "not reported").

Unknown keys are rejected (a misspelt ``"angle"`` must not silently become
0 degrees); put anything else under ``"meta"``.
"""
from __future__ import annotations

import json
import math

import numpy as np

from biomatch.extractors.fingerprint.formats._common import (
    angle_to_screen_ccw_deg,
    check_dpi,
    check_size,
    read_source,
    screen_ccw_deg_to_angle,
)
from biomatch.extractors.fingerprint.template import FingerprintTemplate, MinutiaeSource, MinutiaKind

__all__ = ["read_json", "write_json", "JSON_FORMAT_NAME", "ANGLE_CONVENTIONS"]

JSON_FORMAT_NAME = "biomatch.minutiae"
ANGLE_CONVENTIONS = ("iso", "image")
_TOP_KEYS = {"format", "version", "width", "height", "dpi", "angle_convention", "quality_score", "meta", "minutiae"}
_MINUTIA_KEYS = {"x", "y", "angle_deg", "kind", "quality"}
_KIND_NAMES = {"other": MinutiaKind.OTHER, "ending": MinutiaKind.ENDING, "bifurcation": MinutiaKind.BIFURCATION}


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where} must be a number, got {value!r}"[:200])
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{where} must be finite, got {value}")
    return value


def _integer(value, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where} must be an integer, got {value!r}"[:200])
    if not low <= value <= high:
        raise ValueError(f"{where} {value} out of range {low}..{high}")
    return value


def _kind(value, where: str) -> int:
    if isinstance(value, str):
        if value not in _KIND_NAMES:
            raise ValueError(f"{where} {value!r} is not one of {sorted(_KIND_NAMES)}"[:200])
        return int(_KIND_NAMES[value])
    return _integer(value, where, 0, 2)


def _load(data: bytes) -> dict:
    try:
        doc = json.loads(data.decode("utf-8-sig"), parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("minutiae JSON: nested too deeply") from None
    except UnicodeDecodeError:
        raise ValueError("minutiae JSON: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"minutiae JSON: not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ValueError(f"minutiae JSON: top level must be an object, got {type(doc).__name__}")
    return doc


def _reject_constant(name: str):
    raise ValueError(f"minutiae JSON: {name} is not a number")


def read_json(source) -> FingerprintTemplate:
    """Read the JSON minutiae schema above into a :class:`FingerprintTemplate`.

    Raises
    ------
    ValueError
        Invalid JSON, a missing or unknown key, a wrong type, a non-finite or
        out-of-range number, or a minutia outside the image; the message names
        the minutia index and field.
    """
    doc = _load(read_source(source, what="minutiae JSON"))
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise ValueError(f"minutiae JSON: unknown key(s) {sorted(unknown)[:5]}; put free-form data under 'meta'"[:300])
    for key in ("width", "height", "dpi", "minutiae"):
        if key not in doc:
            raise ValueError(f"minutiae JSON: missing required key {key!r}")
    if "format" in doc and doc["format"] != JSON_FORMAT_NAME:
        raise ValueError(f"minutiae JSON: format {doc['format']!r} is not {JSON_FORMAT_NAME!r}"[:200])
    if "version" in doc and (isinstance(doc["version"], bool) or doc["version"] != 1):
        raise ValueError(f"minutiae JSON: version {doc['version']!r} is not supported (reads version 1)"[:200])
    width, height = check_size(doc["width"], doc["height"], what="minutiae JSON")
    dpi = check_dpi(doc["dpi"], what="minutiae JSON")
    convention = doc.get("angle_convention", "iso")
    if convention not in ANGLE_CONVENTIONS:
        raise ValueError(f"minutiae JSON: angle_convention {convention!r} is not one of {ANGLE_CONVENTIONS}"[:200])
    quality_score = _integer(doc.get("quality_score", 0), "minutiae JSON: quality_score", 0, 100)
    items = doc["minutiae"]
    if not isinstance(items, list):
        raise ValueError("minutiae JSON: 'minutiae' must be a list")
    if len(items) > 65535:
        raise ValueError(f"minutiae JSON: {len(items)} minutiae, more than 65535")
    rows = np.zeros((len(items), 5), np.float64)
    for i, item in enumerate(items):
        where = f"minutiae JSON: minutia {i}"
        if not isinstance(item, dict):
            raise ValueError(f"{where} must be an object")
        unknown = set(item) - _MINUTIA_KEYS
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {sorted(unknown)[:5]}"[:300])
        for key in ("x", "y", "angle_deg"):
            if key not in item:
                raise ValueError(f"{where}: missing {key!r}")
        x, y = _number(item["x"], f"{where} x"), _number(item["y"], f"{where} y")
        if not (0 <= x <= width and 0 <= y <= height):
            raise ValueError(f"{where}: position ({x:g}, {y:g}) outside the {width}x{height} image")
        angle = _number(item["angle_deg"], f"{where} angle_deg")
        if not -360 <= angle <= 360:
            raise ValueError(f"{where}: angle_deg {angle:g} out of range -360..360")
        rows[i] = (x, y, angle, _kind(item.get("kind", "other"), f"{where} kind"),
                   _integer(item.get("quality", 0), f"{where} quality", 0, 100))
    screen_ccw = rows[:, 2] if convention == "iso" else -rows[:, 2]
    return FingerprintTemplate(
        x=rows[:, 0], y=rows[:, 1], angle=screen_ccw_deg_to_angle(np.mod(screen_ccw, 360.0)),
        kind=rows[:, 3].astype(np.uint8), quality=rows[:, 4].astype(np.uint8),
        width=width, height=height, dpi=dpi, quality_score=quality_score, minutiae_source=MinutiaeSource.IMPORTED,
    ).validate()


def write_json(template: FingerprintTemplate, *, angle_convention: str = "iso") -> bytes:
    """Write ``template`` as minutiae JSON (UTF-8 bytes).

    Positions and angles are written as the shortest decimals that
    :func:`read_json` turns back into the same float32 values, so the round
    trip is exact (angles within ~1e-13 rad of 0 come back as 0). Singular points and the orientation field are not written.
    """
    if angle_convention not in ANGLE_CONVENTIONS:
        raise ValueError(f"minutiae JSON: angle_convention {angle_convention!r} is not one of {ANGLE_CONVENTIONS}")
    template.validate()
    ccw = angle_to_screen_ccw_deg(template.angle)
    deg = ccw if angle_convention == "iso" else np.mod(360.0 - ccw, 360.0)
    names = {int(v): k for k, v in _KIND_NAMES.items()}
    minutiae = [
        {"x": _short(x), "y": _short(y), "angle_deg": _shortest_angle(d, a, angle_convention),
         "kind": names[int(k)], "quality": int(q)}
        for x, y, d, a, k, q in zip(template.x, template.y, deg, template.angle, template.kind, template.quality)
    ]
    doc = {
        "format": JSON_FORMAT_NAME, "version": 1, "width": template.width, "height": template.height,
        "dpi": template.dpi, "angle_convention": angle_convention, "quality_score": template.quality_score,
    }
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in doc.items()]
    rows = ",\n".join(f"    {json.dumps(m)}" for m in minutiae)
    lines.append(f'  "minutiae": [\n{rows}\n  ]' if minutiae else '  "minutiae": []')
    return ("{\n" + "\n".join(lines) + "\n}\n").encode("utf-8")


def _shortest_angle(deg: float, angle: np.float32, convention: str):
    """The shortest decimal of ``deg`` that :func:`read_json` turns back into exactly ``angle``."""
    for digits in range(0, 17):
        candidate = round(float(deg), digits)
        ccw = candidate if convention == "iso" else -candidate
        if screen_ccw_deg_to_angle(np.array([ccw % 360.0]))[0] == angle:
            return int(candidate) if digits == 0 else candidate
    return float(deg)


def _short(value):
    """A JSON number for a float32: an int when whole, else the shortest decimal reading back to it."""
    f32 = np.float32(value)
    if float(f32).is_integer():
        return int(f32)
    return float(np.format_float_positional(f32, unique=True))
