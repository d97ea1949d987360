"""Whole reports written to disk: self-contained, escaped, small; what the summary, notes, aha section,
config diff and eval sections say; the completions kept; the `r1lab report` command."""

import json
import re

import pytest
from report_runs import fake_eval, fake_run, fake_sft

from r1lab.cli import main
from r1lab.data.io import read_jsonl
from r1lab.errors import UserError
from r1lab.tracking.report import page as page_module
from r1lab.tracking.report import write_report
from r1lab.tracking.report.page import fill_template, plotly_js, thin_samples


def embedded_data(page: str) -> dict:
    text = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S).group(1)
    return json.loads(text)


# ---------------------------------------------------------------- pure parts


def test_thin_samples_keeps_everything_within_budget():
    rows = [{"step": s, "response": "x" * 100} for s in (1, 1, 2, 2)]
    assert thin_samples(rows, "step", 10_000) == rows


def test_thin_samples_caps_each_group_evenly():
    # Each record costs 100 + 200 = 300 chars. 3 steps x 4 records = 3600; a budget of 2000 fits 6
    # records, so the largest equal cap is 2 per step (1800 chars).
    rows = [{"step": s, "i": i, "response": "x" * 100} for s in (1, 2, 3) for i in range(4)]
    kept = thin_samples(rows, "step", 2000)
    assert [(r["step"], r["i"]) for r in kept] == [(1, 0), (1, 1), (2, 0), (2, 1), (3, 0), (3, 1)]


def test_thin_samples_strides_over_groups_when_one_each_is_too_much():
    # 10 steps, one record each of 300 chars; a budget of 1000 fits 3: every 4th step (1, 5, 9).
    rows = [{"step": s, "response": "x" * 100} for s in range(1, 11)]
    assert [r["step"] for r in thin_samples(rows, "step", 1000)] == [1, 5, 9]


def test_plotly_bundles(tmp_path, monkeypatch):
    from plotly.offline import get_plotlyjs

    assert plotly_js("full") == get_plotlyjs()
    with pytest.raises(UserError, match="expected one of auto, basic, full"):
        plotly_js("tiny")
    # Without the fetched basic bundle, "auto" falls back to the full one and "basic" says what is missing.
    monkeypatch.setattr(page_module, "BASIC_PLOTLY_JS", tmp_path / "absent.js")
    assert plotly_js("auto") == get_plotlyjs()
    with pytest.raises(UserError, match="absent.js is missing: `make install` fetches it"):
        plotly_js("basic")
    (tmp_path / "absent.js").write_text("/* a bundle */")
    assert plotly_js("auto") == "/* a bundle */"


def test_fill_template_is_one_pass():
    page = fill_template("<p>{{A}}</p><i>{{B}}</i>", {"A": "{{B}}", "B": "b"})
    assert page == "<p>{{B}}</p><i>b</i>"


# ---------------------------------------------------------------- whole reports


def test_report_of_one_run_is_self_contained(tmp_path):
    page = write_report([fake_run(tmp_path / "run")], tmp_path / "r.html").read_text()
    assert not re.search(r'<(script|link)[^>]+(src|href)=["\']?https?:', page), "nothing loads from a network"
    assert '<p class="subtitle">run: model tiny-base · task demo</p>' in page
    data = embedded_data(page)
    assert [c["id"] for c in data["charts"] if not c["lazy"]] == [
        "reward", "heldout", "accuracy", "length", "reflection", "entropy", "time"]
    assert "Not logged by these runs: self-check and aha rates (check_rate, aha_rate); KL to the reference " \
           "(kl): logged only when beta &gt; 0." in page
    assert "Always 0 at every logged step, so not drawn: language mixing, truncated." in page
    assert len(data["records"]) == 10 and data["total_records"] == 10
    assert data["questions"][data["records"][0]["question"]] == "What is 1 + 0?"
    assert data["records"][0]["response"].startswith("<think> wait, 1+0")
    assert data["smoothable"] is False  # 5 steps: nothing to smooth, no toggle
    # The summary: final reward and accuracy (the last tenth of 5 steps is step 5 alone), the last eval.
    assert "<td>demo</td><td>5</td><td>0.500 [0.100, 0.400] @ step 4</td><td>1.000</td><td>0.500</td>" in page
    assert 'id="aha"' not in page  # these samples carry no aha mark


def test_report_shows_the_first_aha_moments(tmp_path):
    page = write_report([fake_run(tmp_path / "run", steps=6, emergence=True)], tmp_path / "r.html").read_text()
    data = embedded_data(page)
    assert '<section id="aha"><h2>First aha moments</h2>' in page
    assert [(r["step"], r["problem"], r["aha"]) for r in data["aha"]] == [(3, "p3-0", True), (5, "p5-0", True)]
    assert data["questions"][data["aha"][0]["question"]] == "What is 3 + 0?"
    assert "<th>aha rate, first → last tenth</th>" in page and "0.000 → 0.100" in page


