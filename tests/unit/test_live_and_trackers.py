"""The terminal's live view of a run and the tracker helpers (moved here from test_report.py when the
report became a package: they test tracking/live.py and tracking/trackers.py)."""

import io

import pytest

from r1lab.tracking.live import LiveView, eta_seconds, format_duration, metrics_text
from r1lab.tracking.trackers import Trackers, installed, mlflow_key, scalars


def test_eta_and_durations():
    assert eta_seconds(0, 10, 5.0) is None
    assert eta_seconds(4, 6, 8.0) == 12.0  # 2 s a step, 6 steps left
    assert format_duration(None) == "?"
    assert format_duration(7) == "0:07"
    assert format_duration(723) == "12:03"
    assert format_duration(3723) == "1:02:03"


def test_metrics_text_skips_absent_keys():
    text = metrics_text({"reward_mean": 0.5, "accuracy": 0.25, "response_length_mean": 57.4, "entropy": float("nan")},
                        {"step": 10, "eval/pass@1": 0.3, "eval/pass@1_ci95": [0.2, 0.4]})
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
