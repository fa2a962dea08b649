"""Build the score calibration of mark searches (any rotation, partial probes) from FVC impostors.

The shipped fingerprint calibration is for full prints compared with the
default +-60 degree rotation bound. A mark is searched at every rotation and
covers a fraction of the print, so its impostor scores differ; reading them
through the print calibration overstates the strength of mark hits. This
script compares simulated marks (a window of 25-40% of the print area of
impressions 2-8, rotated at random, as templates) with impression 1 of every
other finger of every set, with ``ANY_ROTATION_PARAMS`` (and the same with
image-level marks: blurred, noisy, rotated windows, re-extracted), and writes the
impostor scores as ``index/fingerprint/mark_calibration.json``::

    python -m biomatch.benchmarks.calibrate_marks [--data DIR] [--out PATH]
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from ..extractors.fingerprint import EXTRACTOR_VERSION, LATENT_PARAMS, extract_fingerprint
from ..extractors.fingerprint.template import FingerprintTemplate
from ..matcher.fingerprint import PreparedGallery, prepare, score_many
from ..matcher.fingerprint.calibration import ScoreCalibration
from ..matcher.fingerprint.params import ANY_ROTATION_PARAMS, MATCHER_VERSION

__all__ = ["simulated_mark", "mark_impostor_scores", "main"]


def simulated_mark(t: FingerprintTemplate, rng: np.random.Generator) -> FingerprintTemplate:
    """Minutiae of a random window of 25-40% of the print area, rotated by a random angle."""
    frac = rng.uniform(0.25, 0.40)
    w, h = t.width * math.sqrt(frac), t.height * math.sqrt(frac)
    cx = rng.uniform(min(np.median(t.x), t.width - w / 2) - 30, np.median(t.x) + 30)
    cy = rng.uniform(min(np.median(t.y), t.height - h / 2) - 30, np.median(t.y) + 30)
    keep = (np.abs(t.x - cx) <= w / 2) & (np.abs(t.y - cy) <= h / 2)
    m = t.select(keep)
    a = rng.uniform(0, 2 * math.pi)
    c, s = math.cos(a), math.sin(a)
    size = int(max(w, h) * 1.5) + 2
    x0, y0 = m.x - cx, m.y - cy
    return FingerprintTemplate(x=c * x0 - s * y0 + size / 2, y=s * x0 + c * y0 + size / 2,
                               angle=np.mod(m.angle + a, 2 * math.pi), kind=m.kind, quality=m.quality,
                               width=size, height=size, dpi=500)


def mark_impostor_scores(templates: dict, seed: int = 11, images: dict | None = None) -> np.ndarray:
    """Impostor scores of simulated marks against impression 1 of every other finger.

    With ``images`` (``key -> (path, dpi)``) the marks are image-level (a
    blurred, noisy, rotated window, re-extracted: see
    :func:`biomatch.benchmarks.afis._mark_image`), else template windows.
    """
    from .afis import _mark_image

    rng = np.random.default_rng(seed)
    fingers = sorted({(s, f) for s, f, _ in templates})
    gallery = PreparedGallery.from_prepared([prepare(templates[(s, f, 1)], ANY_ROTATION_PARAMS) for s, f in fingers],
                                            ANY_ROTATION_PARAMS)
    out = []
    for k, (s, f) in enumerate(fingers):
        for i in range(2, 9):
            if (s, f, i) not in templates:
                continue
            if images is not None:
                path, dpi = images[(s, f, i)]
                mark = extract_fingerprint(_mark_image(path, dpi, rng, rotate=True), dpi, params=LATENT_PARAMS)
            else:
                mark = simulated_mark(templates[(s, f, i)], rng)
            if len(mark) < 6:
                continue
            scores = score_many(prepare(mark, ANY_ROTATION_PARAMS), gallery)
            out.append(np.delete(scores, k))
    return np.concatenate(out)


def main(argv=None) -> int:
    from .afis import _load

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="folder of FVC set folders (default $BIOMATCH_DATA/fingerprints)")
    p.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "index" / "fingerprint"
                                        / "mark_calibration.json"))
    args = p.parse_args(argv)
    items = _load(args.data)
    templates = {k: extract_fingerprint(path, dpi) for k, (path, dpi) in items.items()}
    scores = np.concatenate([mark_impostor_scores(templates, 11), mark_impostor_scores(templates, 12, items)])
    cal = ScoreCalibration(MATCHER_VERSION, scores,
                           f"{scores.size} simulated-mark impostor comparisons (any rotation; half template windows, "
                           "half blurred noisy rotated image windows re-extracted) on "
                           + ", ".join(sorted({s for s, _, _ in items})) + f" (extractor version {EXTRACTOR_VERSION})")
    Path(args.out).write_text(cal.to_json())
    print(f"{scores.size} impostor scores; threshold at FMR 1e-3: {cal.threshold(1e-3):.4f}, "
          f"1e-4: {cal.threshold(1e-4):.4f}; written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
