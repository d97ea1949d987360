"""Signals people watch in an R1-style run, computed from completion text: reflection words, self-checks
and "aha" moments (DeepSeek-AI 2025, section 2.2.4: the model "learns to rethink using an
anthropomorphic tone", re-evaluating its initial approach). Pure functions of the text (and of the
verifier's verdict for aha), the same for training steps and held-out evals. None of them is a
reward: they are measured, never optimised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from r1lab.verify.extract import THINK_CLOSE, THINK_OPEN, extract_answer

# Words that mark re-examination in the reasoning ("wait, let me check" moments; the R1 paper's
# "aha moment", DeepSeek-AI 2025, section 2.2.4).
REFLECTION_WORDS = frozenset({"wait", "check", "verify", "hmm", "recheck", "mistake", "reconsider"})
WORD_RE = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
# A self-check opens with one of these (English, and the Chinese of the demo corpus's drifting
# documents: 等等 "wait", 检查 "check", 验证 "verify").
CHECK_RE = re.compile(r"\b(?:wait|check|let me (?:re)?check|re-?check|double-check|verify|verifying)\b|等等|检查|验证",
                      re.IGNORECASE)
# A check that found something wrong says so: "..., not 47", "that is wrong", "a mistake", 不是 / 错 (but not
# 没错, "no error").
FLAG_RE = re.compile(r"\bnot\s+-?\d|\b(?:wrong|mistake|incorrect|error)\b|不是|(?<!没)错", re.IGNORECASE)
NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?")
# A result stated right before a check opens: "so 7 + 8 - 9 is 7 ." (and 是, "is").
STATED_RE = re.compile(r"(?:\bis|是)\s+(-?\d+(?:\.\d+)?)\s*\.?\s*$")
_NUM = r"-?\d+(?:\.\d+)?"
# A search's check (the signs task, r1lab/tasks/signs.py): a guess written as a bare sum ("7 + 8 + 3 ."),
# worked out, then its value and the target side by side with a verdict: "check 18 12 not ." or "so".
GUESS_RE = re.compile(r"(?:^|(?<=[.:>,]))\s*(\d+(?:\s*[-+]\s*\d+)+)\s*\.")
SEARCH_VERDICT_RE = re.compile(r"(?:\bcheck|检查)\s+(-?\d+)\s+(-?\d+)\s+(not|so|不是|是)\s*\.")
# "7 + 8 = 15": the left side (two numbers and an operator) and the result.
EQUATION_RE = re.compile(rf"({_NUM}\s*[-+*/x×÷]\s*{_NUM})\s*=\s*({_NUM})")


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


def has_check(response: str) -> bool:
    """Whether the reasoning goes back over its own work ("wait , let me check .", "let me verify")."""
    return CHECK_RE.search(reasoning_text(response)) is not None


def _same_number(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return a.strip() == b.strip()


def _left(expression: str) -> str:
    return re.sub(r"\s+", "", expression)


def _flags_between(text: str, start: int, end: int) -> bool:
    return FLAG_RE.search(text, start, end) is not None


def _checked_and_kept(think: str, equations: list[re.Match], answer: str | None) -> bool:
    """A check that reached another value than the work it checks, a flag, and the work going on from
    the check's value: "7 + 18 = 24 . check 7 + 10 = 17 . 17 + 8 = 25 . wait , that was wrong . 25 - 9 =
    16 ." The checked value is the result of the last equation before the check opens, the check's
    value that of the last equation before the flag; the work goes on from it when the next equation
    starts with it (or, with no equation after the flag, when the answer is it)."""
    checks = list(CHECK_RE.finditer(think))
    for flag in FLAG_RE.finditer(think):
        # The check that the flag closes: the latest check word with an equation between it and the flag
        # ("wait" opens a flag as often as a check).
        opening = next((c for c in reversed(checks) if c.end() <= flag.start()
                        and any(c.end() <= e.start() and e.end() <= flag.start() for e in equations)), None)
        if opening is None:
            continue
        before = [e for e in equations if e.end() <= opening.start()]
        inside = [e for e in equations if opening.end() <= e.start() and e.end() <= flag.start()]
        after = [e for e in equations if e.start() >= flag.end()]
        if not before or _same_number(before[-1].group(2), inside[-1].group(2)):
            continue
        kept = inside[-1].group(2)
        if after and _left(after[0].group(1)) == _left(inside[-1].group(1)):
            continue  # the check's step worked a third time: a redo, judged by the redo rule in `is_aha`
        if after:
            first = NUMBER_RE.match(after[0].group(1).lstrip())
            if first and _same_number(first.group(), kept):
                return True
        elif answer is not None and _same_number(answer, kept):
            return True
    return False


def _sum_value(expression: str) -> int:
    """The value of numbers joined by + and -: "7 + 8 - 3" is 12."""
    terms = re.findall(r"([-+]?)\s*(\d+)", expression)
    return sum(-int(n) if sign == "-" else int(n) for sign, n in terms)


def _search_corrected(think: str, answer: str | None) -> bool:
    """A guess whose check found it wrong, then another guess whose own check found it right, given as
    the answer: "7 + 8 + 3 . 7 + 8 = 15 . 15 + 3 = 18 . check 18 12 not . 7 + 8 - 3 . 7 + 8 = 15 . 15 -
    3 = 12 . check 12 12 so ." answering 7 + 8 - 3. The flagged guess must really miss the target (a
    check whose working slipped flags a right guess), judged by its own value, not the working's. The
    answer must be the guess a later check confirmed ("so", with the value reached equal to the target):
    an answer the search never worked out, right by luck after a rejected guess, corrected nothing."""
    if answer is None or not re.fullmatch(r"\s*\d+(?:\s*[-+]\s*\d+)*\s*\.?\s*", answer):
        return False
    answered = _left(answer.rstrip(" ."))
    guesses = list(GUESS_RE.finditer(think))
    # Each verdict with the guess it checks: the last one written before it.
    checks = []
    for verdict in SEARCH_VERDICT_RE.finditer(think):
        before = [g.group(1) for g in guesses if g.end() <= verdict.start()]
        if before:
            checks.append((verdict, _left(before[-1])))
    for k, (rejected, flagged) in enumerate(checks):
        target = int(rejected.group(2))
        if rejected.group(3) not in ("not", "不是") or _sum_value(flagged) == target:
            continue
        # Another choice of signs for the same numbers, checked against the same target and confirmed.
        if re.findall(r"\d+", answered) != re.findall(r"\d+", flagged) or answered == flagged:
            continue
        if any(confirmed.group(3) in ("so", "是") and guess == answered
               and int(confirmed.group(1)) == int(confirmed.group(2)) == target
               for confirmed, guess in checks[k + 1:]):
            return True
    return False


def is_aha(response: str, correct: bool) -> bool:
    """An "aha": a self-check finds an intermediate result wrong, the response corrects it and ends
    correct. Concretely, all of: the response is correct (the verifier's verdict); its reasoning has
    a check; and either

    - after the check opens, an equation works out again an expression written before it and gets a
      different result, and the difference is flagged ("wait , not 14", "wrong", "mistake", 不是)
      between the two, or right after the new one before the next equation: "7 + 8 = 14 . check 14 -
      8 = 6 . wait , not 7 . 7 + 8 = 15 ." (flag, then redo) and "7 + 8 = 14 . check 7 + 8 = 15 .
      wait , not 14 ." (redo, then flag) both count; or
    - the check works the value out another way, gets a different one, flags it, and the work goes on
      from the check's value: "7 + 18 = 24 . check 7 + 10 = 17 . 17 + 8 = 25 . wait , that was wrong .
      25 - 9 = 16 ." (see `_checked_and_kept`).

    A flag whose redo gives the same value changed nothing and is not an aha, nor is one whose third
    working gives back the first working's value (the check slipped, not the work): "15 - 9 = 6 . check
    ... 15 - 9 = 5 . wait , not 6 . 15 - 9 = 6 ." When a result is stated right before the check
    ("so 7 + 8 - 9 is 7 . check ...", or a first answer "7 + 8 - 9 is 5 . check ...") or nothing before
    it was worked out in equations (a guess, or prose), a flagged check is judged on the result reached
    when it opened (the stated one, else the last number before it) against the final answer: "? is 9 .
    check if 7 + 9 - 9 makes 6 . 7 + 9 = 16 . 16 - 9 = 7 . wait , not 6 . ? is 8 . check ..." answering 8
    is an aha; a right guess that a slipped check flagged, guessed again and answered is not.

    In a search (the signs task), a guess checked against the target and found to miss it ("check 18 12
    not ."), then another guess whose own check confirms the target ("check 12 12 so .") given as the
    answer, is an aha (see `_search_corrected`)."""
    if not correct:
        return False
    think = reasoning_text(response)
    check = CHECK_RE.search(think)
    if check is None:
        return False
    answer = extract_answer(response)
    if _search_corrected(think, answer):
        return True
    equations = list(EQUATION_RE.finditer(think))
    before_check = think[:check.start()]
    stated = STATED_RE.search(before_check)
    if (stated or not any(e.start() < check.start() for e in equations)) and FLAG_RE.search(think, check.end()):
        # A result stated, or prose: what was reached when the check opened against the answer.
        reached = [stated.group(1)] if stated else NUMBER_RE.findall(before_check)
        return bool(reached) and answer is not None and not _same_number(reached[-1], answer)
    if _checked_and_kept(think, equations, answer):
        return True
    # What a check finds wrong is a result of the work, not of a check's own arithmetic (an equation
    # right after a check word), which a redone check would otherwise "correct".
    work = [CHECK_RE.search(think, equations[i - 1].end() if i else 0, e.start()) is None
            for i, e in enumerate(equations)]
    for j, later in enumerate(equations):
        if later.start() < check.start():
            continue
        following = equations[j + 1].start() if j + 1 < len(equations) else len(think)
        for i in range(j - 1, -1, -1):
            earlier = equations[i]
            if _left(earlier.group(1)) != _left(later.group(1)):
                continue
            # Nothing was corrected when the expression's last working gives back the flagged value (the
            # check slipped and a third working sided with the first), nor when the redo gives back what
            # an even earlier working had (the third working undoing the check's own slip).
            workings = [e for e in equations if _left(e.group(1)) == _left(later.group(1))]
            kept_flagged = _same_number(workings[-1].group(2), earlier.group(2))
            restores = any(_same_number(e.group(2), later.group(2)) for e in workings if e.start() < earlier.start())
            if work[i] and not kept_flagged and not restores and not _same_number(earlier.group(2), later.group(2)) and (
                    _flags_between(think, earlier.end(), later.start())
                    or _flags_between(think, later.end(), following)):
                return True
            break  # only the latest earlier working of the expression counts
    return False


def _percentile(sorted_values: Sequence[int], q: int) -> int:
    """The q-th percentile by index (q * n // 100), the convention of the training loop's length stats."""
    return sorted_values[(q * len(sorted_values)) // 100]


def emergence_stats(samples: Iterable[tuple[str, bool]], lengths: Sequence[int] | None = None) -> dict[str, float]:
    """The emergence signals of a set of responses, each given as (text, correct):

    - reflection_words_per_1k: reflection words per 1,000 words of reasoning;
    - check_rate: share of responses with a self-check;
    - aha_rate: share of responses that are an aha (see `is_aha`), aha_count the number;
    - accuracy_with_check / accuracy_without_check: accuracy of the responses that check and of those
      that do not (absent when there are none): whether checking pays;
    - with `lengths` (tokens per response, same order): response_length_mean, _p10 and _p90.
    Empty input gives zeros and n = 0."""
    samples = list(samples)
    texts = [t for t, _ in samples]
    n = len(samples)
    checks = [has_check(t) for t in texts]
    ahas = sum(is_aha(t, ok) for t, ok in samples)
    out: dict[str, float] = {
        "n": n,
        "reflection_words_per_1k": reflection_words_per_1k(texts),
        "check_rate": sum(checks) / n if n else 0.0,
        "aha_rate": ahas / n if n else 0.0,
        "aha_count": ahas,
    }
    with_check = [ok for (_, ok), c in zip(samples, checks) if c]
    without_check = [ok for (_, ok), c in zip(samples, checks) if not c]
    if with_check:
        out["accuracy_with_check"] = sum(with_check) / len(with_check)
    if without_check:
        out["accuracy_without_check"] = sum(without_check) / len(without_check)
    if lengths is not None:
        if len(lengths) != n:
            raise ValueError(f"{len(lengths)} lengths for {n} responses")
        if n:
            ordered = sorted(lengths)
            out["response_length_mean"] = sum(ordered) / n
            out["response_length_p10"] = _percentile(ordered, 10)
            out["response_length_p90"] = _percentile(ordered, 90)
    return out
