"""Typed configuration: pydantic models loaded from YAML, with dotted `--set key=value` overrides.

Every value has one owner. Derived quantities (global batch, accumulation steps) are properties that
are logged, never settable. Unknown keys and wrong types raise ConfigError naming the key.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from r1lab.errors import ConfigError

# Which engine samples: r1lab's own, vLLM, or transformers' generate; auto picks vLLM for the models of
# 50M+ parameters it runs and the engine otherwise (r1lab.generation.auto_generator).
GeneratorChoice = Literal["auto", "engine", "vllm", "hf"]
GeneratorKey = Annotated[GeneratorChoice, Field(
    description="r1lab's engine, vLLM (given the trainer's weights after every update), or transformers' generate; "
                "auto: vLLM when installed, for models of 50M parameters or more that it runs, else the engine")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# The four rule components score_completions computes; a custom reward may not take their names.
RULE_COMPONENTS = ("accuracy", "format", "language", "partial")
TEMPLATE_NAMES = ("auto", "r1_zero", "chat")
TEMPLATE_SUFFIXES = (".jinja", ".j2")


def _template_choice(value: str) -> str:
    if value in TEMPLATE_NAMES or value.endswith(TEMPLATE_SUFFIXES):
        return value
    raise ValueError(f"expected auto, r1_zero, chat or a path to a .jinja template file, got {value!r}")


# A prompt template: a built-in name or a Jinja file (r1lab.models.templates renders both).
TemplateChoice = Annotated[str, AfterValidator(_template_choice), WithJsonSchema(
    {"type": "string", "description": "auto | r1_zero | chat | path/to/template.jinja"})]
TemplateKey = Annotated[TemplateChoice, Field(
    description="prompt template: auto (the chat template when the model has one, else r1_zero), r1_zero, chat, "
                "or a .jinja file")]
SystemPromptKey = Annotated[str, Field(
    description="system message (chat, .jinja); under r1_zero it replaces the frame's first line")]


def add_config_flags(parser, config_help: str = "YAML config file") -> None:
    """--config FILE and repeatable --set key=value, which every stage command takes."""
    parser.add_argument("--config", help=config_help)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key (dotted for nested sections); repeatable")


class CustomReward(Strict):
    """A reward function from the user's own file, with TRL's signature (r1lab.rewards.custom)."""

    function: str = Field(description="path/to/file.py:function_name (the path relative to the working directory)")
    weight: float = Field(1.0, description="its weight in the total reward (None returns add nothing)")
    name: str = Field("", description="component name, logged as reward/<name>; empty: the function's name")

    @field_validator("function")
    @classmethod
    def _file_and_function(cls, v: str) -> str:
        path, sep, func = v.rpartition(":")
        if not sep or not path.endswith(".py") or not func.isidentifier():
            raise ValueError(f"expected path/to/file.py:function_name, got {v!r}")
        # Absolute, so that a Ray rollout worker (whatever its working directory) loads the same file.
        return f"{Path(path).expanduser().resolve()}:{func}"

    @property
    def component(self) -> str:
        return self.name or self.function.rpartition(":")[2]


class RewardWeights(Strict):
    """Weights of the reward components; the total is the sum of weight * component over the components
    that apply to a sample (r1lab.rewards.combine)."""

    accuracy: float = Field(1.0, description="binary verdict of the task's verifier (the one eval reports)")
    format: float = Field(0.2, description="1 when the response has the form the prompt asked for, else 0: "
                          "one <think> then one <answer> block (r1_zero), or exactly one \\boxed{} answer (chat)")
    language: float = Field(0.0, description="language consistency of the reasoning (R1 stage 2); 0 leaves it out")
    partial: float = Field(0.0, description="the task's partial credit (Verdict.score); off by default: it can be "
                           "gamed by hedged answers")
    custom: list[CustomReward] = Field(default_factory=list, description="reward functions from your own files, "
                                       "TRL's signature: 'file.py:func' or {function, weight, name}")

    @field_validator("custom", mode="before")
    @classmethod
    def _plain_strings(cls, v):
        items = [v] if isinstance(v, (str, dict)) else v
        return [{"function": item} if isinstance(item, str) else item for item in items or []]

    @model_validator(mode="after")
    def _unique_names(self) -> RewardWeights:
        seen: set[str] = set()
        for c in self.custom:
            if c.component in RULE_COMPONENTS:
                raise ValueError(f"custom reward {c.function} is named '{c.component}', a rule reward's name; "
                                 "give it another with name:")
            if c.component in seen:
                raise ValueError(f"two custom rewards are named '{c.component}'; give one another with name:")
            seen.add(c.component)
        return self

    def weights(self) -> dict[str, float]:
        """Every component's weight, rule rewards and custom rewards alike."""
        rules = {name: getattr(self, name) for name in RULE_COMPONENTS}
        return rules | {c.component: c.weight for c in self.custom}


