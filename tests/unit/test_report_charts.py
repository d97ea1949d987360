"""The report's figures: which panels a run gets and why others are left out, legend names, the
held-out band, smoothing twins, the eval charts' k axis, and the one pass@k curve."""

import pytest
from report_runs import fake_eval, fake_run, fake_sft

from r1lab.evaluation.metrics import pass_at_k_curve
from r1lab.tracking.report.charts import (
    PASS_CONS_HINT,
    bin_counts,
    curve_ks,
    eval_charts,
    k_axis,
    label,
    length_bins,
    training_charts,
)
from r1lab.tracking.report.sources import load_source


def chart(charts: list[dict], chart_id: str) -> dict:
    return next(c for c in charts if c["id"] == chart_id)


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


def test_k_axis_ticks_are_whole_numbers():
    assert k_axis(4) | {"title": None} == {"title": None, "type": "linear", "dtick": 1, "tickformat": "d"}
    log_axis = k_axis(64)
    assert log_axis["type"] == "log" and log_axis["tickvals"] == [1, 2, 4, 8, 16, 32, 64]
    assert k_axis(48)["tickvals"] == [1, 2, 4, 8, 16, 32, 48]


def test_length_bins_by_hand():
    assert length_bins([10, 13, 11]) == [10, 11, 12, 13, 14]  # width 1: one bin per token count
    assert bin_counts([10, 13, 11, 13], [10, 11, 12, 13, 14]) == [1, 1, 0, 2]
    edges = length_bins(list(range(100)), max_bins=30)  # 100 values over at most 30 bins: width ceil(100/30) = 4
    assert edges[:3] == [0, 4, 8] and edges[-1] == 100 and len(edges) - 1 == 25
    assert bin_counts(list(range(100)), edges) == [4] * 25
    assert length_bins([7]) == [7, 8] and length_bins([]) == [0, 1]


def test_labels_are_words_not_keys():
    assert label("reward_mean") == "reward (mean)"
    assert label("reward/format") == "format reward"
    assert label("eval/pass@1") == "held-out pass@1"
    assert label("eval/format_rate") == "held-out format-valid rate"
    assert label("sync_time_s") == "weight sync"
    assert label("queue_wait_s") == "queue wait (s)"  # a key the report has never seen
    assert label("eval/aha_rate") == "held-out aha rate"


def test_a_grpo_run_gets_its_panels_and_notes_on_the_rest(tmp_path):
    tc = training_charts([load_source(fake_run(tmp_path / "run"))])
    assert [c["id"] for c in tc.main] == ["reward", "heldout", "accuracy", "length", "reflection", "entropy", "time"]
    assert tc.missing == ["self-check and aha rates (check_rate, aha_rate)",
                          "KL to the reference (kl): logged only when beta > 0"]
    # 0 at every step: language mixing and truncation are named, not drawn as flat lines.
    assert tc.zero == ["language mixing", "truncated"]
    # Other keys: one small chart each, unless they never change.
    assert tc.constant == ["loss = 0.1", "mean ratio = 1", "held-out format-valid rate = 0.9",
                           "held-out problems = 8"]
    assert [c["id"] for c in tc.more] == ["more-grad-norm"] and tc.more[0]["lazy"]
    reward = chart(tc.main, "reward")["figure"]["data"]
    assert [t["name"] for t in reward] == ["reward (mean)", "accuracy reward", "format reward"]


def test_the_held_out_panel_draws_the_ci_band_under_the_line(tmp_path):
    tc = training_charts([load_source(fake_run(tmp_path / "run"))])
    lo, hi, line = chart(tc.main, "heldout")["figure"]["data"]
    assert lo["y"] == [0.1, 0.1] and hi["y"] == [0.4, 0.4] and hi["fill"] == "tonexty"
    assert line["x"] == [2, 4] and line["y"] == [0.25, 0.5] and line["name"] == "held-out pass@1"


