"""The AFIS part of ``biomatch demo``: tenprints of several agencies, unsolved marks, searches, a reverse-search hit.

1. Impression 1 of every finger of every shared FVC set is enrolled; each set
   becomes one tenprint record (its fingers at positions 1..10) of one agency.
2. A few simulated marks (a blurred, noisy window of 25-40% of impression 4
   of some fingers of the last set, re-extracted) are registered as unsolved by "UK".
3. A print search (impression 3 of one finger) and a mark search run.
4. A new tenprint (impression 2 of the last set, "FR") is enrolled; its
   reverse search hits the marks, and "UK" gets notifications.

A temporary store is used, so the demo leaves the user's data alone.
"""
from __future__ import annotations

import tempfile
import time

import numpy as np

__all__ = ["run_demo"]

AGENCIES = ("FR", "DE", "NL", "ES", "IT", "PL", "SE", "AT")
MARKS = 3


def run_demo(args) -> None:
    from ..api.cli_afis import format_candidates
    from ..benchmarks.afis import _load, _mark_image
    from ..extractors.fingerprint import extract_fingerprint
    from ..index.fingerprint import Afis
    from ..index.fingerprint.marks import mark_template
    from ..index.store import Store

    items = _load(getattr(args, "data", None) and f"{args.data}/fingerprints")
    sets = sorted({s for s, _, _ in items})
    rng = np.random.default_rng(2026)
    with tempfile.TemporaryDirectory(prefix="biomatch-afis-demo-") as tmp:
        with Store.open(f"sqlite:///{tmp}/demo.db", home=tmp) as store:
            afis = Afis.open(store)
            t0 = time.perf_counter()
            for n, s in enumerate(sets):
                fingers = sorted(f for ss, f, i in items if ss == s and i == 1)[:10]
                tps = {p + 1: extract_fingerprint(*items[(s, f, 1)]) for p, f in enumerate(fingers)}
                afis.enrol_tenprint(f"TP-{s}", AGENCIES[n % len(AGENCIES)], tps)
            print(f"1. enrolled {len(sets)} tenprint records ({len(afis.fingers)} fingers) of "
                  f"{min(len(sets), len(AGENCIES))} agencies in {time.perf_counter() - t0:.1f} s")
            last = sets[-1]
            fingers = sorted(f for ss, f, i in items if ss == last and i == 1)[:10]
            marks = []
            for p, f in list(enumerate(fingers))[:MARKS]:
                path, dpi = items[(last, f, 4)]
                try:  # as an examiner's mark image comes in: latent extraction, at least 6 minutiae
                    t = mark_template(_mark_image(path, dpi, rng), dpi=dpi)
                except ValueError as exc:
                    print(f"   simulated mark of {last}/{f} refused: {exc}")
                    continue
                mid, _ = afis.add_mark(f"CASE-{last}-{f}", "UK", t)
                marks.append((mid, p + 1, t))
            print(f"2. registered {len(marks)} unsolved marks of UK (windows of impression 4 of {last})")
            # the fingers of the last record leave the gallery, so the marks are unsolved for real
            rid = store.find_record("fingerprint", f"TP-{last}").id
            afis.delete_record(rid)
            s0, f0 = sets[0], sorted(f for ss, f, i in items if ss == sets[0] and i == 1)[0]
            cands, thr = afis.search_tenprint({1: extract_fingerprint(*items[(s0, f0, 3)])}, top=5)
            print(f"3a. print search: impression 3 of {s0}/{f0} at position 1 (true mate TP-{s0})")
            print(format_candidates(cands, thr))
            if marks:
                other = sets[1 % len(sets)]
                f1 = sorted(f for ss, f, i in items if ss == other and i == 1)[2]
                path, dpi = items[(other, f1, 5)]
                try:
                    mt = mark_template(_mark_image(path, dpi, rng), dpi=dpi)
                except ValueError as exc:
                    mt = None
                    print(f"3b. simulated mark refused: {exc}")
                if mt is not None:
                    cands, thr = afis.search_mark(mt, top=5)
                    print(f"3b. mark search: a window of impression 5 of {other}/{f1} (true mate TP-{other}, "
                          "right middle), orientation unknown")
                    print(format_candidates(cands, thr))
            tps = {p + 1: extract_fingerprint(*items[(last, f, 2)]) for p, f in enumerate(fingers)}
            _, hits = afis.enrol_tenprint(f"TP-{last}-rearrest", "FR", tps)
            print(f"4. FR enrols a new tenprint (impression 2 of {last}); reverse search against unsolved marks:")
            print(format_candidates(hits, afis.threshold(len(tps) * max(1, len(afis.marks)), marks=True)[0]))
            notes = store.list_notifications("UK")
            print(f"   notifications for UK: {len(notes)}")
            for n in notes:
                p = n.payload
                print(f"   - mark {p['your_item']['reference']} hit by {p['by_agency']} tenprint "
                      f"{p['subject']['reference']} (finger {p['position']}, strength {p['strength']:.1f})")
