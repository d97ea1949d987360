"""`r1lab zero` on a code task: two GRPO steps of a tiny random model with the sandboxed code reward."""

import json
import math

from r1lab.config import ZeroConfig
from r1lab.stages.zero import run as run_zero

F = "```"
PROBLEMS = [
    {"id": f"add{i}", "question": f"Write add{i}(a, b) returning a + b + {i}.", "entry_point": f"add{i}",
     "tests": f"assert add{i}(1, 2) == {3 + i}\nassert add{i}(0, 0) == {i}\n", "split": "train"}
    for i in range(6)
] + [{"id": "echo", "question": "Print the input line reversed.", "split": "test",
      "tests": [{"input": "abc\n", "output": "cba\n"}]}]


def test_zero_runs_two_steps_on_a_code_task(tiny_qwen2, tmp_path):
    path = tmp_path / "code.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS))
    cfg = ZeroConfig(model=tiny_qwen2, task=f"code:{path}", steps=2, prompts_per_step=2, samples_per_prompt=2,
                     micro_batch_size=4, max_new_tokens=24, learning_rate=1e-3, eval_every=0, save_every=0,
                     train_problems=20, eval_problems=1, log_samples_per_step=2, report_to=[], seed=0)
    run_zero(cfg, tmp_path / "run", progress=False)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in rows if "reward_mean" in r]
    assert [r["step"] for r in train] == [1, 2]
    for r in train:
        assert math.isfinite(r["reward_mean"]) and 0.0 <= r["reward/accuracy"] <= 1.0
        assert r["unverifiable_rate"] == 0.0  # the sandbox judged (or found no code in) every sample
