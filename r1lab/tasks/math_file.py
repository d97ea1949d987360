"""Math problems from a local .jsonl or .parquet file, checked with the math verifier.

`--task path/to/problems.jsonl` (options: question_field, answer_field, id_field, test_fraction,
split_seed). Each row needs a question and a gold answer; the answer may be bare (`\\frac{1}{2}`), a
GSM8K worked answer ending in `#### 72`, or a worked solution with a \\boxed{} answer (the verifier
takes the part after `####`, else the last \\boxed{}). A malformed row raises an error naming the file
and line (row, for parquet).

Held-out split: a row belongs to the test split when a hash of (split_seed, question) falls below
test_fraction. It depends on the question only, so the splits are disjoint, stable when the file is
reordered or grows, and a question repeated in the file never lands in both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from r1lab.errors import DataError
from r1lab.tasks import in_test_split, seeded_draw
from r1lab.types import Problem, Verdict
from r1lab.verify.extract import extract_answer

# The math directive DeepSeek recommends for R1 models ("Usage Recommendations" in the DeepSeek-R1
# model card): the answer goes in \boxed{}, which is where our extraction looks.
R1_MATH_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."




def _rows(path: Path):
    """(line number or row number, dict) for every row of a .jsonl/.json/.parquet file."""
    if path.suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise DataError(f"{path}: reading .parquet needs pyarrow (pip install pyarrow)") from None
        for i, row in enumerate(pq.read_table(path).to_pylist(), 1):
            yield f"row {i}", row
        return
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(f"{path}:{lineno}: not valid JSON ({err.msg})") from None
            yield f"line {lineno}", row


def read_problems(path: str | Path, question_field: str = "question", answer_field: str = "answer",
                  id_field: str | None = None, gold=None) -> list[Problem]:
    """Problems from a file. `gold(row) -> str` overrides how the gold answer is read (benchmark
    loaders use it); by default it is row[answer_field]. Problem ids are `<file stem>-<row index>`
    unless id_field names a column."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"problem file not found: {path}")
    problems = []
    for where, row in _rows(path):
        if not isinstance(row, dict):
            raise DataError(f"{path}: {where}: expected a JSON object, got {type(row).__name__}")
        question = row.get(question_field)
        if not isinstance(question, str) or not question.strip():
            raise DataError(f"{path}: {where}: missing or empty {question_field!r} field "
                                     f"(fields present: {', '.join(sorted(row)) or 'none'})")
        answer = gold(row) if gold is not None else row.get(answer_field)
        if answer is None or (isinstance(answer, str) and not answer.strip()) or isinstance(answer, (dict, list)):
            raise DataError(f"{path}: {where}: missing or unusable {answer_field!r} field")
        pid = str(row[id_field]) if id_field and id_field in row else f"{path.stem}-{len(problems)}"
        meta = {k: v for k, v in row.items() if k not in (question_field, answer_field)}
        problems.append(Problem(id=pid, question=question, answer=_answer_text(answer), meta=meta))
    return problems


def _answer_text(answer: Any) -> str:
    """Gold answers as text; 27.0 (AMC's float answers) is written 27."""
    if isinstance(answer, float) and answer.is_integer():
        return str(int(answer))
    return str(answer).strip()


class MathTask:
    """A fixed list of math problems verified by r1lab.verify.math (shared worker pool)."""

    chat_instruction = R1_MATH_INSTRUCTION

    def __init__(self, name: str, problems: list[Problem], test_fraction: float = 0.1, split_seed: int = 0):
        if not 0.0 <= test_fraction <= 1.0:
            raise ValueError(f"test_fraction must be in [0, 1], got {test_fraction}")
        self.name = name
        self.all_problems = problems
        self.split = {"train": [], "test": []}
        for p in problems:
            self.split["test" if in_test_split(p.question, split_seed, test_fraction) else "train"].append(p)

    def problems(self, split: str, n: int, seed: int) -> list[Problem]:
        """n problems of the split in a seeded order. The train split repeats in fresh orders (epochs)
        when n exceeds it; the test split never repeats, so it returns at most its size."""
        return seeded_draw(self.split[split], split, n, seed, self.name)

    def prompt(self, problem: Problem) -> str:
        return problem.question

    def extract(self, response: str) -> str | None:
        return extract_answer(response)

    def verify(self, problem: Problem, response: str) -> Verdict:
        from r1lab.verify.math import verify_math

        return verify_math(problem.answer, response)

    def verify_many(self, problems: list[Problem], responses: list[str]) -> list[Verdict]:
        """Batch form of verify(): the worker pool checks them in parallel."""
        from r1lab.verify.math import verify_math_many

        return verify_math_many([(p.answer, r) for p, r in zip(problems, responses)])

    def equivalent(self, a: str, b: str) -> bool:
        """Whether two extracted answers are the same (consensus voting)."""
        from r1lab.verify.math import answers_equivalent

        return answers_equivalent(a, b)


def make_task(spec: str, question_field: str = "question", answer_field: str = "answer",
              id_field: str | None = None, test_fraction: float = 0.1, split_seed: int = 0) -> MathTask:
    problems = read_problems(spec, question_field, answer_field, id_field)
    if not problems:
        raise DataError(f"{spec}: no problems in the file")
    return MathTask(Path(spec).stem, problems, test_fraction=test_fraction, split_seed=split_seed)
