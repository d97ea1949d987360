"""The math verifier's documented rules, one group per item of issue 13 (4 to 8), through the real
worker pool, with the parent's exact fast paths on and off (a verdict must not depend on which path
gave it). Each case was a wrong verdict, an exception or a stall before the rule was settled."""

import time

import pytest
import sympy

from r1lab.verify.extract import boxed_answers, extract_answer
from r1lab.verify.math import MathVerifier
from r1lab.verify.math_equivalence import gold_answer, numeric_mismatch, plain_number, read_commas

DEADLINE = 2.0
SLACK = 3.0  # killing and collecting a worker on a loaded 2-core machine
RULES_DEADLINE = 60.0  # the rules are about verdicts, not speed: a loaded machine must not time them out


@pytest.fixture(scope="module", params=[True, False], ids=["fast-paths", "math-verify-only"])
def verifier(request):
    with MathVerifier(workers=2, timeout_s=RULES_DEADLINE, fast_paths=request.param) as v:
        yield v


@pytest.fixture(scope="module")
def deadline_verifier():
    with MathVerifier(workers=2, timeout_s=DEADLINE) as v:
        yield v


def statuses(verifier, cases):
    """The verdict status of each (gold, response, expected status) case, with the cases that differ."""
    verdicts = verifier.verify_many([(g, r) for g, r, _ in cases])
    wrong = [(g, r, want, v.status, v.reason) for (g, r, want), v in zip(cases, verdicts) if v.status != want]
    return wrong


# ------------------------------------------------------------------ item 4: several boxes, one answer
def test_several_boxes_are_one_list_answer_on_both_sides(verifier):
    cases = [
        ("\\boxed{1} and \\boxed{-2}", "so \\boxed{-2}", "incorrect"),  # was correct: the gold's last box
        ("\\boxed{1} and \\boxed{-2}", "\\boxed{-2} and \\boxed{1}", "correct"),
        ("\\{1,2,3\\}", "\\boxed{1}, \\boxed{2}, \\boxed{3}", "correct"),  # was incorrect: only 3 was read
        ("\\{1,2,3\\}", "\\boxed{1}, \\boxed{2}", "incorrect"),
        ("1, -2", "<think>\\boxed{7}</think><answer>\\boxed{1} or \\boxed{-2}</answer>", "correct"),
        ("4", "\\boxed{5} no wait \\boxed{4}", "incorrect"),  # a hedge is a list, and the wrong answer
        ("4", "\\boxed{4} so again \\boxed{4}", "correct"),  # a box repeated word for word counts once
        ("1000, 2", "\\boxed{1,000} and \\boxed{2}", "correct"),  # a thousands separator is no list comma
    ]
    assert statuses(verifier, cases) == []


def test_box_extraction_rules():
    assert boxed_answers("\\boxed{1}, \\fbox{2} \\boxed{\\boxed{3}} \\boxed{1}") == ["1", "2", "3"]
    assert boxed_answers("\\boxed{ \\boxed{4}") == ["4"]  # a box never closed does not count
    assert boxed_answers("\\boxed{\\frac{1}{2}} and \\boxed{x^{2}}") == ["\\frac{1}{2}", "x^{2}"]
    assert extract_answer("\\boxed{1,000} then \\boxed{2}") == "1000, 2"
    assert extract_answer("\\boxed{1,000}") == "1,000"  # one box: its text as written
    assert gold_answer("Either $\\boxed{3}$ or $\\boxed{5}$.") == "3, 5"


# ------------------------------------------------------------------ item 5: equations
def test_equivalent_equations_are_equal(verifier):
    cases = [
        ("\\frac{x^2}{4}+\\frac{y^2}{3}=1", "\\boxed{3x^2+4y^2=12}", "correct"),  # was incorrect (guard)
        ("2x+4y-3=0", "\\boxed{4x+8y=6}", "correct"),  # was incorrect (guard)
        ("2x=4", "\\boxed{x=2}", "correct"),  # a non-zero multiple that math-verify alone rejects
        ("y=2x+1", "\\boxed{2x-y+1=0}", "correct"),
        ("x=1", "\\boxed{x^2=1}", "incorrect"),  # more solutions
        ("x^2+y^2=1", "\\boxed{x^2+y^2=2}", "incorrect"),
        ("2x+4y-3=0", "\\boxed{0x+4y=3}", "incorrect"),
        ("x=\\frac{1}{2004!}", "\\boxed{x=\\frac{1}{2006!}}", "incorrect"),  # the guard still holds for x = number
    ]
    assert statuses(verifier, cases) == []


def test_numeric_guard_never_judges_part_of_an_answer():
    x, y = sympy.symbols("x y")
    ellipse = sympy.Eq(x**2 / 4 + y**2 / 3, 1, evaluate=False)
    scaled = sympy.Eq(3 * x**2 + 4 * y**2, 12, evaluate=False)
    assert numeric_mismatch(ellipse, scaled, "") is None  # right-hand sides 1 and 12 are not the answers
    tiny = sympy.Eq(x, 1 / sympy.factorial(2004), evaluate=False)
    tinier = sympy.Eq(x, 1 / sympy.factorial(2006), evaluate=False)
    assert numeric_mismatch(tiny, tinier, "") is not None  # x = number: the number is the whole answer


