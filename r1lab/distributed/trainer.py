"""Data-parallel trainer ranks: M Ray actors, each with its own copy of the policy, optimizer and LR
schedule, joined in one torch.distributed process group (gloo here, on CPUs).

One update: the step's sequences are split into M contiguous shares, and each rank runs the same
`grpo_update` on its share. Gradients are made to add up to the whole batch's: a rank's loss is
normalised by its share's denominator D_r (sequences, tokens or a constant, by loss type), the whole
batch's loss by D = sum of the pieces it is made of, so rank r scales its gradient by D_r / D and the
ranks all-reduce (sum) the flattened gradients before clipping. Every rank then clips the same
gradient and takes the same AdamW step, so the weights stay identical across ranks (checked by
`checksums`); rank 0's weights go back to the driver after each update, for the rollout workers,
evaluation and checkpoints.

The ranks start from one pickled bundle of the driver's model, optimizer, scheduler and reference
model, so the optimizer state and LR schedule of a resumed run carry over and the schedule has a
single definition (r1lab.grpo.setup.build_setup). On GPUs the process group would use NCCL and the weights would
go to rollout workers by an NCCL broadcast from rank 0 (docs/distributed.md); this module runs the
CPU path.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import warnings
from datetime import timedelta

import torch

from r1lab.config import DistributedConfig
from r1lab.distributed.rollout import split_shares, start_ray
from r1lab.rl.losses import loss_denominator
from r1lab.rl.update import UpdateSettings, grpo_update, rows_with_gradient


def shard_denominator(loss_type: str, completions: list[list[int]], weights: torch.Tensor,
                      max_new_tokens: int) -> float:
    """The loss normaliser grpo_update uses for these sequences (losses.loss_denominator on the same mask)."""
    mask = torch.zeros(len(completions), max(1, max((len(c) for c in completions), default=1)))
    for i, c in enumerate(completions):
        mask[i, :len(c)] = weights[i]
    return loss_denominator(loss_type, mask, max_new_tokens)


def trained_tokens(completions: list[list[int]], advantages: torch.Tensor, weights: torch.Tensor,
                   settings: UpdateSettings) -> float:
    """The tokens grpo_update takes its token means over: it skips rows that cannot have a gradient."""
    rows = range(len(completions))
    if settings.skip_zero_advantage:
        rows = rows_with_gradient(advantages, weights, settings.beta)
    return sum(len(completions[i]) * float(weights[i]) for i in rows)


def combine_stats(parts: list[dict[str, float]], scales: list[float], tokens: list[float],
                  rows: list[int]) -> dict[str, float]:
    """Whole-batch stats from the ranks': the loss adds up with the gradient scales, token means are
    weighted by the tokens each rank trained on, the gradient norm is the same on every rank."""
    out = {"loss": sum(s * p["loss"] for s, p in zip(scales, parts)), "grad_norm": parts[0]["grad_norm"]}
    for key in ("clip_fraction", "kl", "ratio_mean", "entropy"):
        pairs = [(p[key], t) for p, t in zip(parts, tokens) if t > 0 and p[key] == p[key]]  # skip NaN
        total = sum(t for _, t in pairs)
        out[key] = sum(v * t for v, t in pairs) / total if total else float("nan")
    for key in ("rollout_mismatch_kl", "rollout_mismatch_kl_k1", "rollout_ratio_mean", "rollout_corrected_fraction"):
        pairs = [(p[key], t) for p, t in zip(parts, tokens) if key in p and t > 0 and p[key] == p[key]]
        if pairs:
            out[key] = sum(v * t for v, t in pairs) / sum(t for _, t in pairs)
    for key, pick in (("rollout_ratio_max", max), ("rollout_ratio_min", min), ("rollout_logprob_diff_max", max)):
        values = [p[key] for p in parts if key in p and p[key] == p[key]]
        if values:
            out[key] = pick(values)
    if all("trained_fraction" in p for p in parts):
        out["trained_fraction"] = sum(p["trained_fraction"] * n for p, n in zip(parts, rows)) / max(1, sum(rows))
    return out


class TrainerRank:
    """One data-parallel rank (a Ray actor). Calls run one at a time, in order."""

    def __init__(self, bundle: tuple, settings, pad_id: int, threads: int = 1):
        torch.set_num_threads(threads)
        # Unpickling drops the scheduler's marker on optimizer.step, so torch's check for "scheduler
        # stepped before optimizer" misfires once; the order in grpo_update is the right one.
        warnings.filterwarnings("ignore", message="Seems like `optimizer.step\\(\\)` has been overridden")
        self.model, self.optimizer, self.scheduler, self.ref_model = bundle
        self.settings, self.pad_id = settings, pad_id

    def address(self) -> tuple[str, int]:
        """Where rank 0 listens for the process group's rendezvous: this node and a free port."""
        import ray

        with socket.socket() as s:
            s.bind(("", 0))
            port = s.getsockname()[1]
        return ray.util.get_node_ip_address(), port

    def join(self, host: str, port: int, rank: int, world: int) -> int:
        import torch.distributed as dist

        dist.init_process_group("gloo", init_method=f"tcp://{host}:{port}", rank=rank, world_size=world,
                                timeout=timedelta(minutes=10))
        self.rank = rank
        return os.getpid()

    def update(self, prompts, completions, advantages, weights, behaviour, scale: float) -> dict[str, float]:
        def reduce_grads() -> None:
            import torch.distributed as dist

            params = [p for p in self.model.parameters() if p.requires_grad]
            grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
            flat = torch.cat([g.reshape(-1) for g in grads]) * scale
            dist.all_reduce(flat, op=dist.ReduceOp.SUM)
            for p, piece in zip(params, flat.split([g.numel() for g in grads])):
                p.grad = piece.view_as(p).clone()

        return grpo_update(self.model, self.optimizer, self.scheduler, prompts, completions, advantages,
                           weights, self.settings, self.pad_id, self.ref_model,
                           behaviour_logprobs=behaviour, reduce_grads=reduce_grads)

    def weights(self) -> tuple[dict, dict]:
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}, self.scheduler.state_dict()

    def optimizer_state(self) -> tuple[dict, dict]:
        return self.optimizer.state_dict(), self.scheduler.state_dict()

    def checksum(self) -> str:
        h = hashlib.sha256()
        for p in self.model.parameters():
            h.update(p.detach().contiguous().numpy().tobytes())
        return h.hexdigest()

    def leave(self) -> None:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()


