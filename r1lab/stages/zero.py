"""R1-Zero: GRPO straight from a base model, a think/answer template, rule rewards only.

Each step reads as the recipe's phases: prompts, rollout, reward, advantage, loss and update, weight
sync, then log / eval / checkpoint (DeepSeek-AI 2025, section 2.2; GRPO from Shao et al. 2024).

Deviations from the paper, all configurable: the clip is asymmetric by default (clip-higher from
DAPO, Yu et al. 2025: clip_eps_high 0.28 > clip_eps_low 0.2); beta defaults to 0 (no KL term and no
reference model, as DAPO and Dr. GRPO found the KL unnecessary for rule-rewarded reasoning RL); the
format reward has a weight of its own rather than being folded into accuracy.
"""

from __future__ import annotations

import copy
import hashlib
import random
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml

from r1lab.config import ZeroConfig, dump_yaml, load_config
from r1lab.distributed.rollout import make_rollout_source, off_policy_logprobs
from r1lab.distributed.trainer import make_trainer_ranks
from r1lab.errors import ConfigError
from r1lab.evaluation.runner import encode_prompts as encode_task_prompts
from r1lab.evaluation.runner import evaluate_problems, summarize
from r1lab.generation import Generator, SamplingParams, make_generator
from r1lab.models.checkpoint import load_trainer_state, restore_rng, save_checkpoint
from r1lab.models.loading import load_model
from r1lab.models.templates import choose_template, stop_strings
from r1lab.rewards.language import language_mixing_rate, problem_language
from r1lab.rewards.scoring import score_completions
from r1lab.rewards.signals import reflection_words_per_1k
from r1lab.rl.advantages import group_advantages, zero_variance_groups
from r1lab.rl.update import UpdateSettings, grpo_update
from r1lab.tasks import load_task
from r1lab.tracking.live import LiveView
from r1lab.tracking.plots import plot_run
from r1lab.tracking.run_log import RunLog
from r1lab.tracking.trackers import Trackers
from r1lab.types import Problem, Rollout


@dataclass
class Setup:
    """Everything a GRPO run holds, built once from the config."""

    cfg: ZeroConfig
    model: torch.nn.Module
    tokenizer: object
    ref_model: torch.nn.Module | None
    task: object
    template: str
    generator: Generator  # rollouts (cfg.rollout_precision)
    eval_generator: Generator  # held-out evals: the float32 policy itself
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    train_problems: list[Problem]
    eval_problems: list[Problem]


def build_setup(cfg: ZeroConfig, model_path: str | None = None) -> Setup:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    task = load_task(cfg.task, **cfg.task_options)
    model, tokenizer = load_model(model_path or cfg.model, cfg.dtype)
    model.train()
    # The reference is the starting policy (cfg.model, also when resuming from a checkpoint); with
    # beta = 0 there is no KL term and no second model.
    ref_model = None
    if cfg.beta > 0:
        ref_model = copy.deepcopy(model) if model_path is None else load_model(cfg.model, cfg.dtype)[0]
        ref_model.eval().requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    warmup = max(1, cfg.warmup_steps * cfg.iterations_per_batch)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup))
    generator = make_generator(cfg.generator, model, tokenizer, cfg.rollout_precision)
    if cfg.rollout_precision != "float32":  # held-out evals sample the float32 policy itself
        eval_generator = make_generator(cfg.generator, model, tokenizer)
    else:
        eval_generator = generator
    return Setup(
        cfg=cfg, model=model, tokenizer=tokenizer, ref_model=ref_model, task=task,
        template=choose_template(cfg.template, tokenizer),
        generator=generator, eval_generator=eval_generator,
        optimizer=optimizer, scheduler=scheduler,
        train_problems=task.problems("train", cfg.train_problems, cfg.seed),
        eval_problems=task.problems("test", cfg.eval_problems, cfg.seed),
    )


def encode_prompts(s: Setup, problems: list[Problem]) -> list[list[int]]:
    return encode_task_prompts(s.tokenizer, s.task, problems, s.template)


