"""Rollouts on vLLM, in this process, behind the Generator protocol: token ids in, Completions out.

The engine runs in the caller's process (`VLLM_ENABLE_V1_MULTIPROCESSING=0`), so the trainer's
weights reach it without a copy through another process: `load_weights` hands vLLM an iterator over
the trainer's own tensors (`collective_rpc("reload_weights")`, vLLM's in-place reload, which also
restores the parameter layout vLLM's loaders expect after its CPU kernels repacked them), then resets
the prefix cache, so no key or value computed under the old weights can be served under the new ones.
Every Completion carries `policy_version`, the number of weight loads so far (`version`), as the
record of which weights produced it. (A hash of vLLM's parameters would prove less than it seems on
a CPU: vLLM packs each linear layer's weight into a kernel handle and leaves an empty tensor in its
place, so only embeddings and norms could be read back; the tests prove a sync by logprobs instead.) vLLM is started from a directory holding only the model's config and tokenizer
(`load_format="dummy"`) and the policy's weights are pushed at once, so what it serves is always the
trainer's current model, not whatever checkpoint the model was first read from.

Logprobs: vLLM is asked for `processed_logprobs`, the log-softmax of the logits after temperature
(and after top-k/top-p, when those are on). With top_k = 0 and top_p = 1, r1lab's training defaults,
that is exactly what the trainer recomputes (r1lab.rl.logprobs: the full temperature-scaled
distribution) and what r1lab's engine returns. With top-k/top-p on, vLLM's value is the logprob
under the truncated, renormalised distribution the token was actually drawn from, which is higher
than the engine's full-distribution value by log(kept mass): the trainer then sees ratios below 1 and
the rollout correction (r1lab.rl.correction) reports them. vLLM's default, `raw_logprobs`, is the
distribution at temperature 1 whatever the sampling temperature, which would differ from the
trainer's at any temperature but 1. Greedy (temperature 0): logprobs at temperature 1, as the engine.

Seeds: vLLM seeds each request and gives the k-th of its n samples seed + k. A prompt's seed (from
`SamplingParams.seeds`, or derived from `seed` and the prompt's index as the engine does) is first
spread over 62 bits, so two prompts' sample seeds do not collide when their seeds are neighbours.
The samples then depend on the seed alone, not on which prompts share the batch (up to rounding in
batched kernels). The same seed gives different samples here and in the engine (different samplers).

vLLM changes process-wide state when it starts in-process: it reduces torch to one thread and
replaces `torch.set_num_threads` with a no-op, and it seeds torch's, numpy's and Python's global
generators. All four are put back after start-up, so the trainer next to it is unaffected.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import torch

from r1lab.errors import ConfigError
from r1lab.generation import SamplingParams
from r1lab.generation.sampling import eos_ids
from r1lab.types import Completion

PRECISIONS = ("float32", "bfloat16")
KV_CACHE_BYTES = 1 << 30  # vLLM's CPU backend otherwise takes a share of free memory at start-up


def vllm_available() -> str | None:
    """None when vLLM can be imported, else why not (tests skip with this reason)."""
    try:
        import vllm  # noqa: F401
    except Exception as err:  # ImportError, or a broken install (a CUDA build without a driver)
        return f"vllm is not importable: {type(err).__name__}: {err}"
    return None


def vllm_unsupported(model_config) -> str | None:
    """Why vLLM cannot serve this model here, or None. vLLM's CPU attention kernels exist for a fixed
    set of head sizes (r1lab's tiny-base has 40, which has none); vLLM itself only fails at the first
    forward, deep inside a kernel call, so r1lab checks first."""
    reason = vllm_available()
    if reason is not None:
        return reason
    from vllm.platforms import current_platform

    if current_platform.is_cpu():
        from vllm.v1.attention.backends.cpu_attn import CPUAttentionBackend

        head_dim = getattr(model_config, "head_dim", None) or (
            model_config.hidden_size // model_config.num_attention_heads)
        sizes = CPUAttentionBackend.get_supported_head_sizes()
        if head_dim not in sizes:
            return (f"vLLM's CPU attention has no kernel for head size {head_dim} "
                    f"(it has {', '.join(map(str, sizes))})")
    return None


class VLLMGenerator:
    shares_model = False  # vLLM holds its own copy of the weights: load_weights after every update
    """`precision`: the dtype vLLM computes in, float32 or bfloat16 (weights are cast on load).
    `max_model_len`: longest prompt + completion (default: the model's maximum, at most 4096).
    `compile`: torch.compile vLLM's model (slower start-up, faster decoding); False runs eagerly.
    `block_size`: tokens per KV-cache block, the unit of prefix caching (None: vLLM's default for the
    platform, 128 on CPU); only whole blocks of a prompt are shared between its samples."""

    def __init__(self, model, tokenizer, precision: str = "float32", *, max_model_len: int | None = None,
                 kv_cache_bytes: int = KV_CACHE_BYTES, compile: bool = False, block_size: int | None = None,
                 seed: int = 0):
        if precision not in PRECISIONS:
            raise ConfigError(f"rollout_precision {precision!r} with generator: vllm (known: {', '.join(PRECISIONS)}; "
                              "int8 rollouts need generator: engine)")
        reason = vllm_unsupported(model.config)
        if reason is not None:
            raise ConfigError(f"generator: vllm cannot run this model: {reason}; set generator: engine")
        self.tokenizer = tokenizer
        self.precision = precision
        self.eos_ids = eos_ids(model, tokenizer)
        self.version = 0  # weight loads so far; every Completion carries the version that produced it
        self._dir = tempfile.TemporaryDirectory(prefix="r1lab-vllm-")
        _write_model_dir(model, tokenizer, Path(self._dir.name))
        if max_model_len is None:
            max_model_len = min(getattr(model.config, "max_position_embeddings", 4096) or 4096, 4096)
        self.max_model_len = max_model_len
        self.llm = _start_engine(self._dir.name, precision, max_model_len, kv_cache_bytes, compile,
                                 block_size, seed)
        self.block_size = self.llm.llm_engine.vllm_config.cache_config.block_size
        self.load_weights(model.state_dict())

    def load_weights(self, state_dict: dict) -> None:
        """Copy the trainer's weights (Hugging Face names, any dtype) into vLLM in place, then drop
        every cached prefix: its keys and values belong to the previous weights."""
        weights = ((name, tensor.detach()) for name, tensor in state_dict.items())
        self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": weights})
        if not self.llm.reset_prefix_cache():
            raise RuntimeError("vLLM refused to reset its prefix cache after a weight load")
        self.version += 1

    def generate(self, prompt_ids: list[list[int]], params: SamplingParams) -> list[Completion]:
        if not prompt_ids:
            return []
        if any(len(p) == 0 for p in prompt_ids):
            raise ValueError("every prompt needs at least one token")
        longest = max(len(p) for p in prompt_ids) + params.max_new_tokens
        if longest > self.max_model_len:
            raise ValueError(f"prompt + max_new_tokens = {longest} tokens exceeds the vLLM generator's "
                             f"max_model_len {self.max_model_len}")
        from vllm.inputs import TokensPrompt

        # vLLM refuses n > 1 when greedy: each prompt is then sent n times (sharing its prefix cache).
        copies = params.n if params.temperature == 0 else 1
        requests = [TokensPrompt(prompt_token_ids=list(p)) for p in prompt_ids for _ in range(copies)]
        sampling = [s for s in self._sampling_params(params, len(prompt_ids)) for _ in range(copies)]
        outputs = self.llm.generate(requests, sampling, use_tqdm=False)
        token_lists, lp_lists, finishes = [], [], []
        for out in outputs:
            samples = sorted(out.outputs, key=lambda c: c.index)
            if len(samples) * copies != params.n:
                raise RuntimeError(f"vLLM returned {len(samples)} samples for a request, expected {params.n}")
            for c in samples:
                if c.finish_reason not in ("stop", "length"):
                    raise RuntimeError(f"vLLM finished a sample with {c.finish_reason!r}")
                ids = list(c.token_ids)
                token_lists.append(ids)
                lp_lists.append([c.logprobs[i][tok].logprob for i, tok in enumerate(ids)])
                finishes.append(c.finish_reason)
        texts = self.tokenizer.batch_decode(token_lists, skip_special_tokens=True)
        return [
            Completion(prompt_index=i // params.n, token_ids=token_lists[i], text=texts[i],
                       finish_reason=finishes[i], logprobs=lp_lists[i], policy_version=self.version)
            for i in range(len(token_lists))
        ]

    def _sampling_params(self, params: SamplingParams, n_prompts: int) -> list:
        from vllm import SamplingParams as VLLMSamplingParams

        greedy = params.temperature == 0
        return [
            VLLMSamplingParams(
                n=1 if greedy else params.n,
                max_tokens=params.max_new_tokens,
                temperature=0.0 if greedy else params.temperature,
                top_p=1.0 if greedy else params.top_p,
                top_k=0 if greedy or params.top_k == 0 else params.top_k,
                seed=None if greedy else seed,
                stop=list(params.stop) or None,
                include_stop_str_in_output=True,  # r1lab keeps stop strings in the completion
                stop_token_ids=list(self.eos_ids),  # the engine's EOS set (generation config + tokenizer)
                logprobs=0,  # the sampled token's logprob only
                skip_special_tokens=True,
            )
            for seed in prompt_seeds(params, n_prompts)
        ]


def prompt_seeds(params: SamplingParams, n_prompts: int) -> list[int | None]:
    """vLLM's seed for each prompt's request (its samples take seed + k): SamplingParams.seeds[i], or
    the batch seed and the prompt's index, spread over 62 bits; None everywhere when neither is set."""
    if params.seeds is not None:
        if len(params.seeds) != n_prompts:
            raise ValueError(f"SamplingParams.seeds has {len(params.seeds)} seeds for {n_prompts} prompts")
        bases = list(params.seeds)
    elif params.seed is not None:
        bases = [params.seed * 1_000_003 + i for i in range(n_prompts)]
    else:
        return [None] * n_prompts
    return [_spread(b) for b in bases]


def _spread(seed: int) -> int:
    """splitmix64's finaliser, to 62 bits (room for seed + k without overflow)."""
    z = (seed + 0x9E3779B97F4A7C15) % 2**64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
    return (z ^ (z >> 31)) >> 2


def _write_model_dir(model, tokenizer, out: Path) -> None:
    """Config, generation config and tokenizer: what vLLM reads to build the model (no weights)."""
    import copy

    config = copy.deepcopy(model.config)
    config.architectures = [type(model).__name__]  # vLLM picks its implementation by this name
    config.save_pretrained(out)
    if getattr(model, "generation_config", None) is not None:
        model.generation_config.save_pretrained(out)
    tokenizer.save_pretrained(out)


def _start_engine(model_dir: str, precision: str, max_model_len: int, kv_cache_bytes: int, compile: bool,
                  block_size: int | None, seed: int):
    """vLLM's LLM in this process, with the process-wide state it changes put back afterwards."""
    import numpy as np

    os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"  # in-process: load_weights passes tensors directly
    threads, set_threads = torch.get_num_threads(), torch.set_num_threads
    rng = (torch.get_rng_state(), np.random.get_state(), random.getstate())
    from vllm import LLM

    try:
        kwargs = {"block_size": block_size} if block_size is not None else {}
        return LLM(
            model=model_dir,
            load_format="dummy",  # random weights: the caller's are loaded right after
            dtype=precision,
            max_model_len=max_model_len,
            kv_cache_memory_bytes=kv_cache_bytes,
            enable_prefix_caching=True,
            enforce_eager=not compile,
            logprobs_mode="processed_logprobs",
            generation_config="vllm",  # sampling defaults come from r1lab, never the model directory
            seed=seed,
            disable_log_stats=True,
            **kwargs,
        )
    finally:
        torch.set_num_threads = set_threads
        torch.set_num_threads(threads)
        torch.set_rng_state(rng[0])
        np.random.set_state(rng[1])
        random.setstate(rng[2])
