"""The run directory's append-only records.

RUN/metrics.jsonl  one JSON object per training step (and eval rows, marked "eval/...")
RUN/samples.jsonl  a bounded sample of completions per step, for reading what the model says
RUN/summary.json   the run's headline numbers
On resume, rows past the checkpoint's step are dropped first so no step is logged twice, and a last
line cut short by a crash mid-write is dropped with them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from r1lab.data.io import read_jsonl
from r1lab.errors import UserError


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN; a null is honest about a missing value
    return value


class RunLog:
    def __init__(self, run_dir: Path):
        self.dir = Path(run_dir)
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            probe = self.dir / ".r1lab-write-check"
            probe.touch()
            probe.unlink()
        except OSError as err:  # checked before any model is loaded, so a bad --out costs nothing
            raise UserError(f"cannot write the run directory {self.dir}: {err.strerror or err}") from None
        self.metrics_path = self.dir / "metrics.jsonl"
        self.samples_path = self.dir / "samples.jsonl"

    def truncate_after(self, step: int) -> None:
        """Keep only rows with step <= `step` (resume from a checkpoint taken at `step`)."""
        for path in (self.metrics_path, self.samples_path):
            if not path.exists():
                continue
            kept = [row for row in read_jsonl(path, cut_tail=True) if row.get("step", 0) <= step]
            path.write_text("".join(json.dumps(row) + "\n" for row in kept))

    def log_metrics(self, row: dict[str, Any]) -> None:
        with self.metrics_path.open("a") as f:
            f.write(json.dumps({k: _clean(v) for k, v in row.items()}) + "\n")

    def log_samples(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        with self.samples_path.open("a") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")

    def write_summary(self, summary: dict[str, Any]) -> None:
        (self.dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")

    def read_metrics(self) -> list[dict[str, Any]]:
        return read_jsonl(self.metrics_path, cut_tail=True, missing_ok=True)
