"""``biomatch afis enrol|search|mark|verify|import``: tenprints and marks in the store.

Translation only: images go through
:func:`~biomatch.extractors.fingerprint.extract_fingerprint`, the flow is
:class:`biomatch.index.fingerprint.Afis`. The store is the service's
(``$BIOMATCH_DATABASE_URL`` or ``$BIOMATCH_HOME/biomatch.db``) unless
``--database-url`` names another.
"""
from __future__ import annotations

import json

__all__ = ["register", "format_candidates"]


def register(sub) -> None:
    afis = sub.add_parser("afis", help="AFIS: enrol tenprints, search prints and marks, register marks, verify, import")
    cmds = afis.add_subparsers(dest="afis_command", metavar="ACTION")
    cmds.required = True

    en = cmds.add_parser("enrol", help="enrol a tenprint: POSITION=IMAGE pairs (positions 1..10)")
    en.add_argument("fingers", nargs="+", metavar="POSITION=IMAGE")
    en.add_argument("--ref", required=True, help="external reference of the record")
    en.add_argument("--agency", required=True, help="owner agency")
    en.add_argument("--dpi", type=float, default=500)
    en.add_argument("--restricted", action="store_true")
    _common(en)
    en.set_defaults(func=_enrol)

    se = cmds.add_parser("search", help="TP->TP search: POSITION=IMAGE pairs")
    se.add_argument("fingers", nargs="+", metavar="POSITION=IMAGE")
    se.add_argument("--dpi", type=float, default=500)
    _search(se)
    se.set_defaults(func=_search_print)

    mk = cmds.add_parser("mark", help="search a mark (LT->TP); with --case, also register it as unsolved")
    mk.add_argument("image", nargs="?", help="mark image")
    mk.add_argument("--minutiae", help="examiner minutiae file (JSON, xyt, ISO 19794-2, ANSI/NIST Type-9); wins over the image")
    mk.add_argument("--dpi", type=float, default=500)
    mk.add_argument("--roi", help="region of interest as JSON [[x, y], ...] in image pixels")
    mk.add_argument("--hint", help="finger positions to search, comma-separated (default: all)")
    mk.add_argument("--case", help="register the mark as unsolved under this case reference")
    _search(mk)
    mk.set_defaults(func=_mark)

    ve = cmds.add_parser("verify", help="compare two fingerprint images (1:1)")
    ve.add_argument("image_a")
    ve.add_argument("image_b")
    ve.add_argument("--dpi", type=float, default=500)
    ve.add_argument("--any-rotation", action="store_true", help="for a mark of unknown orientation")
    ve.set_defaults(func=_verify)

    im = cmds.add_parser("import", help="enrol the tenprints of ANSI/NIST-ITL transactions (.an2/.eft), one each")
    im.add_argument("files", nargs="+", metavar="FILE")
    im.add_argument("--agency", required=True)
    im.add_argument("--ref", help="reference, one file only (default: the transaction's TCN)")
    im.add_argument("--no-progress", action="store_true", help="no progress bar (several files)")
    _common(im)
    im.set_defaults(func=_import)


