"""The synthetic corpus of the tiny base model: styles in their shares, arithmetic right except the
intended slips, self-checks that catch their slips, and the same corpus for the same seed."""

import random
import re

import pytest

from r1lab.models.corpus import (
    DEFAULT_MIX,
    STYLES,
    check_text,
    make_corpus,
    render_check,
    style_counts,
    work_steps,
)
from r1lab.tasks.demo import DemoTask, evaluate

# Values may go negative after a deliberate slip (e.g. "20 - 17 = 2 . 2 - 3 = -1 ."), so signs are parsed.
EQUATION = re.compile(r"(-?\d+) ([+-]) (\d+) = (-?\d+)")
FORMAT = re.compile(r"^\s*<think>(.+?)</think>\s*<answer>(.+?)</answer>\s*$", re.DOTALL)


def wrong_equations(text: str) -> list[tuple[int, int]]:
    """(written, true) for every equation in the text whose result is wrong."""
    out = []
    for x, op, y, z in EQUATION.findall(text):
        true = int(x) + int(y) if op == "+" else int(x) - int(y)
        if true != int(z):
            out.append((int(z), true))
    return out


@pytest.fixture(scope="module")
def corpus():
    return make_corpus(2000, seed=0)


def test_style_counts_are_exact_and_sum_to_n():
    assert style_counts(10, {"a": 0.5, "b": 0.3, "c": 0.2}) == {"a": 5, "b": 3, "c": 2}
    # 7 * (0.5, 0.3, 0.2) = 3.5, 2.1, 1.4: floors 3, 2, 1 and the spare one goes to the largest remainder.
    assert style_counts(7, {"a": 0.5, "b": 0.3, "c": 0.2}) == {"a": 4, "b": 2, "c": 1}


def test_styles_present_in_their_shares(corpus):
    counts = {s: sum(d.style == s for d in corpus) for s in STYLES}
    for style, share in DEFAULT_MIX.items():
        assert abs(counts[style] - share * len(corpus)) <= 1, (style, counts)
    assert all(counts[s] > 0 for s in STYLES)


def test_frame_is_valid_except_in_malformed_documents(corpus):
    for d in corpus:
        if d.style == "drill":
            assert d.prompt == "" and "<think>" not in d.response
        elif d.style == "malformed":
            assert not FORMAT.match(d.response), d.response
        else:
            assert d.prompt.endswith("Assistant:") and FORMAT.match(d.response), d.response
            assert f"<answer> {d.answer_given} </answer>" in d.response


def test_worked_steps_are_right_except_the_intended_slip(corpus):
    for d in corpus:
        wrong = wrong_equations(d.response)
        if d.style == "drill" or not d.slipped:
            assert wrong == [], d.response
        elif " = " in d.response:  # a malformed answer without a think block has no steps to slip in
            assert len(wrong) == 1, d.response
            written, true = wrong[0]
            assert written - true in (-10, -2, -1, 1, 2, 10)


def test_direct_answers_are_wrong_only_when_slipped_and_then_by_a_little(corpus):
    direct = [d for d in corpus if d.style == "direct"]
    assert all(d.correct != d.slipped for d in direct)
    assert 0.3 < sum(d.slipped for d in direct) / len(direct) < 0.6
    for d in direct:
        assert " = " not in d.response  # no worked steps in a direct answer
        true = evaluate(list(d.numbers), list(d.ops))
        assert abs(d.answer_given - true) in (0, 1, 2, 10)


def test_worked_styles_answer_what_their_steps_say(corpus):
    for d in corpus:
        if d.style == "steps":
            assert d.correct != d.slipped
        if d.style == "check":
            assert d.correct  # a self-check always catches its slip
            assert ("wait , let me check" in d.response) and ((", not " in d.response) == d.slipped)


def test_check_text_by_hand():
    # 68 - 60 + 48 = 56. A slip in the second step (57 instead of 56) is caught first.
    text, answer = check_text((68, 60, 48), ("-", "+"), [8, 57])
    assert text == "wait , let me check . 57 - 48 = 9 , not 8 . so 8 + 48 = 56 ."
    assert answer == 56
    # A slip in the first step (9 instead of 8): step two undoes fine, step one does not.
    text, answer = check_text((68, 60, 48), ("-", "+"), [9, 57])
    assert text == "wait , let me check . 57 - 48 = 9 . 9 + 60 = 69 , not 68 . so 68 - 60 = 8 . 8 + 48 = 56 ."
    assert answer == 56
    text, answer = check_text((68, 60, 48), ("-", "+"), [8, 56])
    assert text.endswith("56 - 48 = 8 . 8 + 60 = 68 . it checks out .") and answer == 56


def test_work_steps_and_render_check_by_hand():
    assert work_steps((36, 69, 10), ("+", "-")) == (["36 + 69 = 105 .", "105 - 10 = 95 ."], [105, 95])
    response, answer = render_check((36, 69, 10), ("+", "-"), False, random.Random(0))
    assert answer == 95 and response.startswith(" <think> 36 + 69 = 105 . 105 - 10 = 95 . wait")


def test_same_seed_same_corpus_and_held_out_problems_unseen():
    a, b, c = make_corpus(300, seed=5), make_corpus(300, seed=5), make_corpus(300, seed=6)
    assert [d.text for d in a] == [d.text for d in b]
    assert [d.text for d in a] != [d.text for d in c]
    held_out = {p.question for p in DemoTask().problems("test", 189, seed=0)}  # the whole held-out split
    assert not any(f"User: {q}\n" in d.text for q in held_out for d in a)


def test_unknown_style_is_refused():
    with pytest.raises(ValueError, match="unknown corpus styles"):
        make_corpus(10, 0, mix={"direct": 0.5, "essay": 0.5})
