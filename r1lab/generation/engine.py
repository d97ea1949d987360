"""r1lab's generation engine: a decode loop over any Hugging Face causal LM's own forward pass.

What it does differently from transformers' `generate` (the reference in hf.py), each measured in
benchmarks/NOTES.md:
- each distinct prompt is prefilled once and its keys/values are copied to its n samples, instead of
  running the prompt n times;
- keys/values live in preallocated buffers written in place (`_BufferLayer`); `DynamicCache` grows
  by `torch.cat`, which copies the whole cache at every step;
- a finished sequence leaves the running batch at once (compaction: the last running rows move
  into the holes, so only moved rows are copied), instead of being decoded as padding until the
  longest sequence ends;
- sampling is one short function (r1lab.generation.sampling: temperature, top-k, top-p, then one
  inverse-CDF draw per row), with no logits-processor or stopping-criteria objects per step; stop
  strings are only decoded for rows whose newest token could end one.

Sampling logprobs are of the full temperature-scaled distribution (before top-k/top-p), which is
the quantity the trainer recomputes (r1lab.rl.logprobs); with temperature 0 (greedy) they are at
temperature 1.
"""

from __future__ import annotations

import copy
import inspect

import torch

from r1lab.generation import SamplingParams
from r1lab.generation.sampling import Sampler, eos_ids, left_pad, sequence_generators
from r1lab.types import Completion

try:  # the layered cache API (transformers >= 4.56)
    from transformers.cache_utils import DynamicCache, DynamicLayer
except ImportError:  # pragma: no cover - older transformers: the plain DynamicCache path below
    from transformers import DynamicCache

    DynamicLayer = None


class _BufferLayer(DynamicLayer or object):
    """One layer's keys and values in preallocated [rows, heads, capacity, head_dim] buffers. A decode
    step writes one column in place and attention reads a view of the filled prefix."""

    is_sliding = False  # a full-length buffer is also correct for sliding layers: their mask still slides

    def __init__(self, keys: torch.Tensor, values: torch.Tensor, rows: int, capacity: int, expand: torch.Tensor):
        super().__init__()
        _, heads, width, head_dim = keys.shape
        self.k_buf = keys.new_empty(rows, heads, capacity, head_dim)
        self.v_buf = values.new_empty(rows, values.shape[1], capacity, values.shape[3])
        self.k_buf[:, :, :width] = keys.index_select(0, expand)
        self.v_buf[:, :, :width] = values.index_select(0, expand)
        self.length = width
        self.device, self.dtype = keys.device, keys.dtype
        self.is_initialized = True
        self._view(rows)

    def _view(self, rows: int) -> None:
        self.keys = self.k_buf[:rows, :, :self.length]
        self.values = self.v_buf[:rows, :, :self.length]

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        rows, end = key_states.shape[0], self.length + key_states.shape[2]
        self.k_buf[:rows, :, self.length:end] = key_states
        self.v_buf[:rows, :, self.length:end] = value_states
        self.length = end
        self._view(rows)
        return self.keys, self.values

    def move_rows(self, dst: torch.Tensor, src: torch.Tensor, rows: int) -> None:
        self.k_buf[dst, :, :self.length] = self.k_buf[src, :, :self.length]
        self.v_buf[dst, :, :self.length] = self.v_buf[src, :, :self.length]
        self._view(rows)


def _plain_layers(cache) -> bool:
    """Whether every layer of the cache is a plain (full or sliding) attention layer with the same
    length, i.e. something a `_BufferLayer` can stand in for."""
    layers = getattr(cache, "layers", None)
    return bool(DynamicLayer is not None and layers and all(
        type(layer).__name__ in ("DynamicLayer", "DynamicSlidingWindowLayer") and layer.is_initialized
        and layer.keys.shape[2] == layers[0].keys.shape[2]
        for layer in layers
    ))


class _KV:
    """The decode cache: buffer layers where the model's cache is made of plain attention layers, else
    (linear-attention or other special layers) the model's own DynamicCache with row selection."""

    def __init__(self, prefill_cache, expand: torch.Tensor, capacity: int):
        self.buffered = _plain_layers(prefill_cache)
        if self.buffered:
            rows = len(expand)
            prefill_cache.layers = [
                _BufferLayer(layer.keys, layer.values, rows, capacity, expand) for layer in prefill_cache.layers
            ]
        else:
            prefill_cache.batch_select_indices(expand)
        self.cache = prefill_cache

    def compact(self, holes: torch.Tensor, movers: torch.Tensor, order: torch.Tensor, rows: int) -> None:
        if self.buffered:
            for layer in self.cache.layers:
                layer.move_rows(holes, movers, rows)
        else:
            self.cache.batch_select_indices(order)


PRECISIONS = ("float32", "bfloat16", "int8")


