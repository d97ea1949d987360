"""The HTML report's pure parts (thinning, config diff, pass@k curve, escaping), the live view and the
tracker helpers, and whole reports of run and eval directories written to disk."""

import io
import json
import re

import pytest
import yaml

from r1lab.cli import main
from r1lab.tracking import report as report_module
from r1lab.tracking.live import LiveView, eta_seconds, format_duration, metrics_text
from r1lab.tracking.report import (
    UserError,
    bin_counts,
    config_diff,
    curve_ks,
    fill_template,
    flatten,
    length_bins,
    pass_at_k_curve,
    plotly_js,
    read_jsonl,
    tenth_mean,
    thin_samples,
    write_report,
)
from r1lab.tracking.run_log import RunLog
from r1lab.tracking.trackers import Trackers, installed, mlflow_key, scalars

# ---------------------------------------------------------------- pure helpers


def test_thin_samples_keeps_everything_within_budget():
    rows = [{"step": s, "completion": "x" * 100} for s in (1, 1, 2, 2)]
    assert thin_samples(rows, "step", 10_000) == rows


def test_thin_samples_caps_each_group_evenly():
    # Each record costs 100 + 200 = 300 chars. 3 steps x 4 records = 3600; a budget of 2000 fits 6
    # records, so the largest equal cap is 2 per step (1800 chars).
    rows = [{"step": s, "i": i, "completion": "x" * 100} for s in (1, 2, 3) for i in range(4)]
    kept = thin_samples(rows, "step", 2000)
    assert [(r["step"], r["i"]) for r in kept] == [(1, 0), (1, 1), (2, 0), (2, 1), (3, 0), (3, 1)]


def test_thin_samples_strides_over_groups_when_one_each_is_too_much():
    # 10 steps, one record each of 300 chars; a budget of 1000 fits 3: every 4th step (1, 5, 9).
    rows = [{"step": s, "completion": "x" * 100} for s in range(1, 11)]
    assert [r["step"] for r in thin_samples(rows, "step", 1000)] == [1, 5, 9]


def test_config_diff_lists_changed_and_missing_keys():
    a = {"lr": 1e-5, "rewards": {"format": 0.2, "accuracy": 1.0}, "seed": 0}
    b = {"lr": 3e-5, "rewards": {"format": 0.2, "accuracy": 1.0}}
    assert flatten(a) == {"lr": 1e-5, "rewards.format": 0.2, "rewards.accuracy": 1.0, "seed": 0}
    assert config_diff({"a": a, "b": b}) == [("lr", [1e-5, 3e-5]), ("seed", [0, "(absent)"])]
    assert config_diff({"a": a, "c": dict(a)}) == []


def test_tenth_mean():
    rows = [{"step": i, "x": float(i)} for i in range(1, 21)]  # 20 rows: a tenth is 2 rows
    assert tenth_mean(rows, "x") == 19.5
    assert tenth_mean(rows, "x", last=False) == 1.5
    assert tenth_mean([{"step": 1, "x": None}], "x") is None


def test_pass_at_k_curve_by_hand():
    # n = 4. Problem A: 2 correct, B: 1 correct.
    # pass@1 = mean(2/4, 1/4) = 0.375; pass@2: A = 1 - C(2,2)/C(4,2) = 5/6, B = 1 - C(3,2)/C(4,2) = 1/2.
    curve = pass_at_k_curve([2, 1], 4, [1, 2, 4])
    assert [c["k"] for c in curve] == [1, 2, 4]
    assert curve[0]["mean"] == pytest.approx(0.375)
    assert curve[1]["mean"] == pytest.approx((5 / 6 + 1 / 2) / 2)
    assert curve[2]["mean"] == pytest.approx(1.0)
    assert curve[1]["lo"] <= curve[1]["mean"] <= curve[1]["hi"]


def test_curve_ks():
    assert curve_ks(5) == [1, 2, 3, 4, 5]
    ks = curve_ks(64)
    assert ks[:16] == list(range(1, 17)) and ks[-1] == 64 and ks == sorted(set(ks))