def test_report_says_when_marked_samples_hold_no_aha(tmp_path):
    run = fake_run(tmp_path / "run", steps=2, emergence=True)  # aha only on steps 3 and 5
    page = write_report([run], tmp_path / "r.html").read_text()
    assert "run: no aha moment among the 4 sampled completions." in page


def test_report_of_a_long_run_offers_smoothing(tmp_path):
    page = write_report([fake_run(tmp_path / "run", steps=60, with_eval=False)], tmp_path / "r.html").read_text()
    assert embedded_data(page)["smoothable"] is True
    assert 'id="smooth"' in page


def test_report_of_an_sft_run_plots_the_loss(tmp_path):
    page = write_report([fake_sft(tmp_path / "sft")], tmp_path / "r.html").read_text()
    data = embedded_data(page)
    assert [c["id"] for c in data["charts"] if not c["lazy"]] == ["loss"]
    assert "<th>loss, first → last tenth</th>" in page and "3.000 → 0.500" in page
    assert "<td>12.5 s</td>" in page  # summary.json's wall time: SFT logs no step times
    assert "sft: model tiny-base · data traces.jsonl" in page
    assert "<th>examples used</th>" in page and "<td>8</td>" in page
    assert "Reward" not in page and data["records"] == [] and 'id="browser"' not in page  # nothing to browse


def test_report_compares_runs_with_a_config_diff(tmp_path):
    a = fake_run(tmp_path / "a" / "run", lr=1e-5)
    b = fake_run(tmp_path / "b" / "run", lr=3e-5, with_eval=False)
    page = write_report([a, b], tmp_path / "both.html").read_text()
    assert "1 key differs" in page and "<td>learning_rate</td><td>1.0e-05</td><td>3.0e-05</td>" in page
    data = embedded_data(page)
    assert [s["name"] for s in data["sources"]] == ["a/run", "b/run"]  # same folder names told apart
    reward = next(c for c in data["charts"] if c["id"] == "reward")["figure"]["data"]
    assert {t["name"] for t in reward} >= {"a/run: reward (mean)", "b/run: format reward"}


def test_report_of_a_run_and_an_sft_run_together(tmp_path):
    page = write_report([fake_run(tmp_path / "grpo"), fake_sft(tmp_path / "sft")], tmp_path / "r.html").read_text()
    ids = [c["id"] for c in embedded_data(page)["charts"] if not c["lazy"]]
    assert ids[0] == "reward" and "loss" in ids
    assert "<td>sft</td><td>tiny-base</td><td>–</td><td>6</td>" in page  # no task, and "–" where RL-only


def test_report_of_an_eval_directory(tmp_path):
    page = write_report([fake_eval(tmp_path / "ev")], tmp_path / "ev.html").read_text()
    data = embedded_data(page)
    assert [c["id"] for c in data["charts"]] == ["eval0-passk", "eval0-length"]
    assert "cons@k: the answer most of k samples give is correct (majority vote)" in page
    assert 'data-problem="q2"' in page and "<td>2/4</td>" in page
    assert len(data["records"]) == 12 and data["records"][0]["step"] is None
    assert data["records"][0]["format_ok"] is None  # the chat template has no think/answer format


def test_report_escapes_completions(tmp_path):
    run = fake_run(tmp_path / "run", steps=1, samples_per_step=1)
    rows = read_jsonl(run / "samples.jsonl")
    rows[0]["response"] = "</script><script>alert(1)</script> \u2028"
    (run / "samples.jsonl").write_text(json.dumps(rows[0]) + "\n")
    page = write_report([run], tmp_path / "r.html").read_text()
    assert "<script>alert(1)" not in page
    assert embedded_data(page)["records"][0]["response"].startswith("</script><script>alert(1)")


def test_report_of_100_steps_with_long_completions_stays_under_10_mb(tmp_path):
    # 100 steps x 8 completions of 16k characters (~4k tokens each) is 12.8 MB of text: thinned to fit.
    run = fake_run(tmp_path / "run", steps=100, samples_per_step=8, completion_chars=16_000)
    path = write_report([run], tmp_path / "r.html")
    assert path.stat().st_size < 10e6, path.stat().st_size
    data = embedded_data(path.read_text())
    assert data["total_records"] == 800 and 100 <= len(data["records"]) < 800
    assert {r["step"] for r in data["records"]} == set(range(1, 101))  # every step keeps some


def test_report_command(tmp_path, capsys):
    run = fake_run(tmp_path / "run")
    assert main(["report", str(run)]) == 0
    assert (run / "report.html").is_file() and "report: " in capsys.readouterr().out
    assert main(["report", str(tmp_path / "nothing-here")]) == 2
    assert "not a directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty"), "--out", str(tmp_path / "x.html")]) == 2
    assert "neither a run directory" in capsys.readouterr().err
    (run / "samples.jsonl").write_text('{"step": 1}\n[1, 2]\n{"step": 2}\n')
    assert main(["report", str(run)]) == 2
    err = capsys.readouterr().err
    assert "samples.jsonl:2: expected a JSON object, got list" in err and len(err.strip().splitlines()) == 1
