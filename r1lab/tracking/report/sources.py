"""Reading run and eval directories into plain records, and the series they hold.

A run directory (any training stage) holds RUN/metrics.jsonl (training rows, and held-out eval rows
whose keys start with "eval/"), RUN/samples.jsonl (rows of types.sample_record), RUN/config.yaml and,
when the stage writes one, RUN/summary.json. An eval directory (`r1lab eval`) holds OUT/summary.json
and OUT/samples.jsonl. JSON lines are read with the project's one reader (data.io.read_jsonl), which
drops a last line cut by a crash and names file:line for any other bad line.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from r1lab.data.io import read_jsonl
from r1lab.errors import DataError, UserError

EVAL_PREFIX = "eval/"
PASS1 = "eval/pass@1"  # held-out pass@1 of a training run's eval rows
PASS1_CI = "eval/pass@1_ci95"  # its bootstrap 95% interval over problems, [lo, hi]


@dataclass
class RunData:
    """A training run directory."""

    name: str
    path: Path
    train: list[dict]  # metrics rows of training steps
    evals: list[dict]  # metrics rows of held-out evals ("eval/..." keys)
    samples: list[dict]  # RUN/samples.jsonl rows (types.sample_record with step, reward, components)
    config: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """"rl" for runs that log a reward (zero, rl, demo), "supervised" for the others (sft, rm)."""
        return "rl" if any("reward_mean" in r for r in self.train) else "supervised"


@dataclass
class EvalData:
    """An `r1lab eval` output directory."""

    name: str
    path: Path
    summary: dict
    samples: list[dict]  # OUT/samples.jsonl rows (types.sample_record with sample)


Source = RunData | EvalData


def read_json(path: Path) -> dict:
    """A JSON object file; {} when the file is absent."""
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
    if not isinstance(value, dict):
        raise DataError(f"{path}: expected a JSON object, got {type(value).__name__}")
    return value


def read_config(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        value = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise DataError(f"{path}: not valid YAML ({err})") from None
    return value if isinstance(value, dict) else {}


def load_source(path: str | Path) -> Source:
    """A run directory (has metrics.jsonl) or an eval directory (summary.json of `r1lab eval`)."""
    path = Path(path)
    if not path.is_dir():
        raise UserError(f"{path}: not a directory (expected a run directory or an eval output directory)")
    samples = read_jsonl(path / "samples.jsonl", cut_tail=True, missing_ok=True)
    if (path / "metrics.jsonl").is_file():
        rows = read_jsonl(path / "metrics.jsonl", cut_tail=True)
        is_eval = [any(k.startswith(EVAL_PREFIX) for k in r) for r in rows]
        return RunData(name=path.resolve().name, path=path,
                       train=[r for r, e in zip(rows, is_eval) if not e and "step" in r],
                       evals=[r for r, e in zip(rows, is_eval) if e and "step" in r],
                       samples=samples, config=read_config(path / "config.yaml"),
                       summary=read_json(path / "summary.json"))
    summary = read_json(path / "summary.json")
    if "pass@k" in summary or "benchmark" in summary:
        return EvalData(name=path.resolve().name, path=path, summary=summary, samples=samples)
    raise UserError(f"{path}: neither a run directory (no metrics.jsonl) nor an eval output directory "
                    "(no summary.json with pass@k)")


def unique_names(sources: list[Source]) -> None:
    """Directories with the same name (a/run, b/run) are told apart by their parent."""
    counts = Counter(s.name for s in sources)
    for s in sources:
        if counts[s.name] > 1:
            s.name = f"{s.path.resolve().parent.name}/{s.name}"


def what_was_trained(run: RunData) -> str:
    """"model M · task T" (or "· data F" for SFT-like runs): the words a plot or page title needs."""
    parts = [f"model {run.config['model']}"] if run.config.get("model") else []
    if run.config.get("task"):
        parts.append(f"task {run.config['task']}")
    elif run.config.get("data"):
        data = run.config["data"]
        parts.append("data " + ", ".join(Path(str(d)).name for d in (data if isinstance(data, list) else [data])))
    return " · ".join(parts)


def run_title(run: RunData) -> str:
    return " · ".join(p for p in (run.name, what_was_trained(run)) if p)


# ---------------------------------------------------------------------------------------------
# Series
# ---------------------------------------------------------------------------------------------


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def series(rows: list[dict], key: str) -> tuple[list[int], list[float]]:
    """(steps, values) of the rows that carry a finite number under `key`."""
    pairs = [(r["step"], float(r[key])) for r in rows if is_number(r.get(key))]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def tenth_mean(rows: list[dict], key: str, last: bool = True) -> float | None:
    """Mean of `key` over the last (or first) tenth of the rows that have it: a final value that one
    noisy step cannot move much."""
    _, values = series(rows, key)
    if not values:
        return None
    k = max(1, len(values) // 10)
    part = values[-k:] if last else values[:k]
    return sum(part) / len(part)


def smoothing_weight(points: int) -> float:
    """The EMA weight for a series of this many points: a window of about a twentieth of the run
    (weight 1 - 2 / (window + 1), the usual span-to-weight rule); 0 (no smoothing) under 40 points."""
    window = points // 20
    return 0.0 if window < 2 else 1.0 - 2.0 / (window + 1)


def ema(values: list[float], weight: float) -> list[float]:
    """Exponential moving average, debiased so the first values are not pulled towards 0 (the
    smoothing TensorBoard applies to scalars)."""
    out, acc = [], 0.0
    for i, v in enumerate(values, 1):
        acc = weight * acc + (1.0 - weight) * v
        out.append(acc / (1.0 - weight ** i))
    return out


# ---------------------------------------------------------------------------------------------
# Held-out pass@1 over training, and the aha moments
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeldOutPoint:
    step: int
    pass1: float
    ci: tuple[float, float] | None  # bootstrap 95% interval over problems
    label: str  # "base" (step 0), "final" (the demo's end-of-run eval) or "" (a periodic eval)


def _ci(value: Any) -> tuple[float, float] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(is_number(v) for v in value):
        return float(value[0]), float(value[1])
    return None


def held_out(run: RunData) -> list[HeldOutPoint]:
    """Held-out pass@1 by step: the run's eval rows, and the base model at step 0 and the final model
    at the last step from summary.json's "base" and "final" when it has them (the demo's before/after
    evals, each {"pass@1", "pass@1_ci95"}, sampled with one seed so they compare like for like; they
    replace a periodic eval row of the same step, which the demo prints as its result)."""
    points = {r["step"]: HeldOutPoint(r["step"], float(r[PASS1]), _ci(r.get(PASS1_CI)), "base" if r["step"] == 0 else "")
              for r in run.evals if is_number(r.get(PASS1))}
    last_step = run.train[-1]["step"] if run.train else None
    for label, step in (("base", 0), ("final", last_step)):
        ev = run.summary.get(label)
        if step is None or not isinstance(ev, dict) or not is_number(ev.get("pass@1")):
            continue
        points[step] = HeldOutPoint(step, float(ev["pass@1"]), _ci(ev.get("pass@1_ci95")), label)
    return [points[s] for s in sorted(points)]


def marks_aha(run: RunData) -> bool:
    """Whether the run's samples carry the "aha" mark at all (runs before the detector do not)."""
    return any("aha" in s for s in run.samples)


