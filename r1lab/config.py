"""Typed configuration: pydantic models loaded from YAML, with dotted `--set key=value` overrides.

Every value has one owner. Derived quantities (global batch, accumulation steps) are properties that
are logged, never settable. Unknown keys and wrong types raise ConfigError naming the key.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from r1lab.errors import ConfigError


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RewardWeights(Strict):
    """Weights of the rule-based reward components; combine() sums weight * component."""

    accuracy: float = 1.0
    format: float = 0.2
    language: float = 0.0  # language consistency (R1 stage 2); 0 leaves it out of the total
    partial: float = 0.0  # the task's partial credit (Verdict.score); off by default: it can be gamed


class DistributedConfig(Strict):
    backend: Literal["local", "ray"] = "local"
    rollout_workers: int = Field(1, ge=1)
    trainer_workers: int = Field(1, ge=1)
    address: str = ""  # empty: start a local Ray
    max_staleness: int = Field(0, ge=0)  # 0 = synchronous rollouts


class ZeroConfig(Strict):
    """GRPO from a base model with rule rewards only (R1-Zero). Model and task default to the embedded
    demo; r1lab/recipes/demo.yaml holds the demo's training settings."""

    model: str = "tiny-base"
    task: str = "demo"
    task_options: dict[str, Any] = {}  # passed to the task's make_task, e.g. {test_fraction: 0.2} or an rg dataset's options
    template: Literal["auto", "r1_zero", "chat"] = "auto"  # auto: r1_zero for base models, chat otherwise
    dtype: Literal["float32", "bfloat16"] = "float32"
    generator: Literal["hf", "engine"] = "engine"  # rollouts: r1lab's engine, or transformers' generate
    # Rollouts from a rounded copy of the policy (engine only), which decodes faster where reading the
    # weights bounds decoding (a CPU; benchmarks/NOTES.md has the figures); the update then corrects
    # with PPO's ratio against the copy's logprobs. Held-out evals always sample the float32 policy.
    rollout_precision: Literal["float32", "bfloat16", "int8"] = "float32"
    # The update's forwards and backward under bfloat16 autocast (weights, gradients and optimizer stay
    # float32): faster on CPUs with bfloat16 matmul units (AVX512-BF16, AMX; benchmarks/NOTES.md).
    update_precision: Literal["float32", "bfloat16"] = "float32"
    report_to: list[Literal["tensorboard", "wandb", "mlflow"]] = ["tensorboard"]

    steps: int = Field(150, ge=1)
    prompts_per_step: int = Field(8, ge=1)
    samples_per_prompt: int = Field(8, ge=2)  # G: a group needs two samples, or every advantage is 0
    micro_batch_size: int = Field(32, ge=1)  # sequences per forward pass
    max_new_tokens: int = Field(96, ge=1)
    # Prompts longer than this (tokens, in the template) are left out of the train and held-out sets,
    # with a warning naming how many (verl's filter_overlong_prompts; truncating a question would change
    # it). None: the model's context length minus max_new_tokens.
    max_prompt_length: int | None = Field(None, ge=1)
    temperature: float = Field(1.0, gt=0)
    top_p: float = Field(1.0, gt=0, le=1)
    top_k: int = Field(0, ge=0)  # 0 = off

    learning_rate: float = Field(1e-6, gt=0)  # for pretrained models; the demo recipe sets its own
    weight_decay: float = Field(0.0, ge=0)
    max_grad_norm: float = Field(1.0, gt=0)
    warmup_steps: int = Field(0, ge=0)
    beta: float = Field(0.0, ge=0)  # KL weight; 0 = no reference model at all
    clip_eps_low: float = Field(0.2, ge=0)
    clip_eps_high: float = Field(0.28, ge=0)  # > clip_eps_low is DAPO's clip-higher
    loss: Literal["grpo", "dr_grpo", "dapo"] = "grpo"
    # None = the loss's own convention: "none" for dr_grpo (Liu et al. 2025 drop the std), else "group".
    advantage_scale: Literal["group", "batch", "none"] | None = None
    iterations_per_batch: int = Field(1, ge=1)  # mu in the GRPO paper
    mask_truncated: bool = False  # DAPO overlong filtering: truncated completions get no gradient
    filter_zero_variance: bool = False  # DAPO dynamic sampling, filter-only form

    rewards: RewardWeights = RewardWeights()

    eval_every: int = Field(0, ge=0)  # 0 = only before and after training (demo) / never (zero)
    eval_n: int = Field(4, ge=1)  # samples per held-out problem
    eval_problems: int = Field(64, ge=1)
    eval_temperature: float = Field(0.6, gt=0)  # DeepSeek-R1 evaluation protocol
    eval_top_p: float = Field(0.95, gt=0, le=1)

    train_problems: int = Field(5000, ge=1)  # size of the train split drawn from the task
    log_samples_per_step: int = Field(8, ge=0)  # completions kept in samples.jsonl per step
    save_every: int = Field(25, ge=0)  # checkpoint every N steps (and always at the end)
    save_total_limit: int | None = Field(2, ge=1)  # checkpoint-N directories kept (None: all), as in HF's Trainer
    seed: int = 0
    threads: int = Field(0, ge=0)  # torch intra-op threads; 0 = torch's default

    distributed: DistributedConfig = DistributedConfig()

    @model_validator(mode="after")
    def _check(self) -> ZeroConfig:
        if self.clip_eps_low >= 1:
            raise ValueError("clip_eps_low must be < 1 (the ratio is clipped to [1 - low, 1 + high])")
        if self.rollout_precision != "float32" and self.generator != "engine":
            raise ValueError(f"rollout_precision {self.rollout_precision} needs generator: engine")
        if self.rollout_precision != "float32" and self.distributed.max_staleness > 0:
            raise ValueError("rollout_precision other than float32 needs synchronous rollouts "
                             "(async workers recompute behaviour logprobs in float32)")
        return self

    @property
    def global_batch(self) -> int:
        """Sequences per optimizer step."""
        return self.prompts_per_step * self.samples_per_prompt

    @property
    def accumulation_steps(self) -> int:
        return math.ceil(self.global_batch / self.micro_batch_size)

    @property
    def resolved_advantage_scale(self) -> str:
        if self.advantage_scale is not None:
            return self.advantage_scale
        return "none" if self.loss == "dr_grpo" else "group"

    def derived(self) -> dict[str, Any]:
        return {
            "global_batch": self.global_batch,
            "accumulation_steps": self.accumulation_steps,
            "advantage_scale": self.resolved_advantage_scale,
        }


