"""The demo task: evaluate a chain of two additions or subtractions of three small numbers.

Chosen so that a model of a few million parameters can learn every single step (one small
operation) but not reliably the whole chain at once: reasoning step by step pays off, which is what
R1-Zero-style RL should discover from a base model that mixes direct guesses and worked solutions.
Problems are generated from a seed; the held-out split never shares a question with the train split.
"""

from __future__ import annotations

import random
import re

from r1lab.types import Problem, Verdict
from r1lab.verify.extract import extract_answer

INTEGER_RE = re.compile(r"^[-+]?\d+\.?$")
OPERANDS = 3
# Operand range. Small enough that a model of a few million parameters learns every single step from a
# few minutes of pretraining (about 1,600 one-operation facts), large enough that a whole chain
# (about 30,000 of them) cannot be memorised in one shot.
LOW, HIGH = 1, 20
# Held-out questions are those whose canonical text hashes into this bucket (stable across runs and
# Python versions because it uses our own hash, not hash()).
TEST_BUCKET = 7


def _stable_bucket(text: str, buckets: int = 10) -> int:
    return sum((i + 1) * ord(c) for i, c in enumerate(text)) % buckets


def random_chain(rng: random.Random) -> tuple[list[int], list[str]]:
    """Operands and operators with every intermediate and final value in [0, 199]."""
    while True:
        numbers = [rng.randint(LOW, HIGH) for _ in range(OPERANDS)]
        ops = [rng.choice("+-") for _ in range(OPERANDS - 1)]
        value, ok = numbers[0], True
        for op, n in zip(ops, numbers[1:]):
            value = value + n if op == "+" else value - n
            ok = ok and 0 <= value <= 199
        if ok:
            return numbers, ops


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
        # Different streams for the two splits; the bucket rule keeps them disjoint.
        rng = random.Random(f"demo-{split}-{seed}")
        want_test = split == "test"
        out: list[Problem] = []
        seen: set[str] = set()
        while len(out) < n:
            numbers, ops = random_chain(rng)
            q = question_text(numbers, ops)
            if (_stable_bucket(q) == TEST_BUCKET) != want_test or q in seen:
                continue
            seen.add(q)
            out.append(Problem(id=f"demo-{split}-{len(out)}", question=q, answer=evaluate(numbers, ops),
                               meta={"numbers": numbers, "ops": ops}))
        return out

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


def make_task(spec: str, **options) -> DemoTask:
    if options:
        raise ValueError(f"task 'demo' takes no options, got {sorted(options)}")
    return DemoTask()
