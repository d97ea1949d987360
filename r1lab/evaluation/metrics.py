"""Evaluation metrics as pure functions: pass@k, consensus (majority vote) over equivalence classes,
bootstrap confidence intervals over problems, response-length statistics."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn without replacement from n (c of them correct)
    is correct: the unbiased estimator 1 - C(n-c, k) / C(n, k) of Chen et al. 2021 ("Evaluating Large
    Language Models Trained on Code", section 2.1), in its stable product form
    1 - prod_{i=n-c+1..n} (1 - k/i), which never forms the huge binomials."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got c={c}, n={n}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
    if n - c < k:
        return 1.0  # every k-subset contains a correct sample
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def vote_classes(answers: Sequence[str | None], equivalent: Callable[[str, str], bool]) -> list[list[int]]:
    """Group sample indices into classes of equivalent answers; empty answers (None or blank) join no
    class. Each class is represented by its first member; a new answer joins the first class whose
    representative it is equivalent to (`equivalent(representative, answer)`, the representative in the
    gold role), so the result does not depend on the relation being transitive. Identical strings are
    grouped without calling `equivalent`."""
    classes: list[list[int]] = []
    class_of_text: dict[str, int] = {}
    for i, answer in enumerate(answers):
        if answer is None or not answer.strip():
            continue
        if answer in class_of_text:
            classes[class_of_text[answer]].append(i)
            continue
        for ci, members in enumerate(classes):
            if equivalent(answers[members[0]], answer):
                members.append(i)
                class_of_text[answer] = ci
                break
        else:
            class_of_text[answer] = len(classes)
            classes.append([i])
    return classes


def majority_class(classes: list[list[int]]) -> list[int] | None:
    """The class with the most votes; ties go to the class whose first member was sampled first
    (deterministic, and independent of the answers' text). None when there are no votes."""
    if not classes:
        return None
    return max(classes, key=lambda members: (len(members), -members[0]))


def cons_at_k(answers: Sequence[str | None], correct: Sequence[bool],
              equivalent: Callable[[str, str], bool]) -> bool:
    """Majority-vote correctness over the given samples: the winning class's representative's verdict.
    No non-empty answer at all counts as wrong."""
    if len(answers) != len(correct):
        raise ValueError("answers and correct have different lengths")
    winner = majority_class(vote_classes(answers, equivalent))
    return bool(winner is not None and correct[winner[0]])


def bootstrap_ci(values: Sequence[float], *, resamples: int = 1000, seed: int = 0,
                 confidence: float = 0.95) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean of per-problem values: problems are resampled with
    replacement (the unit of variation in a benchmark is the problem, not the sample). Seeded, so a
    report is reproducible. None for no values."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return None
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    tail = (1.0 - confidence) / 2
    lo, hi = np.quantile(means, [tail, 1.0 - tail])
    return float(lo), float(hi)


def mean_with_ci(values: Sequence[float], seed: int = 0) -> dict:
    """{"mean", "ci95": [lo, hi]} over per-problem values (null for no values)."""
    ci = bootstrap_ci(values, seed=seed)
    mean = float(np.mean(values)) if len(values) else None
    return {"mean": mean, "ci95": list(ci) if ci is not None else None}


def length_stats(lengths: Sequence[int]) -> dict:
    """Response length in tokens: mean, median, 10th/90th percentile, min, max."""
    if not lengths:
        return {"mean": None, "median": None, "p10": None, "p90": None, "min": None, "max": None}
    x = np.asarray(lengths, dtype=np.float64)
    p10, median, p90 = np.quantile(x, [0.1, 0.5, 0.9])
    return {"mean": float(x.mean()), "median": float(median), "p10": float(p10), "p90": float(p90),
            "min": int(x.min()), "max": int(x.max())}



def pass_at_k_curve(counts: Sequence[int], n: int, ks: Sequence[int], seed: int = 0) -> list[dict]:
    """pass@k for each k in `ks` from per-problem correct counts out of n samples: the unbiased
    estimator per problem (pass_at_k), averaged over problems, with its bootstrap 95% interval over
    problems. [{"k", "mean", "lo", "hi"}]; lo and hi are NaN for no problems."""
    curve = []
    for k in ks:
        per_problem = [pass_at_k(n, c, k) for c in counts]
        lo, hi = bootstrap_ci(per_problem, seed=seed) or (float("nan"), float("nan"))
        mean = sum(per_problem) / len(per_problem) if per_problem else float("nan")
        curve.append({"k": k, "mean": mean, "lo": lo, "hi": hi})
    return curve
