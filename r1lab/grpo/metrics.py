"""What a GRPO run records: per-step metrics, the sampled completions kept per step, held-out evals.

Per step: reward and each component, training accuracy, response length (mean, p10, p90), truncation,
the signals people watch in an R1-style run (reflection words, share of responses with a self-check,
aha rate, language mixing: r1lab.rewards.signals), zero-variance groups. Held-out evals add the same
emergence signals to pass@1, so the base and every later eval are measured alike. They use the R1
protocol (temperature 0.6, top-p 0.95, eval_n samples per problem) with the same sampling seed every
time, so the curve's differences are the model's, not the dice's.
"""

from __future__ import annotations

import math
import random

import torch

from r1lab.config import RULE_COMPONENTS
from r1lab.evaluation.runner import encode_prompts, evaluate_problems, summarize
from r1lab.models.templates import format_rule, stop_strings
from r1lab.rewards.language import language_mixing_rate, problem_language
from r1lab.rewards.signals import emergence_stats, is_aha
from r1lab.types import Rollout, sample_record


def step_metrics(rollout: Rollout, zero_var: torch.Tensor) -> dict[str, float]:
    comps = rollout.completions
    lengths = sorted(len(c.token_ids) for c in comps)
    signals = emergence_stats((c.text, v.correct) for c, v in zip(comps, rollout.verdicts))
    row = {
        "reward_mean": applicable_mean(rollout.rewards),
        "accuracy": sum(v.correct for v in rollout.verdicts) / len(comps),
        "unverifiable_rate": sum(v.status == "unverifiable" for v in rollout.verdicts) / len(comps),
        "response_length_mean": sum(lengths) / len(lengths),
        "response_length_p10": lengths[len(lengths) // 10],
        "response_length_p90": lengths[(9 * len(lengths)) // 10],
        "truncated_rate": sum(c.finish_reason == "length" for c in comps) / len(comps),
        "reflection_words_per_1k": signals["reflection_words_per_1k"],
        "check_rate": signals["check_rate"],
        "aha_rate": signals["aha_rate"],
        "language_mixing_rate": language_mixing_rate(
            [c.text for c in comps], [problem_language(rollout.problems[c.prompt_index]) for c in comps]),
        "zero_variance_group_rate": float(zero_var.float().mean()),
        "completion_tokens": sum(lengths),
    }
    # Whether checking pays this step: accuracy of the responses that check and of those that do not
    # (a key is absent when no response, or every response, checks).
    row.update({k: signals[k] for k in ("accuracy_with_check", "accuracy_without_check") if k in signals})
    for name, values in rollout.reward_components.items():
        row[f"reward/{name}"] = applicable_mean(values)
        if name not in RULE_COMPONENTS:  # a user's reward function: None where it does not apply
            row[f"reward_none_rate/{name}"] = sum(v is None for v in values) / len(values)
    return row


def applicable_mean(values: list[float | None]) -> float:
    """The mean over the values there are: None (a reward that does not apply) and NaN (one that
    could not score) are left out; NaN when nothing is left."""
    kept = [v for v in values if v is not None and not math.isnan(v)]
    return sum(kept) / len(kept) if kept else math.nan


def _json_number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def kept_samples(rollout: Rollout, step: int, k: int, seed: int) -> list[dict]:
    """k of the step's completions, a seeded pick, as samples.jsonl rows."""
    rng = random.Random(f"{seed}-samples-{step - 1}")
    picks = sorted(rng.sample(range(len(rollout.completions)), min(k, len(rollout.completions))))
    rows = []
    for i in picks:
        c = rollout.completions[i]
        rows.append(sample_record(
            rollout.problems[c.prompt_index], c.text, len(c.token_ids), c.finish_reason, rollout.verdicts[i],
            step=step, reward=_json_number(rollout.rewards[i]),
            components={name: _json_number(values[i]) for name, values in rollout.reward_components.items()},
            aha=is_aha(c.text, rollout.verdicts[i].correct)))
    return rows


def held_out_eval(s, seed: int) -> dict[str, float]:
    """pass@1 (with its 95% interval) over eval_n samples per held-out problem, the format-valid rate,
    response length (mean, p10, p90) and the emergence signals (check_rate, aha_rate, reflection words
    per 1k); sampled from the float32 policy, scored by the task's verifier."""
    cfg = s.cfg
    results = evaluate_problems(
        s.eval_generator, s.task, s.eval_problems, encode_prompts(s.tokenizer, s.task, s.eval_problems, s.template),
        n=cfg.eval_n, temperature=cfg.eval_temperature, top_p=cfg.eval_top_p,
        max_new_tokens=cfg.max_new_tokens, stop=stop_strings(s.template), seed=seed,
    )
    return summarize(results, format_rule(s.template)) | held_out_signals(results)


HELD_OUT_SIGNALS = ("check_rate", "aha_rate", "reflection_words_per_1k", "response_length_p10", "response_length_p90")


def held_out_signals(results) -> dict[str, float]:
    """The emergence signals over every sample of a held-out eval (r1lab.evaluation.runner.ProblemResult's)."""
    signals = emergence_stats(((t, v.correct) for r in results for t, v in zip(r.texts, r.verdicts)),
                              [n for r in results for n in r.lengths])
    return {k: signals[k] for k in HELD_OUT_SIGNALS if k in signals}


def first_and_last_tenth(rows: list[dict], key: str) -> dict[str, float]:
    """The mean of a per-step metric over the first and the last tenth of training: a curve's shape in
    two numbers (the response length's, or the share of responses that check themselves)."""
    rows = [r for r in rows if key in r and "reward_mean" in r]
    if not rows:
        return {}
    k = max(1, len(rows) // 10)
    first = sum(r[key] for r in rows[:k]) / k
    last = sum(r[key] for r in rows[-k:]) / k
    return {"first_tenth_mean": first, "last_tenth_mean": last}
