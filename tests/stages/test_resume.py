"""Runs that cannot be lost or corrupted: step-numbered checkpoints behind an atomic `latest`, a
crash at any point of a save, nothing to resume, a log cut mid-line, a corrupted checkpoint file, a
full disk, and a demo pointed at an existing run."""

import json
import os
import re
import shutil
from pathlib import Path

import pytest
import safetensors
import torch
from safetensors.torch import load_file

from r1lab.cli import main
from r1lab.config import ZeroConfig, dump_yaml
from r1lab.errors import ConfigError, DataError, UserError
from r1lab.models.checkpoint import find_latest, save_checkpoint
from r1lab.models.loading import load_model
from r1lab.stages import demo
from r1lab.stages.zero import run as run_zero
from r1lab.tracking.run_log import RunLog


def tiny_cfg(**overrides):
    base = dict(steps=3, prompts_per_step=2, samples_per_prompt=4, micro_batch_size=8, max_new_tokens=32,
                learning_rate=5e-4, eval_every=0, save_every=1, train_problems=100, eval_problems=4,
                log_samples_per_step=1, report_to=[], seed=5)
    return ZeroConfig(**{**base, **overrides})


def steps_logged(run_dir):
    return [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def samples_logged(run_dir):
    return [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]


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


def test_complete_rows_logged_after_the_last_checkpoint_are_dropped_on_resume(tmp_path):
    # Issue 13 item 11: a crash after step 3 was logged (metrics and samples, whole lines) but before its
    # checkpoint was saved. Resuming from checkpoint-2 trains step 3 again and logs it once.
    run_zero(tiny_cfg(steps=3, save_every=2), tmp_path, progress=False)
    root = tmp_path / "checkpoints"
    first_step3 = [r["response"] for r in samples_logged(tmp_path) if r["step"] == 3]
    shutil.rmtree(root / "checkpoint-3")  # as if the crash came before its save
    (root / "latest").unlink()
    (root / "latest").symlink_to("checkpoint-2", target_is_directory=True)
    assert steps_logged(tmp_path) == [1, 2, 3] and first_step3
    run_zero(tiny_cfg(steps=3, save_every=2), tmp_path, resume=True, progress=False)
    assert steps_logged(tmp_path) == [1, 2, 3]
    assert [r["step"] for r in samples_logged(tmp_path)] == [1, 2, 3]
    # the step 3 now logged is the resumed one, which repeats the lost one exactly
    assert [r["response"] for r in samples_logged(tmp_path) if r["step"] == 3] == first_step3


def test_a_corrupted_checkpoint_file_is_named(tmp_path):
    run_zero(tiny_cfg(steps=1), tmp_path, progress=False)
    state = tmp_path / "checkpoints" / "checkpoint-1" / "trainer_state.pt"
    state.write_bytes(state.read_bytes()[:100])
    with pytest.raises(DataError, match=r"checkpoint file .*checkpoint-1/trainer_state.pt is corrupted"):
        run_zero(tiny_cfg(steps=2), tmp_path, resume=True, progress=False)


def test_a_truncated_model_file_in_the_checkpoint_is_named(tmp_path):
    # Issue 13 item 13: the weights file of the latest checkpoint cut short (a full disk, a killed copy)
    # is one DataError naming the file, not safetensors' traceback.
    run_zero(tiny_cfg(steps=1), tmp_path, progress=False)
    weights = tmp_path / "checkpoints" / "checkpoint-1" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:weights.stat().st_size // 2])
    with pytest.raises(DataError, match=r"checkpoint file .*checkpoint-1/model.safetensors is corrupted .*"
                                        r"remove checkpoint-1"):
        run_zero(tiny_cfg(steps=2), tmp_path, resume=True, progress=False)


def test_a_users_mistake_on_resume_is_not_blamed_on_the_checkpoint(tmp_path):
    # The checkpoint is fine; the reward file the run names is gone. The error must say so, not tell the
    # user to remove a good checkpoint.
    rewards = tmp_path / "my_rewards.py"
    rewards.write_text("def brevity(completions, **kwargs):\n    return [1.0 - len(c) / 100 for c in completions]\n")
    cfg = tiny_cfg(steps=1, rewards={"custom": [f"{rewards}:brevity"]})
    run_zero(cfg, tmp_path / "run", progress=False)
    rewards.unlink()
    with pytest.raises(ConfigError) as raised:
        run_zero(cfg.model_copy(update={"steps": 2}), tmp_path / "run", resume=True, progress=False)
    assert str(rewards) in str(raised.value) and "checkpoint" not in str(raised.value)


def test_demo_into_an_existing_run_refuses_before_touching_it(tmp_path):
    run_zero(tiny_cfg(steps=1), tmp_path, progress=False)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(ConfigError, match="already holds a run"):
        demo.run(tiny_cfg(steps=1), tmp_path, progress=False)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == before


# Every write to /dev/full fails with ENOSPC, as on a full disk: a file linked to it is a full disk for
# that one file, with the kernel's real error. (Nothing here may read it: reads never end.)
FULL = Path("/dev/full")
needs_dev_full = pytest.mark.skipif(not FULL.is_char_device(), reason="needs Linux's /dev/full")


def disk_full_at(path):
    return re.escape(f"no space left on the device while writing {path}; free some space")


@needs_dev_full
def test_a_full_disk_while_logging_is_one_line_naming_the_file(tmp_path):
    log = RunLog(tmp_path)
    for name in ("metrics.jsonl", "samples.jsonl", "summary.json"):
        (tmp_path / name).symlink_to(FULL)
    with pytest.raises(UserError, match=disk_full_at(tmp_path / "metrics.jsonl")):
        log.log_metrics({"step": 1, "reward_mean": 0.5})
    with pytest.raises(UserError, match=disk_full_at(tmp_path / "samples.jsonl")):
        log.log_samples([{"step": 1, "response": "..."}])
    with pytest.raises(UserError, match=disk_full_at(tmp_path / "summary.json")):
        log.write_summary({"steps": 1})


@needs_dev_full
def test_a_full_disk_while_saving_the_final_model_is_one_line_and_resume_finishes_the_run(tmp_path, capsys):
    config, run = tmp_path / "tiny.yaml", tmp_path / "run"
    dump_yaml(tiny_cfg(steps=1), config)
    (run / "final_model").mkdir(parents=True)
    (run / "final_model" / "config.json").symlink_to(FULL)  # the disk fills as final_model/ is written
    assert main(["zero", "--config", str(config), "--out", str(run)]) == 2
    err = capsys.readouterr().err
    assert re.search(disk_full_at(run / "final_model"), err) and "--resume" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    # As the line says: with space again, --resume writes what is missing from the last checkpoint.
    (run / "final_model" / "config.json").unlink()
    assert main(["zero", "--config", str(config), "--out", str(run), "--resume"]) == 0
    assert (run / "final_model" / "model.safetensors").is_file() and (run / "summary.json").is_file()
    assert steps_logged(run) == [1]


def test_a_full_disk_reported_by_safetensors_is_one_line_naming_the_checkpoint(tmp_path, tiny_qwen2, monkeypatch):
    # safetensors' Rust writer reports a full disk as a SafetensorError, not an OSError (seen on a full
    # tmpfs: this message); a full disk cannot be made in a test, so its writer is made to raise it.
    model, tokenizer = load_model(tiny_qwen2)
    save_checkpoint(tmp_path, model, tokenizer, 1)

    def serialize(message):
        def fail(*args, **kwargs):
            raise safetensors.SafetensorError(message)
        return fail

    monkeypatch.setattr(safetensors.torch, "serialize_file",
                        serialize("Error while serializing: I/O error: No space left on device (os error 28)"))
    with pytest.raises(UserError, match=disk_full_at(tmp_path / "checkpoint-2") + ".* rerun with --resume"):
        save_checkpoint(tmp_path, model, tokenizer, 2)
    assert find_latest(tmp_path) == (tmp_path / "checkpoint-1").resolve()  # the last complete one is kept
    monkeypatch.setattr(safetensors.torch, "serialize_file", serialize("Error while serializing: bad dtype"))
    with pytest.raises(safetensors.SafetensorError, match="bad dtype"):  # any other error is not disguised
        save_checkpoint(tmp_path, model, tokenizer, 2)
