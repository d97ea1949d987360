"""Math problems from any dataset, checked with the math verifier: a local .jsonl/.json/.parquet/.csv
file (`--task path/to/problems.jsonl`) or a dataset on the Hugging Face hub (`--task hf:owner/name`,
read with `datasets.load_dataset` and cached where `datasets` caches).

Task options (`task_options` in a config, or `--set task_options.KEY=VALUE`):
- `question_field` (default "question"), `answer_field` (default "answer"), `id_field` (optional):
  the column mapping. The gold answer may be bare (`\\frac{1}{2}`), a GSM8K worked answer ending in
  `#### 72`, or a worked solution with a \\boxed{} answer (the verifier takes the part after `####`,
  else the last \\boxed{}). Problem ids are `<name>-<row index>` unless `id_field` names a column.
- hub datasets only: `config` (the subset, e.g. "main" for openai/gsm8k), `split` (trained on;
  default "train").
- the held-out policy, exactly one of:
  - `test_split`: a split of the same hub dataset (e.g. "test");
  - `test_file`: a local file of held-out problems with the same columns;
  - `test_fraction`: hold out this share of the rows, chosen by a hash of each question (with
    `split_seed`), so the split is stable when the file is reordered or grows and a question repeated
    in the file never lands on both sides.
  With none of them, 10% of the rows are held out by hash and a notice on stderr says so. A held-out
  question is removed from the training rows wherever it appears there. A malformed row raises an
  error naming the file and line (the row, for parquet and hub datasets).

Example, GSM8K from the hub with its own test split (a config file for `r1lab zero`):

    task: hf:openai/gsm8k
    task_options: {config: main, test_split: test}

and a local CSV with other column names, 20% held out:

    task: data/my_problems.csv
    task_options: {question_field: prompt, answer_field: solution, id_field: uid, test_fraction: 0.2}
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from r1lab.data.io import iter_jsonl
from r1lab.errors import ConfigError, DataError
from r1lab.tasks import DEFAULT_TEST_FRACTION, Splits, held_out_notice, in_test_split
from r1lab.types import Problem, Verdict
from r1lab.verify.extract import extract_answer

# The math directive DeepSeek recommends for R1 models ("Usage Recommendations" in the DeepSeek-R1
# model card): the answer goes in \boxed{}, which is where our extraction looks.
R1_MATH_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."

Rows = Iterable[tuple[str, dict]]  # (where: "file:line" or "file: row N", row)


@dataclass(frozen=True)
class Columns:
    """Which columns hold the question, the gold answer and the id. `gold(row)`, when set, reads the
    gold answer instead of row[answer] (GSM8K's `#### N`, Minerva's last \\boxed{})."""

    question: str = "question"
    answer: str = "answer"
    id: str | None = None
    gold: Callable[[dict], Any] | None = None


@dataclass(frozen=True)
class HubSource:
    """A split of a dataset on the Hugging Face hub, or any path `datasets.load_dataset` accepts (a
    local folder laid out like a hub repository reads the same way, without a network)."""

    path: str
    config: str | None
    split: str

    def __str__(self) -> str:
        return f"{self.path}" + (f" ({self.config})" if self.config else "") + f" [{self.split}]"

    def rows(self, cache_dir: str | None = None) -> Rows:
        try:
            from datasets import load_dataset
        except ImportError:
            raise ConfigError(f"reading {self.path} needs the datasets package (pip install datasets)") from None
        try:
            dataset = load_dataset(self.path, self.config, split=self.split, cache_dir=cache_dir)
        except Exception as err:  # offline, unknown id/config/split: many types, one user-facing cause
            raise DataError(f"could not load {self}: {type(err).__name__}: {err}".rstrip()) from err
        return ((f"{self} row {i + 1}", row) for i, row in enumerate(dataset))


# ---------------------------------------------------------------------------------- reading rows


def file_rows(path: Path) -> Rows:
    """(where, row) for every row of a .jsonl/.json/.parquet/.csv file."""
    if not path.is_file():
        raise DataError(f"problem file not found: {path}")
    if path.suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise DataError(f"{path}: reading .parquet needs pyarrow (pip install pyarrow)") from None
        return ((f"{path}: row {i}", row) for i, row in enumerate(pq.read_table(path).to_pylist(), 1))
    if path.suffix == ".csv":
        return _csv_rows(path)
    if path.suffix == ".json" and path.read_text(encoding="utf-8").lstrip().startswith("["):
        return _json_array_rows(path)
    return _jsonl_rows(path)


def _jsonl_rows(path: Path) -> Iterator[tuple[str, dict]]:
    for line in iter_jsonl(path):
        if line.error is not None:
            raise DataError(f"{line.where}: {line.error}")
        yield line.where, line.value


def _csv_rows(path: Path) -> Iterator[tuple[str, dict]]:
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        for row in reader:
            yield f"{path}:{reader.line_num}", row


def _json_array_rows(path: Path) -> Iterator[tuple[str, Any]]:
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
    for i, item in enumerate(items, 1):
        yield f"{path}: item {i}", item


def to_problems(rows: Rows, columns: Columns, name: str) -> list[Problem]:
    """Problems from rows; a row without a usable question or answer raises a DataError naming it."""
    problems = []
    for where, row in rows:
        if not isinstance(row, dict):
            raise DataError(f"{where}: expected an object with fields, got {type(row).__name__}")
        question = row.get(columns.question)
        if not isinstance(question, str) or not question.strip():
            raise DataError(f"{where}: missing or empty {columns.question!r} field "
                            f"(fields present: {', '.join(sorted(row)) or 'none'}; set question_field)")
        answer = columns.gold(row) if columns.gold is not None else row.get(columns.answer)
        if answer is None or (isinstance(answer, str) and not answer.strip()) or isinstance(answer, (dict, list)):
            raise DataError(f"{where}: missing or unusable {columns.answer!r} field "
                            f"(fields present: {', '.join(sorted(row))}; set answer_field)")
        has_id = columns.id is not None and row.get(columns.id) is not None
        pid = str(row[columns.id]) if has_id else f"{name}-{len(problems)}"
        meta = {k: v for k, v in row.items() if k not in (columns.question, columns.answer)}
        problems.append(Problem(id=pid, question=question, answer=_answer_text(answer), meta=meta))
    return problems


def read_problems(path: str | Path, question_field: str = "question", answer_field: str = "answer",
                  id_field: str | None = None, gold=None) -> list[Problem]:
    """Problems from a local file (see `to_problems`); ids are `<file stem>-<row index>` unless id_field
    names a column."""
    path = Path(path)
    return to_problems(file_rows(path), Columns(question_field, answer_field, id_field, gold), path.stem)


def _answer_text(answer: Any) -> str:
    """Gold answers as text; 27.0 (AMC's float answers) is written 27."""
    if isinstance(answer, float) and answer.is_integer():
        return str(int(answer))
    return str(answer).strip()


# ------------------------------------------------------------------------------------------ task


class MathTask:
    """A fixed list of math problems verified by r1lab.verify.math (shared worker pool). The split is
    `test_problems` when given, else a hash of each question against `test_fraction`."""

    chat_instruction = R1_MATH_INSTRUCTION

    def __init__(self, name: str, problems: list[Problem], test_fraction: float = DEFAULT_TEST_FRACTION,
                 split_seed: int = 0, *, test_problems: list[Problem] | None = None, policy: str = ""):
        if not 0.0 <= test_fraction <= 1.0:
            raise ConfigError(f"task {name}: test_fraction must be in [0, 1], got {test_fraction}")
        self.name = name
        if test_problems is None:
            train, test = [], []
            for p in problems:
                (test if in_test_split(p.question, split_seed, test_fraction) else train).append(p)
            policy = policy or f"test_fraction={test_fraction} of {len(problems)} problems, by a hash of each question"
        else:
            held_out = {p.question.strip() for p in test_problems}
            train, test = [p for p in problems if p.question.strip() not in held_out], list(test_problems)
        self.splits = Splits(name, train, test, f"{policy}: {len(train)} train, {len(test)} held out",
                             "give task_options.test_fraction, test_file or test_split")
        self.all_problems = list(problems) if test_problems is None else list(problems) + list(test_problems)

    def problems(self, split: str, n: int, seed: int) -> list[Problem]:
        return self.splits.draw(split, n, seed)

    def prompt(self, problem: Problem) -> str:
        return problem.question

    def extract(self, response: str) -> str | None:
        return extract_answer(response)

    def verify(self, problem: Problem, response: str) -> Verdict:
        return self.verify_many([problem], [response])[0]

    def verify_many(self, problems: list[Problem], responses: list[str]) -> list[Verdict]:
        """The worker pool checks them in parallel, each under a hard deadline."""
        from r1lab.verify.math import verify_math_many

        if len(problems) != len(responses):
            raise ValueError(f"{len(problems)} problems but {len(responses)} responses")
        return verify_math_many([(p.answer, r) for p, r in zip(problems, responses)])

    def equivalent(self, a: str, b: str) -> bool:
        from r1lab.verify.math import answers_equivalent

        return answers_equivalent(a, b)


def make_task(spec: str, question_field: str = "question", answer_field: str = "answer",
              id_field: str | None = None, config: str | None = None, split: str | None = None,
              test_split: str | None = None, test_file: str | None = None, test_fraction: float | None = None,
              split_seed: int = 0) -> MathTask:
    columns = Columns(question_field, answer_field, id_field)
    policies = {k: v for k, v in (("test_split", test_split), ("test_file", test_file),
                                  ("test_fraction", test_fraction)) if v is not None}
    if len(policies) > 1:
        raise ConfigError(f"task {spec}: give one held-out policy, not {' and '.join(policies)}")
    hub = spec.startswith("hf:")
    if hub:
        path = spec.removeprefix("hf:")
        if not path:
            raise ConfigError("hf: needs a dataset id, e.g. hf:openai/gsm8k")
        name, rows = spec, HubSource(path, config, split or "train").rows()
    else:
        for key, value in (("config", config), ("split", split), ("test_split", test_split)):
            if value is not None:
                raise ConfigError(f"task {spec}: task_options.{key} is for hub datasets (hf:<id>); "
                                  "a local file is one split (give test_file or test_fraction)")
        name, rows = Path(spec).stem, file_rows(Path(spec))
    problems = to_problems(rows, columns, name)
    if not problems:
        raise DataError(f"{spec}: no problems in the {'dataset split' if hub else 'file'}")
    if test_split is not None or test_file is not None:
        source = HubSource(spec.removeprefix("hf:"), config, test_split) if test_split else Path(test_file)
        rows = source.rows() if test_split else file_rows(source)
        test = to_problems(rows, columns, f"{name}-test")
        if not test:
            raise DataError(f"{source}: no held-out problems in it")
        return MathTask(name, problems, test_problems=test, policy=f"held out: {source}")
    chosen = test_fraction is not None
    test_fraction = test_fraction if chosen else DEFAULT_TEST_FRACTION
    task = MathTask(name, problems, test_fraction, split_seed, policy=f"test_fraction={test_fraction} of the "
                    f"{len(problems)} problems in {spec}, by a hash of each question")
    if test_fraction > 0 and not task.splits.test:
        raise DataError(f"task {spec}: test_fraction={test_fraction}{'' if chosen else ' (the default)'} holds "
                        f"out none of its {len(problems)} problems (the held-out split is chosen by a hash of "
                        "each question); give a larger task_options.test_fraction or a task_options.test_file")
    if not chosen:
        held_out_notice(spec, len(task.splits.test), len(problems), test_fraction)
    return task
