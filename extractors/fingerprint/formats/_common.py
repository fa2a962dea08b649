"""Angle conventions and small checks shared by the template format modules.

Three angle conventions meet here; every conversion goes through the two
functions below so that no module re-derives them.

* **biomatch** (``FingerprintTemplate.angle``): radians in ``[0, 2*pi)``,
  measured in image coordinates (x right, y down), so it turns *clockwise* as
  seen on screen; the direction points along the ridge (ending) or between the
  branches (bifurcation), away from the minutia.
* **screen-CCW** (ISO/IEC 19794-2, ANSI INCITS 378 "M1", ANSI/NIST-ITL EFS,
  mindtct ``-m1`` xyt): degrees from the positive x axis, *counter-clockwise* as
  seen on screen, same pointing sense as biomatch (into the ridge).  Hence
  ``screen_ccw_deg = (360 - degrees(angle)) mod 360``.
* **NIST internal xyt** (mindtct default, bozorth3): screen-CCW plus a half
  turn, because mindtct points the direction *out of* the ridge ending
  (``lfs2nist_minutia_XYT``: ``t = 270 - lfs_dir`` while the M1 variant uses
  ``90 - lfs_dir``).
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

__all__ = [
    "MAX_TEMPLATE_FILE_BYTES",
    "angle_to_screen_ccw_deg",
    "screen_ccw_deg_to_angle",
    "round_half_up",
    "read_source",
    "check_size",
    "check_dpi",
]

#: Largest template file any reader accepts (an ISO record with 255 views of
#: 255 minutiae is under 0.5 MB; a JSON markup of 65535 minutiae ~ 6 MB).
MAX_TEMPLATE_FILE_BYTES = 16 * 1024 * 1024

_TWO_PI = 2.0 * math.pi


def angle_to_screen_ccw_deg(angle: np.ndarray) -> np.ndarray:
    """biomatch angles (radians, y down) to screen counter-clockwise degrees in ``[0, 360)``."""
    deg = np.degrees(np.asarray(angle, dtype=np.float64))
    return np.mod(360.0 - deg, 360.0)


def screen_ccw_deg_to_angle(deg: np.ndarray) -> np.ndarray:
    """Screen counter-clockwise degrees to biomatch angles: float32 radians in ``[0, 2*pi)``."""
    rad = np.radians(np.mod(360.0 - np.asarray(deg, dtype=np.float64), 360.0))
    out = rad.astype(np.float32)
    # float32 rounding can turn 2*pi - tiny into exactly 2*pi, outside [0, 2*pi)
    out[out >= np.float32(_TWO_PI)] = 0.0
    return out


def round_half_up(values: np.ndarray) -> np.ndarray:
    """Round to the nearest integer, halves up (as C ``sround`` does for positives), as int64."""
    return np.floor(np.asarray(values, dtype=np.float64) + 0.5).astype(np.int64)


def read_source(source, *, what: str, max_bytes: int = MAX_TEMPLATE_FILE_BYTES) -> bytes:
    """Bytes of ``source``: ``bytes``-like content, or a path (``str``/``PathLike``) to read.

    A ``str`` is always a path, never content, so a file name can never be
    mistaken for xyt text.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"{path}: no such {what} file")
        size = path.stat().st_size
        if size > max_bytes:
            raise ValueError(f"{path}: {what} file is {size} bytes, over the limit of {max_bytes}")
        data = path.read_bytes()
    else:
        raise ValueError(f"{what}: expected bytes or a path, got {type(source).__name__}")
    if len(data) > max_bytes:
        raise ValueError(f"{what}: {len(data)} bytes, over the limit of {max_bytes}")
    return data


def check_size(width, height, *, what: str) -> tuple[int, int]:
    """Validate an image size given to a reader; return it as ints."""
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{what}: image {name} must be an integer, got {value!r}")
        if not 0 < int(value) <= 65535:
            raise ValueError(f"{what}: image {name} {value} out of range 1..65535")
    return int(width), int(height)


def check_dpi(dpi, *, what: str) -> int:
    """Validate a resolution given to a reader; return it as an int."""
    if isinstance(dpi, bool) or not isinstance(dpi, (int, np.integer)):
        raise ValueError(f"{what}: dpi must be an integer, got {dpi!r}")
    if not 100 <= int(dpi) <= 5000:
        raise ValueError(f"{what}: resolution {dpi} dpi out of range 100..5000")
    return int(dpi)
