"""The synthetic corpus of the tiny base model: styles in their shares, arithmetic right except the
writer's slips, slips likelier on harder steps and in longer chains, self-checks that catch wrong
first answers and flag right ones only where a worked step slips, no style signal, a second script
in a share of documents, and the same corpus for the same seed."""

import random
import re

import pytest

from r1lab.models.corpus import (
    DEFAULT_MIX,
    STYLES,
    SlipRates,
    checked_answer,
    make_corpus,
    render_check,
    slip,
    style_counts,
    work_steps,
)
from r1lab.rewards.language import mixes_languages
from r1lab.rewards.signals import has_check, is_aha
from r1lab.tasks.demo import VALUE_HIGH, VALUE_LOW, DemoTask, crosses_ten, evaluate

EQUATION = re.compile(r"(-?\d+) ([+-]) (\d+) = (-?\d+)")
FORMAT = re.compile(r"^\s*<think>(.+?)</think>\s*<answer>(.+?)</answer>\s*$", re.DOTALL)
NO_SLIPS = SlipRates(plain=0, carry=0, direct=0)


def wrong_equations(text: str) -> list[tuple[int, int]]:
    """(written, true) for every equation in the text whose result is wrong."""
    out = []
    for x, op, y, z in EQUATION.findall(text):
        true = int(x) + int(y) if op == "+" else int(x) - int(y)
        if true != int(z):
            out.append((int(z), true))
    return out


# A checked answer: the chain and a first answer, the check word, the worked steps and a flag where
# they differ.
CHECKED = re.compile(r"^ <think> (.+?) is (-?\d+) \. (?:check|检查) (.+?)( (?:wait , not|等等 , 不是) (-?\d+) \.)? "
                     r"(?:so the answer is|所以答案是) (-?\d+) \. </think>")


def rate(values) -> float:
    values = list(values)
    return sum(values) / len(values)


@pytest.fixture(scope="module")
def corpus():
    return make_corpus(6000, seed=0)


def test_style_counts_are_exact_and_sum_to_n():
    assert style_counts(10, {"a": 0.5, "b": 0.3, "c": 0.2}) == {"a": 5, "b": 3, "c": 2}
    # 7 * (0.5, 0.3, 0.2) = 3.5, 2.1, 1.4: floors 3, 2, 1 and the spare one goes to the largest remainder.
    assert style_counts(7, {"a": 0.5, "b": 0.3, "c": 0.2}) == {"a": 4, "b": 2, "c": 1}


def test_styles_present_in_their_shares_and_checks_rare(corpus):
    counts = {s: sum(d.style == s for d in corpus) for s in STYLES}
    for style, share in DEFAULT_MIX.items():
        assert abs(counts[style] - share * len(corpus)) <= 1, (style, counts)
    assert all(counts[s] > 0 for s in STYLES)
    framed = [d for d in corpus if d.style != "drill"]
    assert 0.02 < rate(has_check(d.response) for d in framed) < 0.15  # about one framed response in eight


def test_frame_is_valid_except_in_malformed_documents(corpus):
    for d in corpus:
        if d.style == "drill":
            assert d.prompt == "" and "<think>" not in d.response
            if "check" not in d.response:  # plain drills are never wrong
                assert wrong_equations(d.response) == []
        elif d.style == "malformed":
            assert not FORMAT.match(d.response), d.response
        else:
            assert d.prompt.endswith("Assistant:") and FORMAT.match(d.response), d.response
            assert f"<answer> {d.answer_given} </answer>" in d.response


def test_steps_are_wrong_exactly_where_the_writer_slipped(corpus):
    for d in corpus:
        if d.style == "steps":
            wrong = wrong_equations(d.response)
            assert len(wrong) == d.slips, d.response
            assert all(written - true in (-10, -2, -1, 1, 2, 10) for written, true in wrong)
            assert d.correct != d.slipped or d.slips > 1  # two slips may cancel out


