"""Signals people watch in an R1-style run, computed from completion text."""

from __future__ import annotations

import re

from r1lab.verify.extract import THINK_CLOSE, THINK_OPEN

# Words that mark re-examination in the reasoning ("wait, let me check" moments; the R1 paper's
# "aha moment", DeepSeek-AI 2025, section 2.2.4).
REFLECTION_WORDS = frozenset({"wait", "check", "verify", "hmm", "recheck", "mistake", "reconsider"})
WORD_RE = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")


def reasoning_text(response: str) -> str:
    """The thinking part: inside <think>...</think> when present, else the whole response."""
    if THINK_OPEN in response:
        inner = response.split(THINK_OPEN, 1)[1]
        return inner.split(THINK_CLOSE, 1)[0]
    return response


def reflection_words_per_1k(responses: list[str]) -> float:
    """Reflection words per 1,000 words of reasoning, pooled over the responses."""
    words = [w.lower() for r in responses for w in WORD_RE.findall(reasoning_text(r))]
    if not words:
        return 0.0
    return 1000.0 * sum(w in REFLECTION_WORDS for w in words) / len(words)
