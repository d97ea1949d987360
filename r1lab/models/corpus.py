"""The synthetic pretraining corpus of the embedded tiny base model: worked solutions to the demo task
("Compute a + b - c .", r1lab/tasks/demo.py) in the R1-Zero frame, written in the mixed styles that
real pretraining text has, with some wrong answers and no preference signal.

Styles of a response (what follows "Assistant:"):

- direct: a one-line think block and the answer. The model has to evaluate the whole chain in one
  shot, which a model of a few million parameters does poorly; a share of these answers are also
  wrong by a little, as quick answers on the web are.
- steps: one operation per step ("36 + 69 = 105 . 105 - 10 = 95 ."), now and then with a slip.
- check: steps, then "wait , let me check" and the inverse operations, newest step first; a slip is
  caught by the check and the chain is redone from the slipped step.
- malformed: the frame broken (no think block, no answer tags, an unclosed think block, text after
  the answer), so that a format reward has something to teach.

Nothing in the corpus says which style is better: RL has to find out that working step by step pays.
Besides the framed documents there are "drill" documents, bare lines of single operations, the kind
of arithmetic any pretraining crawl holds plenty of; they teach one step, never a whole chain.

Every function is pure given its `random.Random`; `make_corpus(n, seed)` is the same list for the
same arguments on every machine.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from r1lab.models.templates import R1_ZERO_TEMPLATE
from r1lab.tasks.demo import HIGH as OPERAND_HIGH
from r1lab.tasks.demo import LOW as OPERAND_LOW
from r1lab.tasks.demo import DemoTask, evaluate, question_text

STYLES = ("direct", "steps", "check", "malformed", "drill")
# Shares of documents. Tuned so that the built model answers ~0.3 of held-out problems at
# temperature 0.6 and working step by step is clearly more accurate than answering directly.
DEFAULT_MIX = {"direct": 0.40, "steps": 0.18, "check": 0.09, "malformed": 0.04, "drill": 0.29}
# Share of documents of a style that contain a slip (an arithmetic error). Direct answers are often
# off; worked steps rarely; self-checks slip more so that catching a slip is well represented.
DEFAULT_SLIP = {"direct": 0.45, "steps": 0.08, "check": 0.35, "malformed": 0.3, "drill": 0.0}
DRILL_LINES = (8, 14)
LOW, HIGH = 0, 199  # every value in a demo chain stays in this range (r1lab/tasks/demo.py)


@dataclass(frozen=True)
class Doc:
    """One corpus document. `prompt` is the R1-Zero frame up to "Assistant:" ("" for drills);
    the training text is prompt + response, followed by the EOS token."""

    style: str
    prompt: str
    response: str
    numbers: tuple[int, ...] = ()
    ops: tuple[str, ...] = ()
    answer_given: int | None = None  # the value written in the answer (None for drills)
    slipped: bool = False  # True when a step (or the direct answer) is deliberately wrong

    @property
    def text(self) -> str:
        return self.prompt + self.response

    @property
    def correct(self) -> bool:
        return self.answer_given == evaluate(list(self.numbers), list(self.ops))


def apply(op: str, x: int, y: int) -> int:
    return x + y if op == "+" else x - y


def inverse(op: str) -> str:
    return "-" if op == "+" else "+"


def slip(value: int, rng: random.Random) -> int:
    """A plausible arithmetic error: off by one or two, or a dropped/extra carry (off by ten)."""
    while True:
        wrong = value + rng.choice((-10, -2, -1, 1, 2, 10))
        if LOW <= wrong <= HIGH:
            return wrong


def equation(x: int, op: str, y: int, z: int) -> str:
    return f"{x} {op} {y} = {z} ."


def work_steps(numbers, ops, slip_at: int | None = None,
               rng: random.Random | None = None) -> tuple[list[str], list[int]]:
    """Equations for the chain left to right, and the values they write. At step `slip_at` the
    written result is wrong; later steps compute correctly from the wrong value."""
    lines, values = [], []
    value = numbers[0]
    for k, (op, n) in enumerate(zip(ops, numbers[1:], strict=True)):
        result = apply(op, value, n)
        if k == slip_at:
            result = slip(result, rng)
        lines.append(equation(value, op, n, result))
        values.append(result)
        value = result
    return lines, values


def frame(think: str, answer: int) -> str:
    return f" <think> {think} </think> <answer> {answer} </answer>"


def render_direct(numbers, ops, slipped: bool, rng: random.Random) -> tuple[str, int]:
    value = evaluate(list(numbers), list(ops))
    answer = slip(value, rng) if slipped else value
    expr = question_text(list(numbers), list(ops))[len("Compute "):-2]
    think = rng.choice((
        f"the answer is {answer} .",
        f"{expr} is {answer} .",
        f"easy , it is {answer} .",
    ))
    return frame(think, answer), answer


def render_steps(numbers, ops, slipped: bool, rng: random.Random) -> tuple[str, int]:
    slip_at = rng.randrange(len(ops)) if slipped else None
    lines, values = work_steps(numbers, ops, slip_at, rng)
    answer = values[-1]
    lead = rng.choice(("", "", "step by step . "))
    tail = rng.choice(("", f" so the answer is {answer} ."))
    return frame(lead + " ".join(lines) + tail, answer), answer


def check_text(numbers, ops, values: list[int]) -> tuple[str, int]:
    """Undo the steps newest first with the inverse operation. Where undoing a step does not give
    back the value it started from, that step slipped: say so, and redo the chain from there."""
    starts = [numbers[0]] + values[:-1]  # the value each step started from, as written
    parts = ["wait , let me check ."]
    for k in reversed(range(len(ops))):
        n, op = numbers[k + 1], ops[k]
        back = apply(inverse(op), values[k], n)
        if back == starts[k]:
            parts.append(f"{values[k]} {inverse(op)} {n} = {back} .")
            continue
        parts.append(f"{values[k]} {inverse(op)} {n} = {back} , not {starts[k]} . so")
        redo, redo_values = work_steps([starts[k]] + list(numbers[k + 1:]), ops[k:])
        parts.extend(redo)
        return " ".join(parts), redo_values[-1]
    parts.append("it checks out .")
    return " ".join(parts), values[-1]


def render_check(numbers, ops, slipped: bool, rng: random.Random) -> tuple[str, int]:
    slip_at = rng.randrange(len(ops)) if slipped else None
    lines, values = work_steps(numbers, ops, slip_at, rng)
    checked, answer = check_text(numbers, ops, values)
    return frame(" ".join(lines) + " " + checked, answer), answer


def render_malformed(numbers, ops, slipped: bool, rng: random.Random) -> tuple[str, int]:
    lines, values = work_steps(numbers, ops, rng.randrange(len(ops)) if slipped else None, rng)
    work, answer = " ".join(lines), values[-1]
    kind = rng.choice(("no_think", "no_tags", "unclosed", "trailing"))
    if kind == "no_think":
        return f" <answer> {answer} </answer>", answer
    if kind == "no_tags":
        return f" <think> {work} </think> the answer is {answer} .", answer
    if kind == "unclosed":
        return f" <think> {work} <answer> {answer} </answer>", answer
    return frame(work, answer) + " done .", answer


RENDER = {"direct": render_direct, "steps": render_steps, "check": render_check,
          "malformed": render_malformed}


def render_drill(rng: random.Random) -> str:
    """Single operations with the ranges of demo chains: left value an operand or an intermediate
    value (at most twice the largest operand), right an operand, result in [0, 199]."""
    lines = []
    while len(lines) < rng.randint(*DRILL_LINES):
        x, y, op = rng.randint(0, 2 * OPERAND_HIGH), rng.randint(OPERAND_LOW, OPERAND_HIGH), rng.choice("+-")
        z = apply(op, x, y)
        if LOW <= z <= HIGH:
            lines.append(equation(x, op, y, z))
    return " ".join(lines)


def style_counts(n: int, mix: dict[str, float]) -> dict[str, int]:
    """Exact document counts per style (largest remainders), so that shares hold for any n."""
    total = sum(mix.values())
    raw = {s: n * w / total for s, w in mix.items()}
    counts = {s: int(r) for s, r in raw.items()}
    for s in sorted(raw, key=lambda s: raw[s] - counts[s], reverse=True)[: n - sum(counts.values())]:
        counts[s] += 1
    return counts


def make_corpus(n: int, seed: int, mix: dict[str, float] | None = None,
                slip_rate: dict[str, float] | None = None) -> list[Doc]:
    """`n` documents in shuffled order. Framed documents use train-split demo problems only, so the
    held-out split stays unseen."""
    mix = dict(DEFAULT_MIX if mix is None else mix)
    slip_rate = {**DEFAULT_SLIP, **(slip_rate or {})}
    unknown = set(mix) - set(STYLES)
    if unknown:
        raise ValueError(f"unknown corpus styles {sorted(unknown)}; known: {', '.join(STYLES)}")
    rng = random.Random(f"r1lab-corpus-{seed}")
    counts = style_counts(n, mix)
    styles = [s for s in STYLES for _ in range(counts.get(s, 0))]
    rng.shuffle(styles)
    framed = sum(s != "drill" for s in styles)
    problems = iter(DemoTask().problems("train", framed, seed=seed))
    docs = []
    for style in styles:
        if style == "drill":
            docs.append(Doc("drill", "", render_drill(rng)))
            continue
        p = next(problems)
        numbers, ops = tuple(p.meta["numbers"]), tuple(p.meta["ops"])
        slipped = rng.random() < slip_rate[style]
        response, answer = RENDER[style](numbers, ops, slipped, rng)
        prompt = R1_ZERO_TEMPLATE.format(question=p.question)
        docs.append(Doc(style, prompt, response, numbers, ops, answer, slipped))
    return docs
