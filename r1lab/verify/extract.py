"""Answer extraction from the answer region of a response, never from the reasoning.

Rules (../shared/GUIDE.md section 4): an opened <think> without its </think> is unanswered; the
answer is the content of the <answer> tags after the reasoning, else the last \\boxed{} after the
reasoning; no "last number in the text" fallback, which rewards guesses hidden in the thinking.
"""

from __future__ import annotations

import re

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
ANSWER_RE = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)


def answer_region(response: str) -> str | None:
    """The part of the response after the reasoning, or None when the reasoning never closed."""
    if THINK_CLOSE in response:
        return response.rsplit(THINK_CLOSE, 1)[1]
    if THINK_OPEN in response:
        return None  # truncated or malformed reasoning: unanswered
    return response


def last_boxed(text: str) -> str | None:
    """Content of the last \\boxed{...} (or \\fbox{...}), braces balanced; None if absent/unclosed."""
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start < 0:
        return None
    i = text.index("{", start) + 1
    depth = 1
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i:j]
    return None


def extract_answer(response: str) -> str | None:
    """The final answer string, stripped, or None when the response gives none."""
    region = answer_region(response)
    if region is None:
        return None
    tagged = ANSWER_RE.findall(region)
    if tagged:
        inner = tagged[-1]
        boxed = last_boxed(inner)
        answer = boxed if boxed is not None else inner
    else:
        answer = last_boxed(region)
    if answer is None:
        return None
    answer = answer.strip()
    return answer or None
