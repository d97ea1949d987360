"""Reward functions from the user's own files, called the way TRL's GRPOTrainer calls them.

    rewards:
      custom:
        - my_rewards.py:brevity                      # weight 1
        - {function: my_rewards.py:cites_source, weight: 0.5, name: sources}

A reward function takes keyword arguments and returns one float per completion (huggingface/trl,
GRPOTrainer's reward_funcs):

    def brevity(prompts, completions, completion_ids, **kwargs) -> list[float | None]

- `prompts`: the prompt text each completion answers, as the model was given it (template and system
  prompt applied), one per completion (a prompt's G completions repeat it, as in TRL);
- `completions`: the completion texts (plain strings, also under a chat template);
- `completion_ids`: their token ids;
- the dataset's other columns, one list each, one value per completion: `question` and `answer` (the
  task's question and gold answer), then every key of the problem's `meta` (for a .jsonl/.parquet
  math file, its other columns), then, when a task keeps the dataset row itself in `meta["row"]`, that
  row's columns under their own names (they win over the two above).

A function without `**kwargs` is given only the arguments it names. It returns a list (or array) of
one value per completion; `None` means "does not apply to this completion", as in TRL.

What `None` does (r1lab.rewards.combine): the total of a completion is the sum of weight x value over
the components that apply to it, so a `None` adds nothing and the completion keeps its place in its
group's statistics (TRL sums with nansum the same way). A completion to which no weighted component
applies at all gets no total (NaN): it is left out of its group's mean and std and gets advantage 0
(r1lab.rl.advantages), where TRL would give it a total of 0. A NaN (rather than None) means "could not
score": as for any component, the completion's total is then NaN (TRL treats NaN as None). The
component's logged mean, `reward/<name>`, is over the completions it applies to;
`reward_none_rate/<name>` is the share it does not apply to.

Each file is imported once per process, by its absolute path (the config stores it absolute, so a
Ray rollout worker loads the same file; on a multi-node cluster the file must exist at that path on
every node). An exception in a reward function propagates with its traceback: it is the user's code.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from r1lab.errors import ConfigError
from r1lab.types import Completion, Problem
from r1lab.user_code import import_user_file

RESERVED = ("prompts", "completions", "completion_ids")

@dataclass(frozen=True)
class RewardFunction:
    name: str  # the component: logged as reward/<name>
    spec: str  # /absolute/path/file.py:function
    weight: float
    func: Callable[..., Sequence[float | None]]


def load_reward_functions(custom) -> list[RewardFunction]:
    """RewardWeights.custom (r1lab.config.CustomReward entries) -> callables, imported once."""
    return [RewardFunction(c.component, c.function, c.weight, load_function(c.function)) for c in custom]


def load_function(spec: str) -> Callable:
    """'path/to/file.py:name' -> the function `name` defined in that file."""
    path, _, name = spec.rpartition(":")
    module = import_user_file(Path(path), "reward file", ConfigError)
    func = getattr(module, name, None)
    if not callable(func):
        defined = sorted(n for n, v in vars(module).items()
                         if inspect.isfunction(v) and v.__module__ == module.__name__ and not n.startswith("_"))
        raise ConfigError(f"rewards.custom: {path} has no function {name!r} (it defines: "
                          f"{', '.join(defined) or 'no functions'})")
    return func


def reward_columns(problems: list[Problem], completions: list[Completion]) -> dict[str, list[Any]]:
    """The dataset's columns as TRL passes them: one list per column, one value per completion."""
    rows = [problem_columns(problems[c.prompt_index]) for c in completions]
    names = list(dict.fromkeys(k for row in rows for k in row))  # first-seen order
    return {k: [row.get(k) for row in rows] for k in names if k not in RESERVED}


def problem_columns(problem: Problem) -> dict[str, Any]:
    meta = dict(problem.meta)
    row = meta.pop("row", None)
    columns = {"question": problem.question, "answer": problem.answer, **meta}
    if isinstance(row, dict):
        columns |= row
    return columns


def call_reward(fn: RewardFunction, prompts: list[str], completions: list[str], completion_ids: list[list[int]],
                columns: dict[str, list[Any]]) -> list[float | None]:
    """One value per completion: a float, or None where the function does not apply."""
    kwargs: dict[str, Any] = {"prompts": prompts, "completions": completions, "completion_ids": completion_ids,
                              **columns}
    params = inspect.signature(fn.func).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        kwargs = {k: v for k, v in kwargs.items() if k in params}
    values = fn.func(**kwargs)
    return checked_values(fn.spec, values, len(completions))


def checked_values(spec: str, values: Any, n: int) -> list[float | None]:
    if hasattr(values, "tolist"):  # a numpy array or a tensor
        values = values.tolist()
    if not isinstance(values, (list, tuple)):
        raise ConfigError(f"rewards.custom: {spec} returned {type(values).__name__}; a reward function returns a "
                          f"list of one float (or None) per completion")
    if len(values) != n:
        raise ConfigError(f"rewards.custom: {spec} returned {len(values)} values for {n} completions")
    out = []
    for i, v in enumerate(values):
        if v is None:
            out.append(None)
            continue
        if not isinstance(v, (int, float)):
            raise ConfigError(f"rewards.custom: {spec} returned {v!r} for completion {i}; expected a float or None")
        if math.isinf(v):
            raise ConfigError(f"rewards.custom: {spec} returned {v} for completion {i}; rewards must be finite")
        out.append(float(v))
    return out
