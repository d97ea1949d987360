"""The report's figures, as plotly JSON: training panels, the other metrics, eval directories' charts.

Each chart is {"id", "title", "figure", "lazy", "hint"}. A training panel names the metrics.jsonl
keys it draws; a panel no run logs is listed as "not logged" with the reason, and a key that is 0 at
every step of every run is folded into one note instead of drawing a flat line at 0 (as is, among the
other metrics, a key that never changes). Training lines of runs of 40 steps or more get a smoothed
twin (trace meta "smoothed"; the raw line's meta is "raw"), which the page's toggle shows or hides.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import plotly.graph_objects as go
import plotly.io as pio

from r1lab.evaluation.metrics import pass_at_k_curve
from r1lab.tracking.report.sources import (
    PASS1,
    EvalData,
    RunData,
    ema,
    held_out,
    is_number,
    per_problem,
    series,
    smoothing_weight,
)

# Settings a run logs (schedules, counters): drawn as they are, never smoothed.
NOT_SMOOTHED = {"lr", "epoch"}
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22"]
DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]

# Legend names of the metrics.jsonl keys the report knows; label() derives the others.
LABELS = {
    "reward_mean": "reward (mean)", "accuracy": "train accuracy", PASS1: "held-out pass@1",
    "response_length_mean": "mean length", "check_rate": "responses with a check", "aha_rate": "aha rate",
    "accuracy_with_check": "accuracy with a check", "accuracy_without_check": "accuracy without",
    "reflection_words_per_1k": "reflection words per 1k", "language_mixing_rate": "language mixing",
    "kl": "KL", "entropy": "entropy", "loss": "loss", "grad_norm": "gradient norm", "lr": "learning rate",
    "step_time_s": "whole step", "rollout_time_s": "rollout", "update_time_s": "update",
    "sync_time_s": "weight sync", "clip_fraction": "clipped fraction", "ratio_mean": "mean ratio",
    "truncated_rate": "truncated", "unverifiable_rate": "unverifiable", "completion_tokens": "completion tokens",
    "zero_variance_group_rate": "zero-variance groups", "trained_fraction": "trained fraction",
    "trained_tokens": "trained tokens", "train_pair_accuracy": "pair accuracy (training batch)",
    "format_rate": "format-valid rate", "problems": "problems",
}


def label(key: str) -> str:
    """A readable name for a metrics key: LABELS, else the key in words ("eval/x" -> "held-out x",
    "reward/x" -> "x reward", "foo_time_s" -> "foo time (s)")."""
    if key in LABELS:
        return LABELS[key]
    if key.startswith("eval/"):
        return "held-out " + label(key[len("eval/"):])
    if key.startswith("reward/"):
        return key[len("reward/"):].replace("_", " ") + " reward"
    words = key.removesuffix("_s").replace("_", " ")
    return words + " (s)" if key.endswith("_s") else words


@dataclass(frozen=True)
class Panel:
    """A main training chart: training-row keys drawn as lines, eval-row keys as marked lines."""

    id: str
    name: str  # what the panel shows, in the notes' words
    title: str
    ytitle: str
    keys: tuple[str, ...]
    eval_keys: tuple[str, ...] = ()
    band: tuple[str, str] | None = None  # (low, high) keys shaded around the first line
    kind: str = "rl"  # the runs it is about: "rl" (a reward is logged) or "supervised"
    why_missing: str = ""  # when the keys are logged at all
    unit_range: bool = False  # a rate in [0, 1]
    noted_when_absent: bool = True  # listed under "not logged" when no run logs it


# Page order. "reward" also draws every reward/<component>; "heldout" is drawn by heldout_chart.
PANELS = [
    Panel("reward", "reward", "Reward (mean) and its components", "reward", ("reward_mean",)),
    Panel("heldout", "held-out pass@1", "Held-out pass@1 (band: 95% CI; step 0: the base model)", "pass@1", (PASS1,),
          why_missing="with eval_every > 0 (or the demo's base and final evals)", unit_range=True),
    Panel("accuracy", "training accuracy", "Training accuracy (sampled completions verified correct)", "accuracy", ("accuracy",),
          unit_range=True),
    Panel("length", "response length", "Mean response length (tokens; band: 10th to 90th percentile)", "tokens",
          ("response_length_mean",), ("eval/response_length_mean",),
          band=("response_length_p10", "response_length_p90")),
    Panel("selfcheck", "self-check and aha rates", "Self-checks: responses with a check, and aha rate", "share of responses",
          ("check_rate", "aha_rate"), ("eval/check_rate", "eval/aha_rate"),
          unit_range=True),
    Panel("checkpays", "accuracy with and without a check",
          "Does checking pay? Training accuracy of responses with a check and of those without", "accuracy",
          ("accuracy_with_check", "accuracy_without_check"), unit_range=True, noted_when_absent=False),
    Panel("reflection", "reflection words", "Reflection words per 1,000 words (wait, check, verify, ...)", "per 1k words",
          ("reflection_words_per_1k",), ("eval/reflection_words_per_1k",)),
    Panel("language", "language mixing", "Language-mixing rate", "rate", ("language_mixing_rate",), ("eval/language_mixing_rate",),
          unit_range=True),
    Panel("kl", "KL to the reference", "KL to the reference policy", "KL", ("kl",), why_missing="only when beta > 0"),
    Panel("entropy", "entropy", "Policy entropy (nats per token)", "entropy", ("entropy",)),
    Panel("time", "step time", "Step time: whole step, rollout, update", "seconds",
          ("step_time_s", "rollout_time_s", "update_time_s")),
    Panel("loss", "loss", "Training loss (mean over the trained tokens of a batch)", "loss", ("loss",), kind="supervised"),
    Panel("pairs", "reward-model pair accuracy", "Reward model: pair accuracy on the training batch", "accuracy", ("train_pair_accuracy",),
          kind="supervised", unit_range=True, noted_when_absent=False),
]


# ---------------------------------------------------------------------------------------------
# Plotly pieces
# ---------------------------------------------------------------------------------------------


def layout(title: str, ytitle: str, xtitle: str = "step", height: int = 340, legend: bool = True,
           **extra) -> dict:
    """A chart of fixed height. Its legend sits under the x axis inside the figure (plotly does not
    grow a figure for a legend below it, so the bottom margin holds it); a chart of one line has none."""
    return dict(title=dict(text=title, font=dict(size=14)), xaxis=dict(title=dict(text=xtitle, standoff=4)),
                yaxis=dict(title=ytitle), height=height if legend else height - 40,
                margin=dict(l=55, r=15, t=40, b=88 if legend else 48), hovermode="x unified",
                showlegend=legend, legend=dict(orientation="h", x=0, y=-0.22, yanchor="top")) | extra


def legend_needed(traces: list) -> bool:
    """More than one named line (a smoothed twin and a band carry their line's name)."""
    return len({t.name for t in traces if t.showlegend is not False and t.name}) > 1


def figure(traces: list, fig_layout: dict) -> dict:
    """Plotly JSON without the per-figure template: the page applies one shared template."""
    fig = json.loads(pio.to_json(go.Figure(data=traces, layout=fig_layout), validate=True))
    fig["layout"].pop("template", None)
    return fig


def band(x: list, lo: list, hi: list, color: str, name: str, group: str) -> list[go.Scatter]:
    """A shaded interval: the lower edge, then the upper edge filled down to it."""
    rgba = "rgba({},{},{},0.18)".format(*(int(color[i:i + 2], 16) for i in (1, 3, 5)))
    common = dict(x=x, mode="lines", line=dict(width=0), legendgroup=group, showlegend=False, hoverinfo="skip")
    return [go.Scatter(y=lo, **common), go.Scatter(y=hi, fill="tonexty", fillcolor=rgba, name=name, **common)]


def step_dtick(runs: list[RunData]) -> int | None:
    """Whole-step ticks for short runs (plotly would label step 1.5); plotly's choice otherwise."""
    last = max((r["step"] for run in runs for r in run.train), default=0)
    return 1 if last <= 12 else None


def name_in(runs: list[RunData], run: RunData, text: str) -> str:
    return text if len(runs) == 1 else f"{run.name}: {text}"


def line_traces(runs: list[RunData], key: str, j: int) -> list[go.Scatter]:
    """`key` of each run's training rows as a line (the j-th line of its panel), with a smoothed twin
    when the run is long enough to need one."""
    traces = []
    for i, run in enumerate(runs):
        x, y = series(run.train, key)
        if not x:
            continue
        name, group = name_in(runs, run, label(key)), f"{run.name}:{key}"
        style = dict(color=PALETTE[i % len(PALETTE)], dash=DASHES[j % len(DASHES)])
        weight = 0.0 if key in NOT_SMOOTHED else smoothing_weight(len(y))
        raw = go.Scatter(x=x, y=y, mode="lines", name=name, legendgroup=group, line=style)
        if weight:
            raw.meta = {"smooth": "raw", "name": name}
            traces.append(raw)
            traces.append(go.Scatter(x=x, y=ema(y, weight), mode="lines", name=name, legendgroup=group,
                                     line=style | {"width": 2.5}, meta={"smooth": "smoothed", "name": name}))
        else:
            traces.append(raw)
    return traces


def eval_traces(runs: list[RunData], key: str, j: int) -> list[go.Scatter]:
    """`key` of each run's held-out eval rows, as marked points joined by a thin line."""
    traces = []
    for i, run in enumerate(runs):
        x, y = series(run.evals, key)
        if x:
            traces.append(go.Scatter(x=x, y=y, mode="lines+markers", name=name_in(runs, run, label(key)),
                                     legendgroup=f"{run.name}:{key}", marker=dict(size=7, symbol="diamond"),
                                     line=dict(color=PALETTE[i % len(PALETTE)], dash=DASHES[(j + 1) % len(DASHES)],
                                               width=1)))
    return traces


def band_traces(runs: list[RunData], lo_key: str, hi_key: str) -> list[go.Scatter]:
    traces = []
    for i, run in enumerate(runs):
        rows = [r for r in run.train if is_number(r.get(lo_key)) and is_number(r.get(hi_key))]
        if rows:
            traces += band([r["step"] for r in rows], [r[lo_key] for r in rows], [r[hi_key] for r in rows],
                           PALETTE[i % len(PALETTE)], "p10-p90", f"{run.name}:band")
    return traces


# ---------------------------------------------------------------------------------------------
# Training panels
# ---------------------------------------------------------------------------------------------


def always_zero(runs: list[RunData], key: str, rows_of: str = "train") -> bool:
    """Logged by some run, and 0 at every step of every run that logs it."""
    values = [v for run in runs for v in series(getattr(run, rows_of), key)[1]]
    return bool(values) and all(v == 0 for v in values)


def logged(runs: list[RunData], key: str, rows_of: str = "train") -> bool:
    return any(series(getattr(run, rows_of), key)[0] for run in runs)


def heldout_chart(runs: list[RunData]) -> list[go.Scatter]:
    """Held-out pass@1 by step with its CI band; the base model (step 0) and the final model are
    labelled on their points."""
    traces: list[go.Scatter] = []
    for i, run in enumerate(runs):
        points = held_out(run)
        if not points:
            continue
        color = PALETTE[i % len(PALETTE)]
        banded = [p for p in points if p.ci]
        if banded:
            traces += band([p.step for p in banded], [p.ci[0] for p in banded], [p.ci[1] for p in banded],
                           color, "95% CI", f"{run.name}:heldout")
        hover = [f"{p.pass1:.3f}" + (f" [{p.ci[0]:.3f}, {p.ci[1]:.3f}]" if p.ci else "")
                 + (f" ({p.label} model)" if p.label else "") for p in points]
        traces.append(go.Scatter(
            x=[p.step for p in points], y=[p.pass1 for p in points], mode="lines+markers+text",
            text=[p.label for p in points], textposition="top center", name=name_in(runs, run, label(PASS1)),
            legendgroup=f"{run.name}:heldout", line=dict(color=color), marker=dict(size=7),
            customdata=hover, hovertemplate="%{customdata}"))
    return traces


def panel_traces(runs: list[RunData], panel: Panel) -> tuple[list, list[str], list[str]]:
    """(traces, keys drawn, keys folded as always 0) of one panel."""
    if panel.id == "heldout":
        traces = heldout_chart(runs)
        return traces, [PASS1] if traces else [], []
    keys = list(panel.keys)
    if panel.id == "reward":
        keys += sorted({k for run in runs for r in run.train for k in r if k.startswith("reward/")})
    drawn, zero, traces = [], [], []
    for j, key in enumerate(keys):
        if always_zero(runs, key):
            zero.append(key)
        elif logged(runs, key):
            drawn.append(key)
            traces += line_traces(runs, key, j)
    for j, key in enumerate(panel.eval_keys):
        if always_zero(runs, key, "evals"):
            zero.append(key)
        elif logged(runs, key, "evals"):
            drawn.append(key)
            traces += eval_traces(runs, key, j)
    if panel.band and drawn:
        traces = band_traces(runs, *panel.band) + traces
    return traces, drawn, zero


@dataclass
class TrainingCharts:
    main: list[dict]  # charts drawn as the page opens
    more: list[dict]  # one small chart per other logged key, drawn when "More metrics" opens
    missing: list[str]  # "name (keys)[: when they are logged]" of panels no run logs
    zero: list[str]  # labels of keys that are 0 at every logged step (not drawn)
    constant: list[str]  # "label = value" of other keys that never change (not drawn)


def training_charts(runs: list[RunData]) -> TrainingCharts:
    kinds = {run.kind for run in runs}
    dtick = step_dtick(runs)
    out = TrainingCharts([], [], [], [], [])
    for panel in PANELS:
        if panel.kind not in kinds:
            continue
        traces, drawn, zero = panel_traces(runs, panel)
        out.zero += [label(k) for k in zero]
        if not drawn:
            if not zero and panel.noted_when_absent:
                why = f": logged {panel.why_missing}" if panel.why_missing else ""
                out.missing.append(f"{panel.name} ({', '.join(panel.keys)}){why}")
            continue
        fig_layout = layout(panel.title, panel.ytitle, legend=legend_needed(traces))
        fig_layout["xaxis"]["dtick"] = dtick
        if panel.unit_range:
            fig_layout["yaxis"]["range"] = [-0.02, 1.05]
        out.main.append({"id": panel.id, "title": panel.title, "figure": figure(traces, fig_layout), "lazy": False})
    shown = {k for p in PANELS if p.kind in kinds for k in (*p.keys, *p.eval_keys, *(p.band or ()))}
    add_more_charts(runs, shown, out)
    return out


def add_more_charts(runs: list[RunData], shown: set[str], out: TrainingCharts) -> None:
    """One small chart per other numeric key (grad_norm, clip_fraction, lr, truncated_rate, held-out
    format rate, ...): whatever a run logs shows up without the report knowing it in advance."""
    keys: dict[str, str] = {}  # key -> "train" or "evals", in first-seen order
    for run in runs:
        for rows_of in ("train", "evals"):
            for r in getattr(run, rows_of):
                for k, v in r.items():
                    if k not in shown and k != "step" and not k.startswith("reward/") and is_number(v):
                        keys.setdefault(k, rows_of)
    dtick = step_dtick(runs)
    for key, rows_of in keys.items():
        values = {v for run in runs for v in series(getattr(run, rows_of), key)[1]}
        if values == {0.0}:
            out.zero.append(label(key))
            continue
        if len(values) == 1:
            out.constant.append(f"{label(key)} = {values.pop():g}")
            continue
        traces = line_traces(runs, key, 0) if rows_of == "train" else eval_traces(runs, key, 0)
        slug = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")
        title = f"{label(key)} ({key})" if label(key) != key else key
        fig_layout = layout(title, "", height=300, legend=legend_needed(traces))
        fig_layout["xaxis"]["dtick"] = dtick
        out.more.append({"id": f"more-{slug}", "title": title, "figure": figure(traces, fig_layout), "lazy": True})


# ---------------------------------------------------------------------------------------------
# Eval directories
# ---------------------------------------------------------------------------------------------

PASS_CONS_HINT = ("pass@k: the chance that at least one of k samples is correct (unbiased estimate from the n "
                  "samples); cons@k: the answer most of k samples give is correct (majority vote); pass@1 is "
                  "the mean accuracy of a single sample.")


def curve_ks(n: int) -> list[int]:
    """Every k up to 16, then about 12 points per decade (log-spaced), always ending at n."""
    ks = set(range(1, min(n, 16) + 1))
    k = 16.0
    while k < n:
        ks.add(int(round(k)))
        k *= 10 ** (1 / 12)
    ks.add(n)
    return sorted(ks)


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


def k_axis(n: int) -> dict:
    """Whole-number k ticks: every k on a linear axis up to 16 samples, powers of two (and n) on a
    log axis above."""
    if n < 16:
        return dict(title="k (samples per problem)", type="linear", dtick=1, tickformat="d")
    ticks = sorted({2 ** i for i in range(n.bit_length()) if 2 ** i <= n} | {n})
    return dict(title="k (samples per problem)", type="log", tickvals=ticks, ticktext=[str(t) for t in ticks])


def passk_chart(ev: EvalData, index: int) -> dict | None:
    """pass@k over k with its band (from the samples) and cons@k points (from summary.json)."""
    problems = per_problem(ev.samples)
    n = min((p["n"] for p in problems), default=0)
    traces: list = []
    if n:
        curve = pass_at_k_curve([min(p["correct"], n) for p in problems], n, curve_ks(n))
        traces += band([c["k"] for c in curve], [c["lo"] for c in curve], [c["hi"] for c in curve],
                       PALETTE[0], "pass@k 95% CI", "pass")
        traces.append(go.Scatter(x=[c["k"] for c in curve], y=[c["mean"] for c in curve], mode="lines+markers",
                                 name="pass@k", line=dict(color=PALETTE[0]), marker=dict(size=4)))
    for key, color in (("pass@k", PALETTE[0]), ("cons@k", PALETTE[1])):
        points = {int(k): m for k, m in (ev.summary.get(key) or {}).items() if is_number(m.get("mean"))}
        if not points or (key == "pass@k" and n):  # the samples' curve already draws pass@k
            continue
        ks = sorted(points)
        ci = [points[k].get("ci95") or [points[k]["mean"]] * 2 for k in ks]
        traces.append(go.Scatter(
            x=ks, y=[points[k]["mean"] for k in ks], mode="markers+lines", name=key,
            line=dict(color=color, dash="dot"), marker=dict(size=9, symbol="diamond"),
            error_y=dict(type="data", symmetric=False, array=[c[1] - points[k]["mean"] for k, c in zip(ks, ci)],
                         arrayminus=[points[k]["mean"] - c[0] for k, c in zip(ks, ci)])))
    if not traces:
        return None
    n = n or max((int(k) for k in ev.summary.get("cons@k") or {}), default=1)
    title = "pass@k and cons@k over k (95% CI over problems)"
    fig_layout = layout(title, "fraction of problems", hovermode="closest")
    fig_layout["xaxis"] = k_axis(n)
    fig_layout["yaxis"]["range"] = [-0.02, 1.05]
    return {"id": f"eval{index}-passk", "title": title, "figure": figure(traces, fig_layout), "lazy": False,
            "hint": PASS_CONS_HINT}


def length_chart(ev: EvalData, index: int) -> dict | None:
    """The length histogram of correct vs not-correct samples, binned here and drawn as bars (the
    basic plotly.js bundle has no histogram trace)."""
    groups = {}
    for name, want in (("correct", True), ("not correct", False)):
        lengths = [s["tokens"] for s in ev.samples if bool(s.get("correct")) == want and is_number(s.get("tokens"))]
        if lengths:
            groups[name] = lengths
    if not groups:
        return None
    edges = length_bins([x for lengths in groups.values() for x in lengths])
    bars = []
    for (name, lengths), color in zip(groups.items(), (PALETTE[2], PALETTE[1])):
        # Centred on the whole token counts each bin holds (a bin of width 1 sits on its count).
        bars.append(go.Bar(x=[(a + b - 1) / 2 for a, b in zip(edges, edges[1:])], y=bin_counts(lengths, edges),
                           width=edges[1] - edges[0], name=f"{name} ({len(lengths)})", opacity=0.6,
                           marker=dict(color=color), customdata=[[a, b - 1] for a, b in zip(edges, edges[1:])],
                           hovertemplate="%{customdata[0]}-%{customdata[1]} tokens: %{y}<extra>%{fullData.name}</extra>"))
    title = "Response length (tokens) of correct vs not-correct samples"
    return {"id": f"eval{index}-length", "title": title, "lazy": False,
            "figure": figure(bars, layout(title, "samples", "tokens", barmode="overlay", hovermode="closest"))}


def eval_charts(ev: EvalData, index: int) -> list[dict]:
    return [c for c in (passk_chart(ev, index), length_chart(ev, index)) if c]
