"""Reading run and eval directories: what is a run, what is an eval, what a bad file says, the held-out
points (base at step 0), aha moments, smoothing, config diff."""

import json

import pytest
from report_runs import fake_eval, fake_run, fake_sft

from r1lab.errors import DataError, UserError
from r1lab.tracking.report.sources import (
    EvalData,
    RunData,
    aha_moments,
    config_diff,
    ema,
    flatten,
    held_out,
    load_source,
    marks_aha,
    per_problem,
    run_title,
    smoothing_weight,
    tenth_mean,
    unique_names,
)


def test_a_run_directory_splits_training_and_eval_rows(tmp_path):
    run = load_source(fake_run(tmp_path / "run", steps=4))
    assert isinstance(run, RunData) and run.kind == "rl"
    assert [r["step"] for r in run.train] == [1, 2, 3, 4]
    assert [r["step"] for r in run.evals] == [2, 4]
    assert len(run.samples) == 8 and run.samples[0]["response"].startswith("<think> wait")
    assert run_title(run) == "run · model tiny-base · task demo"


def test_an_sft_run_is_a_supervised_run_with_its_rows(tmp_path):
    run = load_source(fake_sft(tmp_path / "sft"))
    assert run.kind == "supervised" and len(run.train) == 6 and run.evals == []
    assert run_title(run) == "sft · model tiny-base · data traces.jsonl"


def test_an_eval_directory(tmp_path):
    ev = load_source(fake_eval(tmp_path / "ev"))
    assert isinstance(ev, EvalData) and len(ev.samples) == 12
    assert per_problem(ev.samples)[2] == {"id": "q2", "gold": "7", "n": 4, "correct": 2, "majority": "7",
                                          "truncated": 0}


def test_what_is_not_a_source_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not a directory"):
        load_source(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="neither a run directory"):
        load_source(tmp_path / "empty")


def test_bad_lines_name_file_and_line_and_a_cut_last_line_is_dropped(tmp_path):
    run_dir = fake_run(tmp_path / "run", steps=2, with_eval=False)
    metrics = run_dir / "metrics.jsonl"
    metrics.write_text(metrics.read_text() + '{"step": 3, "reward_mean": 0.')  # killed mid-write
    assert [r["step"] for r in load_source(run_dir).train] == [1, 2]
    lines = metrics.read_text().splitlines()
    metrics.write_text("\n".join([lines[0], "not json", lines[1]]) + "\n")
    with pytest.raises(DataError, match=r"metrics.jsonl:2: not valid JSON"):
        load_source(run_dir)
    (run_dir / "metrics.jsonl").write_text(lines[0] + "\n")
    (run_dir / "summary.json").write_text("{\n  oops")
    with pytest.raises(DataError, match=r"summary.json:2: not valid JSON"):
        load_source(run_dir)


def test_held_out_reads_the_ci_key_and_puts_the_base_at_step_0(tmp_path):
    run_dir = fake_run(tmp_path / "run", steps=4)
    points = held_out(load_source(run_dir))
    assert [(p.step, p.pass1, p.ci, p.label) for p in points] == [(2, 0.25, (0.1, 0.4), ""),
                                                                   (4, 0.5, (0.1, 0.4), "")]
    # The demo's before/after evals in summary.json: the base at step 0, the final replaces step 4.
    (run_dir / "summary.json").write_text(json.dumps({
        "base": {"pass@1": 0.5, "pass@1_ci95": [0.4, 0.6]}, "final": {"pass@1": 0.9}}))
    points = held_out(load_source(run_dir))
    assert [(p.step, p.pass1, p.ci, p.label) for p in points] == [(0, 0.5, (0.4, 0.6), "base"),
                                                                   (2, 0.25, (0.1, 0.4), ""),
                                                                   (4, 0.9, None, "final")]


def test_aha_moments_are_the_first_marked_samples_in_step_order(tmp_path):
    run = load_source(fake_run(tmp_path / "run", steps=5, emergence=True))
    assert marks_aha(run)
    assert [(s["step"], s["problem_id"]) for s in aha_moments(run)] == [(3, "p3-0"), (5, "p5-0")]
    assert [s["step"] for s in aha_moments(run, limit=1)] == [3]
    assert not marks_aha(load_source(fake_run(tmp_path / "plain", steps=2)))


def test_tenth_mean():
    rows = [{"step": i, "x": float(i)} for i in range(1, 21)]  # 20 rows: a tenth is 2 rows
    assert tenth_mean(rows, "x") == 19.5
    assert tenth_mean(rows, "x", last=False) == 1.5
    assert tenth_mean([{"step": 1, "x": None}], "x") is None


def test_ema_by_hand():
    # weight 0.5: raw averages 0.5, 0.25 over debias factors 0.5, 0.75 -> 1, 1/3.
    assert ema([1.0, 0.0], 0.5) == pytest.approx([1.0, 1 / 3])
    assert ema([3.0, 3.0, 3.0], 0.9) == pytest.approx([3.0, 3.0, 3.0])  # a constant stays put
    assert ema([1.0, 2.0], 0.0) == [1.0, 2.0]


def test_smoothing_weight_follows_the_run_length():
    assert smoothing_weight(20) == 0.0 and smoothing_weight(39) == 0.0  # short runs are drawn raw
    assert smoothing_weight(40) == pytest.approx(1 / 3)  # a window of 2 steps
    assert smoothing_weight(150) == pytest.approx(0.75)  # 7 steps


def test_config_diff_lists_changed_and_missing_keys():
    a = {"lr": 1e-5, "rewards": {"format": 0.2, "accuracy": 1.0}, "seed": 0}
    b = {"lr": 3e-5, "rewards": {"format": 0.2, "accuracy": 1.0}}
    assert flatten(a) == {"lr": 1e-5, "rewards.format": 0.2, "rewards.accuracy": 1.0, "seed": 0}
    assert config_diff({"a": a, "b": b}) == [("lr", [1e-5, 3e-5]), ("seed", [0, "(absent)"])]
    assert config_diff({"a": a, "c": dict(a)}) == []


def test_same_folder_names_are_told_apart_by_their_parent(tmp_path):
    sources = [load_source(fake_run(tmp_path / d / "run", steps=1)) for d in ("a", "b")]
    unique_names(sources)
    assert [s.name for s in sources] == ["a/run", "b/run"]
