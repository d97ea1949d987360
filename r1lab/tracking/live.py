"""A compact live view of a training run in the terminal: progress, elapsed time and ETA on one line,
the key metrics of the last step (and the last held-out eval) on the next.

On a terminal it redraws in place (rich); when stdout is not a terminal (a log file, CI, a pipe) it
prints a plain line every few steps instead, so logs stay readable and free of control characters.
"""

from __future__ import annotations

import math
import sys
import time
from typing import IO, Any

# (metrics.jsonl key, short label, format): what people watch in an R1-style run.
SHOWN = [
    ("reward_mean", "reward", "{:.3f}"),
    ("accuracy", "acc", "{:.3f}"),
    ("response_length_mean", "len", "{:.0f}"),
    ("reflection_words_per_1k", "reflect/1k", "{:.1f}"),
    ("language_mixing_rate", "mix", "{:.3f}"),
    ("truncated_rate", "trunc", "{:.2f}"),
    ("kl", "kl", "{:.4f}"),
    ("entropy", "ent", "{:.3f}"),
    ("step_time_s", "s/step", "{:.2f}"),
]


def eta_seconds(done: int, remaining: int, elapsed: float) -> float | None:
    """Time left at the average pace of the steps done so far; None before the first step."""
    if done <= 0:
        return None
    return elapsed / done * remaining


def format_duration(seconds: float | None) -> str:
    """0:07, 12:03, 1:02:03; '?' when unknown."""
    if seconds is None:
        return "?"
    s = int(round(seconds))
    h, m, s = s // 3600, s // 60 % 60, s % 60
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def metrics_text(row: dict[str, Any], last_eval: dict[str, Any] | None = None) -> str:
    """'reward 0.412 · acc 0.375 · len 57 · ...' from a metrics row; keys the row lacks are left out."""
    parts = [f"{label} {fmt.format(row[key])}" for key, label, fmt in SHOWN
             if isinstance(row.get(key), (int, float)) and math.isfinite(row[key])]
    if last_eval and isinstance(last_eval.get("eval/pass@1"), (int, float)):
        ci = last_eval.get("eval/pass@1_ci95")
        band = f" [{ci[0]:.3f}, {ci[1]:.3f}]" if isinstance(ci, (list, tuple)) and len(ci) == 2 else ""
        parts.append(f"pass@1 {last_eval['eval/pass@1']:.3f}{band} @{last_eval['step']}")
    return " · ".join(parts)


class LiveView:
    """Call update(row) with each metrics row (training or eval), close() at the end."""

    def __init__(self, total: int, start: int = 0, desc: str = "zero", enabled: bool = True,
                 stream: IO[str] | None = None, every: int | None = None):
        self.total, self.start, self.desc, self.enabled = total, start, desc, enabled
        self.stream = stream or sys.stdout
        self.every = every or max(1, (total - start) // 20)
        self.step, self.row, self.last_eval = start, {}, None
        self.t0 = time.perf_counter()
        self.live = None
        if enabled and self.stream.isatty():
            from rich.console import Console
            from rich.live import Live

            self.live = Live(self._renderable(), console=Console(file=self.stream), refresh_per_second=4,
                             transient=False)
            self.live.start()

    def progress_text(self) -> str:
        elapsed = time.perf_counter() - self.t0
        eta = eta_seconds(self.step - self.start, self.total - self.step, elapsed)
        return f"{self.step}/{self.total} · {format_duration(elapsed)} elapsed · ETA {format_duration(eta)}"

    def _renderable(self):
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        line = Table.grid(padding=(0, 1))
        line.add_row(Text(self.desc, style="bold"), ProgressBar(total=max(1, self.total), completed=self.step,
                                                                width=30), Text(self.progress_text()))
        return Group(line, Text(metrics_text(self.row, self.last_eval), style="dim"))

    def update(self, row: dict[str, Any]) -> None:
        if not self.enabled:
            return
        is_eval = any(k.startswith("eval/") for k in row) and "reward_mean" not in row
        if is_eval:
            self.last_eval = row
        else:
            self.step, self.row = int(row["step"]), row
        if self.live is not None:
            self.live.update(self._renderable(), refresh=True)
        elif is_eval or self.step == self.total or (self.step - self.start) % self.every == 0:
            text = metrics_text({}, row) if is_eval else metrics_text(row)
            print(f"{self.desc} {self.progress_text()} | {text}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
