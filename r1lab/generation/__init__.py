"""Generation behind one small protocol, so the algorithm never knows which engine produced a
completion: transformers' `generate` (the reference, hf.py), r1lab's own engine, or vLLM on GPUs."""

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
    def generate(self, prompt_ids: list[list[int]], params: SamplingParams) -> list[Completion]:
        """Return len(prompt_ids) * params.n completions, prompt i's at [i*n, (i+1)*n)."""
        ...

    def load_weights(self, state_dict: dict) -> None:
        """Take new policy weights (no-op when the generator shares the trainer's model object)."""
        ...


def make_generator(kind: str, model, tokenizer, precision: str = "float32") -> Generator:
    """`precision` (engine only): float32 (the policy itself), bfloat16 or int8 (a rounded copy)."""
    if kind == "hf":
        if precision != "float32":
            raise ValueError(f"rollout precision {precision!r} needs generator: engine")
        from r1lab.generation.hf import HFGenerator

        return HFGenerator(model, tokenizer)
    if kind == "engine":
        from r1lab.generation.engine import EngineGenerator

        return EngineGenerator(model, tokenizer, precision)
    raise ValueError(f"unknown generator {kind!r} (known: hf, engine)")
