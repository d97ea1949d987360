"""Benchmark loaders: gsm8k, math500, aime24, amc23, minerva, `rg:<dataset>`, or any .jsonl file with
question/answer fields, each as (task, problems). Files are read from a data directory laid out like
../shared/benchmarks (`<folder>/test.jsonl`); nothing is downloaded.

Each format is parsed by its own loader: GSM8K's gold is the number after `####`; MATH-500, AIME24 and
AMC23 have an `answer` field (AMC's are floats such as 27.0, written 27); Minerva has none, its gold is
the last \\boxed{} of the worked solution.
"""

from __future__ import annotations

import os
from pathlib import Path

from r1lab.errors import DataError
from r1lab.tasks.math_file import MathTask, read_problems
from r1lab.types import Problem
from r1lab.verify.math import gold_answer


def _gsm8k_gold(row: dict) -> str | None:
    text = row.get("answer")
    return gold_answer(text) if isinstance(text, str) and "####" in text else None


def _minerva_gold(row: dict) -> str | None:
    text = row.get("solution")
    return gold_answer(text) if isinstance(text, str) and "\\boxed" in text else None


# name -> (file under the data dir, question field, id field, gold reader or None for row["answer"])
BENCHMARKS = {
    "gsm8k": ("gsm8k/test.jsonl", "question", None, _gsm8k_gold),
    "math500": ("math500/test.jsonl", "problem", "unique_id", None),
    "aime24": ("aime24/test.jsonl", "problem", "id", None),
    "amc23": ("amc23/test.jsonl", "problem", "id", None),
    "minerva": ("minerva_math/test.jsonl", "problem", "idx", _minerva_gold),
}


def default_data_dir() -> Path:
    """$R1LAB_DATA_DIR, else ../shared/benchmarks relative to the working directory."""
    env = os.environ.get("R1LAB_DATA_DIR")
    return Path(env) if env else Path.cwd().parent / "shared" / "benchmarks"


def load_benchmark(name: str, data_dir: str | Path | None = None, rg_problems: int = 200,
                   seed: int = 0) -> tuple[object, list[Problem]]:
    """(task, problems) for a benchmark name, a task spec (`rg:<dataset>`, `code:<file>`, `humaneval`,
    `demo`: its held-out split, at most `rg_problems` problems drawn from `seed`), or a .jsonl/.parquet
    path of math problems."""
    if name in BENCHMARKS:
        rel, question_field, id_field, gold = BENCHMARKS[name]
        path = Path(data_dir) if data_dir else default_data_dir()
        file = path / rel
        if not file.is_file():
            raise DataError(f"benchmark {name!r} expects {file} (set --data-dir or R1LAB_DATA_DIR "
                                    "to a folder laid out like shared/benchmarks)")
        problems = read_problems(file, question_field=question_field, id_field=id_field, gold=gold)
        problems = [_renamed(name, i, p, id_field) for i, p in enumerate(problems)]
        return MathTask(name, problems, test_fraction=1.0), problems
    from r1lab.tasks import available_tasks, load_task

    if name.startswith(("rg:", "code:")) or name in available_tasks():
        # Any task (reasoning-gym, code problems, humaneval, demo): its held-out split, verified by the
        # task's own verify(), exactly as in training.
        task = load_task(name)
        return task, task.problems("test", rg_problems, seed)
    path = Path(name)
    if path.suffix in (".jsonl", ".json", ".parquet") or path.exists():
        if not path.is_file():
            raise DataError(f"benchmark file not found: {path}")
        problems = read_problems(path, question_field=_question_field(path))
        return MathTask(path.stem, problems, test_fraction=1.0), problems
    known = ", ".join(sorted(BENCHMARKS))
    raise DataError(f"unknown benchmark {name!r}: use one of {known}, a task (rg:<dataset>, "
                             f"code:<file>, {', '.join(available_tasks())}), or a .jsonl file")


def _renamed(name: str, index: int, p: Problem, id_field: str | None) -> Problem:
    """Ids like `math500-test/precalculus/807.json` or `gsm8k-12` (row index where there is no id)."""
    return Problem(id=f"{name}-{p.id if id_field else index}", question=p.question, answer=p.answer, meta=p.meta)


def _question_field(path: Path) -> str:
    """Generic files: `question`, or `problem` when the first row has that instead."""
    if path.suffix == ".parquet":
        return "question"
    with open(path, encoding="utf-8") as f:
        first = next((line for line in f if line.strip()), "")
    return "problem" if '"problem"' in first and '"question"' not in first else "question"
