"""Benchmarks for `r1lab eval --benchmark NAME`: the named math benchmarks, any task's held-out split
(`rg:<dataset>`, `code:<file>`, `humaneval`, `demo`, a task file of your own), or a .jsonl/.json/
.parquet/.csv file of math problems, each as (task, problems).

A named benchmark (gsm8k, math500, aime24, amc23, minerva; the local folder names such as
`minerva_math` and the hub ids are aliases) is read from a local copy when there is one, else from
its public dataset on the Hugging Face hub through `datasets.load_dataset` (cached where `datasets`
caches; HF_DATASETS_OFFLINE=1 reads the cache only). The local copy is `<data dir>/<folder>/test.jsonl`
with the data dir `--data-dir`, else $R1LAB_DATA_DIR, else ../shared/benchmarks when that folder
exists; a data dir that is given must hold the benchmark.

Each source is parsed by its own columns: GSM8K's gold is the number after `####`; MATH-500, AIME24
and AMC23 have an `answer` field (AMC's are floats such as 27.0, written 27); the local Minerva copy
has none, its gold is the last \\boxed{} of the worked solution, while the hub copy has an `answer`.
"""

from __future__ import annotations

import difflib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from r1lab.errors import DataError, UnknownTaskError
from r1lab.tasks.math_file import Columns, HubSource, MathTask, file_rows, read_problems, to_problems
from r1lab.types import Problem
from r1lab.verify.math import gold_answer


def _gsm8k_gold(row: dict) -> str | None:
    text = row.get("answer")
    return gold_answer(text) if isinstance(text, str) and "####" in text else None


def _boxed_gold(row: dict) -> str | None:
    text = row.get("solution")
    return gold_answer(text) if isinstance(text, str) and "\\boxed" in text else None


@dataclass(frozen=True)
class Benchmark:
    folder: str  # the local copy: <data dir>/<folder>/test.jsonl
    local: Columns
    hub: HubSource  # the canonical public copy
    hub_columns: Columns


GSM8K = Columns("question", "answer", None, _gsm8k_gold)
# Hub ids and splits: the copies open-r1, lighteval and most R1 reproductions evaluate on.
BENCHMARKS = {
    "gsm8k": Benchmark("gsm8k", GSM8K, HubSource("openai/gsm8k", "main", "test"), GSM8K),
    "math500": Benchmark("math500", Columns("problem", "answer", "unique_id"),
                         HubSource("HuggingFaceH4/MATH-500", None, "test"), Columns("problem", "answer", "unique_id")),
    "aime24": Benchmark("aime24", Columns("problem", "answer", "id"),
                        HubSource("HuggingFaceH4/aime_2024", None, "train"), Columns("problem", "answer", "id")),
    "amc23": Benchmark("amc23", Columns("problem", "answer", "id"),
                       HubSource("math-ai/amc23", None, "test"), Columns("question", "answer", "id")),
    "minerva": Benchmark("minerva_math", Columns("problem", "solution", "idx", _boxed_gold),
                         HubSource("math-ai/minervamath", None, "test"), Columns("question", "answer")),
}
ALIASES = {alias: name for name, b in BENCHMARKS.items() for alias in (b.folder, b.hub.path) if alias != name}
_BY_LOWER = {alias.lower(): name for alias, name in ALIASES.items()}


def benchmark_name(name: str) -> str | None:
    """The benchmark a name or alias (case aside) stands for, or None."""
    key = name.lower()
    return key if key in BENCHMARKS else _BY_LOWER.get(key)


def default_data_dir() -> Path | None:
    """$R1LAB_DATA_DIR, else ../shared/benchmarks (from the working directory) when it exists, else None:
    named benchmarks then come from the hub."""
    env = os.environ.get("R1LAB_DATA_DIR")
    if env:
        return Path(env)
    shared = Path.cwd().parent / "shared" / "benchmarks"
    return shared if shared.is_dir() else None


