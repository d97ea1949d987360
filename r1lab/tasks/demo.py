"""The demo task: evaluate a chain of two additions or subtractions of three one-digit numbers.

Chosen so that a model of a few million parameters can learn every single step (one small
operation) but not reliably the whole chain at once: reasoning step by step pays off, which is what
R1-Zero-style RL should discover from a base model that mixes direct guesses and worked solutions.
Problems are generated from a seed; the held-out split never shares a question with the train split.
"""

from __future__ import annotations

import functools
import itertools
import random
import re

from r1lab.tasks import same_text, verify_each
from r1lab.types import Problem, Verdict
from r1lab.verify.extract import extract_answer

INTEGER_RE = re.compile(r"^[-+]?\d+\.?$")
OPERANDS = 3
# Operand range: single digits, so that a model of a million parameters learns every single step
# (about 300 one-operation facts) from minutes of CPU pretraining. Two-digit operands (about 16,000
# facts) and 1-20 (about 1,600) were tried first: 500 pretraining steps did not teach those steps.
LOW, HIGH = 1, 9
# Held-out questions are those whose canonical text hashes into this bucket (stable across runs and
# Python versions because it uses our own hash, not hash()).
TEST_BUCKET = 7


def _stable_bucket(text: str, buckets: int = 10) -> int:
    return sum((i + 1) * ord(c) for i, c in enumerate(text)) % buckets


@functools.cache
def all_chains() -> list[tuple[list[int], list[str]]]:
    """Every valid chain (operands in [LOW, HIGH], every value in [0, 199]) in a fixed order."""
    chains = []
    for numbers in itertools.product(range(LOW, HIGH + 1), repeat=OPERANDS):
        for ops in itertools.product("+-", repeat=OPERANDS - 1):
            values = itertools.accumulate(zip(ops, numbers[1:]), lambda v, on: v + on[1] if on[0] == "+" else v - on[1],
                                          initial=numbers[0])
            if all(0 <= v <= 199 for v in values):
                chains.append((list(numbers), list(ops)))
    return chains


def question_text(numbers: list[int], ops: list[str]) -> str:
    parts = [str(numbers[0])]
    for op, n in zip(ops, numbers[1:]):
        parts += [op, str(n)]
    return "Compute " + " ".join(parts) + " ."


def evaluate(numbers: list[int], ops: list[str]) -> int:
    value = numbers[0]
    for op, n in zip(ops, numbers[1:]):
        value = value + n if op == "+" else value - n
    return value


class DemoTask:
    name = "demo"
    chat_instruction = "Put the final answer in \\boxed{}."

    def problems(self, split: str, n: int, seed: int) -> list[Problem]:
        """n problems of the split in a seeded order. The space is small (about 2,000 chains), so it
        is enumerated: the held-out split is every chain whose text falls in TEST_BUCKET, and asking
        for more train problems than exist cycles through them again in a fresh order."""
        pool = [c for c in all_chains() if (_stable_bucket(question_text(*c)) == TEST_BUCKET) == (split == "test")]
        if split == "test" and n > len(pool):
            raise ValueError(f"the demo task has {len(pool)} held-out problems; asked for {n}")
        rng = random.Random(f"demo-{split}-{seed}")
        order: list[tuple[list[int], list[str]]] = []
        while len(order) < n:
            chunk = pool[:]
            rng.shuffle(chunk)
            order.extend(chunk)
        return [
            Problem(id=f"demo-{split}-{i}", question=question_text(numbers, ops), answer=evaluate(numbers, ops),
                    meta={"numbers": numbers, "ops": ops})
            for i, (numbers, ops) in enumerate(order[:n])
        ]

    def prompt(self, problem: Problem) -> str:
        return problem.question

    def extract(self, response: str) -> str | None:
        return extract_answer(response)

    def verify(self, problem: Problem, response: str) -> Verdict:
        answer = self.extract(response)
        if answer is None:
            return Verdict("incorrect", 0.0, None, "no answer in the answer region")
        if not INTEGER_RE.match(answer):
            return Verdict("incorrect", 0.0, answer, "answer is not an integer")
        ok = int(answer.rstrip(".")) == int(problem.answer)
        return Verdict("correct" if ok else "incorrect", float(ok), answer)

    def verify_many(self, problems: list[Problem], responses: list[str]) -> list[Verdict]:
        return verify_each(self, problems, responses)

    def equivalent(self, a: str, b: str) -> bool:
        return same_text(a, b)


def make_task(spec: str, **options) -> DemoTask:
    if options:
        raise ValueError(f"task 'demo' takes no options, got {sorted(options)}")
    return DemoTask()
