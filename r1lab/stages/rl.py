"""`r1lab rl`: GRPO over a mixture of verifiable tasks and general prompts (R1 stages 2 and 4).

DeepSeek-AI 2025: the reasoning RL stage (section 2.3.2) adds a language-consistency reward to the
rule rewards; the all-scenarios stage (section 2.3.4) mixes reasoning data, scored by rules, with
general data scored by reward models. This is r1lab zero's loop (r1lab.grpo.loop.train, the same
keys under `grpo` with the same meaning) with one addition: each step, `general_per_step` general
prompts get G samples each, scored by reward_model.weight x the normalised reward-model score plus
the language-consistency reward, and join the update as groups of their own (so the two kinds never
share a baseline). Their metrics are logged as `general/*`.

Deviation from the paper: one reward model for all general prompts (R1 uses separate helpfulness and
harmlessness models, the latter on the whole response).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from r1lab.config import Strict, ZeroConfig, add_config_flags, load_config
from r1lab.data.io import read_prompts
from r1lab.grpo.loop import ExtraBatch, train
from r1lab.grpo.rollout import training_sampling
from r1lab.grpo.setup import Setup
from r1lab.models.templates import render_prompt
from r1lab.rewards import combine
from r1lab.rewards.language import dominant_language, language_consistency, language_mixing_rate
from r1lab.rewards.reward_model import RewardModel


class RewardModelSection(Strict):
    path: str = Field("", description="HF sequence-classification model with one output (r1lab rm's final_model); "
                      "empty: none")
    weight: float = Field(1.0, description="weight of its normalised score in a general prompt's reward")
    normalize: Literal["sigmoid", "zscore", "none"] = Field("sigmoid", description="how raw scores are put on the "
                                                            "rule rewards' scale (calibrated by r1lab rm)")


class RLConfig(Strict):
    grpo: ZeroConfig = Field(default_factory=ZeroConfig, description="the policy, task, sampling and update "
                             "(the keys of r1lab zero)")
    general_prompts: str = Field("", description='jsonl of {"id", "prompt"}: prompts without a verifier')
    general_per_step: int = Field(0, ge=0, description="general prompts per step, next to grpo.prompts_per_step")
    reward_model: RewardModelSection = Field(default_factory=RewardModelSection, description="the reward model "
                                             "that scores general prompts")

    @model_validator(mode="after")
    def _check(self) -> RLConfig:
        if self.general_per_step and not (self.general_prompts and self.reward_model.path):
            raise ValueError("general_per_step > 0 needs general_prompts and reward_model.path")
        return self


Config = RLConfig


class GeneralPrompts:
    """The step's general prompts: a seeded draw, G samples each on the rollout generator, scored by
    the reward model and language consistency."""

    def __init__(self, cfg: RLConfig):
        self.cfg = cfg
        self.prompts = read_prompts(cfg.general_prompts)
        self.rm = RewardModel(cfg.reward_model.path, cfg.reward_model.normalize)

    def __call__(self, s: Setup, step: int, version: int) -> ExtraBatch:
        z = s.cfg
        picks = random.Random(f"{z.seed}-general-{step}").sample(self.prompts, min(self.cfg.general_per_step,
                                                                                   len(self.prompts)))
        ids = [s.tokenizer(render_prompt(s.template, p, s.tokenizer), add_special_tokens=False)["input_ids"]
               for _, p in picks]
        params = training_sampling(z, s.template, step, [f"general-{pid}" for pid, _ in picks])
        completions = s.generator.generate(ids, params)
        for c in completions:
            c.policy_version = version
        owners = [picks[c.prompt_index][1] for c in completions]
        texts = [c.text for c in completions]
        targets = [dominant_language(p) for p in owners]
        parts = {"reward_model": self.rm.score(owners, texts),
                 "language": [language_consistency(t, lang) for t, lang in zip(texts, targets)]}
        rewards = combine(parts, {"reward_model": self.cfg.reward_model.weight, "language": z.rewards.language})
        n = len(completions)
        metrics = {"general/reward_model": sum(parts["reward_model"]) / n, "general/reward_mean": sum(rewards) / n,
                   "general/response_length_mean": sum(len(c.token_ids) for c in completions) / n,
                   "general/language_mixing_rate": language_mixing_rate(texts, targets)}
        return ExtraBatch(ids, completions, rewards, metrics)


def run(cfg: RLConfig, run_dir: Path, resume: bool = False, progress: bool = True) -> dict:
    general = GeneralPrompts(cfg) if cfg.general_per_step else None
    return train(cfg.grpo, Path(run_dir), run_config=cfg, config_section="grpo", resume=resume, extra=general,
                 progress=progress, name="rl")


def add_arguments(p) -> None:
    """The flags of `r1lab rl` (the CLI made the parser)."""
    p.add_argument("--model", help="policy: HF model dir or hub id, or tiny-base (sets grpo.model)")
    p.add_argument("--task", help="verifiable task (sets grpo.task)")
    p.add_argument("--out", required=True, help="run directory")
    add_config_flags(p)
    p.add_argument("--resume", action="store_true")
    p.set_defaults(run=_run)


def _run(args) -> int:
    overrides = list(args.overrides)
    overrides += [f"grpo.model={args.model}"] if args.model else []
    overrides += [f"grpo.task={args.task}"] if args.task else []
    cfg = load_config(RLConfig, args.config, overrides)
    summary = run(cfg, Path(args.out), resume=args.resume)
    last = summary["final_step"]
    if last:
        print(f"done: {cfg.grpo.steps} steps, last accuracy {last['accuracy']:.3f}; model in {summary['final_model']}")
    return 0