def test_a_check_works_the_whole_chain_and_flags_only_a_differing_first_answer(corpus):
    for d in (d for d in corpus if d.style == "check"):
        expression, first, work, flag, flagged, answer = CHECKED.match(d.response).groups()
        assert expression == " ".join([str(d.numbers[0])] + [f"{op} {n}" for op, n in zip(d.ops, d.numbers[1:])])
        steps = EQUATION.findall(work)
        assert [(op, int(n)) for _, op, n, _ in steps] == list(zip(d.ops, d.numbers[1:])), d.response
        # Each step starts from the value the one before wrote; the answer is the last worked value.
        assert [int(x) for x, *_ in steps] == [d.numbers[0]] + [int(z) for *_, z in steps[:-1]]
        worked = int(steps[-1][3])
        assert int(answer) == worked == d.answer_given
        assert bool(flag) == (worked != int(first)) and (not flag or int(flagged) == int(first)), d.response


def test_slips_grow_with_difficulty(corpus):
    worked = [d for d in corpus if d.style == "steps"]
    by_ops = {k: rate(d.slipped for d in worked if len(d.ops) == k) for k in range(2, 5)}
    assert by_ops[4] > by_ops[3] > by_ops[2] and by_ops[4] > 1.6 * by_ops[2], by_ops
    steps = [d for d in corpus if d.style == "steps"]
    by_ops = {k: rate(d.correct for d in steps if len(d.ops) == k) for k in range(2, 5)}
    assert by_ops[2] > by_ops[3] > by_ops[4], by_ops


def test_carrying_steps_slip_more():
    rng, rates = random.Random(0), SlipRates()
    carry = [work_steps(47, [8], "+", rng, rates)[2] for _ in range(4000)]
    plain = [work_steps(41, [8], "+", rng, rates)[2] for _ in range(4000)]
    assert crosses_ten(47, "+", 8) and not crosses_ten(41, "+", 8)
    assert rate(carry) == pytest.approx(rates.carry, abs=0.02)
    assert rate(plain) == pytest.approx(rates.plain, abs=0.01)


def test_checks_catch_wrong_first_answers_and_flag_right_ones_only_where_a_step_slips(corpus):
    checks = [d for d in corpus if d.style == "check"]
    slipped = [d for d in checks if d.slipped]
    clean = [d for d in checks if not d.slipped]
    assert rate(d.caught for d in slipped) > 0.9
    flagged_clean = [("not" in d.response or "不是" in d.response) for d in clean]
    assert 0 < rate(flagged_clean) < 0.25  # imperfect: a worked step slips now and then
    assert all(wrong_equations(d.response) for d, f in zip(clean, flagged_clean) if f)
    # Checking pays in the corpus because it works, not because checked documents slip less: first
    # answers slip as often as direct ones, worked steps as often as plain steps.
    direct = [d for d in corpus if d.style == "direct"]
    steps = [d for d in corpus if d.style == "steps"]
    assert rate(d.slipped for d in checks) == pytest.approx(rate(d.slipped for d in direct), abs=0.08)
    assert rate(d.correct for d in checks) == pytest.approx(rate(d.correct for d in steps), abs=0.08)
    assert rate(d.correct for d in checks) > rate(d.correct for d in direct) + 0.2
    # The corpus's catches are ahas by the detector that the training loop uses; its false flags are not.
    caught_right = [d for d in slipped if d.caught and d.correct]
    assert caught_right and all(is_aha(d.response, True) for d in caught_right)
    assert not any(is_aha(d.response, d.correct) for d in clean)


def test_half_the_drills_are_checked_exercises(corpus):
    drills = [d for d in corpus if d.style == "drill"]
    checked = [d for d in drills if "check" in d.response]
    assert 0.4 < len(checked) / len(drills) < 0.6
    for d in checked:
        assert not mixes_languages(d.response, "en") and d.response.count(" is ") == d.response.count("check") >= 2
    # Their slips are caught too: every checked exercise that caught one shows the flag.
    assert any(d.caught for d in checked) and all("wait , not" in d.response for d in checked if d.caught)
    # Their chains are train-split questions only.
    held_out = {p.question[len("Compute "):-2] for p in DemoTask().problems("test", 300, seed=0)}
    chains = {c.split(" is ")[0] for d in checked for c in re.findall(r"(?:^|\. )(\d[-+ \d]* is -?\d+)", d.response)}
    assert len(chains) > 100 and not chains & held_out


def test_direct_answers_grow_wrong_with_length(corpus):
    direct = [d for d in corpus if d.style == "direct"]
    for d in direct:
        assert " = " not in d.response and not has_check(d.response)
    by_ops = {k: rate(d.correct for d in direct if len(d.ops) == k) for k in range(2, 5)}
    assert by_ops[2] > by_ops[4] + 0.15, by_ops


