"""Image decoding shared by every image modality, with checks at the door.

Formats are sniffed from the bytes, never trusted from a file name. Pillow
reads the header first, so the pixel count is checked before any pixel is
decoded (decompression-bomb protection); WSQ-compressed fingerprints decode
through the ``wsq`` Pillow plugin (NBIS codec). An EXIF Orientation tag is
applied, so a phone photo comes out the way viewers show it.
"""
from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps

import wsq  # noqa: F401  (registers the WSQ plugin with Pillow)

__all__ = ["ImageInput", "MAX_BYTES", "MAX_PIXELS", "read_bytes", "decode_image", "load_grey", "load_colour"]

#: Default upload limit: 64 MiB of encoded bytes.
MAX_BYTES = 64 * 1024 * 1024
#: Default pixel limit: 40 megapixels (a 1000-ppi tenprint card is ~ 8000x8000 = 64 Mpx; raise it there).
MAX_PIXELS = 40_000_000

ImageInput = Union[str, os.PathLike, bytes, bytearray, np.ndarray]

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"\xff\xa0", "WSQ"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"RIFF", "WEBP"),
    (b"P5", "PGM"),
    (b"P6", "PPM"),
)


def sniff_format(data: bytes) -> str | None:
    """Return the image format named by the leading bytes, or ``None``."""
    for magic, name in _SIGNATURES:
        if data.startswith(magic):
            if name == "WEBP" and data[8:12] != b"WEBP":
                continue
            if name == "BMP" and data.startswith(b"BMFP") and int.from_bytes(data[2:6], "little") != len(data):
                continue  # a biomatch fingerprint template (magic BMFP), not a bitmap of that file size
            return name
    return None


def read_bytes(source: str | os.PathLike | bytes | bytearray, *, max_bytes: int = MAX_BYTES) -> bytes:
    """Read an encoded image from a path or bytes, enforcing ``max_bytes``."""
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        name = "<bytes>"
    else:
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"{path}: no such image file")
        size = path.stat().st_size
        if size > max_bytes:
            raise ValueError(f"{path}: file is {size} bytes, over the limit of {max_bytes}")
        data = path.read_bytes()
        name = str(path)
    if len(data) == 0:
        raise ValueError(f"{name}: empty file (0 bytes)")
    if len(data) > max_bytes:
        raise ValueError(f"{name}: {len(data)} bytes, over the limit of {max_bytes}")
    return data


def decode_image(data: bytes, *, mode: str = "L", max_pixels: int = MAX_PIXELS, name: str = "<bytes>") -> np.ndarray:
    """Decode encoded image bytes to a uint8 array.

    Parameters
    ----------
    data : bytes
        The encoded file (PNG, TIFF, BMP, JPEG, WSQ, GIF, WebP, PGM/PPM).
    mode : {"L", "RGB"}
        ``"L"`` gives an (rows, cols) grey image, ``"RGB"`` gives (rows, cols, 3)
        in **BGR** order, as OpenCV expects.
    max_pixels : int
        Images with more pixels are refused before their pixels are decoded.

    Raises
    ------
    ValueError
        Unknown format, truncated or corrupt data, too many pixels, or an image
        smaller than 2x2.
    """
    fmt = sniff_format(data)
    if fmt is None:
        raise ValueError(f"{name}: not a supported image (unrecognised leading bytes {data[:8]!r})")
    try:
        with warnings.catch_warnings():
            # Pillow warns (UserWarning) about e.g. corrupt EXIF and then either decodes or raises;
            # ignore those so the outcome never depends on the caller's warning filters.
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            width, height = img.size
            if width * height > max_pixels:
                raise ValueError(
                    f"{name}: {width}x{height} image has {width * height} pixels, over the limit of {max_pixels}"
                )
            img.load()
            _apply_exif_orientation(img)
    except ValueError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValueError(f"{name}: image too large, over the limit of {max_pixels} pixels ({exc})") from None
    except Exception as exc:  # Pillow raises many types for corrupt data
        raise ValueError(f"{name}: corrupt or truncated {fmt} image ({type(exc).__name__}: {exc})") from None
    if width < 2 or height < 2:
        raise ValueError(f"{name}: image is {width}x{height}, too small")
    if mode == "L":
        if img.mode in ("I;16", "I;16B", "I;16L", "I"):
            arr = np.asarray(img, dtype=np.float64)
            span = max(arr.max() - arr.min(), 1.0)
            return np.ascontiguousarray(((arr - arr.min()) * (255.0 / span)).astype(np.uint8))
        return np.ascontiguousarray(np.asarray(img.convert("L"), dtype=np.uint8))
    if mode == "RGB":
        rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
        return np.ascontiguousarray(rgb[:, :, ::-1])
    raise ValueError(f"mode must be 'L' or 'RGB', got {mode!r}")


def _apply_exif_orientation(img: Image.Image) -> None:
    """Turn the pixels upright as an EXIF Orientation tag says (phone photos of faces and marks)."""
    try:
        ImageOps.exif_transpose(img, in_place=True)
    except Exception:  # unreadable EXIF: keep the pixels as stored rather than refuse the image
        pass


def _from_array(image: np.ndarray, mode: str, max_pixels: int) -> np.ndarray:
    arr = np.asarray(image)
    if arr.size > max_pixels * (3 if arr.ndim == 3 else 1):
        raise ValueError(f"array of shape {arr.shape} is over the pixel limit of {max_pixels}")
    if arr.ndim not in (2, 3) or min(arr.shape[:2]) < 2:
        raise ValueError(f"expected a 2-D grey or 3-D colour image of at least 2x2, got shape {arr.shape}")
    if arr.ndim == 3 and arr.shape[2] not in (1, 3, 4):
        raise ValueError(f"expected 1, 3 or 4 channels (grey, BGR, BGRA), got shape {arr.shape}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.dtype != np.uint8:
        raise ValueError(f"expected an 8-bit image (uint8), got dtype {arr.dtype}")
    if mode == "L":
        if arr.ndim == 3:
            import cv2

            arr = cv2.cvtColor(arr, cv2.COLOR_BGR2GRAY if arr.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
        return np.ascontiguousarray(arr)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    return np.ascontiguousarray(arr[:, :, :3])


def load_grey(source: ImageInput, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Load an 8-bit grey image from a path, encoded bytes or a uint8 array."""
    if isinstance(source, np.ndarray):
        return _from_array(source, "L", max_pixels)
    name = "<bytes>" if isinstance(source, (bytes, bytearray)) else str(source)
    return decode_image(read_bytes(source, max_bytes=max_bytes), mode="L", max_pixels=max_pixels, name=name)


def load_colour(source: ImageInput, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Load a BGR uint8 image (rows, cols, 3) from a path, encoded bytes or an array."""
    if isinstance(source, np.ndarray):
        return _from_array(source, "RGB", max_pixels)
    name = "<bytes>" if isinstance(source, (bytes, bytearray)) else str(source)
    return decode_image(read_bytes(source, max_bytes=max_bytes), mode="RGB", max_pixels=max_pixels, name=name)