class LoraSection(Strict):
    """LoRA adapters (Hu et al. 2021) through peft; the saved model has them merged in."""

    enabled: bool = Field(False, description="train LoRA adapters instead of every weight")
    r: int = Field(8, ge=1, description="adapter rank")
    alpha: float = Field(16.0, gt=0, description="scaling numerator: the update is (alpha / r) * B @ A")
    dropout: float = Field(0.0, ge=0, lt=1, description="dropout on the adapter input (SFT only: GRPO needs 0)")
    target_modules: list[str] = Field(["q_proj", "k_proj", "v_proj", "o_proj"],
                                      description="names of the Linear modules that get adapters")


class DistributedConfig(Strict):
    """Where rollouts and updates run: this process, or Ray actors."""

    backend: Literal["local", "ray"] = Field("local", description="local: one process; ray: Ray actors")
    rollout_workers: int = Field(1, ge=1, description="Ray actors that generate and score rollouts")
    trainer_workers: int = Field(1, ge=1, description="data-parallel trainer ranks (Ray actors) when > 1")
    address: str = Field("", description="Ray cluster address; empty: start a local Ray")
    max_staleness: int = Field(0, ge=0, description="how many updates rollouts may lag the trainer; 0 = synchronous")


# The task of the embedded tiny base (r1lab/assets/tiny-base, pretrained on r1lab/models/signs_corpus.py's
# searches): the default of every stage that names a task.
DEFAULT_TASK = "signs"
# The completion budget of every stage that samples for training or selection (zero, rl, sample,
# compare, and the base build's model-card evaluation), sized for the default task on the embedded base: a search of up to four guesses, each worked
# out and checked, which RL makes longer (benchmarks/NOTES.md has the lengths the demo reaches); cut
# shorter, the longest searches would be scored as truncated. Held-out evals have their own, longer
# budget (r1lab/stages/eval.py).
DEFAULT_MAX_NEW_TOKENS = 160


