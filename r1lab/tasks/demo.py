"""The chain task (named `demo`, the demo's first task; `r1lab demo` now runs `signs`): evaluate a chain
of additions and subtractions of digits ("Compute 7 + 8 - 9 + 6 .").

Chosen so that a model of about a million parameters can learn every single step (a value below 60
plus or minus a digit) but slips now and then, more often on steps that carry or borrow across a
ten, so that a single pass through a long chain goes wrong at a rate that grows with the
chain's length. Reasoning step by step pays over answering at once, and checking an answer done in
one's head by working the chain (and keeping the worked value where the two differ) pays over
trusting it: the world R1-Zero-style RL should discover that from a base model which rarely checks
itself.

The difficulty knob is the number of operations (`min_ops` to `max_ops`, options of the task);
problems of every length come in turn, so a held-out set of 64 has a third of each by default, the
hardest included. Problems are generated from a seed; the held-out split never shares a question
with the train split (it is the set of questions whose text hashes into one bucket).
"""

from __future__ import annotations

import random
import re

from r1lab.tasks import same_text, verify_each
from r1lab.types import Problem, Verdict
from r1lab.verify.extract import extract_answer

INTEGER_RE = re.compile(r"^[-+]?\d+\.?$")
# Operations per chain: 2 to 4 by default. Longer chains cost the CPU demo tokens and pretraining
# time; shorter ones leave a single pass little room to slip.
MIN_OPS, MAX_OPS = 2, 4
# Operands are distinct digits: every step is "a value below 40 +/- a digit", a few hundred facts,
# which a model of a million parameters learns from minutes of CPU pretraining. A two-digit first
# operand (about 2,700 facts) was not learned in 800 steps, nor were two-digit operands throughout
# (about 16,000 facts) in 500. Distinct operands make "which operand comes next" unambiguous to
# look up in the question: with repeats allowed, a model of 2,200 pretraining steps still picked the
# wrong one in most chains of 4 or 5 operations.
LOW, HIGH = 1, 9
VALUE_LOW, VALUE_HIGH = 0, 199  # every value along a chain (each is one token of the tiny base model)
# Held-out questions are those whose canonical text hashes into this bucket (stable across runs and
# Python versions because it uses our own hash, not hash()).
TEST_BUCKET = 7


def _stable_bucket(text: str, buckets: int = 10) -> int:
    return sum((i + 1) * ord(c) for i, c in enumerate(text)) % buckets


def held_out(question: str) -> bool:
    """Whether a question belongs to the held-out split."""
    return _stable_bucket(question) == TEST_BUCKET


def apply(op: str, x: int, y: int) -> int:
    return x + y if op == "+" else x - y


def values_along(numbers, ops) -> list[int]:
    """The value after each operation, left to right."""
    values, value = [], numbers[0]
    for op, n in zip(ops, numbers[1:], strict=True):
        value = apply(op, value, n)
        values.append(value)
    return values


def evaluate(numbers, ops) -> int:
    return values_along(numbers, ops)[-1] if ops else numbers[0]


def crosses_ten(x: int, op: str, y: int) -> bool:
    """True when the step carries or borrows: its result lies in another ten than its start
    (7 + 8 = 15, 12 - 7 = 5). These are the steps people, and small models, slip on."""
    return x // 10 != apply(op, x, y) // 10


def expression(numbers, ops) -> str:
    """The chain as the question writes it: "7 + 8 - 9"."""
    parts = [str(numbers[0])]
    for op, n in zip(ops, numbers[1:]):
        parts += [op, str(n)]
    return " ".join(parts)


def question_text(numbers, ops) -> str:
    return f"Compute {expression(numbers, ops)} ."


def random_chain(rng: random.Random, operations: int) -> tuple[list[int], list[str]]:
    """A chain of `operations` steps on distinct digits whose every value stays in [VALUE_LOW, VALUE_HIGH]."""
    while True:
        numbers = rng.sample(range(LOW, HIGH + 1), operations + 1)
        ops = [rng.choice("+-") for _ in range(operations)]
        if all(VALUE_LOW <= v <= VALUE_HIGH for v in values_along(numbers, ops)):
            return numbers, ops


class DemoTask:
    name = "demo"
    chat_instruction = "Put the final answer in \\boxed{}."

    def __init__(self, min_ops: int = MIN_OPS, max_ops: int = MAX_OPS):
        if not 1 <= min_ops <= max_ops:
            raise ValueError(f"task 'demo': need 1 <= min_ops <= max_ops, got {min_ops} and {max_ops}")
        self.min_ops, self.max_ops = min_ops, max_ops

    def problems(self, split: str, n: int, seed: int) -> list[Problem]:
        """n problems of the split from a seeded draw; the i-th has min_ops + i % levels operations,
        so every difficulty is equally represented in any prefix. Held-out questions never repeat
        within a draw; train questions may (the train space is large, repeats are rare)."""
        rng = random.Random(f"demo-{split}-{seed}")
        levels = self.max_ops - self.min_ops + 1
        out: list[Problem] = []
        seen: set[str] = set()
        misses = 0
        while len(out) < n:
            operations = self.min_ops + len(out) % levels
            numbers, ops = random_chain(rng, operations)
            question = question_text(numbers, ops)
            if held_out(question) != (split == "test") or (
                    split == "test" and question in seen):
                misses += 1
                if misses > 100_000:  # the held-out chains of this length are used up
                    raise ValueError(f"the demo task has about {len(out) // levels} held-out problems of each "
                                     f"length; asked for {n}")
                continue
            misses = 0
            seen.add(question)
            out.append(Problem(id=f"demo-{split}-{len(out)}", question=question, answer=evaluate(numbers, ops),
                               meta={"numbers": numbers, "ops": ops, "operations": operations}))
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

    def verify_many(self, problems: list[Problem], responses: list[str]) -> list[Verdict]:
        return verify_each(self, problems, responses)

    def equivalent(self, a: str, b: str) -> bool:
        return same_text(a, b)


def make_task(spec: str, min_ops: int = MIN_OPS, max_ops: int = MAX_OPS) -> DemoTask:
    """The demo task; `min_ops` and `max_ops` (task_options) set the difficulty: operations per chain."""
    return DemoTask(min_ops=min_ops, max_ops=max_ops)
