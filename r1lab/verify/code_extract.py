"""Code extraction from the answer region of a response, never from the reasoning.

The region is the one math answers come from (r1lab.verify.extract.answer_region: after </think>; an
unclosed <think> is unanswered). Inside it, when <answer> tags are present only the last tagged
block counts. The code is the last fenced block whose language tag is Python or empty; when the
problem names an entry point, the last such block that defines it is preferred (models often end
with a usage example). Code written between <answer> tags without a fence is taken as is. A block
whose closing fence is missing (a truncated response) does not count.
"""

from __future__ import annotations

import re

from r1lab.verify.extract import answer_region, tagged_answer

FENCE = "```"
PYTHON_TAGS = {"", "python", "python3", "py", "py3"}


def fenced_blocks(text: str) -> list[str]:
    """Contents of the closed fenced blocks tagged as Python (or untagged), in order. Fences pair up
    in order of appearance; the first line after an opening fence is its info string."""
    parts = text.split(FENCE)
    blocks = []
    for inside in parts[1:-1:2]:  # the last part after an odd fence is an unclosed block: skipped
        info, newline, body = inside.partition("\n")
        if not newline:
            continue
        tag = info.strip().split()[0].lower() if info.strip() else ""
        if tag in PYTHON_TAGS:
            blocks.append(body)
    return blocks


def extract_code(response: str, entry_point: str | None = None) -> str | None:
    """The program in the response's answer region, or None when it gives none."""
    region = answer_region(response)
    if region is None:
        return None
    tagged = tagged_answer(region)
    if tagged is not None:
        region = tagged
    blocks = [b for b in fenced_blocks(region) if b.strip()]
    if entry_point:
        defining = re.compile(rf"^\s*(async\s+)?def\s+{re.escape(entry_point)}\s*\(", re.MULTILINE)
        preferred = [b for b in blocks if defining.search(b)]
        blocks = preferred or blocks
    if blocks:
        return blocks[-1]
    if tagged is not None and FENCE not in region and region.strip():
        return region.strip("\n")
    return None
