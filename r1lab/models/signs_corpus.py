"""The synthetic pretraining corpus of the embedded tiny base model, for the signs task ("Make 12 :
7 ? 8 ? 3 ." -> "7 + 8 - 3", r1lab/tasks/signs.py) in the R1-Zero frame: mixed styles, slips, rare
checks, and nothing that says which way of working is better.

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

Second script: some writers drift into Chinese, as multilingual pretraining text does. A drifting
search checks its first guess in English and every later one in Chinese ("检查 18 12 不是 ." for
"check 18 12 not ."), so the longer a search runs, the more of it is in the second script; a drifting
direct answer says its one sentence in Chinese. Searches drift most, as R1-Zero's language mixing
showed in its long chains of thought (DeepSeek-AI 2025, section 2.3.2); worked steps have no words
to drift. Whether a writer drifts does not depend on the problem or on being right.

Nothing marks a style as better: the first guess is as good in every style, worked steps slip at the
same rate everywhere, and whether a writer checks does not depend on the problem. A checked document
ends right more often only because checking works.

Every function is pure given its `random.Random`; `make_corpus(n, seed)` is the same list for the same
arguments on every machine.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import asdict, dataclass

from r1lab.models.corpus import DEFAULT_SLIPS, frame, framed_by_style, rate, work_steps
from r1lab.models.templates import R1_ZERO_TEMPLATE
from r1lab.rewards.language import mixes_languages
from r1lab.rewards.signals import GUESS_RE, SEARCH_VERDICT_RE
from r1lab.tasks.demo import apply, evaluate, expression, held_out
from r1lab.tasks.signs import MAX_OPS, MIN_OPS, SignsTask, parse_expression, question_text, random_problem

TASK = SignsTask  # the task whose held-out problems the model card measures

STYLES = ("direct", "steps", "check", "malformed", "drill")
# Shares of documents: a checked response is about one framed document in seven.
DEFAULT_MIX = {"direct": 0.30, "steps": 0.28, "check": 0.09, "malformed": 0.025, "drill": 0.40}
# Shares of drills: single operations, compared pairs, sheets of searches.
DEFAULT_DRILLS = {"ops": 0.2, "compare": 0.3, "sheet": 0.5}
# Share of each style's writers who drift into the second script (worked steps have no words to drift).
# Drills: the share of compared-pairs drills in Chinese, so the Chinese verdicts are learnt where the
# English ones are (the sheets' searches drift as checked responses do).
DEFAULT_DRIFT = {"direct": 0.06, "check": 0.35, "drill": 0.3}
INTUITION = 0.3  # the writer's first guess is the question's own signs this often
MAX_TRIALS = 4
DRILL_LINES = (8, 14)
SHEET_SEARCHES = (2, 3)
WORDS = {
    "latin": {"check": "check", "so": "so", "not": "not",
              "direct": ("it is {a} .", "the signs are {a} .", "easy , {a} .")},
    "cjk": {"check": "检查", "so": "是", "not": "不是",
            "direct": ("是 {a} .", "符号是 {a} .", "很简单 , {a} .")},
}


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
    drift: bool = False  # the writer drifts into the second script (a search only after its first guess)

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


def search(numbers, ops, target: int, rng: random.Random, drift: bool = False) -> tuple[str, list[str]]:
    """Guesses, each worked and compared with the target, until one matches or MAX_TRIALS: the text and
    the last guess. A drifting writer checks every guess after the first in the second script."""
    parts, tried = [], []
    for _ in range(MAX_TRIALS):
        signs = guess(ops, rng, tried)
        words = WORDS["cjk" if drift and tried else "latin"]
        tried.append(signs)
        lines, value = work(numbers, signs, rng)
        found = value == target
        verdict = words["so" if found else "not"]
        parts += [expression(numbers, signs) + " .", *lines, f"{words['check']} {value} {target} {verdict} ."]
        if found:
            break
    return " ".join(parts), signs


def render(style: str, numbers, ops, target: int, rng: random.Random, drift: bool = False) -> tuple[str, list[str]]:
    """A response of the style: the text and the signs it answers with."""
    if style == "check":
        think, signs = search(numbers, ops, target, rng, drift)
        return frame(think, expression(numbers, signs)), signs
    signs = guess(ops, rng, [])
    answer = expression(numbers, signs)
    if style == "direct":
        think = rng.choice(WORDS["cjk" if drift else "latin"]["direct"]).format(a=answer)
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


def render_drill(rng: random.Random, kinds: dict[str, float], drift: dict[str, float]) -> str:
    kind = rng.choices(list(kinds), weights=list(kinds.values()))[0]
    if kind == "ops":
        lines = []
        for _ in range(rng.randint(*DRILL_LINES)):
            x, y, op = rng.randint(0, 40), rng.randint(1, 9), rng.choice("+-")
            if apply(op, x, y) >= 0:
                lines.append(f"{x} {op} {y} = {apply(op, x, y)} .")
        return " ".join(lines)
    if kind == "compare":
        words = WORDS["cjk" if rng.random() < drift.get("drill", 0.0) else "latin"]
        lines = []
        for _ in range(rng.randint(*DRILL_LINES)):
            a = rng.randint(0, 57)
            b = a if rng.random() < 0.5 else max(0, a + rng.choice((-10, -4, -2, -1, 1, 2, 4, 10)))
            lines.append(f"{words['check']} {a} {b} {words['so' if a == b else 'not']} .")
        return " ".join(lines)
    parts = []
    for _ in range(rng.randint(*SHEET_SEARCHES)):
        numbers, ops, target = train_problem(rng)
        think, _ = search(numbers, ops, target, rng, rng.random() < drift.get("check", 0.0))
        parts.append(question_text(numbers, target) + " " + think)
    return " ".join(parts)


def corpus_settings(mix: dict[str, float] | None = None, drills: dict[str, float] | None = None,
                    drift: dict[str, float] | None = None) -> dict:
    """The corpus's knobs as plain data (for build_info.json and the model card)."""
    return {"mix": dict(DEFAULT_MIX if mix is None else mix), "drills": dict(DEFAULT_DRILLS if drills is None else drills),
            "drift": dict(DEFAULT_DRIFT if drift is None else drift), "intuition": INTUITION,
            "max_trials": MAX_TRIALS, "slip_rates": asdict(DEFAULT_SLIPS)}


