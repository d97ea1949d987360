"""Rollouts on Ray: the RolloutSource (r1lab.grpo.rollout) whose rollouts come from N Ray actors.

RayRolloutSource runs r1lab.grpo.rollout.make_rollout in N Ray actors. Each holds a copy of the policy, generates a
  contiguous share of the step's prompts and scores it where the completions are, then the shares
  are concatenated back in prompt order. Sampling is seeded per prompt (SamplingParams.seeds), so the
  completions do not depend on how prompts are split among workers: 2 workers reproduce the local run.

Versions: the weights after v updates are version v; every completion carries the version that
sampled it (Completion.policy_version), and `stats` reports staleness = trainer version - that version.

Async (max_staleness k >= 1): right after step t's rollout is gathered, the workers start step t+1
with the weights they hold (version t) while the trainer updates on step t; the push of version t+1
queues behind that work, so steady-state staleness is 1. A share more than k versions behind the
trainer (possible when versions jump, e.g. several pushes between collects) is dropped and redone
with the current weights. The loss then corrects for the gap with the behaviour policy's logprobs,
which async workers compute for their own samples (r1lab.grpo.rollout.recompute_logprobs).

Faults: a worker that dies (SIGKILL, OOM, a lost node) surfaces as an actor error on its share; the
worker is replaced by a new actor, given the current weights, and its whole share is redone. Shares
are accepted once each, keyed by position, so nothing is lost or counted twice, and with per-prompt
seeds the redone share is the very same samples.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from r1lab.errors import ConfigError
from r1lab.grpo.rollout import make_rollout, merge_rollouts, recompute_logprobs, step_problems, task_of
from r1lab.grpo.setup import Setup
from r1lab.models.templates import PromptFormat
from r1lab.tasks import portable_spec
from r1lab.types import Problem, Rollout

MAX_REDOS_PER_SHARE = 3  # per step; a share that keeps killing its worker is a bug, not bad luck


# ------------------------------------------------------------------------------ pure helpers
def split_shares(n_items: int, n_workers: int) -> list[tuple[int, int]]:
    """Contiguous [start, end) shares, sizes differing by at most one, empty shares left out."""
    base, extra = divmod(n_items, n_workers)
    shares, start = [], 0
    for w in range(n_workers):
        end = start + base + (1 if w < extra else 0)
        if end > start:
            shares.append((start, end))
        start = end
    return shares


def too_stale(share_version: int, current_version: int, max_staleness: int) -> bool:
    """A share sampled by version v is usable at trainer version V when V - v <= k."""
    return current_version - share_version > max_staleness


# ---------------------------------------------------------------------------------- Ray workers
@dataclass
class WorkerSpec:
    """What a rollout worker is built from, shipped through Ray: the architecture and tokenizer, not
    a path, so a worker on another node needs no copy of the model files (weights follow)."""

    cfg: dict[str, Any]  # ZeroConfig as JSON
    model_config: Any
    generation_config: Any
    tokenizer: Any
    template: PromptFormat
    behaviour_logprobs: bool  # async: also return logprobs under the sampling weights


class RolloutWorker:
    """A Ray actor (wrapped with ray.remote at run time): one copy of the policy, its generator and
    the task's verifier. Calls on one actor run one at a time in the order they were sent, which is
    what orders weight pushes and rollouts."""

    def __init__(self, spec: WorkerSpec, threads: int = 1):
        import torch
        from transformers import AutoModelForCausalLM

        from r1lab.config import ZeroConfig
        from r1lab.generation import make_generator
        from r1lab.models.loading import disable_dropout

        torch.set_num_threads(threads)
        self.cfg = ZeroConfig.model_validate(spec.cfg)
        self.spec = spec
        dtype = torch.bfloat16 if self.cfg.dtype == "bfloat16" else torch.float32
        self.model = AutoModelForCausalLM.from_config(spec.model_config, dtype=dtype)
        self.model.generation_config = spec.generation_config
        disable_dropout(self.model)  # as the trainer's: the logprobs below must match its forward
        self.model.train()
        self.generator = make_generator(self.cfg.generator, self.model, spec.tokenizer,
                                        self.cfg.rollout_precision)
        self.task = task_of(self.cfg)
        self.version = -1  # no weights yet

    def load_weights(self, weights: dict, version: int) -> int:
        self.generator.load_weights(weights)
        self.version = version
        return version

    def rollout(self, step: int, problems: list[Problem]) -> tuple[Rollout, float]:
        """The scored share and the seconds this worker spent on it (the rest of a collect's wall
        time is Ray's: queueing, transfer, scheduling)."""
        t0 = time.perf_counter()
        if self.version < 0:
            raise RuntimeError("rollout worker asked to generate before it was given weights")
        rollout = make_rollout(self.generator, self.spec.tokenizer, self.spec.template, self.task, problems,
                               self.cfg, step, self.version)
        if self.spec.behaviour_logprobs:
            recompute_logprobs(self.model, rollout, self.cfg.temperature, self.cfg.micro_batch_size)
        return rollout, time.perf_counter() - t0


def start_ray(dist) -> bool:
    """Connect to the cluster at dist.address, or start a local Ray; reuse one already started in
    this process (tests start their own). Returns whether this call started it (and must stop it)."""
    try:
        import ray
    except ImportError:
        raise ConfigError("distributed.backend: ray needs the ray package: pip install 'r1lab[ray]'") from None

    # One logical CPU per actor: N rollout workers, plus M trainer ranks when M > 1.
    need = dist.rollout_workers + (dist.trainer_workers if dist.trainer_workers > 1 else 0)
    started = not ray.is_initialized()
    if started and dist.address:
        ray.init(address=dist.address, log_to_driver=True)
    elif started:
        # At least one logical CPU per actor, so a laptop with fewer cores than actors still schedules
        # them all (they then share the cores, as any oversubscribed processes do).
        ray.init(num_cpus=max(os.cpu_count() or 1, need), include_dashboard=False, log_to_driver=True)
    have = ray.cluster_resources().get("CPU", 0)
    if have < need:
        print(f"r1lab: warning: the Ray cluster has {have:g} CPUs but {need} actors each ask for one; "
              "they wait until an autoscaler adds nodes", file=sys.stderr, flush=True)
    return started


@dataclass
class _Share:
    index: int  # position among the step's shares
    problems: list[Problem]
    worker: int  # slot in the worker list
    actor: Any  # the actor it was sent to (the slot may since hold a replacement)
    ref: Any  # ObjectRef of the worker's Rollout
    redos: int = 0


class RayRolloutSource:
    """The trainer's handle on N rollout workers (Ray actors), given the setup's current weights."""

    def __init__(self, s: Setup, version: int):
        import ray

        dist = s.cfg.distributed
        self.cfg, self.train_problems = s.cfg, s.train_problems
        worker_cfg = s.cfg.model_copy(update={"task": portable_spec(s.cfg.task)})
        self.spec = WorkerSpec(
            cfg=worker_cfg.model_dump(mode="json"), model_config=s.generation_model.config,
            generation_config=s.generation_model.generation_config, tokenizer=s.tokenizer,
            template=s.template, behaviour_logprobs=dist.max_staleness > 0,
        )
        self.max_staleness = dist.max_staleness
        self.n = dist.rollout_workers
        self.owns_ray = start_ray(dist)
        self.actor_cls = ray.remote(num_cpus=1, max_restarts=0)(RolloutWorker)
        self.workers = [self.actor_cls.remote(self.spec) for _ in range(self.n)]
        self.prefetched: dict[int, list[_Share]] = {}
        self._stats: dict[str, float] = {}
        self.restarts_total = 0
        self.push_weights(s.generation_model, version)

    # -- weights
    def push_weights(self, model, version: int) -> None:
        """`model`: what the workers decode with (Setup.generation_model: with LoRA the merged copy, so
        workers hold a plain model and need no peft)."""
        import ray

        # One copy into the object store; every worker reads the same object (shared memory on a
        # node, one transfer per other node). On GPUs the documented path is an NCCL broadcast.
        state = {k: v.detach().to("cpu") for k, v in model.state_dict().items()}
        self.weights_ref, self.version = ray.put(state), version
        for w in self.workers:
            w.load_weights.remote(self.weights_ref, version)  # queued before any later rollout call

    # -- rollouts
    def collect(self, step: int) -> Rollout:
        restarts_before = self.restarts_total
        shares = self.prefetched.pop(step, None)
        if shares is None:
            shares = self._submit(step, step_problems(self.cfg, self.train_problems, step))
        parts, dropped = self._gather(step, shares)
        rollout = merge_rollouts(parts)
        if self.max_staleness > 0 and step + 1 < self.cfg.steps:
            # Async: the workers start the next step now, with the weights they hold, while the
            # trainer updates on this one.
            self.prefetched[step + 1] = self._submit(step + 1, step_problems(self.cfg, self.train_problems,
                                                                             step + 1))
        lags = [self.version - c.policy_version for c in rollout.completions]
        self._stats = {
            "rollout/staleness_mean": sum(lags) / len(lags),
            "rollout/staleness_max": float(max(lags)),
            "rollout/stale_dropped": float(dropped),
            "rollout/worker_restarts": float(self.restarts_total - restarts_before),
            "rollout/worker_s": self.worker_s,  # the slowest accepted share's compute time
        }
        return rollout

    def stats(self) -> dict[str, float]:
        return dict(self._stats)

    def _submit(self, step: int, problems: list[Problem]) -> list[_Share]:
        shares = []
        for index, (start, end) in enumerate(split_shares(len(problems), self.n)):
            share = _Share(index, problems[start:end], worker=index % self.n, actor=None, ref=None)
            self._send(step, share)
            shares.append(share)
        return shares

    def _gather(self, step: int, shares: list[_Share]) -> tuple[list[Rollout], int]:
        """Wait for every share; redo those whose worker died or that came back too stale."""
        import ray

        done: dict[int, Rollout] = {}
        self.worker_s = 0.0
        dropped = 0
        pending = {s.ref: s for s in shares}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            share = pending.pop(ready[0])
            try:
                part, seconds = ray.get(ready[0])
            except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as err:
                if self.workers[share.worker] is share.actor:  # not yet replaced (by another share's error)
                    self._replace_worker(share.worker, err)
                self._redo(step, share, pending, reason=f"worker {share.worker} died: {err}")
                continue
            version = min(c.policy_version for c in part.completions)
            if too_stale(version, self.version, self.max_staleness):
                dropped += len(part.completions)
                self._redo(step, share, pending, reason=f"share {share.index} too stale (v{version})")
                continue
            done[share.index] = part
            self.worker_s = max(self.worker_s, seconds)
        return [done[i] for i in sorted(done)], dropped

    def _redo(self, step: int, share: _Share, pending: dict, reason: str) -> None:
        share.redos += 1
        if share.redos > MAX_REDOS_PER_SHARE:
            raise RuntimeError(f"step {step}: gave up on prompt share {share.index} after "
                               f"{MAX_REDOS_PER_SHARE} redos; last: {reason}")
        self._send(step, share)
        pending[share.ref] = share

    def _send(self, step: int, share: _Share) -> None:
        share.actor = self.workers[share.worker]
        share.ref = share.actor.rollout.remote(step, share.problems)

    def _replace_worker(self, index: int, err: Exception) -> None:
        """A new actor in place of a dead one, given the current weights before anything else."""
        import ray

        ray.kill(self.workers[index], no_restart=True)
        self.workers[index] = self.actor_cls.remote(self.spec)
        self.workers[index].load_weights.remote(self.weights_ref, self.version)
        self.restarts_total += 1
        print(f"r1lab: rollout worker {index} died ({type(err).__name__}); restarted, its prompts are redone",
              flush=True)

    def shutdown(self) -> None:
        import ray

        for w in self.workers:
            ray.kill(w, no_restart=True)
        self.workers = []
        self.prefetched.clear()
        if self.owns_ray:
            ray.shutdown()
