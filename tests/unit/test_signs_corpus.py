"""The signs corpus: its mix, its searches, and that checking pays in it only because checking works."""

import random
import re

import pytest

from r1lab.models.signs_corpus import (
    DEFAULT_MIX,
    MAX_TRIALS,
    Doc,
    card_lines,
    corpus_settings,
    corpus_stats,
    guess,
    make_corpus,
    search,
    verdicts,
    work,
)
from r1lab.rewards.language import mixes_languages
from r1lab.rewards.signals import SEARCH_VERDICT_RE, has_check, is_aha
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


def test_a_drifting_search_checks_its_later_guesses_in_the_second_script():
    rng = random.Random(5)
    long_searches = 0
    for _ in range(200):
        text, _ = search([20, 4, 2], ["-", "+"], 18, rng, drift=True)
        found = SEARCH_VERDICT_RE.findall(text)
        assert found[0][2] in ("so", "not") and text.startswith("20 ")  # the first guess is checked in English
        assert all(v in ("是", "不是") for *_, v in found[1:])  # every later one in Chinese
        assert all((a == b) == (v in ("so", "是")) for a, b, v in found)  # verdicts follow the values
        assert mixes_languages(text, "en") == (len(found) > 1)
        long_searches += len(found) > 1
    assert long_searches > 50
    text, _ = search([20, 4, 2], ["-", "+"], 18, random.Random(5))
    assert not mixes_languages(text, "en")


def test_mixing_is_in_searches_most_and_does_not_depend_on_being_right(docs):
    stats = corpus_stats(docs)["styles"]
    assert stats["steps"]["mixing"] == 0 and stats["malformed"]["mixing"] == 0  # no words to drift
    assert 0.02 < stats["direct"]["mixing"] < 0.12
    assert stats["check"]["mixing"] > 2 * stats["direct"]["mixing"]
    checks = [d for d in make_corpus(20000, seed=1) if d.style == "check"]  # ~1600: a 0.07 gap is 3 sigma
    drifting = [d.correct for d in checks if d.drift]
    steady = [d.correct for d in checks if not d.drift]
    assert abs(sum(drifting) / len(drifting) - sum(steady) / len(steady)) < 0.07
    # The detector reads a Chinese check as it reads an English one.
    mixed = [d for d in checks if mixes_languages(d.response, "en")]
    assert sum(is_aha(d.response, d.correct) for d in mixed) > 0.5 * len(mixed)
    # Drills teach the Chinese verdicts too.
    assert any("检查" in d.text and "不是" in d.text for d in docs if d.style == "drill")


def test_no_drift_gives_an_english_corpus():
    docs = make_corpus(800, seed=0, drift={})
    assert not any(mixes_languages(d.text, "en") for d in docs)


def test_verdicts_read_by_hand():
    doc = Doc("check", "", " <think> 12 + 7 - 8 . 12 + 7 = 19 . 19 - 8 = 11 . check 11 13 not . 12 - 7 + 8 . "
              "12 - 7 = 5 . 5 + 8 = 14 . 检查 14 13 不是 . </think> <answer> 12 - 7 + 8 </answer>",
              (12, 7, 8), 13, ("-", "+"))
    # 12 + 7 - 8 = 11 (wrong, flagged); 12 - 7 + 8 = 13 is right, but its working slipped to 14 and was flagged.
    assert verdicts(doc) == [(False, False), (True, False)]
    assert doc.correct


def test_corpus_stats_measure_the_checks_and_the_card_states_them(docs):
    stats = corpus_stats(docs)
    assert 0 <= stats["check_passes_wrong"] < 0.03  # passing a wrong guess takes a slip onto the target
    assert 0.03 < stats["check_flags_right"] < 0.25  # one slip anywhere in the working flags a right guess
    assert 1.5 < stats["guesses_per_search"] <= MAX_TRIALS
    assert stats["difficulty"]["1"]["check"] > stats["difficulty"]["3"]["check"]
    card = "\n".join(card_lines(corpus_settings(), stats))
    assert f"{stats['mixing']:.1%} of the framed documents mix in Chinese" in card
    assert f"{stats['check_flags_right']:.1%} of the right ones" in card


def test_the_default_completion_budget_holds_every_search_the_base_learned(docs):
    # A stage run bare (`r1lab zero`, sample, compare) samples the default task on the embedded base: its
    # budget must hold the longest completion of the corpus the base learned from, or searches are cut.
    from transformers import AutoTokenizer

    from r1lab.config import DEFAULT_MAX_NEW_TOKENS, DEFAULT_TASK
    from r1lab.models.loading import TINY_BASE_DIR

    assert DEFAULT_TASK == "signs"
    tokenizer = AutoTokenizer.from_pretrained(TINY_BASE_DIR)
    longest = max(len(tokenizer(d.text[len(d.prompt):], add_special_tokens=False).input_ids)
                  for d in docs if d.style != "drill")
    assert 0 < longest <= DEFAULT_MAX_NEW_TOKENS
