"""The synthetic pretraining corpus of the embedded tiny base model: worked solutions to the demo task
("Compute 7 + 8 - 9 + 6 .", r1lab/tasks/demo.py) in the R1-Zero frame, written the way people
write on the web: in mixed styles, with slips, now and then checked, now and then drifting into a
second script, and with nothing that says which way of working is better.

Styles of a response (what follows "Assistant:"):

- direct: a one-line think block and the answer, the chain done in one's head; each operation slips
  with a high probability, so long chains are mostly answered wrong.
- steps: one operation per step ("7 + 8 = 15 . 15 - 9 = 6 ."). Each step slips with a small
  probability, larger when it carries or borrows across a ten; a slipped value is carried on, so
  a slip anywhere makes the answer wrong.
- check: steps written the same way (same slips), each followed by its check, the inverse operation
  ("7 + 8 = 15 . check 15 - 8 = 7 ."). Where undoing a step does not give back the value it started
  from, the writer says so and redoes the step ("7 + 8 = 14 . check 14 - 8 = 6 . wait , not 7 .
  7 + 8 = 15 . check 15 - 8 = 7 ."). Checks are rare (a few percent of documents) and imperfect: an
  inverse operation slips now and then, which flags a step that was right (harmless: the redo gives
  the same value), and a redo can slip again. The check sits right after its step, so that a model
  of a million parameters can learn it: a check of the whole chain at the end, newest step first,
  was tried first and the model never learned to carry it out.
- malformed: the frame broken (no think block, no answer tags, an unclosed think block, text after
  the answer), so that a format reward has something to teach.
- drill: bare lines of single operations and no frame, the arithmetic any crawl holds plenty of; they
  teach one step, never a whole chain. Half are plain and never wrong; half are exercise sheets
  where each operation is checked by its inverse, with the writer's slips caught and redone. They
  teach how to check a step (a model of a million parameters did not learn it from the rare checked
  responses alone); whether to check while answering, only the rare checked responses show.

Second script: some documents drift, after their first step, into Chinese words ("检查" for "check",
"等等 , 不是 7 ." for "wait , not 7 .", "所以答案是 12 ." for "so the answer is 12 ."), the way multilingual
pretraining text does; numbers and equations stay as they are. Long reasoning drifts more often than
short: a third of the self-checks go back over the work in Chinese, a few percent of the other
documents drift. Whether a document drifts does not depend on whether it is right.

Nothing in the corpus marks a style as better: slips hit worked steps at the same rate whether or not
the writer checks afterwards, and whether a writer checks does not depend on whether they slipped. A
checked document ends right more often only because checking works.

Every function is pure given its `random.Random`; `make_corpus(n, seed)` is the same list for the
same arguments on every machine.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

from r1lab.models.templates import R1_ZERO_TEMPLATE
from r1lab.tasks.demo import HIGH as OPERAND_HIGH
from r1lab.tasks.demo import LOW as OPERAND_LOW
from r1lab.tasks.demo import VALUE_HIGH, VALUE_LOW, DemoTask, apply, crosses_ten, evaluate, question_text

STYLES = ("direct", "steps", "check", "malformed", "drill")
# Shares of documents. Checks are rare: a few percent of the framed documents.
DEFAULT_MIX = {"direct": 0.31, "steps": 0.33, "check": 0.08, "malformed": 0.025, "drill": 0.255}
DRILL_LINES = (8, 14)
# Share of drills that are exercise sheets with each operation checked by its inverse: where the
# model learns how to check a step, apart from whether a response does.
CHECKED_DRILLS = 0.5
# Drill operations start anywhere a demo chain can be (a digit, then up to four more added).
DRILL_START_HIGH = 35


@dataclass(frozen=True)
class SlipRates:
    """How often the corpus's writer gets an operation wrong (off by 1 or 2, or a dropped or extra
    carry: off by 10)."""

    plain: float = 0.03  # a worked step that stays within its ten
    carry: float = 0.12  # a worked step that carries or borrows across a ten
    check: float = 0.02  # an inverse operation inside a self-check
    direct: float = 0.2  # each operation of a chain done in one's head (a direct answer)


DEFAULT_SLIPS = SlipRates()
# Share of the documents of a style that drift into the second script. Self-checks, the longest
# reasoning, drift most: R1-Zero's language mixing showed in its long chains of thought
# (DeepSeek-AI 2025, section 2.3.2).
DEFAULT_DRIFT = {"direct": 0.06, "steps": 0.06, "check": 0.35}

PHRASES = {
    "latin": {"lead": "step by step .", "tail": "so the answer is {a} .", "check": "check",
              "flag": "wait , not {x} .",
              "direct": ("the answer is {a} .", "{expr} is {a} .", "easy , it is {a} .")},
    "cjk": {"tail": "所以答案是 {a} .", "check": "检查", "flag": "等等 , 不是 {x} .",
            "direct": ("答案是 {a} .", "{expr} 是 {a} .", "很简单 , 是 {a} .")},
}


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
    slips: int = 0  # operations the writer got wrong in the first pass (direct: in their head)
    caught: bool = False  # a self-check flagged a step that had really slipped
    drift: bool = False  # words after the first step are in the second script

    @property
    def text(self) -> str:
        return self.prompt + self.response

    @property
    def slipped(self) -> bool:
        return self.slips > 0

    @property
    def correct(self) -> bool:
        return self.answer_given == evaluate(list(self.numbers), list(self.ops))


def inverse(op: str) -> str:
    return "-" if op == "+" else "+"


SLIPS = (-10, -2, -1, 1, 2, 10)


def slip(value: int, rng: random.Random) -> int:
    """A plausible arithmetic error: off by one or two, or a dropped/extra carry (off by ten), within
    the values a chain can take."""
    if not any(VALUE_LOW <= value + d <= VALUE_HIGH for d in SLIPS):  # else the draw below never ends
        raise ValueError(f"no slip of {value} stays within [{VALUE_LOW}, {VALUE_HIGH}]")
    while True:  # drawing until one fits, rather than from the fitting ones, keeps every seed's corpus as built
        wrong = value + rng.choice(SLIPS)
        if VALUE_LOW <= wrong <= VALUE_HIGH:
            return wrong


def equation(x: int, op: str, y: int, z: int) -> str:
    return f"{x} {op} {y} = {z} ."


def step_slip_rate(x: int, op: str, y: int, rates: SlipRates) -> float:
    return rates.carry if crosses_ten(x, op, y) else rates.plain


def work_steps(start: int, operands, ops, rng: random.Random | None = None,
               rates: SlipRates | None = None) -> tuple[list[str], list[int], int]:
    """Equations for the chain from `start`, left to right: the lines, the values they write and the
    number of slips. Without `rates` every step is right; with them each step slips with its rate,
    and later steps compute correctly from the value as written."""
    lines, values, slips = [], [], 0
    value = start
    for op, n in zip(ops, operands, strict=True):
        result = apply(op, value, n)
        if rates is not None and rng.random() < step_slip_rate(value, op, n, rates):
            result, slips = slip(result, rng), slips + 1
        lines.append(equation(value, op, n, result))
        values.append(result)
        value = result
    return lines, values, slips


def frame(think: str, answer: int) -> str:
    return f" <think> {think} </think> <answer> {answer} </answer>"


def render_direct(numbers, ops, rng, rates: SlipRates, script: str) -> tuple[str, int, int, bool]:
    value, slips = numbers[0], 0
    for op, n in zip(ops, numbers[1:]):
        value = apply(op, value, n)
        if rng.random() < rates.direct:
            value, slips = slip(value, rng), slips + 1
    expr = question_text(numbers, ops)[len("Compute "):-2]
    think = rng.choice(PHRASES[script]["direct"]).format(a=value, expr=expr)
    return frame(think, value), value, slips, False


def render_steps(numbers, ops, rng, rates: SlipRates, script: str) -> tuple[str, int, int, bool]:
    lines, values, slips = work_steps(numbers[0], numbers[1:], ops, rng, rates)
    answer = values[-1]
    lead = rng.choice(("", "", PHRASES["latin"]["lead"] + " "))
    tail = rng.choice(("", " " + PHRASES[script]["tail"].format(a=answer)))
    return frame(lead + " ".join(lines) + tail, answer), answer, slips, False


def checked_steps(start: int, operands, ops, rng: random.Random | None = None, rates: SlipRates | None = None,
                  script: str = "latin", max_redos: int = 2) -> tuple[list[str], list[int], int, bool]:
    """Steps as `work_steps` writes them, each followed by its check: the inverse operation, which
    should give back the value the step started from ("7 + 9 = 16 . check 16 - 9 = 7 ."). Where it
    does not, the writer says so and redoes the step, checking the redo too ("7 + 9 = 15 . check
    15 - 9 = 6 . wait , not 7 . 7 + 9 = 16 . check 16 - 9 = 7 ."), at most `max_redos` times.
    Returns the text pieces, the value kept after each step, the slips of first attempts and whether
    a check flagged a step that had really slipped. With `rates`, steps, redos and inverse operations
    slip at their rates: an inverse that slips flags a right step, and the redo gives the same value."""
    words = PHRASES[script]
    parts, values, slips, caught = [], [], 0, False
    value = start
    for op, n in zip(ops, operands, strict=True):
        for attempt in range(max_redos + 1):
            result = apply(op, value, n)
            if rates is not None and rng.random() < step_slip_rate(value, op, n, rates):
                result, slips = slip(result, rng), slips + (attempt == 0)
            back = apply(inverse(op), result, n)
            if rates is not None and rng.random() < rates.check:
                back = slip(back, rng)
            parts += [equation(value, op, n, result), f"{words['check']} {equation(result, inverse(op), n, back)}"]
            if back == value or attempt == max_redos:
                break
            parts.append(words["flag"].format(x=value))
            caught = caught or result != apply(op, value, n)
        values.append(result)
        value = result
    return parts, values, slips, caught


def render_check(numbers, ops, rng, rates: SlipRates, script: str) -> tuple[str, int, int, bool]:
    lead = rng.choice(("", "", PHRASES["latin"]["lead"] + " "))
    parts, values, slips, caught = checked_steps(numbers[0], numbers[1:], ops, rng, rates, script)
    return frame(lead + " ".join(parts), values[-1]), values[-1], slips, caught


def render_malformed(numbers, ops, rng, rates: SlipRates, script: str) -> tuple[str, int, int, bool]:
    lines, values, slips = work_steps(numbers[0], numbers[1:], ops, rng, rates)
    work, answer = " ".join(lines), values[-1]
    kind = rng.choice(("no_think", "no_tags", "unclosed", "trailing"))
    if kind == "no_think":
        return f" <answer> {answer} </answer>", answer, slips, False
    if kind == "no_tags":
        return f" <think> {work} </think> the answer is {answer} .", answer, slips, False
    if kind == "unclosed":
        return f" <think> {work} <answer> {answer} </answer>", answer, slips, False
    return frame(work, answer) + " done .", answer, slips, False


RENDER = {"direct": render_direct, "steps": render_steps, "check": render_check, "malformed": render_malformed}


def drill_operations(rng: random.Random, count: int) -> list[tuple[int, str, int]]:
    """Single operations with the ranges of demo chains: a value a chain can reach, plus or minus a
    digit."""
    out = []
    while len(out) < count:
        x, y, op = rng.randint(0, DRILL_START_HIGH), rng.randint(OPERAND_LOW, OPERAND_HIGH), rng.choice("+-")
        if VALUE_LOW <= apply(op, x, y) <= VALUE_HIGH:
            out.append((x, op, y))
    return out


def render_drill(rng: random.Random, rates: SlipRates | None = None) -> tuple[str, int, bool]:
    """A drill: bare single operations, always right; or, with `rates`, an exercise sheet where each
    operation is checked by its inverse (the writer slips at their rates, and a flagged operation is
    redone, as in checked documents). Returns the text, the slips and whether a check caught one."""
    operations = drill_operations(rng, rng.randint(*DRILL_LINES))
    if rates is None:
        return " ".join(equation(x, op, y, apply(op, x, y)) for x, op, y in operations), 0, False
    parts, slips, caught = [], 0, False
    for x, op, y in operations[: len(operations) // 2]:  # a checked operation is twice as long
        lines, _, slipped, found = checked_steps(x, [y], [op], rng, rates)
        parts += lines
        slips, caught = slips + slipped, caught or found
    return " ".join(parts), slips, caught


def style_counts(n: int, mix: dict[str, float]) -> dict[str, int]:
    """Exact document counts per style (largest remainders), so that shares hold for any n."""
    total = sum(mix.values())
    raw = {s: n * w / total for s, w in mix.items()}
    counts = {s: int(r) for s, r in raw.items()}
    for s in sorted(raw, key=lambda s: raw[s] - counts[s], reverse=True)[: n - sum(counts.values())]:
        counts[s] += 1
    return counts


def corpus_settings(mix: dict[str, float] | None = None, slips: SlipRates | None = None,
                    drift: dict[str, float] | None = None) -> dict:
    """The corpus's knobs as plain data (for build_info.json and the model card)."""
    return {"mix": dict(DEFAULT_MIX if mix is None else mix), "slip_rates": asdict(slips or DEFAULT_SLIPS),
            "drift": dict(DEFAULT_DRIFT if drift is None else drift)}


def make_corpus(n: int, seed: int, mix: dict[str, float] | None = None, slips: SlipRates | None = None,
                drift: dict[str, float] | None = None) -> list[Doc]:
    """`n` documents in shuffled order. Framed documents use train-split demo problems only, so the
    held-out split stays unseen."""
    settings = corpus_settings(mix, slips, drift)
    mix, rates, drift = settings["mix"], SlipRates(**settings["slip_rates"]), settings["drift"]
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
            checked = rng.random() < CHECKED_DRILLS
            text, slips, caught = render_drill(rng, rates if checked else None)
            docs.append(Doc("drill", "", text, slips=slips, caught=caught))
            continue
        p = next(problems)
        numbers, ops = tuple(p.meta["numbers"]), tuple(p.meta["ops"])
        drifts = rng.random() < drift.get(style, 0.0)
        response, answer, slips, caught = RENDER[style](numbers, ops, rng, rates, "cjk" if drifts else "latin")
        prompt = R1_ZERO_TEMPLATE.format(question=p.question)
        docs.append(Doc(style, prompt, response, numbers, ops, answer, slips, caught, drifts))
    return docs
