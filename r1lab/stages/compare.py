"""Several models side by side on the same held-out problems, one row each: the R1 paper's comparison
table in miniature.

Every model gets the same problems, the same sampling settings and the same seeds (R1's protocol:
temperature 0.6, top-p 0.95, n samples per problem, pass@1 as the mean over samples), scored by the
task's own verifier. Per row: pass@1 with a bootstrap 95% interval over problems, mean response
length in tokens, the format-valid rate and the language-mixing rate (share of responses whose
reasoning has a word outside the prompt's language) with its bootstrap 95% interval over problems,
like pass@1's. Written to RUN/table.json as {"rows": [...]}.

Language mixing is measured on the pass@1 samples, or, with `mixing_temperature`, on a second set of
`mixing_n` samples per problem drawn at that temperature with top-p 1.0. R1-Zero's mixing was seen in
its RL rollouts (DeepSeek-AI 2025, section 2.3.2), which sample at temperature 1.0; a small model's
rare drifts into a second script do not surface at 0.6, where the table's accuracy is measured.

`differences` names row pairs (a, b) to compare head to head: a's per-problem value minus b's on the
same problems, for pass@1 and language mixing, with a paired bootstrap 95% interval. Two rows'
intervals can overlap while the paired difference is clearly on one side of zero (the problems'
difficulty is shared, so it cancels), and the other way round.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from pydantic import Field, field_validator

from r1lab.config import (
    DEFAULT_MAX_NEW_TOKENS,
    DEFAULT_TASK,
    GeneratorKey,
    Strict,
    SystemPromptKey,
    TemplateKey,
    add_config_flags,
    load_config,
)
from r1lab.evaluation.metrics import mean_with_ci
from r1lab.evaluation.runner import encode_prompts, evaluate_problems, summarize
from r1lab.generation import make_generator
from r1lab.models.loading import load_model
from r1lab.models.templates import format_rule, prompt_format, stop_strings
from r1lab.rewards.language import mixes_languages, problem_language
from r1lab.rewards.signals import reflection_words_per_1k
from r1lab.tasks import load_task


class CompareConfig(Strict):
    models: dict[str, str] = Field(default_factory=dict, description="row name -> model (directory, hub id, "
                                   "tiny-base)")
    task: str = Field(DEFAULT_TASK, description="signs, demo, rg:<reasoning-gym dataset>, or a .jsonl/.parquet math "
                      "problems file")
    problems: int = Field(64, ge=1, description="held-out problems")
    n: int = Field(4, ge=1, description="samples per problem")
    max_new_tokens: int = Field(DEFAULT_MAX_NEW_TOKENS, ge=1, description="longest completion, in tokens")
    temperature: float = Field(0.6, gt=0, description="sampling temperature (R1's protocol: 0.6)")
    top_p: float = Field(0.95, gt=0, le=1, description="nucleus sampling (R1's protocol: 0.95)")
    template: TemplateKey = "auto"
    system_prompt: SystemPromptKey = ""
    generator: GeneratorKey = "auto"
    seed: int = Field(0, description="sampling seed, the same for every model")
    mixing_temperature: float | None = Field(None, gt=0, description="measure language mixing on separate samples "
                                             "at this temperature (top-p 1.0); null: on the pass@1 samples")
    mixing_n: int = Field(8, ge=1, description="samples per problem for language mixing (with mixing_temperature)")
    differences: list[tuple[str, str]] = Field(default_factory=list, description="row pairs [a, b]: a minus b per "
                                               "problem, pass@1 and language mixing, with a paired 95% interval")

    @field_validator("differences")
    @classmethod
    def _differences_name_rows(cls, pairs, info):
        models = info.data.get("models", {})
        unknown = sorted({name for pair in pairs for name in pair} - set(models))
        if unknown:
            raise ValueError(f"{', '.join(unknown)} not among the models ({', '.join(models) or 'none'})")
        return pairs


def evaluate_model(model_path: str, cfg: CompareConfig, task, problems) -> tuple[dict, dict[str, list[float]]]:
    """The row of one model, and its per-problem pass@1 and mixing (for paired differences)."""
    model, tokenizer = load_model(model_path)
    model.eval()
    template = prompt_format(cfg.template, tokenizer, cfg.system_prompt)
    results = evaluate_problems(
        make_generator(cfg.generator, model, tokenizer), task, problems, encode_prompts(tokenizer, task, problems, template),
        n=cfg.n, temperature=cfg.temperature, top_p=cfg.top_p, max_new_tokens=cfg.max_new_tokens,
        stop=stop_strings(template), seed=cfg.seed + 7919,
    )
    texts = [t for r in results for t in r.texts]
    mixed = results
    if cfg.mixing_temperature is not None:
        mixed = evaluate_problems(
            make_generator(cfg.generator, model, tokenizer), task, problems,
            encode_prompts(tokenizer, task, problems, template), n=cfg.mixing_n, temperature=cfg.mixing_temperature,
            top_p=1.0, max_new_tokens=cfg.max_new_tokens, stop=stop_strings(template), seed=cfg.seed + 104729,
        )
    # Per problem: the share of its samples that mix languages; the mean over problems is the rate.
    per_problem = {"pass@1": [r.pass1 for r in results],
                   "language_mixing_rate": [sum(mixes_languages(t, problem_language(r.problem)) for t in r.texts)
                                            / len(r.texts) for r in mixed]}
    mixing = mean_with_ci(per_problem["language_mixing_rate"], seed=cfg.seed)
    row = {
        **summarize(results, format_rule(template)),
        "language_mixing_rate": mixing["mean"], "language_mixing_rate_ci95": mixing["ci95"],
        "language_mixing_samples": sum(len(r.texts) for r in mixed),
        "reflection_words_per_1k": reflection_words_per_1k(texts),
        "parameters": sum(p.numel() for p in model.parameters()),
        "problems": len(results), "samples_per_problem": cfg.n,
    }
    return row, per_problem


def paired_differences(pairs: list[tuple[str, str]], per_problem: dict[str, dict[str, list[float]]],
                       seed: int = 0) -> list[dict]:
    """For each (a, b): a's per-problem values minus b's, averaged, with a bootstrap 95% interval that
    resamples problems, keeping each problem's pair together."""
    out = []
    for a, b in pairs:
        entry = {"a": a, "b": b}
        for metric in ("pass@1", "language_mixing_rate"):
            diff = mean_with_ci([x - y for x, y in zip(per_problem[a][metric], per_problem[b][metric], strict=True)],
                                seed=seed)
            entry[metric], entry[f"{metric}_ci95"] = diff["mean"], diff["ci95"]
        out.append(entry)
    return out


