"""Ridge period estimation: the ridge peak, not the low-frequency background of the print."""
import cv2
import numpy as np

from biomatch.extractors.fingerprint import DEFAULT_PARAMS as P
from biomatch.extractors.fingerprint.frequency import ridge_period
from biomatch.extractors.fingerprint.normalize import normalize_contrast, resample_to_working_dpi
from biomatch.extractors.fingerprint.orient import orientation_field
from biomatch.extractors.fingerprint.segment import segment_foreground
from biomatch.extractors.imageio import load_grey


def _period_of(path, dpi):
    grey = resample_to_working_dpi(load_grey(str(path)), dpi, P)
    norm = normalize_contrast(grey, P)
    mask = segment_foreground(grey, orientation_field(norm, P).coherence_full(), P)
    return ridge_period(norm, mask, P)


def test_grating_period_is_found_under_a_blotchy_background():
    """Ridges of period 9 px and amplitude 1 under smooth blotches (blurred noise of standard
    deviation 1.5; its spectrum falls off from zero frequency like a print's uneven pressure): the
    estimate stays near the ridges' period instead of the longest period allowed (12 px without
    the frequency weighting, for 9 of 10 noise seeds; 10.1-10.4 px with it)."""
    rows, cols = np.mgrid[0:256, 0:256].astype(np.float32)
    ridges = np.cos(2 * np.pi * (rows * np.cos(0.4) + cols * np.sin(0.4)) / 9.0).astype(np.float32)
    blotches = cv2.GaussianBlur(np.random.default_rng(0).standard_normal((256, 256)).astype(np.float32), (0, 0), 3.0)
    blotches /= blotches.std()
    mask = np.ones((256, 256), bool)
    assert abs(ridge_period(ridges, mask, P) - 9.0) < 0.75
    assert abs(ridge_period(ridges + 1.5 * blotches, mask, P) - 9.0) < 1.5


def test_faint_print_gets_the_period_of_its_clear_impressions(fvc_dir):
    """FVC2002 DB2 109_8 is a faint, blotchy impression of finger 109; its ridge period must agree
    with the finger's clear impressions (without the frequency weighting it came out at 12 px,
    the longest period allowed, against 9-9.7 px)."""
    folder = fvc_dir / "fvc2002_db2_b"
    clear = [_period_of(folder / f"109_{k}.tif", 569) for k in (1, 2, 3)]
    faint = _period_of(folder / "109_8.tif", 569)
    assert max(clear) - min(clear) < 1.0
    assert abs(faint - np.median(clear)) < 1.0
    assert faint < P.max_period_px - 1.0
