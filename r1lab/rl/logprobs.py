"""Token logprobs of completions under a causal LM, at the sampling temperature.

Two layouts with the same result. `SequenceBatch` (the reference): each sequence whole, as [left-padded
prompt | right-padded completion], so every completion starts at the same column P; only the last
T+1 positions' logits are computed (`logits_to_keep`). `SharedPromptBatch` (what training uses): each
distinct prompt once, its keys/values shared by the completions that follow it (a GRPO group's G
samples share one prompt). Logits exist for one micro-batch at a time (the caller's micro-batches),
and the log-softmax is taken in chunks of rows within it, so its float32 temporaries (the cast of
low-precision logits, the entropy's exp) exist for one chunk at a time.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import torch

from r1lab.generation.sampling import left_pad


@dataclass
class SequenceBatch:
    input_ids: torch.Tensor  # [n, P+T]
    attention_mask: torch.Tensor  # [n, P+T]
    position_ids: torch.Tensor  # [n, P+T]
    completion_ids: torch.Tensor  # [n, T]
    completion_mask: torch.Tensor  # [n, T] float, 1 on real completion tokens


def right_pad(seqs: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Completions [n, T] left-aligned, and their float mask [n, T] (1 on real tokens); T >= 1."""
    ids = torch.full((len(seqs), max(1, max(len(c) for c in seqs))), pad_id, dtype=torch.long)
    mask = torch.zeros(ids.shape)
    for i, c in enumerate(seqs):
        if c:
            ids[i, :len(c)] = torch.tensor(c, dtype=torch.long)
            mask[i, :len(c)] = 1.0
    return ids, mask


def build_batch(prompts: list[list[int]], completions: list[list[int]], pad_id: int) -> SequenceBatch:
    prompt_ids, prompt_mask = left_pad(prompts, pad_id)
    completion_ids, comp_mask = right_pad(completions, pad_id)
    input_ids = torch.cat([prompt_ids, completion_ids], dim=1)
    attention = torch.cat([prompt_mask.long(), comp_mask.long()], dim=1)
    position_ids = (attention.cumsum(-1) - 1).clamp(min=0)
    return SequenceBatch(input_ids, attention, position_ids, completion_ids, comp_mask)


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
    logprobs, entropy = _chunked_logprobs(logits, batch.completion_ids, temperature, with_entropy, chunk_rows)
    logprobs = logprobs * batch.completion_mask
    entropy = entropy * batch.completion_mask if with_entropy else None
    return logprobs, entropy


@dataclass
class SharedPromptBatch:
    """Sequences that share prompts: each distinct prompt once, and the completions that follow it."""

    prompt_ids: torch.Tensor  # [U, P] distinct prompts, left-padded
    prompt_mask: torch.Tensor  # [U, P] bool, True on real prompt tokens
    prompt_of: torch.Tensor  # [n] row -> index of its prompt in prompt_ids
    completion_ids: torch.Tensor  # [n, T] right-padded
    completion_mask: torch.Tensor  # [n, T] float, 1 on real completion tokens


def build_shared_batch(prompts: list[list[int]], completions: list[list[int]], pad_id: int) -> SharedPromptBatch:
    distinct: dict[tuple[int, ...], int] = {}
    prompt_of = torch.tensor([distinct.setdefault(tuple(p), len(distinct)) for p in prompts], dtype=torch.long)
    prompt_ids, prompt_mask = left_pad([list(p) for p in distinct], pad_id)
    completion_ids, comp_mask = right_pad(completions, pad_id)
    return SharedPromptBatch(prompt_ids, prompt_mask, prompt_of, completion_ids, comp_mask)


def shared_prompt_logprobs(
    model, batch: SharedPromptBatch, temperature: float = 1.0, with_entropy: bool = False, chunk_rows: int = 8
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Same result as `completion_logprobs` over the concatenated sequences, but each distinct prompt
    is run once: its keys/values (still in the autograd graph) are indexed out to every completion that
    follows it, so the G samples of a group cost one prompt forward and backward, not G. Autograd sums
    the completions' gradients into the shared prompt pass, which is exactly the gradient of running
    each sequence on its own."""
    from transformers import DynamicCache

    cache_arg = _cache_arg(model)
    cache = DynamicCache(config=model.config)
    positions = (batch.prompt_mask.long().cumsum(-1) - 1).clamp(min=0)
    padded = not bool(batch.prompt_mask.all())
    out = model(input_ids=batch.prompt_ids, attention_mask=batch.prompt_mask if padded else None,
                position_ids=positions, use_cache=True, logits_to_keep=1, **{cache_arg: cache})
    first = out.logits[:, -1].index_select(0, batch.prompt_of)  # [n, V], predicts completion token 0
    for layer in cache.layers:
        layer.keys = layer.keys.index_select(0, batch.prompt_of)
        layer.values = layer.values.index_select(0, batch.prompt_of)

    ids = batch.completion_ids
    parts = [_chunked_logprobs(first.unsqueeze(1), ids[:, :1], temperature, with_entropy, chunk_rows)]
    if ids.shape[1] > 1:
        # The last completion token is never an input: nothing is predicted from it.
        inputs = ids[:, :-1]
        prompt_lengths = batch.prompt_mask.sum(-1).index_select(0, batch.prompt_of)
        positions = prompt_lengths.unsqueeze(-1) + torch.arange(inputs.shape[1])
        mask = None
        if padded:  # completions are right-padded, after every real token: only prompt padding is masked
            mask = torch.cat([batch.prompt_mask.index_select(0, batch.prompt_of),
                              torch.ones(inputs.shape, dtype=torch.bool)], dim=1)
        rest = model(input_ids=inputs, attention_mask=mask, position_ids=positions, use_cache=True,
                     **{cache_arg: cache}).logits
        parts.append(_chunked_logprobs(rest, ids[:, 1:], temperature, with_entropy, chunk_rows))
    logprobs = torch.cat([p[0] for p in parts], dim=1) * batch.completion_mask
    entropy = torch.cat([p[1] for p in parts], dim=1) * batch.completion_mask if with_entropy else None
    return logprobs, entropy


def _chunked_logprobs(
    logits: torch.Tensor, ids: torch.Tensor, temperature: float, with_entropy: bool, chunk_rows: int
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Log-softmax over the vocabulary a few rows at a time: logits [n, T, V], ids [n, T] -> [n, T]."""
    logprob_rows, entropy_rows = [], []
    for start in range(0, logits.shape[0], chunk_rows):
        chunk = logits[start:start + chunk_rows].float()
        if temperature != 1.0:
            chunk = chunk / temperature
        logp = torch.log_softmax(chunk, dim=-1)
        logprob_rows.append(logp.gather(-1, ids[start:start + chunk_rows].unsqueeze(-1)).squeeze(-1))
        if with_entropy:
            with torch.no_grad():
                entropy_rows.append(-(logp.exp() * logp).sum(-1))
    return torch.cat(logprob_rows), (torch.cat(entropy_rows) if with_entropy else None)


def _cache_arg(model) -> str:
    """transformers 5 renamed the forward's `past_key_values` to `cache`. A peft model's forward takes
    **kwargs: the wrapped model's forward says which."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "cache" if "cache" in inspect.signature(inner.forward).parameters else "past_key_values"
