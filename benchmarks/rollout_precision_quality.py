"""What a rounded rollout copy does to the samples: the same held-out prompts, sampled from each
`rollout_precision` (float32: the policy itself; bfloat16 and int8: the engine's rounded copy, see
r1lab.generation.engine), with the same per-prompt seeds, temperature and length.

Every piece is training's own: the config is a ZeroConfig, the generator is
`make_generator(cfg.generator, model, tokenizer, cfg.rollout_precision)` as r1lab.grpo.setup builds
it, and each batch of prompts is a GRPO rollout (`make_rollout`: the prompt template, the per-prompt
seeded sampling of a training step, the task's verify_many and the format reward with the template's
answer format and placeholders). Prompts are the task's held-out problems (task.problems("test", N,
seed)), `--batch-prompts` per generate call (8 x 4 samples = 32 rows, a training step's 4 x 8).

Reported per precision, ratios against float32:
- accuracy: the task's verdicts (what the accuracy reward and eval use), mean over problems of each
  problem's share of correct samples, with its bootstrap 95% interval over problems (mean_with_ci);
- format: the share of samples the format reward accepts;
- last number = gold: the share of samples whose last number in the text equals the gold answer, a
  looser signal than accuracy (never a reward: the task's extractor reads only the answer region),
  with its 95% interval and the paired difference to float32 over problems (same prompts and seeds,
  so the difference is paired);
- mean completion length in tokens, the share cut at max_new_tokens;
- the mismatch between the copy and the float32 policy on the copy's own samples, as the trainer
  logs it (r1lab.rl.correction with method none): the k3 and k1 estimates of the per-token
  KL(copy || float32 policy), from the float32 policy's logprobs of the sampled tokens
  (r1lab.rl.logprobs.shared_prompt_logprobs, the update's function, at the sampling temperature)
  against the logprobs the generator returned, and the largest per-token |logprob gap|. For float32
  itself this is the engine against the update's forward (rounding only);
- generate s: wall time of the sampling alone (load-dependent; the speed figures are in NOTES.md's
  generation sections).

Defaults: tiny-base on the demo task (r1_zero template) with 128 problems x 8 samples; smollm2-135m
on reasoning-gym chain_sum (2 terms of 1-2 digits) in its chat template with configs/smollm2-chain-
sum.yaml's system prompt, 64 problems x 4 samples; temperature 1.0 (the training temperature), top-p
1, at most 64 new tokens.

    .venv/bin/python benchmarks/rollout_precision_quality.py [--models tiny-base smollm2-135m]
        [--task SPEC] [--problems N] [--samples G] [--temperature 1.0] [--max-new-tokens 64]
        [--threads 1] [--seed 0] [--no-kl]
"""

from __future__ import annotations

import argparse
import gc
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import load_average, print_table, set_threads  # noqa: E402

from r1lab.config import ZeroConfig  # noqa: E402
from r1lab.evaluation.metrics import mean_with_ci  # noqa: E402
from r1lab.generation import make_generator  # noqa: E402
from r1lab.grpo.rollout import make_rollout, task_of  # noqa: E402
from r1lab.models.loading import disable_dropout, load_model  # noqa: E402
from r1lab.models.templates import prompt_format  # noqa: E402
from r1lab.rl.correction import MismatchStats, rollout_correction  # noqa: E402
from r1lab.rl.logprobs import build_shared_batch, shared_prompt_logprobs  # noqa: E402

