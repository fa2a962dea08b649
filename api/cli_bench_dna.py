"""``biomatch bench dna``: registered into the lead's ``bench`` group by ``register_dna``."""
from __future__ import annotations

__all__ = ["register_dna", "register_bench"]


def register_dna(bench_subparsers) -> None:
    """Add ``dna`` to the ``bench`` sub-command group."""
    p = bench_subparsers.add_parser("dna", help="STR search at scale: latency per stringency, Prüm, familial, memory")
    p.add_argument("--profiles", type=float, default=10_000_000,
                   help="synthetic profiles drawn from NIST1036/All on the CODIS 20 (default 1e7)")
    p.add_argument("--json", dest="json_out", help="write the results here (JSON)")
    p.add_argument("--probes", type=int, default=16, help="probes timed (half mated and degraded, half not)")
    p.add_argument("--sample", type=int, default=200_000, help="profiles checked against the numpy references")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=3, help="runs per timing; the best counts (default 3)")
    p.add_argument("--data", help="data folder (default: $BIOMATCH_DATA or ../shared/data)")
    p.set_defaults(func=_run)


#: The name the ``bench`` group's module list calls.
register_bench = register_dna


def _run(args) -> int:
    from biomatch.benchmarks.dna import run_dna_benchmark

    n = int(args.profiles)
    if n != args.profiles or n < 1000:
        raise ValueError(f"--profiles must be a whole number >= 1000, got {args.profiles}")
    if not 2 <= args.probes <= 256:
        raise ValueError("--probes must be 2..256")
    if not 1 <= args.repeats <= 20:
        raise ValueError("--repeats must be 1..20")
    run_dna_benchmark(n, json_path=args.json_out, n_probes=args.probes, seed=args.seed, sample=args.sample,
                      data=args.data, repeats=args.repeats)
    return 0
