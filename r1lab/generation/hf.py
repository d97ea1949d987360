"""The reference generator: transformers' `generate` with a KV cache, sampling in one batch.

Stop strings are handled by `generate` itself (its `stop_strings` criterion) and then the
completion is cut right after the first stop string, so what a reward sees is exactly what a
streaming engine would have produced.
"""

from __future__ import annotations

import torch

from r1lab.generation import SamplingParams
from r1lab.types import Completion


class HFGenerator:
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
        eos_ids = _eos_ids(self.model, self.tokenizer)
        width = max(len(p) for p in prompt_ids)
        # Left padding so every prompt ends at the same column and new tokens line up.
        input_ids = torch.full((len(prompt_ids), width), pad_id, dtype=torch.long)
        attention = torch.zeros_like(input_ids)
        for i, ids in enumerate(prompt_ids):
            input_ids[i, width - len(ids):] = torch.tensor(ids)
            attention[i, width - len(ids):] = 1
        greedy = params.temperature == 0
        was_training = self.model.training
        self.model.eval()
        out = self.model.generate(
            input_ids=input_ids,
            attention_mask=attention,
            max_new_tokens=params.max_new_tokens,
            do_sample=not greedy,
            temperature=None if greedy else params.temperature,
            top_p=None if greedy else params.top_p,
            top_k=None if greedy or params.top_k == 0 else params.top_k,
            num_return_sequences=params.n,
            eos_token_id=eos_ids,
            pad_token_id=pad_id,
            stop_strings=params.stop or None,
            tokenizer=self.tokenizer if params.stop else None,
        )
        self.model.train(was_training)
        completions = []
        for row, seq in enumerate(out[:, width:].tolist()):
            completions.append(self._trim(row // params.n, seq, eos_ids, params))
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


def _eos_ids(model, tokenizer) -> list[int]:
    ids = model.generation_config.eos_token_id
    ids = list(ids) if isinstance(ids, (list, tuple)) else ([ids] if ids is not None else [])
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        ids.append(tokenizer.eos_token_id)
    return ids
