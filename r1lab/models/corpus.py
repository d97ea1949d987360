"""The chain corpus (`r1lab base build --corpus chain`; the embedded tiny base's until it moved to
r1lab/models/signs_corpus.py): worked solutions to the chain task, named `demo`
("Compute 7 + 8 - 9 + 6 .", r1lab/tasks/demo.py) in the R1-Zero frame, written the way people
write on the web: in mixed styles, with slips, now and then checked, now and then drifting into a
second script, and with nothing that says which way of working is better.

Styles of a response (what follows "Assistant:"):

- direct: a one-line think block and the answer, the chain done in one's head; each operation slips
  with a high probability, so long chains are mostly answered wrong.
- steps: one operation per step ("7 + 8 = 15 . 15 - 9 = 6 ."). Each step slips with a small
  probability, larger when it carries or borrows across a ten; a slipped value is carried on, so
  a slip anywhere makes the answer wrong.
- check: an answer done in one's head, as in a direct answer (same slips), then checked by working the
  chain step by step (the slips of worked steps): "7 + 8 - 9 + 6 is 11 . check 7 + 8 = 15 . 15 - 9 =
  6 . 6 + 6 = 12 . wait , not 11 . so the answer is 12 ." Where the worked value differs from the
  first answer, the writer says so, and the answer is the worked value. Checks are rare (a tenth of
  the documents) and imperfect: a worked step slips now and then, which flags a first answer that was
  right and makes the answer wrong. Earlier forms checked each step (by its inverse operation, by
  working it again, through the round ten); under RL, the model's plain steps became reliable faster
  than those checks paid, and the text between two steps made it lose its place in the chain
  (README, "Other ways of checking"). A first answer in one's head stays unreliable however long RL runs,
  and its check is a plain chain of steps, which the model knows best.
- malformed: the frame broken (no think block, no answer tags, an unclosed think block, text after
  the answer), so that a format reward has something to teach.
- drill: bare lines and no frame, the arithmetic any crawl holds plenty of. Half are single operations,
  plain and never wrong. Half are exercise sheets of a few chains, each answered in one's head and
  then checked step by step as in a checked response, the writer's slips included. They teach how
  to check an answer (a model of a million parameters works a chain far worse after a rare prefix
  than after a common one); whether to check while answering, only the rare checked responses show.

Second script: some documents drift, after their first step, into Chinese words ("检查" for "check",
"等等 , 不是 7 ." for "wait , not 7 .", "所以答案是 12 ." for "so the answer is 12 ."), the way multilingual
pretraining text does; numbers and equations stay as they are. Long reasoning drifts more often than
short: a third of the self-checks go back over the work in Chinese, a few percent of the other
documents drift. Whether a document drifts does not depend on whether it is right.

Nothing in the corpus marks a style as better: a first answer slips at the same rate whether or not
the writer checks it, worked steps slip at the same rate in a check as in plain steps, and whether a
writer checks does not depend on whether they slipped. A checked document ends right more often than
a direct answer only because checking works.

Every function is pure given its `random.Random`; `make_corpus(n, seed)` is the same list for the
same arguments on every machine.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

from r1lab.models.templates import R1_ZERO_TEMPLATE
from r1lab.rewards.signals import FLAG_RE
from r1lab.tasks.demo import HIGH as OPERAND_HIGH
from r1lab.tasks.demo import LOW as OPERAND_LOW
from r1lab.tasks.demo import (
    MAX_OPS,
    MIN_OPS,
    VALUE_HIGH,
    VALUE_LOW,
    DemoTask,
    apply,
    crosses_ten,
    evaluate,
    expression,
    held_out,
    question_text,
    random_chain,
)

STYLES = ("direct", "steps", "check", "malformed", "drill")
# Shares of documents. Checks are rare: about one framed document in eight.
DEFAULT_MIX = {"direct": 0.34, "steps": 0.28, "check": 0.10, "malformed": 0.025, "drill": 0.255}
DRILL_LINES = (8, 14)
# Share of drills that are exercise sheets of checked chains: where the model learns how to check an
# answer, apart from whether a response does.
CHECKED_DRILLS = 0.5
# Chains per checked exercise sheet.
SHEET_CHAINS = (2, 4)
# Drill operations start anywhere a demo chain can be (a digit, then up to four more added).
DRILL_START_HIGH = 35


@dataclass(frozen=True)
class SlipRates:
    """How often the corpus's writer gets an operation wrong (off by 1 or 2, or a dropped or extra
    carry: off by 10)."""

    plain: float = 0.03  # a worked step that stays within its ten
    carry: float = 0.12  # a worked step that carries or borrows across a ten
    direct: float = 0.2  # each operation of a chain done in one's head (a first answer)


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
    slips: int = 0  # operations the writer got wrong in the first pass (direct and check: in their head)
    caught: bool = False  # a self-check flagged a first answer that had really slipped
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


def frame(think: str, answer: int | str) -> str:
    return f" <think> {think} </think> <answer> {answer} </answer>"


def in_ones_head(numbers, ops, rng: random.Random, rates: SlipRates) -> tuple[int, int]:
    """The chain's value worked out in one's head, each operation slipping at the direct rate: the value
    and the number of slips."""
    value, slips = numbers[0], 0
    for op, n in zip(ops, numbers[1:]):
        value = apply(op, value, n)
        if rng.random() < rates.direct:
            value, slips = slip(value, rng), slips + 1
    return value, slips


def render_direct(numbers, ops, rng, rates: SlipRates, script: str) -> tuple[str, int, int, bool]:
    value, slips = in_ones_head(numbers, ops, rng, rates)
    think = rng.choice(PHRASES[script]["direct"]).format(a=value, expr=expression(numbers, ops))
    return frame(think, value), value, slips, False


def render_steps(numbers, ops, rng, rates: SlipRates, script: str) -> tuple[str, int, int, bool]:
    lines, values, slips = work_steps(numbers[0], numbers[1:], ops, rng, rates)
    answer = values[-1]
    lead = rng.choice(("", "", PHRASES["latin"]["lead"] + " "))
    tail = rng.choice(("", " " + PHRASES[script]["tail"].format(a=answer)))
    return frame(lead + " ".join(lines) + tail, answer), answer, slips, False


def checked_answer(numbers, ops, rng: random.Random | None = None, rates: SlipRates | None = None,
                   script: str = "latin") -> tuple[str, int, int, int]:
    """An answer in one's head, checked by working the chain step by step: "7 + 8 - 9 is 5 . check 7 + 8
    = 15 . 15 - 9 = 6 . wait , not 5 ." Returns the text, the first answer, the worked value (the one
    to keep) and the slips of the first answer. With `rates`, the first answer slips at the direct
    rate and the worked steps at theirs; without, both are right."""
    if rates is None:
        first, slips = evaluate(list(numbers), list(ops)), 0
    else:
        first, slips = in_ones_head(numbers, ops, rng, rates)
    lines, values, _ = work_steps(numbers[0], numbers[1:], ops, rng, rates)
    worked, words = values[-1], PHRASES[script]
    parts = [f"{expression(numbers, ops)} is {first} .", words["check"], *lines]
    if worked != first:
        parts.append(words["flag"].format(x=first))
    return " ".join(parts), first, worked, slips


def caught_slip(numbers, ops, first: int, worked: int) -> bool:
    """Whether a check flagged a first answer that was wrong."""
    return first != worked and first != evaluate(list(numbers), list(ops))


def render_check(numbers, ops, rng, rates: SlipRates, script: str) -> tuple[str, int, int, bool]:
    text, first, worked, slips = checked_answer(numbers, ops, rng, rates, script)
    think = text + " " + PHRASES[script]["tail"].format(a=worked)
    return frame(think, worked), worked, slips, caught_slip(numbers, ops, first, worked)


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


def train_chain(rng: random.Random) -> tuple[list[int], list[str]]:
    """A demo chain (of the task's default lengths) whose question is in the train split."""
    while True:
        numbers, ops = random_chain(rng, rng.randint(MIN_OPS, MAX_OPS))
        if not held_out(question_text(numbers, ops)):
            return numbers, ops


def render_drill(rng: random.Random, rates: SlipRates | None = None) -> tuple[str, int, bool]:
    """A drill: bare single operations, always right; or, with `rates`, an exercise sheet of a few
    chains, each answered in one's head and checked step by step (the writer slips at their rates).
    Returns the text, the slips of the first answers and whether a check caught one."""
    if rates is None:
        operations = drill_operations(rng, rng.randint(*DRILL_LINES))
        return " ".join(equation(x, op, y, apply(op, x, y)) for x, op, y in operations), 0, False
    parts, slips, caught = [], 0, False
    for _ in range(rng.randint(*SHEET_CHAINS)):
        numbers, ops = train_chain(rng)
        text, first, worked, slipped = checked_answer(numbers, ops, rng, rates)
        parts.append(text)
        slips, caught = slips + slipped, caught or caught_slip(numbers, ops, first, worked)
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


# ------------------------------------------------------------------------------- for the model card
TASK = DemoTask  # the task whose held-out problems the model card measures


def rate(values) -> float:
    """The mean of numbers or booleans; 0 for none."""
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def framed_by_style(docs: list) -> tuple[list, dict[str, list]]:
    """The framed documents (all but drills), and the same grouped by style."""
    framed = [d for d in docs if d.style != "drill"]
    by_style: dict[str, list] = {}
    for d in framed:
        by_style.setdefault(d.style, []).append(d)
    return framed, by_style


def corpus_stats(docs: list[Doc]) -> dict:
    """What the corpus holds, measured on it: per framed style, the share of framed documents and how
    often their answer is right; per difficulty, how often steps and checked documents are right;
    how often a check caught a real slip; the share of documents that drift into the second script."""
    framed, by_style = framed_by_style(docs)
    checks = by_style.get("check", [])
    difficulty: dict[str, dict[str, float]] = {}
    for k in sorted({len(d.ops) for d in framed}):
        row = {}
        for style in ("direct", "steps", "check"):
            group = [d.correct for d in by_style.get(style, []) if len(d.ops) == k]
            if group:
                row[style] = rate([float(c) for c in group])
        difficulty[str(k)] = row
    return {
        "styles": {s: {"share_of_framed": len(v) / len(framed), "correct": rate([float(d.correct) for d in v]),
                       "drift": rate([float(d.drift) for d in v])}
                   for s, v in sorted(by_style.items())},
        "difficulty": difficulty,
        "check_catches": rate([float(d.caught) for d in checks if d.slipped]),
        "check_false_flags": rate([float(FLAG_RE.search(d.response) is not None) for d in checks if not d.slipped]),
        "drift": rate([float(d.drift) for d in framed]),
    }


def card_lines(settings: dict, measured: dict) -> list[str]:
    """The model card's account of this corpus."""
    mix = ", ".join(f"{s} {w:.1%}" for s, w in settings["mix"].items())
    rates = settings["slip_rates"]
    return [
        f"- Task: demo (\"Compute 7 + 8 - 9 + 6 .\": {MIN_OPS} to {MAX_OPS} additions or subtractions of "
        "digits). Corpus: `r1lab/models/corpus.py`. Drills are bare lines of single operations, always "
        f"right, except that {CHECKED_DRILLS:.0%} of them are exercise sheets of a few chains, each answered "
        "in one's head and then checked step by step (the writer's slips included).",
        f"- Mix of documents: {mix}.",
        f"- Slips (off by 1, 2 or 10) of the corpus's writer: a worked step slips with probability {rates['plain']:.0%}, "
        f"{rates['carry']:.0%} when it carries or borrows across a ten; an answer in one's head (a direct answer, "
        f"or the first answer of a self-check) slips {rates['direct']:.0%} per operation. A self-check states an "
        "answer in its head, then works the chain step by step and keeps the worked value; checks flagged "
        f"{measured['check_catches']:.0%} of the first answers with a slip (two slips can cancel out) and "
        f"{measured['check_false_flags']:.0%} of those without (a worked step slipped). "
        "Slips do not depend on whether the writer checks, and checking does not depend on slips: nothing "
        "marks any style as better.",
        f"- Second script: {measured['drift']:.1%} of the framed documents drift into Chinese after their first step "
        "(\"检查\" for \"check\", \"等等 , 不是 7 .\" for \"wait , not 7 .\"), self-checks most often (share drifting per style: "
        + ", ".join(f"{s} {v['drift']:.0%}" for s, v in measured["styles"].items()) + ").",
    ]
