"""The zero stage on tiny models: it trains, logs finite metrics, checkpoints, and resumes."""

import json
import math

import pytest
import torch
from safetensors.torch import load_file

from r1lab.config import ZeroConfig
from r1lab.models.loading import TINY_BASE_DIR
from r1lab.stages.zero import run as run_zero

REQUIRED = ["step", "step_time_s", "reward_mean", "reward/accuracy", "reward/format", "accuracy",
            "response_length_mean", "response_length_p10", "response_length_p90", "entropy",
            "reflection_words_per_1k", "check_rate", "aha_rate"]


def tiny_cfg(**overrides):
    base = dict(steps=3, prompts_per_step=4, samples_per_prompt=4, micro_batch_size=8, max_new_tokens=64,
                learning_rate=5e-4, eval_every=0, save_every=0, train_problems=200, eval_problems=8,
                log_samples_per_step=2, report_to=[], seed=3)
    return ZeroConfig(**{**base, **overrides})


def rows(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def weights(path):
    return load_file(str(path / "model.safetensors"))


def test_tiny_base_trains_and_logs(tmp_path):
    run_zero(tiny_cfg(), tmp_path, progress=False)
    train = [r for r in rows(tmp_path) if "reward_mean" in r]
    assert [r["step"] for r in train] == [1, 2, 3]
    for r in train:
        for key in REQUIRED:
            assert key in r and r[key] is not None and math.isfinite(r[key]), key
        assert "kl" not in r  # beta = 0: no reference model, no KL
    assert any(r["grad_norm"] > 0 for r in train), "the base model gets some reward signal"
    before, after = weights(TINY_BASE_DIR), weights(tmp_path / "checkpoints" / "latest")
    assert any(not torch.equal(before[k], after[k]) for k in before), "parameters changed"
    assert (tmp_path / "plots" / "accuracy.png").stat().st_size > 0
    assert (tmp_path / "plots" / "response_length.png").stat().st_size > 0
    assert (tmp_path / "config.yaml").exists() and (tmp_path / "samples.jsonl").exists()


def test_resume_matches_uninterrupted_run(tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    run_zero(tiny_cfg(steps=4), straight, progress=False)
    run_zero(tiny_cfg(steps=2), resumed, progress=False)
    run_zero(tiny_cfg(steps=4), resumed, resume=True, progress=False)
    a, b = rows(straight), rows(resumed)
    assert [r["step"] for r in b] == [1, 2, 3, 4]
    for ra, rb in zip(a, b):
        for key in ("reward_mean", "accuracy", "response_length_mean", "loss"):
            assert rb[key] == pytest.approx(ra[key], abs=1e-5), (ra["step"], key)
    wa, wb = weights(straight / "checkpoints" / "latest"), weights(resumed / "checkpoints" / "latest")
    assert all(torch.allclose(wa[k], wb[k], atol=1e-6) for k in wa)


@pytest.mark.parametrize("loss", ["grpo", "dr_grpo", "dapo"])
def test_loss_variants_with_kl_and_mu(tmp_path, loss):
    cfg = tiny_cfg(steps=1, loss=loss, beta=0.05, iterations_per_batch=2, mask_truncated=True,
                   filter_zero_variance=True, prompts_per_step=2)
    run_zero(cfg, tmp_path, progress=False)
    (row,) = rows(tmp_path)
    assert math.isfinite(row["kl"]) and row["kl"] >= 0
    assert math.isfinite(row["loss"])


@pytest.mark.parametrize("fixture", ["tiny_qwen2", "tiny_llama"])
def test_random_hf_models_run(tmp_path, request, fixture):
    path = request.getfixturevalue(fixture)
    run_zero(tiny_cfg(model=path, steps=2, max_new_tokens=12, eval_every=2, eval_n=2, eval_problems=2),
             tmp_path, progress=False)
    all_rows = rows(tmp_path)
    assert [r["step"] for r in all_rows if "reward_mean" in r] == [1, 2]
    assert any("eval/pass@1" in r for r in all_rows)


def test_resume_refuses_a_different_config(tmp_path):
    from r1lab.errors import ConfigError

    run_zero(tiny_cfg(steps=1, prompts_per_step=2, samples_per_prompt=2), tmp_path, progress=False)
    with pytest.raises(ConfigError, match="learning_rate"):
        run_zero(tiny_cfg(steps=2, prompts_per_step=2, samples_per_prompt=2, learning_rate=1.0), tmp_path,
                 resume=True, progress=False)


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
def test_int8_rollouts_are_corrected_as_a_behaviour_policy(tmp_path):
    """rollout_precision=int8: rollouts come from a quantized copy, and the update (here under
    bfloat16 autocast) takes PPO's ratio against the copy's logprobs (on-policy float32 rollouts give
    a ratio of exactly 1)."""
    run_zero(tiny_cfg(steps=2, rollout_precision="int8", update_precision="bfloat16", eval_every=2, eval_n=1,
                      eval_problems=4), tmp_path, progress=False)
    train = [r for r in rows(tmp_path) if "reward_mean" in r]
    assert [r["step"] for r in train] == [1, 2]
    assert all(r["ratio_mean"] != 1.0 and abs(r["ratio_mean"] - 1) < 0.2 for r in train)
    assert any("eval/pass@1" in r for r in rows(tmp_path))
    on_policy = tmp_path / "float32"
    run_zero(tiny_cfg(steps=1), on_policy, progress=False)
    assert rows(on_policy)[0]["ratio_mean"] == pytest.approx(1.0, abs=1e-6)


def test_rollout_precision_needs_the_engine():
    with pytest.raises(ValueError, match="needs generator: engine"):
        tiny_cfg(rollout_precision="int8", generator="hf")


def test_resume_keeps_the_start_model_as_kl_reference(tmp_path):
    """With beta > 0 the reference is the starting policy, also after a resume from a checkpoint
    whose weights have moved."""
    from r1lab.grpo.setup import build_setup

    cfg = tiny_cfg(steps=1, beta=0.05, prompts_per_step=2, learning_rate=1e-2)
    run_zero(cfg, tmp_path, progress=False)
    s = build_setup(cfg, str(tmp_path / "checkpoints" / "latest"))
    base = weights(TINY_BASE_DIR)
    ref = {k: v for k, v in s.ref_model.state_dict().items() if k in base}
    moved = {k: v for k, v in s.model.state_dict().items() if k in base}
    assert ref and all(torch.equal(ref[k], base[k]) for k in ref)
    assert any(not torch.equal(moved[k], base[k]) for k in moved), "the policy resumed from moved weights"
