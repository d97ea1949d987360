"""Tasks. A Task owns its problems (seeded train / held-out splits), its prompt text, answer extraction
and verify(); training rewards and eval both call the same verify().

Adding a task is adding a file: `--task NAME` imports `r1lab.tasks.NAME` and calls its
`make_task(spec, **options)`. Two spellings are resolved before that: `rg:<dataset>` (reasoning-gym)
and a path to a .jsonl/.parquet file (math problems).
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from r1lab.types import Problem, Verdict

Split = Literal["train", "test"]


@runtime_checkable
class Task(Protocol):
    name: str
    # Instruction appended to the question for chat models (R1's protocol asks for \boxed{}).
    chat_instruction: str

    def problems(self, split: Split, n: int, seed: int) -> list[Problem]: ...

    def prompt(self, problem: Problem) -> str: ...

    def extract(self, response: str) -> str | None: ...

    def verify(self, problem: Problem, response: str) -> Verdict: ...


class UnknownTaskError(ValueError):
    pass


def available_tasks() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def load_task(spec: str, **options: Any) -> Task:
    """Resolve a task spec: 'rg:countdown', 'path/to/file.jsonl', or a module name like 'demo'."""
    if spec.startswith("rg:"):
        module_name = "reasoning_gym_task"
    elif spec.startswith("code:"):
        module_name = "code_file"  # code:path/to/problems.jsonl (users' own code problems)
    elif spec.endswith((".jsonl", ".parquet", ".json")) or "/" in spec:
        module_name = "math_file"
    else:
        module_name = spec
        if module_name not in available_tasks():
            raise UnknownTaskError(
                f"unknown task {spec!r}: known tasks are {', '.join(available_tasks())}, "
                "'rg:<reasoning-gym dataset>' or a .jsonl/.parquet file of math problems"
            )
    module = importlib.import_module(f"r1lab.tasks.{module_name}")
    return module.make_task(spec, **options)
