"""Code extraction from the answer region."""

import pytest

from r1lab.verify.code_extract import extract_code, fenced_blocks

F = "```"


@pytest.mark.parametrize("response, entry, expected", [
    # Only the answer region counts: a block inside the reasoning is ignored.
    (f"<think>{F}python\nwrong = 1\n{F}</think>\n{F}python\nright = 1\n{F}", None, "right = 1\n"),
    # An unclosed <think> is unanswered.
    (f"<think>{F}python\nx = 1\n{F}", None, None),
    # The last Python block wins; other languages are skipped.
    (f"{F}python\na = 1\n{F}\n{F}bash\nls\n{F}\n{F}py\nb = 2\n{F}", None, "b = 2\n"),
    # With an entry point, the last block defining it beats a later usage example.
    (f"{F}python\ndef f(x):\n    return x\n{F}\nUsage:\n{F}python\nprint(f(1))\n{F}", "f",
     "def f(x):\n    return x\n"),
    (f"{F}python\nasync def f():\n    pass\n{F}", "f", "async def f():\n    pass\n"),
    # ... and without a defining block the last block is taken.
    (f"{F}python\nprint(1)\n{F}", "f", "print(1)\n"),
    # Untagged fences count; a fence opened mid-line works; info strings may carry more words.
    (f"Here: {F}\nx = 1\n{F}", None, "x = 1\n"),
    (f"{F}Python3 title=sol.py\nx = 2\n{F}", None, "x = 2\n"),
    # A truncated block (no closing fence) is not an answer.
    (f"{F}python\nx = 1\n{F} then {F}python\ny = 2", None, "x = 1\n"),
    (f"{F}python\ndef f():", None, None),
    # <answer> tags: only the last tagged block; unfenced code inside the tags is taken as is.
    (f"<think>t</think><answer>\n{F}python\nx = 3\n{F}\n</answer>", None, "x = 3\n"),
    ("<think>t</think><answer>def f():\n    return 4\n</answer>", None, "def f():\n    return 4"),
    (f"<think>t</think>{F}python\nout = 1\n{F}<answer>inside = 1</answer>", None, "inside = 1"),
    # Empty blocks and plain prose are no answer.
    (f"{F}python\n\n{F}", None, None),
    ("The answer is 42.", None, None),
])
def test_extract_code(response, entry, expected):
    assert extract_code(response, entry) == expected


def test_fenced_blocks_pairs_fences_in_order():
    text = f"{F}python\na\n{F} prose {F}text\nb\n{F} {F}\nc\n{F}"
    assert fenced_blocks(text) == ["a\n", "c\n"]
