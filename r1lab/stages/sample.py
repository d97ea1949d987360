"""Rejection sampling: n completions per prompt, keep the verified and readable ones, write SFT data.

Reads top to bottom: problems from the task -> prompts (optionally after few-shot examples) -> n
samples each -> the task's verifier -> readability filters -> per-prompt dedup, preference and cap ->
RUN/data.jsonl (chat messages with provenance) and RUN/summary.json (counts, and why samples were rejected).

DeepSeek-R1 uses this twice (DeepSeek-AI 2025, sections 2.3.1 and 2.3.3): to build the cold-start
set from R1-Zero outputs ("readable", few-shot prompted, post-processed by people), and after
reasoning RL to collect the SFT set, keeping only correct responses and filtering out "chains of
thought with mixed languages, long paragraphs, and code blocks". Our filters are the mechanical part
of that: verified, format-valid, language mixing at most a threshold, length bounds, no repetition
loops. The paper's cold-start format ends with a summary; in our frame the <answer> block is where
the summary goes and we do not rewrite responses (no human post-processing).
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from pathlib import Path
from typing import Literal

import torch
from pydantic import Field

from r1lab.config import (
    DEFAULT_MAX_NEW_TOKENS,
    DEFAULT_TASK,
    GeneratorKey,
    Strict,
    add_config_flags,
    dump_yaml,
    load_config,
)
from r1lab.data.io import SFTExample, read_sft, write_sft
from r1lab.generation import SamplingParams, make_generator
from r1lab.models.loading import load_model
from r1lab.models.templates import R1_ZERO_TEMPLATE, choose_template, render_prompt, stop_strings
from r1lab.rewards import format_reward
from r1lab.rewards.language import language_consistency, problem_language
from r1lab.tasks import load_task
from r1lab.types import Problem

WORD_RE = re.compile(r"\S+")


class FilterSection(Strict):
    require_verified: bool = Field(True, description="the task's verifier must accept the answer")
    require_format: bool = Field(True, description="exactly one non-empty think block, then one answer block")
    max_language_mixing: float = Field(0.0, ge=0, le=1, description="largest share of reasoning words not in "
                                       "the prompt's language")
    min_tokens: int = Field(1, ge=0, description="shortest completion kept, in tokens")
    max_tokens: int = Field(0, ge=0, description="longest completion kept; 0 = no bound but max_new_tokens "
                            "(truncated samples always go)")
    ngram: int = Field(4, ge=1, description="repetition loop: a word n-gram of this length occurring more than "
                       "max_repeats times")
    max_repeats: int = Field(3, ge=1, description="occurrences of one n-gram that make a repetition loop")


class SampleConfig(Strict):
    model: str = Field("tiny-base", description="HF model directory or hub id, or tiny-base / smollm2-135m")
    task: str = Field(DEFAULT_TASK, description="signs, demo, rg:<reasoning-gym dataset>, or a .jsonl/.parquet math "
                      "problems file")
    split: Literal["train", "test"] = Field("train", description="which split of the task to prompt with")
    problems: int = Field(64, ge=1, description="prompts drawn from the split")
    n: int = Field(8, ge=1, description="samples per prompt")
    max_new_tokens: int = Field(DEFAULT_MAX_NEW_TOKENS, ge=1, description="longest completion, in tokens")
    temperature: float = Field(1.0, gt=0, description="sampling temperature")
    top_p: float = Field(1.0, gt=0, le=1, description="nucleus sampling")
    template: Literal["auto", "r1_zero", "chat"] = Field("auto", description="auto: r1_zero for base models, "
                                                         "the model's chat template otherwise")
    filters: FilterSection = Field(default_factory=FilterSection, description="what a kept sample must pass")
    max_per_prompt: int = Field(1, ge=1, description="samples kept per prompt, after dedup")
    prefer: Literal["random", "longest", "shortest"] = Field("random", description="which survivors fill the cap")
    few_shot: int = Field(0, ge=0, description="examples from few_shot_data shown before each prompt")
    few_shot_data: str = Field("", description="SFT jsonl of examples (e.g. a hand-checked seed set)")
    generator: GeneratorKey = "auto"
    batch_prompts: int = Field(16, ge=1, description="prompts per generate() call")
    seed: int = Field(0, description="seed of the problem draw and sampling")
    threads: int = Field(0, ge=0, description="torch intra-op threads; 0 = torch's default")


# ----------------------------------------------------------------------------------------- filters
def repetition_loop(text: str, ngram: int, max_repeats: int) -> bool:
    words = WORD_RE.findall(text)
    grams = Counter(tuple(words[i:i + ngram]) for i in range(len(words) - ngram + 1))
    return bool(grams) and max(grams.values()) > max_repeats


def rejection_reason(text: str, tokens: int, finish: str, target: str, f: FilterSection) -> str | None:
    """Why a (verified) sample is not readable enough to keep, or None to keep it."""
    if finish == "length":
        return "truncated"
    if f.require_format and format_reward(text) == 0.0:
        return "format"
    if 1.0 - language_consistency(text, target) > f.max_language_mixing:
        return "language_mixing"
    if tokens < f.min_tokens or (f.max_tokens and tokens > f.max_tokens):
        return "length"
    if repetition_loop(text, f.ngram, f.max_repeats):
        return "repetition"
    return None


def choose(kept: list[tuple[str, int]], cfg: SampleConfig, rng: random.Random) -> list[tuple[str, int]]:
    """Dedup (whitespace-normalised text), then fill the cap by preference."""
    unique = list({" ".join(t.split()): (t, n) for t, n in kept}.values())
    if cfg.prefer == "random":
        rng.shuffle(unique)
    else:
        unique.sort(key=lambda x: x[1], reverse=cfg.prefer == "longest")
    return unique[:cfg.max_per_prompt]


# ----------------------------------------------------------------------------------------- prompts
def prompt_texts(task, problems: list[Problem], tokenizer, template: str, shots: list[SFTExample]) -> list[str]:
    """The prompt of each problem, after the few-shot examples (as earlier turns) when given."""
    texts = []
    for p in problems:
        if template == "r1_zero":
            prefix = "".join(R1_ZERO_TEMPLATE.format(question=_user(s)) + " " + _assistant(s) + "\n\n" for s in shots)
            texts.append(prefix + R1_ZERO_TEMPLATE.format(question=task.prompt(p)))
        elif shots:
            messages = [m for s in shots for m in s.messages]
            content = f"{task.prompt(p)}\n{task.chat_instruction}".strip()
            texts.append(tokenizer.apply_chat_template(messages + [{"role": "user", "content": content}],
                                                       tokenize=False, add_generation_prompt=True))
        else:
            texts.append(render_prompt(template, task.prompt(p), tokenizer, task.chat_instruction))
    return texts


def _user(ex: SFTExample) -> str:
    return next(m["content"] for m in ex.messages if m["role"] == "user")


def _assistant(ex: SFTExample) -> str:
    return next(m["content"] for m in ex.messages if m["role"] == "assistant").strip()


# ------------------------------------------------------------------------------------------- stage
Config = SampleConfig


def run(cfg: SampleConfig, run_dir: Path, resume: bool = False, progress: bool = True) -> dict:
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    dump_yaml(cfg, run_dir / "config.yaml")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    t0 = time.perf_counter()
    task = load_task(cfg.task)
    model, tokenizer = load_model(cfg.model)
    model.eval()
    template = choose_template(cfg.template, tokenizer)
    generator = make_generator(cfg.generator, model, tokenizer)
    shots = read_sft(cfg.few_shot_data)[:cfg.few_shot] if cfg.few_shot else []
    problems = task.problems(cfg.split, cfg.problems, cfg.seed)
    rng = random.Random(f"{cfg.seed}-sample")
    reasons: Counter = Counter()
    examples: list[SFTExample] = []
    for start in range(0, len(problems), cfg.batch_prompts):
        chunk = problems[start:start + cfg.batch_prompts]
        texts = prompt_texts(task, chunk, tokenizer, template, shots)
        ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
        params = SamplingParams(n=cfg.n, max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature,
                                top_p=cfg.top_p, stop=stop_strings(template), seed=cfg.seed * 7919 + start)
        completions = generator.generate(ids, params)
        for i, p in enumerate(chunk):
            kept = []
            for c in completions[i * cfg.n:(i + 1) * cfg.n]:
                verdict = task.verify(p, c.text)
                reason = "unverified" if cfg.filters.require_verified and not verdict.correct else None
                reason = reason or rejection_reason(c.text, len(c.token_ids), c.finish_reason,
                                                    problem_language(p), cfg.filters)
                reasons[reason or "kept"] += 1
                if reason is None:
                    kept.append((c.text.strip(), len(c.token_ids)))
            for text, n_tokens in choose(kept, cfg, rng):
                user = task.prompt(p) if template == "r1_zero" else f"{task.prompt(p)}\n{task.chat_instruction}".strip()
                examples.append(SFTExample(
                    [{"role": "user", "content": user}, {"role": "assistant", "content": text}],
                    {"model": cfg.model, "task": cfg.task, "prompt_id": p.id, "verdict": "correct"
                     if cfg.filters.require_verified else task.verify(p, text).status, "tokens": n_tokens}))
        if progress:
            print(f"sample: {min(start + cfg.batch_prompts, len(problems))}/{len(problems)} prompts, "
                  f"{len(examples)} examples kept", flush=True)
    data_path = run_dir / "data.jsonl"
    write_sft(data_path, examples)
    total = cfg.n * len(problems)
    stats = {"prompts": len(problems), "samples": total, "examples": len(examples),
             "prompts_with_example": len({e.meta["prompt_id"] for e in examples}),
             "outcomes": dict(reasons), "verified_rate": 1 - reasons["unverified"] / total,
             "wall_s": time.perf_counter() - t0, "data": str(data_path)}
    (run_dir / "summary.json").write_text(json.dumps(stats, indent=2) + "\n")
    return stats


def add_arguments(p) -> None:
    """The flags of `r1lab sample` (the CLI made the parser)."""
    p.add_argument("--model", help="HF model dir or hub id, or tiny-base")
    p.add_argument("--task", help="demo, rg:<dataset>, or a math problems file")
    p.add_argument("--out", required=True, help="run directory; the data goes to OUT/data.jsonl")
    p.add_argument("--n", type=int, help="samples per prompt")
    p.add_argument("--problems", type=int, help="number of prompts")
    add_config_flags(p)
    p.set_defaults(run=_run)


def _run(args) -> int:
    cfg = load_config(SampleConfig, args.config, args.overrides, model=args.model, task=args.task, n=args.n,
                      problems=args.problems)
    s = run(cfg, Path(args.out))
    print(f"done: {s['examples']} examples from {s['prompts_with_example']}/{s['prompts']} prompts "
          f"(outcomes {s['outcomes']}); data in {s['data']}")
    return 0
