"""Latent parameters: minutiae along a mark's edge are dropped, the rest match the default extraction."""
from __future__ import annotations

import cv2
import numpy as np

from biomatch.extractors.fingerprint import DEFAULT_PARAMS, LATENT_PARAMS, extract_fingerprint
from biomatch.extractors.imageio import load_grey
from biomatch.index.fingerprint.marks import mark_template


def _mark(fvc_dir):
    """A noisy window of a real print on a white card: a mark with a hard edge."""
    img = load_grey(fvc_dir / "fvc2002_db1_b" / "103_2.tif")
    h, w = img.shape
    crop = img[h // 4:h // 4 + h // 2, w // 5:w // 5 + 3 * w // 5].astype(np.float32)
    rng = np.random.default_rng(3)
    crop = cv2.GaussianBlur(crop, (0, 0), 1.0) + rng.normal(0, 12, crop.shape)
    card = np.full((h, w), 255, np.float32)
    card[40:40 + crop.shape[0], 30:30 + crop.shape[1]] = crop
    return np.clip(card, 0, 255).astype(np.uint8)


def _edge_distance(trace_mask: np.ndarray, t) -> np.ndarray:
    dist = cv2.distanceTransform(trace_mask.astype(np.uint8), cv2.DIST_L2, 5)
    return dist[np.rint(t.y).astype(int), np.rint(t.x).astype(int)]


def test_latent_extraction_drops_edge_minutiae(fvc_dir):
    image = _mark(fvc_dir)
    trace = {}
    plain = extract_fingerprint(image, 500, trace=trace)
    latent = extract_fingerprint(image, 500, params=LATENT_PARAMS)
    near_edge = _edge_distance(trace["mask"], plain)
    assert LATENT_PARAMS.segment_erode_px > DEFAULT_PARAMS.segment_erode_px
    assert 6 <= len(latent) < len(plain)
    # the latent minutiae are the default ones away from the edge: none lies where the default mask ends
    assert _edge_distance(trace["mask"], latent).min() > near_edge.min()
    # and away from the edge the two extractions agree: most latent minutiae sit on a default one
    d = np.hypot(latent.x[:, None] - plain.x[None, :], latent.y[:, None] - plain.y[None, :]).min(axis=1)
    assert np.mean(d <= 3) >= 0.8


def test_mark_template_uses_latent_parameters(fvc_dir):
    image = _mark(fvc_dir)
    t = mark_template(image, dpi=500)
    want = extract_fingerprint(image, 500, params=LATENT_PARAMS)
    np.testing.assert_array_equal(t.x, want.x)
    np.testing.assert_array_equal(t.angle, want.angle)
