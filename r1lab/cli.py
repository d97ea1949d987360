"""The `r1lab` command. Thin: each subcommand lives with its stage, which exposes
`register(subparsers)`; the subcommand parses its flags, loads its config and calls the stage."""

from __future__ import annotations

import argparse
import importlib
import sys

from r1lab.errors import UserError

# Each command and the module that registers it, in the order `r1lab --help` lists them. Only the
# module of the command being run is imported (the training stages import torch, which takes seconds);
# `--help` imports them all.
COMMANDS = {
    "zero": "r1lab.stages.zero",
    "demo": "r1lab.stages.demo",
    "sample": "r1lab.stages.sample",
    "sft": "r1lab.stages.sft",
    "rm": "r1lab.stages.rm",
    "rl": "r1lab.stages.rl",
    "distill": "r1lab.stages.distill",
    "compare": "r1lab.stages.compare",
    "pipeline": "r1lab.stages.pipeline",
    "base": "r1lab.stages.base",
    "eval": "r1lab.stages.eval",
    "report": "r1lab.stages.report",
    "verify": "r1lab.verify.cli",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of `command` alone when it is a known one."""
    parser = argparse.ArgumentParser(prog="r1lab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules = [COMMANDS[command]] if command in COMMANDS else list(COMMANDS.values())
    for name in modules:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except UserError as err:
        print(f"r1lab {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"r1lab {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
