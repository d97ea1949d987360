"""GRPO with LoRA and with gradient checkpointing against full fine-tuning: peak memory and step time.

Four arms, each in a fresh process (so one arm's allocations never count in another's peak): full
fine-tuning, full + gradient_checkpointing, LoRA (r 16, alpha 32, on q/k/v/o), LoRA + gradient
checkpointing. Every arm runs the same GRPO steps through r1lab's own pieces (build_setup, the local
rollout source, advantages, grpo_update, the merged-weights sync): the same 4 prompts x 4 samples per
step, at most 64 new tokens, micro-batches of 8, a dense reward (the share of digits in the text, a
user reward file: every sequence has a non-zero advantage, so every sequence is trained).

Memory: the process's peak resident set (ru_maxrss) and the part of it that training added on top
of the resident set right after setup (gradients, AdamW's two moments, activations, and for LoRA the
merged copy of the adapted weights); trainable parameters as counted by the optimizer. Time: the
median over the measured steps (after one warm-up step) of the whole step, the rollout and the
update, wall clock. Ratios are printed against full fine-tuning. CPU only, as r1lab trains.

    .venv/bin/python benchmarks/lora_memory.py [--model smollm2-135m] [--steps 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import load_average, model_path, print_table  # noqa: E402

ARMS = {
    "full": {},
    "full + checkpointing": {"gradient_checkpointing": True},
    "LoRA": {"lora": {"enabled": True, "r": 16, "alpha": 32.0}},
    "LoRA + checkpointing": {"lora": {"enabled": True, "r": 16, "alpha": 32.0}, "gradient_checkpointing": True},
}
COLUMNS = [("arm", "arm"), ("model", "model"), ("trainable_m", "trainable params (M)"),
           ("peak_rss_mb", "peak RSS MB"), ("training_mb", "added by training MB"),
           ("memory_ratio", "training MB / full's"), ("step_s", "step s"), ("rollout_s", "rollout s"),
           ("update_s", "update s"), ("update_ratio", "update s / full's")]
DENSE = "def digits(completions, **kwargs):\n    return [sum(ch.isdigit() for ch in c) / max(1, len(c)) for c in completions]\n"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def one_arm(arm: str, model: str, steps: int, threads: int, workdir: Path) -> dict:
    """Runs in its own process: setup, one warm-up step and `steps` measured GRPO steps."""
    from r1lab.config import ZeroConfig
    from r1lab.grpo.loop import advantages_and_weights
    from r1lab.grpo.setup import build_setup, sync_generation_model, update_settings
    from r1lab.grpo.sources import LocalRolloutSource
    from r1lab.rl.update import grpo_update

    reward_file = workdir / "dense_reward.py"
    reward_file.write_text(DENSE)
    cfg = ZeroConfig(model=model, task="demo", steps=steps + 1, prompts_per_step=4, samples_per_prompt=4,
                     micro_batch_size=8, max_new_tokens=64, learning_rate=1e-5, train_problems=64, report_to=[],
                     threads=threads, seed=0,
                     rewards={"accuracy": 0.0, "format": 0.0, "custom": [f"{reward_file}:digits"]}, **ARMS[arm])
    s = build_setup(cfg)
    after_setup = rss_mb()
    source, settings = LocalRolloutSource(s, version=0), update_settings(cfg)
    times = []
    for step in range(cfg.steps):
        t0 = time.perf_counter()
        rollout = source.collect(step)
        advantages, weights, _ = advantages_and_weights(rollout.rewards, rollout.completions, cfg)
        t1 = time.perf_counter()
        grpo_update(s.model, s.optimizer, s.scheduler, [rollout.prompt_ids[c.prompt_index] for c in rollout.completions],
                    [c.token_ids for c in rollout.completions], advantages, weights, settings,
                    s.tokenizer.pad_token_id, s.ref_model)
        sync_generation_model(s)
        source.push_weights(s.generation_model, step + 1)
        t2 = time.perf_counter()
        times.append((t2 - t0, t1 - t0, t2 - t1))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    measured = times[1:] or times
    trainable = sum(p.numel() for group in s.optimizer.param_groups for p in group["params"])
    return {"arm": arm, "model": Path(model).name, "trainable_m": trainable / 1e6, "peak_rss_mb": peak,
            "training_mb": peak - after_setup, "step_s": statistics.median(t[0] for t in measured),
            "rollout_s": statistics.median(t[1] for t in measured),
            "update_s": statistics.median(t[2] for t in measured)}


def run(model_name: str = "smollm2-135m", steps: int = 3, threads: int = 1, workdir: Path | None = None) -> list[dict]:
    workdir = Path(workdir or tempfile.mkdtemp(prefix="r1lab-lora-bench-"))
    path = model_path(model_name, workdir)
    if path is None:
        return []
    rows = []
    for arm in ARMS:
        out = workdir / f"arm-{len(rows)}.json"
        subprocess.run([sys.executable, __file__, "--one", arm, "--model-path", path, "--steps", str(steps),
                        "--threads", str(threads), "--workdir", str(workdir), "--json", str(out)],
                       check=True, env=os.environ | {"PYTHONPATH": os.environ.get("PYTHONPATH", "")})
        rows.append(json.loads(out.read_text()))
    full = rows[0]
    for r in rows:
        r["memory_ratio"] = r["training_mb"] / full["training_mb"]
        r["update_ratio"] = r["update_s"] / full["update_s"]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="smollm2-135m", help="tiny or smollm2-135m (bench_common.MODELS)")
    ap.add_argument("--steps", type=int, default=3, help="measured steps after one warm-up step")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one arm in this process
    ap.add_argument("--model-path", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    ap.add_argument("--json", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        row = one_arm(args.one, args.model_path, args.steps, args.threads, Path(args.workdir))
        Path(args.json).write_text(json.dumps(row))
        return
    rows = run(args.model, args.steps, args.threads)
    print(f"\n## GRPO memory and step time: LoRA and gradient checkpointing vs full fine-tuning "
          f"({args.threads} threads, load average now {load_average()})\n")
    print_table(rows, COLUMNS)


if __name__ == "__main__":
    main()
