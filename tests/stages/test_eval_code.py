"""`r1lab eval` on a code task: HumanEval problems judged in the sandbox, through the same path."""

import json

from r1lab.cli import main


def test_eval_humaneval_runs_through_the_sandbox(tiny_qwen2, tmp_path):
    out = tmp_path / "eval"
    code = main(["eval", "--model", tiny_qwen2, "--benchmark", "humaneval", "--limit", "2", "--n", "2",
                 "--k", "1,2", "--max-new-tokens", "8", "--out", str(out)])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["benchmark"] == "humaneval" and summary["n"] == 2
    assert summary["pass@1"]["mean"] == 0.0  # a random model writes no code block
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 4 and {s["problem_id"] for s in samples} == {"HumanEval/0", "HumanEval/1"}
