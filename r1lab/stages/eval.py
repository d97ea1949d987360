"""`r1lab eval`: n samples per benchmark problem, scored by the task's verifier, reported as pass@1,
pass@k and cons@k with bootstrap 95% intervals over problems (DeepSeek-R1's protocol: pass@1 averaged
over samples drawn at temperature 0.6, top-p 0.95; DeepSeek-AI 2025, section 3.1).

Phases: load the benchmark, restore finished problems from OUT/samples.jsonl, sample and score the
rest (appending each batch to disk, so an interrupted run resumes where it stopped), then report:
OUT/summary.json and a markdown table on the terminal.

Deviation from the paper: the default max_new_tokens is 1024, not 32,768, so that a CPU run ends;
raise it for reasoning models (a truncated response has no answer and counts as wrong).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from r1lab.config import GeneratorKey, Strict, SystemPromptKey, TemplateKey, add_config_flags, load_config
from r1lab.data.io import iter_jsonl
from r1lab.errors import UserError
from r1lab.evaluation.benchmarks import default_data_dir, load_benchmark
from r1lab.evaluation.runner import ProblemResult, encode_prompts, evaluate_problems, report
from r1lab.models.templates import PromptFormat, format_rule
from r1lab.rewards.signals import is_aha
from r1lab.types import Problem, Verdict, sample_record

# Settings that change the samples: a rerun into the same OUT must match them (limit may grow).
RESULT_KEYS = ("model", "benchmark", "task_options", "n", "temperature", "top_p", "max_new_tokens", "template",
               "system_prompt", "seed")
# Keys an output directory from before they existed was made with.
BEFORE_KEY = {"system_prompt": "", "task_options": {}}


class EvalConfig(Strict):
    model: str = Field(description="HF model directory or hub id, or tiny-base / smollm2-135m")
    benchmark: str = Field(description="gsm8k, math500, aime24, amc23, minerva, rg:<dataset>, or a .jsonl file")
    n: int = Field(64, ge=1, description="samples per problem")
    k: list[int] | None = Field(None, description="k of pass@k and cons@k; null: 1, 8, 64 up to n, and n "
                                "(values above n are skipped)")
    temperature: float = Field(0.6, ge=0, description="sampling temperature (R1's protocol: 0.6; 0 = greedy)")
    top_p: float = Field(0.95, gt=0, le=1, description="nucleus sampling (R1's protocol: 0.95)")
    max_new_tokens: int = Field(1024, ge=1, description="longest response, in tokens (truncated = wrong)")
    limit: int | None = Field(None, ge=1, description="evaluate the first N problems only")
    data_dir: str = Field("", description="local benchmark copies; empty: $R1LAB_DATA_DIR, else "
                          "../shared/benchmarks when it exists, else the hub")
    template: TemplateKey = "auto"
    system_prompt: SystemPromptKey = ""
    seed: int = Field(0, description="sampling seed")
    batch_prompts: int = Field(16, ge=1, description="prompts per generate() call (each with n samples)")
    dtype: Literal["float32", "bfloat16"] = Field("float32", description="dtype the model is loaded in")
    threads: int = Field(0, ge=0, description="torch intra-op threads; 0 = torch's default")
    # Both sample the same distribution, so a resumed run may switch.
    generator: GeneratorKey = "auto"
    task_options: dict[str, Any] = Field({}, description="options of a task benchmark (rg:<dataset> difficulty, "
                                         "a file's columns), as training's task_options")


Config = EvalConfig


def run(cfg: EvalConfig, run_dir: Path, resume: bool = True, progress: bool = True) -> dict:
    """Evaluate into run_dir. Finished problems already in run_dir/samples.jsonl are kept whatever
    `resume` says: samples are only ever appended, and the settings must match (check_same_run)."""
    started = time.time()
    out = Path(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    task, problems = load_benchmark(cfg.benchmark, cfg.data_dir or default_data_dir(),
                                    rg_problems=cfg.limit or 200, seed=cfg.seed, task_options=cfg.task_options)
    problems = problems[: cfg.limit] if cfg.limit else problems
    check_same_run(out, cfg)
    done = restore(out / "samples.jsonl", cfg.n)
    todo = [p for p in problems if p.id not in done]
    say = print if progress else (lambda *a, **k: None)
    say(f"eval {cfg.benchmark}: {len(problems)} problems x {cfg.n} samples; "
          f"{len(problems) - len(todo)} already done in {out}")
    if todo:
        template = generate_missing(cfg, task, todo, out, done, total=len(problems), say=say)
    else:
        template = resolved_template(cfg)
    results = [done[p.id] for p in problems]
    ks = cfg.k or default_ks(cfg.n)
    metrics = report(results, ks, task.equivalent, cfg.seed, format_rule=format_rule(template))
    summary = {"benchmark": cfg.benchmark, "model": cfg.model, **metrics,
               "template": template.name, "temperature": cfg.temperature, "top_p": cfg.top_p,
               "max_new_tokens": cfg.max_new_tokens, "seed": cfg.seed,
               "generated_this_run": len(todo), "elapsed_s": round(time.time() - started, 1)}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    say(markdown_table(summary))
    say(f"wrote {out / 'summary.json'} and {out / 'samples.jsonl'}")
    return summary


def default_ks(n: int) -> list[int]:
    """R1's usual k (1, 8, 64) where they fit in n samples, and n itself (cons@n is the full vote)."""
    return sorted({k for k in (1, 8, 64) if k <= n} | {n})


