"""One GRPO update from a scored rollout: length-bucketed micro-batches, optional old-policy and
reference forwards, mu iterations of gradient steps. Shared by the zero and rl stages and the
distributed trainer; the maths it calls lives in advantages.py, losses.py and logprobs.py.

Work that cannot change the result is not done (each measured in benchmarks/NOTES.md):
- with beta = 0, a sequence whose advantage is 0 (or whose weight is 0) has a per-token loss of exactly
  0 whatever its ratio, so it gets no forward or backward at all; the loss normaliser is still taken
  over the whole batch, so the loss and gradients are those of the full batch. The optimizer still
  steps (with zero gradients when nothing is left), as it would on the full batch;
- each distinct prompt of a micro-batch is run once and shared by its completions
  (`shared_prompt_logprobs`);
- no old-policy forward when mu = 1 (the ratio is then exp(logp - logp.detach()) = 1, with gradient),
  no reference forward when beta = 0.

Logged statistics (clip_fraction, ratio_mean, kl, entropy) are token means over the sequences that
were trained on; `trained_fraction` is their share of the batch. With nothing to train on they are NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from r1lab.rl.correction import CorrectionLevel, CorrectionMethod, MismatchStats, rollout_correction
from r1lab.rl.logprobs import (
    SequenceBatch,
    SharedPromptBatch,
    build_batch,
    build_shared_batch,
    completion_logprobs,
    shared_prompt_logprobs,
)
from r1lab.rl.losses import LossType, loss_denominator, policy_loss


@dataclass
class UpdateSettings:
    loss_type: LossType
    clip_low: float
    clip_high: float
    beta: float
    iterations: int  # mu
    micro_batch_size: int
    max_new_tokens: int
    temperature: float
    max_grad_norm: float
    share_prompts: bool = True  # one forward per distinct prompt per micro-batch
    skip_zero_advantage: bool = True  # with beta = 0: no forward/backward for rows with no gradient
    # "bfloat16": forwards and backward under autocast (matmuls in bfloat16; weights, gradients and the
    # optimizer stay float32), at bfloat16's ~3 significant digits in the logits; faster where the CPU
    # has bfloat16 matmul units (benchmarks/NOTES.md).
    precision: str = "float32"
    # Rollouts from another engine (r1lab.rl.correction): "none" takes PPO's ratio against the
    # sampler's logprobs (the old way, and what async workers' recomputed logprobs need); "tis"/"mis"
    # take it against the trainer's own logprobs at the rollout weights and weight each token by the
    # bounded trainer/sampler ratio. The mismatch statistics are logged either way.
    correction: CorrectionMethod = "none"
    correction_level: CorrectionLevel = "token"
    correction_cap: float = 2.0


def length_buckets(lengths: list[int], micro_batch_size: int) -> list[list[int]]:
    """Indices grouped into micro-batches of similar length, so little of each forward is padding."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i:i + micro_batch_size] for i in range(0, len(order), micro_batch_size)]


def rows_with_gradient(advantages: torch.Tensor, weights: torch.Tensor, beta: float) -> list[int]:
    """Rows whose loss term can have a non-zero gradient: weight > 0, and advantage != 0 unless a KL
    term (beta > 0) gives every row a gradient of its own."""
    keep = weights > 0
    if beta == 0:
        keep &= advantages != 0
    return torch.nonzero(keep).squeeze(-1).tolist()


Batch = SequenceBatch | SharedPromptBatch


def sequence_logprobs(model, batch: Batch, temperature: float, with_entropy: bool = False,
                      precision: str = "float32"):
    device = next(model.parameters()).device.type
    with torch.autocast(device, dtype=torch.bfloat16, enabled=precision == "bfloat16"):
        if isinstance(batch, SharedPromptBatch):
            return shared_prompt_logprobs(model, batch, temperature, with_entropy)
        return completion_logprobs(model, batch, temperature, with_entropy)


