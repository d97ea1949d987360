"""TensorBoard event files of a real tiny run, read back by tensorboard's own event reader."""

import json

import pytest

from r1lab.config import ZeroConfig
from r1lab.models.random_init import build_random_model
from r1lab.stages.zero import run as run_zero
from r1lab.tracking.trackers import Trackers

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def read_events(run_dir):
    acc = event_accumulator.EventAccumulator(str(run_dir), size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    return acc


def test_run_writes_tensorboard_events_next_to_metrics(tmp_path):
    model = build_random_model(tmp_path / "model")
    cfg = ZeroConfig(model=str(model), task="demo", steps=3, prompts_per_step=2, samples_per_prompt=2,
                     max_new_tokens=16, eval_every=0, save_every=0, train_problems=20, eval_problems=2,
                     report_to=["tensorboard"], seed=1)
    run_dir = tmp_path / "run"
    run_zero(cfg, run_dir, progress=False)

    assert list(run_dir.glob("events.out.tfevents.*")), "event files sit beside metrics.jsonl"
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    acc = read_events(run_dir)
    tags = set(acc.Tags()["scalars"])
    assert {"reward_mean", "accuracy", "reward/format", "response_length_mean", "step_time_s", "lr"} <= tags
    for key in ("reward_mean", "response_length_mean", "truncated_rate", "step_time_s", "lr"):
        events = acc.Scalars(key)
        assert [e.step for e in events] == [r["step"] for r in rows]
        assert [e.value for e in events] == pytest.approx([r[key] for r in rows], rel=1e-6)
    # A null in metrics.jsonl (e.g. entropy when every group had zero variance) is no event.
    for key in ("entropy", "clip_fraction"):
        logged = [r["step"] for r in rows if r.get(key) is not None]
        assert [e.step for e in acc.Scalars(key)] == logged if logged else key not in tags
    assert "config/text_summary" in acc.Tags()["tensors"]  # the resolved config, as text at step 0


def test_resumed_run_replaces_the_events_past_its_checkpoint(tmp_path):
    first = Trackers(tmp_path, ["tensorboard"], {"lr": 1.0})
    for step in range(1, 5):
        first.log({"step": step, "loss": float(step), "eval/pass@1_ci95": [0.1, 0.2]})
    first.close()
    # A crash after step 4 and a resume from the checkpoint at step 2: steps 3-4 are logged again.
    resumed = Trackers(tmp_path, ["tensorboard"], {"lr": 1.0}, resume_step=2)
    for step in (3, 4):
        resumed.log({"step": step, "loss": 10.0 * step})
    resumed.close()
    loss = read_events(tmp_path).Scalars("loss")
    assert [(e.step, e.value) for e in loss] == [(1, 1.0), (2, 2.0), (3, 30.0), (4, 40.0)]
    assert [e.value for e in read_events(tmp_path).Scalars("eval/pass@1_ci95_lo")] == pytest.approx([0.1] * 2)