def load_benchmark(name: str, data_dir: str | Path | None = None, rg_problems: int = 200,
                   seed: int = 0, cache_dir: str | None = None,
                   task_options: dict | None = None) -> tuple[MathTask | object, list[Problem]]:
    """(task, problems) for a benchmark name, a task spec built with `task_options` (its held-out split,
    at most `rg_problems` problems drawn from `seed`), or a file of math problems. `data_dir` None means
    the default above; `cache_dir` is where `datasets` caches hub downloads (None: its own default)."""
    key = benchmark_name(name)
    if key is not None:
        return named_benchmark(key, data_dir if data_dir else default_data_dir(), cache_dir)
    from r1lab.tasks import DATA_SUFFIXES, SPELLINGS, available_tasks, load_task

    if name.startswith(tuple(SPELLINGS)) or name.endswith(".py") or name in available_tasks():
        # Any task (reasoning-gym, code problems, humaneval, demo, yours): its held-out split, verified
        # by the task's own verify_many(), exactly as in training.
        task = load_task(name, **(task_options or {}))
        return task, list(task.problems("test", rg_problems, seed))
    path = Path(name)
    if path.suffix in DATA_SUFFIXES:
        problems = read_problems(path, question_field=_question_field(path))
        if not problems:
            raise DataError(f"{path}: no problems in the file (one object per line with a question or problem "
                            "field and an answer field)")
        return MathTask(path.stem, problems, test_fraction=1.0, policy="every problem of a benchmark"), problems
    close = difflib.get_close_matches(name, sorted(BENCHMARKS) + sorted(ALIASES), n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    raise UnknownTaskError(f"unknown benchmark {name!r}{hint}: benchmarks are {', '.join(BENCHMARKS)} "
                           f"(aliases {', '.join(sorted(ALIASES))}); any task spec ({', '.join(available_tasks())}, "
                           f"rg:<dataset>, code:<file>, hf:<id>, a .py task file); or a "
                           f"{'/'.join(DATA_SUFFIXES)} file of math problems")


def named_benchmark(name: str, data_dir: Path | None, cache_dir: str | None = None) -> tuple[MathTask, list[Problem]]:
    """A named benchmark from its local copy in `data_dir`, or from the hub when data_dir is None."""
    bench = BENCHMARKS[name]
    if data_dir is None:
        return hub_benchmark(name, cache_dir=cache_dir)
    file = Path(data_dir) / bench.folder / "test.jsonl"
    if not file.is_file():
        raise DataError(f"benchmark {name!r}: no local copy at {file} (--data-dir and R1LAB_DATA_DIR name a "
                        f"folder laid out like shared/benchmarks; without either, and without "
                        f"../shared/benchmarks, it is read from {bench.hub.path} on the Hugging Face hub)")
    columns = bench.local
    return _benchmark(name, read_problems(file, columns.question, columns.answer, columns.id, columns.gold),
                      columns.id, str(file))


def hub_benchmark(name: str, source: HubSource | None = None, cache_dir: str | None = None
                  ) -> tuple[MathTask, list[Problem]]:
    """A named benchmark read with `datasets.load_dataset` from its hub dataset (or from `source`, any
    path load_dataset reads with the hub copy's columns, e.g. a local mirror)."""
    bench = BENCHMARKS[name]
    source = source or bench.hub
    print(f"r1lab: benchmark {name}: reading {source} with datasets.load_dataset", file=sys.stderr)
    columns = bench.hub_columns
    return _benchmark(name, to_problems(source.rows(cache_dir), columns, name), columns.id, str(source))


def _benchmark(name: str, rows: list[Problem], id_field: str | None, where: str) -> tuple[MathTask, list[Problem]]:
    if not rows:
        raise DataError(f"benchmark {name!r}: no problems in {where}")
    problems = [_renamed(name, i, p, id_field) for i, p in enumerate(rows)]
    return MathTask(name, problems, test_fraction=1.0, policy="every problem of a benchmark"), problems


def _renamed(name: str, index: int, p: Problem, id_field: str | None) -> Problem:
    """Ids like `math500-test/precalculus/807.json` or `gsm8k-12` (row index where there is no id)."""
    raw = p.meta.get(id_field) if id_field else None
    return Problem(id=f"{name}-{index if raw is None else raw}", question=p.question, answer=p.answer, meta=p.meta)


def _question_field(path: Path) -> str:
    """Generic files: `question`, or `problem` when the first row has that instead."""
    first = next(iter(file_rows(path)), ("", {}))[1]
    first = first if isinstance(first, dict) else {}
    return "problem" if "problem" in first and "question" not in first else "question"
