"""The report of a real tiny run, opened in headless Chromium (Debian's chromium, driven by playwright):
the charts render with no console errors and no network request, the search finds a known completion,
the filters count what samples.jsonl says, and a screenshot is saved.

`make install` installs chromium where apt-get is available; the test skips only when it is absent.
Set R1LAB_SCREENSHOT=/path/shot.png to keep the screenshot.
"""

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from r1lab.config import ZeroConfig
from r1lab.models.random_init import build_random_model
from r1lab.stages.zero import run as run_zero
from r1lab.tracking.report import BASIC_PLOTLY_JS, write_report

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="chromium is not installed (make install adds it: apt-get install chromium)")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency (pip install -e .[dev])")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("report-run")
    model = build_random_model(root / "model")
    cfg = ZeroConfig(model=str(model), task="demo", steps=3, prompts_per_step=2, samples_per_prompt=2,
                     max_new_tokens=16, eval_every=0, save_every=0, train_problems=20, eval_problems=2,
                     report_to=[], seed=5)
    run_zero(cfg, root / "run", progress=False)
    samples = [json.loads(line) for line in (root / "run" / "samples.jsonl").read_text().splitlines()]
    return root / "run", samples


def known_text(samples: list[dict]) -> str:
    """The longest run of plain ASCII letters, digits and spaces in any sampled completion (at most 12
    characters): text the search box can take and both Python and JavaScript fold the same way."""
    runs = [m.group(0).strip() for s in samples for m in re.finditer(r"[A-Za-z0-9 ]+", s["completion"])]
    return max(runs, key=len)[:12].strip()


# The basic bundle is what reports inline after `make install`; the full one is the fallback without npm.
@pytest.mark.parametrize("bundle", [
    pytest.param("basic", marks=pytest.mark.skipif(not BASIC_PLOTLY_JS.is_file(),
                                                   reason="plotly.js basic bundle not fetched (make install, needs npm)")),
    "full"])
def test_report_in_headless_chromium(report, tmp_path, bundle):
    run, samples = report
    path = write_report([run], tmp_path / "report.html", bundle=bundle)
    problems, off_machine = [], []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:", "about:"))
                else off_machine.append(r.url))
        page.goto(path.as_uri())
        page.wait_for_function("window.r1labReport && window.r1labReport.ready", timeout=60_000)
        timing = page.evaluate("window.r1labReport")
        print(f"report {path.stat().st_size / 1e6:.2f} MB; content {timing['contentMs']:.0f} ms, "
              f"charts {timing['readyMs']:.0f} ms after navigation")

        # Every main chart was drawn by plotly (an SVG with traces), and so are the lazy ones on opening.
        data = json.loads(page.inner_text("#report-data"))
        main = [c["id"] for c in data["charts"] if not c["lazy"]]
        assert {"reward", "accuracy", "length", "time"} <= set(main)
        for chart_id in main:
            assert page.locator(f"#chart-{chart_id} .main-svg .scatterlayer .trace").count() >= 1, chart_id
        page.click("#more > summary")
        lazy = [c["id"] for c in data["charts"] if c["lazy"]]
        assert lazy
        page.wait_for_selector(f"#chart-{lazy[0]} .main-svg", timeout=20_000)  # drawn on opening (slow when loaded)

        # All sampled completions are there; the search finds a known one and marks it.
        assert page.inner_text("#match-count").startswith(f"{len(samples)} of {len(samples)} ")
        text = known_text(samples)
        expected = sum(text.lower() in s["completion"].lower() for s in samples)
        page.fill("#search", text)
        page.wait_for_function(f"document.getElementById('match-count').textContent.startsWith('{expected} of ')")
        first = page.locator("#cards .card").first
        assert text.lower() in first.locator("pre.completion").inner_text().lower()
        assert first.locator("mark").first.inner_text().lower() == text.lower()
        assert page.locator("#match-chart .scatterlayer .trace").count() == 1  # share matching, per step

        # The truncated filter counts what samples.jsonl says.
        page.fill("#search", "")
        page.select_option("#f-kind", "truncated")
        truncated = sum(s["finish_reason"] == "length" for s in samples)
        page.wait_for_function(f"document.getElementById('match-count').textContent.startsWith('{truncated} of ')")
        page.select_option("#f-kind", "")
        page.fill("#search", text)
        page.wait_for_function(f"document.getElementById('match-count').textContent.startsWith('{expected} of ')")

        shot = Path(os.environ.get("R1LAB_SCREENSHOT") or tmp_path / "report.png")
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert shot.stat().st_size > 10_000
    assert problems == [], problems
    assert off_machine == [], off_machine