def step_problems(cfg: ZeroConfig, train_problems: list[Problem], step: int) -> list[Problem]:
    """A seeded draw per step, so a resumed run (or a set of rollout workers) sees the same prompts."""
    rng = random.Random(f"{cfg.seed}-prompts-{step}")
    return rng.sample(train_problems, min(cfg.prompts_per_step, len(train_problems)))


def prompt_seed(seed: int, step: int, problem_id: str) -> int:
    """The sampling seed of one prompt's G samples at one step: the samples do not depend on which
    other prompts share the batch, so rollout workers splitting a step reproduce one process."""
    digest = hashlib.blake2b(f"{seed}-{step}-{problem_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def make_rollout(generator, tokenizer, template: str, task, problems: list[Problem], cfg: ZeroConfig,
                 step: int) -> Rollout:
    """Phases 1-3 of a step for some prompts: encode, sample G completions each, score them. This is
    the unit of work a rollout worker does in the distributed setting."""
    prompt_ids = encode_task_prompts(tokenizer, task, problems, template)
    params = SamplingParams(n=cfg.samples_per_prompt, max_new_tokens=cfg.max_new_tokens,
                            temperature=cfg.temperature, top_p=cfg.top_p, top_k=cfg.top_k,
                            stop=stop_strings(template), seed=cfg.seed * 100_003 + step,
                            seeds=tuple(prompt_seed(cfg.seed, step, p.id) for p in problems))
    completions = generator.generate(prompt_ids, params)
    return score_completions(task, problems, prompt_ids, completions, cfg.samples_per_prompt,
                             cfg.rewards.model_dump())


def held_out_eval(s: Setup, step: int) -> dict[str, float]:
    """pass@1 over eval_n samples per held-out problem, the R1 sampling protocol, same verifier."""
    cfg = s.cfg
    results = evaluate_problems(
        s.eval_generator, s.task, s.eval_problems, encode_prompts(s, s.eval_problems),
        n=cfg.eval_n, temperature=cfg.eval_temperature, top_p=cfg.eval_top_p,
        max_new_tokens=cfg.max_new_tokens, stop=stop_strings(s.template), seed=cfg.seed + 7919 * step,
    )
    return summarize(results, seed=cfg.seed)


