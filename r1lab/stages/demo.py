"""`r1lab demo`: R1-Zero end to end on the embedded default, on a CPU, in minutes.

The zero stage's loop on the demo recipe (r1lab/recipes/demo.yaml) with held-out evals of the base
model before the first step, every eval_every steps and of the final model after the last (same
problems, same sampling seed), then a short table (with the share of responses that check themselves
and the aha rate), the two curves and the HTML report.
"""

from __future__ import annotations

from pathlib import Path

from r1lab.config import ZeroConfig, add_config_flags, load_config
from r1lab.grpo.loop import train

DEMO_RECIPE = Path(__file__).resolve().parent.parent / "recipes" / "demo.yaml"

Config = ZeroConfig


def run(cfg: ZeroConfig, run_dir: Path, resume: bool = False, progress: bool = True) -> dict:
    run_dir = Path(run_dir)
    # The demo always compares the base and the final model; eval_every adds evals in between.
    cfg = cfg.model_copy(update={"eval_every": cfg.eval_every or cfg.steps})
    if progress:
        print(f"R1-Zero on {cfg.model} / {cfg.task}: held-out eval of the base model ({cfg.eval_problems} problems "
              f"x {cfg.eval_n} samples), {cfg.steps} GRPO steps of {cfg.prompts_per_step} prompts x "
              f"{cfg.samples_per_prompt} samples, then the final model the same way")
    summary = train(cfg, run_dir, resume=resume, progress=progress, name="demo")
    if progress:
        print_table(summary, run_dir)
    from r1lab.tracking.report import write_report  # plotly is imported only when a report is written

    report = write_report([run_dir], run_dir / "report.html")
    if progress:
        print(f"report: {report} (open it in any browser)")
    return summary


def print_table(summary: dict, run_dir: Path) -> None:
    print()
    print("| model | held-out pass@1 [95% CI] | format-valid | mean length (tokens) | with a check | aha rate |")
    print("|---|---|---|---|---|---|")
    for name in ("base", "final"):
        row = summary[name]
        print(f"| {name} | {row['pass@1']:.3f} [{row['pass@1_ci95'][0]:.3f}, {row['pass@1_ci95'][1]:.3f}] | "
              f"{row['format_rate']:.3f} | {row['response_length_mean']:.1f} | {row['check_rate']:.3f} | "
              f"{row['aha_rate']:.3f} |")
    shape, checks = summary["response_length"], summary["check_rate"]
    if shape:
        print(f"\ntraining response length: {shape['first_tenth_mean']:.1f} -> {shape['last_tenth_mean']:.1f} "
              "tokens (first tenth -> last tenth of steps)")
    if checks:
        print(f"training responses with a check: {checks['first_tenth_mean']:.3f} -> {checks['last_tenth_mean']:.3f} "
              "(first tenth -> last tenth)")
    print(f"wall time {summary['wall_s']:.0f} s; plots in {run_dir / 'plots'}; model in {summary['final_model']}")


def fresh_run_dir(root: Path, name: str) -> Path:
    """runs/demo, else runs/demo-2, -3, ...: a second `make demo` never mixes with the first."""
    candidate, k = root / name, 2
    while candidate.exists():
        candidate, k = root / f"{name}-{k}", k + 1
    return candidate


def add_arguments(p) -> None:
    """The flags of `r1lab demo` (the CLI made the parser)."""
    p.add_argument("--out", help="run directory (default: runs/demo, or runs/demo-N if that is taken)")
    p.add_argument("--steps", type=int)
    add_config_flags(p)
    p.add_argument("--resume", action="store_true")
    p.set_defaults(run=_run)


def _run(args) -> int:
    cfg = load_config(ZeroConfig, args.config or DEMO_RECIPE, args.overrides, steps=args.steps)
    run(cfg, Path(args.out) if args.out else fresh_run_dir(Path("runs"), "demo"), resume=args.resume)
    return 0
