"""Tasks. A Task owns its problems (seeded train / held-out splits), its prompt text, answer extraction
and verify(); training rewards and eval both call the same verify().

Adding a task is adding a file: `--task NAME` imports `r1lab.tasks.NAME` and calls its
`make_task(spec, **options)`. Two spellings are resolved before that: `rg:<dataset>` (reasoning-gym)
and a path to a .jsonl/.parquet file (math problems).
"""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
import random
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from r1lab.errors import UnknownTaskError
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




# ---- splits of file-backed tasks (math files, code files, HumanEval) ----


def in_test_split(question: str, split_seed: int, test_fraction: float, salt: str = "") -> bool:
    """Whether a problem is held out: decided by a hash of its text, so a file's split does not
    change when rows are added, removed or reordered."""
    digest = hashlib.sha256(f"{salt}{split_seed}\0{question.strip()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < test_fraction


def seeded_draw(pool: list[Problem], split: str, n: int, seed: int, name: str) -> list[Problem]:
    """n problems in a seeded order. The train split repeats in fresh orders (epochs) when n exceeds
    it; the test split never repeats, so it returns at most its size."""
    if not pool:
        raise ValueError(f"task {name}: the {split} split is empty")
    rng = random.Random(f"{name}-{split}-{seed}")
    out: list[Problem] = []
    while len(out) < n:
        order = pool[:]
        rng.shuffle(order)
        out.extend(order[: n - len(out)])
        if split == "test":
            break
    return out


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
