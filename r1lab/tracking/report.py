"""One self-contained HTML page for a set of training runs and eval output directories.

The page opens offline in any browser: plotly.js, the page's style and script
(r1lab/tracking/report_assets/) and the data are all inlined. plotly.js is its "basic" bundle (scatter,
bar, pie; 1.1 MB) when `make install` has fetched it from npm, else the full bundle that the plotly
Python package ships (4.8 MB), which draws the same page but opens about twice as slowly
(benchmarks/report_open.py). It shows the curves people judge an
R1-style run by (reward and its components, accuracy, held-out pass@1 with its interval, response
length with a percentile band, reflection words, language mixing, KL, entropy, step time), runs
overlaid with a diff of their configs, a summary table, the "aha" browser over the sampled
completions, and for eval directories the pass@k curve, cons@k, per-problem results and the length of
correct vs incorrect answers.

Python decides what is shown (figures as plotly JSON, tables as HTML); report.js only draws the
figures and runs the browser's filters and search.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import yaml
from plotly.offline import get_plotlyjs

from r1lab.errors import UserError
from r1lab.evaluation.metrics import bootstrap_ci, pass_at_k
from r1lab.rewards import format_reward

ASSETS = Path(__file__).parent / "report_assets"
DEFAULT_SAMPLE_BUDGET_MB = 4.0  # completions text embedded per report
# plotly.js-basic-dist-min from npm, fetched by `make install` (the Makefile pins its version and
# sha256). Running the full bundle was 1.4 s of a 2.0 s page open on this machine; the basic bundle
# took 0.25 s (benchmarks/NOTES.md, "Report open time"). Every trace the report draws is a scatter or
# a bar, both in the basic bundle.
BASIC_PLOTLY_JS = ASSETS / "vendor" / "plotly-basic.min.js"
PLOTLY_BUNDLES = ("auto", "basic", "full")
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22"]
DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]




# ---------------------------------------------------------------------------------------------
# Reading run and eval directories
# ---------------------------------------------------------------------------------------------


@dataclass
class RunData:
    """A training run directory (RUN/metrics.jsonl and friends)."""

    name: str
    path: Path
    train: list[dict]  # metrics rows of training steps
    evals: list[dict]  # metrics rows of held-out evals ("eval/..." keys)
    samples: list[dict]  # RUN/samples.jsonl rows
    config: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)


@dataclass
class EvalData:
    """An `r1lab eval` output directory (OUT/summary.json, OUT/samples.jsonl)."""

    name: str
    path: Path
    summary: dict
    samples: list[dict]


def read_jsonl(path: Path) -> list[dict]:
    """Rows of a JSON-lines file. A cut last line (a run killed mid-write) is dropped; a bad line
    elsewhere is an error naming the file and line."""
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            if lineno == len(lines):
                break
            raise UserError(f"{path}:{lineno}: not valid JSON ({err.msg})") from None
    return rows


def _read_json(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise UserError(f"{path}: not valid JSON ({err.msg})") from None


def load_source(path: str | Path) -> RunData | EvalData:
    """A run directory (has metrics.jsonl) or an eval directory (summary.json with pass@k)."""
    path = Path(path)
    if not path.is_dir():
        raise UserError(f"{path}: not a directory (expected a run directory or an eval output directory)")
    if (path / "metrics.jsonl").is_file():
        rows = read_jsonl(path / "metrics.jsonl")
        config = yaml.safe_load((path / "config.yaml").read_text()) if (path / "config.yaml").is_file() else {}
        return RunData(
            name=path.resolve().name, path=path,
            train=[r for r in rows if "reward_mean" in r],
            evals=[r for r in rows if any(k.startswith("eval/") for k in r)],
            samples=read_jsonl(path / "samples.jsonl"), config=config or {},
            summary=_read_json(path / "summary.json"),
        )
    summary = _read_json(path / "summary.json")
    if "pass@k" in summary or "benchmark" in summary:
        return EvalData(name=path.resolve().name, path=path, summary=summary,
                        samples=read_jsonl(path / "samples.jsonl"))
    raise UserError(f"{path}: neither a run directory (no metrics.jsonl) nor an eval output directory "
                      "(no summary.json with pass@k)")


def unique_names(sources: list[RunData | EvalData]) -> None:
    """Directories with the same name (a/run, b/run) are told apart by their parent."""
    counts: dict[str, int] = {}
    for s in sources:
        counts[s.name] = counts.get(s.name, 0) + 1
    for s in sources:
        if counts[s.name] > 1:
            s.name = f"{s.path.resolve().parent.name}/{s.name}"


# ---------------------------------------------------------------------------------------------
# Small pure helpers
# ---------------------------------------------------------------------------------------------


def series(rows: list[dict], key: str) -> tuple[list[int], list[float]]:
    """(steps, values) of the rows that carry a finite number under `key`."""
    pairs = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), (int, float)) and math.isfinite(r[key])]
    return [p[0] for p in pairs], [float(p[1]) for p in pairs]


def tenth_mean(rows: list[dict], key: str, last: bool = True) -> float | None:
    """Mean of `key` over the last (or first) tenth of the rows that have it: a final value that one
    noisy step cannot move much."""
    _, values = series(rows, key)
    if not values:
        return None
    k = max(1, len(values) // 10)
    part = values[-k:] if last else values[:k]
    return sum(part) / len(part)


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


ABSENT = "(absent)"  # a config key that one run's config.yaml does not have


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


def pass_at_k_curve(counts: list[int], n: int, ks: list[int], seed: int = 0) -> list[dict]:
    """pass@k for each k in `ks` (the unbiased estimator per problem, averaged over problems), with a
    bootstrap 95% interval over problems: [{"k", "mean", "lo", "hi"}]."""
    curve = []
    for k in ks:
        per_problem = [pass_at_k(n, c, k) for c in counts]
        lo, hi = bootstrap_ci(per_problem, seed=seed) or (math.nan, math.nan)
        curve.append({"k": k, "mean": sum(per_problem) / len(per_problem), "lo": lo, "hi": hi})
    return curve


def curve_ks(n: int) -> list[int]:
    """Every k up to 16, then about 12 points per decade (log-spaced), always ending at n."""
    ks = set(range(1, min(n, 16) + 1))
    k = 16.0
    while k < n:
        ks.add(int(round(k)))
        k *= 10 ** (1 / 12)
    ks.add(n)
    return sorted(ks)


def thin_samples(records: list[dict], group_key: str, budget_chars: int) -> list[dict]:
    """Keep the records within a text budget, evenly across groups (steps, or problems): first the
    same number from each group (the largest that fits), then, if one per group is still too much,
    every j-th group. Order is kept."""
    def size(rows: list[dict]) -> int:
        return sum(len(r.get("completion") or "") + 200 for r in rows)  # 200: the other fields

    if size(records) <= budget_chars:
        return records
    groups: dict[Any, list[dict]] = {}
    for r in records:
        groups.setdefault(r.get(group_key), []).append(r)
    lo, hi = 1, max(len(g) for g in groups.values())
    while lo < hi:  # the largest per-group cap that fits
        mid = (lo + hi + 1) // 2
        if size([r for g in groups.values() for r in g[:mid]]) <= budget_chars:
            lo = mid
        else:
            hi = mid - 1
    capped = [g[:lo] for g in groups.values()]
    stride = 1
    while stride < len(capped) and size([r for g in capped[::stride] for r in g]) > budget_chars:
        stride += 1
    kept = {id(r) for g in capped[::stride] for r in g}
    return [r for r in records if id(r) in kept]


# ---------------------------------------------------------------------------------------------
# Training curves
# ---------------------------------------------------------------------------------------------

# (chart id, title, y-axis title, keys drawn as lines). Keys absent from every run leave the chart out.
TRAINING_CHARTS = [
    ("accuracy", "Training accuracy (fraction of sampled completions verified correct)", "accuracy",
     ["accuracy"]),
    ("length", "Mean response length (tokens), band: 10th to 90th percentile", "tokens",
     ["response_length_mean"]),
    ("reflection", "Reflection words per 1,000 words of reasoning (wait, check, verify, ...)", "per 1k words",
     ["reflection_words_per_1k"]),
    ("language", "Language-mixing rate", "rate", ["language_mixing_rate"]),
    ("kl", "KL to the reference policy", "KL", ["kl"]),
    ("entropy", "Policy entropy (nats per token)", "entropy", ["entropy"]),
    ("time", "Step time (seconds): total, rollout, update", "seconds",
     ["step_time_s", "rollout_time_s", "update_time_s"]),
]
MISSING_WHY = {"kl": "logged only when beta > 0", "language": "not logged by these runs",
               "pass1": "no held-out eval rows (eval_every = 0)"}


def _layout(title: str, ytitle: str, xtitle: str = "step", height: int = 320, xtype: str = "linear",
            dtick: int | None = None, **extra) -> dict:
    return dict(title=dict(text=title, font=dict(size=14)), xaxis=dict(title=xtitle, type=xtype, dtick=dtick),
                yaxis=dict(title=ytitle),
                height=height, margin=dict(l=55, r=15, t=40, b=40), hovermode="x unified",
                legend=dict(orientation="h", y=-0.25), **extra)


def _band(x: list, lo: list, hi: list, color: str, name: str, group: str) -> list[go.Scatter]:
    """A shaded interval: the lower edge, then the upper edge filled down to it."""
    rgba = "rgba({},{},{},0.18)".format(*(int(color[i:i + 2], 16) for i in (1, 3, 5)))
    common = dict(x=x, mode="lines", line=dict(width=0), legendgroup=group, showlegend=False, hoverinfo="skip")
    return [go.Scatter(y=lo, **common), go.Scatter(y=hi, fill="tonexty", fillcolor=rgba, name=name, **common)]


def _line_traces(runs: list[RunData], keys: list[str], rows_of=lambda r: r.train) -> list[go.Scatter]:
    traces = []
    for i, run in enumerate(runs):
        for j, key in enumerate(keys):
            x, y = series(rows_of(run), key)
            if not x:
                continue
            label = key if len(runs) == 1 else f"{run.name}: {key}"
            traces.append(go.Scatter(x=x, y=y, mode="lines", name=label, legendgroup=run.name,
                                     line=dict(color=PALETTE[i % len(PALETTE)], dash=DASHES[j % len(DASHES)])))
    return traces


def _length_band(runs: list[RunData]) -> list[go.Scatter]:
    traces = []
    for i, run in enumerate(runs):
        rows = [r for r in run.train if r.get("response_length_p10") is not None
                and r.get("response_length_p90") is not None]
        if rows:
            traces += _band([r["step"] for r in rows], [r["response_length_p10"] for r in rows],
                            [r["response_length_p90"] for r in rows], PALETTE[i % len(PALETTE)],
                            "p10-p90", run.name)
    return traces


def _ci_pair(row: dict, key: str) -> tuple[float, float] | None:
    ci = row.get(f"{key}_ci95")
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and None not in ci:
        return float(ci[0]), float(ci[1])
    lo, hi = row.get(f"{key}_ci95_lo"), row.get(f"{key}_ci95_hi")
    return (float(lo), float(hi)) if lo is not None and hi is not None else None


def _pass1_traces(runs: list[RunData]) -> tuple[list[go.Scatter], list[go.Scatter]]:
    """(bands, lines) of held-out pass@1 per run."""
    bands, traces = [], []
    for i, run in enumerate(runs):
        rows = [r for r in run.evals if r.get("eval/pass@1") is not None]
        if not rows:
            continue
        color = PALETTE[i % len(PALETTE)]
        banded = [(r["step"], _ci_pair(r, "eval/pass@1")) for r in rows]
        banded = [(s, ci) for s, ci in banded if ci]
        if banded:
            bands += _band([s for s, _ in banded], [ci[0] for _, ci in banded], [ci[1] for _, ci in banded],
                           color, "95% CI", run.name)
        label = "held-out pass@1" if len(runs) == 1 else f"{run.name}: pass@1"
        traces.append(go.Scatter(x=[r["step"] for r in rows], y=[r["eval/pass@1"] for r in rows],
                                 mode="lines+markers", name=label, legendgroup=run.name, line=dict(color=color)))
    return bands, traces


def _step_dtick(runs: list[RunData]) -> int | None:
    """Whole-step ticks for short runs (plotly would label step 1.5); plotly's choice otherwise."""
    last = max((r["step"] for run in runs for r in run.train), default=0)
    return 1 if last <= 12 else None