class DataParallelTrainer:
    """The driver's handle on M trainer ranks."""

    def __init__(self, dist: DistributedConfig, model, optimizer, scheduler, ref_model, settings: UpdateSettings,
                 pad_id: int):
        import ray

        self.settings, self.m = settings, dist.trainer_workers
        self.owns_ray = start_ray(dist)
        bundle = ray.put((model, optimizer, scheduler, ref_model))  # one pickled object graph
        actor = ray.remote(num_cpus=1, max_restarts=0)(TrainerRank)
        self.ranks = [actor.remote(bundle, settings, pad_id) for _ in range(self.m)]
        host, port = ray.get(self.ranks[0].address.remote())
        ray.get([r.join.remote(host, port, i, self.m) for i, r in enumerate(self.ranks)])

    def update(self, prompts, completions, advantages, weights, behaviour_logprobs=None,
               model: torch.nn.Module | None = None, scheduler=None) -> dict[str, float]:
        """One GRPO update over the whole batch, split across ranks; `model` and `scheduler` (the
        driver's) then get rank 0's new weights and LR schedule position."""
        import ray

        s = self.settings
        total = shard_denominator(s.loss_type, completions, weights, s.max_new_tokens)
        refs, scales, tokens, rows = [], [], [], []
        for start, end in split_shares(len(prompts), self.m):
            w = weights[start:end]
            scales.append(shard_denominator(s.loss_type, completions[start:end], w, s.max_new_tokens) / total)
            tokens.append(trained_tokens(completions[start:end], advantages[start:end], w, s))
            rows.append(end - start)
            behaviour = behaviour_logprobs[start:end] if behaviour_logprobs is not None else None
            refs.append((start, end, behaviour))
        if len(refs) != self.m:
            raise ValueError(f"{len(prompts)} sequences cannot be split over {self.m} trainer ranks")
        parts = ray.get([
            rank.update.remote(prompts[a:b], completions[a:b], advantages[a:b], weights[a:b], beh, scale)
            for rank, (a, b, beh), scale in zip(self.ranks, refs, scales)
        ])
        if model is not None:
            state, schedule = ray.get(self.ranks[0].weights.remote())
            model.load_state_dict(state)
            if scheduler is not None:
                scheduler.load_state_dict(schedule)
        return combine_stats(parts, scales, tokens, rows)

    def pull_optimizer(self, optimizer, scheduler) -> None:
        """Rank 0's optimizer and schedule state into the driver's, before a checkpoint is written."""
        import ray

        opt_state, sched_state = ray.get(self.ranks[0].optimizer_state.remote())
        optimizer.load_state_dict(opt_state)
        scheduler.load_state_dict(sched_state)

    def checksums(self) -> list[str]:
        import ray

        return ray.get([r.checksum.remote() for r in self.ranks])

    def shutdown(self) -> None:
        import ray

        with contextlib.suppress(Exception):  # a rank already gone has nothing to leave
            ray.get([r.leave.remote() for r in self.ranks], timeout=30)
        for r in self.ranks:
            ray.kill(r, no_restart=True)
        self.ranks = []
        if self.owns_ray:
            ray.shutdown()
