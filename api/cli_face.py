"""``biomatch face enrol|verify|search|probe|delete``: faces against a gallery in the store.

Translation only: images go through :mod:`biomatch.extractors.faces`, the
gallery and the bulk probe are :mod:`biomatch.index.faces`, thresholds come
from :mod:`biomatch.matcher.faces`.

``--gallery NAME`` picks the store: ``default`` is the service's store
(``$BIOMATCH_DATABASE_URL`` or ``$BIOMATCH_HOME/biomatch.db``); another name
is the SQLite file ``$BIOMATCH_HOME/galleries/NAME.db``; a URL is used as is.
"""
from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

__all__ = ["register", "open_face_gallery"]

log = logging.getLogger(__name__)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def register(sub) -> None:
    face = sub.add_parser("face", help="faces: enrol, verify, search, bulk probe of scraped images, delete")
    cmds = face.add_subparsers(dest="face_command", metavar="ACTION")
    cmds.required = True

    en = cmds.add_parser("enrol", help="enrol one record from the largest good face of each image")
    en.add_argument("images", nargs="*", help="image files of one person")
    en.add_argument("--ref", help="external reference of the record (e.g. a notice id)")
    en.add_argument("--agency", required=True, help="owner agency")
    en.add_argument("--restricted", action="store_true", help="searchable by the owner agency only")
    en.add_argument("--folders", help="enrol every sub-folder of this folder as one record (ref = folder name)")
    en.add_argument("--first", type=int, default=0, help="with --folders: at most this many images each (0 = all)")
    _gallery_args(en)
    en.set_defaults(func=_early(_enrol))

    ve = cmds.add_parser("verify", help="compare the largest face of two images (1:1)")
    ve.add_argument("image_a")
    ve.add_argument("image_b")
    ve.add_argument("--threshold", type=float, help="score threshold (default: the score at FMR 1e-3)")
    ve.set_defaults(func=_verify)

    se = cmds.add_parser("search", help="search every face of one image in the gallery (1:N)")
    se.add_argument("image")
    _search_args(se)
    _gallery_args(se)
    se.set_defaults(func=_early(_search))

    pr = cmds.add_parser("probe", help="bulk probe: images, folders or lists of paths -> report")
    pr.add_argument("paths", nargs="+", help="images, folders (recursive) or .txt files listing paths")
    _search_args(pr)
    pr.add_argument("--out", required=True, help="report file: .csv, .json or .html")
    pr.add_argument("--cluster", action="store_true", help="group probe faces of the same person across images")
    pr.add_argument("--batch", type=int, default=16, help="images per extraction/search batch (default 16)")
    pr.add_argument("--no-progress", action="store_true", help="no progress bar")
    pr.add_argument("--detect-max-side", type=int, metavar="PX",
                    help="largest detection copy (default 640); raise it (e.g. 2048) to find faces under ~50 px "
                         "in large images, at more time per image")
    _gallery_args(pr)
    pr.set_defaults(func=_early(_probe))

    de = cmds.add_parser("delete", help="delete a record and its faces")
    de.add_argument("--ref", required=True, help="external reference of the record")
    _gallery_args(de)
    de.set_defaults(func=_early(_delete))


def _early(func):
    """Run ``func`` after the OpenMP wait policy is set (before any library loads libgomp)."""
    def run(args):
        from biomatch.index.faces.threads import prefer_passive_openmp

        prefer_passive_openmp()
        return func(args)
    return run


def _gallery_args(p) -> None:
    p.add_argument("--gallery", default="default", help="gallery name or database URL (default: the service's store)")


def _search_args(p) -> None:
    p.add_argument("--top", type=int, default=10, help="candidates per face (default 10)")
    p.add_argument("--threshold", type=float,
                   help="report only candidates scoring at least this (default: none, the top list)")
    p.add_argument("--fpir", type=float, help="instead of --threshold: the threshold giving this FPIR for the gallery size")
    p.add_argument("--agency", help="requesting agency (restricted records of other agencies are hidden)")


def open_face_gallery(name: str):
    """``(store, FaceGallery)`` for a gallery name or URL (see the module docstring)."""
    from biomatch.api.settings import Settings
    from biomatch.index.faces import FaceGallery
    from biomatch.index.store import Store

    settings = Settings()
    if name == "default":
        url = settings.resolved_database_url()
    elif "://" in name:
        url = name
    elif _NAME.fullmatch(name):
        folder = settings.home / "galleries"
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / name}.db"
    else:
        raise ValueError(f"--gallery: {name!r} is neither a name (letters, digits, _ . -) nor a database URL")
    store = Store.open(url, home=settings.home)
    try:
        return store, FaceGallery.open(store)
    except BaseException:
        store.close()
        raise


def _largest_face(path):
    from biomatch.extractors.faces import extract_faces

    result = extract_faces(path)
    if not result.accepted:
        reasons = "; ".join(r for f in result.faces for r in f.below_floor)
        raise ValueError(f"{path}: {result.message}" + (f" ({reasons})" if reasons else ""))
    return result.accepted[0]


def _enrol(args) -> int:
    if bool(args.folders) == bool(args.images):
        raise ValueError("give images with --ref, or --folders DIR (not both)")
    if args.images and not args.ref:
        raise ValueError("--ref is required when enrolling images")
    store, gallery = open_face_gallery(args.gallery)
    try:
        if args.images:
            templates = [_largest_face(p) for p in args.images]
            rid, ids = gallery.enrol(args.ref, args.agency, templates, restricted=args.restricted)
            print(f"enrolled {args.ref}: record {rid}, {len(ids)} face(s); gallery holds {len(gallery)} faces")
            return 0
        _enrol_folders(gallery, Path(args.folders), args)
    finally:
        gallery.close()
        store.close()
    return 0


