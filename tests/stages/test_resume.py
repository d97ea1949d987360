"""Runs that cannot be lost or corrupted: step-numbered checkpoints behind an atomic `latest`, a
crash at any point of a save, nothing to resume, a log cut mid-line, a corrupted checkpoint file, and
a demo pointed at an existing run."""

import json
import os
import shutil

import pytest
import torch
from safetensors.torch import load_file

from r1lab.config import ZeroConfig
from r1lab.errors import ConfigError, DataError
from r1lab.models.checkpoint import find_latest
from r1lab.stages import demo
from r1lab.stages.zero import run as run_zero


def tiny_cfg(**overrides):
    base = dict(steps=3, prompts_per_step=2, samples_per_prompt=4, micro_batch_size=8, max_new_tokens=32,
                learning_rate=5e-4, eval_every=0, save_every=1, train_problems=100, eval_problems=4,
                log_samples_per_step=1, report_to=[], seed=5)
    return ZeroConfig(**{**base, **overrides})


def steps_logged(run_dir):
    return [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_step_numbered_checkpoints_with_retention_and_an_atomic_pointer(tmp_path):
    run_zero(tiny_cfg(steps=4, save_total_limit=2), tmp_path, progress=False)
    root = tmp_path / "checkpoints"
    assert sorted(p.name for p in root.iterdir()) == ["checkpoint-3", "checkpoint-4", "latest"]
    assert (root / "latest").is_symlink() and os.readlink(root / "latest") == "checkpoint-4"
    assert find_latest(root) == (root / "checkpoint-4").resolve()
    assert (tmp_path / "final_model" / "model.safetensors").is_file()


def test_a_crash_before_the_pointer_moves_resumes_from_the_newest_complete_checkpoint(tmp_path):
    straight, crashed = tmp_path / "straight", tmp_path / "crashed"
    run_zero(tiny_cfg(steps=3), straight, progress=False)
    run_zero(tiny_cfg(steps=2), crashed, progress=False)
    root = crashed / "checkpoints"
    # What a crash mid-save could leave without an atomic pointer: no `latest` at all, and a
    # half-written temporary directory of the next save. The newest complete checkpoint is found.
    (root / "latest").unlink()
    (root / ".tmp-checkpoint-3").mkdir()
    assert find_latest(root) == root / "checkpoint-2"
    run_zero(tiny_cfg(steps=3), crashed, resume=True, progress=False)
    assert steps_logged(crashed) == [1, 2, 3]
    a = load_file(str(straight / "final_model" / "model.safetensors"))
    b = load_file(str(crashed / "final_model" / "model.safetensors"))
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_resume_with_nothing_to_resume_says_so_and_logs_nothing_twice(tmp_path):
    with pytest.raises(ConfigError, match="nothing to resume"):
        run_zero(tiny_cfg(steps=1), tmp_path / "empty", resume=True, progress=False)
    run_zero(tiny_cfg(steps=2, save_every=0, save_total_limit=1), tmp_path / "run", progress=False)
    shutil.rmtree(tmp_path / "run" / "checkpoints")  # as a run killed before its first checkpoint
    with pytest.raises(ConfigError, match="nothing to resume .* no checkpoint was saved"):
        run_zero(tiny_cfg(steps=3), tmp_path / "run", resume=True, progress=False)
    assert steps_logged(tmp_path / "run") == [1, 2]


def test_a_metrics_line_cut_mid_write_is_dropped_on_resume(tmp_path):
    run_zero(tiny_cfg(steps=2), tmp_path, progress=False)
    with open(tmp_path / "metrics.jsonl", "a") as f:
        f.write('{"step": 3, "reward_mean": 0.')  # killed while writing step 3
    run_zero(tiny_cfg(steps=3), tmp_path, resume=True, progress=False)
    assert steps_logged(tmp_path) == [1, 2, 3]


def test_a_corrupted_checkpoint_file_is_named(tmp_path):
    run_zero(tiny_cfg(steps=1), tmp_path, progress=False)
    state = tmp_path / "checkpoints" / "checkpoint-1" / "trainer_state.pt"
    state.write_bytes(state.read_bytes()[:100])
    with pytest.raises(DataError, match=r"checkpoint file .*checkpoint-1/trainer_state.pt is corrupted"):
        run_zero(tiny_cfg(steps=2), tmp_path, resume=True, progress=False)


def test_demo_into_an_existing_run_refuses_before_touching_it(tmp_path):
    run_zero(tiny_cfg(steps=1), tmp_path, progress=False)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(ConfigError, match="already holds a run"):
        demo.run(tiny_cfg(steps=1), tmp_path, progress=False)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == before
