"""distill with tiny models: a teacher fine-tuned to solve one problem produces verified traces, and
a different (smaller) student is fine-tuned on them and then solves it too."""

import json

import torch
from transformers import AutoModelForCausalLM

from r1lab.data.io import read_sft
from r1lab.models.loading import load_tokenizer
from r1lab.models.tiny_base import BaseBuildConfig, model_config
from r1lab.stages.distill import DistillConfig
from r1lab.stages.distill import run as run_distill
from r1lab.stages.sft import SFTConfig
from r1lab.stages.sft import run as run_sft
from r1lab.tasks.demo import DemoTask


def test_student_learns_the_teachers_verified_traces(tiny_r1, tmp_path):
    p = DemoTask().problems("train", 1, seed=3)[0]
    seed_data = tmp_path / "seed.jsonl"
    seed_data.write_text(json.dumps({"prompt": p.question,
                                     "completion": f"<think> ok . </think> <answer> {p.answer} </answer>"}) + "\n")
    teacher = run_sft(SFTConfig(model=tiny_r1, data=[str(seed_data)] * 8, epochs=60, batch_size=8,
                                learning_rate=5e-3), tmp_path / "teacher", progress=False)["final_model"]
    # A smaller student with the same tokenizer, randomly initialised.
    tokenizer = load_tokenizer(tiny_r1)
    small = BaseBuildConfig(hidden_size=32, layers=1, heads=2, kv_heads=1, intermediate_size=64)
    torch.manual_seed(1)
    student_dir = tmp_path / "student0"
    AutoModelForCausalLM.from_config(model_config(small, tokenizer)).save_pretrained(student_dir)
    tokenizer.save_pretrained(student_dir)

    cfg = DistillConfig(teacher=teacher, student=str(student_dir),
                        sample={"task": "demo", "problems": 1, "seed": 3, "n": 4, "temperature": 0.7, "max_new_tokens": 24,
                                "max_per_prompt": 1},
                        sft={"epochs": 10, "batch_size": 1, "learning_rate": 1e-2})
    s = run_distill(cfg, tmp_path / "distill", progress=False)
    traces = read_sft(tmp_path / "distill" / "traces" / "data.jsonl")
    assert len(traces) == 1 and traces[0].meta["model"] == teacher and traces[0].meta["verdict"] == "correct"
    assert s["sft"]["loss_last"] < s["sft"]["loss_first"]
    student = AutoModelForCausalLM.from_pretrained(s["final_model"])
    assert student.config.hidden_size == 32