def resolved_template(cfg: EvalConfig) -> PromptFormat:
    from r1lab.models.loading import load_tokenizer
    from r1lab.models.templates import prompt_format

    return prompt_format(cfg.template, load_tokenizer(cfg.model), cfg.system_prompt)


def generate_missing(cfg: EvalConfig, task, todo: list[Problem], out: Path, done: dict, total: int,
                     say=print) -> PromptFormat:
    """Sample and score the unfinished problems, appending each batch to samples.jsonl."""
    import torch

    from r1lab.generation import make_generator
    from r1lab.models.loading import load_model
    from r1lab.models.templates import prompt_format, stop_strings

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    model, tokenizer = load_model(cfg.model, cfg.dtype)
    template = prompt_format(cfg.template, tokenizer, cfg.system_prompt)
    generator = make_generator(cfg.generator, model, tokenizer)
    prompt_ids = encode_prompts(tokenizer, task, todo, template)

    def save(batch: list[ProblemResult]) -> None:
        with open(out / "samples.jsonl", "a", encoding="utf-8") as f:
            for r in batch:
                for row in sample_rows(r):
                    f.write(json.dumps(row) + "\n")
                done[r.problem.id] = r
        so_far = [r.pass1 for r in done.values()]
        say(f"  {len(done)}/{total} problems, pass@1 so far {100 * sum(so_far) / len(so_far):.1f}%", flush=True)

    evaluate_problems(generator, task, todo, prompt_ids, n=cfg.n, temperature=cfg.temperature,
                      top_p=cfg.top_p, max_new_tokens=cfg.max_new_tokens, stop=stop_strings(template),
                      seed=cfg.seed, batch_prompts=cfg.batch_prompts, on_batch=save)
    return template


# ---------------------------------------------------------------------------------------------
# Resume: samples.jsonl is the record; a problem is finished when all n of its samples are there
# ---------------------------------------------------------------------------------------------


def sample_rows(r: ProblemResult) -> list[dict]:
    return [sample_record(r.problem, text, length, finish, v, sample=i, aha=is_aha(text, v.correct))
            for i, (text, v, length, finish) in enumerate(zip(r.texts, r.verdicts, r.lengths, r.finish_reasons))]


def restore(path: Path, n: int) -> dict[str, ProblemResult]:
    """Finished problems from an earlier run's samples.jsonl; the file is rewritten without the
    samples of unfinished problems (an interrupted batch), which will be generated again."""
    if not path.is_file():
        return {}
    groups: dict[str, list[dict]] = {}
    for line in iter_jsonl(path):
        if line.error is None and "problem_id" in line.value:  # a cut line's problem is redone
            groups.setdefault(line.value["problem_id"], []).append(line.value)
    finished = {pid: rows for pid, rows in groups.items() if sorted(r["sample"] for r in rows) == list(range(n))}
    with open(path, "w", encoding="utf-8") as f:
        for rows in finished.values():
            for row in sorted(rows, key=lambda r: r["sample"]):
                f.write(json.dumps(row) + "\n")
    return {pid: _result_from_rows(pid, rows) for pid, rows in finished.items()}


def _result_from_rows(pid: str, rows: list[dict]) -> ProblemResult:
    rows = sorted(rows, key=lambda r: r["sample"])
    problem = Problem(id=pid, question=rows[0].get("question", ""), answer=rows[0]["gold"])
    return ProblemResult(
        problem=problem,
        texts=[r["response"] for r in rows],
        verdicts=[Verdict(r["status"], r["score"], r["extracted"], r["reason"]) for r in rows],
        lengths=[r["tokens"] for r in rows],
        finish_reasons=[r["finish_reason"] for r in rows],
    )


def check_same_run(out: Path, cfg: EvalConfig) -> None:
    """Refuse to mix samples of different settings in one OUT directory."""
    path = out / "eval_config.json"
    mine = {k: getattr(cfg, k) for k in RESULT_KEYS}
    if path.is_file():
        theirs = json.loads(path.read_text())
        differ = [k for k in RESULT_KEYS if theirs.get(k, BEFORE_KEY.get(k)) != mine[k]]
        if differ:
            raise UserError(f"{out} holds samples made with different settings ({', '.join(differ)}); "
                            "use another --out or delete it")
    path.write_text(json.dumps(mine, indent=2) + "\n")


