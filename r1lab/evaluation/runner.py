"""The one sampling-and-scoring path for held-out evaluation, used by `r1lab eval`, `r1lab compare`
and the GRPO loop's held-out evals. Generator-agnostic: it takes encoded prompts and any object with
`generate(prompt_ids, SamplingParams) -> list[Completion]`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from r1lab.evaluation.metrics import cons_at_k, length_stats, mean_with_ci, pass_at_k
from r1lab.generation import SamplingParams
from r1lab.models.templates import render_prompt
from r1lab.rewards import format_reward
from r1lab.types import TAGS_FORMAT, FormatRule, Problem, Verdict


@dataclass
class ProblemResult:
    problem: Problem
    texts: list[str]  # [n] completions
    verdicts: list[Verdict]  # [n]
    lengths: list[int]  # [n] completion tokens
    finish_reasons: list[str] = field(default_factory=list)

    @property
    def correct(self) -> list[bool]:
        return [v.correct for v in self.verdicts]

    @property
    def pass1(self) -> float:
        """This problem's pass@1: the share of its samples that are correct."""
        return sum(self.correct) / len(self.verdicts)


def encode_prompts(tokenizer, task, problems: list[Problem], template: str) -> list[list[int]]:
    """Prompt token ids: the task's question in the chosen template (chat: with the task's
    instruction, e.g. R1's \\boxed{} directive for math)."""
    texts = [render_prompt(template, task.prompt(p), tokenizer, task.chat_instruction) for p in problems]
    return [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]


def evaluate_problems(
    generator, task, problems: list[Problem], prompt_ids: list[list[int]], *, n: int, temperature: float,
    top_p: float, max_new_tokens: int, stop: list[str], seed: int, batch_prompts: int = 16,
    on_batch: Callable[[list[ProblemResult]], None] | None = None,
) -> list[ProblemResult]:
    """n samples per problem, scored by the task's verifier. Sampling is seeded per batch of prompts
    (seed + index of the batch's first problem). `on_batch` sees each batch's results as soon as they
    are scored (the eval command appends them to disk, which makes it resumable)."""
    results: list[ProblemResult] = []
    for start in range(0, len(problems), batch_prompts):
        chunk = problems[start:start + batch_prompts]
        params = SamplingParams(n=n, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p,
                                stop=stop, seed=seed + start)
        completions = generator.generate(prompt_ids[start:start + batch_prompts], params)
        owners = [chunk[i // n] for i in range(len(completions))]
        verdicts = task.verify_many(owners, [c.text for c in completions])
        batch = []
        for i, problem in enumerate(chunk):
            group = completions[i * n:(i + 1) * n]
            batch.append(ProblemResult(
                problem=problem,
                texts=[c.text for c in group],
                verdicts=verdicts[i * n:(i + 1) * n],
                lengths=[len(c.token_ids) for c in group],
                finish_reasons=[c.finish_reason for c in group],
            ))
        if on_batch is not None:
            on_batch(batch)
        results.extend(batch)
    return results


def summarize(results: list[ProblemResult], format_rule: FormatRule = TAGS_FORMAT) -> dict[str, float]:
    """pass@1 (mean over samples, then over problems) with its bootstrap 95% interval over problems
    (`pass@1_ci95`: [lo, hi]), format-valid rate (the format reward's rule for the form the prompt
    asked for, `format_rule`), mean length."""
    pass1 = mean_with_ci([r.pass1 for r in results])
    lengths = [n for r in results for n in r.lengths]
    return {
        "pass@1": pass1["mean"], "pass@1_ci95": pass1["ci95"],
        "format_rate": format_rate(results, format_rule),
        "response_length_mean": sum(lengths) / max(1, len(lengths)),
        "problems": len(results),
    }


def format_rate(results: list[ProblemResult], format_rule: FormatRule = TAGS_FORMAT) -> float:
    """Share of all samples that the format reward accepts (r1lab.rewards.format_reward: the same rule
    as training's, for the form the prompt asked for)."""
    texts = [t for r in results for t in r.texts]
    return sum(format_reward(t, format_rule) for t in texts) / max(1, len(texts))


def exact_equivalence(a: str, b: str) -> bool:
    return a.strip() == b.strip()


def report(results: list[ProblemResult], ks: list[int], equivalent: Callable[[str, str], bool] | None = None,
           seed: int = 0, format_rule: FormatRule | None = None) -> dict:
    """The full eval report: pass@1, pass@k (unbiased estimator), cons@k (majority vote over classes
    of equivalent answers among the first k samples), each with a bootstrap 95% interval over
    problems; verdict counts and response-length statistics; the format-valid rate when the form the
    prompt asked for (`format_rule`) is given. ks larger than n are skipped."""
    if not results:
        raise ValueError("no results to report")
    n = min(len(r.verdicts) for r in results)
    equivalent = _memoized(equivalent or exact_equivalence)
    counts = [sum(r.correct[:n]) for r in results]
    out: dict = {"problems": len(results), "n": n,
                 "pass@1": mean_with_ci([pass_at_k(n, c, 1) for c in counts], seed=seed), "pass@k": {}, "cons@k": {}}
    for k in sorted(set(ks)):
        if k > n:
            continue
        out["pass@k"][str(k)] = mean_with_ci([pass_at_k(n, c, k) for c in counts], seed=seed)
        votes = [float(cons_at_k([v.extracted for v in r.verdicts[:k]], r.correct[:k], equivalent))
                 for r in results]
        out["cons@k"][str(k)] = mean_with_ci(votes, seed=seed)
    out["skipped_k"] = sorted(k for k in set(ks) if k > n)
    verdicts = [v for r in results for v in r.verdicts]
    out["verdicts"] = {s: sum(v.status == s for v in verdicts) for s in ("correct", "incorrect", "unverifiable")}
    out["verdicts"]["no_answer"] = sum(v.extracted is None for v in verdicts)
    lengths = [x for r in results for x in r.lengths]
    finishes = [f for r in results for f in r.finish_reasons]
    out["response_length"] = length_stats(lengths)
    out["response_length"]["truncated_rate"] = sum(f == "length" for f in finishes) / max(1, len(finishes))
    if format_rule is not None:
        out["format_rate"] = format_rate(results, format_rule)
    return out


def _memoized(fn: Callable[[str, str], bool]) -> Callable[[str, str], bool]:
    cache: dict[tuple[str, str], bool] = {}

    def wrapped(a: str, b: str) -> bool:
        if (a, b) not in cache:
            cache[(a, b)] = fn(a, b)
        return cache[(a, b)]

    return wrapped
