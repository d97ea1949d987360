"""The DeepSeek-R1 paper's two R1-Zero figures for a run, as PNGs in RUN/plots/: held-out accuracy over
training steps (Figure 2) and mean response length over training steps (Figure 3) (DeepSeek-AI 2025,
section 2.2.4). Each is titled with the run, model and task.

accuracy.png         held-out pass@1 with its 95% interval (band), the base model at step 0, training
                     accuracy faint behind it
response_length.png  mean response length per step, 10th-90th percentile band, smoothed for long runs
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402

from r1lab.errors import UserError  # noqa: E402
from r1lab.tracking.report.sources import (  # noqa: E402
    RunData,
    ema,
    held_out,
    is_number,
    load_source,
    run_title,
    series,
    smoothing_weight,
)


def write_plots(run_dir: str | Path, out_dir: str | Path | None = None) -> list[Path]:
    """Both figures of the run in `run_dir`, written to `out_dir` (default RUN/plots); their paths."""
    run = load_source(run_dir)
    if not isinstance(run, RunData):
        raise UserError(f"{run_dir}: an eval directory, not a training run (no metrics.jsonl)")
    out = Path(out_dir) if out_dir is not None else Path(run_dir) / "plots"
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for draw, name in ((draw_accuracy, "accuracy.png"), (draw_length, "response_length.png")):
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        draw(ax, run)
        paths.append(out / name)
        fig.savefig(paths[-1], dpi=110, bbox_inches="tight")
        plt.close(fig)
    return paths


def draw_accuracy(ax, run: RunData) -> None:
    """Held-out pass@1 by step with its 95% band, the base (step 0) and final points labelled, and
    training accuracy faint behind it."""
    x, y = series(run.train, "accuracy")
    if x:
        ax.plot(x, y, color="0.6", lw=1, alpha=0.6, label="training accuracy (sampled completions)")
    points = held_out(run)
    banded = [p for p in points if p.ci]
    if banded:
        ax.fill_between([p.step for p in banded], [p.ci[0] for p in banded], [p.ci[1] for p in banded],
                        color="tab:blue", alpha=0.18, lw=0, label="95% CI over problems")
    if points:
        ax.plot([p.step for p in points], [p.pass1 for p in points], "o-", color="tab:blue", label="held-out pass@1")
    else:
        ax.text(0.5, 0.5, "no held-out evals logged (eval_every = 0)", transform=ax.transAxes, ha="center",
                color="0.4")
    for p in points:
        if p.label:
            ax.annotate(f"{p.label} {p.pass1:.2f}", (p.step, p.pass1), textcoords="offset points",
                        xytext=(0, 8), ha="center", fontsize=8)
    ax.set_ylim(-0.02, 1.05)
    ax.set_ylabel("pass@1")
    finish(ax, "Held-out accuracy during training", run)


def draw_length(ax, run: RunData) -> None:
    """Mean response length by step with its 10th-90th percentile band; smoothed for long runs."""
    x, y = series(run.train, "response_length_mean")
    rows = [r for r in run.train if is_number(r.get("response_length_p10")) and is_number(r.get("response_length_p90"))]
    if rows:
        ax.fill_between([r["step"] for r in rows], [r["response_length_p10"] for r in rows],
                        [r["response_length_p90"] for r in rows], color="tab:purple", alpha=0.15, lw=0,
                        label="10th-90th percentile")
    weight = smoothing_weight(len(y))
    if weight:
        ax.plot(x, y, color="tab:purple", lw=1, alpha=0.35, label="mean (per step)")
        ax.plot(x, ema(y, weight), color="tab:purple", lw=2, label="mean (smoothed)")
    elif x:
        ax.plot(x, y, color="tab:purple", lw=1.5, label="mean")
    ax.set_ylabel("response length (tokens)")
    finish(ax, "Mean response length during training", run)


def finish(ax, subject: str, run: RunData) -> None:
    ax.set_title(f"{subject}\n{run_title(run)}", fontsize=10)
    ax.set_xlabel("training step")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="best")
