"""``biomatch bench ...``: accuracy and throughput benchmarks on real data."""
from __future__ import annotations

import importlib

__all__ = ["register"]

#: Modules adding benchmarks; each exposes ``register_bench(bench_subparsers)``.
BENCH_MODULES = (
    "biomatch.api.cli_bench_fvc",
    "biomatch.api.cli_bench_dna",
    "biomatch.api.cli_bench_faces",
    "biomatch.api.cli_bench_afis",
)


def register(sub) -> None:
    bench = sub.add_parser("bench", help="run a benchmark and write its JSON report")
    cmds = bench.add_subparsers(dest="bench_command", metavar="BENCHMARK")
    cmds.required = True
    for name in BENCH_MODULES:
        importlib.import_module(name).register_bench(cmds)
