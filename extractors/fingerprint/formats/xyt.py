"""NIST ``xyt`` minutiae text, as written by mindtct and read by bozorth3.

One minutia per line, ``x y theta [quality]``, integers separated by blanks.
NBIS defines two representations and mindtct writes one of them:

``rep="nist"`` (mindtct's default, "NIST internal"; what bozorth3 expects)
    From ``lfs2nist_minutia_XYT`` (NBIS ``mindtct/xytreps.c``):
    ``x = col``; ``y = ih - row`` (origin at the **bottom-left**, y up, so a
    minutia on image row 0 gets ``y = ih`` and one on the last row ``y = 1``);
    ``theta = (270 - 11.25 * lfs_dir) mod 360``, degrees counter-clockwise from
    the positive x axis.  LFS directions (``lfs_dir``, 0..31) start at vertical
    up and turn clockwise, pointing up the ridge (``get_low_curvature_direction``
    in ``minutia.c``); the NIST internal theta is turned a half turn from that:
    it points *out of* the ridge ending / bifurcation valley, the opposite of
    ISO/M1 (comment block of ``write_minutiae_XYTQ`` in ``results.c``).
    Quality is ``sround(reliability * 100)``, 0..100.
``rep="m1"`` (mindtct ``-m1``; ANSI INCITS 378 "M1")
    ``x = col``, ``y = row`` (origin top-left, y down);
    ``theta = (90 - 11.25 * lfs_dir) mod 360``: counter-clockwise as seen on
    screen and pointing *into* the ridge, the same sense as ISO/IEC 19794-2.

Conversions to and from biomatch (x right, y down, ``angle`` radians clockwise
on screen, into the ridge)::

    nist:  x = x_xyt   y = height - y_xyt   theta = (180 - degrees(angle)) mod 360
    m1:    x = x_xyt   y = y_xyt            theta = (360 - degrees(angle)) mod 360

so a minutia pointing right (``angle = 0``) is ``theta = 180`` in NIST xyt and
``0`` in M1 xyt; one pointing down the image (``angle = pi/2``) is ``90`` and
``270``.  Positions are integer pixels and angles integer degrees, so a
biomatch template round-trips through xyt exactly when its positions are
integers and its angles whole degrees; otherwise within half a pixel and half a
degree.  bozorth3's reader (``bz_load`` in ``bz_io.c``) accepts 3 or 4 integer
columns, the same count on every line, and folds ``theta > 180`` to negative;
this reader accepts the same (``theta`` in ``-360..360``) and rejects anything
else with the line number.
"""
from __future__ import annotations

import re

import numpy as np

from biomatch.extractors.fingerprint.formats._common import (
    angle_to_screen_ccw_deg,
    check_dpi,
    check_size,
    read_source,
    round_half_up,
    screen_ccw_deg_to_angle,
)
from biomatch.extractors.fingerprint.template import FingerprintTemplate, MinutiaeSource, MinutiaKind

__all__ = ["read_xyt", "write_xyt", "XYT_REPS"]

#: The two xyt representations NBIS defines: mindtct's default and ``-m1``.
XYT_REPS = ("nist", "m1")
_INT = re.compile(r"[+-]?\d+")
_MAX_LINES = 65535


def _check_rep(rep: str) -> str:
    if rep not in XYT_REPS:
        raise ValueError(f"xyt: rep must be one of {XYT_REPS}, got {rep!r}")
    return rep


def _parse_lines(text: str) -> tuple[np.ndarray, list[int]]:
    """Rows of 3 or 4 ints and their line numbers; raises ``ValueError`` naming the line."""
    rows, linenos, ncols = [], [], None
    for lineno, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) not in (3, 4):
            raise ValueError(f"xyt line {lineno}: expected 3 or 4 columns (x y theta [quality]), got {len(fields)}")
        if ncols is None:
            ncols = len(fields)
        elif len(fields) != ncols:
            raise ValueError(f"xyt line {lineno}: {len(fields)} columns where earlier lines have {ncols}")
        for field in fields:
            if not _INT.fullmatch(field):
                raise ValueError(f"xyt line {lineno}: {field[:20]!r} is not an integer")
            if len(field.lstrip("+-")) > 6:
                raise ValueError(f"xyt line {lineno}: {field[:20]!r} is out of range")
        if len(rows) >= _MAX_LINES:
            raise ValueError(f"xyt: more than {_MAX_LINES} minutiae")
        rows.append([int(f) for f in fields])
        linenos.append(lineno)
    if not rows:
        return np.zeros((0, 4), np.int64), linenos
    return np.asarray(rows, dtype=np.int64), linenos


