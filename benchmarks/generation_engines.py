"""Every generator r1lab can roll out with, side by side in one process, on the same prompts: r1lab's
engine (float32, bfloat16, int8), vLLM in-process (float32, bfloat16; r1lab.generation.vllm) and
transformers' `generate` (the anchor). A GRPO step's rollout: 4 prompts x 8 samples, temperature 1,
top-p 1, at most 128 new tokens, stopping at EOS. Only returned tokens count (nothing decoded after a
row ended); mean lengths are printed because different samplers draw different samples, so equal
settings are not exactly equal work. After one short warm-up call each, rounds rotate which
contender goes first (load from other processes then hits all alike); figures are medians over rounds.

"vllm float32 standalone" is the same vLLM engine as "vllm float32", called directly
(`LLM.generate` with n samples per prompt request, no logprobs, no decoding of the text): the
anchor for what r1lab's wrapping costs (per-prompt seeded requests, the sampled tokens' logprobs,
decoding the completions).

Also measured, for `generator: auto`: vLLM's import (once per process), its start-up per model and
precision (engine construction and the first weight push) and one weight sync (`load_weights` of the model's state dict, prefix-cache reset included). From
them, the break-even: how many rollout steps of this size before vLLM's start-up is won back against
the engine at the same precision (none when vLLM decodes slower).

Models: `tiny-base` (r1lab's 1.5M demo model: vLLM's CPU attention has no kernel for its head size
40, so vLLM sits out), `tiny` (a random 3M Qwen2, head size 64) and `smollm2-135m`.
vLLM starts worker state with `spawn` only in multiprocess mode; r1lab runs it in-process, but the
`__main__` guard below is kept so the script also works with VLLM_ENABLE_V1_MULTIPROCESSING=1.

    .venv-vllm/bin/python benchmarks/generation_engines.py [--models tiny-base tiny smollm2-135m]
                                                          [--rounds 3] [--threads 1] [--max-new-tokens 128]
                                                          [--compiled]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from pathlib import Path

from bench_common import bench_prompts, load_average, model_path, print_table, set_threads

from r1lab.generation import SamplingParams, make_generator
from r1lab.generation.vllm import vllm_available, vllm_unsupported
from r1lab.models.loading import load_model

MODELS = ("tiny-base", "tiny", "smollm2-135m")
PROMPTS, SAMPLES = 4, 8
STANDALONE = "vllm float32 standalone"
CONTENDERS = ("generate float32", "engine float32", "engine bfloat16", "engine int8", "vllm float32",
              "vllm bfloat16")
COMPILED = ("vllm float32 compiled", "vllm bfloat16 compiled")  # --compiled: torch.compile start-up is long
COLUMNS = [("model", "model"), ("contender", "contender"), ("tok_s", "tok/s"), ("cpu_tok_s", "tok/CPU-s"),
           ("vs_standalone", "r1lab vLLM / standalone vLLM"),
           ("vs_generate", "/ generate"), ("vs_engine", "/ engine same precision"), ("mean_len", "mean len"),
           ("startup_s", "start-up s"), ("sync_s", "weight sync s"), ("break_even_steps", "break-even steps"),
           ("note", "note")]


def timed(generator, prompt_ids: list[list[int]], params: SamplingParams) -> tuple[float, float, int]:
    c0, t0 = time.process_time(), time.perf_counter()
    out = generator.generate(prompt_ids, params)
    return time.perf_counter() - t0, time.process_time() - c0, sum(len(c.token_ids) for c in out)


class StandaloneVLLM:
    """vLLM's own generate on an r1lab VLLMGenerator's engine: the same weights and settings, none of
    r1lab's wrapping."""

    def __init__(self, wrapped):
        self.llm = wrapped.llm

    def generate(self, prompt_ids: list[list[int]], params: SamplingParams) -> list:
        from vllm import SamplingParams as VLLMSamplingParams
        from vllm.inputs import TokensPrompt

        sampling = VLLMSamplingParams(n=params.n, max_tokens=params.max_new_tokens, temperature=params.temperature,
                                      top_p=params.top_p, seed=params.seed, detokenize=False)
        outputs = self.llm.generate([TokensPrompt(prompt_token_ids=list(p)) for p in prompt_ids], sampling,
                                    use_tqdm=False)
        return [c for out in outputs for c in out.outputs]  # each has .token_ids


def build(contender: str, model, tokenizer) -> tuple[object, float, float]:
    """(generator, start-up seconds, one weight sync's seconds); vLLM's start-up includes its first
    weight push, the others' is 0 (they decode the policy object itself or copy it at every call).
    "vllm float32 compiled": vLLM with torch.compile (r1lab's default runs it eagerly)."""
    kind, precision, *compiled = contender.split()
    kind = "hf" if kind == "generate" else kind
    options = {"compile": True} if compiled else {}
    t0 = time.perf_counter()
    generator = make_generator(kind, model, tokenizer, precision, **options)
    startup = time.perf_counter() - t0 if kind == "vllm" else 0.0
    sync = 0.0
    if kind == "vllm":
        t0 = time.perf_counter()
        generator.load_weights(model.state_dict())
        sync = time.perf_counter() - t0
    return generator, startup, sync


