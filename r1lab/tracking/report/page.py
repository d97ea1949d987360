"""The report's HTML: one self-contained page that opens offline in any browser.

Python decides what is shown (tables as HTML here, figures as plotly JSON in charts.py, completions as
records); report_assets/report.js draws the figures as the page loads and runs the completions
browser. plotly.js is inlined: its "basic" bundle (scatter and bar, 1.1 MB) when `make install` has
fetched it from npm, else the full bundle the plotly Python package ships (4.8 MB), which draws the
same page but opens more slowly (benchmarks/report_open.py).

Sections, top to bottom: summary table, training curves (with notes on what is not drawn and why),
the first aha moments, config (or config diff), one section per eval directory, the completions
browser.
"""

from __future__ import annotations

import html
import json
import math
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import plotly.io as pio
import yaml
from plotly.offline import get_plotlyjs

from r1lab.errors import UserError
from r1lab.rewards import format_reward
from r1lab.tracking.report.charts import TrainingCharts, eval_charts, training_charts
from r1lab.tracking.report.sources import (
    ABSENT,
    EvalData,
    RunData,
    Source,
    aha_moments,
    config_diff,
    flatten,
    held_out,
    marks_aha,
    per_problem,
    series,
    tenth_mean,
    what_was_trained,
)

ASSETS = Path(__file__).resolve().parent.parent / "report_assets"
DEFAULT_SAMPLE_BUDGET_MB = 4.0  # completions text embedded per report
# plotly.js-basic-dist-min from npm, fetched by `make install` (the Makefile pins its version and
# sha256); every trace the report draws is a scatter or a bar, both in the basic bundle.
BASIC_PLOTLY_JS = ASSETS / "vendor" / "plotly-basic.min.js"
PLOTLY_BUNDLES = ("auto", "basic", "full")


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def html_table(columns: list[str] | None, rows: list[list[str]], cls: str = "") -> str:
    """An escaped HTML table; no header row when `columns` is None."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns or [])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    thead = f"<thead><tr>{head}</tr></thead>" if columns else ""
    return f'<table class="{cls}">{thead}<tbody>{body}</tbody></table>'


# ---------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------


def held_out_text(run: RunData) -> str:
    """"0.570 → 0.848 [0.79, 0.90] (step 0 → 20)", or the last eval alone when there is no base."""
    points = held_out(run)
    if not points:
        return "–"
    last = points[-1]
    ci = f" [{last.ci[0]:.3f}, {last.ci[1]:.3f}]" if last.ci else ""
    if len(points) > 1 and points[0].step == 0:
        return f"{points[0].pass1:.3f} → {last.pass1:.3f}{ci} (step 0 → {last.step})"
    return f"{last.pass1:.3f}{ci} @ step {last.step}"


def first_to_last(rows: list[dict], key: str, digits: int) -> str | None:
    first, last = tenth_mean(rows, key, last=False), tenth_mean(rows, key)
    return None if first is None else f"{fmt(first, digits)} → {fmt(last, digits)}"


def summary_row(run: RunData) -> dict[str, str | None]:
    """One run's headline numbers; "final" values are means over the last tenth of the steps and
    "a → b" compares the first and last tenth. None or "–": not logged by this run (a column no run
    has is left out)."""
    _, times = series(run.train, "step_time_s")
    wall = sum(times) if times else run.summary.get("wall_s")
    row: dict[str, str | None] = {"run": run.name, **{k: str(v) for k, v in (
        ("model", run.config.get("model")), ("task", run.config.get("task"))) if v}}
    row["steps"] = str(run.train[-1]["step"]) if run.train else "0"
    if run.kind == "rl":
        row |= {
            "held-out pass@1": held_out_text(run),
            "reward (final)": fmt(tenth_mean(run.train, "reward_mean")),
            "train accuracy (final)": fmt(tenth_mean(run.train, "accuracy")),
            "mean length, first → last tenth": first_to_last(run.train, "response_length_mean", 1),
            "check rate, first → last tenth": first_to_last(run.train, "check_rate", 3),
            "aha rate, first → last tenth": first_to_last(run.train, "aha_rate", 3),
            "reflection words /1k (final)": fmt(tenth_mean(run.train, "reflection_words_per_1k"), 2),
            "truncated (final)": fmt(tenth_mean(run.train, "truncated_rate")),
        }
    else:
        row |= {"loss, first → last tenth": first_to_last(run.train, "loss", 3),
                "epochs": fmt(run.train[-1].get("epoch")) if run.train else None,
                "examples used": fmt(run.summary.get("used"))}
    row |= {"train time": duration(wall) if wall else None,
            "sampled completions": str(len(run.samples)) if run.samples or run.kind == "rl" else None}
    return row


def summary_section(runs: list[RunData]) -> str:
    rows = [summary_row(r) for r in runs]
    columns = list(dict.fromkeys(k for row in rows for k, v in row.items() if v not in (None, "–")))
    table = html_table(columns, [[row.get(c) or "–" for c in columns] for row in rows], "summary")
    return ('<section id="summary"><h2>Summary</h2>' + table +
            '<p class="hint">final = mean over the last tenth of the logged steps; a → b compares the first '
            'and last tenth</p></section>')


# ---------------------------------------------------------------------------------------------
# Training curves, aha moments, config
# ---------------------------------------------------------------------------------------------


def chart_div(chart: dict) -> str:
    hint = f'<figcaption class="hint">{html.escape(chart["hint"])}</figcaption>' if chart.get("hint") else ""
    return f'<figure class="chart-box"><div class="chart" id="chart-{chart["id"]}"></div>{hint}</figure>'


def curves_section(tc: TrainingCharts) -> str:
    notes = ["Not logged by these runs: " + html.escape("; ".join(tc.missing)) + "."] if tc.missing else []
    if tc.zero:
        notes.append("Always 0 at every logged step, so not drawn: " + html.escape(", ".join(tc.zero)) + ".")
    if tc.constant:
        notes.append("Constant, so not drawn: " + html.escape(", ".join(tc.constant)) + ".")
    note_html = f'<ul class="hint notes">{"".join(f"<li>{n}</li>" for n in notes)}</ul>' if notes else ""
    more = ""
    if tc.more:
        more = (f'<details id="more"><summary>More metrics ({len(tc.more)})</summary><div class="grid small">'
                + "".join(chart_div(c) for c in tc.more) + "</div></details>")
    return ('<section id="curves"><h2>Training curves</h2>'
            f'<div class="grid">{"".join(chart_div(c) for c in tc.main)}</div>{note_html}{more}</section>')


def aha_section(runs: list[RunData], limit: int) -> str:
    """The first aha moments of each run (cards drawn by report.js from the data's "aha" records), or
    why there are none; nothing for runs whose samples carry no aha mark."""
    marked = [r for r in runs if marks_aha(r)]
    if not marked:
        return ""
    found = {r.name: len(aha_moments(r, limit)) for r in marked}
    lines = [f"{html.escape(name)}: no aha moment among the {len(run.samples)} sampled completions."
             for name, run in ((r.name, r) for r in marked) if not found[name]]
    intro = (f"The first {limit} sampled completions per run in which a self-check found an intermediate "
             "result wrong and the response corrected it and ended correct, in step order.")
    return ('<section id="aha"><h2>First aha moments</h2>'
            f'<p class="hint">{intro}</p>'
            + "".join(f'<p class="hint">{line}</p>' for line in lines)
            + '<div id="aha-cards"></div></section>')


def config_value(value: Any) -> str:
    """As config.yaml writes it (1.0e-05, true, null, [tensorboard])."""
    if value is ABSENT:
        return ABSENT
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()


def config_section(runs: list[RunData]) -> str:
    configs = {r.name: r.config for r in runs}
    if len(runs) == 1:
        flat = flatten(runs[0].config)
        table = html_table(["key", "value"], [[k, config_value(v)] for k, v in flat.items()], "config")
        return (f'<section id="config"><h2>Config</h2><details><summary>{len(flat)} keys of '
                f'{html.escape(runs[0].name)}/config.yaml</summary>{table}</details></section>')
    diff = config_diff(configs)
    if not diff:
        return '<section id="config"><h2>Config diff</h2><p>The runs have identical configs.</p></section>'
    table = html_table(["key", *configs], [[k, *(config_value(v) for v in vs)] for k, vs in diff], "config")
    differ = "1 key differs" if len(diff) == 1 else f"{len(diff)} keys differ"
    return f'<section id="config"><h2>Config diff</h2><p>{differ}.</p>{table}</section>'


# ---------------------------------------------------------------------------------------------
# Eval directories
# ---------------------------------------------------------------------------------------------


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
    return (f'<section id="eval-{index}" class="eval"><h2>Eval: {html.escape(ev.name)}</h2>'
            + html_table(None, [[k, fmt(v)] for k, v in head], "headline")
            + f'<div class="grid">{"".join(chart_div(c) for c in charts)}</div>'
            + f'<details open><summary>Per-problem results ({len(problems)} problems; click a row to read '
            f'its samples in the browser below)</summary><div class="scroll">{table}</div></details></section>')


# ---------------------------------------------------------------------------------------------
# Completions for the browser
# ---------------------------------------------------------------------------------------------


def record(src: Source, s: dict, format_ok: bool | None) -> dict:
    """One samples.jsonl row (types.sample_record) as the browser shows it."""
    return {"source": src.name, "step": s.get("step"), "sample": s.get("sample"),
            "problem": str(s.get("problem_id", "")), "question": s.get("question", ""), "gold": s.get("gold"),
            "response": s.get("response") or "", "reward": s.get("reward", s.get("score")),
            "components": s.get("components") or {}, "status": s.get("status"), "extracted": s.get("extracted"),
            "finish": s.get("finish_reason"), "tokens": s.get("tokens"), "format_ok": format_ok,
            "aha": s.get("aha")}


def run_record(run: RunData, s: dict) -> dict:
    fmt_reward = (s.get("components") or {}).get("format")
    ok = fmt_reward > 0 if isinstance(fmt_reward, (int, float)) else bool(format_reward(s.get("response") or ""))
    return record(run, s, ok)


def eval_record(ev: EvalData, s: dict) -> dict:
    # The think/answer format only means something under the R1-Zero template; elsewhere it is unknown.
    tagged = ev.summary.get("template") == "r1_zero"
    return record(ev, s, bool(format_reward(s.get("response") or "")) if tagged else None)


def thin_samples(records: list[dict], group_key: str, budget_chars: int) -> list[dict]:
    """Keep the records within a text budget, evenly across groups (steps, or problems): first the
    same number from each group (the largest that fits), then, if one per group is still too much,
    every j-th group. Order is kept."""
    def size(rows: list[dict]) -> int:
        return sum(len(r.get("response") or "") + 200 for r in rows)  # 200: the other fields

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


def browser_records(sources: list[Source], budget_chars: int, aha_limit: int) -> dict:
    """All sources' completions, each source thinned to its share of the budget, and each run's first
    aha moments; questions are kept once in a side table (a record's "question" becomes an index)."""
    share = budget_chars // max(1, len(sources))
    kept, aha, total = [], [], 0
    for src in sources:
        if isinstance(src, RunData):
            records = [run_record(src, s) for s in src.samples]
            aha += [run_record(src, s) for s in aha_moments(src, aha_limit)]
        else:
            records = [eval_record(src, s) for s in src.samples]
        total += len(records)
        kept += thin_samples(records, "step" if isinstance(src, RunData) else "problem", share)
    questions: dict[str, int] = {}
    for r in kept + aha:
        r["question"] = questions.setdefault(r.pop("question") or "", len(questions))
    return {"records": kept, "aha": aha, "total_records": total, "questions": list(questions)}


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------


def script_json(data: Any) -> str:
    """JSON safe inside <script>: no '</script>' or '<!--' can appear, nor the two JS line separators."""
    text = json.dumps(clean_nan(data), separators=(",", ":"), allow_nan=False, default=str)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def clean_nan(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: clean_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_nan(v) for v in value]
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


def build_page(sources: list[Source], sample_budget_mb: float = DEFAULT_SAMPLE_BUDGET_MB,
               bundle: str = "auto", aha_limit: int = 5) -> str:
    runs = [s for s in sources if isinstance(s, RunData)]
    evals = [s for s in sources if isinstance(s, EvalData)]
    body, charts = [], []
    if runs:
        tc = training_charts(runs)
        charts += tc.main + tc.more
        body += [summary_section(runs), curves_section(tc), aha_section(runs, aha_limit), config_section(runs)]
    for i, ev in enumerate(evals):
        ev_charts = eval_charts(ev, i)
        charts += ev_charts
        body.append(eval_section(ev, i, ev_charts))
    browser = browser_records(sources, int(sample_budget_mb * 1e6), aha_limit)
    if browser["total_records"]:
        body.append((ASSETS / "browser.html").read_text(encoding="utf-8"))
    smoothable = any(isinstance(t.get("meta"), dict) for c in charts for t in c["figure"]["data"])
    data = {"charts": charts, **browser,
            "sources": [{"name": s.name, "kind": "run" if isinstance(s, RunData) else "eval"} for s in sources],
            "smoothable": smoothable, "template": pio.templates["plotly_white"].to_plotly_json()}
    subtitle = [f"{r.name}: {what_was_trained(r)}" for r in runs if what_was_trained(r)]
    subtitle += [f"{e.name}: model {e.summary.get('model', '?')} · benchmark {e.summary.get('benchmark', '?')}"
                 for e in evals]
    return fill_template((ASSETS / "page.html").read_text(encoding="utf-8"), {
        "TITLE": html.escape("r1lab report: " + ", ".join(s.name for s in sources)),
        "SUBTITLE": html.escape(" | ".join(subtitle)),
        "GENERATED": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "STYLE": (ASSETS / "report.css").read_text(encoding="utf-8"),
        "BODY": "\n".join(b for b in body if b),
        "DATA": script_json(data),
        "PLOTLY_JS": plotly_js(bundle),
        "REPORT_JS": (ASSETS / "report.js").read_text(encoding="utf-8"),
    })
