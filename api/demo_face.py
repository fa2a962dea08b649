"""The face part of ``biomatch demo``: enrol lfw_dev identities, probe held-back images, print candidates.

The gallery is the first image of the first ``DEMO_IDENTITIES`` identities
(sorted by name) that have at least three images, plus ``DEMO_DISTRACTORS``
single-image identities; the probes are the second and third images of a few
of them, which were never enrolled. A temporary store is used, so the demo
leaves the user's galleries alone.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

__all__ = ["run_demo"]

DEMO_IDENTITIES = 60
DEMO_DISTRACTORS = 60
DEMO_PROBED = 4


def run_demo(args) -> None:
    from ..benchmarks.datasets import data_root
    from ..extractors.faces import extract_faces
    from ..index.faces import FaceGallery
    from ..index.faces.probe import run_probe
    from ..index.store import Store

    root = data_root(getattr(args, "data", None)) / "faces" / "lfw_dev"
    if not root.is_dir():
        raise ValueError(f"{root}: shared face data not found (set BIOMATCH_DATA or --data)")
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    images = {p.name: sorted(p.glob("*.jpg")) for p in folders}
    known = [n for n in images if len(images[n]) >= 3][:DEMO_IDENTITIES]
    distractors = [n for n in images if len(images[n]) == 1][:DEMO_DISTRACTORS]
    probed = known[:: max(1, len(known) // DEMO_PROBED)][:DEMO_PROBED]
    probes = [images[n][i] for n in probed for i in (1, 2)]
    with tempfile.TemporaryDirectory(prefix="biomatch-face-demo-") as tmp:
        with Store.open(f"sqlite:///{tmp}/demo.db", home=tmp) as store:
            gallery = FaceGallery.open(store)
            t0 = time.perf_counter()
            for name in known + distractors:
                result = extract_faces(images[name][0])
                if result.accepted:
                    gallery.enrol(f"NOTICE-{name}", "DEMO", [result.accepted[0]])
            print(f"enrolled {len(gallery)} faces from {root} in {time.perf_counter() - t0:.1f} s "
                  f"({len(known)} identities with held-back images, {len(distractors)} distractors)")
            threshold, _ = gallery.threshold(0.01)
            print(f"1:N threshold for FPIR 1% at {len(gallery)} faces: score {threshold:.3f}")
            t0 = time.perf_counter()
            result = run_probe(probes, gallery, top=3)
            print(f"probed {len(probes)} held-back images ({len(result.faces)} faces) "
                  f"in {time.perf_counter() - t0:.1f} s\n")
            for f in result.faces:
                truth = Path(f.source).parent.name
                print(f"{Path(f.source).name}  face {f.face_index}  (true identity {truth})"
                      + (f"  [below quality floor: {'; '.join(f.below_floor)}]" if f.below_floor else ""))
                for c in f.candidates:
                    mark = "  <- above FPIR-1% threshold" if c.score >= threshold else ""
                    print(f"   {c.rank}. {c.external_ref:<36} score {c.score:.3f}  FMR {c.fmr_text}{mark}")
