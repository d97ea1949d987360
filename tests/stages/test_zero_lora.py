"""GRPO with LoRA and with gradient checkpointing, on the tiny base model: only the adapters train,
final_model/ is the merged plain model, resume continues the adapters, and gradient checkpointing
changes the memory, not the maths."""

import json

import pytest
import torch
from safetensors.torch import load_file

pytest.importorskip("peft")

from r1lab.config import ZeroConfig  # noqa: E402
from r1lab.grpo.setup import build_setup  # noqa: E402
from r1lab.models.loading import TINY_BASE_DIR  # noqa: E402
from r1lab.stages.zero import run as run_zero  # noqa: E402

LORA = {"enabled": True, "r": 4, "alpha": 8.0, "target_modules": ["q_proj", "v_proj"]}


def tiny_cfg(**overrides):
    base = dict(steps=2, prompts_per_step=4, samples_per_prompt=4, micro_batch_size=8, max_new_tokens=48,
                learning_rate=5e-3, eval_every=0, save_every=1, train_problems=100, eval_problems=8,
                log_samples_per_step=2, report_to=[], seed=3, threads=1)
    return ZeroConfig(**{**base, **overrides})


def rows(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()
            if "reward_mean" in line]


def test_lora_trains_only_the_adapters_and_saves_the_merged_model(tmp_path):
    summary = run_zero(tiny_cfg(lora=LORA), tmp_path, progress=False)
    assert any(r["grad_norm"] > 0 for r in rows(tmp_path))
    before, after = load_file(str(TINY_BASE_DIR / "model.safetensors")), load_file(
        str(tmp_path / "final_model" / "model.safetensors"))
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.endswith(("q_proj.weight", "v_proj.weight")) for k in changed), changed
    assert not (tmp_path / "final_model" / "adapter_config.json").exists(), "merged: loadable without peft"
    assert (tmp_path / "checkpoints" / "latest" / "adapter_config.json").exists(), "checkpoints keep the adapters"
    assert summary["final_model"] == str(tmp_path / "final_model")


def test_the_merged_generator_follows_the_adapters(tmp_path):
    s = build_setup(tiny_cfg(lora=LORA))
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    with torch.no_grad():
        for name, p in s.model.named_parameters():
            if "lora_B" in name:
                p.add_(0.3)
        stale = s.generation_model(input_ids=ids).logits
        s.merged.refresh()
        fresh = s.generation_model(input_ids=ids).logits
        s.model.eval()
        torch.testing.assert_close(fresh, s.model(input_ids=ids).logits, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(stale, fresh)


def test_lora_resume_matches_uninterrupted_run(tmp_path, capsys):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    run_zero(tiny_cfg(lora=LORA, steps=3), straight, progress=False)
    run_zero(tiny_cfg(lora=LORA, steps=2), resumed, progress=False)
    capsys.readouterr()
    run_zero(tiny_cfg(lora=LORA, steps=3), resumed, resume=True, progress=False)
    assert "resuming from step 2" in capsys.readouterr().out
    for a, b in zip(rows(straight), rows(resumed)):
        for key in ("reward_mean", "loss", "grad_norm"):
            assert b[key] == pytest.approx(a[key], abs=1e-5), (a["step"], key)


@pytest.mark.parametrize("lora", [None, LORA], ids=["full", "lora"])
def test_gradient_checkpointing_changes_memory_not_the_update(tmp_path, lora):
    extra = {"lora": lora} if lora else {}
    run_zero(tiny_cfg(steps=1, **extra), tmp_path / "plain", progress=False)
    run_zero(tiny_cfg(steps=1, gradient_checkpointing=True, **extra), tmp_path / "ckpt", progress=False)
    a, b = rows(tmp_path / "plain")[0], rows(tmp_path / "ckpt")[0]
    assert a["grad_norm"] > 0
    for key in ("loss", "grad_norm", "reward_mean", "entropy"):
        assert b[key] == pytest.approx(a[key], rel=1e-4, abs=1e-6), key
