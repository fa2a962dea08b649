"""Golden file: templates written by version 1 of the native format keep loading.

``golden/template_v1.bin`` was written once by ``FingerprintTemplate.to_bytes``
(format version 1) from exactly the values below, and is never regenerated:
if this test fails, the reader lost the ability to read stored templates.
"""
from pathlib import Path

import numpy as np
import pytest

from biomatch.extractors.fingerprint.template import TEMPLATE_VERSION, FingerprintTemplate, TemplateVersionError

GOLDEN = Path(__file__).parent / "golden" / "template_v1.bin"

X = [12.5, 100.0, 200.25, 387.0, 0.0]
Y = [40.0, 373.5, 7.75, 0.0, 374.0]
ANGLE = [0.0, 1.5707963705062866, 3.1415927410125732, 4.71238899230957, 6.2831850051879883]
KIND = [1, 2, 0, 1, 2]
QUALITY = [100, 0, 55, 7, 99]
CORES = [[190.0, 180.5, 1.25]]
DELTAS = [[60.0, 300.0, float("nan")], [320.5, 290.0, 2.5]]
ORIENTATION = [[255, 0, 45], [90, 179, 255], [12, 255, 255], [255, 255, 100]]


def expected_template() -> FingerprintTemplate:
    return FingerprintTemplate(
        x=X, y=Y, angle=ANGLE, kind=KIND, quality=QUALITY, width=388, height=374, dpi=500, quality_score=63,
        cores=CORES, deltas=DELTAS, orientation=np.array(ORIENTATION, np.uint8), orientation_block_px=16,
    )


def test_golden_v1_loads_to_exact_values():
    t = FingerprintTemplate.from_bytes(GOLDEN.read_bytes())
    assert (t.width, t.height, t.dpi, t.quality_score, t.orientation_block_px) == (388, 374, 500, 63, 16)
    np.testing.assert_array_equal(t.x, np.float32(X))
    np.testing.assert_array_equal(t.y, np.float32(Y))
    np.testing.assert_array_equal(t.angle, np.float32(ANGLE))
    np.testing.assert_array_equal(t.kind, KIND)
    np.testing.assert_array_equal(t.quality, QUALITY)
    np.testing.assert_array_equal(t.cores, np.float32(CORES))
    np.testing.assert_array_equal(t.deltas, np.float32(DELTAS))  # NaN angle compares equal here
    np.testing.assert_array_equal(t.orientation, ORIENTATION)
    assert t.x.dtype == np.float32 and t.kind.dtype == np.uint8 and t.orientation.shape == (4, 3)


@pytest.mark.skipif(TEMPLATE_VERSION != 1, reason="the writer moved on to a newer format version")
def test_current_writer_still_produces_golden_bytes():
    # While the format version is 1, its byte layout must not drift silently.
    assert expected_template().to_bytes() == GOLDEN.read_bytes()


def test_future_version_is_refused_clearly():
    data = bytearray(GOLDEN.read_bytes())
    data[4:6] = (TEMPLATE_VERSION + 1).to_bytes(2, "little")
    with pytest.raises(TemplateVersionError, match=f"version {TEMPLATE_VERSION + 1} is not readable"):
        FingerprintTemplate.from_bytes(bytes(data))