def test_length_bins_by_hand():
    assert length_bins([10, 13, 11]) == [10, 11, 12, 13, 14]  # width 1: one bin per token count
    assert bin_counts([10, 13, 11, 13], [10, 11, 12, 13, 14]) == [1, 1, 0, 2]
    edges = length_bins(list(range(100)), max_bins=30)  # 100 values over at most 30 bins: width ceil(100/30) = 4
    assert edges[:3] == [0, 4, 8] and edges[-1] == 100 and len(edges) - 1 == 25
    assert bin_counts(list(range(100)), edges) == [4] * 25
    assert length_bins([7]) == [7, 8] and length_bins([]) == [0, 1]


def test_plotly_bundles(tmp_path, monkeypatch):
    from plotly.offline import get_plotlyjs

    assert plotly_js("full") == get_plotlyjs()
    with pytest.raises(UserError, match="expected one of auto, basic, full"):
        plotly_js("tiny")
    # Without the fetched basic bundle, "auto" falls back to the full one and "basic" says what is missing.
    monkeypatch.setattr(report_module, "BASIC_PLOTLY_JS", tmp_path / "absent.js")
    assert plotly_js("auto") == get_plotlyjs()
    with pytest.raises(UserError, match="absent.js is missing: `make install` fetches it"):
        plotly_js("basic")
    (tmp_path / "absent.js").write_text("/* a bundle */")
    assert plotly_js("auto") == "/* a bundle */"


def test_fill_template_is_one_pass():
    page = fill_template("<p>{{A}}</p><i>{{B}}</i>", {"A": "{{B}}", "B": "b"})
    assert page == "<p>{{B}}</p><i>b</i>"


def test_read_jsonl_drops_a_cut_last_line_but_not_a_bad_middle_line(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}\n{"step": 3, "x": 0.')
    assert read_jsonl(path) == [{"step": 1}, {"step": 2}]
    path.write_text('{"step": 1}\nnot json\n{"step": 3}\n')
    with pytest.raises(UserError, match=r"m.jsonl:2"):
        read_jsonl(path)


# ---------------------------------------------------------------- live view and trackers


def test_eta_and_durations():
    assert eta_seconds(0, 10, 5.0) is None
    assert eta_seconds(4, 6, 8.0) == 12.0  # 2 s a step, 6 steps left
    assert format_duration(None) == "?"
    assert format_duration(7) == "0:07"
    assert format_duration(723) == "12:03"
    assert format_duration(3723) == "1:02:03"


def test_metrics_text_skips_absent_keys():
    text = metrics_text({"reward_mean": 0.5, "accuracy": 0.25, "response_length_mean": 57.4, "entropy": float("nan")},
                        {"step": 10, "eval/pass@1": 0.3, "eval/pass@1_lo": 0.2, "eval/pass@1_hi": 0.4})
    assert text == "reward 0.500 · acc 0.250 · len 57 · pass@1 0.300 [0.200, 0.400] @10"


def test_live_view_prints_plain_lines_when_not_a_terminal():
    out = io.StringIO()  # not a TTY
    live = LiveView(total=10, start=0, desc="zero", stream=out, every=5)
    for step in range(1, 11):
        live.update({"step": step, "reward_mean": step / 10, "accuracy": 0.0})
        if step == 5:
            live.update({"step": 5, "eval/pass@1": 0.25})
    live.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 3, lines  # steps 5 and 10, and the eval row
    assert lines[0].startswith("zero 5/10 · ") and "ETA" in lines[0] and "reward 0.500" in lines[0]
    assert "pass@1 0.250 @5" in lines[1]
    assert lines[2].startswith("zero 10/10 · ") and "ETA 0:00" in lines[2]
    assert "\x1b" not in out.getvalue()  # no terminal control codes in a log file


def test_live_view_disabled_prints_nothing():
    out = io.StringIO()
    live = LiveView(total=3, stream=out, enabled=False)
    live.update({"step": 1, "reward_mean": 0.0})
    live.close()
    assert out.getvalue() == ""


def test_tracker_scalars_and_names():
    row = {"step": 3, "loss": 0.5, "n": 4, "flag": True, "eval/pass@1_ci95": [0.1, 0.3], "bad": float("nan"),
           "none": None, "name": "x"}
    assert scalars(row) == {"loss": 0.5, "n": 4.0, "eval/pass@1_ci95_lo": 0.1, "eval/pass@1_ci95_hi": 0.3}
    assert mlflow_key("eval/pass@1") == "eval/pass_at_1"
    assert mlflow_key("reward/format") == "reward/format"


@pytest.mark.skipif(installed("wandb"), reason="wandb is installed here; this checks the skip path")
def test_missing_tracker_is_skipped_with_a_warning(tmp_path, capsys):
    trackers = Trackers(tmp_path, ["wandb"], {"lr": 1})
    trackers.log({"step": 1, "loss": 0.5})
    trackers.close()
    assert trackers.active == []
    assert "wandb is not installed" in capsys.readouterr().err


def test_unknown_tracker_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="unknown tracker 'comet'"):
        Trackers(tmp_path, ["comet"])


