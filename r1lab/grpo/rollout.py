"""Phases 1-3 of a GRPO step for a set of prompts: draw them, sample G completions each, score them.

This is the unit of work wherever rollouts are made: in the trainer's process or on Ray rollout
workers (r1lab.grpo.sources), which call the same `make_rollout`, so two
workers reproduce one process. Sampling is seeded per prompt and step (`prompt_seed`), so a prompt's
G samples do not depend on which other prompts share the batch.

Behaviour logprobs: the update takes PPO's ratio against the policy that sampled, which differs from
the trainer's current weights when rollouts come from a rounded copy (rollout_precision) or from
older weights (async workers); `behaviour_logprobs` picks what the update needs.
"""

from __future__ import annotations

import hashlib
import random

import torch

from r1lab.config import ZeroConfig
from r1lab.evaluation.runner import encode_prompts
from r1lab.generation import Generator, SamplingParams
from r1lab.models.templates import (
    PromptFormat,
    format_rule,
    render_prompt,
    stop_strings,
)
from r1lab.rewards.custom import load_reward_functions
from r1lab.rewards.scoring import score_completions
from r1lab.tasks import Task, load_task
from r1lab.types import Completion, Problem, Rollout


def task_of(cfg: ZeroConfig) -> Task:
    """The task a GRPO config names, with its options: the one place rollouts build it (the trainer
    and every rollout worker), so no option is dropped on the way."""
    return load_task(cfg.task, **cfg.task_options)


def step_problems(cfg: ZeroConfig, train_problems: list[Problem], step: int) -> list[Problem]:
    """A seeded draw per step, so a resumed run (or a set of rollout workers) sees the same prompts."""
    rng = random.Random(f"{cfg.seed}-prompts-{step}")
    return rng.sample(train_problems, min(cfg.prompts_per_step, len(train_problems)))


def prompt_seed(seed: int, step: int, problem_id: str) -> int:
    """The sampling seed of one prompt's G samples at one step."""
    digest = hashlib.blake2b(f"{seed}-{step}-{problem_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def training_sampling(cfg: ZeroConfig, template: PromptFormat, step: int, prompt_keys: list[str]) -> SamplingParams:
    """G samples per prompt at the training temperature, seeded per (step, prompt key)."""
    return SamplingParams(n=cfg.samples_per_prompt, max_new_tokens=cfg.max_new_tokens,
                          temperature=cfg.temperature, top_p=cfg.top_p, top_k=cfg.top_k,
                          stop=stop_strings(template), seed=cfg.seed * 100_003 + step,
                          seeds=tuple(prompt_seed(cfg.seed, step, key) for key in prompt_keys))


def make_rollout(generator: Generator, tokenizer, template: PromptFormat, task: Task, problems: list[Problem],
                 cfg: ZeroConfig, step: int, version: int) -> Rollout:
    """Encode the prompts, sample G completions each (tagged with the weights' version) and score
    them with the task's verifier, the rule rewards and the user's reward functions."""
    prompt_ids = encode_prompts(tokenizer, task, problems, template)
    completions = generator.generate(prompt_ids, training_sampling(cfg, template, step, [p.id for p in problems]))
    for c in completions:
        c.policy_version = version
    custom = load_reward_functions(cfg.rewards.custom)  # each file imported once per process
    texts = [render_prompt(template, task.prompt(p), tokenizer, task.chat_instruction) for p in problems] \
        if custom else None
    return score_completions(task, problems, prompt_ids, completions, cfg.rewards.weights(), custom, texts,
                             format_rule(template))


def merge_rollouts(parts: list[Rollout]) -> Rollout:
    """Concatenate rollouts (in prompt order) into one, renumbering each completion's prompt_index
    from its part's prompts to the whole's. Components missing from a part are left out."""
    problems, prompt_ids, completions, rewards, verdicts = [], [], [], [], []
    names = [n for n in parts[0].reward_components if all(n in p.reward_components for p in parts)]
    components: dict[str, list[float]] = {name: [] for name in names}
    for part in parts:
        offset = len(problems)
        for c in part.completions:
            c.prompt_index += offset
        problems += part.problems
        prompt_ids += part.prompt_ids
        completions += part.completions
        rewards += part.rewards
        verdicts += part.verdicts
        for name in names:
            components[name] += part.reward_components[name]
    return Rollout(problems=problems, prompt_ids=prompt_ids, completions=completions, rewards=rewards,
                   reward_components=components, verdicts=verdicts)


def behaviour_logprobs(completions: list[Completion], version: int, sampler_is_policy: bool) -> list[list[float]] | None:
    """The logprobs of the policy that sampled each completion, when it is not the trainer's current
    float32 weights (`version` updates old): rollouts from another engine or a rounded copy
    (`sampler_is_policy` False), or from older weights (async workers, which compute them for their
    own samples). None when on-policy: the update then needs no old-policy forward at all (the ratio
    is 1, with gradient)."""
    stale = any(c.policy_version != version for c in completions)
    if not stale and sampler_is_policy:
        return None
    missing = sum(c.logprobs is None for c in completions)
    if missing:
        raise RuntimeError(f"{missing} completions from another or an older policy carry no behaviour logprobs")
    return [list(c.logprobs) for c in completions]


def recompute_logprobs(model, rollout: Rollout, temperature: float, micro_batch_size: int) -> None:
    """Set each completion's `logprobs` to its tokens' logprobs under `model` (the weights that sampled
    it) with the trainer's own logprob function at the same temperature: without an update in between,
    the importance ratio is then 1 up to float rounding (the sampler's logprobs carry top-p/top-k
    truncation and the generation path's numerics)."""
    from r1lab.rl.logprobs import build_batch, completion_logprobs

    comps = rollout.completions
    with torch.no_grad():
        for start in range(0, len(comps), micro_batch_size):
            chunk = comps[start:start + micro_batch_size]
            batch = build_batch([rollout.prompt_ids[c.prompt_index] for c in chunk], [c.token_ids for c in chunk],
                                pad_id=0)  # padding positions are masked out of the logprobs
            logprobs, _ = completion_logprobs(model, batch, temperature)
            for c, row in zip(chunk, logprobs.tolist()):
                c.logprobs = row[:len(c.token_ids)]