def training_charts(runs: list[RunData]) -> tuple[list[dict], list[str]]:
    """The main curves as [{"id", "title", "figure"}] and the names of charts no run has data for."""
    charts, missing = [], []
    dtick = _step_dtick(runs)

    def add(chart_id: str, title: str, ytitle: str, lines: list, bands: list = ()) -> None:
        if lines:  # bands alone (no line to read) do not make a chart
            layout = _layout(title, ytitle, dtick=dtick)
            charts.append({"id": chart_id, "title": title, "figure": _figure([*bands, *lines], layout)})
        else:
            missing.append(f"{title.split(' (')[0]}: {MISSING_WHY.get(chart_id, 'not logged')}")

    components = sorted({k for run in runs for r in run.train for k in r if k.startswith("reward/")})
    add("reward", "Reward (mean) and its components", "reward",
        _line_traces(runs, ["reward_mean", *components]))
    for chart_id, title, ytitle, keys in TRAINING_CHARTS[:1]:
        add(chart_id, title, ytitle, _line_traces(runs, keys))
    bands, lines = _pass1_traces(runs)
    add("pass1", "Held-out pass@1 (band: 95% CI over problems)", "pass@1", lines, bands)
    for chart_id, title, ytitle, keys in TRAINING_CHARTS[1:]:
        bands = _length_band(runs) if chart_id == "length" else []
        add(chart_id, title, ytitle, _line_traces(runs, keys), bands)
    return charts, missing