# ---------------------------------------------------------------- whole reports


def fake_run(run_dir, steps=5, samples_per_step=2, completion_chars=40, lr=1e-5, with_eval=True):
    """A run directory written with the trainer's own RunLog: metrics, eval rows, samples, config."""
    log = RunLog(run_dir)
    for s in range(1, steps + 1):
        log.log_metrics({"step": s, "step_time_s": 1.0, "rollout_time_s": 0.6, "update_time_s": 0.4,
                         "reward_mean": s / steps, "accuracy": s / (2 * steps), "response_length_mean": 10.0 + s,
                         "response_length_p10": 5.0, "response_length_p90": 20.0 + s,
                         "reflection_words_per_1k": 1.5, "entropy": 2.0, "loss": 0.1, "grad_norm": 1.0,
                         "reward/accuracy": s / (2 * steps), "reward/format": 1.0, "truncated_rate": 0.0})
        if with_eval and s % 2 == 0:
            log.log_metrics({"step": s, "eval/pass@1": 0.2 + s / 100, "eval/pass@1_ci95": [0.1, 0.4],
                             "eval/format_rate": 0.9, "eval/problems": 8})
        filler = "y" * max(0, completion_chars - 40)
        log.log_samples([{"step": s, "problem_id": f"p{s}-{i}", "question": f"What is {s} + {i}?",
                          "gold": str(s + i), "completion": f"<think> wait, {s}+{i} </think> <answer> {s + i} "
                          f"</answer>{filler}", "reward": 1.2, "components": {"accuracy": 1.0, "format": 1.0},
                          "status": "correct", "extracted": str(s + i), "finish_reason": "stop", "length": 12}
                         for i in range(samples_per_step)])
    config = {"model": "tiny-base", "task": "demo", "learning_rate": lr, "rewards": {"format": 0.2}}
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))  # as the trainer's dump_yaml writes it
    return run_dir


def fake_eval(out_dir, n=4):
    out_dir.mkdir(parents=True)
    rows = []
    for p in range(3):
        for i in range(n):
            correct = i < p  # problem p has p of n correct
            rows.append({"problem_id": f"q{p}", "sample": i, "gold": "7", "response": f"so \\boxed{{{7 if correct else 5}}}",
                         "extracted": "7" if correct else "5", "status": "correct" if correct else "incorrect",
                         "correct": correct, "score": float(correct), "reason": "", "tokens": 10 + i,
                         "finish_reason": "stop"})
    (out_dir / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = {"benchmark": "toy", "model": "m", "problems": 3, "n": n, "template": "chat",
               "pass@1": {"mean": 0.25, "ci95": [0.0, 0.5]},
               "pass@k": {"1": {"mean": 0.25, "ci95": [0.0, 0.5]}, "4": {"mean": 0.667, "ci95": [0.33, 1.0]}},
               "cons@k": {"4": {"mean": 0.333, "ci95": [0.0, 1.0]}}}
    (out_dir / "summary.json").write_text(json.dumps(summary))
    return out_dir


def embedded_data(page: str) -> dict:
    text = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S).group(1)
    return json.loads(text)