def aha_moments(run: RunData, limit: int = 5) -> list[dict]:
    """The first `limit` sampled completions marked "aha": true, in step order."""
    hits = [s for s in run.samples if s.get("aha") is True]
    return sorted(hits, key=lambda s: s.get("step", 0))[:limit]


# ---------------------------------------------------------------------------------------------
# Eval directories
# ---------------------------------------------------------------------------------------------


def per_problem(samples: list[dict]) -> list[dict]:
    """Per problem, in file order: gold, correct/n, the most common extracted answer, truncations."""
    groups: dict[str, list[dict]] = {}
    for s in samples:
        groups.setdefault(str(s.get("problem_id")), []).append(s)
    out = []
    for pid, rows in groups.items():
        answers = [r.get("extracted") for r in rows if r.get("extracted")]
        majority = Counter(answers).most_common(1)[0][0] if answers else None  # ties: the first sampled
        out.append({"id": pid, "gold": str(rows[0].get("gold", "")), "n": len(rows),
                    "correct": sum(bool(r.get("correct")) for r in rows), "majority": majority,
                    "truncated": sum(r.get("finish_reason") == "length" for r in rows)})
    return out


# ---------------------------------------------------------------------------------------------
# Configs
# ---------------------------------------------------------------------------------------------

ABSENT = "(absent)"  # a config key that one run's config.yaml does not have


def flatten(data: dict, prefix: str = "") -> dict[str, Any]:
    """{"rewards": {"format": 0.2}} -> {"rewards.format": 0.2}."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def config_diff(configs: dict[str, dict]) -> list[tuple[str, list[Any]]]:
    """Keys whose values differ between the configs (a key missing from one counts as differing),
    with each config's value (ABSENT where missing), sorted by key."""
    flat = {name: flatten(cfg) for name, cfg in configs.items()}
    keys = sorted(set().union(*flat.values())) if flat else []
    rows = []
    for key in keys:
        values = [f.get(key, ABSENT) for f in flat.values()]
        present = [key in f for f in flat.values()]
        if not all(present) or any(v != values[0] for v in values):
            rows.append((key, values))
    return rows
