"""rl on a tiny model: a step mixes demo-task prompts (rules + language consistency) and general
prompts (a reward model), logs both kinds of metric, changes the weights, and resumes."""

import json

import pytest
import torch
from transformers import AutoModelForCausalLM

from r1lab.config import build_config
from r1lab.data.general import write_demo_data
from r1lab.errors import ConfigError
from r1lab.stages.rl import RLConfig
from r1lab.stages.rl import run as run_rl


def config(model, data, steps):
    return build_config(RLConfig, {
        "grpo": {"model": model, "steps": steps, "prompts_per_step": 2, "samples_per_prompt": 2,
                 "max_new_tokens": 10, "learning_rate": 1e-3, "save_every": 1, "train_problems": 20,
                 "eval_problems": 2, "rewards": {"language": 0.5}},
        "general_prompts": data["prompts"], "general_per_step": 2, "reward_model": {"path": model},
    })


def test_mixture_step_logs_and_resumes(tiny_r1, tmp_path):
    data = write_demo_data(tmp_path / "data", prompts=6, pairs=2, sft=1)
    run = tmp_path / "rl"
    run_rl(config(tiny_r1, data, steps=1), run, progress=False)
    run_rl(config(tiny_r1, data, steps=2), run, resume=True, progress=False)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    for r in rows:
        assert 0 <= r["language_mixing_rate"] <= 1 and 0 <= r["general/language_mixing_rate"] <= 1
        assert 0 < r["general/reward_model"] < 1  # sigmoid-normalised reward-model score
        assert 0 <= r["reward/language"] <= 1  # scored because its weight is non-zero
    before = AutoModelForCausalLM.from_pretrained(tiny_r1).state_dict()
    after = AutoModelForCausalLM.from_pretrained(run / "checkpoints" / "latest").state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_general_prompts_need_a_reward_model(tmp_path):
    with pytest.raises(ConfigError, match="needs general_prompts and reward_model.path"):
        build_config(RLConfig, {"general_per_step": 2, "general_prompts": "x.jsonl"})