def test_report_of_one_run_is_self_contained(tmp_path):
    path = write_report([fake_run(tmp_path / "run")], tmp_path / "r.html")
    page = path.read_text()
    assert not re.search(r'<(script|link)[^>]+(src|href)=["\']?https?:', page), "nothing loads from a network"
    data = embedded_data(page)
    ids = [c["id"] for c in data["charts"] if not c["lazy"]]
    assert ids == ["reward", "accuracy", "pass1", "length", "reflection", "entropy", "time"]
    more = {c["id"] for c in data["charts"] if c["lazy"]}
    assert {"more-loss", "more-grad-norm", "more-eval-format-rate"} <= more
    assert "KL to the reference policy: logged only when beta &gt; 0" in page  # absent keys are named
    pass1 = next(c for c in data["charts"] if c["id"] == "pass1")["figure"]["data"]
    assert pass1[1]["fill"] == "tonexty" and pass1[-1]["y"] == pytest.approx([0.22, 0.24])  # CI band, then the line
    assert len(data["records"]) == 10 and data["total_records"] == 10
    assert data["questions"][data["records"][0]["question"]] == "What is 1 + 0?"
    # The summary table: final reward and accuracy (the last tenth of 5 steps is step 5 alone).
    assert "<td>demo</td><td>5</td><td>1.000</td><td>0.500</td><td>0.240 [0.100, 0.400] @ step 4</td>" in page


def test_report_compares_runs_with_a_config_diff(tmp_path):
    a = fake_run(tmp_path / "a" / "run", lr=1e-5)
    b = fake_run(tmp_path / "b" / "run", lr=3e-5, with_eval=False)
    page = write_report([a, b], tmp_path / "both.html").read_text()
    assert "1 key differs" in page and "<td>learning_rate</td><td>1.0e-05</td><td>3.0e-05</td>" in page
    data = embedded_data(page)
    assert [s["name"] for s in data["sources"]] == ["a/run", "b/run"]  # same folder names told apart
    reward = next(c for c in data["charts"] if c["id"] == "reward")["figure"]["data"]
    assert {t["legendgroup"] for t in reward} == {"a/run", "b/run"}


def test_report_of_an_eval_directory(tmp_path):
    page = write_report([fake_eval(tmp_path / "ev")], tmp_path / "ev.html").read_text()
    data = embedded_data(page)
    passk = next(c for c in data["charts"] if c["id"] == "eval0-passk")["figure"]["data"]
    line = next(t for t in passk if t.get("name") == "pass@k (samples)")
    # problems with 0, 1, 2 of 4 correct: pass@1 = (0 + 1/4 + 2/4) / 3 = 0.25; pass@4 = 2/3.
    assert line["x"] == [1, 2, 3, 4]
    assert line["y"][0] == pytest.approx(0.25) and line["y"][-1] == pytest.approx(2 / 3)
    assert any(t.get("name") == "cons@k" for t in passk)
    lengths = next(c for c in data["charts"] if c["id"] == "eval0-length")["figure"]["data"]
    assert [t["name"] for t in lengths] == ["correct (3)", "not correct (9)"]
    # Correct samples are 10, 10, 11 tokens long; the others 10-13 (tokens = 10 + sample index).
    assert [t["type"] for t in lengths] == ["bar", "bar"]
    assert lengths[0]["y"] == [2, 1, 0, 0] and lengths[1]["y"] == [1, 2, 3, 3]
    assert 'data-problem="q2"' in page and "<td>2/4</td>" in page
    assert len(data["records"]) == 12 and data["records"][0]["step"] is None


def test_report_escapes_completions(tmp_path):
    run = fake_run(tmp_path / "run", steps=1, samples_per_step=1)
    rows = read_jsonl(run / "samples.jsonl")
    rows[0]["completion"] = "</script><script>alert(1)</script> \u2028"
    (run / "samples.jsonl").write_text(json.dumps(rows[0]) + "\n")
    page = write_report([run], tmp_path / "r.html").read_text()
    assert "<script>alert(1)" not in page
    assert embedded_data(page)["records"][0]["completion"].startswith("</script><script>alert(1)")


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
