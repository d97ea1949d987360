"""The one GRPO training loop, used by `r1lab zero`, `r1lab rl` and `r1lab demo`.

Each step reads as the recipe's phases (DeepSeek-AI 2025, section 2.2; GRPO from Shao et al. 2024):
1-3 prompts, rollout and reward (here or on Ray rollout workers), plus any extra prompts a stage mixes
in (`r1lab rl`'s general prompts, scored by a reward model); 4 group-relative advantages with the
truncation and zero-variance masks; 5 loss and update (here or over data-parallel trainer ranks);
6 weight sync; 7 log, held-out eval, checkpoint. At the end: `final_model/` in Hugging Face format
(with LoRA, the adapters merged in) with its model card, the two curves, and `summary.json`.

Held-out evals (eval_every > 0) run before the first step (the base model, step 0), every eval_every
steps, and after the last step, always with the same sampling seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml
from pydantic import BaseModel

from r1lab.config import ZeroConfig, dump_yaml
from r1lab.distributed.trainer import DataParallelTrainer
from r1lab.errors import ConfigError, writing
from r1lab.grpo.metrics import (
    applicable_mean,
    first_and_last_tenth,
    held_out_eval,
    kept_samples,
    step_metrics,
)
from r1lab.grpo.rollout import behaviour_logprobs
from r1lab.grpo.setup import Setup, sampler_is_policy, setup_or_resume, sync_generation_model, update_settings
from r1lab.grpo.sources import rollout_source
from r1lab.models.card import eval_results, write_model_card
from r1lab.models.checkpoint import save_checkpoint
from r1lab.rl.advantages import group_advantages, zero_variance_groups
from r1lab.rl.update import grpo_update
from r1lab.tracking.live import LiveView
from r1lab.tracking.plots import write_plots
from r1lab.tracking.run_log import RunLog
from r1lab.tracking.trackers import Trackers
from r1lab.types import Completion


@dataclass
class ExtraBatch:
    """Completions of prompts a stage mixes into a step besides the task's, already rewarded. Each
    prompt's samples form their own group, so the two kinds never share a baseline."""

    prompt_ids: list[list[int]]  # [B'][prompt length]
    completions: list[Completion]  # [B'*G], prompt_index into prompt_ids
    rewards: list[float]  # [B'*G]
    metrics: dict[str, float]  # logged with the step


# (setup, step, weights version) -> the step's extra prompts, or None
ExtraPrompts = Callable[[Setup, int, int], ExtraBatch | None]


def trainer_ranks(s: Setup, settings) -> DataParallelTrainer | None:
    """Data-parallel trainer ranks on Ray, or None when this process updates."""
    if s.cfg.distributed.trainer_workers == 1:
        return None
    return DataParallelTrainer(s.cfg.distributed, s.model, s.optimizer, s.scheduler, s.ref_model, settings,
                               s.tokenizer.pad_token_id)


def check_distributed(cfg: ZeroConfig) -> None:
    dist = cfg.distributed
    if dist.backend == "local" and (dist.rollout_workers > 1 or dist.max_staleness > 0 or dist.trainer_workers > 1):
        raise ConfigError("distributed.rollout_workers > 1, distributed.trainer_workers > 1 and "
                          "distributed.max_staleness > 0 need distributed.backend: ray")


def advantages_and_weights(rewards: list[float], completions: list[Completion], cfg: ZeroConfig):
    """Group-relative advantages [N], the per-sequence loss weights [N] (0 = masked out: truncated
    under mask_truncated, a zero-variance group under filter_zero_variance) and the zero-variance
    flag per group [N/G]."""
    G = cfg.samples_per_prompt
    reward_t = torch.tensor(rewards, dtype=torch.float32)
    advantages = group_advantages(reward_t, G, cfg.resolved_advantage_scale)
    weights = torch.ones(len(completions))
    if cfg.mask_truncated:
        weights *= torch.tensor([c.finish_reason != "length" for c in completions], dtype=torch.float32)
    zero_var = zero_variance_groups(reward_t, G)
    if cfg.filter_zero_variance:
        weights *= (~zero_var).float().repeat_interleave(G)
    return advantages, weights, zero_var