PRECISIONS = ("float32", "bfloat16", "int8")
CHAIN_SUM = {"min_terms": 2, "max_terms": 2, "min_digits": 1, "max_digits": 2}
# Per model: the task, its options, the system prompt and the default problems x samples.
DEFAULTS = {
    "tiny-base": dict(task="demo", task_options={}, system_prompt="", problems=128, samples=8),
    "smollm2-135m": dict(task="rg:chain_sum", task_options=CHAIN_SUM,
                         system_prompt="Solve the problem, then write the final answer as \\boxed{answer}.",
                         problems=64, samples=4),
}
KL_MICRO_BATCH = 16  # completions per float32 forward (configs/smollm2-chain-sum.yaml's micro_batch_size)
# A number not glued to a digit before its sign: "8-2" reads as 8 and 2, "= -6" as -6.
NUMBER = re.compile(r"(?<![\d.])-?\d+(?:\.\d+)?")
COLUMNS = [("model", "model"), ("precision", "precision"), ("accuracy", "accuracy [95% CI]"),
           ("accuracy_ratio", "/ fp32"), ("format", "format"), ("format_ratio", "/ fp32"),
           ("last_number", "last number = gold [95% CI]"), ("last_number_ratio", "/ fp32"),
           ("last_number_diff", "paired diff vs fp32 [95% CI]"), ("mean_len", "mean len"),
           ("truncated", "cut at max"), ("kl_k3", "KL k3 / token"), ("kl_k1", "KL k1 / token"),
           ("gap_max", "max |logprob gap|"), ("generate_s", "generate s")]


def last_number_matches(text: str, gold) -> bool:
    """Whether the last number in `text` equals the gold answer (numerically when the gold is a number)."""
    numbers = NUMBER.findall(text)
    if not numbers:
        return False
    try:
        return float(numbers[-1]) == float(str(gold).strip())
    except ValueError:
        return numbers[-1] == str(gold).strip()


@dataclass
class PrecisionResult:
    correct: list[float] = field(default_factory=list)  # [problems] share of correct samples
    last_number: list[float] = field(default_factory=list)  # [problems] share whose last number is gold
    formats: list[float] = field(default_factory=list)  # [samples] format reward
    lengths: list[int] = field(default_factory=list)  # [samples] completion tokens
    truncated: list[bool] = field(default_factory=list)  # [samples] cut at max_new_tokens
    mismatch: MismatchStats = field(default_factory=MismatchStats)
    generate_s: float = 0.0


def policy_mismatch(model, rollout, temperature: float) -> MismatchStats:
    """KL(sampler || float32 policy) statistics on the rollout's tokens, as the trainer logs them."""
    stats = MismatchStats()
    comps = rollout.completions
    with torch.no_grad():
        for start in range(0, len(comps), KL_MICRO_BATCH):
            chunk = comps[start:start + KL_MICRO_BATCH]
            batch = build_shared_batch([rollout.prompt_ids[c.prompt_index] for c in chunk],
                                       [c.token_ids for c in chunk], pad_id=0)  # padding is masked out
            policy, _ = shared_prompt_logprobs(model, batch, temperature)
            sampler = torch.zeros_like(policy)
            for row, c in enumerate(chunk):
                sampler[row, :len(c.logprobs)] = torch.tensor(c.logprobs)
            stats = stats + rollout_correction(policy, sampler, batch.completion_mask, "none").stats
    return stats


def sample_precision(cfg: ZeroConfig, model, tokenizer, task, template, problems, batch_prompts: int,
                     with_kl: bool) -> PrecisionResult:
    generator = make_generator(cfg.generator, model, tokenizer, cfg.rollout_precision)
    result = PrecisionResult()
    g = cfg.samples_per_prompt
    for start in range(0, len(problems), batch_prompts):
        chunk = problems[start:start + batch_prompts]
        t0 = time.perf_counter()
        # step 0 for every batch: each prompt's seed depends only on (seed, problem id), the same for
        # every precision.
        rollout = make_rollout(generator, tokenizer, template, task, chunk, cfg, step=0, version=0)
        result.generate_s += time.perf_counter() - t0
        for i, problem in enumerate(chunk):
            group = rollout.completions[i * g:(i + 1) * g]
            result.correct.append(sum(v.correct for v in rollout.verdicts[i * g:(i + 1) * g]) / g)
            result.last_number.append(sum(last_number_matches(c.text, problem.answer) for c in group) / g)
        result.formats += rollout.reward_components["format"]
        result.lengths += [len(c.token_ids) for c in rollout.completions]
        result.truncated += [c.finish_reason == "length" for c in rollout.completions]
        if with_kl:
            result.mismatch = result.mismatch + policy_mismatch(model, rollout, cfg.temperature)
    del generator
    gc.collect()
    return result


def with_ci(values: list[float]) -> str:
    m = mean_with_ci(values)
    lo, hi = m["ci95"]
    return f"{m['mean']:.3f} [{lo:.3f}, {hi:.3f}]"


