"""The extractor's minutia directions mean what the format conversions assume.

The ISO/xyt converters assume biomatch angles point *into* the ridge at an
ending and *between the branches* (into the valley) at a bifurcation, the
sense of ISO/IEC 19794-2 and ANSI INCITS 378. This checks that on real prints:
stepping 3-6 px along the direction from an ending stays on ridge pixels more
than stepping backwards, and the reverse for bifurcations.
"""
from pathlib import Path

import numpy as np
import pytest

from biomatch.benchmarks.datasets import data_root
from biomatch.extractors.fingerprint import extract_fingerprint
from biomatch.extractors.fingerprint.formats import read_iso, read_xyt, write_iso, write_xyt

IMAGES = [data_root() / "fingerprints" / "fvc2002_db1_b" / f"{finger}_1.tif" for finger in (102, 104)]
pytestmark = pytest.mark.skipif(not all(p.is_file() for p in IMAGES), reason="shared FVC data not available")


def ridge_ahead_minus_behind(ridges: np.ndarray, x: float, y: float, angle: float) -> float:
    ahead, behind = [], []
    for step in (3, 4, 5, 6):
        for sign, out in ((1, ahead), (-1, behind)):
            col = int(round(x + sign * step * np.cos(angle)))
            row = int(round(y + sign * step * np.sin(angle)))
            if 0 <= row < ridges.shape[0] and 0 <= col < ridges.shape[1]:
                out.append(ridges[row, col])
    return float(np.mean(ahead) - np.mean(behind)) if ahead and behind else 0.0


@pytest.mark.parametrize("path", IMAGES, ids=lambda p: p.stem)
def test_endings_point_into_the_ridge_and_bifurcations_into_the_valley(path):
    trace = {}
    template = extract_fingerprint(path, 500, trace=trace)
    ridges = trace["ridges"]
    score = np.array([ridge_ahead_minus_behind(ridges, x, y, a) for x, y, a in zip(template.x, template.y, template.angle)])
    endings, bifurcations = score[template.kind == 1], score[template.kind == 2]
    assert len(endings) >= 5 and len(bifurcations) >= 5
    # ties (0) happen where both sides look alike; contradictions must be rare
    assert np.mean(endings > 0) >= 0.75 and np.mean(endings < 0) <= 0.1
    assert np.mean(bifurcations < 0) >= 0.75 and np.mean(bifurcations > 0) <= 0.1
    # and the exported records keep that sense after conversion (ISO in 256ths, xyt in degrees)
    iso = read_iso(write_iso(template))
    xyt = read_xyt(write_xyt(template), width=template.width, height=template.height)
    for back in (iso, xyt):
        again = np.array([ridge_ahead_minus_behind(ridges, x, y, a) for x, y, a in zip(back.x, back.y, back.angle)])
        decided = score != 0
        assert np.mean(np.sign(again[decided]) == np.sign(score[decided])) >= 0.9


NBIS_XYT = Path(__file__).parent / "golden" / "nbis_mindtct_fvc2002_db1_b_102_1.xyt"


def test_mindtct_xyt_imports_in_the_same_sense_as_our_minutiae():
    """Minutiae found by NBIS mindtct, imported from its NIST xyt, point the way ours do.

    ``golden/nbis_mindtct_fvc2002_db1_b_102_1.xyt`` holds the minutiae of
    FVC2002 DB1_B 102_1 found by the mindtct port in the ``nbis-py`` 0.1.3
    package, written with NBIS's ``lfs2nist_minutia_XYT`` formula (``y = ih - y``,
    ``t = (270 - sround(11.25 * dir)) mod 360``) and ``sround(reliability * 100)``.
    Where a mindtct minutia lies within 5 px of one of ours, the directions must
    agree; a missing half turn or y flip in the importer would oppose or mirror them.
    """
    path = IMAGES[0]
    ours = extract_fingerprint(path, 500)
    theirs = read_xyt(NBIS_XYT, width=ours.width, height=ours.height, dpi=500)
    assert len(theirs) == 62
    diffs = []
    for x, y, a in zip(ours.x, ours.y, ours.angle):
        dist = np.hypot(theirs.x - x, theirs.y - y)
        j = int(np.argmin(dist))
        if dist[j] <= 5:
            diffs.append(abs((float(theirs.angle[j]) - float(a) + np.pi) % (2 * np.pi) - np.pi))
    diffs = np.degrees(diffs)
    assert len(diffs) >= 10
    assert np.mean(diffs < 45) >= 0.9 and np.median(diffs) < 15  # measured: 18 images, 415 pairs, 99.5% < 45, median 4.6