C = TypeVar("C", bound=BaseModel)


def parse_override(item: str) -> tuple[list[str], Any]:
    """'a.b=3' -> (['a', 'b'], 3). Values are parsed as YAML scalars so types survive."""
    if "=" not in item:
        raise ConfigError(f"--set expects key=value, got {item!r}")
    key, raw = item.split("=", 1)
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set has an empty key in {item!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.split("."), value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    for item in overrides:
        path, value = parse_override(item)
        node = data
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"config key '{part}' in --set {item!r} is not a section")
            node = child
        node[path[-1]] = value
    return data


def _describe(err: ValidationError, source: str) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "<root>"
        if e["type"] == "extra_forbidden":
            lines.append(f"unknown config key '{key}'")
        else:
            lines.append(f"config key '{key}': {e['msg']} (got {e.get('input')!r})")
    return f"{source}: " + "; ".join(lines)


def build_config(cls: type[C], data: dict[str, Any], source: str = "config") -> C:
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_describe(err, source)) from None


def load_yaml(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file not found: {p}")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{p}: invalid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected a mapping of config keys at the top level")
    return data


def load_config(
    cls: type[C], path: str | Path | None = None, overrides: list[str] | None = None, **explicit: Any
) -> C:
    """YAML file (if any), then explicit CLI flags (non-None), then --set overrides, validated once."""
    data: dict[str, Any] = load_yaml(path) if path else {}
    data.update({k: v for k, v in explicit.items() if v is not None})
    apply_overrides(data, overrides or [])
    return build_config(cls, data, source=str(path) if path else "config")


def dump_yaml(config: BaseModel, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