def grpo_update(
    model,
    optimizer,
    scheduler,
    prompts: list[list[int]],  # [N] prompt ids per sequence
    completions: list[list[int]],  # [N] completion ids
    advantages: torch.Tensor,  # [N]
    weights: torch.Tensor,  # [N] 1 = counts, 0 = masked out (truncated, filtered group)
    settings: UpdateSettings,
    pad_id: int,
    ref_model=None,
    behaviour_logprobs: list[list[float]] | None = None,  # [N][T_i] under the policy that sampled them
    reduce_grads=None,  # data-parallel ranks (distributed/trainer.py): sums gradients across ranks
) -> dict[str, float]:
    # The loss normaliser is over the whole batch, rows that will be skipped included.
    full_mask = torch.zeros(len(prompts), max(1, max(len(c) for c in completions)))
    for i, c in enumerate(completions):
        full_mask[i, :len(c)] = weights[i]
    denominator = loss_denominator(settings.loss_type, full_mask, settings.max_new_tokens)

    rows = list(range(len(prompts)))
    if settings.skip_zero_advantage:
        rows = rows_with_gradient(advantages, weights, settings.beta)
    build = build_shared_batch if settings.share_prompts else build_batch
    lengths = [len(prompts[i]) + len(completions[i]) for i in rows]
    batches: list[tuple[list[int], Batch]] = []
    for bucket in length_buckets(lengths, settings.micro_batch_size):
        idx = [rows[j] for j in bucket]
        b = build([prompts[i] for i in idx], [completions[i] for i in idx], pad_id)
        b.completion_mask *= weights[idx].unsqueeze(-1)
        batches.append((idx, b))

    # Frozen forwards, once per batch: the old policy (only when it will differ from the current one,
    # i.e. mu > 1) and the reference (only when beta > 0). Rollouts from another sampler bring its
    # logprobs: with correction "none", PPO's ratio is taken against them, and its clip bounds the
    # off-policy step (Noukhovitch et al. 2024: the right thing for async workers, whose logprobs are
    # the trainer's own function at older weights); with "tis"/"mis" the old policy stays the
    # trainer's and the sampler's logprobs only enter the importance weights.
    decoupled = behaviour_logprobs is not None and settings.correction != "none"
    old_lp, beh_lp, ref_lp = {}, {}, {}
    with torch.no_grad():
        for k, (idx, b) in enumerate(batches):
            if behaviour_logprobs is not None:
                beh_lp[k] = torch.zeros_like(b.completion_mask)
                for row, i in enumerate(idx):
                    beh_lp[k][row, :len(behaviour_logprobs[i])] = torch.tensor(behaviour_logprobs[i])
                if not decoupled:
                    old_lp[k] = beh_lp[k]
            if k not in old_lp and settings.iterations > 1:
                old_lp[k] = sequence_logprobs(model, b, settings.temperature, precision=settings.precision)[0]
            if settings.beta > 0:
                ref_lp[k] = sequence_logprobs(ref_model, b, settings.temperature, precision=settings.precision)[0]

    totals = {"loss": 0.0, "clip_fraction": 0.0, "kl": 0.0, "ratio_mean": 0.0, "entropy": 0.0, "grad_norm": 0.0}
    counted_tokens = float(sum(b.completion_mask.sum() for _, b in batches))
    corrections, mismatch = {}, MismatchStats()
    for iteration in range(settings.iterations):
        first = iteration == 0
        optimizer.zero_grad(set_to_none=True)
        for k, (idx, b) in enumerate(batches):
            logprobs, entropy = sequence_logprobs(model, b, settings.temperature, with_entropy=first,
                                                  precision=settings.precision)
            old = old_lp[k] if k in old_lp else logprobs.detach()
            if first and k in beh_lp:  # the trainer's logprobs at the rollout weights vs the sampler's
                rollout_weights = old if decoupled else logprobs.detach()
                corrections[k] = rollout_correction(rollout_weights, beh_lp[k], b.completion_mask, settings.correction,
                                                    settings.correction_level, settings.correction_cap)
                mismatch = mismatch + corrections[k].stats
            corr = corrections.get(k) if decoupled else None
            loss, stats = policy_loss(
                logprobs, old, advantages[idx], corr.mask if corr else b.completion_mask,
                loss_type=settings.loss_type, denominator=denominator,
                clip_low=settings.clip_low, clip_high=settings.clip_high,
                beta=settings.beta, ref_logprobs=ref_lp.get(k), token_weights=corr.weights if corr else None,
            )
            loss.backward()
            if first:
                share = float(b.completion_mask.sum()) / max(counted_tokens, 1.0)  # token-weighted stats
                totals["loss"] += loss.item()
                totals["clip_fraction"] += stats.clip_fraction * share
                totals["kl"] += stats.kl * share
                totals["ratio_mean"] += stats.ratio_mean * share
                totals["entropy"] += float((entropy * b.completion_mask).sum()) / max(counted_tokens, 1.0)
        if not batches:
            _zero_missing_grads(model)
        if reduce_grads is not None:  # before clipping: every rank clips the whole batch's gradient
            reduce_grads()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), settings.max_grad_norm)
        if first:
            totals["grad_norm"] = float(grad_norm)
        optimizer.step()
        scheduler.step()
    if counted_tokens == 0:
        for key in ("clip_fraction", "kl", "ratio_mean", "entropy"):
            totals[key] = float("nan")
    totals["trained_fraction"] = len(rows) / max(1, len(prompts))
    if behaviour_logprobs is not None:
        totals |= mismatch.metrics()
    return totals


def _zero_missing_grads(model) -> None:
    """A parameter that got no gradient (everything skipped) gets an explicit zero one, so the
    optimizer treats the step exactly as a zero-gradient step of the full batch (AdamW skips a
    parameter whose grad is None: its moments would not decay and weight decay would not apply)."""
    for p in model.parameters():
        if p.requires_grad and p.grad is None:
            p.grad = torch.zeros_like(p)
