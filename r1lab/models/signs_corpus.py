"""A synthetic pretraining corpus for the signs task ("Make 12 : 7 ? 8 ? 3 ." -> "7 + 8 - 3",
r1lab/tasks/signs.py) in the R1-Zero frame: mixed styles, slips, rare checks, and nothing that says
which way of working is better.

Styles of a response (what follows "Assistant:"):

- direct: the signs given at once. The writer's first guess is right with probability INTUITION,
  else a choice of signs drawn at random (which may also be right).
- steps: the same kind of guess, then worked out step by step, and answered without comparing its
  value with the target.
- check: a search. The guess worked out step by step, then its value and the target side by side
  with a verdict ("check 18 12 not ."); on "not", another guess the writer has not tried, up to
  MAX_TRIALS. The answer is the last guess. Worked steps slip (more often when they carry or borrow
  across a ten), so a check now and then flags a right guess or passes a wrong one.
- malformed: the frame broken, so that a format reward has something to teach.
- drill: no frame. Lines of single operations (always right), lines of "check a b so|not" pairs
  (always right), or sheets of a few searches as in a checked response. The verdict comes right
  after the second number: a model of this size learns that layout, and not one whose verdict comes
  a few tokens later (README, "Compare by copying").

Nothing marks a style as better: the first guess is as good in every style, worked steps slip at the
same rate everywhere, and whether a writer checks does not depend on the problem. A checked document
ends right more often only because checking works.

Every function is pure given its `random.Random`; `make_corpus(n, seed)` is the same list for the same
arguments on every machine.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from r1lab.models.corpus import DEFAULT_SLIPS, frame, work_steps
from r1lab.models.templates import R1_ZERO_TEMPLATE
from r1lab.tasks.demo import apply, evaluate, expression, held_out
from r1lab.tasks.signs import MAX_OPS, MIN_OPS, question_text, random_problem

STYLES = ("direct", "steps", "check", "malformed", "drill")
# Shares of documents: a checked response is about one framed document in seven.
DEFAULT_MIX = {"direct": 0.30, "steps": 0.28, "check": 0.09, "malformed": 0.025, "drill": 0.40}
# Shares of drills: single operations, compared pairs, sheets of searches.
DEFAULT_DRILLS = {"ops": 0.2, "compare": 0.3, "sheet": 0.5}
INTUITION = 0.3  # the writer's first guess is the question's own signs this often
MAX_TRIALS = 4
DRILL_LINES = (8, 14)
SHEET_SEARCHES = (2, 3)


@dataclass(frozen=True)
class Doc:
    """One corpus document. `prompt` is the R1-Zero frame up to "Assistant:" ("" for drills); the
    training text is prompt + response, followed by the EOS token."""

    style: str
    prompt: str
    response: str
    numbers: tuple[int, ...] = ()
    target: int | None = None
    answer_ops: tuple[str, ...] = ()  # the signs given in the answer

    @property
    def text(self) -> str:
        return self.prompt + self.response

    @property
    def correct(self) -> bool:
        return self.target is not None and evaluate(self.numbers, self.answer_ops) == self.target


def work(numbers, ops, rng: random.Random) -> tuple[list[str], int]:
    """A guess worked out step by step, each step slipping at the chain corpus's rates (more often
    across a ten): the lines and the value reached (later steps go on from the value as written)."""
    lines, values, _ = work_steps(numbers[0], numbers[1:], ops, rng, DEFAULT_SLIPS)
    return lines, values[-1]


def guess(ops, rng: random.Random, tried: list[list[str]]) -> list[str]:
    """The writer's next choice of signs: the right one at INTUITION on a first guess, else one not tried
    yet, at random."""
    if not tried and rng.random() < INTUITION:
        return list(ops)
    every = [list(s) for s in itertools.product("+-", repeat=len(ops))]
    untried = [s for s in every if s not in tried]
    return rng.choice(untried or every)


def search(numbers, ops, target: int, rng: random.Random) -> tuple[str, list[str]]:
    """Guesses, each worked and compared with the target, until one matches or MAX_TRIALS: the text and
    the last guess."""
    parts, tried = [], []
    for _ in range(MAX_TRIALS):
        signs = guess(ops, rng, tried)
        tried.append(signs)
        lines, value = work(numbers, signs, rng)
        verdict = "so" if value == target else "not"
        parts += [expression(numbers, signs) + " .", *lines, f"check {value} {target} {verdict} ."]
        if verdict == "so":
            break
    return " ".join(parts), signs


def render(style: str, numbers, ops, target: int, rng: random.Random) -> tuple[str, list[str]]:
    """A response of the style: the text and the signs it answers with."""
    if style == "check":
        think, signs = search(numbers, ops, target, rng)
        return frame(think, expression(numbers, signs)), signs
    signs = guess(ops, rng, [])
    answer = expression(numbers, signs)
    if style == "direct":
        think = rng.choice((f"it is {answer} .", f"the signs are {answer} .", f"easy , {answer} ."))
        return frame(think, answer), signs
    if style == "steps":
        lines, _ = work(numbers, signs, rng)
        return frame(" ".join([answer + " .", *lines]), answer), signs
    kind = rng.choice(("no_think", "no_tags", "unclosed", "trailing"))
    if kind == "no_think":
        return f" <answer> {answer} </answer>", signs
    if kind == "no_tags":
        return f" <think> {answer} . </think> the answer is {answer} .", signs
    if kind == "unclosed":
        return f" <think> {answer} . <answer> {answer} </answer>", signs
    return frame(answer + " .", answer) + " done .", signs


def train_problem(rng: random.Random) -> tuple[list[int], list[str], int]:
    """A problem of the task's default lengths whose question is in the train split."""
    while True:
        numbers, ops, target = random_problem(rng, rng.randint(MIN_OPS, MAX_OPS))
        if not held_out(question_text(numbers, target)):
            return numbers, ops, target


