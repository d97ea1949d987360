"""The `r1lab` command. Thin: each command's flags live with its module (`add_arguments(parser)`,
which also sets the function to run); this file owns the list of commands and their one-line help,
parses, and prints a user's mistake (r1lab.errors.UserError) as one line."""

from __future__ import annotations

import argparse
import importlib
import sys

from r1lab import __version__
from r1lab.errors import UserError

DESCRIPTION = ("Train language models to reason the DeepSeek-R1 way: R1-Zero GRPO with rule rewards, the R1 "
               "pipeline, distillation and paper-style evaluation, from a laptop CPU to a Ray cluster.")

# Each command: the module that defines its flags, and its one-line help, in the order `r1lab --help`
# lists them. Only the module of the command being run is imported (the training stages import
# torch, which takes seconds), so `r1lab --help` imports none.
COMMANDS = {
    "demo": ("r1lab.stages.demo", "R1-Zero on the embedded tiny base model, end to end on a CPU"),
    "zero": ("r1lab.stages.zero", "R1-Zero: GRPO from a base model with rule rewards"),
    "rl": ("r1lab.stages.rl", "GRPO over verifiable tasks (rule + language rewards) and general prompts "
           "(reward model)"),
    "sample": ("r1lab.stages.sample", "rejection sampling: keep verified, readable completions as SFT data"),
    "sft": ("r1lab.stages.sft", "supervised fine-tuning on chat or prompt/completion jsonl (assistant tokens)"),
    "rm": ("r1lab.stages.rm", "train a reward model on preference pairs (Bradley-Terry)"),
    "distill": ("r1lab.stages.distill", "fine-tune a student on a teacher's verified traces"),
    "eval": ("r1lab.stages.eval", "evaluate a model on a benchmark: pass@1, pass@k, cons@k with 95%% CIs"),
    "compare": ("r1lab.stages.compare", "evaluate several models side by side on held-out problems (one table)"),
    "pipeline": ("r1lab.stages.pipeline", "run stages chained from a YAML file (resumable); --demo: the R1 recipe"),
    "report": ("r1lab.stages.report", "HTML report of runs and evals: curves, config diff, completions browser"),
    "base": ("r1lab.stages.base", "the embedded tiny base model"),
    "verify": ("r1lab.verify.cli", "check responses with r1lab's verifiers (math, code)"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser, with the full flags of `command` (all commands when None)."""
    parser = argparse.ArgumentParser(prog="r1lab", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"r1lab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text.replace("%%", "%"))
        if command is None or name == command:
            importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    first = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser(first if first in COMMANDS else "").parse_args(argv)
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
