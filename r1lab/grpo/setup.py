"""What a GRPO run holds (policy, optional reference, optimizer, schedule, generators, task, prompts),
built once from the config, fresh or from the run's latest checkpoint.

With LoRA (cfg.lora.enabled) the policy is the model with peft adapters, and only they train; the
generators decode with a plain copy that has the adapters merged in (r1lab.models.lora.MergedModel,
refreshed after every update by `sync_generation_model`), and the KL reference is the frozen base
itself, at no memory cost. A checkpoint of a LoRA run holds the adapters; final_model/ the merged model.
"""

from __future__ import annotations

import contextlib
import copy
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml
from pydantic import ValidationError

from r1lab.config import ZeroConfig
from r1lab.errors import ConfigError, DataError
from r1lab.evaluation.runner import encode_prompts
from r1lab.generation import Generator, make_generator
from r1lab.grpo.rollout import task_of
from r1lab.models.checkpoint import find_latest, load_trainer_state, restore_rng
from r1lab.models.loading import disable_dropout, load_model
from r1lab.models.lora import MergedModel, apply_lora, load_lora, plain_copy
from r1lab.models.templates import PromptFormat, prompt_format
from r1lab.rewards.custom import load_reward_functions
from r1lab.rl.update import UpdateSettings
from r1lab.tasks import Task
from r1lab.tracking.run_log import RunLog
from r1lab.types import Problem


@dataclass
class Setup:
    cfg: ZeroConfig
    model: torch.nn.Module  # the policy the optimizer trains (with LoRA: a peft model)
    tokenizer: object
    ref_model: torch.nn.Module | None
    task: Task
    template: PromptFormat
    generator: Generator  # rollouts (cfg.rollout_precision)
    eval_generator: Generator  # held-out evals: the float32 policy itself
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    train_problems: list[Problem]
    eval_problems: list[Problem]
    # What generators decode with, and what is saved as final_model/ and pushed to rollout workers:
    # the policy itself, or with LoRA its merged copy.
    generation_model: torch.nn.Module | None = None
    merged: MergedModel | None = None

    def __post_init__(self):
        if self.generation_model is None:
            self.generation_model = self.model


def sync_generation_model(s: Setup) -> None:
    """After an update: with LoRA, merge the new adapters into the generators' copy (without LoRA the
    generators share the policy object, so there is nothing to do)."""
    if s.merged is not None:
        s.merged.refresh()


def build_setup(cfg: ZeroConfig, model_path: str | None = None) -> Setup:
    """From cfg.model, or from `model_path` (a checkpoint of this run) with cfg.model as the KL reference."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    task = task_of(cfg)
    load_reward_functions(cfg.rewards.custom)  # a missing file or function is named before any model loads
    # A LoRA checkpoint holds the adapters: the base is cfg.model, the adapters come from model_path.
    model, tokenizer = load_model(cfg.model if cfg.lora.enabled else model_path or cfg.model, cfg.dtype)
    disable_dropout(model)
    model.train()
    # The reference is the starting policy (cfg.model, also when resuming); with beta = 0 there is no
    # KL term and no second model.
    ref_model, merged = None, None
    if cfg.lora.enabled:
        model = load_lora(model, model_path) if model_path else apply_lora(model, cfg.lora)
        merged = MergedModel(model)
        if cfg.beta > 0:  # the frozen base is the starting policy: shared, not copied
            ref_model = plain_copy(model, share_adapted=True)
    elif cfg.beta > 0:
        ref_model = copy.deepcopy(model) if model_path is None else load_model(cfg.model, cfg.dtype)[0]
    if ref_model is not None:
        ref_model.eval().requires_grad_(False)
    if cfg.gradient_checkpointing:
        enable_checkpointing(model.get_base_model() if cfg.lora.enabled else model)
    generation_model = merged.model if merged is not None else model
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.learning_rate,
                                  weight_decay=cfg.weight_decay)
    warmup = max(1, cfg.warmup_steps * cfg.iterations_per_batch)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup))
    generator = make_generator(cfg.generator, generation_model, tokenizer, cfg.rollout_precision)
    eval_generator = generator
    if cfg.rollout_precision != "float32":  # held-out evals sample the float32 policy itself
        eval_generator = make_generator("hf" if cfg.generator == "hf" else "engine", generation_model, tokenizer)
    template = prompt_format(cfg.template, tokenizer, cfg.system_prompt)
    limit = prompt_limit(cfg, generation_model)
    return Setup(
        cfg=cfg, model=model, tokenizer=tokenizer, ref_model=ref_model, task=task, template=template,
        generator=generator, eval_generator=eval_generator,
        optimizer=optimizer, scheduler=scheduler, generation_model=generation_model, merged=merged,
        train_problems=fitting_prompts(task.problems("train", cfg.train_problems, cfg.seed), "training",
                                       tokenizer, task, template, limit),
        eval_problems=fitting_prompts(task.problems("test", cfg.eval_problems, cfg.seed), "held-out",
                                      tokenizer, task, template, limit),
    )


def enable_checkpointing(model) -> None:
    """Activation (gradient) checkpointing, non-reentrant: with LoRA the frozen embeddings' output needs
    no requires-grad hook. transformers 5 renamed the method; older versions have only the old name."""
    enable = getattr(model, "activation_checkpointing_enable", None)
    if enable is not None:
        enable(activation_checkpointing_kwargs={"use_reentrant": False})
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})


def prompt_limit(cfg: ZeroConfig, model) -> int | None:
    """The longest prompt a rollout can take: max_prompt_length, else the model's context minus the
    completion's room."""
    if cfg.max_prompt_length is not None:
        return cfg.max_prompt_length
    context = getattr(model.config, "max_position_embeddings", None)
    if context is None:
        return None
    if context <= cfg.max_new_tokens:
        raise ConfigError(f"max_new_tokens ({cfg.max_new_tokens}) leaves no room for a prompt in the model's "
                          f"context of {context} tokens")
    return context - cfg.max_new_tokens


