import pytest

from r1lab.rewards import combine, format_reward
from r1lab.rewards.signals import reflection_words_per_1k
from r1lab.verify.extract import extract_answer


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<think> 2 + 2 = 4 </think> <answer> 4 </answer>", 1.0),
        ("  <think>a</think>\n<answer>b</answer>\n", 1.0),
        ("<think> </think> <answer> 4 </answer>", 0.0),  # empty reasoning
        ("<think> x </think> <answer> </answer>", 0.0),  # empty answer
        ("<think> x </think> <answer> 4 </answer> and more", 0.0),  # text after the answer
        ("<think> x </think> <answer> 4 </answer><answer> 5 </answer>", 0.0),  # two answers
        ("<think> x <think> y </think> <answer> 4 </answer>", 0.0),
        ("<answer> 4 </answer>", 0.0),  # no reasoning block
        ("<think> x </think> 4", 0.0),
    ],
)
def test_format_is_strict(text, expected):
    assert format_reward(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<think> 7 </think> <answer> 4 </answer>", "4"),
        ("<think> so \\boxed{3} </think> the answer is \\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
        ("<think> the answer is 4", None),  # truncated reasoning: unanswered
        ("<think> <answer> 4 </answer>", None),  # the answer only inside an unclosed think
        ("<think> 5 </think> it is 5", None),  # no last-number fallback
        ("plain \\boxed{12}", "12"),
        ("<answer> \\boxed{7} </answer>", "7"),
        ("<think> x </think> <answer>  </answer>", None),
    ],
)
def test_extract_answer_region_only(text, expected):
    assert extract_answer(text) == expected


def test_combine_weights_components():
    total = combine({"accuracy": [1.0, 0.0], "format": [1.0, 1.0], "language": [0.5, 0.5]},
                    {"accuracy": 1.0, "format": 0.2, "language": 0.0})
    assert total == pytest.approx([1.2, 0.2])
    with pytest.raises(ValueError):
        combine({"accuracy": [1.0], "format": [1.0, 0.0]}, {"accuracy": 1.0, "format": 1.0})


def test_reflection_rate_counts_reasoning_only():
    text = "<think> wait let me check this </think> <answer> wait </answer>"
    assert reflection_words_per_1k([text]) == pytest.approx(1000 * 2 / 5)
    assert reflection_words_per_1k([""]) == 0.0