class ZeroConfig(Strict):
    """GRPO from a base model with rule rewards only (R1-Zero). Model and task default to the embedded
    demo; r1lab/recipes/demo.yaml holds the demo's training settings."""

    model: str = Field("tiny-base", description="HF model directory or hub id, or tiny-base / smollm2-135m")
    task: str = Field(DEFAULT_TASK, description="signs, demo, humaneval, rg:<reasoning-gym dataset>, code:<file>, hf:<dataset>, "
                      "a .jsonl/.json/.parquet/.csv math problems file, or your_task.py")
    task_options: dict[str, Any] = Field(default_factory=dict, description="options passed to the task's "
                                         "make_task, e.g. question_field, answer_field, test_fraction")
    template: TemplateKey = "auto"
    system_prompt: SystemPromptKey = ""
    dtype: Literal["float32", "bfloat16"] = Field("float32", description="dtype the policy is loaded in")
    generator: GeneratorKey = "auto"
    # Where reading the weights bounds decoding (a CPU), a rounded copy decodes faster; the update then
    # corrects with PPO's ratio against the copy's logprobs (benchmarks/NOTES.md has the figures).
    rollout_precision: Literal["float32", "bfloat16", "int8"] = Field(
        "float32", description="rollouts from a rounded copy of the policy (int8: engine only; bfloat16: engine "
        "or vLLM); held-out evals always sample float32")
    rollout_correction: Literal["none", "tis", "mis"] = Field(
        "none", description="rollouts from another engine (vLLM, a rounded copy): none takes PPO's ratio against "
        "the sampler's logprobs; tis weights each token by min(trainer/sampler, cap); mis drops tokens whose "
        "ratio leaves [1/cap, cap]")
    rollout_correction_level: Literal["token", "sequence"] = Field(
        "token", description="the ratio of each token, or of each sequence (the product of its tokens')")
    rollout_correction_cap: float = Field(2.0, gt=1, description="C, the bound of the correction's ratio")
    update_precision: Literal["float32", "bfloat16"] = Field(
        "float32", description="bfloat16: the update's forward and backward under autocast (weights, gradients "
        "and optimizer stay float32)")
    report_to: list[Literal["tensorboard", "wandb", "mlflow"]] = Field(
        ["tensorboard"], description="trackers besides metrics.jsonl: a name, a list, or none")
    lora: LoraSection = Field(default_factory=LoraSection, description="LoRA adapters instead of full fine-tuning")
    gradient_checkpointing: bool = Field(False, description="recompute activations in the backward pass: less "
                                         "memory, more time")

    steps: int = Field(150, ge=1, description="optimizer steps (one batch of prompts each)")
    prompts_per_step: int = Field(8, ge=1, description="prompts drawn per step")
    # A group needs two samples, or every advantage is 0.
    samples_per_prompt: int = Field(8, ge=2, description="G: completions sampled per prompt (one group)")
    micro_batch_size: int = Field(32, ge=1, description="sequences per forward pass in the update")
    max_new_tokens: int = Field(DEFAULT_MAX_NEW_TOKENS, ge=1, description="longest completion, in tokens")
    # verl's filter_overlong_prompts: truncating a question would change it.
    max_prompt_length: int | None = Field(None, ge=1, description="prompts longer than this (tokens) are left out, "
                                          "with a warning; null: the model's context minus max_new_tokens")
    temperature: float = Field(1.0, gt=0, description="sampling temperature of rollouts (and of the update's "
                               "logprobs)")
    top_p: float = Field(1.0, gt=0, le=1, description="nucleus sampling of rollouts")
    top_k: int = Field(0, ge=0, description="top-k sampling of rollouts; 0 = off")

    learning_rate: float = Field(1e-6, gt=0, description="AdamW learning rate (for pretrained models; the demo "
                                 "recipe sets its own)")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay")
    max_grad_norm: float = Field(1.0, gt=0, description="gradient clipping norm")
    warmup_steps: int = Field(0, ge=0, description="linear learning-rate warm-up, in steps")
    beta: float = Field(0.0, ge=0, description="KL weight against the starting model; 0 = no reference model")
    clip_eps_low: float = Field(0.2, ge=0, description="PPO clip: the ratio is kept >= 1 - clip_eps_low")
    clip_eps_high: float = Field(0.28, ge=0, description="PPO clip: ratio <= 1 + clip_eps_high (> low is DAPO's "
                                 "clip-higher)")
    loss: Literal["grpo", "dr_grpo", "dapo"] = Field("grpo", description="token-loss normaliser: grpo (per "
                                                     "sequence), dr_grpo (constant), dapo (per token)")
    advantage_scale: Literal["group", "batch", "none"] | None = Field(
        None, description="divide advantages by the group's std, the batch's, or not; null: none for dr_grpo, "
        "else group")
    iterations_per_batch: int = Field(1, ge=1, description="mu: updates per batch of rollouts (GRPO paper)")
    mask_truncated: bool = Field(False, description="DAPO overlong filtering: truncated completions get no gradient")
    filter_zero_variance: bool = Field(False, description="DAPO dynamic sampling (filter only): groups whose "
                                       "rewards are all equal get no gradient")

    rewards: RewardWeights = Field(default_factory=RewardWeights, description="reward components and their weights")

    eval_every: int = Field(0, ge=0, description="held-out eval every N steps (and before and after); 0 = only "
                            "the demo's before/after")
    eval_n: int = Field(4, ge=1, description="samples per held-out problem")
    eval_problems: int = Field(64, ge=1, description="held-out problems per eval")
    eval_temperature: float = Field(0.6, gt=0, description="held-out sampling temperature (R1's protocol: 0.6)")
    eval_top_p: float = Field(0.95, gt=0, le=1, description="held-out nucleus sampling (R1's protocol: 0.95)")

    train_problems: int = Field(5000, ge=1, description="size of the train split drawn from the task")
    log_samples_per_step: int = Field(8, ge=0, description="completions kept in samples.jsonl per step")
    save_every: int = Field(25, ge=0, description="checkpoint every N steps (and always at the end); 0 = only at "
                            "the end")
    save_total_limit: int | None = Field(2, ge=1, description="checkpoint-N directories kept; null = all (as HF's "
                                         "Trainer)")
    seed: int = Field(0, description="seed of prompt draws, sampling and initialisation")
    threads: int = Field(0, ge=0, description="torch intra-op threads; 0 = torch's default")

    distributed: DistributedConfig = Field(default_factory=DistributedConfig, description="Ray rollout workers "
                                           "and trainer ranks")

    @field_validator("report_to", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        """TRL's habit: report_to: wandb (one name), or none."""
        if isinstance(v, str):
            return [] if v == "none" else [v]
        return v

    @model_validator(mode="after")
    def _check(self) -> ZeroConfig:
        if self.clip_eps_low >= 1:
            raise ValueError("clip_eps_low must be < 1 (the ratio is clipped to [1 - low, 1 + high])")
        if self.rollout_precision == "int8" and self.generator not in ("engine", "auto"):
            raise ValueError("rollout_precision int8 needs generator: engine")
        if self.rollout_precision == "bfloat16" and self.generator == "hf":
            raise ValueError("rollout_precision bfloat16 needs generator: engine or vllm")
        if self.rollout_correction != "none" and self.distributed.max_staleness > 0:
            raise ValueError("rollout_correction tis/mis needs synchronous rollouts: async workers' logprobs are "
                             "the trainer's own at older weights, and PPO's ratio against them is the correction")
        if self.rollout_precision != "float32" and self.distributed.max_staleness > 0:
            raise ValueError("rollout_precision other than float32 needs synchronous rollouts "
                             "(async workers recompute behaviour logprobs in float32)")
        if self.lora.enabled and self.lora.dropout:
            raise ValueError("lora.dropout must be 0 in GRPO: dropout makes the sampler's and the trainer's "
                             "logprobs of the same weights differ")
        if self.lora.enabled and self.distributed.trainer_workers > 1:
            raise ValueError("lora.enabled with distributed.trainer_workers > 1 is not supported yet")
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


# ------------------------------------------------------------------------------- the key reference
# One source for `r1lab STAGE --help`, `r1lab config STAGE` and docs/config.md: the config models
# themselves (each field's type, default and description).
REQUIRED = object()  # the default of a key that has none


@dataclass(frozen=True)
class KeyDoc:
    key: str  # dotted: rewards.accuracy; a list of sections' item keys: rewards.custom[].weight
    type: str
    default: Any  # a JSON value, or REQUIRED
    description: str
    section: bool = False  # a nested section (its keys follow it)


def _section_model(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _item_model(annotation: Any) -> type[BaseModel] | None:
    """The section model of a list of sections (list[CustomReward] -> CustomReward)."""
    if get_origin(annotation) is list:
        args = get_args(annotation)
        return _section_model(args[0]) if args else None
    return None


def _type_name(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return " | ".join(str(a) for a in args)
    if origin in (Union, UnionType):
        return " | ".join("null" if a is type(None) else _type_name(a) for a in args)
    if origin is list:
        item = args[0] if args else Any
        return f"list of {{{', '.join(_section_model(item).model_fields)}}}" if _section_model(item) else \
            f"list[{_type_name(item)}]"
    if origin is dict:
        return "mapping"
    if _section_model(annotation):
        return "section"
    return getattr(annotation, "__name__", str(annotation))


def _bounds(field: FieldInfo) -> str:
    marks = []
    for m in field.metadata:
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            if getattr(m, attr, None) is not None:
                marks.append(f"{sign} {getattr(m, attr)}")
    return (" " + ", ".join(marks)) if marks else ""


def _field_type(field: FieldInfo) -> str:
    for m in field.metadata:
        if isinstance(m, WithJsonSchema) and m.json_schema and "description" in m.json_schema:
            return m.json_schema["description"]
    name = _type_name(field.annotation)
    if name.endswith(" | null"):  # the bounds are the number's: int >= 1 | null
        return name.removesuffix(" | null") + _bounds(field) + " | null"
    return name + _bounds(field)


def key_docs(cls: type[BaseModel], prefix: str = "") -> list[KeyDoc]:
    """Every key of a config model, nested sections flattened to dotted keys, in declaration order."""
    rows: list[KeyDoc] = []
    for name, field in cls.model_fields.items():
        key = f"{prefix}{name}"
        description = (field.description or "").strip()
        default = REQUIRED if field.is_required() else field.get_default(call_default_factory=True)
        if isinstance(default, BaseModel):
            default = default.model_dump(mode="json")
        elif isinstance(default, list):
            default = [d.model_dump(mode="json") if isinstance(d, BaseModel) else d for d in default]
        section, item = _section_model(field.annotation), _item_model(field.annotation)
        rows.append(KeyDoc(key, _field_type(field), default, description, section=section is not None))
        if section is not None:
            rows += key_docs(section, f"{key}.")
        elif item is not None:
            rows += key_docs(item, f"{key}[].")
    return rows


def undocumented(cls: type[BaseModel]) -> list[str]:
    """The keys of `cls` (nested ones dotted) that have no description: the reference test fails on any."""
    return [doc.key for doc in key_docs(cls) if not doc.description]


def resolve_key(cls: type[BaseModel], dotted: str) -> bool:
    """Whether a dotted key (`rewards.custom[].weight`) names a key of `cls`."""
    return any(doc.key == dotted for doc in key_docs(cls))


def _yaml_value(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False).strip()
    return text.removesuffix("...").strip()


def _default_text(doc: KeyDoc) -> str:
    return "required" if doc.default is REQUIRED else _yaml_value(doc.default)


def help_text(cls: type[BaseModel], stage: str) -> str:
    """The key list `r1lab STAGE --help` ends with."""
    lines = [f"config keys (set them in a --config YAML file or with --set KEY=VALUE; `r1lab config {stage}` "
             "prints them all as a YAML file to start from):"]
    for doc in key_docs(cls):
        if doc.section:
            lines.append(f"  {doc.key}.*: {doc.description}")
            continue
        lines.append(f"  {doc.key} ({doc.type}; default {_default_text(doc)})")
        lines += textwrap.wrap(doc.description, 100, initial_indent="      ", subsequent_indent="      ")
    return "\n".join(lines)


def default_yaml(cls: type[BaseModel], stage: str, values: BaseModel | None = None) -> str:
    """A complete YAML config of `cls` with every key's meaning as a comment: its defaults, or the
    settings of `values` (a recipe) where given."""
    head = [f"# r1lab {stage}: every config key, with its meaning (docs/config.md has the same reference).",
            f"# Edit what you need, then: r1lab {stage} --config this.yaml ..."]
    current = values.model_dump(mode="json") if values is not None else None
    return "\n".join(head + _yaml_lines(cls, 0, current)) + "\n"


def _yaml_lines(cls: type[BaseModel], depth: int, values: dict | None) -> list[str]:
    lines, pad = [], "  " * depth
    for doc in key_docs(cls):
        if "." in doc.key:
            continue  # written by the section's own recursion below
        field = cls.model_fields[doc.key]
        comment = f"  # {doc.description}" if doc.description else ""
        section = _section_model(field.annotation)
        value = values[doc.key] if values is not None else doc.default
        if section is not None:
            lines.append(f"{pad}{doc.key}:{comment}")
            lines += _yaml_lines(section, depth + 1, value if values is not None else None)
        elif value is REQUIRED:
            lines.append(f"{pad}{doc.key}: null{comment.replace('# ', '# required: ', 1) or '  # required'}")
        else:
            lines.append(f"{pad}{doc.key}: {_yaml_value(value)}{comment}")
    return lines


def markdown_reference(stages: dict[str, tuple[type[BaseModel], str]]) -> str:
    """docs/config.md: one table per stage (name -> (Config, one-line help)), then TRL's names."""
    out = ["# Configuration reference", "",
           "Generated from the config models by `r1lab config --markdown` (a test checks that it is current). "
           "Every stage reads a YAML file (`--config FILE`) and dotted overrides (`--set key=value`, "
           "`--set rewards.format=0.5`); `r1lab config STAGE` prints a complete YAML file with these defaults, "
           "and `r1lab STAGE --help` lists the same keys. Unknown keys and wrong types are errors that name "
           "the key. `r1lab demo` takes zero's keys, with r1lab/recipes/demo.yaml's values as its defaults "
           "(`r1lab config demo`); a pipeline stage's `config:` takes the keys of its stage.", ""]
    out += ["Contents: " + ", ".join(f"[{name}](#{name})" for name in stages) + ", [TRL's GRPOConfig names]"
            "(#trls-grpoconfig-names-in-r1lab)", ""]
    for name, (cls, summary) in stages.items():
        out += [f"## {name}", "", f"`r1lab {name}`: {summary}", "", "| key | type | default | meaning |",
                "|---|---|---|---|"]
        for doc in key_docs(cls):
            default = "" if doc.section else "`" + _default_text(doc).replace("|", "\\|") + "`"
            kind = "section" if doc.section else doc.type
            out.append(f"| `{doc.key}` | {_cell(kind)} | {default} | {_cell(doc.description)} |")
        out.append("")
    out += ["## TRL's GRPOConfig names in r1lab", "",
            "For `r1lab zero` (and `r1lab rl`, under `grpo.`). Names from TRL's `GRPOConfig` and "
            "`GRPOTrainer` (huggingface/trl, `trl/trainer/grpo_config.py`).", "",
            "| TRL | r1lab | note |", "|---|---|---|"]
    for trl, ours, note in TRL_GRPO_NAMES:
        name, _, where = trl.partition(" (")  # "model (GRPOTrainer)": an argument of the trainer
        trl_cell = f"`{name}`" + (f" ({_cell(where)}" if where else "")
        out.append(f"| {trl_cell} | {f'`{ours}`' if ours else '(none)'} | {_cell(note)} |")
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    """Table-cell text: pipes escaped, and <tags> kept visible (Markdown would take them for HTML)."""
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


# (TRL name, r1lab key or CLI flag, note): how a GRPOTrainer script's settings read in r1lab.
TRL_GRPO_NAMES: list[tuple[str, str, str]] = [
    ("model (GRPOTrainer)", "model", "a directory, hub id, tiny-base or smollm2-135m"),
    ("train_dataset (GRPOTrainer)", "task", "a .jsonl/.parquet file with question/answer columns (task_options "
     "names others), rg:<dataset>, or a task name"),
    ("reward_funcs (GRPOTrainer)", "rewards.custom", "your functions, same signature; the task's accuracy and "
     "format rewards are added by r1lab (set their weights to 0 to leave them out)"),
    ("reward_weights", "rewards.custom[].weight", "one weight per function; rule rewards have rewards.accuracy, "
     "rewards.format"),
    ("num_generations", "samples_per_prompt", "G, the group size"),
    ("per_device_train_batch_size", "micro_batch_size", "sequences per forward pass"),
    ("gradient_accumulation_steps", "prompts_per_step", "r1lab sets the batch in prompts per optimizer step; "
     "accumulation = prompts_per_step * samples_per_prompt / micro_batch_size is derived (derived.yaml)"),
    ("max_completion_length", "max_new_tokens", ""),
    ("max_prompt_length", "max_prompt_length", "longer prompts are left out with a warning, not truncated"),
    ("temperature", "temperature", ""),
    ("top_p", "top_p", ""),
    ("top_k", "top_k", "0 = off in both"),
    ("learning_rate", "learning_rate", "both default to 1e-6"),
    ("weight_decay", "weight_decay", ""),
    ("max_grad_norm", "max_grad_norm", ""),
    ("warmup_steps", "warmup_steps", "r1lab's schedule is a linear warm-up, then constant"),
    ("max_steps / num_train_epochs", "steps", "optimizer steps"),
    ("beta", "beta", "0 (both defaults): no reference model"),
    ("num_iterations", "iterations_per_batch", "mu"),
    ("epsilon", "clip_eps_low", "0.2 in both"),
    ("epsilon_high", "clip_eps_high", "TRL defaults to epsilon; r1lab to 0.28 (DAPO's clip-higher)"),
    ("scale_rewards", "advantage_scale", "true / group -> group, batch -> batch, false / none -> none"),
    ("loss_type", "loss", "grpo, dr_grpo, dapo; TRL defaults to dapo, r1lab to grpo; TRL's bnpo, cispo and sapo "
     "have no counterpart"),
    ("mask_truncated_completions", "mask_truncated", ""),
    ("disable_dropout", "", "always on in r1lab: dropout is disabled in the policy"),
    ("peft_config (GRPOTrainer)", "lora.enabled", "with lora.r (r), lora.alpha (lora_alpha), lora.target_modules"),
    ("gradient_checkpointing", "gradient_checkpointing", "TRL defaults to true, r1lab to false"),
    ("bf16", "update_precision", "bfloat16 autocast in the update; dtype loads the weights in bfloat16"),
    ("use_vllm", "generator", "vllm (auto picks it for models of 50M+ parameters it runs), engine, or hf "
     "(transformers' generate)"),
    ("vllm_importance_sampling_correction", "rollout_correction", "TRL: on by default with vLLM; r1lab: none"),
    ("vllm_importance_sampling_mode", "rollout_correction_level", "token_/sequence_ x truncate (tis) / mask (mis)"),
    ("vllm_importance_sampling_cap", "rollout_correction_cap", ""),
    ("report_to", "report_to", "a name, a list, or none"),
    ("logging_steps", "", "every step is logged to RUN/metrics.jsonl"),
    ("log_completions", "log_samples_per_step", "completions kept per step in RUN/samples.jsonl"),
    ("save_steps", "save_every", ""),
    ("save_total_limit", "save_total_limit", ""),
    ("output_dir", "--out", "the run directory (a CLI flag)"),
    ("eval_strategy / eval_steps", "eval_every", "held-out pass@1 with its 95% interval"),
    ("seed", "seed", ""),
    ("system message (conversational dataset)", "system_prompt", ""),
    ("chat_template (processing_class)", "template", "a .jinja file, or chat for the tokenizer's own"),
]
