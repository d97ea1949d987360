"""Run and eval directories for the report tests, written the way the stages write them: metrics rows
through RunLog, samples as types.sample_record rows, config.yaml and summary.json as files."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from r1lab.tracking.run_log import RunLog
from r1lab.types import Problem, Verdict, sample_record


def grpo_row(s: int, steps: int) -> dict:
    return {"step": s, "step_time_s": 1.0, "rollout_time_s": 0.6, "update_time_s": 0.4,
            "reward_mean": s / steps, "accuracy": s / (2 * steps), "response_length_mean": 10.0 + s,
            "response_length_p10": 5.0, "response_length_p90": 20.0 + s, "reflection_words_per_1k": 1.5 * s,
            "language_mixing_rate": 0.0, "truncated_rate": 0.0, "entropy": 2.0 - s / steps, "loss": 0.1,
            "grad_norm": 1.0 + s, "ratio_mean": 1.0, "reward/accuracy": s / (2 * steps), "reward/format": 1.0}


def fake_run(run_dir: Path, steps: int = 5, samples_per_step: int = 2, completion_chars: int = 40,
             lr: float = 1e-5, with_eval: bool = True, emergence: bool = False) -> Path:
    """A GRPO run: every step's metrics, an eval row every 2 steps (pass@1 with its interval), samples.
    With `emergence`, the per-step check and aha rates, the accuracy with a check (from step 2) and
    without, and an "aha" mark on each sample (true on the first sample of steps 3 and 5)."""
    log = RunLog(run_dir)
    for s in range(1, steps + 1):
        row = grpo_row(s, steps)
        if emergence:
            row |= {"check_rate": s / steps, "aha_rate": 0.0 if s < 3 else 0.1, "accuracy_without_check": 0.5}
            if s >= 2:  # no response checked at step 1
                row["accuracy_with_check"] = 0.75
        log.log_metrics(row)
        if with_eval and s % 2 == 0:
            log.log_metrics({"step": s, "eval/pass@1": s / 8, "eval/pass@1_ci95": [0.1, 0.4],
                             "eval/format_rate": 0.9, "eval/problems": 8, "eval/response_length_mean": 12.0 + s})
        filler = "y" * max(0, completion_chars - 40)
        rows = []
        for i in range(samples_per_step):
            problem = Problem(f"p{s}-{i}", f"What is {s} + {i}?", s + i)
            verdict = Verdict("correct", 1.0, str(s + i))
            text = f"<think> wait, {s}+{i} </think> <answer> {s + i} </answer>{filler}"
            row = sample_record(problem, text, 12, "stop", verdict, step=s, reward=1.2,
                                components={"accuracy": 1.0, "format": 1.0})
            if emergence:
                row["aha"] = i == 0 and s in (3, 5)
            rows.append(row)
        log.log_samples(rows)
    config = {"model": "tiny-base", "task": "demo", "learning_rate": lr, "rewards": {"format": 0.2}}
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))  # as the trainer's dump_yaml writes it
    return run_dir


def fake_sft(run_dir: Path, steps: int = 6) -> Path:
    """An SFT run: the rows, config and summary that stages/sft.py writes."""
    log = RunLog(run_dir)
    for s in range(1, steps + 1):
        log.log_metrics({"step": s, "epoch": 1 + (s - 1) // 3, "loss": 3.0 / s, "grad_norm": 2.0 / s,
                         "lr": 1e-4 * s / steps, "trained_tokens": 100 + s})
    (run_dir / "config.yaml").write_text(yaml.safe_dump({"model": "tiny-base", "data": ["/x/traces.jsonl"],
                                                         "epochs": 2}))
    (run_dir / "summary.json").write_text(json.dumps({"examples": 9, "used": 8, "steps": steps, "loss_first": 3.0,
                                                      "loss_last": 0.6, "wall_s": 12.5}))
    return run_dir


def fake_eval(out_dir: Path, n: int = 4, problems: int = 3) -> Path:
    """An `r1lab eval` directory: problem p has p of n samples correct (tokens = 10 + sample index)."""
    out_dir.mkdir(parents=True)
    rows = []
    for p in range(problems):
        problem = Problem(f"q{p}", f"question {p}", "7")
        for i in range(n):
            correct = i < p
            verdict = Verdict("correct" if correct else "incorrect", float(correct), "7" if correct else "5")
            rows.append(sample_record(problem, f"so \\boxed{{{verdict.extracted}}}", 10 + i, "stop", verdict,
                                      sample=i))
    (out_dir / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = {"benchmark": "toy", "model": "m", "problems": problems, "n": n, "template": "chat",
               "pass@1": {"mean": 0.25, "ci95": [0.0, 0.5]},
               "pass@k": {"1": {"mean": 0.25, "ci95": [0.0, 0.5]}, "4": {"mean": 0.667, "ci95": [0.33, 1.0]}},
               "cons@k": {"4": {"mean": 0.333, "ci95": [0.0, 1.0]}}}
    (out_dir / "summary.json").write_text(json.dumps(summary))
    return out_dir