def train(cfg: ZeroConfig, run_dir: Path, *, run_config: BaseModel | None = None, config_section: str | None = None,
          resume: bool = False, extra: ExtraPrompts | None = None, progress: bool = True, name: str = "zero") -> dict:
    """Train, log and save under run_dir. `run_config` is the stage's whole config (written to
    config.yaml; `cfg` is its `config_section`, or the whole of it when None)."""
    t_start = time.perf_counter()
    run_dir = Path(run_dir)
    check_distributed(cfg)
    log = RunLog(run_dir)
    s, start = setup_or_resume(cfg, run_dir, resume, log, config_section)
    if start:
        print(f"{name}: resuming from step {start} (of {cfg.steps}) in {run_dir}", flush=True)
    with writing(run_dir / "config.yaml"):
        dump_yaml(run_config or cfg, run_dir / "config.yaml")
        (run_dir / "derived.yaml").write_text(yaml.safe_dump(cfg.derived() | {"template": s.template.name},
                                                             sort_keys=False))
    settings = update_settings(cfg)
    source = rollout_source(s, version=start)  # the version is the number of updates the weights have had
    ranks = trainer_ranks(s, settings)
    trackers = Trackers(run_dir, cfg.report_to, (run_config or cfg).model_dump(mode="json"), resume_step=start or None)
    live = LiveView(cfg.steps, start=start, desc=name, enabled=progress)

    def evaluate(step: int) -> None:
        row = {"step": step, **{f"eval/{k}": v for k, v in held_out_eval(s, seed=cfg.seed).items()}}
        log.log_metrics(row)
        trackers.log(row)
        live.update(row)

    if cfg.eval_every and start == 0:
        evaluate(0)  # the base model
    for step in range(start, cfg.steps):
        t0 = time.perf_counter()
        # 1-3. Prompts (a seeded draw), rollout (G samples each) and reward (the task's verifier plus
        # the rule rewards), here or on the rollout workers; then the stage's extra prompts, if any.
        rollout = source.collect(step)
        batch = extra(s, step, step) if extra is not None else None
        completions = rollout.completions + (batch.completions if batch else [])
        prompts = [rollout.prompt_ids[c.prompt_index] for c in rollout.completions]
        prompts += [batch.prompt_ids[c.prompt_index] for c in batch.completions] if batch else []
        rewards = rollout.rewards + (batch.rewards if batch else [])
        t_rollout = time.perf_counter() - t0

        # 4. Advantage: group-relative; masks for truncation and zero-variance groups.
        advantages, weights, zero_var = advantages_and_weights(rewards, completions, cfg)

        # 5. Loss and update (mu iterations over this batch), here or over data-parallel ranks. PPO's
        # ratio is taken against the behaviour policy when it is not the current float32 weights.
        t1 = time.perf_counter()
        behaviour = behaviour_logprobs(completions, step, sampler_is_policy(s))
        update_batch = (prompts, [c.token_ids for c in completions], advantages, weights)
        if ranks is None:
            stats = grpo_update(s.model, s.optimizer, s.scheduler, *update_batch, settings, s.tokenizer.pad_token_id,
                                s.ref_model, behaviour_logprobs=behaviour)
        else:  # the ranks all-reduce gradients; s.model and s.scheduler then take rank 0's state
            stats = ranks.update(*update_batch, behaviour_logprobs=behaviour, model=s.model, scheduler=s.scheduler)
        t_update = time.perf_counter() - t1

        # 6. Weight sync: version step + 1 to the rollout workers (locally the generator shares the
        # model object, so there is nothing to send; with LoRA the adapters are merged into its copy).
        sync_generation_model(s)
        source.push_weights(s.generation_model, version=step + 1)
        t_sync = time.perf_counter() - t1 - t_update

        # 7. Log, eval, checkpoint. Task metrics come from the task's rollout; the extra prompts' from
        # the stage (prefixed).
        row = {"step": step + 1, "step_time_s": time.perf_counter() - t0, "rollout_time_s": t_rollout,
               "update_time_s": t_update, "sync_time_s": t_sync,
               **step_metrics(rollout, zero_var[:len(rollout.problems)]), **stats, **source.stats(),
               "lr": s.scheduler.get_last_lr()[0]}
        if batch:
            row |= batch.metrics | {"reward_mean_all": applicable_mean(rewards)}
        if cfg.beta == 0:
            row.pop("kl", None)
        log.log_metrics(row)
        trackers.log(row)
        log.log_samples(kept_samples(rollout, step + 1, cfg.log_samples_per_step, cfg.seed))
        live.update(row)
        last = step + 1 == cfg.steps
        if cfg.eval_every and ((step + 1) % cfg.eval_every == 0 or last):
            evaluate(step + 1)
        if (cfg.save_every and (step + 1) % cfg.save_every == 0) or last:
            if ranks is not None:
                ranks.pull_optimizer(s.optimizer, s.scheduler)
            save_checkpoint(run_dir / "checkpoints", s.model, s.tokenizer, step + 1, s.optimizer, s.scheduler,
                            keep=cfg.save_total_limit)
    live.close()
    trackers.close()
    if ranks is not None:
        ranks.shutdown()
    source.shutdown()
    return finish(s, log, run_dir, time.perf_counter() - t_start, stage=name)


