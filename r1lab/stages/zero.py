"""`r1lab zero`: R1-Zero, GRPO straight from a base model with a think/answer template and rule
rewards only (DeepSeek-AI 2025, section 2.2; GRPO from Shao et al. 2024).

The loop is r1lab.grpo.loop.train; this stage gives it the config and nothing else. Deviations from
the paper, all configurable: the clip is asymmetric by default (clip-higher from DAPO, Yu et al. 2025:
clip_eps_high 0.28 > clip_eps_low 0.2); beta defaults to 0 (no KL term and no reference model, as
DAPO and Dr. GRPO found the KL unnecessary for rule-rewarded reasoning RL); the format reward has a
weight of its own rather than being folded into accuracy.

Writes RUN/metrics.jsonl, RUN/samples.jsonl, RUN/checkpoints/latest (for --resume), RUN/plots/,
RUN/final_model/ (Hugging Face format) and RUN/summary.json.
"""

from __future__ import annotations

from pathlib import Path

from r1lab.config import ZeroConfig, add_config_flags, load_config
from r1lab.grpo.loop import train

Config = ZeroConfig


def run(cfg: ZeroConfig, run_dir: Path, resume: bool = False, progress: bool = True) -> dict:
    return train(cfg, Path(run_dir), resume=resume, progress=progress, name="zero")


def add_arguments(p) -> None:
    """The flags of `r1lab zero` (the CLI made the parser)."""
    p.add_argument("--model", help="HF model dir or hub id, or tiny-base / smollm2-135m")
    p.add_argument("--task", help="demo, rg:<reasoning-gym dataset>, or a .jsonl/.parquet math file")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--steps", type=int)
    add_config_flags(p)
    p.add_argument("--resume", action="store_true", help="continue from RUN/checkpoints/latest")
    p.set_defaults(run=_run)


def _run(args) -> int:
    cfg = load_config(ZeroConfig, args.config, args.overrides, model=args.model, task=args.task, steps=args.steps)
    summary = run(cfg, Path(args.out), resume=args.resume)
    last = summary["final_step"]
    if last:
        print(f"done: {cfg.steps} steps, last accuracy {last['accuracy']:.3f}, "
              f"mean length {last['response_length_mean']:.1f} tokens; model in {summary['final_model']}")
    return 0
