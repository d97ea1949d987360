"""The reference generator: transformers' `generate` with a KV cache, sampling in one batch.

Stop strings are handled by `generate` itself (its `stop_strings` criterion) and then the
completion is cut right after the first stop string, so what a reward sees is exactly what a
streaming engine would have produced.
"""

from __future__ import annotations

import torch
from transformers import LogitsProcessor

from r1lab.generation import SamplingParams
from r1lab.generation.sampling import Sampler, eos_ids, left_pad, sequence_generators
from r1lab.types import Completion


class HFGenerator:
    shares_model = True
    def __init__(self, model, tokenizer):
        self.model = model
        self.tokenizer = tokenizer

    def load_weights(self, state_dict: dict) -> None:
        self.model.load_state_dict(state_dict)

    @torch.no_grad()
    def generate(self, prompt_ids: list[list[int]], params: SamplingParams) -> list[Completion]:
        if params.seed is not None:
            torch.manual_seed(params.seed)
        pad_id = self.tokenizer.pad_token_id
        ends = eos_ids(self.model, self.tokenizer)
        # Left padding so every prompt ends at the same column and new tokens line up.
        input_ids, mask = left_pad(prompt_ids, pad_id)
        attention = mask.long()
        width = input_ids.shape[1]
        greedy = params.temperature == 0
        # Per-prompt seeds: our own sampler draws each token (generate then just takes its argmax).
        seeded = params.seeds is not None and not greedy
        processors = [PerPromptSampler(params, len(prompt_ids))] if seeded else None
        plain = greedy or seeded
        returns = params.n
        if seeded:  # generate refuses n > 1 without sampling: lay the n copies out ourselves
            input_ids, attention = input_ids.repeat_interleave(params.n, 0), attention.repeat_interleave(params.n, 0)
            returns = 1
        was_training = self.model.training
        self.model.eval()
        out = self.model.generate(
            input_ids=input_ids,
            attention_mask=attention,
            max_new_tokens=params.max_new_tokens,
            do_sample=not plain,
            temperature=None if plain else params.temperature,
            top_p=None if plain else params.top_p,
            top_k=None if plain or params.top_k == 0 else params.top_k,
            logits_processor=processors,
            num_return_sequences=returns,
            eos_token_id=ends,
            pad_token_id=pad_id,
            stop_strings=params.stop or None,
            tokenizer=self.tokenizer if params.stop else None,
        )
        self.model.train(was_training)
        completions = []
        for row, seq in enumerate(out[:, width:].tolist()):
            completions.append(self._trim(row // params.n, seq, ends, params))
        return completions

    def _trim(self, prompt_index: int, seq: list[int], eos_ids: list[int], params) -> Completion:
        """Cut at the first EOS (kept) or right after the first stop string (kept)."""
        tokens: list[int] = []
        finish = "length"
        for tok in seq:
            tokens.append(tok)
            if tok in eos_ids:
                finish = "stop"
                break
        if finish == "length" and params.stop:
            cut = first_stop_cut(self.tokenizer, tokens, params.stop)
            if cut is not None:
                tokens, finish = tokens[:cut], "stop"
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        return Completion(prompt_index=prompt_index, token_ids=tokens, text=text, finish_reason=finish)


class PerPromptSampler(LogitsProcessor):
    """r1lab's sampler (r1lab.generation.sampling) inside `generate`: every row draws from its own
    seeded generator, so prompt i's completions are a function of seeds[i] alone. The returned scores
    are 0 at the drawn token and -inf elsewhere, so generate's greedy decoding keeps it. Rows are
    prompt-major (n per prompt), as the seeded path lays them out."""

    def __init__(self, params: SamplingParams, num_prompts: int):
        self.sampler = Sampler(params, sequence_generators(params, num_prompts))
        self.rows = list(range(num_prompts * params.n))

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        picked, _ = self.sampler.sample(scores.float().clone(), self.rows)
        return torch.full_like(scores, float("-inf")).scatter(-1, picked.unsqueeze(-1), 0.0)


def first_stop_cut(tokenizer, tokens: list[int], stops: list[str]) -> int | None:
    """Smallest k such that tokens[:k] decodes to text containing a stop string, or None."""
    full = tokenizer.decode(tokens, skip_special_tokens=False)
    if not any(s in full for s in stops):
        return None
    for k in range(1, len(tokens) + 1):
        text = tokenizer.decode(tokens[:k], skip_special_tokens=False)
        if any(s in text for s in stops):
            return k
    return None
