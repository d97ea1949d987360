"""LoRA and a user's reward file on Ray rollout workers: the workers get the merged weights (a plain
model, no peft) and load the reward file themselves, and two workers reproduce the one-process run."""

from __future__ import annotations

import json

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("peft")

from r1lab.config import ZeroConfig  # noqa: E402
from r1lab.stages.zero import run as run_zero  # noqa: E402

COMPARED = ["reward_mean", "reward/longer", "response_length_mean", "completion_tokens", "loss", "grad_norm"]


@pytest.fixture(scope="module")
def ray_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def rows(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_two_workers_with_lora_and_a_reward_file_reproduce_the_local_run(ray_cluster, tiny_qwen2, tmp_path):
    reward_file = tmp_path / "user" / "dense.py"
    reward_file.parent.mkdir()
    # A dense reward, so groups differ, the adapters move, and later rollouts depend on the pushed weights.
    reward_file.write_text("def longer(completions, **kwargs):\n    return [len(c) / 50 for c in completions]\n")

    def cfg(**distributed):
        return ZeroConfig(model=tiny_qwen2, task="demo", steps=3, prompts_per_step=4, samples_per_prompt=4,
                          max_new_tokens=16, micro_batch_size=16, learning_rate=5e-2, train_problems=50,
                          eval_problems=4, save_every=0, log_samples_per_step=0, report_to=[], threads=1,
                          lora={"enabled": True, "r": 4, "target_modules": ["q_proj", "v_proj"]},
                          rewards={"format": 0.0, "custom": [f"{reward_file}:longer"]}, distributed=distributed)

    run_zero(cfg(), tmp_path / "local", progress=False)
    run_zero(cfg(backend="ray", rollout_workers=2), tmp_path / "ray", progress=False)
    local, remote = rows(tmp_path / "local"), rows(tmp_path / "ray")
    assert any(r["grad_norm"] > 0 for r in local[:-1]), "the adapters move, so the pushes matter"
    assert [r["step"] for r in remote] == [r["step"] for r in local]
    for a, b in zip(local, remote):
        for key in COMPARED:
            assert b[key] == pytest.approx(a[key], rel=1e-5, abs=1e-6), (a["step"], key)
