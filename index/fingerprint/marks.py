"""Crime-scene mark input: an image (optional ROI polygon, resolution) and/or examiner minutiae."""
from __future__ import annotations

import numpy as np

from biomatch.extractors.fingerprint import LATENT_PARAMS, detector_params, extract_fingerprint
from biomatch.extractors.fingerprint.formats import read_template
from biomatch.extractors.fingerprint.template import FingerprintTemplate

__all__ = ["mark_template", "MIN_MARK_MINUTIAE", "check_minutiae"]

#: Fewest usable minutiae a mark may have to be searched or stored.
MIN_MARK_MINUTIAE = 6


def check_minutiae(template: FingerprintTemplate, what: str = "mark") -> FingerprintTemplate:
    """Refuse a template with fewer than :data:`MIN_MARK_MINUTIAE` minutiae."""
    template.validate()
    if len(template) < MIN_MARK_MINUTIAE:
        raise ValueError(f"{what} has {len(template)} usable minutiae; at least {MIN_MARK_MINUTIAE} are needed "
                         "to search it (annotate more minutiae or enlarge the region of interest)")
    return template


def _from_transaction(data: bytes, detector: str = "ridges") -> FingerprintTemplate:
    """The first Type-9 minutiae of an ANSI/NIST-ITL transaction, else its first Type-13 latent, extracted."""
    from .ansinist import read_transaction

    tx = read_transaction(data)
    if tx.minutiae:
        return tx.minutiae[0][2]
    if tx.latents:
        latent = tx.latents[0]
        return extract_fingerprint(latent.image, latent.dpi, params=detector_params(detector, LATENT_PARAMS))
    raise ValueError("the ANSI/NIST-ITL transaction holds no Type-9 minutiae and no Type-13 latent image")


def _inside(poly: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Even-odd rule point-in-polygon test."""
    inside = np.zeros(x.shape, bool)
    n = len(poly)
    for i in range(n):
        x0, y0 = poly[i]
        x1, y1 = poly[(i + 1) % n]
        cross = (y0 > y) != (y1 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            xi = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        inside ^= cross & (x < xi)
    return inside


def _roi(roi, dpi: float) -> np.ndarray | None:
    if roi is None:
        return None
    poly = np.asarray(roi, np.float64)
    if poly.ndim != 2 or poly.shape[1] != 2 or len(poly) < 3 or not np.isfinite(poly).all():
        raise ValueError("roi must be a polygon of at least 3 (x, y) points in image pixels")
    return poly * (500.0 / float(dpi))


def mark_template(image=None, *, dpi: float = 500, roi=None, minutiae: bytes | None = None,
                  minutiae_format: str | None = None, detector: str = "ridges", **hints) -> FingerprintTemplate:
    """The template of a mark: examiner minutiae when given, else extracted from the image.

    Mark images are extracted with the latent parameters
    (:data:`~biomatch.extractors.fingerprint.LATENT_PARAMS`: minutiae along
    the mark's edge are dropped).

    Parameters
    ----------
    image : path, bytes or uint8 array, optional
        The mark image (any format :mod:`biomatch.extractors.imageio` reads, WSQ too).
    dpi : float
        Its resolution (marks are often photographed at 1000 ppi).
    roi : sequence of (x, y), optional
        Region of interest polygon in image pixels; automatic minutiae
        outside it are dropped.
    minutiae : bytes, optional
        Examiner minutiae (JSON, NIST xyt, ISO/IEC 19794-2, native, or an
        ANSI/NIST-ITL transaction with a Type-9 record, else a Type-13
        latent image), which take precedence over the image.
    minutiae_format : str, optional
        Format of ``minutiae`` (sniffed when omitted).
    detector : {"ridges", "leader"}
        Minutiae detector for images (the database's: :attr:`.afis.Afis.detector`).

    Raises
    ------
    ValueError
        When neither input is given, an input cannot be read, or fewer than
        :data:`MIN_MARK_MINUTIAE` usable minutiae remain.
    """
    if minutiae is not None:
        data = bytes(minutiae)
        if minutiae_format in (None, "ansi-nist") and data.startswith(b"1.001:"):
            return check_minutiae(_from_transaction(data, detector), "the examiner's minutiae")
        t = read_template(data, minutiae_format, **hints)
        return check_minutiae(t, "the examiner's minutiae")
    if image is None:
        raise ValueError("a mark needs an image or examiner minutiae")
    if not 100 <= float(dpi) <= 2000:
        raise ValueError(f"mark resolution must be 100..2000 ppi, got {dpi}")
    poly = _roi(roi, dpi)
    t = extract_fingerprint(image, dpi, params=detector_params(detector, LATENT_PARAMS))
    if poly is not None:
        t = t.select(_inside(poly, t.x.astype(np.float64), t.y.astype(np.float64)))
    return check_minutiae(t)
