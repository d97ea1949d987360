"""`r1lab base build`: the embedded tiny base model, rebuilt from its seed (corpus, tokenizer,
pretraining, model card; r1lab.models.tiny_base). As a pipeline stage it writes RUN/final_model."""

from __future__ import annotations

from pathlib import Path

from r1lab.config import build_config
from r1lab.models.loading import TINY_BASE_DIR
from r1lab.models.tiny_base import BaseBuildConfig, build
from r1lab.tracking.run_log import RunLog

Config = BaseBuildConfig


def run(cfg: BaseBuildConfig, run_dir: Path, resume: bool = False, progress: bool = True) -> dict:
    out = Path(run_dir) / "final_model"
    record = build(cfg, out, log=print if progress else (lambda *a: None))
    summary = {**record, "final_model": str(out)}
    RunLog(run_dir).write_summary(summary)
    return summary


def add_arguments(base) -> None:
    """The flags of `r1lab base` (the CLI made the parser)."""
    base_sub = base.add_subparsers(dest="base_command", metavar="ACTION", required=True)
    p = base_sub.add_parser("build", help="rebuild the tiny base model from its seed (corpus, tokenizer, "
                            "pretraining)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--out", default=str(TINY_BASE_DIR), help="model directory (default: the package's)")
    p.add_argument("--steps", type=int, default=None, help="pretraining steps")
    p.add_argument("--corpus", choices=("signs", "chain"), default=None, help="what to pretrain on: the signs "
                   "task's corpus (the shipped base's, the default) or the chain task's")
    p.add_argument("--corpus-size", type=int, default=None, help="corpus documents")
    p.add_argument("--eval-problems", type=int, default=None, help="held-out problems for the model card "
                   "(0 skips the evaluation)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (the weights depend on it)")
    p.set_defaults(run=_run)


def _run(args) -> int:
    explicit = {"seed": args.seed, "steps": args.steps, "corpus": args.corpus, "corpus_size": args.corpus_size,
                "eval_problems": args.eval_problems, "threads": args.threads}
    cfg = build_config(BaseBuildConfig, {k: v for k, v in explicit.items() if v is not None}, "r1lab base build")
    build(cfg, Path(args.out))
    return 0