def fitting_prompts(problems: list[Problem], kind: str, tokenizer, task: Task, template: str,
                    limit: int | None) -> list[Problem]:
    """The problems whose prompt fits in `limit` tokens; the others are left out, and said so."""
    if limit is None or not problems:
        return problems
    lengths = [len(ids) for ids in encode_prompts(tokenizer, task, problems, template)]
    kept = [p for p, n in zip(problems, lengths) if n <= limit]
    if not kept:
        raise ConfigError(f"every {kind} prompt is longer than {limit} tokens (the longest: {max(lengths)}); "
                          "raise max_prompt_length or lower max_new_tokens")
    if len(kept) < len(problems):
        print(f"r1lab: left out {len(problems) - len(kept)} of {len(problems)} {kind} problems whose prompts "
              f"are longer than {limit} tokens (max_prompt_length)", file=sys.stderr, flush=True)
    return kept


def check_resume_config(run_dir: Path, saved_section: dict, cfg: ZeroConfig) -> None:
    """A resumed run must be the same run: every key but `steps` as saved (keys added to r1lab since
    the run was saved count with their defaults)."""
    current = cfg.model_dump(mode="json")
    with contextlib.suppress(ValidationError):  # else compared as saved: the differing keys are named
        saved_section = ZeroConfig.model_validate(saved_section).model_dump(mode="json")
    differing = sorted(k for k in current if k != "steps" and saved_section.get(k) != current[k])
    if differing:
        raise ConfigError(f"--resume with a config that differs from {run_dir / 'config.yaml'} in: "
                          f"{', '.join(differing)}")


def saved_grpo_section(run_dir: Path, section: str | None) -> dict | None:
    """The GRPO settings of the run's saved config.yaml (its `section` when nested), or None."""
    path = run_dir / "config.yaml"
    if not path.is_file():
        return None
    saved = yaml.safe_load(path.read_text()) or {}
    return saved.get(section, {}) if section else saved


def setup_or_resume(cfg: ZeroConfig, run_dir: Path, resume: bool, log: RunLog,
                    config_section: str | None = None) -> tuple[Setup, int]:
    """The run's setup and its first step. Fresh: refuses a directory that already holds a run.
    Resume: from the latest complete checkpoint (model, optimizer, scheduler, RNG state), with the log
    rows after its step dropped; refuses a different config, and refuses when there is nothing to
    resume from rather than starting over into the old logs."""
    started = (run_dir / "metrics.jsonl").exists()
    if not resume:
        if started:
            raise ConfigError(f"{run_dir} already holds a run; pass --resume to continue it or choose another --out")
        return build_setup(cfg), 0
    latest = find_latest(run_dir / "checkpoints")
    if latest is None:
        logged = " (its metrics.jsonl has steps logged, but no checkpoint was saved)" if started else ""
        raise ConfigError(f"--resume: nothing to resume in {run_dir}{logged}; run without --resume into a new "
                          "--out, or lower save_every so checkpoints are written more often")
    saved = saved_grpo_section(run_dir, config_section)
    if saved is not None:
        check_resume_config(run_dir, saved, cfg)
    state = load_trainer_state(latest)
    try:
        s = build_setup(cfg, str(latest))
    except (OSError, ValueError, RuntimeError) as err:  # a truncated safetensors file, a broken config
        raise DataError(f"checkpoint {latest} cannot be loaded ({type(err).__name__}: {err}); remove it to "
                        "resume from an earlier checkpoint") from None
    s.optimizer.load_state_dict(state["optimizer"])
    s.scheduler.load_state_dict(state["scheduler"])
    restore_rng(state)
    log.truncate_after(state["step"])
    return s, state["step"]


def sampler_is_policy(s: Setup) -> bool:
    """Whether rollouts are sampled by the trainer's own float32 module: then their logprobs are the
    trainer's and the update needs none from the sampler."""
    return s.cfg.rollout_precision == "float32" and s.generator.shares_model


def update_settings(cfg: ZeroConfig) -> UpdateSettings:
    return UpdateSettings(
        loss_type=cfg.loss, clip_low=cfg.clip_eps_low, clip_high=cfg.clip_eps_high, beta=cfg.beta,
        iterations=cfg.iterations_per_batch, micro_batch_size=cfg.micro_batch_size,
        max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature, max_grad_norm=cfg.max_grad_norm,
        precision=cfg.update_precision,
        # Sharing a prompt's forward among its completions continues from its KV cache, which
        # gradient checkpointing drops in training forwards (transformers' GradientCheckpointingLayer).
        share_prompts=not cfg.gradient_checkpointing,
        correction=cfg.rollout_correction, correction_level=cfg.rollout_correction_level,
        correction_cap=cfg.rollout_correction_cap,
    )