def more_charts(runs: list[RunData]) -> list[dict]:
    """One small chart per other numeric key (loss, grad_norm, clip_fraction, lr, truncated_rate, eval
    format rate, ...): whatever a run logs shows up without the report knowing it in advance."""
    shown = {"step", "reward_mean", "response_length_p10", "response_length_p90", "eval/pass@1"}
    shown |= {k for _, _, _, keys in TRAINING_CHARTS for k in keys}
    keys: dict[str, bool] = {}  # key -> is an eval key; dict keeps first-seen order
    for run in runs:
        for rows, is_eval in ((run.train, False), (run.evals, True)):
            for r in rows:
                for k, v in r.items():
                    if k not in shown and not k.startswith("reward/") and isinstance(v, (int, float)) \
                            and not isinstance(v, bool):
                        keys.setdefault(k, is_eval)
    charts = []
    for key, is_eval in keys.items():
        traces = _line_traces(runs, [key], (lambda r: r.evals) if is_eval else (lambda r: r.train))
        if traces:
            slug = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")
            charts.append({"id": f"more-{slug}", "title": key,
                           "figure": _figure(traces, _layout(key, "", height=260, dtick=_step_dtick(runs)))})
    return charts


def _figure(traces: list, layout: dict) -> dict:
    """Plotly JSON without the per-figure template: the page applies one shared template."""
    fig = json.loads(pio.to_json(go.Figure(data=traces, layout=layout), validate=True))
    fig["layout"].pop("template", None)
    return fig


