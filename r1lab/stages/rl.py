"""`r1lab rl`: GRPO over a mixture of verifiable tasks and general prompts (R1 stages 2 and 4).

DeepSeek-AI 2025: the reasoning RL stage (section 2.3.2) adds a language-consistency reward to the
rule rewards; the all-scenarios stage (section 2.3.4) mixes reasoning data, scored by rules, with
general data scored by reward models. Each step here: prompts (grpo.prompts_per_step from the task,
general_per_step from the general prompts) -> G samples each -> rewards (the task: accuracy, format,
language consistency, weighted by grpo.rewards; general: reward_model.weight x the normalised
reward-model score, plus language consistency) -> group-relative advantages (each group is one
prompt, so the two kinds never share a baseline) -> one grpo_update -> log / checkpoint.

The GRPO settings are the zero stage's config as the nested `grpo` section (same keys, same
meaning); the loop reuses zero's parts (setup_or_resume, make_rollout, step_metrics). Deviation from the
paper: one reward model for all general prompts (R1 uses separate helpfulness and harmlessness
models, the latter on the whole response). Resumable from RUN/checkpoints/latest.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Literal

import torch
from pydantic import Field, model_validator

from r1lab.config import Strict, ZeroConfig, dump_yaml, load_config
from r1lab.data.io import read_prompts
from r1lab.generation import SamplingParams
from r1lab.models.checkpoint import save_checkpoint
from r1lab.models.templates import render_prompt, stop_strings
from r1lab.rewards import combine
from r1lab.rewards.language import dominant_language, language_consistency, language_mixing_rate
from r1lab.rewards.reward_model import RewardModel
from r1lab.rl.advantages import group_advantages, zero_variance_groups
from r1lab.rl.update import grpo_update
from r1lab.stages.zero import (
    held_out_eval,
    make_rollout,
    rounded_rollout_logprobs,
    sample_rows,
    setup_or_resume,
    step_metrics,
    step_problems,
    update_settings,
)
from r1lab.tracking.run_log import RunLog
from r1lab.types import Completion


class RewardModelSection(Strict):
    path: str = ""  # any HF sequence-classification model with one output ("" = none)
    weight: float = 1.0
    normalize: Literal["sigmoid", "zscore", "none"] = "sigmoid"


class RLConfig(Strict):
    grpo: ZeroConfig = Field(default_factory=ZeroConfig)  # the policy, task, sampling and update
    general_prompts: str = ""  # jsonl of {"id", "prompt"}
    general_per_step: int = Field(0, ge=0)  # general prompts per step, next to grpo.prompts_per_step
    reward_model: RewardModelSection = RewardModelSection()

    @model_validator(mode="after")
    def _check(self) -> RLConfig:
        if self.general_per_step and not (self.general_prompts and self.reward_model.path):
            raise ValueError("general_per_step > 0 needs general_prompts and reward_model.path")
        return self


def general_rollout(s, cfg: RLConfig, rm: RewardModel, prompts: list[tuple[str, str]], step: int):
    """G samples per general prompt, scored by the reward model (and language consistency)."""
    z = cfg.grpo
    ids = [s.tokenizer(render_prompt(s.template, p, s.tokenizer), add_special_tokens=False)["input_ids"]
           for _, p in prompts]
    params = SamplingParams(n=z.samples_per_prompt, max_new_tokens=z.max_new_tokens, temperature=z.temperature,
                            top_p=z.top_p, top_k=z.top_k, stop=stop_strings(s.template),
                            seed=z.seed * 100_003 + step + 7)
    completions: list[Completion] = s.generator.generate(ids, params)
    owners = [prompts[c.prompt_index][1] for c in completions]
    components = {"reward_model": rm.score(owners, [c.text for c in completions])}
    targets = [dominant_language(p) for p in owners]
    components["language"] = [language_consistency(c.text, t) for c, t in zip(completions, targets)]
    weights = {"reward_model": cfg.reward_model.weight, "language": z.rewards.language}
    return ids, completions, combine(components, weights), components, targets


def run_rl(cfg: RLConfig, run_dir: Path, resume: bool = False, progress: bool = True) -> dict:
    z = cfg.grpo
    run_dir = Path(run_dir)
    log = RunLog(run_dir)
    ckpt_root = run_dir / "checkpoints"
    s, start = setup_or_resume(z, run_dir, resume, log)
    dump_yaml(cfg, run_dir / "config.yaml")
    general = read_prompts(cfg.general_prompts) if cfg.general_per_step else []
    rm = RewardModel(cfg.reward_model.path, cfg.reward_model.normalize) if general else None
    settings = update_settings(z)
    G = z.samples_per_prompt
    for step in range(start, z.steps):
        t0 = time.perf_counter()
        # 1-3. Prompts, rollout and rewards: the task's (rules) and the general prompts' (reward model).
        rollout = make_rollout(s.generator, s.tokenizer, s.template, s.task, step_problems(z, s.train_problems, step),
                               z, step)
        prompt_ids = list(rollout.prompt_ids)
        completions, rewards = list(rollout.completions), list(rollout.rewards)
        extra = {}
        if general:
            picks = random.Random(f"{z.seed}-general-{step}").sample(general, min(cfg.general_per_step, len(general)))
            g_ids, g_comps, g_rewards, g_parts, g_targets = general_rollout(s, cfg, rm, picks, step)
            offset = len(prompt_ids)
            for c in g_comps:
                c.prompt_index += offset
            prompt_ids += g_ids
            completions += g_comps
            rewards += g_rewards
            extra = {"general/reward_model": sum(g_parts["reward_model"]) / len(g_comps),
                     "general/reward_mean": sum(g_rewards) / len(g_comps),
                     "general/response_length_mean": sum(len(c.token_ids) for c in g_comps) / len(g_comps),
                     "general/language_mixing_rate": language_mixing_rate([c.text for c in g_comps], g_targets)}

        # 4. Advantages, group by group (a group is one prompt's G samples).
        reward_t = torch.tensor(rewards, dtype=torch.float32)
        advantages = group_advantages(reward_t, G, z.resolved_advantage_scale)
        keep = torch.ones(len(completions))
        if z.mask_truncated:
            keep *= torch.tensor([c.finish_reason != "length" for c in completions], dtype=torch.float32)
        zero_var = zero_variance_groups(reward_t, G)
        if z.filter_zero_variance:
            keep *= (~zero_var).float().repeat_interleave(G)

        # 5. Loss and update; 6. the local generator shares the model, so there is no weight sync.
        # Rollouts from a rounded copy (rollout_precision) carry that copy's logprobs: PPO's ratio is
        # taken against them, as in r1lab zero.
        behaviour = rounded_rollout_logprobs(completions, z)
        stats = grpo_update(s.model, s.optimizer, s.scheduler,
                            [prompt_ids[c.prompt_index] for c in completions], [c.token_ids for c in completions],
                            advantages, keep, settings, s.tokenizer.pad_token_id, s.ref_model,
                            behaviour_logprobs=behaviour)

        # 7. Log, eval, checkpoint. Task metrics come from the task's rollout; general ones are prefixed.
        row = {"step": step + 1, "step_time_s": time.perf_counter() - t0,
               **step_metrics(rollout, zero_var[:len(rollout.problems)]), **extra, **stats,
               "reward_mean_all": sum(rewards) / len(rewards), "lr": s.scheduler.get_last_lr()[0]}
        if z.beta == 0:
            row.pop("kl", None)
        log.log_metrics(row)
        # The task's completions, for the report's completions browser (as r1lab zero keeps them).
        log.log_samples(sample_rows(rollout, step + 1, rollout.rewards, z.log_samples_per_step,
                                    random.Random(f"{z.seed}-samples-{step}")))
        if progress:
            print(f"rl step {step + 1}/{z.steps}: acc {row['accuracy']:.2f} len {row['response_length_mean']:.0f} "
                  f"mix {row['language_mixing_rate']:.2f}" + (f" rm {extra['general/reward_model']:.2f}" if extra else ""),
                  flush=True)
        if z.eval_every and (step + 1) % z.eval_every == 0:
            log.log_metrics({"step": step + 1, **{f"eval/{k}": v for k, v in held_out_eval(s, step + 1).items()}})
        if (z.save_every and (step + 1) % z.save_every == 0) or step + 1 == z.steps:
            save_checkpoint(ckpt_root, s.model, s.tokenizer, step + 1, s.optimizer, s.scheduler)
    rows = [r for r in log.read_metrics() if "reward_mean" in r]
    summary = {"steps": z.steps, "final_step": rows[-1] if rows else None, "model": str(ckpt_root / "latest")}
    log.write_summary(summary)
    return summary


def register(sub) -> None:
    p = sub.add_parser("rl", help="GRPO over verifiable tasks (rule + language rewards) and general prompts "
                       "(reward model)")
    p.add_argument("--model", help="policy: HF model dir or hub id, or tiny-base (sets grpo.model)")
    p.add_argument("--task", help="verifiable task (sets grpo.task)")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--config", help="YAML config file")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key, e.g. grpo.steps=20 or reward_model.path=runs/rm/model")
    p.add_argument("--resume", action="store_true")
    p.set_defaults(run=_run)


def _run(args) -> int:
    overrides = list(args.overrides)
    overrides += [f"grpo.model={args.model}"] if args.model else []
    overrides += [f"grpo.task={args.task}"] if args.task else []
    cfg = load_config(RLConfig, args.config, overrides)
    s = run_rl(cfg, Path(args.out), resume=args.resume)
    last = s["final_step"]
    if last:
        print(f"done: {cfg.grpo.steps} steps, last accuracy {last['accuracy']:.3f}; model in {s['model']}")
    return 0