def finish(s: Setup, log: RunLog, run_dir: Path, wall_s: float, stage: str = "zero") -> dict:
    """final_model/ (Hugging Face format, with its model card), the two curves, summary.json."""
    final_dir = run_dir / "final_model"
    with writing(final_dir):  # the last checkpoint is saved: --resume writes final_model/ again
        s.generation_model.save_pretrained(final_dir, safe_serialization=True)
        s.tokenizer.save_pretrained(final_dir)
    rows = log.read_metrics()
    train_rows = [r for r in rows if "reward_mean" in r]
    evals = {r["step"]: {k.removeprefix("eval/"): v for k, v in r.items() if k.startswith("eval/")}
             for r in rows if any(k.startswith("eval/") for k in r)}
    summary = {
        "steps": s.cfg.steps,
        "final_step": train_rows[-1] if train_rows else None,
        "base": evals.get(0),
        "final": evals.get(s.cfg.steps),
        "response_length": first_and_last_tenth(train_rows, "response_length_mean"),
        "check_rate": first_and_last_tenth(train_rows, "check_rate"),
        "final_model": str(final_dir),
        "wall_s": wall_s,
    }
    log.write_summary(summary)
    with writing(run_dir / "plots"):
        write_plots(run_dir)
    with writing(final_dir / "README.md"):
        write_model_card(final_dir, stage=stage, base_model=s.cfg.model, data=s.cfg.task, recipe=recipe(s),
                         results=eval_results([("base model (step 0)", summary["base"]),
                                               (f"this model (step {s.cfg.steps})", summary["final"])]),
                         run_dir=run_dir)
    return summary


def recipe(s: Setup) -> dict:
    """The settings a model card lists for a GRPO run."""
    cfg = s.cfg
    out = {"algorithm": f"GRPO, loss {cfg.loss}, advantage scale {cfg.resolved_advantage_scale}",
           "steps": cfg.steps, "prompts x samples per step": f"{cfg.prompts_per_step} x {cfg.samples_per_prompt}",
           "learning_rate": cfg.learning_rate, "beta (KL)": cfg.beta,
           "clip (low, high)": f"{cfg.clip_eps_low}, {cfg.clip_eps_high}", "max_new_tokens": cfg.max_new_tokens,
           "temperature": cfg.temperature, "template": s.template.name,
           "rewards": {k: v for k, v in cfg.rewards.weights().items() if v}}
    if cfg.task_options:
        out["task_options"] = cfg.task_options
    if cfg.system_prompt:
        out["system_prompt"] = cfg.system_prompt
    if cfg.lora.enabled:
        out["LoRA (merged)"] = f"r {cfg.lora.r}, alpha {cfg.lora.alpha}, on {', '.join(cfg.lora.target_modules)}"
    return out
