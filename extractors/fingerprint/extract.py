"""The fingerprint extraction pipeline: image in, :class:`FingerprintTemplate` out."""
from __future__ import annotations

from typing import MutableMapping

import numpy as np

from ..imageio import ImageInput, load_grey
from .binarize import binarize_ridges
from .enhance import stft_enhance
from .filter import remove_false_minutiae
from .frequency import ridge_period
from .leader import leader_minutiae
from .minutiae import detect_minutiae
from .normalize import normalize_contrast, resample_to_working_dpi
from .orient import OrientationField, orientation_field
from .params import DEFAULT_PARAMS, WORKING_DPI, ExtractorParams
from .quality import border_distance, minutia_quality, print_quality
from .segment import segment_foreground
from .singular import singular_points
from .template import FingerprintTemplate, MinutiaeSource
from .thin import thin_ridges

__all__ = ["extract_fingerprint"]

Trace = MutableMapping[str, object]


def extract_fingerprint(
    image: ImageInput,
    dpi: float = 500,
    *,
    params: ExtractorParams = DEFAULT_PARAMS,
    trace: Trace | None = None,
) -> FingerprintTemplate:
    """Extract minutiae and the orientation field from a fingerprint image.

    Parameters
    ----------
    image : path, bytes or (rows, cols) uint8 array
        An 8-bit grey print (PNG, TIFF, BMP, JPEG, WSQ...), dark ridges on a
        light background.
    dpi : float
        Resolution of ``image``; the print is resampled to 500 ppi first.
    params : ExtractorParams
        Algorithm parameters (the defaults are the tuned ones).
    trace : dict-like, optional
        When given, every stage's intermediate array is stored under a named
        key ("grey", "normalized", "orientation", "coherence", "mask",
        "period", "enhanced", "ridges", "skeleton", "candidates",
        "minutiae"), in the spirit of SourceAFIS's transparency.

    Returns
    -------
    FingerprintTemplate
        Coordinates in pixels at 500 ppi, x right, y down.

    Raises
    ------
    ValueError
        Unreadable or unsupported image, unsupported resolution, an image too
        small to hold a print, or one with no ridge area at all.

    Notes
    -----
    Stages: resample, local normalisation, orientation field (structure
    tensor), segmentation, ridge period, Gabor enhancement, binarisation,
    thinning, minutiae by crossing number with ridge tracing, removal of
    false minutiae, per-minutia quality and singular points.

    With ``params.minutiae_detector == "leader"`` the minutiae come from the
    LEADER network instead (:func:`.leader.leader_minutiae`), inside the
    same foreground, and the orientation field, singular points and quality
    score are computed as above; the enhancement-to-minutiae stages are
    skipped. About 20 times slower, and more accurate on the FVC sets (see
    docs/fingerprint.md); templates record their minutiae source.
    """
    grey = resample_to_working_dpi(load_grey(image), dpi, params)
    record = trace.__setitem__ if trace is not None else (lambda key, value: None)
    record("grey", grey)
    norm = normalize_contrast(grey, params)
    record("normalized", norm)
    field = orientation_field(norm, params)
    coherence = field.coherence_full()
    if trace is not None:
        record("orientation", field.theta_full())
        record("coherence", coherence)
    mask = segment_foreground(grey, coherence, params)
    record("mask", mask)
    if mask.sum() < params.min_side_px ** 2 // 2:
        raise ValueError("no fingerprint ridges found in the image (blank, flat or pure noise)")
    if params.minutiae_detector == "leader":
        x, y, angle, kind, quality = leader_minutiae(grey, mask, params)
        source = MinutiaeSource.LEADER
    else:
        x, y, angle, kind, quality = _ridge_minutiae(norm, field, coherence, mask, params, record)
        source = MinutiaeSource.RIDGES
    cores, deltas = singular_points(field, mask, params)
    orient, block = _block_orientation(field, mask, params.template_block_px)
    template = FingerprintTemplate(
        x=x,
        y=y,
        angle=angle,
        kind=kind,
        quality=quality,
        width=grey.shape[1],
        height=grey.shape[0],
        dpi=WORKING_DPI,
        quality_score=print_quality(coherence, mask),
        cores=cores,
        deltas=deltas,
        orientation=orient,
        orientation_block_px=block,
        minutiae_source=source,
    )
    record("minutiae", template)
    return template.validate()


def _ridge_minutiae(norm, field, coherence, mask, params, record):
    """Minutiae of biomatch's own detector: enhancement, binarisation, thinning, crossing numbers,
    ridge tracing, removal of false minutiae and per-minutia quality (the default)."""
    period = ridge_period(norm, mask, params)
    record("period", period)
    enhanced = stft_enhance(norm, field, period, mask, params)
    record("enhanced", enhanced)
    # binarise and thin only the bounding box of the foreground: everything outside is
    # background, so the result is the same and the connected-component and thinning passes
    # touch fewer pixels
    box = _foreground_box(mask, margin=2)
    ridges = np.zeros(mask.shape, bool)
    ridges[box] = binarize_ridges(enhanced[box], mask[box], params)
    record("ridges", ridges)
    skeleton = np.zeros(mask.shape, bool)
    skeleton[box] = thin_ridges(ridges[box])
    record("skeleton", skeleton)
    cand = detect_minutiae(skeleton, field, mask, params)
    record("candidates", cand)
    border = border_distance(mask)
    keep = remove_false_minutiae(cand, mask, params, border)
    quality = minutia_quality(cand.row[keep], cand.col[keep], coherence, enhanced, mask, border)
    if keep.size > params.max_minutiae:
        best = np.argsort(-quality.astype(np.int64), kind="stable")[: params.max_minutiae]
        keep, quality = keep[np.sort(best)], quality[np.sort(best)]
    x, y = cand.col[keep].astype(np.float32), cand.row[keep].astype(np.float32)
    return x, y, cand.angle[keep], cand.kind[keep], quality


def _foreground_box(mask: np.ndarray, margin: int) -> tuple[slice, slice]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    r0, r1 = max(0, rows[0] - margin), min(mask.shape[0], rows[-1] + 1 + margin)
    c0, c1 = max(0, cols[0] - margin), min(mask.shape[1], cols[-1] + 1 + margin)
    return slice(r0, r1), slice(c0, c1)


def _block_orientation(field: OrientationField, mask: np.ndarray, block: int) -> tuple[np.ndarray, int]:
    half = block // 2
    t = field.theta_grid(block)
    m = mask[half::block, half::block]
    codes = np.mod(np.rint(np.degrees(t)), 180).astype(np.uint8)
    codes[~m] = 255
    return codes, block
