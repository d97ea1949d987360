"""Policy-gradient losses for GRPO and its variants, as pure functions over [N, T] token tensors.

N sequences, T completion positions, `mask` 1 on completion tokens that count. The per-token term is
the clipped surrogate of PPO (Schulman et al. 2017) with asymmetric clipping ("clip-higher", DAPO,
Yu et al. 2025), plus beta times the k3 KL estimator (Schulman 2020) against a frozen reference, as
in GRPO (Shao et al. 2024, eq. 4).

The normaliser is what distinguishes the variants; each is written so that summing the losses of
micro-batches gives exactly the loss of the whole batch (the denominator is computed once over the
whole batch by `loss_denominator` and passed in):
- grpo:    average each sequence over its own tokens, then average over sequences (GRPO eq. 3);
- dapo:    average over all tokens of the batch, so long sequences weigh by their length (DAPO eq. 8);
- dr_grpo: sum over tokens, divided by a constant, sequences x max_new_tokens (Dr. GRPO, Liu et al.
           2025), removing the length bias of per-sequence averaging.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

LossType = Literal["grpo", "dr_grpo", "dapo"]


def clipped_surrogate(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    clip_low: float,
    clip_high: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token loss -min(r A, clip(r, 1-low, 1+high) A) [N, T] and where the clip was active [N, T]."""
    ratio = torch.exp(logprobs - old_logprobs)
    adv = advantages.unsqueeze(-1)
    unclipped = ratio * adv
    clipped = torch.clamp(ratio, 1.0 - clip_low, 1.0 + clip_high) * adv
    return -torch.minimum(unclipped, clipped), (clipped < unclipped)


def k3_kl(logprobs: torch.Tensor, ref_logprobs: torch.Tensor) -> torch.Tensor:
    """k3 estimator of KL(pi || ref) per token: exp(d) - d - 1 with d = ref - logp. Non-negative;
    unbiased only for tokens sampled from pi itself (on-policy)."""
    d = ref_logprobs - logprobs
    return torch.exp(d) - d - 1.0


def loss_denominator(loss_type: LossType, mask: torch.Tensor, max_new_tokens: int) -> float:
    """The normaliser over the WHOLE batch's mask [N, T] (not a micro-batch's)."""
    if loss_type == "grpo":
        return float((mask.sum(-1) > 0).sum().clamp(min=1))
    if loss_type == "dapo":
        return float(mask.sum().clamp(min=1))
    if loss_type == "dr_grpo":
        return float(mask.shape[0] * max_new_tokens)
    raise ValueError(f"unknown loss type {loss_type!r}")


def aggregate(per_token: torch.Tensor, mask: torch.Tensor, loss_type: LossType, denominator: float) -> torch.Tensor:
    """Reduce a per-token loss [N, T] to this micro-batch's share of the batch loss."""
    masked = per_token * mask
    if loss_type == "grpo":
        lengths = mask.sum(-1).clamp(min=1)
        return (masked.sum(-1) / lengths).sum() / denominator
    return masked.sum() / denominator


@dataclass
class LossStats:
    clip_fraction: float  # share of counted tokens where the clipped branch was taken
    kl: float  # mean k3 KL over counted tokens (0 when there is no reference)
    ratio_mean: float


def policy_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    *,
    loss_type: LossType,
    denominator: float,
    clip_low: float,
    clip_high: float,
    beta: float = 0.0,
    ref_logprobs: torch.Tensor | None = None,
    token_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, LossStats]:
    """`token_weights` [N, T] (detached) scale the clipped surrogate only, not the KL term: the
    importance weights that correct rollouts from another engine (r1lab.rl.correction; verl applies
    them the same way)."""
    per_token, clipped = clipped_surrogate(logprobs, old_logprobs, advantages, clip_low, clip_high)
    if token_weights is not None:
        per_token = per_token * token_weights
    kl_value = 0.0
    if beta > 0:
        if ref_logprobs is None:
            raise ValueError("beta > 0 needs reference logprobs")
        kl = k3_kl(logprobs, ref_logprobs)
        per_token = per_token + beta * kl
        kl_value = float(_token_mean(kl.detach(), mask))
    loss = aggregate(per_token, mask, loss_type, denominator)
    with torch.no_grad():
        stats = LossStats(
            clip_fraction=float(_token_mean(clipped.float(), mask)),
            kl=kl_value,
            ratio_mean=float(_token_mean(torch.exp(logprobs - old_logprobs), mask)),
        )
    return loss, stats


def _token_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (x * mask).sum() / mask.sum().clamp(min=1)
