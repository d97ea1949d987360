"""The `r1lab` command. Thin: each subcommand lives with its stage, which exposes
`register(subparsers)`; the subcommand parses its flags, loads its config and calls the stage."""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules that register subcommands, in the order `r1lab --help` lists them.
COMMAND_MODULES = [
    "r1lab.stages.zero",
    "r1lab.stages.demo",
    "r1lab.stages.sample",
    "r1lab.stages.sft",
    "r1lab.stages.rm",
    "r1lab.stages.rl",
    "r1lab.stages.distill",
    "r1lab.stages.compare",
    "r1lab.pipeline",
    "r1lab.models.tiny_base",
    "r1lab.stages.eval",
    "r1lab.stages.report",
    "r1lab.verify.cli",
]


class UserError(Exception):
    """An error in the user's input: printed as one clear line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="r1lab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from r1lab.config import ConfigError
    from r1lab.models.loading import ModelNotFoundError
    from r1lab.tasks import UnknownTaskError

    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (UserError, ConfigError, ModelNotFoundError, UnknownTaskError, FileNotFoundError) as err:
        print(f"r1lab {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"r1lab {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
