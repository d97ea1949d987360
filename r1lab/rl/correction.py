"""Correction for the gap between the policy that sampled a rollout and the policy the trainer computes.

A rollout engine (vLLM, a bfloat16 or int8 copy of the policy) samples tokens from its own numerics,
mu, which are never exactly the trainer's, pi, even with the same weights; the policy gradient is then
off-policy. Yao et al. 2025 ("Your efficient RL framework secretly brings you off-policy RL training")
and Liu, Li et al. 2025 ("When speed kills stability: demystifying RL collapse from the
training-inference mismatch") reweight each token's loss term by the importance ratio
rho = pi(y) / mu(y) of its sampled token, bounded so that a few extreme ratios cannot dominate:

- tis (truncated importance sampling): weight min(rho, C);
- mis (masked importance sampling): weight rho where 1/C <= rho <= C, and the token (or sequence) is
  dropped from the loss outside that band (its `mask` entry becomes 0, so a caller can also leave it
  out of a token-count normaliser, as verl does; TRL keeps it in the normaliser with weight 0);
- none: weight 1; the statistics are still measured, so the gap is always logged.

Levels: `token` uses each token's own ratio. `sequence` uses one ratio per sequence, the product of its
tokens' ratios (the sum of their log-ratios), broadcast to its tokens: that product is the likelihood
ratio of the whole sequence, the importance weight of a sequence-level objective, and what verl's and
TRL's "sequence" modes compute. The geometric mean (exp of the mean log-ratio) is not an importance
weight (its expectation under mu is not 1), so it can filter outliers but cannot correct a gradient;
it is not offered. The price of the product: a cap C bounds the mean per-token log-ratio of a T-token
sequence by log(C)/T, so long sequences are truncated or masked more often than short ones.

Same definitions as verl's rollout correction (docs/algo/rollout_corr.md: IS weights truncated at the
upper threshold; rejection outside [lower, upper] with lower = 1/upper by default; log-ratios bounded
to [-20, 20] before exp) and TRL's `vllm_importance_sampling_mode` (token_truncate, token_mask,
sequence_truncate, sequence_mask); the code is r1lab's own.

Which ratio: pi is the trainer's policy at the weights that produced the rollout. With one gradient
step per rollout (mu = 1) that is the current forward's logprobs, detached; with several it is the
frozen old-policy forward taken before the first step. The PPO ratio then runs between the current and
that old trainer policy, and the weight here corrects old-trainer to sampler ("decoupled" PPO).

Every statistic is over the tokens where `mask` is 1 (padding, and whatever the caller masked, never
counts); sequences without any such token are left out of sequence-level statistics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

CorrectionMethod = Literal["none", "tis", "mis"]
CorrectionLevel = Literal["token", "sequence"]

# exp(20) ~ 5e8: log-ratios are bounded before exponentiating so that one token the sampler thought
# nearly impossible cannot overflow a weight or a sequence product (verl and TRL use the same bound).
LOG_RATIO_BOUND = 20.0


@dataclass
class MismatchStats:
    """Sums and extremes over one or more micro-batches; `a + b` merges them, `metrics()` reports."""

    tokens: int = 0  # counted tokens
    kl_k3_sum: float = 0.0  # sum over tokens of rho - 1 - log rho
    kl_k1_sum: float = 0.0  # sum over tokens of log mu - log pi
    ratio_count: int = 0  # ratios at the correction level: tokens, or sequences
    ratio_sum: float = 0.0
    ratio_max: float = -math.inf
    ratio_min: float = math.inf
    corrected_tokens: int = 0  # tokens whose weight is not their raw ratio (truncated or masked)
    abs_diff_max: float = 0.0  # largest |log pi - log mu| of a token

    def __add__(self, other: MismatchStats) -> MismatchStats:
        return MismatchStats(
            tokens=self.tokens + other.tokens,
            kl_k3_sum=self.kl_k3_sum + other.kl_k3_sum,
            kl_k1_sum=self.kl_k1_sum + other.kl_k1_sum,
            ratio_count=self.ratio_count + other.ratio_count,
            ratio_sum=self.ratio_sum + other.ratio_sum,
            ratio_max=max(self.ratio_max, other.ratio_max),
            ratio_min=min(self.ratio_min, other.ratio_min),
            corrected_tokens=self.corrected_tokens + other.corrected_tokens,
            abs_diff_max=max(self.abs_diff_max, other.abs_diff_max),
        )

    def metrics(self) -> dict[str, float]:
        """What a training step logs. NaN where nothing was counted (as r1lab.rl.update does).

        rollout_mismatch_kl: the k3 estimator of KL(mu || pi), mean over tokens of rho - 1 - log rho
          with rho = pi/mu of the sampled token. The tokens were drawn from mu, so it is unbiased for
          that KL (E_mu[rho] = 1), and every term is >= 0 (Schulman 2020, "Approximating KL divergence").
        rollout_mismatch_kl_k1: mean of log mu - log pi, the plain estimator of the same KL (unbiased,
          noisier, can be negative on a small batch).
        rollout_ratio_mean/max/min: rho before truncation or masking, over tokens (level token) or
          sequences (level sequence).
        rollout_corrected_fraction: share of counted tokens whose weight was truncated or masked.
        rollout_logprob_diff_max: largest |log pi - log mu| of a token.
        """
        nan = float("nan")
        tokens, ratios = self.tokens, self.ratio_count
        return {
            "rollout_mismatch_kl": self.kl_k3_sum / tokens if tokens else nan,
            "rollout_mismatch_kl_k1": self.kl_k1_sum / tokens if tokens else nan,
            "rollout_ratio_mean": self.ratio_sum / ratios if ratios else nan,
            "rollout_ratio_max": self.ratio_max if ratios else nan,
            "rollout_ratio_min": self.ratio_min if ratios else nan,
            "rollout_corrected_fraction": self.corrected_tokens / tokens if tokens else nan,
            "rollout_logprob_diff_max": self.abs_diff_max if tokens else nan,
        }


@dataclass
class RolloutCorrection:
    weights: torch.Tensor  # [N, T] per-token loss weight, detached; 0 on padding and on masked tokens
    mask: torch.Tensor  # [N, T] the input mask with the tokens mis dropped set to 0
    stats: MismatchStats


def rollout_correction(
    trainer_logprobs: torch.Tensor,  # [N, T] log pi of the sampled tokens (any values on padding)
    behaviour_logprobs: torch.Tensor,  # [N, T] log mu, as the generator returned them
    mask: torch.Tensor,  # [N, T] 1 on tokens that count, 0 on padding
    method: CorrectionMethod = "none",
    level: CorrectionLevel = "token",
    cap: float = 2.0,
) -> RolloutCorrection:
    """Importance weights [N, T] for the per-token loss, the mask left after mis, and the statistics."""
    if method not in ("none", "tis", "mis"):
        raise ValueError(f"unknown rollout correction {method!r} (known: none, tis, mis)")
    if level not in ("token", "sequence"):
        raise ValueError(f"unknown rollout correction level {level!r} (known: token, sequence)")
    if method != "none" and not cap > 1.0:
        raise ValueError(f"rollout correction cap must be > 1, got {cap}")
    with torch.no_grad():
        valid = mask > 0
        log_ratio = torch.where(valid, trainer_logprobs.float() - behaviour_logprobs.float(), 0.0)
        token_ratio = torch.exp(log_ratio.clamp(-LOG_RATIO_BOUND, LOG_RATIO_BOUND))

        has_tokens = valid.any(-1)  # [N]
        if level == "token":
            ratio = token_ratio  # [N, T]
            counted = valid
        else:
            sequence_log_ratio = log_ratio.sum(-1, keepdim=True).clamp(-LOG_RATIO_BOUND, LOG_RATIO_BOUND)
            ratio = torch.exp(sequence_log_ratio).expand_as(log_ratio)  # [N, T], one value per row
            counted = has_tokens.unsqueeze(-1)  # [N, 1]: one ratio per sequence for the statistics

        keep = valid
        if method == "tis":
            weights = ratio.clamp(max=cap)
            corrected = valid & (ratio > cap)
        elif method == "mis":
            inside = (ratio >= 1.0 / cap) & (ratio <= cap)
            keep = valid & inside
            weights = ratio
            corrected = valid & ~inside
        else:
            weights = torch.ones_like(ratio)
            corrected = torch.zeros_like(valid)
        weights = torch.where(keep, weights, 0.0)
        new_mask = mask * keep.to(mask.dtype)

        level_ratios = (ratio if level == "token" else ratio[:, :1])[counted]
        stats = MismatchStats(
            tokens=int(valid.sum()),
            kl_k3_sum=float((token_ratio - 1.0 - log_ratio)[valid].sum()),
            kl_k1_sum=float((-log_ratio)[valid].sum()),
            ratio_count=int(level_ratios.numel()),
            ratio_sum=float(level_ratios.sum()),
            ratio_max=float(level_ratios.max()) if level_ratios.numel() else -math.inf,
            ratio_min=float(level_ratios.min()) if level_ratios.numel() else math.inf,
            corrected_tokens=int(corrected.sum()),
            abs_diff_max=float(log_ratio.abs().max()) if log_ratio.numel() else 0.0,
        )
    return RolloutCorrection(weights=weights, mask=new_mask, stats=stats)