def _common(p) -> None:
    p.add_argument("--database-url", help="store URL (default: the service's store)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _search(p) -> None:
    p.add_argument("--top", type=int, default=20, help="candidates (default 20)")
    p.add_argument("--fpir", type=float, default=0.01, help="FPIR of the lights-out threshold (default 0.01)")
    p.add_argument("--agency", help="requesting agency: hits on other agencies' items notify them")
    _common(p)


def _open(args):
    from biomatch.api.settings import Settings
    from biomatch.index.fingerprint import Afis
    from biomatch.index.store import Store

    settings = Settings()
    store = Store.open(args.database_url or settings.resolved_database_url(), home=settings.home)
    return store, Afis.open(store, detector=settings.fingerprint_minutiae)


def _fingers(pairs, dpi, detector: str = "ridges"):
    from biomatch.extractors.fingerprint import detector_params, extract_fingerprint

    out = {}
    for item in pairs:
        pos, sep, path = item.partition("=")
        if not sep or not pos.strip().isdigit():
            raise ValueError(f"{item!r}: expected POSITION=IMAGE, e.g. 2=right_index.png")
        p = int(pos)
        if not 1 <= p <= 10:
            raise ValueError(f"unknown finger position {p}: ANSI/NIST-ITL positions are 1..10")
        if p in out:
            raise ValueError(f"finger position {p} given twice")
        out[p] = path
    params = detector_params(detector)
    return {p: extract_fingerprint(path, dpi, params=params) for p, path in out.items()}


def format_candidates(cands, threshold: float) -> str:
    from biomatch.index.fingerprint import POSITIONS

    lines = [f"lights-out threshold {threshold:.4f} (score); * = hit",
             f"{'rank':>4}  {'kind':6} {'reference':28} {'agency':8} {'finger':14} {'score':>7} {'strength':>8} {'pairs':>5}"]
    for c in cands:
        finger = POSITIONS.get(c.position, "unknown")
        lines.append(f"{c.rank:4d}{'*' if c.hit else ' '} {c.kind:6} {c.reference[:28]:28} {c.owner_agency[:8]:8} "
                     f"{finger:14} {c.score:7.4f} {('>=' if c.fmr_is_bound else '') + f'{c.strength:.1f}':>8} "
                     f"{len(c.fingers[0].pairs):5d}")
    if not cands:
        lines.append("   (no candidate)")
    return "\n".join(lines)


def _print(args, cands, thr, extra=None) -> None:
    if args.json:
        from dataclasses import asdict

        print(json.dumps({**(extra or {}), "threshold": thr, "candidates": [asdict(c) for c in cands]}, indent=1))
    else:
        for k, v in (extra or {}).items():
            print(f"{k}: {v}")
        print(format_candidates(cands, thr))


def _enrol(args) -> int:
    store, afis = _open(args)
    with store:
        fingers = _fingers(args.fingers, args.dpi, afis.detector)
        rid, hits = afis.enrol_tenprint(args.ref, args.agency, fingers, restricted=args.restricted)
        afis.save()
        _print(args, hits, afis.threshold(max(1, len(afis.marks)), marks=True)[0],
               {"record_id": rid, "fingers": len(fingers), "reverse search against unsolved marks": len(hits)})
    return 0


def _search_print(args) -> int:
    store, afis = _open(args)
    with store:
        fingers = _fingers(args.fingers, args.dpi, afis.detector)
        cands, thr = afis.search_tenprint(fingers, top=args.top, fpir=args.fpir, requester=args.agency)
        if args.agency:
            afis.notify_hits(cands, agency=args.agency, subject=("search", 0, "print search"))
        _print(args, cands, thr)
    return 0


def _mark(args) -> int:
    from pathlib import Path

    from biomatch.index.fingerprint import mark_template

    if args.image is None and args.minutiae is None:
        raise ValueError("give a mark image or --minutiae")
    roi = json.loads(args.roi) if args.roi else None
    hint = [int(p) for p in args.hint.split(",")] if args.hint else None
    store, afis = _open(args)
    with store:
        t = mark_template(args.image, dpi=args.dpi, roi=roi, detector=afis.detector,
                          minutiae=Path(args.minutiae).read_bytes() if args.minutiae else None)
        extra = {"mark minutiae": len(t)}
        if args.case:
            if not args.agency:
                raise ValueError("--case needs --agency (the mark's owner)")
            mid, linked = afis.add_mark(args.case, args.agency, t)
            afis.save()
            extra.update({"mark id": mid, "linked unsolved marks": len(linked)})
        cands, thr = afis.search_mark(t, top=args.top, position_hint=hint, fpir=args.fpir, requester=args.agency)
        if args.agency:
            afis.notify_hits(cands, agency=args.agency, subject=("search", 0, "mark search"))
        _print(args, cands, thr, extra)
    return 0


def _verify(args) -> int:
    from biomatch.extractors.fingerprint import extract_fingerprint

    a, b = extract_fingerprint(args.image_a, args.dpi), extract_fingerprint(args.image_b, args.dpi)
    r = _verify_pair(a, b, args)
    print(f"score {r['score']:.4f}  strength {'>=' if r['fmr_is_bound'] else ''}{r['strength']:.2f} "
          f"(FMR {r['fmr']:.2g})  paired minutiae {len(r['pairs'])}")
    return 0


def _verify_pair(a, b, args) -> dict:
    from biomatch.matcher.fingerprint import match
    from biomatch.index.fingerprint.decision import mark_calibration
    from biomatch.matcher.fingerprint.calibration import default_calibration
    from biomatch.matcher.fingerprint.params import ANY_ROTATION_PARAMS, DEFAULT_MATCHER_PARAMS

    r = match(a, b, ANY_ROTATION_PARAMS if args.any_rotation else DEFAULT_MATCHER_PARAMS)
    st = (mark_calibration() if args.any_rotation else default_calibration()).strength(r.score)
    return {"score": r.score, "fmr": st.fmr, "fmr_is_bound": st.fmr_is_bound, "strength": st.strength,
            "pairs": r.pairs.tolist()}


def _import(args) -> int:
    from pathlib import Path

    if len(args.files) > 1:
        return _import_many(args)
    data = Path(args.files[0]).read_bytes()
    store, afis = _open(args)
    with store:
        rid, hits = afis.import_transaction(data, args.agency, reference=args.ref)
        afis.save()
        rec = store.get_record(rid)
        _print(args, hits, afis.threshold(max(1, len(afis.marks)), marks=True)[0],
               {"record_id": rid, "reference": rec.external_ref, "fingers": len(store.get_fingerprints(rid))})
    return 0


def _import_one(afis, path, agency: str) -> dict:
    """One file of ``afis import FILE...``: enrolled (record id, reference) or refused (the reason)."""
    from pathlib import Path

    try:
        data = Path(path).read_bytes()
        if not data:
            raise ValueError("empty file (0 bytes)")
        rid, hits = afis.import_transaction(data, agency)
    except (ValueError, OSError) as exc:  # a bad file is reported and the next one goes on; nothing of it stored
        return {"file": str(path), "status": "refused", "reason": str(exc)}
    return {"file": str(path), "status": "enrolled", "record_id": rid,
            "reference": afis.store.get_record(rid).external_ref, "reverse_hits": sum(c.hit for c in hits)}


def _import_many(args) -> int:
    """Several transactions, one by one with a progress bar; exit 1 when any was refused."""
    import sys

    from tqdm import tqdm

    if args.ref:
        raise ValueError("--ref names one record; with several files each takes its transaction's TCN")
    store, afis = _open(args)
    with store:
        results = []
        try:
            for path in tqdm(args.files, desc="importing", unit="file", disable=args.no_progress):
                results.append(_import_one(afis, path, args.agency))
        finally:
            afis.save()
    refused = [r for r in results if r["status"] == "refused"]
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        for r in results:
            print(f"{r['status']:8} {r['file']}: " + (f"record {r['record_id']} {r['reference']}, reverse-search "
                  f"hits {r['reverse_hits']}" if r["status"] == "enrolled" else r["reason"]))
        print(f"{len(results) - len(refused)} enrolled, {len(refused)} refused")
    for r in refused:
        print(f"refused {r['file']}: {r['reason']}", file=sys.stderr)
    return 1 if refused else 0
