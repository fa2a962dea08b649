"""``biomatch fingerprint ...``: extract templates and compare two prints."""
from __future__ import annotations

import json
import sys

__all__ = ["register", "load_fingerprint"]


def register(sub) -> None:
    fp = sub.add_parser("fingerprint", help="fingerprint extraction and 1:1 comparison")
    cmds = fp.add_subparsers(dest="fingerprint_command", metavar="ACTION")
    cmds.required = True

    ex = cmds.add_parser("extract", help="extract minutiae from a fingerprint image")
    ex.add_argument("image", help="image file (PNG, TIFF, BMP, JPEG, WSQ)")
    ex.add_argument("--dpi", type=float, default=500, help="image resolution (default 500)")
    ex.add_argument("-o", "--output", help="write the template here (default: print a summary only)")
    ex.add_argument("--format", default="native", choices=["native", "xyt", "iso19794", "json"],
                    help="template format for --output (default native)")
    ex.add_argument("--trace", metavar="DIR", help="write every extraction stage as PNG into DIR")
    ex.add_argument("--latent", action="store_true",
                    help="crime-scene mark: extract with the latent parameters (minutiae along the edge dropped)")
    ex.add_argument("--minutiae", choices=["ridges", "leader"], default="ridges",
                    help="minutiae detector for images: biomatch's ridge tracer (default, ~20 ms) or the "
                         "LEADER network (~0.4 s, more accurate; compare only templates of one detector)")
    ex.set_defaults(func=_extract)

    cmp_ = cmds.add_parser("compare", help="compare two prints (images or templates)")
    cmp_.add_argument("a", help="first image or template")
    cmp_.add_argument("b", help="second image or template")
    cmp_.add_argument("--dpi", type=float, default=500, help="resolution of image inputs (default 500)")
    cmp_.add_argument("--dpi-b", type=float, help="resolution of the second image if it differs")
    cmp_.add_argument("--xyt-size", metavar="WIDTHxHEIGHT",
                      help="image size of NIST xyt inputs (xyt has y up; the height flips it)")
    cmp_.add_argument("--fmr", type=float, default=None, help="decision threshold as an FMR (default 1e-3)")
    cmp_.add_argument("--pairs", action="store_true", help="list the matched minutiae pairs")
    cmp_.add_argument("--json", action="store_true", help="print the result as JSON")
    cmp_.add_argument("--minutiae", choices=["ridges", "leader"], default="ridges",
                    help="minutiae detector for images: biomatch's ridge tracer (default, ~20 ms) or the "
                         "LEADER network (~0.4 s, more accurate; compare only templates of one detector)")
    cmp_.set_defaults(func=_compare)


def _size(text: str | None) -> dict:
    if not text:
        return {}
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--xyt-size must look like 388x374, got {text!r}") from None
    return {"width": width, "height": height}


def load_fingerprint(path: str, dpi: float, xyt_size: str | None = None, minutiae: str = "ridges"):
    """A template from a fingerprint image (extracted with the ``minutiae`` detector) or a template file (read)."""
    from ..extractors.fingerprint import detector_params, extract_fingerprint
    from ..extractors.fingerprint.formats import read_template
    from ..extractors.imageio import read_bytes, sniff_format

    data = read_bytes(path)
    if sniff_format(data) is not None:
        return extract_fingerprint(data, dpi, params=detector_params(minutiae))
    return read_template(data, dpi=int(dpi), **_size(xyt_size))


def _extract(args) -> int:
    from ..extractors.fingerprint import (DEFAULT_PARAMS, LATENT_PARAMS, MinutiaeSource, detector_params,
                                          extract_fingerprint)
    from ..extractors.fingerprint.formats import save_template
    from ..extractors.fingerprint.render import write_trace

    trace = {} if args.trace else None
    params = detector_params(args.minutiae, LATENT_PARAMS if args.latent else DEFAULT_PARAMS)
    template = extract_fingerprint(args.image, args.dpi, trace=trace, params=params)
    kinds = {1: 0, 2: 0, 0: 0}
    for k in template.kind:
        kinds[int(k)] += 1
    print(f"{args.image}: {len(template)} minutiae ({kinds[1]} endings, {kinds[2]} bifurcations; "
          f"{MinutiaeSource(template.minutiae_source).name.lower()} detector), "
          f"quality {template.quality_score}/100, {template.cores.shape[0]} core(s), {template.deltas.shape[0]} delta(s), "
          f"{template.width}x{template.height} px at {template.dpi} ppi")
    if args.output:
        save_template(template, args.output, args.format)
        print(f"template written to {args.output} ({args.format})")
    if trace is not None:
        written = write_trace(trace, args.trace)
        print(f"{len(written)} stage images written to {args.trace}")
    return 0


def _compare(args) -> int:
    from ..matcher.fingerprint import match, prepare
    from ..matcher.fingerprint.calibration import DEFAULT_DECISION_FMR, default_calibration

    from ..extractors.fingerprint import MinutiaeSource

    a = load_fingerprint(args.a, args.dpi, args.xyt_size, args.minutiae)
    b = load_fingerprint(args.b, args.dpi_b or args.dpi, args.xyt_size, args.minutiae)
    if len({a.minutiae_source, b.minutiae_source} - {MinutiaeSource.IMPORTED}) > 1:
        names = [MinutiaeSource(t.minutiae_source).name.lower() for t in (a, b)]
        print(f"warning: the prints' minutiae come from different detectors ({names[0]} and {names[1]}); "
              "such scores are less reliable: re-extract both with one --minutiae", file=sys.stderr)
    result = match(prepare(a), prepare(b))
    cal = default_calibration()
    fmr_target = args.fmr if args.fmr is not None else DEFAULT_DECISION_FMR
    threshold = cal.threshold(fmr_target)
    st = cal.strength(result.score)
    decision = "match" if result.score >= threshold else "no match"
    out = {
        "a": args.a, "b": args.b, "score": round(result.score, 6),
        "fmr": st.fmr, "fmr_is_upper_bound": st.fmr_is_bound, "strength": round(st.strength, 3),
        "threshold": round(threshold, 6), "threshold_fmr": fmr_target, "decision": decision,
        "pairs": [
            {"a": {"x": float(a.x[i]), "y": float(a.y[i])}, "b": {"x": float(b.x[j]), "y": float(b.y[j])}}
            for i, j in result.pairs
        ],
    }
    if args.json:
        json.dump(out, sys.stdout, indent=1)
        print()
        return 0
    bound = "<= " if st.fmr_is_bound else ""
    print(f"score     {result.score:.4f}")
    print(f"FMR       {bound}{st.fmr:.2e}  (strength {st.strength:.2f} = -log10 FMR)")
    print(f"decision  {decision.upper()} at threshold {threshold:.4f} (FMR {fmr_target:g})")
    print(f"matched   {len(result.pairs)} minutiae pairs ({len(a)} and {len(b)} minutiae)")
    if args.pairs:
        for p in out["pairs"]:
            print(f"  ({p['a']['x']:.0f},{p['a']['y']:.0f}) <-> ({p['b']['x']:.0f},{p['b']['y']:.0f})")
    return 0
