"""``biomatch bench faces``: registered into the lead's ``bench`` group by ``register_faces``."""
from __future__ import annotations

__all__ = ["register_faces"]


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(float(s)) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"--sizes: expected comma-separated gallery sizes, got {text!r}") from None
    if not sizes or min(sizes) < 1000:
        raise ValueError("--sizes: each generated gallery needs at least 1000 faces")
    return sizes


def register_faces(bench_subparsers) -> None:
    """Add ``faces`` to the ``bench`` sub-command group."""
    p = bench_subparsers.add_parser("faces", help="face accuracy (LFW pairs, 1:N), calibration and speed")
    p.add_argument("--data", help="faces folder holding lfw_dev/ and orl_att/ (default: $BIOMATCH_DATA/faces)")
    p.add_argument("--pairs", help="LFW View-2 pairs file (default: lfw_dev/pairs_view2_folds1-5.txt)")
    p.add_argument("--json", required=True, dest="json_out", help="write results here")
    p.add_argument("--plot", help="write a DET plot (PNG) here")
    p.add_argument("--sizes", default="1000000,10000000", help="generated gallery sizes for search speed")
    p.add_argument("--kinds", default="flat", help="index kinds to time: flat,fp16,sq8")
    p.add_argument("--threads", type=int, default=2, help="search threads for the headline figure (default 2)")
    p.add_argument("--skip", action="append", default=[], choices=["pairs", "speed", "search", "detection"],
                   help="leave a section out (repeatable)")
    p.add_argument("--write-calibration", help="fit the FMR table from the impostor scores and write it here")
    p.add_argument("--calibration-sets", default="lfw_dev",
                   help="comma-separated sets whose impostor scores fit the FMR table (default lfw_dev)")
    p.add_argument("--model", help="face model to evaluate (registry name; default: the default FaceParams model)")
    p.add_argument("--speed-repeats", type=int, default=3, help="passes over the speed images (default 3)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from biomatch.benchmarks.faces import run_face_benchmark

    from biomatch.extractors.faces import model_names

    if args.model is not None and args.model not in model_names():
        raise ValueError(f"--model: unknown face model {args.model!r}; registered: {', '.join(model_names())}")
    if args.speed_repeats < 1:
        raise ValueError("--speed-repeats must be at least 1")
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    bad = [k for k in kinds if k not in ("flat", "fp16", "sq8")]
    if bad:
        raise ValueError(f"--kinds: unknown index kind(s) {bad}")
    run_face_benchmark(data=args.data, pairs=args.pairs, json_out=args.json_out, plot=args.plot,
                       sizes=_sizes(args.sizes), kinds=kinds, threads=args.threads, skip=tuple(args.skip),
                       write_calibration=args.write_calibration, model=args.model,
                       calibration_sets=tuple(n.strip() for n in args.calibration_sets.split(",") if n.strip()),
                       speed_repeats=args.speed_repeats)
    return 0


#: The name ``api/cli_bench.py`` looks for in each of its ``BENCH_MODULES``.
register_bench = register_faces
