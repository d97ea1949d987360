"""The model card (README.md) every training stage writes next to the weights in final_model/, where
Hugging Face tools and the hub look for it: base model, data, recipe and held-out results, with
metadata front matter in the hub's model-card format."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

# A hub id (org/name); local directories and r1lab's built-in names are described in the text only.
HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def write_model_card(model_dir: str | Path, *, stage: str, base_model: str, data: str | list[str],
                     recipe: dict[str, Any], results: str, run_dir: str | Path | None = None) -> Path:
    """Write model_dir/README.md. `recipe`: the settings that define the run (name -> value);
    `results`: markdown (a table of held-out results, or why there is none)."""
    model_dir = Path(model_dir)
    meta: dict[str, Any] = {"library_name": "transformers", "tags": ["r1lab", stage]}
    if HUB_ID_RE.match(base_model) and not Path(base_model).exists():
        meta["base_model"] = base_model
    data_text = ", ".join(f"`{d}`" for d in ([data] if isinstance(data, str) else data)) or "(none)"
    settings = "\n".join(f"| `{k}` | `{_value(v)}` |" for k, v in recipe.items())
    where = f" The run directory `{run_dir}` holds the full config.yaml, metrics and samples." if run_dir else ""
    text = f"""---
{yaml.safe_dump(meta, sort_keys=False).strip()}
---

# {model_dir.parent.name or model_dir.name}: r1lab {stage}

Trained with r1lab's `{stage}` stage from `{base_model}`.{where}

- **Base model:** `{base_model}`
- **Data:** {data_text}

## Recipe

| setting | value |
|---|---|
{settings}

## Held-out results

{results.strip()}

## Use

```python
from transformers import AutoModelForCausalLM, AutoTokenizer

model = AutoModelForCausalLM.from_pretrained("{model_dir}")
tokenizer = AutoTokenizer.from_pretrained("{model_dir}")
```

Evaluate it as the paper does: `r1lab eval --model {model_dir} --benchmark gsm8k`.
"""
    path = model_dir / "README.md"
    path.write_text(text)
    return path


def eval_results(rows: list[tuple[str, dict[str, Any] | None]]) -> str:
    """A markdown table of held-out evals (r1lab.evaluation.runner.summarize rows: pass@1 with its 95%
    interval `pass@1_ci95`), or a sentence."""
    rows = [(label, r) for label, r in rows if r]
    if not rows:
        return "No held-out evaluation ran during training (set `eval_every` > 0, or run `r1lab eval`)."
    lines = ["| model | pass@1 [95% CI] | format-valid | mean length (tokens) |", "|---|---|---|---|"]
    for label, r in rows:
        lo, hi = r.get("pass@1_ci95") or (None, None)
        interval = f" [{lo:.3f}, {hi:.3f}]" if lo is not None else ""
        lines.append(f"| {label} | {r.get('pass@1', float('nan')):.3f}{interval} | "
                     f"{r.get('format_rate', float('nan')):.3f} | {r.get('response_length_mean', float('nan')):.1f} |")
    return "\n".join(lines)


def _value(v: Any) -> str:
    if isinstance(v, (dict, list)):
        return yaml.safe_dump(v, default_flow_style=True, width=10**6, sort_keys=False).strip()
    return str(v)
