"""Group-relative advantages (GRPO, Shao et al. 2024, eq. 3 outcome supervision).

Rewards arrive flat, [B*G], grouped by prompt: rows i*G..(i+1)*G answer prompt i. A NaN reward (a
verifier that could not score, say) is left out of its group's statistics and gets advantage 0, so
it neither pushes nor pulls the policy.
"""

from __future__ import annotations

from typing import Literal

import torch

AdvantageScale = Literal["group", "batch", "none"]


def _group_view(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    if rewards.ndim != 1 or rewards.numel() % group_size != 0:
        raise ValueError(f"rewards must be flat [B*G] with G={group_size}, got shape {tuple(rewards.shape)}")
    return rewards.view(-1, group_size)


def _masked_mean(x: torch.Tensor, valid: torch.Tensor, dim: int | None) -> torch.Tensor:
    x = torch.where(valid, x, torch.zeros_like(x))
    if dim is None:
        return x.sum() / valid.sum().clamp(min=1)
    return x.sum(dim, keepdim=True) / valid.sum(dim, keepdim=True).clamp(min=1)


def _masked_std(x: torch.Tensor, valid: torch.Tensor, dim: int | None) -> torch.Tensor:
    """Sample standard deviation (Bessel-corrected, as torch.std and TRL use); 0 with < 2 values."""
    mean = _masked_mean(x, valid, dim)
    sq = torch.where(valid, (x - mean) ** 2, torch.zeros_like(x))
    count = valid.sum() if dim is None else valid.sum(dim, keepdim=True)
    return torch.sqrt(sq.sum() if dim is None else sq.sum(dim, keepdim=True)) / torch.sqrt(
        (count - 1).clamp(min=1)
    )


def group_advantages(
    rewards: torch.Tensor, group_size: int, scale: AdvantageScale = "group", eps: float = 1e-6
) -> torch.Tensor:
    """[B*G] rewards -> [B*G] advantages.

    Every variant subtracts the group mean. Then: "group" divides by the group's std (GRPO);
    "batch" divides by the std of all rewards in the batch (more stable when groups are small,
    Hu 2025, REINFORCE++); "none" keeps the centred reward (Dr. GRPO, Liu et al. 2025, which argues
    the std division over-weights near-uniform groups). A zero-variance group gives 0 throughout.
    """
    grouped = _group_view(rewards.float(), group_size)
    valid = ~torch.isnan(grouped)
    centred = grouped - _masked_mean(grouped, valid, dim=1)
    if scale == "group":
        centred = centred / (_masked_std(grouped, valid, dim=1) + eps)
    elif scale == "batch":
        centred = centred / (_masked_std(grouped, valid, dim=None) + eps)
    elif scale != "none":
        raise ValueError(f"unknown advantage scale {scale!r}")
    return torch.where(valid, centred, torch.zeros_like(centred)).view(-1)


def zero_variance_groups(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    """[B] True where every valid reward of the group is equal (no learning signal: DAPO's dynamic
    sampling drops these, Yu et al. 2025)."""
    grouped = _group_view(rewards.float(), group_size)
    valid = ~torch.isnan(grouped)
    hi = torch.where(valid, grouped, torch.full_like(grouped, -torch.inf)).max(dim=1).values
    lo = torch.where(valid, grouped, torch.full_like(grouped, torch.inf)).min(dim=1).values
    return (hi <= lo) | (valid.sum(dim=1) < 2)
