"""Sampling shared by every generator: the token sampler (temperature, top-k, top-p, one inverse-CDF
draw per row from the row's own generator), the per-sequence seeded generators, left padding of a
batch of prompts, and the model's end-of-sequence ids."""

from __future__ import annotations

import torch

from r1lab.generation import SamplingParams

# Top-p first looks at this many most likely tokens; only when they hold less than top_p of the
# mass does it sort the whole vocabulary (exact either way, much cheaper for 50k-token vocabularies).
TOP_P_CANDIDATES = 1024


def left_pad(seqs: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids [N, W] with each sequence right-aligned (so all end at the same column) and the mask
    [N, W] of real tokens."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.bool)
    for i, s in enumerate(seqs):
        if s:
            ids[i, width - len(s):] = torch.tensor(s, dtype=torch.long)
            mask[i, width - len(s):] = True
    return ids, mask


def eos_ids(model, tokenizer) -> list[int]:
    """Every token that ends a completion: the generation config's EOS ids and the tokenizer's."""
    ids = model.generation_config.eos_token_id
    ids = list(ids) if isinstance(ids, (list, tuple)) else ([ids] if ids is not None else [])
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        ids.append(tokenizer.eos_token_id)
    return ids


class Sampler:
    """Temperature, then top-k, then top-p (the order of transformers' warpers), then one draw per row
    by inverse CDF: a single uniform u per row picks the first token whose cumulative probability
    exceeds u. One random number per row instead of one per vocabulary entry (torch's per-element
    exponential or multinomial sampling costs more than the model's output layer on a 50k vocabulary).
    Every sequence draws from its own generator, so what it samples depends on its seed alone, not on
    which rows share the batch or when compaction moves it."""

    def __init__(self, params: SamplingParams, generators: list[torch.Generator]):
        self.temperature = params.temperature
        self.top_k = params.top_k
        self.top_p = params.top_p
        self.generators = generators  # by sequence index

    def sample(self, logits: torch.Tensor, seqs: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """logits [rows, V] float32 (overwritten), the rows' sequence indices -> token [rows], logprob [rows]."""
        if self.temperature == 0:
            tok = logits.argmax(-1)
            return tok, token_logprob(logits, tok, torch.logsumexp(logits, -1))
        if self.temperature != 1:
            logits.div_(self.temperature)
        lse = torch.logsumexp(logits, -1)  # of the full distribution, before truncation
        vocab = logits.shape[-1]
        if 0 < self.top_k < vocab or self.top_p < 1:
            scores = logits.clone()
            if 0 < self.top_k < vocab:
                kth = torch.topk(scores, self.top_k, dim=-1).values[:, -1:]
                scores.masked_fill_(scores < kth, float("-inf"))
            if self.top_p < 1:
                top_p_mask_(scores, self.top_p)
            cdf = torch.softmax(scores, -1).cumsum_(-1)
        else:
            cdf = (logits - lse.unsqueeze(-1)).exp_().cumsum_(-1)
        u = torch.cat([torch.rand(1, generator=self.generators[seq]) for seq in seqs])
        # The last cumulative value stands for 1 (float sums drift); a draw landing past the last
        # token that has probability, by rounding, is the top token instead.
        tok = torch.searchsorted(cdf, (u * cdf[:, -1]).unsqueeze(-1), right=True).squeeze(-1).clamp_(max=vocab - 1)
        empty = cdf.gather(-1, tok.unsqueeze(-1)).squeeze(-1) == torch.where(
            tok > 0, cdf.gather(-1, (tok - 1).clamp(min=0).unsqueeze(-1)).squeeze(-1), torch.zeros_like(u))
        if bool(empty.any()):
            tok = torch.where(empty, logits.argmax(-1), tok)
        return tok, token_logprob(logits, tok, lse)


def sequence_generators(params: SamplingParams, n_prompts: int) -> list[torch.Generator]:
    """One generator per sequence, prompt-major: sample k of prompt i is seeded from (seeds[i], k), or
    from (seed, i, k) when only one seed is given, or from torch's global generator when neither is."""
    seeds = params.seeds
    if seeds is not None:
        if len(seeds) != n_prompts:
            raise ValueError(f"SamplingParams.seeds has {len(seeds)} seeds for {n_prompts} prompts")
        bases = list(seeds)
    else:
        seed = params.seed if params.seed is not None else int(torch.randint(0, 2**62, (1,)))
        bases = [seed * 1_000_003 + i for i in range(n_prompts)]
    return [torch.Generator().manual_seed((b * 7_919 + k) % 2**63) for b in bases for k in range(params.n)]


def token_logprob(logits: torch.Tensor, tok: torch.Tensor, lse: torch.Tensor) -> torch.Tensor:
    return logits.gather(-1, tok.unsqueeze(-1)).squeeze(-1) - lse


def top_p_mask_(scores: torch.Tensor, top_p: float) -> None:
    """Keep, per row, the most likely tokens until their mass reaches top_p (the token that crosses it
    included); a token is dropped when the tokens strictly more likely than it already hold top_p."""
    k = min(TOP_P_CANDIDATES, scores.shape[-1])
    vals, idx = torch.topk(scores, k, dim=-1)  # sorted, descending
    probs = torch.softmax(scores, -1).gather(-1, idx)
    before = probs.cumsum(-1) - probs  # mass strictly above each candidate
    if k < scores.shape[-1] and bool((before[:, -1] + probs[:, -1] < top_p).any()):
        vals, idx = torch.sort(scores, dim=-1, descending=True)
        probs = torch.softmax(vals, -1)
        before = probs.cumsum(-1) - probs
    kept = torch.full_like(scores, float("-inf"))
    kept.scatter_(-1, idx, vals.masked_fill(before >= top_p, float("-inf")))
    scores.copy_(kept)


