"""Token logprobs of completions under a causal LM, at the sampling temperature.

Sequences are laid out as [left-padded prompt | right-padded completion] so every completion starts
at the same column P; only the last T+1 positions' logits are computed (`logits_to_keep`), and the
log-softmax is taken in chunks of rows so a full float32 [rows, T, V] tensor never exists at once
for large vocabularies.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class SequenceBatch:
    input_ids: torch.Tensor  # [n, P+T]
    attention_mask: torch.Tensor  # [n, P+T]
    position_ids: torch.Tensor  # [n, P+T]
    completion_ids: torch.Tensor  # [n, T]
    completion_mask: torch.Tensor  # [n, T] float, 1 on real completion tokens


def build_batch(prompts: list[list[int]], completions: list[list[int]], pad_id: int) -> SequenceBatch:
    n = len(prompts)
    width_p = max(len(p) for p in prompts)
    width_t = max(1, max(len(c) for c in completions))
    input_ids = torch.full((n, width_p + width_t), pad_id, dtype=torch.long)
    attention = torch.zeros((n, width_p + width_t), dtype=torch.long)
    comp_mask = torch.zeros((n, width_t))
    for i, (p, c) in enumerate(zip(prompts, completions)):
        input_ids[i, width_p - len(p):width_p] = torch.tensor(p, dtype=torch.long)
        attention[i, width_p - len(p):width_p] = 1
        if c:
            input_ids[i, width_p:width_p + len(c)] = torch.tensor(c, dtype=torch.long)
            attention[i, width_p:width_p + len(c)] = 1
            comp_mask[i, :len(c)] = 1.0
    position_ids = (attention.cumsum(-1) - 1).clamp(min=0)
    return SequenceBatch(input_ids, attention, position_ids, input_ids[:, width_p:], comp_mask)


def completion_logprobs(
    model, batch: SequenceBatch, temperature: float = 1.0, with_entropy: bool = False, chunk_rows: int = 8
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Logprobs [n, T] of each completion token (and per-token entropy [n, T] if asked, detached)."""
    width_t = batch.completion_ids.shape[1]
    out = model(
        input_ids=batch.input_ids,
        attention_mask=batch.attention_mask,
        position_ids=batch.position_ids,
        logits_to_keep=width_t + 1,
        use_cache=False,
    )
    logits = out.logits[:, :-1, :]  # position j predicts completion token j
    logprob_rows, entropy_rows = [], []
    for start in range(0, logits.shape[0], chunk_rows):
        chunk = logits[start:start + chunk_rows].float() / temperature
        logp = torch.log_softmax(chunk, dim=-1)
        ids = batch.completion_ids[start:start + chunk_rows].unsqueeze(-1)
        logprob_rows.append(logp.gather(-1, ids).squeeze(-1))
        if with_entropy:
            with torch.no_grad():
                entropy_rows.append(-(logp.exp() * logp).sum(-1))
    logprobs = torch.cat(logprob_rows) * batch.completion_mask
    entropy = torch.cat(entropy_rows) * batch.completion_mask if with_entropy else None
    return logprobs, entropy