def read_xyt(
    source,
    *,
    width: int,
    height: int,
    dpi: int = 500,
    rep: str = "nist",
    default_quality: int = 0,
    kind: int = MinutiaKind.OTHER,
) -> FingerprintTemplate:
    """Read NIST xyt minutiae into a :class:`FingerprintTemplate`.

    Parameters
    ----------
    source : bytes or path
        The xyt text (``bytes``) or a path to it (``str``/``PathLike``).
    width, height : int
        Size of the image the minutiae were found on, in pixels. ``height`` is
        needed to flip mindtct's bottom-left origin; both bound the positions.
    dpi : int
        Resolution of that image (xyt does not record it).
    rep : {"nist", "m1"}
        mindtct's default NIST internal representation, or its ``-m1`` output.
    default_quality : int
        Quality given to every minutia when the file has only 3 columns
        (bozorth3 uses 1 there; 0 is ISO's "not reported").
    kind : int
        xyt carries no minutia type; every minutia gets this
        :class:`MinutiaKind` (default ``OTHER``).

    Raises
    ------
    ValueError
        Not text, a line that is not 3-4 integers, inconsistent column counts,
        theta outside -360..360, quality outside 0..100, or a minutia outside
        the ``width`` x ``height`` image.
    """
    what = "xyt"
    data = read_source(source, what=what)
    width, height = check_size(width, height, what=what)
    dpi = check_dpi(dpi, what=what)
    _check_rep(rep)
    if not 0 <= int(default_quality) <= 100:
        raise ValueError(f"xyt: default_quality {default_quality} out of range 0..100")
    if int(kind) not in (0, 1, 2):
        raise ValueError(f"xyt: minutia kind code {kind} is not 0, 1 or 2")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise ValueError("xyt: not ASCII text") from None
    rows, linenos = _parse_lines(text)
    n = rows.shape[0]
    x, y_file, theta = rows[:, 0], rows[:, 1], rows[:, 2]
    quality = rows[:, 3] if rows.shape[1] == 4 and n else np.full(n, int(default_quality), np.int64)
    for i in range(n):
        where = f"xyt line {linenos[i]}"
        if not -360 <= theta[i] <= 360:
            raise ValueError(f"{where}: theta {theta[i]} out of range -360..360 degrees")
        if not 0 <= quality[i] <= 100:
            raise ValueError(f"{where}: quality {quality[i]} out of range 0..100")
        if not (0 <= x[i] <= width and 0 <= y_file[i] <= height):
            raise ValueError(f"{where}: position ({x[i]}, {y_file[i]}) outside the {width}x{height} image")
    y = (height - y_file) if rep == "nist" else y_file
    screen_ccw = (theta + 180) if rep == "nist" else theta
    return FingerprintTemplate(
        x=x.astype(np.float32),
        y=y.astype(np.float32),
        angle=screen_ccw_deg_to_angle(np.mod(screen_ccw, 360)),
        kind=np.full(n, int(kind), np.uint8),
        quality=quality.astype(np.uint8),
        width=width,
        height=height,
        dpi=dpi,
        minutiae_source=MinutiaeSource.IMPORTED,
    ).validate()


def write_xyt(template: FingerprintTemplate, *, rep: str = "nist") -> bytes:
    """Write ``template`` as xyt text (ASCII bytes, ``x y theta quality`` per line).

    Positions are rounded to whole pixels (halves up) and angles to whole
    degrees; minutia kind, singular points and the orientation field are not
    representable in xyt and are dropped.
    """
    _check_rep(rep)
    template.validate()
    x = round_half_up(template.x)
    y = round_half_up(template.y)
    theta = np.mod(round_half_up(angle_to_screen_ccw_deg(template.angle)), 360)
    if rep == "nist":
        y = template.height - y
        theta = np.mod(theta + 180, 360)
    lines = [f"{a} {b} {t} {q}\n" for a, b, t, q in zip(x.tolist(), y.tolist(), theta.tolist(), template.quality.tolist())]
    return "".join(lines).encode("ascii")
