"""``biomatch demo``: the main job on the embedded default data, one part per modality."""
from __future__ import annotations

import importlib

#: (name, module) pairs; each module exposes ``run_demo(args) -> None`` and prints readably.
DEMO_PARTS = (
    ("fingerprint", "biomatch.api.demo_fingerprint"),
    ("dna", "biomatch.api.demo_dna"),
    ("face", "biomatch.api.demo_face"),
    ("afis", "biomatch.api.demo_afis"),
)


def register(sub) -> None:
    p = sub.add_parser("demo", help="run every modality's demonstration on the shared real data")
    p.add_argument("--data", help="data folder (default: $BIOMATCH_DATA or ../shared/data)")
    p.add_argument("--only", choices=[name for name, _ in DEMO_PARTS], action="append",
                   help="run only these parts (repeatable)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    for name, module in DEMO_PARTS:
        if args.only and name not in args.only:
            continue
        print(f"\n=== {name} ===")
        importlib.import_module(module).run_demo(args)
    return 0
