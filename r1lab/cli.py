"""The `r1lab` command. Thin: each command's flags live with its module (`add_arguments(parser)`,
which also sets the function to run); this file owns the list of commands and their one-line help,
parses, and prints a user's mistake (r1lab.errors.UserError) as one line. A stage's `--help` ends
with its config keys (type, default, meaning), generated from its `Config`; `r1lab config STAGE`
prints them as a YAML file to start from, and `r1lab config --markdown` writes docs/config.md."""

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
    "config": ("r1lab.cli", "print a stage's every config key with its default and meaning, as YAML"),
}
# The stages whose config `r1lab config` prints and docs/config.md documents (demo: zero's keys, with
# the demo recipe's values).
CONFIG_STAGES = ("zero", "demo", "rl", "sample", "sft", "rm", "distill", "eval", "compare", "base")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser, with the full flags of `command` (all commands when None)."""
    parser = argparse.ArgumentParser(prog="r1lab", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"r1lab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text.replace("%%", "%"))
        if command is None or name == command:
            stage = importlib.import_module(module)
            add_config_arguments(p) if name == "config" else stage.add_arguments(p)
            if getattr(stage, "Config", None) is not None:
                p.formatter_class = argparse.RawDescriptionHelpFormatter
                p.epilog = help_text_of(name, stage.Config, settable="--set" in p._option_string_actions)
    return parser


def help_text_of(name: str, config, settable: bool) -> str:
    from r1lab.config import help_text

    text = help_text(config, name)
    if not settable:  # `r1lab base build` has flags only; its keys are a pipeline stage's config
        text = text.replace("set them in a --config YAML file or with --set KEY=VALUE", "a pipeline stage's "
                            f"`config:` for stage: {name}", 1)
    return text


def add_config_arguments(p) -> None:
    p.add_argument("stage", nargs="?", choices=CONFIG_STAGES, help="the stage whose config to print")
    p.add_argument("--markdown", action="store_true", help="print the reference of every stage as Markdown "
                   "(docs/config.md) instead")
    p.set_defaults(run=run_config)


def stage_configs() -> dict[str, tuple[type, str]]:
    """name -> (Config, one-line help) of every stage in CONFIG_STAGES (demo's is zero's: left out)."""
    return {name: (importlib.import_module(COMMANDS[name][0]).Config, COMMANDS[name][1].replace("%%", "%"))
            for name in CONFIG_STAGES if name != "demo"}


def run_config(args) -> int:
    from r1lab.config import default_yaml, load_config, markdown_reference

    if args.markdown:
        print(markdown_reference(stage_configs()), end="")
        return 0
    if not args.stage:
        raise UserError(f"name a stage ({', '.join(CONFIG_STAGES)}) or pass --markdown")
    stage = importlib.import_module(COMMANDS[args.stage][0])
    values = load_config(stage.Config, stage.DEMO_RECIPE) if args.stage == "demo" else None
    print(default_yaml(stage.Config, args.stage, values), end="")
    return 0


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
