"""The signs task: put + or - between the given numbers to make a target ("Make 12 : 7 ? 8 ? 3 ." ->
"7 + 8 - 3").

A search, not a computation. No working leads to the signs, so an answer given at once is a guess,
right about as often as one choice of signs in 2 ** operations. What pays is to guess, work the
guess out step by step, compare its value with the target and guess again when they differ: a
check that really does catch mistakes, the world in which R1-Zero-style RL can discover checking.

The difficulty knob is the number of operations (`min_ops` to `max_ops`, options of the task): the
search has 2 ** operations choices. Problems of every length come in turn. The numbers after the
first are distinct digits and the first is at least their sum, so every value along any choice of
signs stays >= 0. Any signs that make the target are right (7 ? 1 ? 1 makes 7 two ways); the answer
must use the question's numbers in their order. The held-out split is the demo task's: the questions
whose text hashes into one bucket. The arithmetic (`evaluate`, `expression`) is the demo task's too.
"""

from __future__ import annotations

import random
import re

from r1lab.tasks import answer_verdict, same_text, verify_each
from r1lab.tasks.demo import evaluate, held_out
from r1lab.types import Problem, Verdict
from r1lab.verify.extract import extract_answer

MIN_OPS, MAX_OPS = 1, 3
# The numbers after the first are distinct digits; the first exceeds their sum by at most FIRST_SLACK.
DIGITS = range(1, 10)
FIRST_SLACK = 9
# Draws in a row that found no new held-out question of a length before that length counts as used up
# (1 operation has 180 questions in all, 15 of them held out).
EXHAUSTED_AFTER = 2000
EXPRESSION_RE = re.compile(r"^\s*(\d+)((?:\s*[-+]\s*\d+)*)\s*\.?\s*$")
TERM_RE = re.compile(r"([-+])\s*(\d+)")


def question_text(numbers, target: int) -> str:
    return f"Make {target} : " + " ? ".join(map(str, numbers)) + " ."


def parse_expression(text: str | None) -> tuple[list[int], list[str]] | None:
    """"7 + 8 - 3" as ([7, 8, 3], ["+", "-"]); None for anything that is not numbers joined by + and -."""
    match = EXPRESSION_RE.match(text or "")
    if match is None:
        return None
    terms = TERM_RE.findall(match.group(2))
    return [int(match.group(1)), *(int(n) for _, n in terms)], [op for op, _ in terms]


def random_problem(rng: random.Random, operations: int) -> tuple[list[int], list[str], int]:
    """Numbers, the signs the target was made with, and the target."""
    rest = rng.sample(DIGITS, operations)
    first = rng.randint(sum(rest), sum(rest) + FIRST_SLACK)
    numbers = [first, *rest]
    ops = [rng.choice("+-") for _ in range(operations)]
    return numbers, ops, evaluate(numbers, ops)


class SignsTask:
    name = "signs"
    chat_instruction = "Put the final answer in \\boxed{}."

    def __init__(self, min_ops: int = MIN_OPS, max_ops: int = MAX_OPS):
        if not 1 <= min_ops <= max_ops <= len(DIGITS):
            raise ValueError(f"task 'signs': need 1 <= min_ops <= max_ops <= {len(DIGITS)}, got {min_ops} and {max_ops}")
        self.min_ops, self.max_ops = min_ops, max_ops

    def problems(self, split: str, n: int, seed: int) -> list[Problem]:
        """n problems of the split from a seeded draw, the lengths min_ops..max_ops in turn. Held-out
        questions never repeat within a draw: a length whose held-out questions are used up drops out
        of the turn (1 operation has 15), and asking for more than the split holds is an error."""
        rng = random.Random(f"signs-{split}-{seed}")
        lengths = list(range(self.min_ops, self.max_ops + 1))
        out: list[Problem] = []
        seen: set[str] = set()
        turn = misses = 0
        while len(out) < n:
            if not lengths:
                raise ValueError(f"the signs task has {len(out)} held-out problems of {self.min_ops} to "
                                 f"{self.max_ops} operations; asked for {n}")
            operations = lengths[turn % len(lengths)]
            numbers, ops, target = random_problem(rng, operations)
            question = question_text(numbers, target)
            if held_out(question) != (split == "test"):
                continue
            if split == "test" and question in seen:
                misses += 1
                if misses == EXHAUSTED_AFTER:
                    lengths.remove(operations)
                    misses = 0
                continue
            misses = 0
            turn += 1
            seen.add(question)
            out.append(Problem(id=f"signs-{split}-{len(out)}", question=question, answer=target,
                               meta={"numbers": numbers, "ops": ops, "operations": operations}))
        return out

    def prompt(self, problem: Problem) -> str:
        return problem.question

    def extract(self, response: str) -> str | None:
        return extract_answer(response)

    def verify(self, problem: Problem, response: str) -> Verdict:
        return answer_verdict(self.extract(response), lambda answer: judge(problem, answer))

    def verify_many(self, problems: list[Problem], responses: list[str]) -> list[Verdict]:
        return verify_each(self, problems, responses)

    def equivalent(self, a: str, b: str) -> bool:
        """Two answers agree when they use the same numbers and make the same value (cons@k votes)."""
        pa, pb = parse_expression(a), parse_expression(b)
        if pa is None or pb is None:
            return same_text(a, b)
        return pa[0] == pb[0] and evaluate(*pa) == evaluate(*pb)


def judge(problem: Problem, answer: str) -> Verdict:
    """An answer is right when it joins the question's numbers, in order, with signs that make the target."""
    parsed = parse_expression(answer)
    if parsed is None:
        return Verdict("incorrect", 0.0, answer, "answer is not the numbers joined by + and -")
    numbers, ops = parsed
    if numbers != list(problem.meta["numbers"]):
        return Verdict("incorrect", 0.0, answer, "answer does not use the question's numbers in order")
    ok = evaluate(numbers, ops) == int(problem.answer)
    return Verdict("correct" if ok else "incorrect", float(ok), answer, "" if ok else "makes another value")


def make_task(spec: str, min_ops: int = MIN_OPS, max_ops: int = MAX_OPS) -> SignsTask:
    """The signs task; `min_ops` and `max_ops` (task_options) set the difficulty: operations per question."""
    return SignsTask(min_ops=min_ops, max_ops=max_ops)