def _enrol_folders(gallery, root: Path, args) -> None:
    from tqdm import tqdm

    from biomatch.index.faces.probe import IMAGE_SUFFIXES

    if not root.is_dir():
        raise ValueError(f"--folders: {root} is not a folder")
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    done = failed = 0
    for folder in tqdm(folders, desc="enrolling", unit="record", disable=args.first < 0):
        images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        images = images[: args.first] if args.first > 0 else images
        templates = []
        for p in images:
            try:
                templates.append(_largest_face(p))
            except ValueError as exc:
                log.warning("skipped %s", exc)
        if not templates:
            failed += 1
            continue
        gallery.enrol(folder.name, args.agency, templates, restricted=args.restricted)
        done += 1
    print(f"enrolled {done} records from {root} ({failed} without a usable face); gallery holds {len(gallery)} faces")


def _verify(args) -> int:
    from biomatch.matcher.faces import load_calibration, prepare, score
    from biomatch.matcher.faces.thresholds import DEFAULT_VERIFY_FMR, verify_threshold

    a, b = _largest_face(args.image_a), _largest_face(args.image_b)
    cal = load_calibration(a.model_id)
    t = args.threshold if args.threshold is not None else verify_threshold(cal)
    s = score(prepare(a), b)
    decision = "MATCH" if s >= t else "no match"
    bound = "<=" if s >= cal.threshold[-1] else ""
    print(f"score {s:.4f}  FMR {bound}{cal.fmr_at(s):.2g}  threshold {t:.4f}"
          f"{f' (FMR {DEFAULT_VERIFY_FMR:g})' if args.threshold is None else ''}  -> {decision}")
    return 0


def _threshold(args, gallery) -> float | None:
    if args.threshold is not None and args.fpir is not None:
        raise ValueError("give --threshold or --fpir, not both")
    if not 1 <= args.top <= 1000:
        raise ValueError(f"--top must be in 1..1000, got {args.top}")
    if args.fpir is None:
        return args.threshold
    t, within = gallery.threshold(args.fpir, clamp=True)
    if not within:
        from biomatch.matcher.faces import load_calibration
        from biomatch.matcher.faces.thresholds import beyond_calibration_message

        print(f"warning: {beyond_calibration_message(load_calibration(gallery.model_id), len(gallery), args.fpir)}; "
              f"using the highest calibrated threshold {t:.3f}, whose FPIR is higher", file=sys.stderr)
    return t


def _search(args) -> int:
    from biomatch.extractors.faces import extract_faces

    store, gallery = open_face_gallery(args.gallery)
    try:
        t = _threshold(args, gallery)
        result = extract_faces(args.image)
        if result.no_face:
            print(f"{args.image}: {result.message}")
            return 0
        hits = gallery.search([f.template.embedding for f in result.faces], top=args.top, threshold=t,
                              requester_agency=args.agency)
        for k, (f, cands) in enumerate(zip(result.faces, hits)):
            box = [round(float(v)) for v in f.template.box]
            flag = f"  [below quality floor: {'; '.join(f.below_floor)}]" if f.below_floor else ""
            print(f"face {k} box {box}{flag}: {len(cands)} candidate(s)")
            for c in cands:
                print(f"  {c.rank:3d}. {c.external_ref:<32} {c.owner_agency:<8} score {c.score:.4f}  FMR {c.fmr_text}")
    finally:
        store.close()
    return 0


def _probe(args) -> int:
    from tqdm import tqdm

    from biomatch.api.face_report import REPORT_FORMATS, write_report
    from biomatch.extractors.faces import DEFAULT_FACE_PARAMS
    from biomatch.index.faces.probe import collect_paths, run_probe
    from biomatch.matcher.faces import DEFAULT_CLUSTER_FMR, load_calibration

    out = Path(args.out)
    if out.suffix.lower() not in REPORT_FORMATS:
        raise ValueError(f"--out: report must end in {', '.join(REPORT_FORMATS)}, got {out.name!r}")
    files, _ = collect_paths(args.paths)
    store, gallery = open_face_gallery(args.gallery)
    try:
        t = _threshold(args, gallery)
        cluster_t = load_calibration(gallery.model_id).threshold_at_fmr(DEFAULT_CLUSTER_FMR) if args.cluster else None
        params = DEFAULT_FACE_PARAMS if args.detect_max_side is None else \
            DEFAULT_FACE_PARAMS.with_changes(detect_max_side_px=args.detect_max_side)
        with tqdm(total=len(files), desc="probing", unit="img", disable=args.no_progress) as bar:
            result = run_probe(args.paths, gallery, top=args.top, threshold=t, batch_images=args.batch,
                               keep_crops=out.suffix.lower() in (".html", ".htm"), cluster_threshold=cluster_t,
                               progress=bar.update, requester_agency=args.agency, params=params)
    finally:
        store.close()
    write_report(result, out)
    print(f"{result.files} files: {len(result.faces)} faces, {len(result.no_face)} without a face, "
          f"{len(result.skipped)} skipped" + (f", {len(result.clusters)} groups of one person across images"
                                              if args.cluster else "") + f"; report written to {out}")
    return 0


def _delete(args) -> int:
    store, gallery = open_face_gallery(args.gallery)
    try:
        rec = store.find_record("face", args.ref)
        if rec is None:
            raise ValueError(f"no face record with reference {args.ref!r}")
        n = gallery.delete(rec.id)
        print(f"deleted {args.ref} (record {rec.id}, {n} face(s)); gallery holds {len(gallery)} faces")
    finally:
        gallery.close()
        store.close()
    return 0