def test_self_check_and_aha_rates_get_their_panel(tmp_path):
    tc = training_charts([load_source(fake_run(tmp_path / "run", emergence=True))])
    traces = chart(tc.main, "selfcheck")["figure"]["data"]
    assert [t["name"] for t in traces] == ["responses with a check", "aha rate"]
    assert traces[1]["y"] == [0.0, 0.0, 0.1, 0.1, 0.1]
    assert not any("self-check" in m for m in tc.missing)
    # Whether checking paid: the two accuracies, the one with a check only where a response checked.
    pays = chart(tc.main, "checkpays")["figure"]["data"]
    assert [t["name"] for t in pays] == ["accuracy with a check", "accuracy without"]
    assert pays[0]["x"] == [2, 3, 4, 5] and pays[0]["y"] == [0.75] * 4 and pays[1]["x"] == [1, 2, 3, 4, 5]


def test_long_runs_get_a_smoothed_twin_per_line(tmp_path):
    tc = training_charts([load_source(fake_run(tmp_path / "run", steps=60, with_eval=False))])
    accuracy = chart(tc.main, "accuracy")["figure"]["data"]
    raw, smoothed = accuracy
    assert raw["meta"] == {"smooth": "raw", "name": "train accuracy"}
    assert smoothed["meta"] == {"smooth": "smoothed", "name": "train accuracy"}
    assert smoothed["y"][0] == raw["y"][0] and smoothed["y"][-1] < raw["y"][-1]  # lags a rising line
    short = training_charts([load_source(fake_run(tmp_path / "short", steps=5))])
    assert all("meta" not in t for c in short.main for t in c["figure"]["data"])


def test_an_sft_run_plots_its_loss(tmp_path):
    tc = training_charts([load_source(fake_sft(tmp_path / "sft"))])
    assert [c["id"] for c in tc.main] == ["loss"]
    assert chart(tc.main, "loss")["figure"]["data"][0]["y"] == pytest.approx([3.0 / s for s in range(1, 7)])
    assert tc.missing == []  # neither the RL panels nor the reward model's pair accuracy are "missing"
    assert {c["id"] for c in tc.more} == {"more-epoch", "more-grad-norm", "more-lr", "more-trained-tokens"}
    long = training_charts([load_source(fake_sft(tmp_path / "long", steps=60))])
    assert [t["meta"]["smooth"] for t in chart(long.main, "loss")["figure"]["data"]] == ["raw", "smoothed"]
    lr = chart(long.more, "more-lr")["figure"]["data"]
    assert len(lr) == 1 and "meta" not in lr[0]  # a schedule is drawn as it is, never smoothed


def test_eval_charts_explain_pass_and_cons(tmp_path):
    charts = eval_charts(load_source(fake_eval(tmp_path / "ev")), 0)
    passk = chart(charts, "eval0-passk")
    assert passk["hint"] == PASS_CONS_HINT and "majority vote" in PASS_CONS_HINT
    assert passk["figure"]["layout"]["xaxis"]["dtick"] == 1
    line = next(t for t in passk["figure"]["data"] if t.get("name") == "pass@k")
    # problems with 0, 1, 2 of 4 correct: pass@1 = (0 + 1/4 + 2/4) / 3 = 0.25; pass@4 = 2/3.
    assert line["x"] == [1, 2, 3, 4]
    assert line["y"][0] == pytest.approx(0.25) and line["y"][-1] == pytest.approx(2 / 3)
    assert any(t.get("name") == "cons@k" for t in passk["figure"]["data"])
    lengths = chart(charts, "eval0-length")["figure"]["data"]
    assert [t["name"] for t in lengths] == ["correct (3)", "not correct (9)"]
    # Correct samples are 10, 10, 11 tokens long; the others 10-13 (tokens = 10 + sample index).
    assert lengths[0]["y"] == [2, 1, 0, 0] and lengths[1]["y"] == [1, 2, 3, 3]
