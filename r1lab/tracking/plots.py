"""The two figures of the DeepSeek-R1 paper for a run: accuracy (and reward) over steps, and mean
response length over steps (R1 paper, Figures 2 and 3), as PNGs in RUN/plots/."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402


def _series(rows: list[dict], key: str) -> tuple[list[int], list[float]]:
    pairs = [(r["step"], r[key]) for r in rows if r.get(key) is not None]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def plot_run(rows: list[dict], out_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    train = [r for r in rows if "reward_mean" in r]
    evals = [r for r in rows if "eval/pass@1" in r]
    paths = []

    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in (("accuracy", "train accuracy"), ("reward_mean", "reward (mean)")):
        x, y = _series(train, key)
        ax.plot(x, y, label=label, alpha=0.8)
    x, y = _series(evals, "eval/pass@1")
    if x:
        ax.plot(x, y, "o-", label="held-out pass@1")
    ax.set_xlabel("step")
    ax.set_title("Accuracy and reward over training")
    ax.legend()
    ax.grid(alpha=0.3)
    paths.append(out_dir / "accuracy.png")
    fig.savefig(paths[-1], dpi=100, bbox_inches="tight")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    x, y = _series(train, "response_length_mean")
    ax.plot(x, y, color="tab:purple")
    ax.set_xlabel("step")
    ax.set_ylabel("tokens")
    ax.set_title("Mean response length over training")
    ax.grid(alpha=0.3)
    paths.append(out_dir / "response_length.png")
    fig.savefig(paths[-1], dpi=100, bbox_inches="tight")
    plt.close(fig)
    return paths
