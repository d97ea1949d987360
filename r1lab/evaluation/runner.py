"""The one sampling-and-scoring path for held-out evaluation, used by `r1lab eval` and by the training
stages (periodic eval, the demo's before/after). Generator-agnostic: it takes encoded prompts.

NOTE for maintainers: stages/zero.py calls evaluate_problems(...) and summarize(...) with the
signatures below; keep them (extend with keyword arguments only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from r1lab.generation import SamplingParams
from r1lab.rewards import format_reward
from r1lab.types import Problem, Verdict


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


def evaluate_problems(
    generator, task, problems: list[Problem], prompt_ids: list[list[int]], *, n: int, temperature: float,
    top_p: float, max_new_tokens: int, stop: list[str], seed: int, batch_prompts: int = 16,
) -> list[ProblemResult]:
    results: list[ProblemResult] = []
    for start in range(0, len(problems), batch_prompts):
        chunk = problems[start:start + batch_prompts]
        params = SamplingParams(n=n, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p,
                                stop=stop, seed=seed + start)
        completions = generator.generate(prompt_ids[start:start + batch_prompts], params)
        for i, problem in enumerate(chunk):
            group = completions[i * n:(i + 1) * n]
            results.append(ProblemResult(
                problem=problem,
                texts=[c.text for c in group],
                verdicts=[task.verify(problem, c.text) for c in group],
                lengths=[len(c.token_ids) for c in group],
                finish_reasons=[c.finish_reason for c in group],
            ))
    return results


def summarize(results: list[ProblemResult], seed: int = 0) -> dict[str, float]:
    """pass@1 (mean over samples, then over problems), format-valid rate, mean length."""
    per_problem = [sum(r.correct) / len(r.correct) for r in results]
    texts = [t for r in results for t in r.texts]
    lengths = [n for r in results for n in r.lengths]
    return {
        "pass@1": sum(per_problem) / max(1, len(per_problem)),
        "format_rate": sum(format_reward(t) for t in texts) / max(1, len(texts)),
        "response_length_mean": sum(lengths) / max(1, len(lengths)),
        "problems": len(results),
    }
