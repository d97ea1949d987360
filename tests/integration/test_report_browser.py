"""Reports of real tiny runs opened in headless Chromium (Debian's chromium, driven by playwright): the
charts render with no console errors and no network request, the search finds a known completion, the
filters count what samples.jsonl says; an SFT run's report draws its loss; a run that logs self-checks
shows its aha moments and a smoothing toggle that works; and a plain `chromium --dump-dom`, which
waits for nothing after the load event, finds every chart already drawn.

`make install` installs chromium where apt-get is available; the tests skip only when it is absent.
Set R1LAB_SCREENSHOT=/path/shot.png to keep the GRPO run's screenshot.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from r1lab.config import ZeroConfig
from r1lab.models.random_init import build_random_model
from r1lab.stages.sft import SFTConfig
from r1lab.stages.sft import run as run_sft
from r1lab.stages.zero import run as run_zero
from r1lab.tracking.report import BASIC_PLOTLY_JS, write_report
from r1lab.tracking.run_log import RunLog
from r1lab.types import Problem, Verdict, sample_record

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
    assert "response" in samples[0], "zero must write types.sample_record rows (response, tokens, ...)"
    return root / "run", samples


def known_text(samples: list[dict]) -> str:
    """The longest run of plain ASCII letters, digits and spaces in any sampled completion (at most 12
    characters): text the search box can take and both Python and JavaScript fold the same way."""
    runs = [m.group(0).strip() for s in samples for m in re.finditer(r"[A-Za-z0-9 ]+", s["response"])]
    return max(runs, key=len)[:12].strip()


def open_page(pw, path: Path, problems: list, off_machine: list):
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:", "about:"))
            else off_machine.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_function("window.r1labReport && window.r1labReport.ready", timeout=60_000)
    return browser, page


def drawn(page, chart_id: str) -> int:
    return page.locator(f"#chart-{chart_id} .main-svg .scatterlayer .trace").count()


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
        browser, page = open_page(pw, path, problems, off_machine)
        timing = page.evaluate("window.r1labReport")
        print(f"report {path.stat().st_size / 1e6:.2f} MB; ready {timing['readyMs']:.0f} ms after navigation")

        # Every main chart was drawn by plotly (an SVG with traces), and so are the lazy ones on opening.
        data = json.loads(page.inner_text("#report-data"))
        main = [c["id"] for c in data["charts"] if not c["lazy"]]
        assert {"length", "time"} <= set(main)
        if "reward" not in main:  # a random model earns no reward: named in the note, not drawn at 0
            assert "so not drawn: reward (mean)" in page.inner_text("#curves")
        for chart_id in main:
            assert drawn(page, chart_id) >= 1, chart_id
        page.click("#more > summary")
        lazy = [c["id"] for c in data["charts"] if c["lazy"]]
        assert lazy
        page.wait_for_selector(f"#chart-{lazy[0]} .main-svg", timeout=20_000)

        # All sampled completions are there; the search finds a known one and marks it.
        assert page.inner_text("#match-count").startswith(f"{len(samples)} of {len(samples)} ")
        text = known_text(samples)
        expected = sum(text.lower() in s["response"].lower() for s in samples)
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

        shot = Path(os.environ.get("R1LAB_SCREENSHOT") or tmp_path / "report.png")
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert shot.stat().st_size > 10_000
    assert problems == [], problems
    assert off_machine == [], off_machine


def test_sft_report_draws_its_loss(tiny_qwen2, tmp_path):
    data = tmp_path / "sft.jsonl"
    row = {"prompt": "Compute 1 + 2 .", "completion": "<think> 1 + 2 = 3 . </think> <answer> 3 </answer>"}
    data.write_text(json.dumps(row) + "\n" * 1 + json.dumps(row | {"prompt": "Compute 2 + 2 ."}) + "\n")
    run_sft(SFTConfig(model=tiny_qwen2, data=str(data), epochs=3, batch_size=1, seed=0), tmp_path / "sft",
            progress=False)
    path = write_report([tmp_path / "sft"], tmp_path / "sft.html")
    problems, off_machine = [], []
    with sync_api.sync_playwright() as pw:
        browser, page = open_page(pw, path, problems, off_machine)
        assert drawn(page, "loss") == 1
        assert page.locator("#summary td").nth(0).inner_text() == "sft"
        browser.close()
    assert problems == [] and off_machine == []


def emergence_run(run_dir: Path, steps: int = 60) -> Path:
    """A run that logs the self-check metrics and marks aha samples (two of them, at steps 30 and 45),
    written with the trainer's RunLog and the one sample schema."""
    log = RunLog(run_dir)
    for s in range(1, steps + 1):
        log.log_metrics({"step": s, "reward_mean": s / steps, "accuracy": s / steps, "response_length_mean": 20 + s,
                         "check_rate": s / (2 * steps), "aha_rate": 0.05 * (s >= 30), "step_time_s": 1.0})
        problem = Problem(f"p{s}", f"Compute {s} + 1 .", s + 1)
        text = f"<think> {s} + 1 = {s + 2} . wait , check : {s} + 1 = {s + 1} . </think> <answer> {s + 1} </answer>"
        row = sample_record(problem, text, 30, "stop", Verdict("correct", 1.0, str(s + 1)), step=s, reward=1.0,
                            components={"accuracy": 1.0, "format": 1.0})
        log.log_samples([row | {"aha": s in (30, 45)}])
    return run_dir


def test_aha_moments_and_the_smoothing_toggle(tmp_path):
    path = write_report([emergence_run(tmp_path / "run")], tmp_path / "r.html")
    problems, off_machine = [], []
    with sync_api.sync_playwright() as pw:
        browser, page = open_page(pw, path, problems, off_machine)
        assert drawn(page, "selfcheck") >= 2
        cards = page.locator("#aha-cards .card")
        assert cards.count() == 2 and "step 30" in cards.first.inner_text()
        assert cards.first.locator(".badge.aha").count() == 1
        page.select_option("#f-kind", "aha")
        page.wait_for_function("document.getElementById('match-count').textContent.startsWith('2 of ')")

        def smoothed_visible() -> list:
            return page.evaluate("""document.getElementById('chart-accuracy').data
                                    .filter(t => t.meta && t.meta.smooth === 'smoothed').map(t => t.visible)""")

        assert smoothed_visible() == [True]
        page.uncheck("#smooth")
        page.wait_for_function("""document.getElementById('chart-accuracy').data
                                  .every(t => !(t.meta && t.meta.smooth === 'smoothed') || t.visible === false)""")
        assert smoothed_visible() == [False]
        browser.close()
    assert problems == [] and off_machine == []


def test_charts_are_drawn_by_the_load_event(tmp_path):
    """chromium --dump-dom prints the DOM once the page has loaded, waiting for nothing more: every
    chart that is not behind "More metrics" must already be an SVG."""
    path = write_report([emergence_run(tmp_path / "run", steps=12)], tmp_path / "r.html")
    out = subprocess.run([CHROMIUM, *FLAGS, "--dump-dom", path.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    ids = re.findall(r'<div class="chart[^"]*" id="chart-([a-z0-9-]+)"[^>]*>(.*?)</div></figure>', out, re.S)
    main = [c["id"] for c in json.loads(re.search(r'id="report-data">(.*?)</script>', out, re.S).group(1))["charts"]
            if not c["lazy"]]
    assert main and {i for i, _ in ids} >= set(main)
    for chart_id, inner in ids:
        if chart_id in main:
            assert 'class="main-svg"' in inner, chart_id
