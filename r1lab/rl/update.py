"""One GRPO update from a scored rollout: length-bucketed micro-batches, optional old-policy and
reference forwards, mu iterations of gradient steps. Shared by the zero and rl stages and the
distributed trainer; the maths it calls lives in advantages.py, losses.py and logprobs.py."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from r1lab.rl.logprobs import SequenceBatch, build_batch, completion_logprobs
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


def length_buckets(lengths: list[int], micro_batch_size: int) -> list[list[int]]:
    """Indices grouped into micro-batches of similar length, so little of each forward is padding."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i:i + micro_batch_size] for i in range(0, len(order), micro_batch_size)]


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
) -> dict[str, float]:
    lengths = [len(p) + len(c) for p, c in zip(prompts, completions)]
    buckets = length_buckets(lengths, settings.micro_batch_size)
    batches: list[tuple[list[int], SequenceBatch]] = []
    for idx in buckets:
        b = build_batch([prompts[i] for i in idx], [completions[i] for i in idx], pad_id)
        b.completion_mask *= weights[idx].unsqueeze(-1)
        batches.append((idx, b))
    width = max(b.completion_mask.shape[1] for _, b in batches)
    full_mask = torch.zeros(len(prompts), width)
    for idx, b in batches:
        full_mask[idx, : b.completion_mask.shape[1]] = b.completion_mask
    denominator = loss_denominator(settings.loss_type, full_mask, settings.max_new_tokens)

    # Frozen forwards, once per batch: the behaviour policy (only when it will differ from the
    # current one, i.e. mu > 1) and the reference (only when beta > 0).
    old_lp, ref_lp = {}, {}
    with torch.no_grad():
        for k, (_, b) in enumerate(batches):
            if settings.iterations > 1:
                old_lp[k] = completion_logprobs(model, b, settings.temperature)[0]
            if settings.beta > 0:
                ref_lp[k] = completion_logprobs(ref_model, b, settings.temperature)[0]

    totals = {"loss": 0.0, "clip_fraction": 0.0, "kl": 0.0, "ratio_mean": 0.0, "entropy": 0.0, "grad_norm": 0.0}
    counted_tokens = float(full_mask.sum().clamp(min=1))
    for iteration in range(settings.iterations):
        optimizer.zero_grad(set_to_none=True)
        for k, (idx, b) in enumerate(batches):
            first = iteration == 0
            logprobs, entropy = completion_logprobs(model, b, settings.temperature, with_entropy=first)
            old = old_lp[k] if settings.iterations > 1 else logprobs.detach()
            loss, stats = policy_loss(
                logprobs, old, advantages[idx], b.completion_mask,
                loss_type=settings.loss_type, denominator=denominator,
                clip_low=settings.clip_low, clip_high=settings.clip_high,
                beta=settings.beta, ref_logprobs=ref_lp.get(k),
            )
            loss.backward()
            share = float(b.completion_mask.sum()) / counted_tokens  # token-weighted stats
            if first:
                totals["loss"] += loss.item()
                totals["clip_fraction"] += stats.clip_fraction * share
                totals["kl"] += stats.kl * share
                totals["ratio_mean"] += stats.ratio_mean * share
                totals["entropy"] += float((entropy * b.completion_mask).sum()) / counted_tokens
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), settings.max_grad_norm)
        if iteration == 0:
            totals["grad_norm"] = float(grad_norm)
        optimizer.step()
        scheduler.step()
    return totals
