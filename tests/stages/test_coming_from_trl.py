"""README's "Coming from TRL", run as written: its reward file and YAML (taken from the README itself) and
its one command, on a local jsonl dataset with question/answer columns and a reward file outside
the package; only the model (the built-in tiny base), the length of the run and the batch sizes are
overridden, to fit 2 steps into a test."""

import json
import re
import shlex
from pathlib import Path

import yaml

from r1lab import cli
from r1lab.tasks.demo import DemoTask

README = Path(__file__).resolve().parents[2] / "README.md"
SMALL = ["--model", "tiny-base", "--steps", "2", "--set", "prompts_per_step=4", "--set", "samples_per_prompt=4",
         "--set", "max_new_tokens=48", "--set", "eval_every=2", "--set", "eval_n=2", "--set", "eval_problems=4",
         "--set", "threads=1"]


def doc_block(first_line: str) -> str:
    """The fenced block of README's "Coming from TRL" section that starts with `first_line`."""
    section = README.read_text().split("\n## Coming from TRL\n", 1)[1].split("\n## ", 1)[0]
    for block in re.findall(r"```\w*\n(.*?)```", section, flags=re.DOTALL):
        if block.startswith(first_line):
            return block
    raise AssertionError(f"no block starting with {first_line!r} in README.md's Coming from TRL")


def test_the_trl_walkthrough_runs_as_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_rewards.py").write_text(doc_block("# my_rewards.py"))
    (tmp_path / "grpo.yaml").write_text(doc_block("# grpo.yaml"))
    (tmp_path / "data").mkdir()
    rows = [{"question": p.question, "answer": str(p.answer), "level": "easy" if i % 2 else "hard"}
            for i, p in enumerate(DemoTask().problems("train", 60, seed=0))]
    (tmp_path / "data" / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    command = shlex.split(doc_block("r1lab zero").strip())
    assert command[:2] == ["r1lab", "zero"]

    assert cli.main(command[1:] + SMALL) == 0

    run = tmp_path / "runs" / "grpo"
    out = capsys.readouterr().out
    assert f"model in {Path('runs/grpo/final_model')}" in out  # the path, printed at the end
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in metrics if "reward_mean" in r]
    assert [r["step"] for r in train] == [1, 2]
    for r in train:
        assert 0 <= r["reward/exact_answer"] <= 1
        none_rate = r["reward_none_rate/short_when_easy"]  # None for the hard problems' completions
        assert (r["reward/short_when_easy"] is None) == (none_rate == 1)
        assert none_rate == 1 or 0 <= r["reward/short_when_easy"] <= 1
    assert any(0 < r["reward_none_rate/short_when_easy"] < 1 for r in train)
    assert any("eval/pass@1" in r for r in metrics if r["step"] == 2), "held-out eval on the file's test split"
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert [c["function"] for c in saved["rewards"]["custom"]] == [
        f"{tmp_path / 'my_rewards.py'}:exact_answer", f"{tmp_path / 'my_rewards.py'}:short_when_easy"]
    card = (run / "final_model" / "README.md").read_text()
    assert "`data/train.jsonl`" in card and "short_when_easy" in card
    assert re.search(r"\| this model \(step 2\) \| \d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\] \|", card), card
    samples = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    assert all("short_when_easy" in s["components"] for s in samples)