class EngineGenerator:
    shares_model = True  # the policy itself, or a rounded copy rebuilt from it at every call
    """`precision`: "float32" decodes with the policy itself. "bfloat16" and "int8" decode with a
    copy of the policy, refreshed from its current weights at every call: bfloat16 parameters, or
    every nn.Linear dynamically quantized to int8 (torch's quantize_dynamic: int8 weights, per-call
    activation scales). Decoding at batch 32 on a CPU is bound by reading the weights, so int8's
    quarter-size weights decode faster than float32 (benchmarks/NOTES.md has the measurements).
    The samples then come from the rounded policy and the returned logprobs are the rounded policy's
    (for int8, of the exact decode call: activation scales are per call over the running rows, so a
    sample also depends slightly on which rows share its batch):
    the trainer treats them as a behaviour policy's (r1lab.rl.update, PPO's ratio against them), the
    way rollout engines in lower precision are corrected (Yao et al. 2025, "Your efficient RL framework
    secretly brings you off-policy RL training")."""

    def __init__(self, model, tokenizer, precision: str = "float32"):
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r} (known: {', '.join(PRECISIONS)})")
        self.model = model
        self.tokenizer = tokenizer
        self.precision = precision
        self._copy = None  # the bfloat16 copy, or the float32 shadow that int8 copies are quantized from
        self.eos_ids = eos_ids(model, tokenizer)
        names = inspect.signature(model.forward).parameters
        self._cache_arg = "cache" if "cache" in names else "past_key_values"
        # Only the last prompt position's logits are needed; models without the argument compute all.
        self._last_only = {"logits_to_keep": 1} if "logits_to_keep" in names else {}
        self._stop_tables: dict[tuple[str, ...], torch.Tensor] = {}

    def load_weights(self, state_dict: dict) -> None:
        self.model.load_state_dict(state_dict)

    def generate(self, prompt_ids: list[list[int]], params: SamplingParams) -> list[Completion]:
        if not prompt_ids:
            return []
        if any(len(p) == 0 for p in prompt_ids):
            raise ValueError("every prompt needs at least one token")
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():  # not inference_mode: the model is the trainer's, and stays usable
                tokens, logprobs, lengths, stopped = self._decode(self._decoder(), prompt_ids, params)
        finally:
            self.model.train(was_training)
        token_lists = [tokens[i, :lengths[i]].tolist() for i in range(len(lengths))]
        lp_lists = [logprobs[i, :lengths[i]].tolist() for i in range(len(lengths))]
        texts = self.tokenizer.batch_decode(token_lists, skip_special_tokens=True)
        return [
            Completion(prompt_index=i // params.n, token_ids=token_lists[i], text=texts[i],
                       finish_reason="stop" if stopped[i] else "length", logprobs=lp_lists[i])
            for i in range(len(token_lists))
        ]

    def _decoder(self):
        """The module that decodes: the policy, or its bfloat16 / int8 copy with the current weights."""
        if self.precision == "float32":
            return self.model
        if self._copy is None:
            self._copy = copy.deepcopy(self.model).eval().requires_grad_(False)
            for p in self._copy.parameters():
                p.grad = None
                if self.precision == "bfloat16":  # parameters only: buffers (rotary frequencies) stay float32
                    p.data = p.data.to(torch.bfloat16)
        else:
            for mine, policy in zip(self._copy.parameters(), self.model.parameters()):
                mine.copy_(policy)
        if self.precision == "int8":  # a fresh quantized module (2-3 s for SmolLM2-135M on one core)
            return int8_copy(self._copy)
        return self._copy

    def _prefill(self, model, prompt_ids: list[list[int]]) -> tuple[torch.Tensor, object, torch.Tensor, int]:
        """One forward over the distinct prompts, left-padded: last-position logits [U, V], the cache,
        the padding mask [U, W] and the width W."""
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.eos_ids[0]
        ids, mask = left_pad(prompt_ids, pad)
        width = ids.shape[1]
        positions = (mask.long().cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache(config=model.config)
        out = model(input_ids=ids, attention_mask=mask if not mask.all() else None, position_ids=positions,
                         use_cache=True, **self._last_only, **{self._cache_arg: cache})
        return out.logits[:, -1].float(), cache, mask, width

    def _decode(self, model, prompt_ids: list[list[int]], params: SamplingParams):
        n_prompts, g, max_new = len(prompt_ids), params.n, params.max_new_tokens
        rows = n_prompts * g
        sampler = Sampler(params, sequence_generators(params, n_prompts))
        stop_check = _StopCheck(self, params.stop) if params.stop else None

        # 1. Prefill once per prompt; every sample starts from a copy of its prompt's keys/values.
        logits, prefill_cache, prompt_mask, width = self._prefill(model, prompt_ids)
        expand = torch.arange(n_prompts).repeat_interleave(g)  # row -> prompt
        logits = logits.index_select(0, expand)
        kv = _KV(prefill_cache, expand, width + max_new)
        attn = torch.ones((rows, width + max_new), dtype=torch.bool)
        attn[:, :width] = prompt_mask.index_select(0, expand)
        padded = ~attn[:, 0]  # rows whose prompt is shorter than the widest one
        next_pos = torch.tensor([len(prompt_ids[i]) for i in expand.tolist()], dtype=torch.long)
        row_seq = torch.arange(rows)  # buffer row -> sequence index (rows move on compaction)
        eos = torch.tensor(self.eos_ids, dtype=torch.long)

        tokens = torch.zeros((rows, max_new), dtype=torch.long)  # by sequence index
        logprobs = torch.zeros((rows, max_new))
        lengths = torch.full((rows,), max_new, dtype=torch.long)
        stopped = torch.zeros(rows, dtype=torch.bool)
        active = rows
        for step in range(max_new):
            # 2. Sample the next token of every running row, record it under its sequence index.
            seqs = row_seq[:active]
            tok, lp = sampler.sample(logits, seqs.tolist())
            tokens[seqs, step] = tok
            logprobs[seqs, step] = lp
            done = torch.isin(tok, eos)
            if stop_check is not None:
                done |= stop_check.hits(tokens, seqs, tok, step)
            if step + 1 == max_new:
                stopped[seqs[done]] = True
                break
            if bool(done.any()):
                finished = seqs[done]
                stopped[finished] = True
                lengths[finished] = step + 1
                keep = ~done
                remaining = int(keep.sum())
                if remaining == 0:
                    break
                # 3. Compaction: running rows beyond the new end move into the holes left below it.
                holes = torch.nonzero(~keep[:remaining]).squeeze(-1)
                movers = torch.nonzero(keep[remaining:]).squeeze(-1) + remaining
                order = torch.arange(remaining)
                order[holes] = movers
                kv.compact(holes, movers, order, remaining)
                for buf in (attn, padded, next_pos, row_seq):
                    buf[holes] = buf[movers]
                tok = tok.index_select(0, order)
                active = remaining
            # 4. One forward step for the running rows.
            length = kv.cache.get_seq_length()
            mask = attn[:active, :length + 1] if bool(padded[:active].any()) else None
            out = model(input_ids=tok.unsqueeze(-1), attention_mask=mask,
                             position_ids=next_pos[:active].unsqueeze(-1), use_cache=True,
                             **{self._cache_arg: kv.cache})
            logits = out.logits[:, -1].float()
            next_pos[:active] += 1
        return tokens, logprobs, lengths.tolist(), stopped.tolist()


def int8_copy(model):
    """A copy of `model` with every nn.Linear dynamically quantized to int8 (int8 weights, activation
    scales per call). torch's quantize_dynamic is deprecated in favour of torchao, which r1lab does not
    depend on; its warning is silenced here."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


class _StopCheck:
    """Stop strings: a row is decoded only when its newest token could end a stop string (its text
    contains a stop string's last character, or is an incomplete UTF-8 piece), and then only the last
    few tokens are decoded."""

    def __init__(self, engine: EngineGenerator, stops: list[str]):
        self.tokenizer = engine.tokenizer
        self.stops = list(stops)
        self.window = 4 * max(len(s) for s in stops) + 8
        key = tuple(self.stops)
        if key not in engine._stop_tables:
            engine._stop_tables[key] = self._table(engine.model)
        self.may_end = engine._stop_tables[key]

    def _table(self, model) -> torch.Tensor:
        vocab = max(model.get_output_embeddings().weight.shape[0], len(self.tokenizer))
        known = len(self.tokenizer)
        pieces = self.tokenizer.batch_decode([[i] for i in range(known)], skip_special_tokens=False)
        ends = {s[-1] for s in self.stops}
        table = torch.zeros(vocab, dtype=torch.bool)
        table[:known] = torch.tensor([("\ufffd" in p) or any(c in p for c in ends) for p in pieces])
        return table

    def hits(self, tokens: torch.Tensor, seqs: torch.Tensor, tok: torch.Tensor, step: int) -> torch.Tensor:
        done = torch.zeros(len(seqs), dtype=torch.bool)
        candidates = torch.nonzero(self.may_end[tok]).squeeze(-1).tolist()
        if not candidates:
            return done
        start = max(0, step + 1 - self.window)
        windows = [tokens[int(seqs[r]), start:step + 1].tolist() for r in candidates]
        texts = self.tokenizer.batch_decode(windows, skip_special_tokens=False)
        for r, text in zip(candidates, texts):
            done[r] = any(s in text for s in self.stops)
        return done
