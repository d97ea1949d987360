"""`make bench`: the generation benchmark (engine vs transformers' `generate`), every generator side
by side (engine float32/bfloat16/int8, vLLM float32/bfloat16, `generate`) and the GRPO step
benchmark (r1lab vs TRL's GRPOTrainer) in one run, then one summary table of ratios against the
targets of issue 3; then Ray's overhead, the report's open time, and GRPO's memory and step time
with LoRA and gradient checkpointing against full fine-tuning. Results are also written to runs/bench/<date-time>.json.

    .venv/bin/python benchmarks/run_all.py [--models tiny smollm2-135m] [--steps 5] [--rounds 3]
                                          [--threads 1] [--reward dense task]
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import distributed_overhead  # noqa: E402
import generate_vs_hf  # noqa: E402
import generation_engines  # noqa: E402
import grpo_vs_trl  # noqa: E402
import lora_memory  # noqa: E402
import report_open  # noqa: E402
import torch  # noqa: E402
from bench_common import MODELS, load_average, print_table  # noqa: E402

# (benchmark, model) -> minimum ratio of the issues' "done when": issue 3 (the engine against generate
# and TRL) and issue 17 (the fastest r1lab step against TRL without and with vLLM; vLLM through r1lab
# against vLLM called directly).
TARGETS = {("grpo", "tiny"): 5.0, ("grpo", "smollm2-135m"): 2.0, ("generate", "smollm2-135m"): 3.0,
           ("grpo fastest", "smollm2-135m"): 5.0, ("grpo vs trl vllm", "smollm2-135m"): 2.0,
           ("vllm wrapping", "smollm2-135m"): 0.9, ("vllm wrapping", "tiny"): 0.9}
SUMMARY = [("what", "what"), ("model", "model"), ("anchor", "anchor"), ("r1lab", "r1lab"),
           ("ratio", "ratio"), ("cpu_ratio", "ratio in CPU time"), ("target", "target"), ("met", "met")]


def summary_rows(gen_rows: list[dict], grpo_rows: list[dict], engine_rows: list[dict] = ()) -> list[dict]:
    rows = []
    for r in grpo_rows:
        rows.append(_row(f"GRPO step, median s ({r['reward']} reward)", r, ("grpo", r["model"]),
                         f"TRL {r['trl_step_s']:.2f}", f"{r['r1lab_step_s']:.2f}"))
    for r in gen_rows:
        rows.append(_row(f"generation tok/s, batch 32 ({r['layout']})", r, ("generate", r["model"]),
                         f"generate {r['hf_tok_s']:.0f}", f"{r['engine_tok_s']:.0f}"))
    # The fast settings (int8 rollouts, bfloat16 autocast update) change the numerics: own rows.
    for r in grpo_rows:
        rows.append(_row(f"GRPO step, fast: int8 rollouts + bf16 update ({r['reward']} reward)",
                         r | {"ratio": r["fast_ratio"], "cpu_ratio": None}, ("grpo", r["model"]),
                         f"TRL {r['trl_step_s']:.2f}", f"{r['fast_step_s']:.2f}"))
    for r in gen_rows:
        rows.append(_row(f"generation tok/s, engine int8 ({r['layout']})", r | {"ratio": r["engine_int8_ratio"],
                         "cpu_ratio": None}, ("generate", r["model"]), f"generate {r['hf_tok_s']:.0f}",
                         f"{r['engine_int8_tok_s']:.0f}"))
    for r in grpo_rows:
        if "vllm_step_s" not in r:
            continue
        fastest = min(r["r1lab_step_s"], r["fast_step_s"], r["vllm_step_s"], r["vllm_fast_step_s"])
        rows.append(_row(f"GRPO step, r1lab's fastest arm ({r['reward']} reward)", r | {
            "ratio": r["trl_step_s"] / fastest, "cpu_ratio": None}, ("grpo fastest", r["model"]),
            f"TRL {r['trl_step_s']:.2f}", f"{fastest:.2f}"))
        rows.append(_row(f"GRPO step, r1lab's fastest vs TRL with vLLM colocate ({r['reward']} reward)", r | {
            "ratio": r["best_vs_trl_vllm"], "cpu_ratio": None}, ("grpo vs trl vllm", r["model"]),
            f"TRL+vLLM {r['trl_vllm_step_s']:.2f}", f"{fastest:.2f}"))
    for r in engine_rows:
        if "vs_standalone" in r:
            rows.append(_row("generation tok/s, vLLM through r1lab / vLLM called directly", r | {
                "ratio": r["vs_standalone"], "cpu_ratio": None}, ("vllm wrapping", r["model"]),
                "standalone", f"{r['tok_s']:.0f}"))
    return rows


def _row(what: str, r: dict, key: tuple[str, str], anchor: str, ours: str) -> dict:
    target = TARGETS.get(key)
    return {"what": what, "model": r["model"], "anchor": anchor, "r1lab": ours, "ratio": f"{r['ratio']:.2f}x",
            "cpu_ratio": f"{r['cpu_ratio']:.2f}x" if r["cpu_ratio"] is not None else "", "target": f">= {target:g}x" if target else "",
            "met": ("yes" if r["ratio"] >= target else "no") if target else ""}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    ap.add_argument("--steps", type=int, default=5, help="measured GRPO steps after one warm-up step")
    ap.add_argument("--rounds", type=int, default=3, help="measured generation rounds after one warm-up")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1: on a shared machine a second OpenMP thread waiting for "
                         "a busy core distorts every small op; 0 = torch's default)")
    ap.add_argument("--reward", nargs="+", choices=["dense", "task"], default=["dense"],
                    help="GRPO reward(s): dense (every sequence trained) and/or the demo task's (zero-variance "
                         "groups skipped by r1lab)")
    args = ap.parse_args()
    started = datetime.datetime.now()
    workdir = Path(tempfile.mkdtemp(prefix="r1lab-bench-"))
    out = Path("runs/bench") / f"{started:%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {"started": started.isoformat(), "args": vars(args), "threads": args.threads,
              "torch": torch.__version__, "machine": platform.machine(), "generation": [], "grpo": []}
    # One model (and reward) at a time, the record rewritten after each: an interrupted run keeps
    # what it measured.
    for model in args.models:
        record["generation"] += generate_vs_hf.run([model], args.rounds, args.threads, workdir=workdir)
        out.write_text(json.dumps(record, indent=2))
    for reward in args.reward:
        for model in args.models:
            record["grpo"] += grpo_vs_trl.run([model], args.steps, args.threads, reward, workdir=workdir)
            out.write_text(json.dumps(record, indent=2))
    # Every generator side by side (vLLM rows say why they are empty where vLLM is not installed).
    record["generation_engines"] = generation_engines.run(
        [m for m in generation_engines.MODELS if m == "tiny-base" or m in args.models], args.rounds,
        args.threads, workdir=workdir)
    out.write_text(json.dumps(record, indent=2))
    gen_rows, grpo_rows = record["generation"], record["grpo"]

    print("\n## generation: r1lab engine vs transformers generate\n")
    print_table(gen_rows, generate_vs_hf.COLUMNS)
    print("\n## generation engines: engine, vLLM, generate (benchmarks/generation_engines.py)\n")
    print_table(record["generation_engines"], generation_engines.COLUMNS)
    print("\n## GRPO step: r1lab vs TRL GRPOTrainer\n")
    print_table(grpo_rows, grpo_vs_trl.COLUMNS)
    print(f"\n## summary ({started:%Y-%m-%d %H:%M}, {torch.get_num_threads()} threads, "
          f"float32 matmul {grpo_rows[0]['matmul_gflops']:.1f} GFLOP/s, load average now {load_average()})\n"
          if grpo_rows else "\n## summary\n")
    print_table(summary_rows(gen_rows, grpo_rows, record["generation_engines"]), SUMMARY)
    dist_rows, dist_summary = distributed_overhead.run(threads=args.threads or 1, workdir=workdir)
    print("\n## distributed: local vs Ray rollout workers (benchmarks/distributed_overhead.py)\n")
    print_table(dist_rows, distributed_overhead.COLUMNS)
    print()
    print_table(dist_summary, distributed_overhead.SUMMARY)

    record["distributed"] = dist_rows
    out.write_text(json.dumps(record, indent=2))
    record["report"] = report_open.run(None, steps=100, rounds=5, workdir=workdir)
    print("\n## report open time: plotly.js basic vs full bundle (benchmarks/report_open.py)\n")
    print_table(record["report"], report_open.COLUMNS)
    out.write_text(json.dumps(record, indent=2))
    # SmolLM2-135M when it is among the models (the measure), else the tiny model.
    lora_model = "smollm2-135m" if "smollm2-135m" in args.models else args.models[0]
    record["lora"] = lora_memory.run(lora_model, steps=args.steps, threads=args.threads or 1, workdir=workdir)
    print("\n## GRPO memory and step time: LoRA and gradient checkpointing vs full fine-tuning "
          "(benchmarks/lora_memory.py)\n")
    print_table(record["lora"], lora_memory.COLUMNS)
    out.write_text(json.dumps(record, indent=2))
    print(f"\nresults in {out}")


if __name__ == "__main__":
    main()