def render_drill(rng: random.Random, kinds: dict[str, float]) -> str:
    kind = rng.choices(list(kinds), weights=list(kinds.values()))[0]
    if kind == "ops":
        lines = []
        for _ in range(rng.randint(*DRILL_LINES)):
            x, y, op = rng.randint(0, 40), rng.randint(1, 9), rng.choice("+-")
            if apply(op, x, y) >= 0:
                lines.append(f"{x} {op} {y} = {apply(op, x, y)} .")
        return " ".join(lines)
    if kind == "compare":
        lines = []
        for _ in range(rng.randint(*DRILL_LINES)):
            a = rng.randint(0, 57)
            b = a if rng.random() < 0.5 else max(0, a + rng.choice((-10, -4, -2, -1, 1, 2, 4, 10)))
            lines.append(f"check {a} {b} {'so' if a == b else 'not'} .")
        return " ".join(lines)
    parts = []
    for _ in range(rng.randint(*SHEET_SEARCHES)):
        numbers, ops, target = train_problem(rng)
        think, _ = search(numbers, ops, target, rng)
        parts.append(question_text(numbers, target) + " " + think)
    return " ".join(parts)


def make_corpus(n: int, seed: int, mix: dict[str, float] | None = None,
                drills: dict[str, float] | None = None) -> list[Doc]:
    """About `n` documents (each style's share rounded) in shuffled order; framed documents use
    train-split problems only, so the held-out split stays unseen."""
    mix = dict(DEFAULT_MIX if mix is None else mix)
    drills = dict(DEFAULT_DRILLS if drills is None else drills)
    unknown = set(mix) - set(STYLES)
    if unknown:
        raise ValueError(f"unknown corpus styles {sorted(unknown)}; known: {', '.join(STYLES)}")
    rng = random.Random(f"signs-corpus-{seed}")
    total = sum(mix.values())
    styles = [s for s, w in mix.items() for _ in range(round(n * w / total))]
    rng.shuffle(styles)
    docs = []
    for style in styles:
        if style == "drill":
            docs.append(Doc("drill", "", render_drill(rng, drills)))
            continue
        numbers, ops, target = train_problem(rng)
        response, signs = render(style, numbers, ops, target, rng)
        docs.append(Doc(style, R1_ZERO_TEMPLATE.format(question=question_text(numbers, target)), response,
                        tuple(numbers), target, tuple(signs)))
    return docs
