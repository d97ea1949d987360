"""`r1lab demo`: R1-Zero end to end on the embedded default, on a CPU, in minutes.

Evaluate the tiny base model on held-out demo problems, train it with GRPO (the zero stage with its
default config), evaluate the final model the same way (same problems, same sampling seed), save it
in Hugging Face format, draw the two curves, print a short table.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from r1lab.config import ZeroConfig, load_config
from r1lab.stages.zero import build_setup, held_out_eval, run_zero
from r1lab.tracking.run_log import RunLog

DEMO_RECIPE = Path(__file__).resolve().parent.parent / "recipes" / "demo.yaml"


def run_demo(cfg: ZeroConfig, run_dir: Path, resume: bool = False) -> dict:
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    # Base model, evaluated once (kept on disk so a resumed demo does not redo it).
    base_path = run_dir / "base_eval.json"
    if resume and base_path.exists():
        base = json.loads(base_path.read_text())
    else:
        print(f"evaluating the base model on {cfg.eval_problems} held-out problems x {cfg.eval_n} samples")
        base = held_out_eval(build_setup(cfg), step=0)
        base_path.write_text(json.dumps(base, indent=2))

    print(f"training: {cfg.steps} GRPO steps, {cfg.prompts_per_step} prompts x {cfg.samples_per_prompt} samples")
    result = run_zero(cfg, run_dir, resume=resume)
    setup = result["setup"]

    print("evaluating the final model the same way")
    final = held_out_eval(setup, step=0)  # same sampling seed as the base eval
    final_dir = run_dir / "final_model"
    setup.model.save_pretrained(final_dir, safe_serialization=True)
    setup.tokenizer.save_pretrained(final_dir)

    rows = [r for r in RunLog(run_dir).read_metrics() if "reward_mean" in r]
    summary = {
        "base": base,
        "final": final,
        "wall_s": time.perf_counter() - t0,
        "steps": cfg.steps,
        "response_length": length_shape(rows),
        "final_model": str(final_dir),
    }
    RunLog(run_dir).write_summary(summary)
    print_table(summary, run_dir)
    from r1lab.tracking.report import write_report  # plotly is imported only when a report is written

    print(f"report: {write_report([run_dir], run_dir / 'report.html')} (open it in any browser)")
    return summary


def length_shape(rows: list[dict]) -> dict[str, float]:
    """Mean response length over the first and last tenth of training: the curve's shape in two numbers."""
    if not rows:
        return {}
    k = max(1, len(rows) // 10)
    first = sum(r["response_length_mean"] for r in rows[:k]) / k
    last = sum(r["response_length_mean"] for r in rows[-k:]) / k
    return {"first_tenth_mean": first, "last_tenth_mean": last}


def print_table(summary: dict, run_dir: Path) -> None:
    base, final = summary["base"], summary["final"]
    print()
    print("| model | held-out pass@1 | format-valid | mean length (tokens) |")
    print("|---|---|---|---|")
    for name, row in (("base", base), ("final", final)):
        print(f"| {name} | {row['pass@1']:.3f} | {row['format_rate']:.3f} | {row['response_length_mean']:.1f} |")
    shape = summary["response_length"]
    if shape:
        print(f"\ntraining response length: {shape['first_tenth_mean']:.1f} -> {shape['last_tenth_mean']:.1f} "
              "tokens (first tenth -> last tenth of steps)")
    print(f"wall time {summary['wall_s']:.0f} s; plots in {run_dir / 'plots'}; model in {summary['final_model']}")


def fresh_run_dir(root: Path, name: str) -> Path:
    """runs/demo, else runs/demo-2, -3, ...: a second `make demo` never mixes with the first."""
    candidate, k = root / name, 2
    while candidate.exists():
        candidate, k = root / f"{name}-{k}", k + 1
    return candidate


def register(sub) -> None:
    p = sub.add_parser("demo", help="R1-Zero on the embedded tiny base model, end to end on a CPU")
    p.add_argument("--out", help="run directory (default: runs/demo, or runs/demo-N if that is taken)")
    p.add_argument("--config", help="YAML config file")
    p.add_argument("--steps", type=int)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--resume", action="store_true")
    p.set_defaults(run=_run)


def _run(args) -> int:
    cfg = load_config(ZeroConfig, args.config or DEMO_RECIPE, args.overrides, steps=args.steps)
    run_demo(cfg, Path(args.out) if args.out else fresh_run_dir(Path("runs"), "demo"), resume=args.resume)
    return 0
