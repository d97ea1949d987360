"""`r1lab eval` end to end on a tiny random Qwen2 model (built from a config, tokenizer trained with
`tokenizers`), and the shared runner's scoring on completions scripted through the Generator protocol."""

import json

import pytest

from r1lab.cli import main
from r1lab.evaluation.runner import evaluate_problems, report
from r1lab.tasks.math_file import MathTask
from r1lab.types import Completion, Problem

PROBLEMS = [
    {"question": "What is 1 + 1?", "answer": "2"},
    {"question": "What is half of one?", "answer": "\\frac{1}{2}"},
    {"question": "What is 3 * 3?", "answer": "9"},
]


def eval_args(model, bench, out, *extra):
    return ["eval", "--model", model, "--benchmark", str(bench), "--n", "2", "--k", "1,2,8",
            "--max-new-tokens", "6", "--out", str(out), "--batch-prompts", "2", *extra]


def read_samples(out):
    return [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]


def test_eval_writes_the_report_and_resumes(tiny_qwen2, tmp_path, capsys):
    bench = tmp_path / "three.jsonl"
    bench.write_text("".join(json.dumps(r) + "\n" for r in PROBLEMS))
    out = tmp_path / "out"

    assert main(eval_args(tiny_qwen2, bench, out)) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["benchmark"] == str(bench) and summary["model"] == tiny_qwen2 and summary["n"] == 2
    assert summary["problems"] == 3 and summary["generated_this_run"] == 3
    assert set(summary["pass@1"]) == {"mean", "ci95"} and 0 <= summary["pass@1"]["mean"] <= 1
    assert set(summary["pass@k"]) == {"1", "2"} and set(summary["cons@k"]) == {"1", "2"}
    assert summary["skipped_k"] == [8]
    assert summary["template"] == "r1_zero"  # the tiny tokenizer has no chat template
    assert sum(summary["verdicts"][s] for s in ("correct", "incorrect", "unverifiable")) == 6
    assert summary["response_length"]["max"] <= 6
    rows = read_samples(out)
    assert len(rows) == 6
    assert {"problem_id", "sample", "response", "extracted", "status", "correct", "reason", "tokens"} <= set(rows[0])
    assert "| pass@1 |" in capsys.readouterr().out

    # A rerun skips finished problems and reports the same numbers.
    assert main(eval_args(tiny_qwen2, bench, out)) == 0
    again = json.loads((out / "summary.json").read_text())
    assert again["generated_this_run"] == 0 and again["pass@1"] == summary["pass@1"]
    assert read_samples(out) == rows

    # An interrupted run: the last problem lost a sample and a line was cut. Only it is redone.
    kept = [r for r in rows if not (r["problem_id"] == rows[-1]["problem_id"] and r["sample"] == 1)]
    (out / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept) + '{"problem_id": "thr')
    assert main(eval_args(tiny_qwen2, bench, out)) == 0
    resumed = json.loads((out / "summary.json").read_text())
    assert resumed["generated_this_run"] == 1
    rows_after = read_samples(out)
    assert len(rows_after) == 6 and rows_after[:4] == rows[:4]

    # Different sampling settings never mix into the same output directory.
    assert main(eval_args(tiny_qwen2, bench, out, "--temperature", "1.0")) == 2


def test_eval_reads_a_named_benchmark_from_the_data_dir(tiny_qwen2, tmp_path):
    data = tmp_path / "data"
    (data / "gsm8k").mkdir(parents=True)
    rows = [{"question": "Two plus two?", "answer": "2+2=<<2+2=4>>4\n#### 4"},
            {"question": "Ten minus one?", "answer": "#### 9"}]
    (data / "gsm8k" / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    assert main(["eval", "--model", tiny_qwen2, "--benchmark", "gsm8k", "--data-dir", str(data), "--limit", "1",
                 "--n", "1", "--max-new-tokens", "4", "--out", str(out)]) == 0
    samples = read_samples(out)
    assert [s["gold"] for s in samples] == ["4"]
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["pass@k"]) == set(summary["cons@k"]) == {"1"} and summary["skipped_k"] == []
    assert main(["eval", "--model", tiny_qwen2, "--benchmark", "gsm8k", "--data-dir", str(tmp_path / "none"),
                 "--n", "1", "--out", str(tmp_path / "o2")]) == 2


class ScriptedGenerator:
    """A Generator whose completions are given in advance, prompt by prompt (the protocol, not a mock:
    the runner, the task and the verifier all run for real)."""

    def __init__(self, texts_per_prompt: list[list[str]]):
        self.texts = texts_per_prompt
        self.calls = 0

    def generate(self, prompt_ids, params):
        out = []
        for i in range(len(prompt_ids)):
            for text in self.texts[self.calls + i][: params.n]:
                out.append(Completion(prompt_index=i, token_ids=[0] * len(text.split()), text=text,
                                      finish_reason="stop"))
        self.calls += len(prompt_ids)
        return out

    def load_weights(self, state_dict):
        pass


def test_runner_scores_pass_at_k_and_consensus_with_the_math_verifier():
    problems = [Problem("a", "1/2?", "\\frac{1}{2}"), Problem("b", "2+2?", "4"), Problem("c", "0?", "0")]
    texts = [
        # "0.5" and "\frac{1}{2}" share a vote and beat "1/3": cons correct; 2 of 4 correct.
        ["\\boxed{1/3}", "\\boxed{0.5}", "\\boxed{\\frac{1}{2}}", "no answer"],
        # majority "5" (wrong) beats the single right "4": cons wrong; 1 of 4 correct.
        ["\\boxed{5}", "\\boxed{4}", "\\boxed{5}", "<think>\\boxed{4}</think> unsure"],
        # all wrong.
        ["\\boxed{1}", "\\boxed{2}", "\\boxed{3}", "\\boxed{1}"],
    ]
    task = MathTask("scripted", problems, test_fraction=1.0)
    results = evaluate_problems(ScriptedGenerator(texts), task, problems, [[1], [2], [3]], n=4, temperature=0.6,
                                top_p=0.95, max_new_tokens=8, stop=[], seed=0, batch_prompts=2)
    assert [sum(r.correct) for r in results] == [2, 1, 0]
    s = report(results, [1, 2, 4], task.equivalent, seed=0)
    assert s["pass@1"]["mean"] == pytest.approx((2 / 4 + 1 / 4 + 0) / 3)
    # pass@2 = 1 - C(n-c, 2)/C(4, 2): c=2 -> 5/6, c=1 -> 1/2, c=0 -> 0.
    assert s["pass@k"]["2"]["mean"] == pytest.approx((5 / 6 + 1 / 2 + 0) / 3)
    assert s["pass@k"]["4"]["mean"] == pytest.approx(2 / 3)
    assert s["cons@k"]["4"]["mean"] == pytest.approx(1 / 3)
    lo, hi = s["cons@k"]["4"]["ci95"]
    assert 0 <= lo <= 1 / 3 <= hi <= 1
    assert s["verdicts"]["no_answer"] == 2
    # Without answer equivalence the first problem's vote splits and "1/3" wins the tie.
    assert report(results, [4], None)["cons@k"]["4"]["mean"] == 0.0
