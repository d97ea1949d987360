"""The answer region of a response, and the answer in it. Never the reasoning, never a guess.

Rules (the project guide, section 4: extract from the answer region only):
- The answer region is the text after the last </think>; a <think> that never closes means the
  response gave no answer (truncated or malformed reasoning). Without think tags it is the whole
  response.
- Inside it, when <answer>...</answer> tags are present only the last tagged block counts.
- The answer is every \\boxed{} (or \\fbox{}) of that text that is not inside another one, in order:
  several boxes are one answer, a list (`\\boxed{1}, \\boxed{2}` is `1, 2`); a box repeated word for
  word counts once; a box never closed does not count.
- Without a box, the tagged block's text is the answer as written (a bare answer or a short sentence,
  which the verifier reads); untagged text without a box is no answer: never the last number.

Every function here does work linear in the length of the response (one pass, no backtracking
regex), so a hostile response cannot stall the caller: the parent process of the math verifier runs
these before any deadline applies.
"""

from __future__ import annotations

import re

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
ANSWER_OPEN, ANSWER_CLOSE = "<answer>", "</answer>"
_BOX = re.compile(r"\\(?:boxed|fbox)\{")
# A numeral with thousands separators ("1,000", "12,345.5"): its commas are not list separators
# when several boxes are joined into one list.
_GROUPED = re.compile(r"[-+]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?")


def answer_region(response: str) -> str | None:
    """The part of the response after the reasoning, or None when the reasoning never closed."""
    if THINK_CLOSE in response:
        return response.rsplit(THINK_CLOSE, 1)[1]
    if THINK_OPEN in response:
        return None  # truncated or malformed reasoning: unanswered
    return response


def tagged_answer(region: str) -> str | None:
    """The text of the last closed <answer>...</answer> block, or None when there is none: the last
    <answer> that a </answer> follows, up to the first </answer> after it."""
    last_close = region.rfind(ANSWER_CLOSE)
    if last_close < 0:
        return None
    start = region.rfind(ANSWER_OPEN, 0, last_close)
    if start < 0:
        return None
    start += len(ANSWER_OPEN)
    return region[start:region.find(ANSWER_CLOSE, start)]


def _matching_braces(text: str) -> dict[int, int]:
    """Index of every `{` that closes -> index of its `}`, in one pass."""
    closing, stack = {}, []
    for i, ch in enumerate(text):
        if ch == "{":
            stack.append(i)
        elif ch == "}" and stack:
            closing[stack.pop()] = i
    return closing


def boxed_answers(text: str) -> list[str]:
    """Contents of every \\boxed{...} / \\fbox{...} not inside another one, in order, stripped; a box
    whose content is only another box is unwrapped; a box never closed is skipped; an exact repeat of
    an earlier box is dropped."""
    closing: dict[int, int] | None = None
    found: list[str] = []
    seen: set[str] = set()
    after = 0  # boxes starting before this index are inside one already taken
    for match in _BOX.finditer(text):
        if match.start() < after:
            continue
        if closing is None:
            closing = _matching_braces(text)
        brace = match.end() - 1
        end = closing.get(brace)
        if end is None:
            continue  # never closed: does not count (a later, closed box still does)
        start = brace + 1
        inner = _BOX.match(text, start)
        while inner and closing.get(inner.end() - 1) == end - 1:  # \boxed{\boxed{x}}
            start, end = inner.end(), end - 1
            inner = _BOX.match(text, start)
        content = text[start:end].strip()
        if content and content not in seen:
            seen.add(content)
            found.append(content)
        after = end + 1
    return found


def normalized_box(content: str) -> str:
    """A box's content with its whitespace collapsed: how a response's box is compared with the boxes
    a prompt shows (r1lab.models.templates.placeholder_answers)."""
    return " ".join(content.split())


def join_answers(items: list[str]) -> str:
    """Several answers as one list answer, `a, b, c`; a thousands separator inside a numeral is
    dropped first, so that `\\boxed{1,000}, \\boxed{2}` is the list `1000, 2`."""
    if len(items) == 1:
        return items[0]
    return ", ".join(item.replace(",", "") if _GROUPED.fullmatch(item) else item for item in items)


def extract_answer(response: str) -> str | None:
    """The final answer as text, stripped, or None when the response gives none (rules above)."""
    region = answer_region(response)
    if region is None:
        return None
    tagged = tagged_answer(region)
    boxes = boxed_answers(region if tagged is None else tagged)
    if boxes:
        return join_answers(boxes)
    answer = tagged.strip() if tagged is not None else ""
    return answer or None