Config = CompareConfig


def run(cfg: CompareConfig, run_dir: Path, resume: bool = False, progress: bool = True) -> dict:
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    task = load_task(cfg.task)
    problems = task.problems("test", cfg.problems, cfg.seed)
    rows, per_problem = [], {}
    for name, path in cfg.models.items():
        torch.manual_seed(cfg.seed)
        evaluated, per_problem[name] = evaluate_model(path, cfg, task, problems)
        row = {"model": name, "path": path, **evaluated}
        rows.append(row)
        if progress:
            print(f"compare: {name}: pass@1 {row['pass@1']:.3f}", flush=True)
    protocol = ("problems", "n", "temperature", "top_p", "max_new_tokens", "seed", "mixing_temperature", "mixing_n")
    table = {"rows": rows, "differences": paired_differences(cfg.differences, per_problem, cfg.seed),
             "task": cfg.task, "protocol": {k: getattr(cfg, k) for k in protocol}}
    (run_dir / "table.json").write_text(json.dumps(table, indent=2) + "\n")
    (run_dir / "summary.json").write_text(json.dumps(table, indent=2) + "\n")
    return table


def with_ci(value: float, ci: list[float] | None) -> str:
    return f"{value:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def format_table(table: dict) -> str:
    mixing_temperature = table.get("protocol", {}).get("mixing_temperature")
    where = f" at temperature {mixing_temperature:g}" if mixing_temperature is not None else ""
    lines = [f"| model | held-out pass@1 [95% CI] | mean length | format-valid | language mixing{where} [95% CI] |",
             "|---|---|---|---|---|"]
    for r in table["rows"]:
        lines.append(f"| {r['model']} | {with_ci(r['pass@1'], r['pass@1_ci95'])} | {r['response_length_mean']:.1f} | "
                     f"{r['format_rate']:.3f} | {with_ci(r['language_mixing_rate'], r.get('language_mixing_rate_ci95'))} |")
    for d in table.get("differences", []):
        lines.append(f"\n{d['a']} minus {d['b']}, per problem (paired 95% CI): "
                     f"pass@1 {with_ci(d['pass@1'], d['pass@1_ci95'])}; "
                     f"language mixing {with_ci(d['language_mixing_rate'], d['language_mixing_rate_ci95'])}")
    return "\n".join(lines)


def add_arguments(p) -> None:
    """The flags of `r1lab compare` (the CLI made the parser)."""
    p.add_argument("models", nargs="*", metavar="NAME=MODEL", help="row name and model dir / id")
    p.add_argument("--task", help="demo, rg:<dataset>, or a math problems file")
    p.add_argument("--out", required=True, help="run directory; the table goes to OUT/table.json")
    add_config_flags(p)
    p.set_defaults(run=_run)


def _run(args) -> int:
    models = dict(m.split("=", 1) if "=" in m else (m, m) for m in args.models) or None
    cfg = load_config(CompareConfig, args.config, args.overrides, task=args.task, models=models)
    print(format_table(run(cfg, Path(args.out))))
    return 0