def test_a_share_drifts_into_the_second_script_checks_most(corpus):
    framed = [d for d in corpus if d.style not in ("drill", "malformed")]
    assert 0.03 < rate(d.drift for d in framed) < 0.12
    by_style = {s: rate(d.drift for d in framed if d.style == s) for s in ("direct", "steps", "check")}
    assert by_style["check"] > 3 * by_style["steps"] and by_style["direct"] > 0, by_style
    # Drift says nothing about correctness.
    checks = [d for d in framed if d.style == "check"]
    assert rate(d.correct for d in checks if d.drift) == pytest.approx(rate(d.correct for d in checks if not d.drift),
                                                                       abs=0.1)
    for d in framed:
        assert mixes_languages(d.response, "en") == (d.drift and (d.style != "steps" or "所以" in d.response))
    assert not any(mixes_languages(d.response, "en") for d in corpus if d.style == "drill")
    assert not any(d.drift for d in corpus if d.style == "malformed")


def test_checked_answer_by_hand():
    assert checked_answer((6, 8, 2), ("+", "-")) == ("6 + 8 - 2 is 12 . check 6 + 8 = 14 . 14 - 2 = 12 .", 12, 12, 0)
    text, first, worked, slips = checked_answer((7, 8), ("+",), script="cjk")
    assert text == "7 + 8 is 15 . 检查 7 + 8 = 15 ." and (first, worked, slips) == (15, 15, 0)


def test_a_wrong_first_answer_is_flagged_and_the_worked_value_kept():
    # Every operation in one's head slips, no worked step does.
    rates = SlipRates(plain=0.0, carry=0.0, direct=1.0)
    response, answer, slips, caught = render_check((7, 8), ("+",), random.Random(0), rates, "latin")
    first = int(re.search(r"is (-?\d+) \.", response).group(1))
    assert first != 15 and (answer, slips, caught) == (15, 1, True)
    assert response == (f" <think> 7 + 8 is {first} . check 7 + 8 = 15 . wait , not {first} . so the answer is 15 . "
                        "</think> <answer> 15 </answer>")
    assert is_aha(response, True)


def test_work_steps_and_render_check_by_hand():
    assert work_steps(36, (9, 1), ("+", "-")) == (["36 + 9 = 45 .", "45 - 1 = 44 ."], [45, 44], 0)
    response, answer, slips, caught = render_check((6, 9, 1), ("+", "-"), random.Random(0), NO_SLIPS, "latin")
    assert (answer, slips, caught) == (14, 0, False)
    assert response == (" <think> 6 + 9 - 1 is 14 . check 6 + 9 = 15 . 15 - 1 = 14 . so the answer is 14 . </think> "
                        "<answer> 14 </answer>")


def test_without_slips_every_framed_answer_is_right():
    docs = make_corpus(400, seed=1, slips=NO_SLIPS)
    for d in docs:
        if d.style != "drill":
            assert d.correct and d.answer_given == evaluate(list(d.numbers), list(d.ops))
            assert wrong_equations(d.response) == []


def test_same_seed_same_corpus_and_held_out_problems_unseen():
    a, b, c = make_corpus(300, seed=5), make_corpus(300, seed=5), make_corpus(300, seed=6)
    assert [d.text for d in a] == [d.text for d in b]
    assert [d.text for d in a] != [d.text for d in c]
    held_out = {p.question for p in DemoTask().problems("test", 300, seed=0)}
    assert not any(f"User: {q}\n" in d.text for q in held_out for d in a)


def test_a_slip_stays_in_range_and_an_impossible_one_is_refused():
    rng = random.Random(0)
    assert {slip(VALUE_LOW, rng) for _ in range(200)} == {VALUE_LOW + d for d in (1, 2, 10)}
    assert {slip(VALUE_HIGH, rng) for _ in range(200)} == {VALUE_HIGH - d for d in (1, 2, 10)}
    with pytest.raises(ValueError, match=f"no slip of {VALUE_HIGH + 11} stays within"):
        slip(VALUE_HIGH + 11, rng)


def test_unknown_style_is_refused():
    with pytest.raises(ValueError, match="unknown corpus styles"):
        make_corpus(10, 0, mix={"direct": 0.5, "essay": 0.5})