# ------------------------------------------------------------------ item 6: commas in numbers
def test_comma_rule_each_branch(verifier):
    cases = [
        # thousands separators: groups of three after a first group of 1-3 digits not starting with 0
        ("1000", "\\boxed{1,000}", "correct"),
        ("12345.5", "\\boxed{12,345.5}", "correct"),
        ("10080", "\\boxed{10,\\!080}", "correct"),
        ("1000", "\\boxed{1{,}000}", "correct"),
        # a comma and a space: a list, never one number
        ("32349", "\\boxed{32, 349}", "incorrect"),  # was correct (read as 32349)
        ("32,349", "\\boxed{32, 349}", "incorrect"),
        # d,d against a gold decimal written with a point: a decimal comma
        ("1.22", "\\boxed{1,22}", "correct"),  # was incorrect
        ("-2.1", "\\boxed{-2,1}", "correct"),
        ("0.125", "\\boxed{0,125}", "correct"),
        ("1.22", "\\boxed{1,23}", "incorrect"),
        ("1.22", "<answer>The answer is $1,22$.</answer>", "correct"),  # the rule applies to the bare answer
        # d,d against any other gold: a two-item list (MATH-500's gold `-2,1`)
        ("-2,1", "\\boxed{1, -2}", "correct"),
        ("22, 1", "\\boxed{1,22}", "correct"),
        ("125", "\\boxed{0,125}", "incorrect"),
        ("1,22", "\\boxed{1.22}", "incorrect"),  # a gold's own d,d is a list
    ]
    assert statuses(verifier, cases) == []


def test_comma_rule_pure_functions():
    assert plain_number("1,000") == 1000 and plain_number("12,345.5") == 12345.5
    assert plain_number("11,\\! 111,\\! 100") == 11111100  # MATH-500's LaTeX grouping
    assert plain_number("32, 349") is None and plain_number("1,22") is None and plain_number("0,125") is None
    assert read_commas("1.22", "1,22") == ("1.22", "1.22")
    assert read_commas("7", "1,22") == ("7", "1, 22")
    assert read_commas("-2,1", "1,000") == ("-2, 1", "1,000")


# ------------------------------------------------------------------ item 7: a sentence in the answer tags
def test_a_short_sentence_in_the_answer_tags_is_read(verifier):
    cases = [
        ("9", "<think>...</think><answer>The final answer is $9$</answer>", "correct"),  # was incorrect
        ("9", "<think>...</think><answer>Answer: $9$</answer>", "correct"),  # was incorrect
        ("9", "<answer>Answer: 9.</answer>", "correct"),
        ("9", "<answer>So $x = 3$, and the answer is $x^2 = 9$.</answer>", "correct"),
        ("5", "<answer>The answer is $5$ or $6$</answer>", "incorrect"),  # a hedge is a list
        ("5", "<answer>The answer is 5 or 6</answer>", "incorrect"),
        ("9", "<think>The final answer is $9$</think><answer>I do not know</answer>", "incorrect"),
        ("9", "<think>The final answer is $9$</think> The final answer is $9$", "incorrect"),  # untagged, no box
        ("4", "I think the answer is $4$", "incorrect"),  # no tags, no box: no answer, never a guess
        ("18", "<answer>$18</answer>", "correct"),  # one $ is a currency sign, not a delimiter
        ("1000", "<answer>\\$1,000.</answer>", "correct"),
    ]
    assert statuses(verifier, cases) == []
    assert verifier.verify("9", "<think>x</think> The final answer is $9$").extracted is None


# ------------------------------------------------------------------ item 8: bounded work in the parent
def test_hostile_inputs_get_a_verdict_within_the_deadline(deadline_verifier):
    verifier = deadline_verifier
    verifier.verify("\\frac{1}{2}", "\\boxed{0.5}")  # start the pool (no fast path decides this one)
    big = "9" * 5000
    cases = {
        "4,301+ digit answer": ("5", f"\\boxed{{{big}}}"),  # raised ValueError in the parent
        "4,301+ digit answer, equal": (big, f"\\boxed{{{big}}}"),
        "4,301+ digit answer, one less": (big, f"\\boxed{{{big[:-1]}8}}"),
        "4,301+ digit gold as a number": (10**5000 - 1, "\\boxed{5}"),
        "20,000 unclosed answer tags": ("5", "<answer>" * 20_000),  # took 15 s or more in the regex
        "20,000 unclosed boxes": ("5", "\\boxed{" * 20_000 + "5"),
        "20,000 nested boxes": ("5", "\\boxed{" * 20_000 + "5" + "}" * 20_000),
        "20,000 answer tags around a box": ("5", "<answer>" * 20_000 + "\\boxed{5}</answer>"),
    }
    verdicts = {}
    for name, (gold, response) in cases.items():
        start = time.monotonic()
        verdicts[name] = verifier.verify(gold, response)
        elapsed = time.monotonic() - start
        assert elapsed < DEADLINE + SLACK, f"{name}: {elapsed:.1f} s"
    assert {name: v.status for name, v in verdicts.items()} == {
        "4,301+ digit answer": "incorrect",
        "4,301+ digit answer, equal": "correct",
        "4,301+ digit answer, one less": "incorrect",
        "4,301+ digit gold as a number": "unverifiable",
        "20,000 unclosed answer tags": "incorrect",
        "20,000 unclosed boxes": "incorrect",
        "20,000 nested boxes": "correct",
        "20,000 answer tags around a box": "correct",
    }