def bench_model(name: str, path: str, rounds: int, max_new_tokens: int, compiled: bool = False) -> list[dict]:
    model, tokenizer = load_model(path)
    prompt_ids = [tokenizer(t)["input_ids"] for t in bench_prompts(PROMPTS, seed=1)]
    unsupported = vllm_unsupported(model.config)
    generators, rows = {}, {}
    for contender in CONTENDERS + (COMPILED if compiled else ()):
        rows[contender] = {"model": name, "contender": contender, "note": ""}
        if contender.startswith("vllm") and unsupported:
            rows[contender]["note"] = unsupported
            continue
        generators[contender], rows[contender]["startup_s"], rows[contender]["sync_s"] = build(
            contender, model, tokenizer)
    if "vllm float32" in generators:
        generators[STANDALONE] = StandaloneVLLM(generators["vllm float32"])
        rows[STANDALONE] = {"model": name, "contender": STANDALONE, "note": "the vllm float32 engine, called directly"}
    rates = {c: [] for c in generators}
    cpu_rates = {c: [] for c in generators}
    lengths = {c: [] for c in generators}
    order = list(generators)
    for r in range(rounds + 1):  # round 0 is the warm-up: every code path once, 8 tokens
        for contender in order[r % len(order):] + order[:r % len(order)]:
            params = SamplingParams(n=SAMPLES, max_new_tokens=max_new_tokens if r else 8, temperature=1.0,
                                    seed=100 + r)
            seconds, cpu, tokens = timed(generators[contender], prompt_ids, params)
            if r:
                rates[contender].append(tokens / seconds)
                cpu_rates[contender].append(tokens / cpu)
                lengths[contender].append(tokens / (PROMPTS * SAMPLES))
    for contender in generators:
        rows[contender] |= {"tok_s": statistics.median(rates[contender]),
                            "cpu_tok_s": statistics.median(cpu_rates[contender]),
                            "mean_len": statistics.mean(lengths[contender])}
    anchor = rows["generate float32"]["tok_s"]
    for contender, row in rows.items():
        if "tok_s" not in row:
            continue
        row["vs_generate"] = row["tok_s"] / anchor
        engine = rows.get(f"engine {contender.split()[1]}", {}).get("tok_s")
        row["vs_engine"] = row["tok_s"] / engine if engine else None
        if contender.startswith("vllm") and engine and contender != STANDALONE:
            row["break_even_steps"] = break_even_steps(row, rows[f"engine {contender.split()[1]}"])
        print(f"  {name} {contender}: {row['tok_s']:.1f} tok/s, mean length {row['mean_len']:.1f}", flush=True)
    if "tok_s" in rows.get(STANDALONE, {}):  # r1lab's wrapping, as a share of vLLM's own rate
        rows["vllm float32"]["vs_standalone"] = rows["vllm float32"]["tok_s"] / rows[STANDALONE]["tok_s"]
    del generators
    gc.collect()
    return list(rows.values())


def break_even_steps(vllm_row: dict, engine_row: dict) -> float | str:
    """Rollout steps of this size after which vLLM (start-up paid once, weight sync every step) has
    spent less time than the engine. Each step generates 4 x 8 sequences of the measured mean length."""
    tokens = PROMPTS * SAMPLES * statistics.mean([vllm_row["mean_len"], engine_row["mean_len"]])
    saved_per_step = tokens / engine_row["tok_s"] - tokens / vllm_row["tok_s"] - vllm_row["sync_s"]
    if saved_per_step <= 0:
        return "never"
    return vllm_row["startup_s"] / saved_per_step


def import_seconds() -> float | None:
    """Seconds to import vLLM in this process (paid once per process, by the first vLLM generator;
    measured apart so each model's start-up is its own)."""
    t0 = time.perf_counter()
    missing = vllm_available()  # the first import happens here
    return None if missing is not None else time.perf_counter() - t0


def run(models, rounds: int, threads: int, max_new_tokens: int = 128, workdir: Path | None = None,
        compiled: bool = False) -> list[dict]:
    workdir = workdir or Path(tempfile.mkdtemp(prefix="r1lab-bench-"))
    used = set_threads(threads)
    imported = import_seconds()
    print(f"generation engines: {PROMPTS} prompts x {SAMPLES} samples, {max_new_tokens} new tokens, "
          f"temperature 1, {used} torch threads, load average {load_average()}; "
          + (f"import vllm {imported:.1f} s" if imported is not None else str(vllm_available())), flush=True)
    rows = []
    for name in models:
        path = "tiny-base" if name == "tiny-base" else model_path(name, workdir)
        if path is not None:
            rows += bench_model(name, path, rounds, max_new_tokens, compiled)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    ap.add_argument("--rounds", type=int, default=3, help="measured rounds after one warm-up")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (0 = torch's default)")
    ap.add_argument("--max-new-tokens", type=int, default=128)
    ap.add_argument("--compiled", action="store_true", help="also vLLM with torch.compile (float32, bfloat16)")
    args = ap.parse_args()
    rows = run(args.models, args.rounds, args.threads, args.max_new_tokens, compiled=args.compiled)
    print(f"\n## generation engines ({args.threads} threads, load average now {load_average()})\n")
    print_table(rows, COLUMNS)


if __name__ == "__main__":
    main()
