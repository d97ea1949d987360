"""Generation throughput: r1lab's engine next to transformers' `generate` (r1lab's `hf` reference
generator), on the same model and the same prompts, at batch 32, side by side in one process.

Two layouts of the 32 rows: `32x1` (32 distinct prompts, one sample each: no prompt sharing to
exploit) and `4x8` (4 prompts x 8 samples: a GRPO step's rollout). Sampling at temperature 1, top-p
1, at most 128 new tokens, stopping at EOS. After one warm-up call each, rounds alternate the two
generators (so load from other processes hits both alike); each figure is the median over rounds of
completion tokens per second (tokens actually returned: padding decoded after a row ended does not
count), in wall-clock time and in this process's CPU time (less disturbed by other processes).

    .venv/bin/python benchmarks/generate_vs_hf.py [--models tiny smollm2-135m] [--rounds 3] [--threads 0]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench_common import MODELS, bench_prompts, load_average, model_path, print_table, set_threads

from r1lab.generation import SamplingParams, make_generator
from r1lab.models.loading import load_model

LAYOUTS = {"32x1": (32, 1), "4x8": (4, 8)}
COLUMNS = [("model", "model"), ("layout", "prompts x samples"), ("hf_tok_s", "generate tok/s"),
           ("engine_tok_s", "engine tok/s"), ("ratio", "engine / generate"), ("cpu_ratio", "same, CPU time"),
           ("hf_len", "mean len (generate)"),
           ("engine_len", "mean len (engine)")]


def timed(generator, prompt_ids: list[list[int]], params: SamplingParams) -> tuple[float, float, int]:
    c0, t0 = time.process_time(), time.perf_counter()
    out = generator.generate(prompt_ids, params)
    return time.perf_counter() - t0, time.process_time() - c0, sum(len(c.token_ids) for c in out)


def bench_model(name: str, path: str, rounds: int, max_new_tokens: int) -> list[dict]:
    model, tok = load_model(path)
    generators = {kind: make_generator(kind, model, tok) for kind in ("hf", "engine")}
    rows = []
    for layout, (n_prompts, n) in LAYOUTS.items():
        prompt_ids = [tok(t)["input_ids"] for t in bench_prompts(n_prompts, seed=1)]
        rates: dict[str, list[float]] = {"hf": [], "engine": []}
        cpu_rates: dict[str, list[float]] = {"hf": [], "engine": []}
        lengths: dict[str, list[float]] = {"hf": [], "engine": []}
        for r in range(rounds + 1):  # round 0 is the warm-up
            order = ("hf", "engine") if r % 2 == 0 else ("engine", "hf")
            for kind in order:
                params = SamplingParams(n=n, max_new_tokens=max_new_tokens, temperature=1.0, seed=100 + r)
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
                     "engine_len": statistics.mean(lengths["engine"])})
        print(f"  {name} {layout}: generate {hf:.1f} tok/s, engine {engine:.1f} tok/s, x{engine / hf:.2f}",
              flush=True)
    return rows


def run(models: list[str], rounds: int = 3, threads: int = 0, max_new_tokens: int = 128,
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
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    ap.add_argument("--max-new-tokens", type=int, default=128)
    args = ap.parse_args()
    rows = run(args.models, args.rounds, args.threads, args.max_new_tokens)
    print_table(rows, COLUMNS)


if __name__ == "__main__":
    main()
