"""Rule-based rewards (R1-Zero uses no neural reward model) and their weighted combination.

Accuracy is the binary verdict of the task's own verify(), the one eval reports, so training reward and
eval accuracy cannot disagree. A task's partial credit (reasoning-gym's scores, the fraction of code
tests passed) is a reward-hacking route (a hedged "5 or 6" earns part of it), so it is a component
of its own, `partial`, with weight 0 unless a config asks for it. Format is a strict rule on the
response, the one the prompt asked for (r1lab.types.FormatRule): R1-Zero's think and
answer blocks, or, under a chat template whose instruction asks for a \\boxed{} answer, exactly one
boxed answer where the answer extractor looks for it. Users' own reward functions
(r1lab.rewards.custom) are components like these. `combine` returns the total; every component is
logged each step.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection

from r1lab.types import TAGS_FORMAT, FormatRule, Verdict
from r1lab.verify.extract import answer_region, boxed_answers, normalized_box, tagged_answer

FORMAT_RE = re.compile(r"^\s*<think>(.*?)</think>\s*<answer>(.*?)</answer>\s*$", re.DOTALL)
TAGS = ("<think>", "</think>", "<answer>", "</answer>")


def format_reward(response: str, rule: FormatRule = TAGS_FORMAT) -> float:
    """1.0 iff the response has the form the prompt asked for (`rule`, from the prompt's template:
    r1lab.models.templates.format_rule), else 0. Partial credit invites reward hacking. A copy of a
    filled box the prompt itself shows (`rule.placeholders`) is not an answer."""
    if rule.answer == "tags":
        return think_answer_format(response)
    return boxed_format(response, rule.placeholders)


def think_answer_format(response: str) -> float:
    """1.0 iff the response is exactly one non-empty think block, then one non-empty answer block,
    and nothing after it (surrounding whitespace aside)."""
    if any(response.count(tag) != 1 for tag in TAGS):
        return 0.0
    match = FORMAT_RE.match(response)
    if not match or not match.group(1).strip() or not match.group(2).strip():
        return 0.0
    return 1.0


def boxed_format(response: str, placeholders: Collection[str] = ()) -> float:
    """1.0 iff the answer extractor (r1lab.verify.extract) finds exactly one non-empty \\boxed{}
    answer: in the answer region (after a closed reasoning block, if any), inside the answer tags
    when there are some. Two different boxes ("\\boxed{5} or \\boxed{6}") are a hedge and earn
    nothing; an empty or unclosed box is no answer. Text after the box is allowed: the instruction
    asks only that the final answer be boxed, and the extracted answer is the box either way. A box
    that repeats one the prompt shows ("\\boxed{answer}" in a system prompt) earns nothing: SmolLM2
    learned to echo such an instruction for this reward within five GRPO steps (README, "Train a real
    model on a CPU")."""
    region = answer_region(response)
    if region is None:  # an unclosed <think>: no answer at all
        return 0.0
    tagged = tagged_answer(region)
    boxes = boxed_answers(region if tagged is None else tagged)
    return 1.0 if len(boxes) == 1 and normalized_box(boxes[0]) not in placeholders else 0.0


def accuracy_reward(verdict: Verdict) -> float:
    """1 for a correct verdict, else 0; an unverifiable response earns nothing (and is counted apart)."""
    return 1.0 if verdict.correct else 0.0


def partial_credit(verdict: Verdict) -> float:
    """The task's partial credit in [0, 1] (Verdict.score); nothing for an unverifiable response."""
    return verdict.score if verdict.status != "unverifiable" else 0.0


def combine(components: dict[str, list[float | None]], weights: dict[str, float]) -> list[float]:
    """Total reward per sample: sum over components of weight * value. Components with weight 0 are
    still logged by the caller but do not move the total. A value of None means the component does
    not apply to that sample (a user's reward function returned None) and adds nothing, as in TRL; a
    sample to which no weighted component applies gets NaN. NaN means a component could not score the
    sample: the total is then NaN too. The advantage leaves NaN totals out of their group's statistics
    (r1lab.rl.advantages)."""
    names = [name for name in components if weights.get(name, 0.0) != 0.0]
    size = len(next(iter(components.values()))) if components else 0
    if any(len(v) != size for v in components.values()):
        raise ValueError("reward components have different lengths")
    totals = []
    for i in range(size):
        terms = [weights[name] * components[name][i] for name in names if components[name][i] is not None]
        totals.append(sum(terms) if terms or not names else math.nan)
    return totals
