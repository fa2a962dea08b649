"""Real test images from the shared faces folder, and crafted bad inputs."""
from __future__ import annotations

import struct
import zlib

import numpy as np

from shared_data import LFW, lfw  # noqa: F401  (re-exported for the face extractor tests)
#: Two images of one person, one of another (each with a single face in frame).
SAME_A = "Aaron_Sorkin/Aaron_Sorkin_0001.jpg"
SAME_B = "Aaron_Sorkin/Aaron_Sorkin_0002.jpg"
OTHER = "Aaron_Pena/Aaron_Pena_0001.jpg"
THIRD = "Abbas_Kiarostami/Abbas_Kiarostami_0001.jpg"




def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (a decompression bomb's calling card)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def composite(*rels: str) -> np.ndarray:
    """Real face images side by side on one canvas (BGR)."""
    from biomatch.extractors.imageio import load_colour

    images = [load_colour(lfw(r)) for r in rels]
    rows = max(i.shape[0] for i in images)
    out = np.full((rows, sum(i.shape[1] for i in images), 3), 90, np.uint8)
    x = 0
    for img in images:
        out[: img.shape[0], x:x + img.shape[1]] = img
        x += img.shape[1]
    return out
