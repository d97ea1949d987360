"""The demo recipe end to end at a few steps on the shipped tiny base model: it loads, trains, evaluates
before and after, and its sampled completions are in the form the emergence signals read."""

import json

import pytest

from r1lab.config import ZeroConfig, load_config
from r1lab.models.loading import TINY_BASE_DIR
from r1lab.rewards.signals import emergence_stats
from r1lab.stages.demo import DEMO_RECIPE, run_demo


@pytest.mark.skipif(not (TINY_BASE_DIR / "model.safetensors").is_file(), reason="tiny-base not built")
def test_demo_recipe_runs_a_few_steps(tmp_path):
    cfg = load_config(ZeroConfig, DEMO_RECIPE, ["steps=2", "prompts_per_step=2", "samples_per_prompt=4",
                                                "eval_problems=4", "eval_n=2", "threads=1", "report_to=[]",
                                                "log_samples_per_step=8", "save_every=0"])
    assert cfg.task == "demo" and cfg.model == "tiny-base" and cfg.rewards.model_dump().get("length", 0) == 0
    summary = run_demo(cfg, tmp_path / "run")
    for when in ("base", "final"):
        assert 0.0 <= summary[when]["pass@1"] <= 1.0 and summary[when]["problems"] == 4
    rows = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 2 * 8
    stats = emergence_stats([(r["completion"], r["status"] == "correct") for r in rows], [r["length"] for r in rows])
    assert stats["n"] == 16 and 0.0 <= stats["check_rate"] <= 1.0 and stats["response_length_mean"] > 0
    # The base model answers in the frame it was pretrained on.
    assert sum("<think>" in r["completion"] for r in rows) >= 12