# ---------------------------------------------------------------------------------------------
# Tables: summary and config diff
# ---------------------------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def summary_row(run: RunData) -> dict[str, str]:
    """One run's headline numbers; "final" values are means over the last tenth of the steps."""
    last_eval = next((r for r in reversed(run.evals) if r.get("eval/pass@1") is not None), None)
    held_out = "–"
    if last_eval:
        ci = _ci_pair(last_eval, "eval/pass@1")
        held_out = f"{last_eval['eval/pass@1']:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
        held_out += f" @ step {last_eval['step']}"
    base, final = run.summary.get("base"), run.summary.get("final")  # the demo's before/after eval
    if isinstance(base, dict) and isinstance(final, dict) and "pass@1" in base and "pass@1" in final:
        held_out = f"{base['pass@1']:.3f} → {final['pass@1']:.3f} (base → final)"
    first_len, last_len = tenth_mean(run.train, "response_length_mean", last=False), \
        tenth_mean(run.train, "response_length_mean")
    _, times = series(run.train, "step_time_s")
    return {
        "run": run.name,
        "model": str(run.config.get("model", "–")),
        "task": str(run.config.get("task", "–")),
        "steps": str(run.train[-1]["step"]) if run.train else "0",
        "reward (final)": _fmt(tenth_mean(run.train, "reward_mean")),
        "train accuracy (final)": _fmt(tenth_mean(run.train, "accuracy")),
        "held-out pass@1": held_out,
        "length first → last tenth": f"{_fmt(first_len, 1)} → {_fmt(last_len, 1)}",
        "reflection /1k (final)": _fmt(tenth_mean(run.train, "reflection_words_per_1k"), 2),
        "truncated (final)": _fmt(tenth_mean(run.train, "truncated_rate")),
        "train time": _duration(sum(times)) if times else "–",
        "sampled completions": str(len(run.samples)),
    }


