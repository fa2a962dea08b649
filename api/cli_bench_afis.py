"""``biomatch bench afis``: FVC identification, simulated marks and a scale run of the AFIS index."""
from __future__ import annotations

__all__ = ["register_bench"]


def register_bench(cmds) -> None:
    p = cmds.add_parser("afis", help="AFIS 1:N: rank-1/20, FNIR at FPIR 1%%, marks, scale latency and memory")
    p.add_argument("--data", help="folder of FVC set folders (default $BIOMATCH_DATA/fingerprints)")
    p.add_argument("--scale", type=int, default=10_000, help="fingers in the scale gallery (0: skip)")
    p.add_argument("--scale-probes", type=int, default=30, help="print and mark probes of the scale run: impression 2 of the 30 mate fingers, then impressions 3, 4, ... (at most 210)")
    p.add_argument("--scale-exhaustive", type=int, default=10,
                   help="print probes also searched exhaustively (hit-rate reference)")
    p.add_argument("--scale-exhaustive-marks", type=int, default=None,
                   help="mark probes also searched exhaustively (default: as --scale-exhaustive)")
    p.add_argument("--tables", type=int, default=None, help="min-hash tables of the index (default: IndexParams)")
    p.add_argument("--no-fvc", action="store_true", help="skip the FVC identification and image-mark runs")
    p.add_argument("--minutiae", choices=["ridges", "leader"], default="ridges",
                   help="minutiae detector of prints and marks (leader: ~0.4 s per image)")
    p.add_argument("--json", required=True, metavar="OUT.json")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from dataclasses import replace

    from ..benchmarks.afis import format_table, run_afis, write_report
    from ..index.fingerprint.params import DEFAULT_INDEX_PARAMS

    if args.scale < 0 or args.scale_exhaustive < 0 or (args.scale_exhaustive_marks or 0) < 0:
        raise ValueError("--scale and --scale-exhaustive* must be >= 0")
    params = DEFAULT_INDEX_PARAMS if args.tables is None else replace(DEFAULT_INDEX_PARAMS, tables=args.tables)
    report = run_afis(args.data, scale=args.scale, scale_probes=args.scale_probes,
                      scale_exhaustive=args.scale_exhaustive, scale_exhaustive_marks=args.scale_exhaustive_marks,
                      fvc=not args.no_fvc, index_params=params, minutiae=args.minutiae)
    print(format_table(report))
    write_report(report, args.json)
    print(f"report written to {args.json}")
    return 0
