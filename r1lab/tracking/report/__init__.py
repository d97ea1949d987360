"""`write_report`: one self-contained HTML page for training runs and `r1lab eval` output directories.

It shows the curves people judge an R1-style run by (reward and its components, held-out pass@1 with
its 95% interval from the base model on, training accuracy, response length with a percentile band,
self-check and aha rates, reflection words, language mixing, KL, entropy, step time; the loss of
supervised runs), runs overlaid with a diff of their configs, a summary table, the first aha moments,
a browser over the sampled completions, and for eval directories the pass@k and cons@k curves,
per-problem results and the length of correct vs incorrect answers.

sources.py reads the directories, charts.py makes the figures, page.py writes the HTML.
"""

from __future__ import annotations

from pathlib import Path

from r1lab.errors import UserError
from r1lab.tracking.report.page import BASIC_PLOTLY_JS, DEFAULT_SAMPLE_BUDGET_MB, build_page
from r1lab.tracking.report.sources import load_source, unique_names

__all__ = ["BASIC_PLOTLY_JS", "DEFAULT_SAMPLE_BUDGET_MB", "write_report"]


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