def ratio(value: float, anchor: float) -> str:
    return f"{value / anchor:.2f}x" if anchor else "n/a"


def table_rows(name: str, results: dict[str, PrecisionResult], with_kl: bool) -> list[dict]:
    anchor = results["float32"]
    mean = lambda xs: sum(xs) / max(1, len(xs))  # noqa: E731
    rows = []
    for precision, r in results.items():
        kl = r.mismatch.metrics() if with_kl else {}
        diffs = [a - b for a, b in zip(r.last_number, anchor.last_number)]
        rows.append({
            "model": name, "precision": precision,
            "accuracy": with_ci(r.correct), "accuracy_ratio": ratio(mean(r.correct), mean(anchor.correct)),
            "format": mean(r.formats), "format_ratio": ratio(mean(r.formats), mean(anchor.formats)),
            "last_number": with_ci(r.last_number),
            "last_number_ratio": ratio(mean(r.last_number), mean(anchor.last_number)),
            "last_number_diff": "" if precision == "float32" else with_ci(diffs),
            "mean_len": mean(r.lengths), "truncated": mean([float(t) for t in r.truncated]),
            "kl_k3": f"{kl['rollout_mismatch_kl']:.2e}" if kl else "",
            "kl_k1": f"{kl['rollout_mismatch_kl_k1']:.2e}" if kl else "",
            "gap_max": kl.get("rollout_logprob_diff_max", ""), "generate_s": r.generate_s,
        })
    return rows


def run_model(name: str, args) -> list[dict]:
    defaults = DEFAULTS.get(name, DEFAULTS["smollm2-135m"])
    task_spec = args.task or defaults["task"]
    options = defaults["task_options"] if task_spec == defaults["task"] else {}
    cfg = ZeroConfig(model=name, task=task_spec, task_options=options, system_prompt=defaults["system_prompt"],
                     generator="engine", samples_per_prompt=args.samples or defaults["samples"],
                     max_new_tokens=args.max_new_tokens, temperature=args.temperature, seed=args.seed,
                     report_to=[])
    n_problems = args.problems or defaults["problems"]
    model, tokenizer = load_model(cfg.model, cfg.dtype)
    disable_dropout(model)
    model.eval()
    task = task_of(cfg)
    template = prompt_format(cfg.template, tokenizer, cfg.system_prompt)
    problems = list(task.problems("test", n_problems, cfg.seed))
    print(f"{name}: {task_spec} {options or ''}, template {template}, {len(problems)} problems x "
          f"{cfg.samples_per_prompt} samples, temperature {cfg.temperature}, at most {cfg.max_new_tokens} "
          f"new tokens", flush=True)
    results = {}
    for precision in PRECISIONS:
        t0 = time.perf_counter()
        results[precision] = sample_precision(cfg.model_copy(update={"rollout_precision": precision}), model,
                                              tokenizer, task, template, problems, args.batch_prompts, args.kl)
        print(f"  {precision}: {time.perf_counter() - t0:.0f} s (load average {load_average()})", flush=True)
    return table_rows(name, results, args.kl)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["tiny-base", "smollm2-135m"], help="tiny-base, smollm2-135m "
                    "(or a model directory, run like smollm2-135m)")
    ap.add_argument("--task", help="task spec for every model (default: demo for tiny-base, rg:chain_sum with "
                    "2 terms of 1-2 digits otherwise)")
    ap.add_argument("--problems", type=int, help="held-out problems (default: 128 tiny-base, 64 otherwise)")
    ap.add_argument("--samples", type=int, help="samples per problem (default: 8 tiny-base, 4 otherwise)")
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--batch-prompts", type=int, default=8, help="prompts per generate call")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-kl", dest="kl", action="store_false", help="skip the float32 forward that measures "
                    "the copy's KL to the policy")
    args = ap.parse_args(argv)
    threads = set_threads(args.threads)
    print(f"torch threads {threads}, load average {load_average()}", flush=True)
    rows = []
    for name in args.models:
        rows += run_model(name, args)
    print()
    print_table(rows, COLUMNS)


if __name__ == "__main__":
    main()
