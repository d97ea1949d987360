"""Report open time: the same run's report with plotly.js's basic bundle next to the plotly package's
full bundle, opened in headless Chromium side by side (contenders alternate page by page).

Issue 8 asks that the report of a 100-step run opens in under 2 s and stays under 10 MB. "Open" here
is what report.js records in window.r1labReport: `contentMs` (tables and the completions browser
painted) and `readyMs` (plotly.js run and every main chart drawn), both in ms since navigation began.

    .venv/bin/python benchmarks/report_open.py [--run RUN_DIR] [--steps 100] [--rounds 7]

Without --run it trains a 100-step run of a small random model on the demo task first (about a
minute); with --run it uses that directory (for example a `r1lab demo` output).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import load_average, print_table  # noqa: E402

from r1lab.tracking.report import BASIC_PLOTLY_JS, write_report  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
COLUMNS = [("bundle", "plotly.js bundle"), ("size_mb", "report MB"), ("content_ms", "content painted, median ms"),
           ("plotly_ms", "plotly.js run, median ms"), ("ready_ms", "charts drawn, median ms"),
           ("min_ready_ms", "charts drawn, min ms"), ("ratio", "x full (ready)")]


def train_run(out: Path, steps: int) -> Path:
    """A real run directory: `steps` GRPO steps of a small random model on the demo task."""
    from r1lab.config import ZeroConfig
    from r1lab.models.random_init import build_random_model
    from r1lab.stages.zero import run as run_zero

    model = build_random_model(out / "model")
    cfg = ZeroConfig(model=str(model), task="demo", steps=steps, prompts_per_step=2, samples_per_prompt=4,
                     max_new_tokens=32, eval_every=max(1, steps // 10), eval_problems=8, save_every=0,
                     train_problems=200, report_to=[], seed=0)
    run_zero(cfg, out / "run", progress=False)
    return out / "run"


def open_times(pages: dict[str, Path], rounds: int) -> dict[str, list[dict]]:
    """window.r1labReport of each page, opened `rounds` times in alternation in one Chromium."""
    from playwright.sync_api import sync_playwright

    times: dict[str, list[dict]] = {name: [] for name in pages}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for i in range(rounds + 1):  # round 0 warms Chromium's caches and is not counted
            for name, path in pages.items():
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(path.as_uri())
                page.wait_for_function("window.r1labReport && window.r1labReport.ready", timeout=120_000)
                if i:
                    times[name].append(page.evaluate("window.r1labReport"))
                page.close()
        browser.close()
    return times


def run(run_dir: Path | None, steps: int, rounds: int, workdir: Path) -> list[dict]:
    if not Path(CHROMIUM).exists():
        print(f"skipping the report benchmark: {CHROMIUM} not found (make install adds chromium)")
        return []
    if run_dir is None:
        print(f"report benchmark: training a {steps}-step run of a random model first")
        run_dir = train_run(workdir / "report-run", steps)
    bundles = ["basic", "full"] if BASIC_PLOTLY_JS.is_file() else ["full"]
    if len(bundles) == 1:
        print(f"{BASIC_PLOTLY_JS} not fetched (make install, needs npm): measuring the full bundle only")
    pages = {b: write_report([run_dir], workdir / f"report-{b}.html", bundle=b) for b in bundles}
    print(f"report benchmark: {rounds} rounds, load average {load_average()}")
    times = open_times(pages, rounds)
    full_ready = statistics.median(t["readyMs"] for t in times["full"])
    rows = []
    for name, path in pages.items():
        ready = [t["readyMs"] for t in times[name]]
        rows.append({"bundle": name, "size_mb": f"{path.stat().st_size / 1e6:.2f}",
                     "content_ms": f"{statistics.median(t['contentMs'] for t in times[name]):.0f}",
                     "plotly_ms": f"{statistics.median(t['plotlyMs'] for t in times[name]):.0f}",
                     "ready_ms": f"{statistics.median(ready):.0f}", "min_ready_ms": f"{min(ready):.0f}",
                     "ratio": f"{full_ready / statistics.median(ready):.2f}x"})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", type=Path, help="an existing run directory (default: train a fresh one)")
    ap.add_argument("--steps", type=int, default=100, help="steps of the fresh run")
    ap.add_argument("--rounds", type=int, default=7, help="measured opens of each page")
    args = ap.parse_args()
    rows = run(args.run, args.steps, args.rounds, Path(tempfile.mkdtemp(prefix="r1lab-report-bench-")))
    print()
    print_table(rows, COLUMNS)


if __name__ == "__main__":
    main()
