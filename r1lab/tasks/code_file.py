"""Code tasks: the one CodeTask both code tasks are, and users' own code problems from a .jsonl file
(`--task code:path/to/problems.jsonl`). HumanEval (r1lab/tasks/humaneval.py) is a CodeTask too, with
its own problems.

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

A response is correct when every test passes; its score (partial credit) is the share of tests
passed. Options (`load_task(spec, **options)`): timeout_s, memory_mb (defaults for rows that set
none); workers (cases judged at once, default: all cores); test_fraction, split_seed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from r1lab.data.io import iter_jsonl
from r1lab.errors import ConfigError, DataError
from r1lab.tasks import DEFAULT_TEST_FRACTION, Splits, held_out_notice, in_test_split, same_text
from r1lab.types import Problem, Verdict
from r1lab.verify.code import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, CodeCase, CodeResult, IOTest, judge_cases
from r1lab.verify.code_extract import extract_code

CODE_INSTRUCTION = "Write your final solution as Python code in a single ```python code block."
ROW_KEYS = {"id", "question", "tests", "entry_point", "prelude", "timeout_s", "memory_mb", "split"}
NO_CODE = "no code block in the answer region"


@dataclass(frozen=True)
class CodeVerifier:
    """Runs extracted programs against a problem's tests in the sandbox. A problem's `answer` is a
    dict with the CodeCase fields other than `code`."""

    workers: int | None = None

    def program(self, problem: Problem, code: str) -> str:
        prelude = problem.answer.get("prelude", "")
        return f"{prelude}\n{code}" if prelude else code

    def verify_many(self, problems: Sequence[Problem], responses: Sequence[str]) -> list[Verdict]:
        if len(problems) != len(responses):
            raise ValueError(f"{len(problems)} problems but {len(responses)} responses")
        codes = [extract_code(r, p.answer.get("entry_point")) for p, r in zip(problems, responses)]
        todo = [i for i, code in enumerate(codes) if code is not None]
        cases = [CodeCase(code=self.program(problems[i], codes[i]), **problems[i].answer) for i in todo]
        results = dict(zip(todo, judge_cases(cases, self.workers or os.cpu_count())))
        return [Verdict("incorrect", 0.0, None, NO_CODE) if code is None else verdict(results[i], code)
                for i, code in enumerate(codes)]


def verdict(result: CodeResult, code: str) -> Verdict:
    """Correct when every test passes; the score is the share of tests passed (partial credit)."""
    reason = f"{result.status}: {result.passed_tests}/{result.total_tests} tests" + (
        f"; {result.detail}" if result.detail else "")
    if result.status == "error":  # the harness could not judge: not the response's fault
        return Verdict("unverifiable", 0.0, code, reason)
    return Verdict("correct" if result.passed else "incorrect", 1.0 if result.passed else result.fraction,
                   code, reason)


class ProblemSource(Protocol):
    def draw(self, split: str, n: int, seed: int) -> list[Problem]: ...


class CodeTask:
    """A code task: problems from a source (a file's splits, HumanEval's list), answers as the last
    Python block of the answer region, judged in the sandbox by a CodeVerifier."""

    chat_instruction = CODE_INSTRUCTION

    def __init__(self, name: str, source: ProblemSource, verifier: CodeVerifier):
        self.name, self.source, self.verifier = name, source, verifier

    def problems(self, split: str, n: int, seed: int) -> list[Problem]:
        return self.source.draw(split, n, seed)

    def prompt(self, problem: Problem) -> str:
        return problem.question

    def extract(self, response: str) -> str | None:
        return extract_code(response)

    def verify(self, problem: Problem, response: str) -> Verdict:
        return self.verifier.verify_many([problem], [response])[0]

    def verify_many(self, problems: Sequence[Problem], responses: Sequence[str]) -> list[Verdict]:
        """The sandboxes run `workers` at a time."""
        return self.verifier.verify_many(problems, responses)

    def equivalent(self, a: str, b: str) -> bool:
        return same_text(a, b)


def check_limits(task: str, timeout_s: float, memory_mb: int, workers: int | None) -> None:
    for key, value in (("timeout_s", timeout_s), ("memory_mb", memory_mb), ("workers", workers)):
        if value is not None and not value > 0:
            raise ConfigError(f"task {task}: task_options.{key} must be > 0, got {value}")


# ------------------------------------------------------------------------------- code: files


def read_code_problems(path: Path, timeout_s: float, memory_mb: int) -> list[tuple[Problem, str | None]]:
    """(problem, split or None) per row; errors name the file, line and key."""
    rows = []
    for line in iter_jsonl(path):
        if line.error is not None:
            raise DataError(f"{line.where}: {line.error}")
        rows.append(_row(path, line.where, line.value, timeout_s, memory_mb))
    if not rows:
        raise DataError(f"{path}: no problems in the file")
    return rows


def _row(path: Path, where: str, row: dict, timeout_s: float, memory_mb: int) -> tuple[Problem, str | None]:
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
    pid = str(row.get("id", f"{path.stem}-{where.rsplit(':', 1)[1]}"))
    return Problem(id=pid, question=question, answer=answer, meta={"style": _style(case.tests)}), split


def _style(tests: str | list[IOTest]) -> str:
    return "assert" if isinstance(tests, str) else "stdio"


def file_splits(name: str, rows: list[tuple[Problem, str | None]], test_fraction: float,
                split_seed: int) -> Splits:
    """A row's own `split` key decides; the other rows are held out by a hash of the question."""
    split: dict[str, list[Problem]] = {"train": [], "test": []}
    for problem, row_split in rows:
        held_out = in_test_split(problem.question, split_seed, test_fraction, salt="code\0")
        split[row_split or ("test" if held_out else "train")].append(problem)
    policy = (f"rows' own split keys, and test_fraction={test_fraction} by a hash of the question for the "
              f"others: {len(split['train'])} train, {len(split['test'])} held out")
    return Splits(name, split["train"], split["test"], policy,
                  "give rows a \"split\" key or set task_options.test_fraction")


def make_task(spec: str, timeout_s: float = DEFAULT_TIMEOUT_S, memory_mb: int = DEFAULT_MEMORY_MB,
              workers: int | None = None, test_fraction: float | None = None, split_seed: int = 0) -> CodeTask:
    path = Path(spec.removeprefix("code:"))
    check_limits(spec, timeout_s, memory_mb, workers)
    if test_fraction is not None and not 0.0 <= test_fraction <= 1.0:
        raise ConfigError(f"task {spec}: task_options.test_fraction must be in [0, 1], got {test_fraction}")
    if not path.is_file():
        raise DataError(f"code problem file not found: {path}")
    name = f"code:{path.stem}"
    rows = read_code_problems(path, timeout_s, memory_mb)
    splits = file_splits(name, rows, DEFAULT_TEST_FRACTION if test_fraction is None else test_fraction, split_seed)
    unassigned = sum(row_split is None for _, row_split in rows)
    if test_fraction is None and unassigned:
        held = len(splits.test) - sum(row_split == "test" for _, row_split in rows)
        held_out_notice(spec, held, unassigned, DEFAULT_TEST_FRACTION, ' without a "split" key')
    return CodeTask(name, splits, CodeVerifier(workers))