def step_metrics(rollout: Rollout, zero_var: torch.Tensor) -> dict[str, float]:
    comps = rollout.completions
    lengths = sorted(len(c.token_ids) for c in comps)
    row = {
        "reward_mean": sum(rollout.rewards) / len(comps),
        "accuracy": sum(v.correct for v in rollout.verdicts) / len(comps),
        "unverifiable_rate": sum(v.status == "unverifiable" for v in rollout.verdicts) / len(comps),
        "response_length_mean": sum(lengths) / len(lengths),
        "response_length_p10": lengths[len(lengths) // 10],
        "response_length_p90": lengths[(9 * len(lengths)) // 10],
        "truncated_rate": sum(c.finish_reason == "length" for c in comps) / len(comps),
        "reflection_words_per_1k": reflection_words_per_1k([c.text for c in comps]),
        "language_mixing_rate": language_mixing_rate(
            [c.text for c in comps], [problem_language(rollout.problems[c.prompt_index]) for c in comps]),
        "zero_variance_group_rate": float(zero_var.float().mean()),
        "completion_tokens": sum(lengths),
    }
    for name, values in rollout.reward_components.items():
        row[f"reward/{name}"] = sum(values) / len(values)
    return row


def sample_rows(rollout: Rollout, step: int, rewards_total: list[float], k: int, rng: random.Random) -> list[dict]:
    picks = sorted(rng.sample(range(len(rollout.completions)), min(k, len(rollout.completions))))
    rows = []
    for i in picks:
        c, v = rollout.completions[i], rollout.verdicts[i]
        p = rollout.problems[c.prompt_index]
        rows.append({
            "step": step, "problem_id": p.id, "question": p.question, "gold": str(p.answer),
            "completion": c.text, "reward": rewards_total[i],
            "components": {n: vals[i] for n, vals in rollout.reward_components.items()},
            "status": v.status, "extracted": v.extracted, "finish_reason": c.finish_reason,
            "length": len(c.token_ids),
        })
    return rows


def check_resume_config(run_dir: Path, cfg: ZeroConfig) -> None:
    saved_path = run_dir / "config.yaml"
    if not saved_path.exists():
        return
    saved = yaml.safe_load(saved_path.read_text()) or {}
    current = cfg.model_dump(mode="json")
    differing = sorted(k for k in current if k != "steps" and saved.get(k) != current[k])
    if differing:
        raise ConfigError(f"--resume with a config that differs from {saved_path} in: {', '.join(differing)}")


def rounded_rollout_logprobs(completions: list, cfg: ZeroConfig) -> list[list[float]] | None:
    """The sampling logprobs of rollouts from a rounded copy of the policy (rollout_precision), which
    the update treats as a behaviour policy's; None for float32 rollouts (on-policy)."""
    if cfg.rollout_precision == "float32":
        return None
    return [list(c.logprobs) for c in completions]


def setup_or_resume(cfg: ZeroConfig, run_dir: Path, resume: bool, log: RunLog, check=None) -> tuple[Setup, int]:
    """The run's setup and its first step: from RUN/checkpoints/latest (model, optimizer, scheduler,
    RNG state; metrics after it dropped) when resuming, else fresh. A fresh start refuses a directory
    that already holds a run. `check(run_dir, cfg)` may refuse a resume whose config differs."""
    latest = run_dir / "checkpoints" / "latest"
    if not resume and (run_dir / "metrics.jsonl").exists():
        raise ConfigError(f"{run_dir} already holds a run; pass --resume to continue it or choose another --out")
    if not (resume and latest.exists()):
        return build_setup(cfg), 0
    if check is not None:
        check(run_dir, cfg)
    s = build_setup(cfg, str(latest))
    state = load_trainer_state(latest)
    s.optimizer.load_state_dict(state["optimizer"])
    s.scheduler.load_state_dict(state["scheduler"])
    restore_rng(state)
    log.truncate_after(state["step"])
    return s, state["step"]


def update_settings(cfg: ZeroConfig) -> UpdateSettings:
    return UpdateSettings(
        loss_type=cfg.loss, clip_low=cfg.clip_eps_low, clip_high=cfg.clip_eps_high, beta=cfg.beta,
        iterations=cfg.iterations_per_batch, micro_batch_size=cfg.micro_batch_size,
        max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature, max_grad_norm=cfg.max_grad_norm,
        precision=cfg.update_precision,
    )


def run_zero(cfg: ZeroConfig, run_dir: Path, resume: bool = False, progress: bool = True) -> dict:
    run_dir = Path(run_dir)
    log = RunLog(run_dir)
    s, start_step = setup_or_resume(cfg, run_dir, resume, log, check=check_resume_config)
    dump_yaml(cfg, run_dir / "config.yaml")
    derived = cfg.derived() | {"template": s.template}
    (run_dir / "derived.yaml").write_text(yaml.safe_dump(derived, sort_keys=False))
    settings = update_settings(cfg)
    # Rollouts come from this process or from Ray workers (cfg.distributed); the version is the
    # number of updates the weights have had.
    source = make_rollout_source(cfg, s, version=start_step)
    ranks = make_trainer_ranks(cfg, s, settings)  # None: this process updates (trainer_workers: 1)
    trackers = Trackers(run_dir, cfg.report_to, cfg.model_dump(mode="json"), resume_step=start_step or None)
    live = LiveView(cfg.steps, start=start_step, desc="zero", enabled=progress)
    for step in range(start_step, cfg.steps):
        t0 = time.perf_counter()
        # 1-3. Prompts (a seeded draw), rollout (G samples each at the training temperature) and
        # reward (the task's verifier plus the format rule), here or on the rollout workers.
        rollout = source.collect(step)
        completions, prompt_ids = rollout.completions, rollout.prompt_ids
        t_rollout = time.perf_counter() - t0

        # 4. Advantage: group-relative; masks for truncation and zero-variance groups.
        rewards = torch.tensor(rollout.rewards, dtype=torch.float32)
        advantages = group_advantages(rewards, cfg.samples_per_prompt, cfg.resolved_advantage_scale)
        keep = torch.ones(len(completions))
        if cfg.mask_truncated:
            keep *= torch.tensor([c.finish_reason != "length" for c in completions], dtype=torch.float32)
        zero_var = zero_variance_groups(rewards, cfg.samples_per_prompt)
        if cfg.filter_zero_variance:
            keep *= (~zero_var).float().repeat_interleave(cfg.samples_per_prompt)

        # 5. Loss and update (mu iterations over this batch), here or over data-parallel ranks.
        t1 = time.perf_counter()
        batch = ([prompt_ids[c.prompt_index] for c in completions], [c.token_ids for c in completions],
                 advantages, keep)
        # None when on-policy: sampled by the current float32 weights.
        behaviour = off_policy_logprobs(rollout, version=step) or rounded_rollout_logprobs(completions, cfg)
        if ranks is None:
            stats = grpo_update(s.model, s.optimizer, s.scheduler, *batch, settings, s.tokenizer.pad_token_id,
                                s.ref_model, behaviour_logprobs=behaviour)
        else:  # the ranks all-reduce gradients; s.model and s.scheduler then take rank 0's state
            stats = ranks.update(*batch, behaviour_logprobs=behaviour, model=s.model, scheduler=s.scheduler)
        t_update = time.perf_counter() - t1
        # 6. Weight sync: version step + 1 to the rollout workers (locally the generator shares the
        # model object, so there is nothing to send).
        source.push_weights(s.model, version=step + 1)
        t_sync = time.perf_counter() - t1 - t_update

        # 7. Log, eval, checkpoint.
        row = {"step": step + 1, "step_time_s": time.perf_counter() - t0, "rollout_time_s": t_rollout,
               "update_time_s": t_update, "sync_time_s": t_sync, **step_metrics(rollout, zero_var), **stats,
               **source.stats(),
               "lr": s.scheduler.get_last_lr()[0]}
        if cfg.beta == 0:
            row.pop("kl")
        log.log_metrics(row)
        trackers.log(row)
        log.log_samples(sample_rows(rollout, step + 1, rollout.rewards, cfg.log_samples_per_step,
                                    random.Random(f"{cfg.seed}-samples-{step}")))
        live.update(row)
        if cfg.eval_every and (step + 1) % cfg.eval_every == 0:
            ev = held_out_eval(s, step + 1)
            ev_row = {"step": step + 1, **{f"eval/{k}": v for k, v in ev.items()}}
            log.log_metrics(ev_row)
            trackers.log(ev_row)
            live.update(ev_row)
        if (cfg.save_every and (step + 1) % cfg.save_every == 0) or step + 1 == cfg.steps:
            if ranks is not None:
                ranks.pull_optimizer(s.optimizer, s.scheduler)
            save_checkpoint(run_dir / "checkpoints", s.model, s.tokenizer, step + 1, s.optimizer, s.scheduler)
    live.close()
    trackers.close()
    if ranks is not None:
        ranks.shutdown()
    source.shutdown()
    rows = log.read_metrics()
    plot_run(rows, run_dir / "plots")
    train_rows = [r for r in rows if "reward_mean" in r]
    summary = {"steps": cfg.steps, "final_step": train_rows[-1] if train_rows else None}
    return {"setup": s, "summary": summary}


def register(sub) -> None:
    p = sub.add_parser("zero", help="R1-Zero: GRPO from a base model with rule rewards")
    p.add_argument("--model", help="HF model dir or hub id, or tiny-base / smollm2-135m")
    p.add_argument("--task", help="demo, rg:<reasoning-gym dataset>, or a .jsonl/.parquet math file")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--config", help="YAML config file")
    p.add_argument("--steps", type=int)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key (dotted for nested sections); repeatable")
    p.add_argument("--resume", action="store_true", help="continue from RUN/checkpoints/latest")
    p.set_defaults(run=_run)


def _run(args) -> int:
    cfg = load_config(ZeroConfig, args.config, args.overrides, model=args.model, task=args.task, steps=args.steps)
    result = run_zero(cfg, Path(args.out), resume=args.resume)
    last = result["summary"]["final_step"]
    if last:
        print(f"done: {cfg.steps} steps, last accuracy {last['accuracy']:.3f}, "
              f"mean length {last['response_length_mean']:.1f} tokens; run in {args.out}")
    return 0
