"""Rule-based rewards (R1-Zero uses no neural reward model) and their weighted combination.

Accuracy comes from the task's own verify(), so training reward and eval accuracy cannot disagree.
Format is a strict rule on the whole response. `combine` returns the total and each component, and
every component is logged each step.
"""

from __future__ import annotations

import re

from r1lab.types import Verdict

FORMAT_RE = re.compile(r"^\s*<think>(.*?)</think>\s*<answer>(.*?)</answer>\s*$", re.DOTALL)
TAGS = ("<think>", "</think>", "<answer>", "</answer>")


def format_reward(response: str) -> float:
    """1.0 iff the response is exactly one non-empty think block, then one non-empty answer block,
    and nothing after it (surrounding whitespace aside). Partial credit invites reward hacking."""
    if any(response.count(tag) != 1 for tag in TAGS):
        return 0.0
    match = FORMAT_RE.match(response)
    if not match or not match.group(1).strip() or not match.group(2).strip():
        return 0.0
    return 1.0


def accuracy_reward(verdict: Verdict) -> float:
    """The verifier's score; an unverifiable response earns nothing (and is counted apart)."""
    return verdict.score if verdict.status != "unverifiable" else 0.0


def combine(components: dict[str, list[float]], weights: dict[str, float]) -> list[float]:
    """Total reward per sample: sum over components of weight * value. Components with weight 0 are
    still logged by the caller but do not move the total."""
    names = [name for name in components if weights.get(name, 0.0) != 0.0]
    size = len(next(iter(components.values()))) if components else 0
    if any(len(v) != size for v in components.values()):
        raise ValueError("reward components have different lengths")
    return [sum(weights[name] * components[name][i] for name in names) for i in range(size)]