def default_out(cfg: EvalConfig) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{Path(cfg.model).name}-{Path(cfg.benchmark).stem}")
    return f"runs/eval/{slug}"


# ---------------------------------------------------------------------------------------------
# Terminal report
# ---------------------------------------------------------------------------------------------


def _pct(metric: dict) -> tuple[str, str]:
    if metric["mean"] is None:
        return "-", "-"
    lo, hi = metric["ci95"]
    return f"{100 * metric['mean']:.1f}", f"[{100 * lo:.1f}, {100 * hi:.1f}]"


def markdown_table(s: dict) -> str:
    lines = [f"**{s['benchmark']}** · {s['model']} · {s['problems']} problems x {s['n']} samples · "
             f"template {s['template']} · T={s['temperature']} top-p={s['top_p']}",
             "", "| metric | value (%) | 95% CI (%) |", "|---|---:|---:|"]
    rows = [("pass@1", s["pass@1"])] + [(f"pass@{k}", m) for k, m in s["pass@k"].items() if k != "1"]
    rows += [(f"cons@{k}", m) for k, m in s["cons@k"].items()]
    for name, metric in rows:
        value, ci = _pct(metric)
        lines.append(f"| {name} | {value} | {ci} |")
    length, verdicts = s["response_length"], s["verdicts"]
    lines += ["", f"response length (tokens): mean {length['mean']:.0f}, median {length['median']:.0f}, "
              f"p90 {length['p90']:.0f}, max {length['max']}; truncated {100 * length['truncated_rate']:.1f}%",
              f"verdicts: {verdicts['correct']} correct, {verdicts['incorrect']} incorrect, "
              f"{verdicts['unverifiable']} unverifiable; {verdicts['no_answer']} samples gave no answer"]
    if "format_rate" in s:
        lines.append(f"format-valid: {100 * s['format_rate']:.1f}% of samples")
    if s.get("skipped_k"):
        lines.append(f"skipped k > n: {', '.join(map(str, s['skipped_k']))}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------


def _ks(text: str) -> list[int]:
    try:
        ks = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"--k expects comma-separated integers, got {text!r}") from None
    if not ks or min(ks) < 1:
        raise ValueError(f"--k values must be >= 1, got {text!r}")
    return ks


def add_arguments(p) -> None:
    """The flags of `r1lab eval` (the CLI made the parser)."""
    p.add_argument("--model", help="HF model dir or hub id, or tiny-base / smollm2-135m (required)")
    p.add_argument("--benchmark",
                   help="gsm8k, math500, aime24, amc23, minerva, rg:<dataset>, or a .jsonl file with "
                   "question/answer fields (required)")
    p.add_argument("--n", type=int, help="samples per problem (default 64)")
    p.add_argument("--k", type=_ks, help="comma-separated k for pass@k and cons@k (default 1,8,64 where "
                   "k <= n, and n)")
    p.add_argument("--temperature", type=float, help="sampling temperature (default 0.6; 0 = greedy)")
    p.add_argument("--top-p", type=float, dest="top_p", help="nucleus sampling (default 0.95)")
    p.add_argument("--max-new-tokens", type=int, dest="max_new_tokens", help="per sample (default 1024)")
    p.add_argument("--limit", type=int, help="evaluate the first N problems only")
    p.add_argument("--data-dir", dest="data_dir",
                   help="benchmark folder laid out like shared/benchmarks (default $R1LAB_DATA_DIR, "
                   "else ../shared/benchmarks)")
    p.add_argument("--out", help="output directory (default runs/eval/<model>-<benchmark>)")
    p.add_argument("--template", help="auto (the chat template when the tokenizer has one, else R1-Zero's), "
                   "chat, r1_zero, or a .jinja template file")
    p.add_argument("--system-prompt", dest="system_prompt", help="system message of every prompt")
    p.add_argument("--seed", type=int)
    p.add_argument("--batch-prompts", type=int, dest="batch_prompts", help="prompts per generate call (default 16)")
    p.add_argument("--dtype", choices=["float32", "bfloat16"])
    p.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    p.add_argument("--generator", choices=["auto", "engine", "vllm", "hf"],
                   help="auto (default), engine (r1lab's), vllm, or hf (transformers' generate, the reference)")
    add_config_flags(p, "YAML config file (flags win over it)")
    p.set_defaults(run=_run)


def _run(args) -> int:
    fields = {k: getattr(args, k) for k in EvalConfig.model_fields if getattr(args, k, None) is not None}
    cfg = load_config(EvalConfig, args.config, args.overrides, **fields)
    run(cfg, Path(args.out or default_out(cfg)))
    return 0
