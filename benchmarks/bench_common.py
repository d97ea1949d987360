"""Shared pieces of the generation and GRPO benchmarks: the two models, the prompts, the machine's
float32 matmul rate, FLOP counting and table printing. Benchmarks only; never imported by r1lab."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import torch

from r1lab.errors import ModelNotFoundError
from r1lab.models.loading import resolve_model
from r1lab.models.templates import R1_ZERO_TEMPLATE
from r1lab.tasks.demo import DemoTask

# The ~3M-parameter benchmark model: hidden 256, 4 layers, GQA 4/2 heads, the small r1lab tokenizer.
TINY = dict(arch="qwen2", hidden_size=256, layers=4, heads=4, kv_heads=2, intermediate_size=768, seed=0)
MODELS = ("tiny", "smollm2-135m")


def model_path(name: str, workdir: Path) -> str | None:
    """A local directory for a benchmark model name, or None (with a printed reason) if unavailable."""
    if name == "tiny":
        out = workdir / "tiny-qwen2-3m"
        if not (out / "config.json").is_file():
            from r1lab.models.random_init import build_random_model

            build_random_model(out, **TINY)
        return str(out)
    try:
        return resolve_model(name)
    except ModelNotFoundError as err:
        print(f"skipping {name}: {err}")
        return None


def bench_prompts(count: int, seed: int = 0) -> list[str]:
    """Demo-task questions in the r1_zero frame, as plain text: both frameworks tokenise the same
    string the same way (no chat template)."""
    return [R1_ZERO_TEMPLATE.format(question=p.question) for p in DemoTask().problems("train", count, seed)]


def set_threads(threads: int) -> int:
    if threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def matmul_gflops(n: int = 1024, reps: int = 15) -> float:
    """Median float32 rate of an n x n matmul at the current thread count: the machine's ceiling."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * n**3 / statistics.median(times) / 1e9


def matmul_params(model) -> tuple[int, int]:
    """(parameters in the transformer blocks' matmuls, parameters of the output layer): forward FLOPs
    are 2 per parameter per token, the output layer only where logits are computed."""
    head = model.get_output_embeddings().weight.numel()
    embed = model.get_input_embeddings().weight.numel()
    total = sum(p.numel() for p in model.parameters())
    tied = model.get_output_embeddings().weight is model.get_input_embeddings().weight
    blocks = total - embed - (0 if tied else head)
    return blocks, head


def load_average() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def print_table(rows: list[dict], columns: list[tuple[str, str]]) -> None:
    """Markdown table: columns are (key, header); floats get 3 significant digits."""
    def fmt(v):
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
        return str(v)

    print("| " + " | ".join(h for _, h in columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(fmt(row.get(k, "")) for k, _ in columns) + " |")
