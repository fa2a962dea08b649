"""The ``biomatch`` command line: translation from arguments to library calls.

Each modality registers its own sub-commands from a small module
(``cli_fingerprint``, ``cli_bench``, ...). Errors a user can cause (bad
input, missing files) are printed as one ``error:`` line with exit status 2,
never as a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

__all__ = ["main", "build_parser"]

#: Modules that add sub-commands; each exposes ``register(subparsers)``.
COMMAND_MODULES = (
    "biomatch.api.cli_fingerprint",
    "biomatch.api.cli_bench",
    "biomatch.api.cli_demo",
    "biomatch.api.cli_serve",
    "biomatch.api.cli_dna",
    "biomatch.api.cli_face",
    "biomatch.api.cli_afis",
    "biomatch.api.cli_admin",
)


class UserError(Exception):
    """An error caused by the user's input, printed without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="biomatch",
        description="Biometric matching engine: fingerprints and marks, faces, STR DNA profiles.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return int(args.func(args) or 0)
    except (ValueError, UserError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
