"""Any reasoning-gym dataset as a task: `rg:<name>`, e.g. rg:countdown, rg:basic_arithmetic; task
options are the dataset's own config fields (e.g. `{min_numbers: 3, max_numbers: 4}` for countdown).

Verdicts follow the task contract (r1lab/tasks/__init__.py): reasoning-gym ships a scorer per dataset
and we run it unchanged on the answer extracted from the answer region; its value is the verdict's
`score` (partial credit: a hedged "N or N+1" gets a share, a well-formed wrong countdown expression
0.05), and the answer is correct only when the scorer gives full marks.

Problems are generated when drawn, not up front: `problems(split, n, seed)` returns a sequence whose
items are made on first access (countdown takes tens of milliseconds per problem, so building a
5,000-problem train split eagerly cost minutes before the first step). The two splits never share a
question, however many problems are drawn: a question belongs to the held-out half when a hash of its
text says so, each split keeps only its own half, and a slot whose candidate falls in the other half
takes the next candidate from another seed (two candidates per problem on average).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence
from typing import Any

from r1lab.errors import ConfigError, DataError, UnknownTaskError
from r1lab.tasks import SPLITS, answer_verdict, in_test_split, same_text, verify_each
from r1lab.types import Problem, Verdict
from r1lab.verify.extract import extract_answer

HELD_OUT_SHARE = 0.5  # share of the question space in the held-out half: two candidates per problem
MAX_CANDIDATES = 64  # a slot gives up after this many candidates in the wrong half (a tiny dataset)
SEED_STRIDE = 1_000_003  # between candidate streams; reasoning-gym derives item i from (seed + i)


def dataset_names() -> list[str]:
    from reasoning_gym.factory import DATASETS

    return sorted(DATASETS)


def _check_dataset(name: str, options: dict[str, Any]):
    """A one-item instance of the dataset (its scorer), or an error naming what is wrong."""
    from reasoning_gym.factory import DATASETS, create_dataset

    if name not in DATASETS:
        close = difflib.get_close_matches(name, list(DATASETS), n=5, cutoff=0.6)
        hint = (f"did you mean {', '.join('rg:' + c for c in close)}?" if close
                else f"{len(DATASETS)} datasets, e.g. rg:countdown, rg:basic_arithmetic, rg:chain_sum")
        raise UnknownTaskError(f"unknown reasoning-gym dataset {name!r} ({hint})")
    config_fields = [f.name for f in dataclasses.fields(DATASETS[name][1])]
    for key in options:
        if key in ("size", "seed") or key not in config_fields:
            close = difflib.get_close_matches(key, config_fields, n=1, cutoff=0.6)
            raise ConfigError(f"task rg:{name}: unknown option task_options.{key}"
                              + (f" (did you mean {close[0]!r}?)" if close else "")
                              + f"; its options: {', '.join(f for f in config_fields if f not in ('size', 'seed'))}")
    try:
        return create_dataset(name, size=1, seed=0, **options)
    except (AssertionError, ValueError, TypeError) as err:  # reasoning-gym validates configs with asserts
        raise ConfigError(f"task rg:{name}: invalid options {options}: {err}") from None


class ReasoningGymTask:
    chat_instruction = "Put the final answer in \\boxed{}."

    def __init__(self, dataset_name: str, **dataset_options: Any):
        self.scorer = _check_dataset(dataset_name, dataset_options)
        self.name = f"rg:{dataset_name}"
        self.dataset_name = dataset_name
        self.dataset_options = dataset_options

    def problems(self, split: str, n: int, seed: int) -> Sequence[Problem]:
        if split not in SPLITS:
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        return DrawnProblems(self, split, n, seed)

    def prompt(self, problem: Problem) -> str:
        return problem.question

    def extract(self, response: str) -> str | None:
        return extract_answer(response)

    def verify(self, problem: Problem, response: str) -> Verdict:
        return answer_verdict(self.extract(response), lambda answer: self.score(problem, answer))

    def score(self, problem: Problem, answer: str) -> Verdict:
        try:
            score = float(self.scorer.score_answer(answer=answer, entry=problem.meta["entry"]))
        except Exception as err:  # a scorer bug must not end a training run; it is counted apart
            return Verdict("unverifiable", 0.0, answer, f"scorer raised {type(err).__name__}: {err}")
        score = min(1.0, max(0.0, score))
        correct = score == 1.0
        return Verdict("correct" if correct else "incorrect", score, answer,
                       "" if correct else f"reasoning-gym score {score:.3g} (full marks only count)")

    def verify_many(self, problems: Sequence[Problem], responses: Sequence[str]) -> list[Verdict]:
        return verify_each(self, problems, responses)

    def equivalent(self, a: str, b: str) -> bool:
        return same_text(a, b)


class DrawnProblems(Sequence):
    """n problems of a split, generated on first access and kept; slicing and iteration work as on
    a list (random.sample draws from it without generating the rest)."""

    def __init__(self, task: ReasoningGymTask, split: str, n: int, seed: int):
        self.task, self.split, self.n, self.seed = task, split, n, seed
        self._made: dict[int, Problem] = {}
        self._streams: dict[int, Any] = {}

    def __len__(self) -> int:
        return self.n

    @property
    def generated(self) -> int:
        """How many of the n problems have been made so far."""
        return len(self._made)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.n))]
        if index < 0:
            index += self.n
        if not 0 <= index < self.n:
            raise IndexError(f"problem {index} of {self.n}")
        if index not in self._made:
            self._made[index] = self._generate(index)
        return self._made[index]

    def __eq__(self, other) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    __hash__ = None

    def _generate(self, index: int) -> Problem:
        held_out = self.split == "test"
        for attempt in range(MAX_CANDIDATES):
            entry = self._stream(attempt)[index]
            if in_test_split(entry["question"], 0, HELD_OUT_SHARE, salt="rg\0") == held_out:
                return Problem(id=f"{self.task.name}-{self.split}-{index}", question=entry["question"],
                               answer=entry["answer"], meta={"entry": entry})
        raise DataError(f"task {self.task.name}: no {self.split} question among {MAX_CANDIDATES} generated "
                        "ones: the dataset (with these options) has too few distinct questions for two splits")

    def _stream(self, attempt: int):
        """The dataset instance of the attempt-th candidates: the train split's first stream is seeded
        with the seed itself, the held-out split's with seed + SEED_STRIDE, later ones further on. Its
        size is n, as some datasets prepare per-index state when built."""
        if attempt not in self._streams:
            import reasoning_gym

            stream_seed = self.seed + (2 * attempt + (self.split == "test")) * SEED_STRIDE
            self._streams[attempt] = reasoning_gym.create_dataset(
                self.task.dataset_name, size=self.n, seed=stream_seed, **self.task.dataset_options)
        return self._streams[attempt]


def make_task(spec: str, **options: Any) -> ReasoningGymTask:
    name = spec.split(":", 1)[1]
    if not name:
        raise UnknownTaskError("rg: needs a reasoning-gym dataset name, e.g. rg:countdown")
    return ReasoningGymTask(name, **options)
