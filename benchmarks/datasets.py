"""Where the shared real data lives, and how to list an FVC-style set."""
from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["data_root", "fvc_images", "fvc_set_dpi"]

_FVC_NAME = re.compile(r"^(\d+)_(\d+)\.(tif|tiff|png|bmp|jpg|jpeg|wsq|pgm)$", re.IGNORECASE)


def data_root(override: str | os.PathLike | None = None) -> Path:
    """The shared data folder: ``override``, else ``$BIOMATCH_DATA``, else ``../shared/data``.

    The default is resolved against the current directory first and then
    against the repository checkout, so tests run from anywhere.
    """
    if override:
        return Path(override)
    env = os.environ.get("BIOMATCH_DATA")
    if env:
        return Path(env)
    here = Path("../shared/data")
    if here.is_dir():
        return here.resolve()
    return (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()


def fvc_images(folder: str | os.PathLike) -> dict[tuple[int, int], Path]:
    """Map ``(finger, impression)`` to the image path for every FVC-named file in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: not a folder")
    out = {}
    for path in sorted(folder.iterdir()):
        m = _FVC_NAME.match(path.name)
        if m:
            out[(int(m.group(1)), int(m.group(2)))] = path
    if not out:
        raise ValueError(f"{folder}: no FVC-named images (<finger>_<impression>.<ext>)")
    return out


def fvc_set_dpi(folder: str | os.PathLike, default: int = 500) -> int:
    """Resolution of an FVC set folder, read from the SOURCES.md table beside it.

    The table row naming the folder gives e.g. ``569 dpi`` or ``~500 dpi``.
    Falls back to ``default`` when no table mentions the folder.
    """
    folder = Path(folder)
    sources = folder.parent / "SOURCES.md"
    if sources.is_file():
        for line in sources.read_text(encoding="utf-8").splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cells and cells[0] == folder.name:
                for cell in cells:
                    m = re.fullmatch(r"~?\s*(\d{3,4})\s*(dpi|ppi)", cell)
                    if m:
                        return int(m.group(1))
    return default
