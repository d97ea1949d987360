"""`r1lab verify KIND ...`: the project's verifiers from the shell. Each verifier module listed here
exposes `register_verify(subparsers)` for its KIND."""

from __future__ import annotations

import importlib

VERIFY_MODULES = [
    "r1lab.verify.math",
    "r1lab.verify.code",
]


def add_arguments(parser) -> None:
    """The flags of `r1lab verify` (the CLI made the parser)."""
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    for name in VERIFY_MODULES:
        importlib.import_module(name).register_verify(kinds)
