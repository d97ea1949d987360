"""Language consistency: word labels by script, hand-counted proportions, pluggable detectors."""

import pytest

from r1lab.rewards.language import (
    dominant_language,
    language_consistency,
    language_mixing_rate,
    resolve_detector,
    script_words,
)


def test_script_words_counts_cjk_characters_as_words():
    assert script_words("hello 世界!") == ["latin", "cjk", "cjk"]
    assert script_words("36 + 69 = 105 .") == []  # digits and symbols are not words
    assert script_words("café naïve") == ["latin", "latin"]
    assert script_words("abc世def") == ["latin", "cjk", "latin"]  # a script change splits a word
    assert script_words("Привет мир") == ["cyrillic", "cyrillic"]
    assert script_words("カタカナ") == ["cjk"] * 4


@pytest.mark.parametrize(
    "response, target, expected",
    [
        ("<think> so the sum is 5 </think> <answer> 5 </answer>", "en", 1.0),  # 4 latin words
        ("<think> so 答案 is 5 </think> <answer> 5 </answer>", "en", 2 / 4),  # so, is + 2 CJK chars
        ("<think> so 答案 is 5 </think> <answer> 5 </answer>", "zh", 2 / 4),
        ("<think> 所以 the 答案 </think><answer>5</answer>", "cjk", 4 / 5),
        ("<think> 36 + 69 = 105 . </think> <answer> 105 </answer>", "en", 1.0),  # no words: consistent
        ("plain answer with 一 char", "latin", 4 / 5),  # no think block: the whole text is reasoning
    ],
)
def test_consistency_is_the_target_share_of_reasoning_words(response, target, expected):
    assert language_consistency(response, target) == pytest.approx(expected)


def test_answer_region_is_not_judged():
    assert language_consistency("<think> fine words </think> <answer> 五 </answer>", "en") == 1.0


def test_dominant_language_and_mixing_rate():
    assert dominant_language("Compute 12 + 5 .") == "latin"
    assert dominant_language("计算 12 + 5") == "cjk"
    assert dominant_language("12 + 5") == "latin"  # no words: the default
    responses = ["<think> ok </think>", "<think> ok 好 </think>", "<think> 1 </think>", "<think>好</think>"]
    assert language_mixing_rate(responses, ["en"] * 4) == 0.5


def test_detector_is_pluggable():
    assert resolve_detector("script") is script_words
    assert resolve_detector("r1lab.rewards.language:script_words") is script_words
    plugged = resolve_detector(_everything_is_xx)
    assert language_consistency("<think> a b 世 </think>", "xx", plugged) == 1.0
    with pytest.raises(ValueError, match="no function"):
        resolve_detector("r1lab.rewards.language:nope")
    with pytest.raises(ValueError, match="module:function"):
        resolve_detector("fasttext")


def _everything_is_xx(text: str) -> list[str]:
    return ["xx" for _ in text.split()]
