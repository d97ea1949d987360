"""Score a step's completions: verify each against its problem, compute rule rewards, combine.
Runs wherever the completions are (the trainer process, or a rollout worker)."""

from __future__ import annotations

from collections.abc import Sequence

from r1lab.rewards import accuracy_reward, combine, format_reward, partial_credit
from r1lab.rewards.custom import RewardFunction, call_reward, reward_columns
from r1lab.rewards.language import language_consistency, problem_language
from r1lab.types import TAGS_FORMAT, Completion, FormatRule, Problem, Rollout


def score_completions(
    task,
    problems: list[Problem],
    prompt_ids: list[list[int]],
    completions: list[Completion],
    weights: dict[str, float],
    custom: Sequence[RewardFunction] = (),
    prompt_texts: list[str] | None = None,
    format_rule: FormatRule = TAGS_FORMAT,
) -> Rollout:
    """Verdicts, rule rewards and the user's reward functions (`custom`, given `prompt_texts`, the
    prompts as the model saw them), combined with `weights` (every component's, custom ones included).
    `format_rule` is the form the prompt asked for (r1lab.models.templates.format_rule), which the
    format reward checks."""
    # One batch call, so tasks that can (math workers, code sandboxes) verify in parallel.
    verdicts = task.verify_many([problems[c.prompt_index] for c in completions], [c.text for c in completions])
    components = {
        "accuracy": [accuracy_reward(v) for v in verdicts],
        "format": [format_reward(c.text, format_rule) for c in completions],
    }
    if weights.get("partial", 0.0) != 0.0:  # the task's partial credit, only when asked for by weight
        components["partial"] = [partial_credit(v) for v in verdicts]
    if weights.get("language", 0.0) != 0.0:  # R1 stage 2: share of target-language words in the CoT
        targets = [problem_language(p) for p in problems]
        components["language"] = [language_consistency(c.text, targets[c.prompt_index]) for c in completions]
    if custom:  # TRL's calling convention: one value per completion, None where it does not apply
        prompts = [prompt_texts[c.prompt_index] for c in completions] if prompt_texts else [""] * len(completions)
        texts, ids = [c.text for c in completions], [c.token_ids for c in completions]
        columns = reward_columns(problems, completions)
        for fn in custom:
            components[fn.name] = call_reward(fn, prompts, texts, ids, columns)
    return Rollout(
        problems=problems,
        prompt_ids=prompt_ids,
        completions=completions,
        rewards=combine(components, weights),
        reward_components=components,
        verdicts=verdicts,
    )
