"""Generation throughput: r1lab's engine next to transformers' `generate` (r1lab's `hf` reference
generator), on the same model and the same prompts, at batch 32, side by side in one process.

Two layouts of the 32 rows: `32x1` (32 distinct prompts, one sample each: no prompt sharing to
exploit) and `4x8` (4 prompts x 8 samples: a GRPO step's rollout). Sampling at temperature 1, top-p
1, at most 128 new tokens, stopping at EOS. After one warm-up call each, rounds alternate the two
generators (so load from other processes hits both alike); each figure is the median over rounds of
completion tokens per second (tokens actually returned: padding decoded after a row ended does not
count), in wall-clock time and in this process's CPU time (less disturbed by other processes).
Two more contenders, not part of the comparison's ratio (other numerics, so other samples): the
engine decoding with an int8 copy of the weights (`precision="int8"`, re-quantized at every call as
in training, the quantization time included), and `generate` on the same int8 model quantized once
(so the engine's own share of the gain shows at int8 too). A bfloat16 copy was measured on
2026-11-29 (benchmarks/NOTES.md) and dropped from the default run: 1.1x float32 at best here.

    .venv/bin/python benchmarks/generate_vs_hf.py [--models tiny smollm2-135m] [--rounds 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench_common import MODELS, bench_prompts, load_average, model_path, print_table, set_threads

from r1lab.generation import SamplingParams, make_generator
from r1lab.generation.engine import int8_copy
from r1lab.models.loading import load_model

LAYOUTS = {"32x1": (32, 1), "4x8": (4, 8)}
COLUMNS = [("model", "model"), ("layout", "prompts x samples"), ("hf_tok_s", "generate tok/s"),
           ("engine_tok_s", "engine tok/s"), ("ratio", "engine / generate"), ("cpu_ratio", "same, CPU time"),
           ("hf_len", "mean len (generate)"), ("engine_len", "mean len (engine)"),
           ("engine_int8_ratio", "engine int8 / generate"), ("hf_int8_ratio", "generate int8 / generate")]


def timed(generator, prompt_ids: list[list[int]], params: SamplingParams) -> tuple[float, float, int]:
    c0, t0 = time.process_time(), time.perf_counter()
    out = generator.generate(prompt_ids, params)
    return time.perf_counter() - t0, time.process_time() - c0, sum(len(c.token_ids) for c in out)


def bench_model(name: str, path: str, rounds: int, max_new_tokens: int) -> list[dict]:
    model, tok = load_model(path)
    generators = {kind: make_generator(kind, model, tok) for kind in ("hf", "engine")}
    generators["engine_int8"] = make_generator("engine", model, tok, "int8")
    generators["hf_int8"] = make_generator("hf", int8_copy(model), tok)
    rows = []
    for layout, (n_prompts, n) in LAYOUTS.items():
        prompt_ids = [tok(t)["input_ids"] for t in bench_prompts(n_prompts, seed=1)]
        rates: dict[str, list[float]] = {kind: [] for kind in generators}
        cpu_rates: dict[str, list[float]] = {kind: [] for kind in generators}
        lengths: dict[str, list[float]] = {kind: [] for kind in generators}
        kinds = list(generators)
        for r in range(rounds + 1):  # round 0 is the warm-up
            for kind in kinds[r % len(kinds):] + kinds[:r % len(kinds)]:  # rotate who goes first
                # The warm-up only needs every code path run once: 8 tokens.
                params = SamplingParams(n=n, max_new_tokens=max_new_tokens if r else 8, temperature=1.0,
                                        seed=100 + r)
                seconds, cpu, tokens = timed(generators[kind], prompt_ids, params)
                if r > 0:
                    rates[kind].append(tokens / seconds)
                    cpu_rates[kind].append(tokens / cpu)
                    lengths[kind].append(tokens / (n_prompts * n))
        hf, engine = statistics.median(rates["hf"]), statistics.median(rates["engine"])
        rows.append({"model": name, "layout": layout, "hf_tok_s": hf, "engine_tok_s": engine,
                     "ratio": engine / hf,
                     "cpu_ratio": statistics.median(cpu_rates["engine"]) / statistics.median(cpu_rates["hf"]),
                     "hf_len": statistics.mean(lengths["hf"]),
                     "engine_len": statistics.mean(lengths["engine"]),
                     "engine_int8_tok_s": statistics.median(rates["engine_int8"]),
                     "engine_int8_ratio": statistics.median(rates["engine_int8"]) / hf,
                     "hf_int8_ratio": statistics.median(rates["hf_int8"]) / hf})
        print(f"  {name} {layout}: generate {hf:.1f} tok/s, engine {engine:.1f} tok/s, x{engine / hf:.2f}; "
              f"int8: engine x{rows[-1]['engine_int8_ratio']:.2f}, generate x{rows[-1]['hf_int8_ratio']:.2f}",
              flush=True)
    return rows


def run(models: list[str], rounds: int = 3, threads: int = 1, max_new_tokens: int = 128,
        workdir: Path | None = None) -> list[dict]:
    threads = set_threads(threads)
    workdir = Path(workdir or tempfile.mkdtemp(prefix="r1lab-bench-"))
    print(f"generation benchmark: {threads} threads, load average {load_average()}", flush=True)
    rows = []
    for name in models:
        path = model_path(name, workdir)
        if path is not None:
            rows += bench_model(name, path, rounds, max_new_tokens)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1: on a shared machine a second OpenMP thread waiting for "
                         "a busy core distorts every small op; 0 = torch's default)")
    ap.add_argument("--max-new-tokens", type=int, default=128)
    args = ap.parse_args()
    rows = run(args.models, args.rounds, args.threads, args.max_new_tokens)
    print_table(rows, COLUMNS)


if __name__ == "__main__":
    main()
