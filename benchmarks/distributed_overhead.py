"""What Ray costs and what async rollouts buy, on this machine: the same GRPO steps run three ways.

- local: one process generates, scores and updates (the spine);
- ray sync: 2 rollout workers generate and score halves of each step, the driver updates, weights
  go back through the object store every step (identical results to local);
- ray async: the same with max_staleness 1, the workers generate step t+1 while the driver updates
  on step t.

The driver uses 1 torch thread by default, like each worker: on this shared 2-core machine a 2-thread
process spends most of a small model's generation waiting at OpenMP barriers whenever other jobs hold
a core (measured: 15-40x slower than 1 thread at load average ~10; benchmarks/NOTES.md).

Each mode runs `--steps` GRPO steps after one warm-up step (which also pays for starting the
workers); the figure is the median step time over the measured steps, and the modes are interleaved
over `--rounds` rounds so a change in the machine's load hits all three alike. Printed as ratios:
overhead = ray sync / local, speedup = ray sync / ray async (and local / ray async).

The model is the ~3M-parameter random benchmark model (bench_common.TINY): it never stops early, so
every step generates the same number of tokens. beta > 0 keeps the update's work independent of the
rewards (a random model earns none, and rows with zero advantage and no KL term are skipped).

    .venv/bin/python benchmarks/distributed_overhead.py [--steps 4] [--rounds 2] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import load_average, model_path, print_table  # noqa: E402

from r1lab.config import ZeroConfig  # noqa: E402
from r1lab.stages.zero import run as run_zero  # noqa: E402

MODES = {
    "local": {"backend": "local"},
    "ray sync": {"backend": "ray", "max_staleness": 0},
    "ray async": {"backend": "ray", "max_staleness": 1},
}
COLUMNS = [("mode", "mode"), ("step_s", "median step s"), ("rollout_s", "rollout s (async: wait)"),
           ("worker_s", "worker compute s"), ("update_s", "update s"), ("sync_s", "weight sync s"),
           ("plumbing_s", "Ray plumbing s"), ("hidden", "rollout hidden by update"), ("vs_local", "step time / local")]
SUMMARY = [("what", "what"), ("value", "value")]


def config(model: str, steps: int, workers: int, mode: str, threads: int) -> ZeroConfig:
    dist = dict(MODES[mode])
    if dist["backend"] == "ray":
        dist["rollout_workers"] = workers
    return ZeroConfig(model=model, task="demo", steps=steps + 1, prompts_per_step=8, samples_per_prompt=4,
                      max_new_tokens=48, micro_batch_size=32, beta=0.01, learning_rate=1e-5, train_problems=200,
                      eval_problems=4, save_every=0, log_samples_per_step=0, report_to=[], threads=threads,
                      distributed=dist)


def one_run(cfg: ZeroConfig, run_dir: Path) -> list[dict]:
    run_zero(cfg, run_dir, progress=False)
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [r for r in rows if "step_time_s" in r][1:]  # drop the warm-up step


def run(steps: int = 4, rounds: int = 2, workers: int = 2, threads: int = 1,
        workdir: Path | None = None) -> tuple[list[dict], list[dict]]:
    import ray

    workdir = Path(workdir or tempfile.mkdtemp(prefix="r1lab-dist-bench-"))
    model = model_path("tiny", workdir)
    ray.init(num_cpus=max(2, workers), include_dashboard=False, log_to_driver=False)
    measured: dict[str, list[dict]] = {mode: [] for mode in MODES}
    try:
        for r in range(rounds):
            for mode in MODES:
                print(f"round {r + 1}/{rounds}: {mode}", flush=True)
                run_dir = workdir / f"{mode.replace(' ', '-')}-{r}"
                measured[mode] += one_run(config(model, steps, workers, mode, threads), run_dir)
    finally:
        ray.shutdown()

    def median(mode: str, key: str) -> float:
        return statistics.median(row.get(key, 0.0) for row in measured[mode])

    local = median("local", "step_time_s")
    rows = [{"mode": mode, "step_s": median(mode, "step_time_s"), "rollout_s": median(mode, "rollout_time_s"),
             "update_s": median(mode, "update_time_s"), "sync_s": median(mode, "sync_time_s"),
             "vs_local": median(mode, "step_time_s") / local} for mode in MODES]
    # Sync mode: what Ray adds to a step beyond the workers' own compute, measured directly (less
    # sensitive to the machine's load than the ratio of two step times).
    plumbing = [r["rollout_time_s"] - r["rollout/worker_s"] + r["sync_time_s"] for r in measured["ray sync"]]
    rows[1]["plumbing_s"] = statistics.median(plumbing)
    for row in rows[1:]:
        row["worker_s"] = median(row["mode"], "rollout/worker_s")
    # Async: the share of the workers' compute that ran while the driver updated (1 = fully hidden).
    rows[2]["hidden"] = statistics.median(max(0.0, 1 - r["rollout_time_s"] / r["rollout/worker_s"])
                                          for r in measured["ray async"])
    by = {row["mode"]: row["step_s"] for row in rows}
    summary = [
        {"what": f"sync-mode overhead: ray sync ({workers} workers) / local step time",
         "value": f"{by['ray sync'] / by['local']:.2f}x"},
        {"what": "async speedup: ray sync / ray async step time", "value": f"{by['ray sync'] / by['ray async']:.2f}x"},
        {"what": "async vs local: local / ray async step time", "value": f"{by['local'] / by['ray async']:.2f}x"},
        {"what": "Ray plumbing per sync step (collect wall - worker compute + weight push), s",
         "value": f"{rows[1]['plumbing_s']:.3f}"},
    ]
    return rows, summary


SPIN = ("import time, torch\ntorch.set_num_threads(1)\na = torch.randn(256, 256)\nt0 = time.perf_counter()\n"
        "for _ in range(1500):\n    a @ a\nprint(time.perf_counter() - t0)")


def effective_cores() -> float:
    """How many cores two single-thread processes get right now (2.0 on an idle 2-core machine):
    async rollouts can only overlap into cores that other jobs leave free."""
    import subprocess

    def spin(count: int) -> float:
        procs = [subprocess.Popen([sys.executable, "-c", SPIN], stdout=subprocess.PIPE, text=True)
                 for _ in range(count)]
        return max(float(p.communicate()[0]) for p in procs)

    return 2 * spin(1) / spin(2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=4, help="measured steps per run, after one warm-up step")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds of the three modes")
    ap.add_argument("--workers", type=int, default=2, help="rollout workers in the Ray modes")
    ap.add_argument("--threads", type=int, default=1, help="torch threads of the driver (workers use 1)")
    args = ap.parse_args()
    cores = effective_cores()
    rows, summary = run(args.steps, args.rounds, args.workers, args.threads)
    print(f"\n## distributed: local vs Ray rollout workers (load average now {load_average()}; "
          f"{cores:.1f} of 2 cores free for two processes at the start, {effective_cores():.1f} at the end)\n")
    print_table(rows, COLUMNS)
    print()
    print_table(summary, SUMMARY)


if __name__ == "__main__":
    main()