def make_corpus(n: int, seed: int, mix: dict[str, float] | None = None, drills: dict[str, float] | None = None,
                drift: dict[str, float] | None = None) -> list[Doc]:
    """About `n` documents (each style's share rounded) in shuffled order; framed documents use
    train-split problems only, so the held-out split stays unseen. `drift` is the share of each
    style's writers who drift into the second script ("check" also sets the sheets' searches, "drill"
    the share of compared-pairs drills in Chinese); {} gives an English corpus."""
    settings = corpus_settings(mix, drills, drift)
    mix, drills, drift = settings["mix"], settings["drills"], settings["drift"]
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
            docs.append(Doc("drill", "", render_drill(rng, drills, drift)))
            continue
        numbers, ops, target = train_problem(rng)
        drifts = rng.random() < drift.get(style, 0.0)
        response, signs = render(style, numbers, ops, target, rng, drifts)
        docs.append(Doc(style, R1_ZERO_TEMPLATE.format(question=question_text(numbers, target)), response,
                        tuple(numbers), target, tuple(signs), drifts))
    return docs


# ------------------------------------------------------------------------------- for the model card
def verdicts(doc: Doc) -> list[tuple[bool, bool]]:
    """Each check of a searched document as (the guess was right, the check said so)."""
    think = doc.response
    guesses = [(m.end(), parse_expression(m.group(1))) for m in GUESS_RE.finditer(think)]
    out = []
    for v in SEARCH_VERDICT_RE.finditer(think):
        before = [g for end, g in guesses if end <= v.start() and g is not None]
        if before:
            out.append((evaluate(*before[-1]) == doc.target, v.group(3) in ("so", "是")))
    return out


def corpus_stats(docs: list[Doc]) -> dict:
    """What the corpus holds, measured on it: per framed style, its share of the framed documents, how
    often their answer is right and how often they mix in the second script; per number of operations,
    how often each style is right; how often a check passed a wrong guess or flagged a right one."""
    framed, by_style = framed_by_style(docs)
    searches = [verdicts(d) for d in by_style.get("check", [])]
    checked = [v for search_verdicts in searches for v in search_verdicts]
    return {
        "styles": {s: {"share_of_framed": len(v) / len(framed), "correct": rate(d.correct for d in v),
                       "mixing": rate(mixes_languages(d.response, "en") for d in v)}
                   for s, v in sorted(by_style.items())},
        "difficulty": {str(k): {s: rate(d.correct for d in v if len(d.numbers) - 1 == k)
                                for s, v in sorted(by_style.items()) if s != "malformed"}
                       for k in sorted({len(d.numbers) - 1 for d in framed})},
        "guesses_per_search": rate(len(v) for v in searches),
        "check_passes_wrong": rate(said for right, said in checked if not right),
        "check_flags_right": rate(not said for right, said in checked if right),
        "mixing": rate(mixes_languages(d.response, "en") for d in framed),
    }


def card_lines(settings: dict, measured: dict) -> list[str]:
    """The model card's account of this corpus."""
    mix = ", ".join(f"{s} {w:.1%}" for s, w in settings["mix"].items())
    drills = ", ".join(f"{s} {w:.0%}" for s, w in settings["drills"].items())
    rates = settings["slip_rates"]
    return [
        "- Task: signs (\"Make 12 : 7 ? 8 ? 3 .\" is answered \"7 + 8 - 3\"; "
        f"{MIN_OPS} to {MAX_OPS} operations). Corpus: `r1lab/models/signs_corpus.py`.",
        f"- Mix of documents: {mix}. Drills, bare lines with no frame: {drills} (single operations, "
        "compared pairs \"check 18 12 not .\", sheets of a few searches).",
        f"- A writer's first guess is the question's own signs {settings['intuition']:.0%} of the time, else "
        "signs drawn at random. A direct answer gives the guess; plain steps work it out and answer it "
        f"without comparing; a search works each guess, compares its value with the target and guesses "
        f"again (never the same twice) until the check says so, or after {settings['max_trials']} guesses. "
        f"A worked step slips {rates['plain']:.0%}, {rates['carry']:.0%} across a ten, so checks are "
        f"imperfect: they passed {measured['check_passes_wrong']:.1%} of the wrong guesses and flagged "
        f"{measured['check_flags_right']:.1%} of the right ones; {measured['guesses_per_search']:.2f} guesses "
        "per search. Nothing marks a style as better: a checked document is right more often only "
        "because checking works.",
        f"- Second script: {measured['mixing']:.1%} of the framed documents mix in Chinese (a drifting "
        "search checks every guess after its first in Chinese, \"检查 4 22 不是 .\"; a drifting direct "
        "answer says its sentence in Chinese). Share mixing per style: "
        + ", ".join(f"{s} {v['mixing']:.1%}" for s, v in measured["styles"].items()) + ".",
    ]