def html_table(columns: list[str] | None, rows: list[list[str]], cls: str = "") -> str:
    """An escaped HTML table; no header row when `columns` is None."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns or [])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    thead = f"<thead><tr>{head}</tr></thead>" if columns else ""
    return f'<table class="{cls}">{thead}<tbody>{body}</tbody></table>'


def summary_section(runs: list[RunData]) -> str:
    rows = [summary_row(r) for r in runs]
    columns = list(rows[0])
    table = html_table(columns, [[row[c] for c in columns] for row in rows], "summary")
    return ('<section id="summary"><h2>Summary</h2>' + table +
            '<p class="hint">final = mean over the last tenth of the logged steps</p></section>')


def _config_value(value: Any) -> str:
    """As config.yaml writes it (1.0e-05, true, null, [tensorboard])."""
    if value is ABSENT:
        return ABSENT
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()


def config_section(runs: list[RunData]) -> str:
    configs = {r.name: r.config for r in runs}
    if len(runs) == 1:
        flat = flatten(runs[0].config)
        table = html_table(["key", "value"], [[k, _config_value(v)] for k, v in flat.items()], "config")
        return (f'<section id="config"><h2>Config</h2><details><summary>{len(flat)} keys of '
                f'{html.escape(runs[0].name)}/config.yaml</summary>{table}</details></section>')
    diff = config_diff(configs)
    if not diff:
        return '<section id="config"><h2>Config diff</h2><p>The runs have identical configs.</p></section>'
    table = html_table(["key", *configs], [[k, *(_config_value(v) for v in vs)] for k, vs in diff], "config")
    differ = "1 key differs" if len(diff) == 1 else f"{len(diff)} keys differ"
    return f'<section id="config"><h2>Config diff</h2><p>{differ}.</p>{table}</section>'


# ---------------------------------------------------------------------------------------------
# Eval directories
# ---------------------------------------------------------------------------------------------


def _eval_text(row: dict) -> str:
    return row.get("response", row.get("completion", row.get("text", ""))) or ""


def _eval_length(row: dict) -> int | None:
    return row.get("tokens", row.get("length"))


def _eval_correct(row: dict) -> bool:
    return bool(row["correct"]) if "correct" in row else row.get("status") == "correct"


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
                    "correct": sum(_eval_correct(r) for r in rows), "majority": majority,
                    "truncated": sum(r.get("finish_reason") == "length" for r in rows)})
    return out


def eval_charts(ev: EvalData, index: int) -> list[dict]:
    """pass@k over k with its band (from the samples) and cons@k points (from summary.json), and the
    length histogram of correct vs incorrect samples."""
    problems = per_problem(ev.samples)
    n = min((p["n"] for p in problems), default=0)
    charts = []
    traces: list = []
    if n:
        curve = pass_at_k_curve([min(p["correct"], n) for p in problems], n, curve_ks(n))
        traces += _band([c["k"] for c in curve], [c["lo"] for c in curve], [c["hi"] for c in curve],
                        PALETTE[0], "pass@k 95% CI", "pass")
        traces.append(go.Scatter(x=[c["k"] for c in curve], y=[c["mean"] for c in curve], mode="lines+markers",
                                 name="pass@k (samples)", line=dict(color=PALETTE[0]), marker=dict(size=4)))
    for key, color, name in (("pass@k", PALETTE[0], "pass@k (summary)"), ("cons@k", PALETTE[1], "cons@k")):
        points = {int(k): m for k, m in (ev.summary.get(key) or {}).items() if m.get("mean") is not None}
        if not points or (key == "pass@k" and n):
            continue
        ks = sorted(points)
        ci = [points[k].get("ci95") or [points[k]["mean"]] * 2 for k in ks]
        traces.append(go.Scatter(
            x=ks, y=[points[k]["mean"] for k in ks], mode="markers+lines", name=name,
            line=dict(color=color, dash="dot"), marker=dict(size=9, symbol="diamond"),
            error_y=dict(type="data", symmetric=False, array=[c[1] - points[k]["mean"] for k, c in zip(ks, ci)],
                         arrayminus=[points[k]["mean"] - c[0] for k, c in zip(ks, ci)])))
    if traces:
        title = "pass@k and cons@k over k (95% CI over problems)"
        layout = _layout(title, "fraction of problems", "k", xtype="log" if n >= 16 else "linear")
        if n >= 16:  # label powers of two (and n) rather than plotly's log-axis digits
            layout["xaxis"]["tickvals"] = sorted({2 ** i for i in range(n.bit_length()) if 2 ** i <= n} | {n})
        layout["hovermode"] = "closest"
        charts.append({"id": f"eval{index}-passk", "title": title, "figure": _figure(traces, layout)})
    groups = {}
    for label, want in (("correct", True), ("not correct", False)):
        lengths = [_eval_length(s) for s in ev.samples if _eval_correct(s) == want and _eval_length(s) is not None]
        if lengths:
            groups[label] = lengths
    # Binned here and drawn as bars: the basic plotly.js bundle has no histogram trace.
    edges = length_bins([x for lengths in groups.values() for x in lengths])
    hist = []
    for (label, lengths), color in zip(groups.items(), (PALETTE[2], PALETTE[1])):
        counts = bin_counts(lengths, edges)
        # Centred on the whole token counts each bin holds (a bin of width 1 sits on its count).
        hist.append(go.Bar(x=[(a + b - 1) / 2 for a, b in zip(edges, edges[1:])], y=counts, width=edges[1] - edges[0],
                           name=f"{label} ({len(lengths)})", opacity=0.6, marker=dict(color=color),
                           customdata=[[a, b - 1] for a, b in zip(edges, edges[1:])],
                           hovertemplate="%{customdata[0]}-%{customdata[1]} tokens: %{y}<extra>%{fullData.name}</extra>"))
    if hist:
        title = "Response length (tokens) of correct vs not-correct samples"
        charts.append({"id": f"eval{index}-length", "title": title, "figure": _figure(
            hist, _layout(title, "samples", "tokens", barmode="overlay") | {"hovermode": "closest"})})
    return charts


def length_bins(lengths: list[int], max_bins: int = 30) -> list[int]:
    """Edges [e0, e1, ...] of equal-width whole-token bins covering min..max, at most `max_bins` bins;
    bin i holds lengths in [e_i, e_{i+1})."""
    if not lengths:
        return [0, 1]
    lo, hi = min(lengths), max(lengths)
    width = max(1, math.ceil((hi - lo + 1) / max_bins))
    return list(range(lo, hi + width + 1, width))


def bin_counts(values: list[int], edges: list[int]) -> list[int]:
    counts = [0] * (len(edges) - 1)
    for v in values:
        counts[min((v - edges[0]) // (edges[1] - edges[0]), len(counts) - 1)] += 1
    return counts


def eval_section(ev: EvalData, index: int, charts: list[dict]) -> str:
    s = ev.summary
    head = [("benchmark", s.get("benchmark")), ("model", s.get("model")), ("problems", s.get("problems")),
            ("samples per problem", s.get("n")), ("template", s.get("template")),
            ("temperature / top-p", f"{s.get('temperature', '–')} / {s.get('top_p', '–')}"),
            ("max new tokens", s.get("max_new_tokens"))]
    metrics = [("pass@1", s.get("pass@1"))] + [(f"pass@{k}", m) for k, m in (s.get("pass@k") or {}).items()
                                              if k != "1"]
    metrics += [(f"cons@{k}", m) for k, m in (s.get("cons@k") or {}).items()]
    for name, m in metrics:
        if isinstance(m, dict) and m.get("mean") is not None:
            ci = m.get("ci95")
            head.append((name, f"{m['mean']:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")))
    problems = per_problem(ev.samples)
    rows = "".join(
        f'<tr class="problem" data-source="{html.escape(ev.name)}" data-problem="{html.escape(p["id"])}">'
        f'<td>{html.escape(p["id"])}</td><td>{html.escape(p["gold"])}</td><td>{p["correct"]}/{p["n"]}</td>'
        f'<td>{p["correct"] / p["n"]:.2f}</td><td>{html.escape(str(p["majority"]))}</td>'
        f'<td>{p["truncated"]}</td></tr>' for p in problems)
    table = ('<table class="problems"><thead><tr><th>problem</th><th>gold</th><th>correct</th><th>pass@1</th>'
             f'<th>most common answer</th><th>truncated</th></tr></thead><tbody>{rows}</tbody></table>')
    divs = "".join(f'<div class="chart" id="chart-{c["id"]}"></div>' for c in charts)
    return (f'<section id="eval-{index}" class="eval"><h2>Eval: {html.escape(ev.name)}</h2>'
            + html_table(None, [[k, _fmt(v)] for k, v in head], "headline")
            + f'<div class="grid">{divs}</div>'
            + f'<details open><summary>Per-problem results ({len(problems)} problems; click a row to read '
            f'its samples in the browser below)</summary><div class="scroll">{table}</div></details></section>')


# ---------------------------------------------------------------------------------------------
# Completions for the "aha" browser
# ---------------------------------------------------------------------------------------------


def run_records(run: RunData) -> list[dict]:
    out = []
    for s in run.samples:
        comps = s.get("components") or {}
        text = s.get("completion") or ""
        fmt = comps.get("format")
        out.append({"source": run.name, "step": s.get("step"), "problem": str(s.get("problem_id", "")),
                    "question": s.get("question", ""), "gold": s.get("gold"), "completion": text,
                    "reward": s.get("reward"), "components": comps, "status": s.get("status"),
                    "extracted": s.get("extracted"), "finish": s.get("finish_reason"), "length": s.get("length"),
                    "format_ok": (fmt > 0) if isinstance(fmt, (int, float)) else bool(format_reward(text))})
    return out


def eval_records(ev: EvalData) -> list[dict]:
    # The think/answer format only means something under the R1-Zero template; elsewhere it is unknown.
    tagged = ev.summary.get("template") == "r1_zero"
    out = []
    for s in ev.samples:
        text = _eval_text(s)
        out.append({"source": ev.name, "step": None, "sample": s.get("sample"),
                    "problem": str(s.get("problem_id", "")), "question": s.get("question", ""),
                    "gold": s.get("gold"), "completion": text, "reward": s.get("score"), "components": {},
                    "status": s.get("status") or ("correct" if _eval_correct(s) else "incorrect"),
                    "extracted": s.get("extracted"), "finish": s.get("finish_reason"), "length": _eval_length(s),
                    "format_ok": bool(format_reward(text)) if tagged else None})
    return out


def browser_records(sources: list[RunData | EvalData], budget_chars: int) -> tuple[list[dict], int, list[str]]:
    """All sources' completions, each source thinned to its share of the budget; questions are kept
    once per problem in a side table (the record's "question" becomes an index) to save space."""
    share = budget_chars // max(1, len(sources))
    kept, total = [], 0
    for src in sources:
        records = run_records(src) if isinstance(src, RunData) else eval_records(src)
        total += len(records)
        kept += thin_samples(records, "step" if isinstance(src, RunData) else "problem", share)
    questions: dict[str, int] = {}
    for r in kept:
        r["question"] = questions.setdefault(r.pop("question") or "", len(questions))
    return kept, total, list(questions)


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------


def _script_json(data: Any) -> str:
    """JSON safe inside <script>: no '</script>' or '<!--' can appear, nor the two JS line separators."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False, default=str)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _clean_nan(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_nan(v) for v in value]
    return value


def fill_template(template: str, parts: dict[str, str]) -> str:
    """Replace {{NAME}} markers in one pass, so text inside a part is never itself substituted."""
    return re.sub(r"\{\{([A-Z_]+)\}\}", lambda m: parts[m.group(1)], template)


def plotly_js(bundle: str = "auto") -> str:
    """The plotly.js source to inline: "basic" (error if not fetched), "full", or "auto" (basic when
    present)."""
    if bundle not in PLOTLY_BUNDLES:
        raise UserError(f"plotly bundle {bundle!r}: expected one of {', '.join(PLOTLY_BUNDLES)}")
    if bundle == "basic" or (bundle == "auto" and BASIC_PLOTLY_JS.is_file()):
        if not BASIC_PLOTLY_JS.is_file():
            raise UserError(f"{BASIC_PLOTLY_JS} is missing: `make install` fetches it with npm "
                              "(plotly.js-basic-dist-min); use the full bundle instead")
        return BASIC_PLOTLY_JS.read_text(encoding="utf-8")
    return get_plotlyjs()


def build_page(sources: list[RunData | EvalData], sample_budget_mb: float = DEFAULT_SAMPLE_BUDGET_MB,
               bundle: str = "auto") -> str:
    runs = [s for s in sources if isinstance(s, RunData)]
    evals = [s for s in sources if isinstance(s, EvalData)]
    body, charts, notes = [], [], []
    if runs:
        main, missing = training_charts(runs)
        more = more_charts(runs)
        charts += [c | {"lazy": False} for c in main] + [c | {"lazy": True} for c in more]
        body.append(summary_section(runs))
        divs = "".join(f'<div class="chart" id="chart-{c["id"]}"></div>' for c in main)
        notes = "".join(f"<li>{html.escape(m)}</li>" for m in missing)
        body.append(f'<section id="curves"><h2>Training curves</h2><div class="grid">{divs}</div>'
                    + (f'<p class="hint">Not shown:</p><ul class="hint">{notes}</ul>' if notes else "")
                    + f'<details id="more"><summary>More metrics ({len(more)})</summary><div class="grid small">'
                    + "".join(f'<div class="chart" id="chart-{c["id"]}"></div>' for c in more)
                    + "</div></details></section>")
        body.append(config_section(runs))
    for i, ev in enumerate(evals):
        ev_charts = eval_charts(ev, i)
        charts += [c | {"lazy": False} for c in ev_charts]
        body.append(eval_section(ev, i, ev_charts))
    records, total, questions = browser_records(sources, int(sample_budget_mb * 1e6))
    body.append((ASSETS / "browser.html").read_text(encoding="utf-8"))
    names = ", ".join(s.name for s in sources)
    data = {"charts": charts, "records": records, "questions": questions, "total_records": total,
            "sources": [{"name": s.name, "kind": "run" if isinstance(s, RunData) else "eval"} for s in sources],
            "template": pio.templates["plotly_white"].to_plotly_json()}
    return fill_template((ASSETS / "page.html").read_text(encoding="utf-8"), {
        "TITLE": html.escape(f"r1lab report: {names}"),
        "GENERATED": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "STYLE": (ASSETS / "report.css").read_text(encoding="utf-8"),
        "BODY": "\n".join(body),
        "DATA": _script_json(_clean_nan(data)),
        "PLOTLY_JS": plotly_js(bundle),
        "REPORT_JS": (ASSETS / "report.js").read_text(encoding="utf-8"),
    })


def write_report(run_dirs: list[str | Path], out_path: str | Path,
                 sample_budget_mb: float = DEFAULT_SAMPLE_BUDGET_MB, bundle: str = "auto") -> Path:
    """Write the report of these run and/or eval directories to `out_path`; returns the path."""
    if not run_dirs:
        raise UserError("no run or eval directory given")
    sources = [load_source(p) for p in run_dirs]
    unique_names(sources)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    page = build_page(sources, sample_budget_mb, bundle)  # before opening `out`: a failure loses nothing
    out.write_text(page, encoding="utf-8")
    return out
