"""Users' own code problems from a .jsonl file: `--task code:path/to/problems.jsonl`.

One JSON object per line:

    {"id"?: str, "question": str, "tests": str | [{"input": str, "output": str}, ...],
     "entry_point"?: str, "prelude"?: str, "timeout_s"?: float, "memory_mb"?: int,
     "split"?: "train" | "test"}

`tests` is either Python source whose asserts are the tests (HumanEval/MBPP style; `entry_point` names
the function under test, and a `def check(candidate)` is called with it) or a list of stdin/stdout
pairs (LiveCodeBench/Codeforces style: the response is a whole program). `prelude` is code given with
the problem (imports, helpers, a function stub): it is put before the model's code, and the tests see
the prelude's own helpers, never the program's versions of them. Rows without `split` are split by a
hash of the question (`test_fraction`, `split_seed`), like math files.

Options (`load_task(spec, **options)`): reward="fraction" (share of tests passed, the default) or
"binary" (1 only when every test passes); timeout_s, memory_mb (defaults for rows that set none);
workers (cases judged at once, default: all cores). A response is correct when every test passes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from r1lab.errors import ConfigError, DataError
from r1lab.tasks import in_test_split, seeded_draw
from r1lab.types import Problem, Verdict
from r1lab.verify.code import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_S,
    CodeCase,
    CodeResult,
    IOTest,
    judge_cases,
    reward,
)
from r1lab.verify.code_extract import extract_code

RewardMode = Literal["fraction", "binary"]
CODE_INSTRUCTION = "Write your final solution as Python code in a single ```python code block."
ROW_KEYS = {"id", "question", "tests", "entry_point", "prelude", "timeout_s", "memory_mb", "split"}




@dataclass(frozen=True)
class CodeVerifier:
    """Runs extracted programs against a problem's tests in the sandbox; shared by the code tasks.
    A problem's `answer` is a dict with the CodeCase fields other than `code`."""

    reward: RewardMode = "fraction"
    workers: int | None = None

    def program(self, problem: Problem, code: str) -> str:
        prelude = problem.answer.get("prelude", "")
        return f"{prelude}\n{code}" if prelude else code

    def verify_many(self, problems: list[Problem], responses: list[str]) -> list[Verdict]:
        codes = [extract_code(r, p.answer.get("entry_point")) for p, r in zip(problems, responses)]
        todo = [i for i, code in enumerate(codes) if code is not None]
        cases = [CodeCase(code=self.program(problems[i], codes[i]), **problems[i].answer) for i in todo]
        results = dict(zip(todo, judge_cases(cases, self.workers or os.cpu_count())))
        verdicts = []
        for i, code in enumerate(codes):
            if code is None:
                verdicts.append(Verdict("incorrect", 0.0, None, "no code block in the answer region"))
            else:
                verdicts.append(self.verdict(results[i], code))
        return verdicts

    def verdict(self, result: CodeResult, code: str) -> Verdict:
        reason = f"{result.status}: {result.passed_tests}/{result.total_tests} tests" + (
            f"; {result.detail}" if result.detail else "")
        if result.status == "error":  # the harness could not judge: not the response's fault
            return Verdict("unverifiable", 0.0, code, reason)
        status = "correct" if result.passed else "incorrect"
        return Verdict(status, reward(result, self.reward), code, reason)


def read_code_problems(path: Path, timeout_s: float, memory_mb: int) -> list[tuple[Problem, str | None]]:
    """(problem, split or None) per row; errors name the file, line and key."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                rows.append(_row(path, lineno, line, timeout_s, memory_mb))
    if not rows:
        raise DataError(f"{path}: no problems in the file")
    return rows


def _row(path: Path, lineno: int, line: str, timeout_s: float, memory_mb: int) -> tuple[Problem, str | None]:
    where = f"{path}:{lineno}"
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        raise DataError(f"{where}: not valid JSON ({err.msg})") from None
    if not isinstance(row, dict):
        raise DataError(f"{where}: expected a JSON object")
    unknown = sorted(set(row) - ROW_KEYS)
    if unknown:
        raise DataError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(ROW_KEYS))})")
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise DataError(f"{where}: missing or empty 'question'")
    split = row.get("split")
    if split not in (None, "train", "test"):
        raise DataError(f"{where}: key 'split' must be 'train' or 'test', got {split!r}")
    answer = {"tests": row.get("tests"), "entry_point": row.get("entry_point"),
              "prelude": row.get("prelude") or "", "timeout_s": row.get("timeout_s", timeout_s),
              "memory_mb": row.get("memory_mb", memory_mb)}
    try:  # validate now, with the same model the judge uses, so a bad row fails at load time
        case = CodeCase(code="", **answer)
    except ValidationError as err:
        keys = "; ".join(f"key '{'.'.join(map(str, e['loc']))}': {e['msg']}" for e in err.errors())
        raise DataError(f"{where}: {keys}") from None
    if isinstance(case.tests, list):
        if not case.tests:
            raise DataError(f"{where}: key 'tests' is an empty list")
        answer["tests"] = [t.model_dump() for t in case.tests]
    pid = str(row.get("id", f"{path.stem}-{lineno}"))
    return Problem(id=pid, question=question, answer=answer, meta={"style": _style(case.tests)}), split


def _style(tests: str | list[IOTest]) -> str:
    return "assert" if isinstance(tests, str) else "stdio"


class CodeFileTask:
    chat_instruction = CODE_INSTRUCTION

    def __init__(self, name: str, rows: list[tuple[Problem, str | None]], verifier: CodeVerifier,
                 test_fraction: float = 0.1, split_seed: int = 0):
        self.name, self.verifier = name, verifier
        self.split: dict[str, list[Problem]] = {"train": [], "test": []}
        for problem, split in rows:
            held_out = in_test_split(problem.question, split_seed, test_fraction, salt="code\0")
            split = split or ("test" if held_out else "train")
            self.split[split].append(problem)

    def problems(self, split: str, n: int, seed: int) -> list[Problem]:
        return seeded_draw(self.split[split], split, n, seed, self.name)

    def prompt(self, problem: Problem) -> str:
        return problem.question

    def extract(self, response: str) -> str | None:
        return extract_code(response)

    def verify(self, problem: Problem, response: str) -> Verdict:
        return self.verifier.verify_many([problem], [response])[0]

    def verify_many(self, problems: list[Problem], responses: list[str]) -> list[Verdict]:
        """Batch form of verify(): the sandboxes run `workers` at a time."""
        return self.verifier.verify_many(problems, responses)


def make_task(spec: str, reward: RewardMode = "fraction", timeout_s: float = DEFAULT_TIMEOUT_S,
              memory_mb: int = DEFAULT_MEMORY_MB, workers: int | None = None, test_fraction: float = 0.1,
              split_seed: int = 0) -> CodeFileTask:
    path = Path(spec.removeprefix("code:"))
    if reward not in ("fraction", "binary"):
        raise ConfigError(f"code task option reward must be 'fraction' or 'binary', got {reward!r}")
    if not 0.0 <= test_fraction <= 1.0:
        raise ConfigError(f"code task option test_fraction must be in [0, 1], got {test_fraction}")
    if not path.is_file():
        raise DataError(f"code problem file not found: {path}")
    rows = read_code_problems(path, timeout_s, memory_mb)
    return CodeFileTask(f"code:{path.stem}", rows, CodeVerifier(reward, workers), test_fraction, split_seed)
