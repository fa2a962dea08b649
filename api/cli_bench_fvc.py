"""``biomatch bench fvc``: the FVC verification protocol on folders of FVC-named prints."""
from __future__ import annotations

__all__ = ["register_bench"]


def register_bench(cmds) -> None:
    p = cmds.add_parser("fvc", help="FVC protocol: EER, FMR100, FMR1000, ZeroFMR, speed, DET curves")
    p.add_argument("--data", help="folder of set folders, or one folder of <finger>_<impression> images "
                                  "(default $BIOMATCH_DATA/fingerprints)")
    p.add_argument("--sets", nargs="+", metavar="NAME", help="set folder names to run (default all)")
    p.add_argument("--dpi", type=int, help="resolution of every set (default: from SOURCES.md, else 500)")
    p.add_argument("--json", required=True, metavar="OUT.json", help="write the report here")
    p.add_argument("--plot", metavar="DET.png", help="draw the DET curves here")
    p.add_argument("--minutiae", choices=["ridges", "leader"], default="ridges",
                   help="minutiae detector: biomatch's ridge tracer (default, ~20 ms) or the LEADER network "
                        "(~0.4 s per image, more accurate)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from ..benchmarks.fvc import format_table, run_fvc, write_report

    report = run_fvc(args.data, args.sets, args.dpi, progress=not args.no_progress, minutiae=args.minutiae)
    print(format_table(report))
    write_report(report, args.json)
    print(f"report written to {args.json}")
    if args.plot:
        from ..benchmarks.det_plot import plot_det

        plot_det(report, args.plot)
        print(f"DET curves drawn to {args.plot}")
    return 0
