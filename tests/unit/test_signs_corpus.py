"""The signs corpus: its mix, its searches, and that checking pays in it only because checking works."""

import random
import re

import pytest

from r1lab.models.signs_corpus import (
    DEFAULT_MIX,
    MAX_TRIALS,
    guess,
    make_corpus,
    search,
    work,
)
from r1lab.rewards.signals import has_check, is_aha
from r1lab.tasks.demo import evaluate, held_out
from r1lab.tasks.signs import parse_expression, question_text

VERDICT_RE = re.compile(r"check (\d+) (\d+) (so|not) \.")


@pytest.fixture(scope="module")
def docs():
    return make_corpus(6000, seed=0)


def test_same_seed_same_corpus_and_the_mix_holds(docs):
    assert [d.text for d in make_corpus(300, seed=0)] == [d.text for d in make_corpus(300, seed=0)]
    assert [d.text for d in make_corpus(300, seed=1)] != [d.text for d in make_corpus(300, seed=0)]
    total = sum(DEFAULT_MIX.values())
    for style, weight in DEFAULT_MIX.items():
        assert sum(d.style == style for d in docs) == round(6000 * weight / total)
    with pytest.raises(ValueError, match="unknown corpus styles"):
        make_corpus(10, seed=0, mix={"essay": 1.0})


def test_framed_documents_use_train_problems_only(docs):
    framed = [d for d in docs if d.style != "drill"]
    assert framed and not any(held_out(question_text(d.numbers, d.target)) for d in framed)
    assert all(d.prompt.endswith(f"User: {question_text(d.numbers, d.target)}\nAssistant:") for d in framed)


def test_worked_steps_by_hand():
    class NoSlip(random.Random):
        def random(self):
            return 0.99  # above every slip rate

    lines, value = work([12, 7, 8, 3], ["-", "+", "-"], NoSlip(0))
    assert lines == ["12 - 7 = 5 .", "5 + 8 = 13 .", "13 - 3 = 10 ."] and value == 10


def test_guesses_never_repeat_until_every_choice_was_tried():
    rng = random.Random(0)
    tried = []
    for _ in range(4):
        tried.append(guess(["+", "-"], rng, tried))
    assert sorted(map(tuple, tried)) == [("+", "+"), ("+", "-"), ("-", "+"), ("-", "-")]
    assert guess(["+", "-"], rng, tried) in tried  # all four tried: any again


def test_a_search_stops_at_so_or_after_the_last_trial():
    rng = random.Random(3)
    for _ in range(300):
        numbers, target = [20, 4, 2], 18
        text, signs = search(numbers, ["-", "+"], target, rng)
        verdicts = VERDICT_RE.findall(text)
        assert 1 <= len(verdicts) <= MAX_TRIALS
        assert all(v == "not" for *_, v in verdicts[:-1])
        assert len(verdicts) == MAX_TRIALS or verdicts[-1][2] == "so"
        # The verdict compares the value the working reached with the target, right after it.
        assert all((a == b) == (v == "so") and int(b) == target for a, b, v in verdicts)
        assert text.rsplit("check", 1)[0].rstrip().endswith("= " + verdicts[-1][0] + " .")
        assert parse_expression(text.split(" . ")[0]) == (numbers, signs) or len(verdicts) > 1


def test_checking_pays_and_nothing_else_marks_a_style(docs):
    def right(style):
        group = [d.correct for d in docs if d.style == style]
        return sum(group) / len(group)

    # A guess is as good in every style; only the search of a checked response beats it.
    assert abs(right("direct") - right("steps")) < 0.04
    assert 0.4 < right("direct") < 0.6
    assert right("check") > right("direct") + 0.2
    checks = [d for d in docs if d.style == "check"]
    assert all(has_check(d.response) for d in checks)
    assert not any(has_check(d.response) for d in docs if d.style in ("direct", "steps"))
    # The detector finds the corpus's own corrections: a third or so of the searches.
    ahas = sum(is_aha(d.response, d.correct) for d in checks) / len(checks)
    assert 0.2 < ahas < 0.5


def test_checks_are_imperfect(docs):
    # A working slips now and then: some checks flag the right signs, or end wrong after every trial.
    flagged_right = wrong_end = 0
    for d in (d for d in docs if d.style == "check"):
        guesses = [parse_expression(g) for g in re.findall(r"(?:^|\. )(\d+(?: [-+] \d+)+) \.", d.response)]
        verdicts = VERDICT_RE.findall(d.response)
        flagged_right += any(v == "not" and evaluate(*g) == d.target for g, (*_, v) in zip(guesses, verdicts) if g)
        wrong_end += not d.correct
    assert flagged_right > 0 and wrong_end > 0
