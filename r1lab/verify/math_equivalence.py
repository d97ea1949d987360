"""When two math answers are the same answer: pure functions, no processes, no deadlines.

`judge(gold, answer)` is the whole decision; it can take unbounded time (sympy), so the verifier
calls it only inside a killable worker (r1lab/verify/math.py). `precheck` is the part that is cheap
and certain, run in the parent on bounded input before any worker is involved. Both apply the same
rules, so a verdict never depends on which one gave it.

The rules (README, "The math verifier's rules"):
- Answers are extracted by r1lab/verify/extract.py; several boxes are one list answer, and so is a
  gold answer with several boxes.
- Inside <answer> tags an answer may be a short sentence: a leading "Answer:" or "The final answer
  is" is dropped, a single `$...$` around the answer is dropped, and text that still holds
  delimited math (`$...$`, `\\(...\\)`, `\\[...\\]`) is read by math-verify's own extraction
  ("final answer is", "Answer:", `$a$ and $b$` as a list).
- Lists: `a, b, c` (a comma list, or several boxes) is a set, as math-verify reads it: order does not
  matter and repeats count once; a tuple is written `(a, b)`.
- Equations are equal when they have the same solution set: math-verify's comparison (it solves
  both), or one side a non-zero constant multiple of the other (`2x+4y-3=0` and `4x+8y=6`).
- Numbers, commas:
  - a comma followed by a space separates list items: `32, 349` is two numbers;
  - `1,000` and `12,345.5` (groups of three digits after a first group of one to three digits that
    does not start with 0; also `1{,}000` and `1,\\!000`) are thousands separators;
  - any other `d,d` (one comma, digits on both sides, no space: `1,22`, `0,5`, `-2,1`) is a decimal
    comma when the gold answer is a decimal number written with a point (`1,22` = 1.22 against the
    gold 1.22), and a two-item list otherwise (MATH-500's gold `-2,1`). A gold answer's own `d,d` is
    always a list.
- Guards against known math-verify false positives, each applied only where it compares the whole
  answer (it never turns an "equal" into "unequal" on a partial comparison):
  - tiny numbers: `1/2004!` vs `1/2006!` are "equal" to math-verify because it compares a chopped
    15-digit difference (huggingface/Math-Verify issue #14). When both answers are numbers (or
    tuples, sets, intervals or matrices of numbers, or `x = number`), their relative difference is
    re-checked at 40 digits: exact inputs must agree to 1e-25, inputs with a decimal point to 1e-4
    (math-verify's 6-decimal rounding alone lets 1e-8 equal 2e-8).
  - partial parses: `$4\\sqrt(2)$` parses as 4 when math-verify falls back to plain-expression
    extraction on the part it understands (issue #41). Answers are parsed as LaTeX; the
    plain-expression parser counts only when its match covers the whole answer, and sloppy notations
    the LaTeX parser misreads (√, sqrt(...), \\sqrt(...), unicode operators) are rewritten first.
  - expressions that evaluate to zoo/nan (`12:00`, a division by zero) are never compared: both
    would be "zoo" and equal.
"""

from __future__ import annotations

import re
from fractions import Fraction

from r1lab.types import Verdict
from r1lab.verify.extract import boxed_answers, join_answers

MAX_ANSWER_CHARS = 10_000  # no benchmark answer comes near this; longer ones are not sent to sympy

# ---------------------------------------------------------------------------------------------
# Gold answers
# ---------------------------------------------------------------------------------------------


def gold_answer(gold) -> str | None:
    """The answer inside a gold field: after GSM8K's last `####`, else a worked solution's boxes
    (several are one list), else the text itself (numbers are printed without a spurious `.0`)."""
    if isinstance(gold, float) and gold.is_integer():
        gold = int(gold)
    text = str(gold).strip()
    if "####" in text:
        text = text.rsplit("####", 1)[1].strip()
    elif "\\boxed" in text or "\\fbox" in text:
        boxes = boxed_answers(text)
        text = join_answers(boxes) if boxes else text
    return text or None


# ---------------------------------------------------------------------------------------------
# Numbers and commas (rule 6)
# ---------------------------------------------------------------------------------------------

_GROUPING_MARKS = re.compile(r"\{,\}|,\\!\s*")  # 1{,}000 and 1,\!000: LaTeX thousands separators
_GROUPED = re.compile(r"[-+]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?")
_ONE_COMMA = re.compile(r"[-+]?\d+,\d+")
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)")
_POINT_DECIMAL = re.compile(r"[-+]?(\d+\.\d+|\.\d+)")


def _numeral_text(answer: str) -> str:
    """The answer without math delimiters, a dollar sign, a final full stop or LaTeX grouping marks."""
    s = answer.strip().strip("$").strip()
    if s.startswith("\\$"):
        s = s[2:].lstrip()
    if s.endswith(".") and not s.endswith(".."):
        s = s[:-1].rstrip()
    return _GROUPING_MARKS.sub(",", s)


def plain_number(answer: str) -> Fraction | None:
    """The exact value of a plain decimal numeral (`18`, `-0.5`, `1,000`, `\\$18`), else None. A comma
    is a thousands separator only in groups of three; `1,22` and `32, 349` are not plain numbers."""
    s = _numeral_text(answer)
    if re.search(r",\s", s):
        return None  # a comma and a space: a list
    s = re.sub(r"\s+", "", s)
    if _GROUPED.fullmatch(s):
        s = s.replace(",", "")
    if not _NUMBER.fullmatch(s):
        return None
    try:
        return Fraction(s)
    except ValueError:  # more digits than int() converts (sys.get_int_max_str_digits)
        return None


def read_commas(gold: str, answer: str) -> tuple[str, str]:
    """(gold, answer) with every whole-answer `d,d` that is not a thousands separator made explicit:
    the answer's is a decimal point when the gold is a decimal number written with a point, else a
    list separator (`, `); the gold's is always a list separator."""
    def rewritten(text: str, decimal: bool) -> str:
        s = _numeral_text(text)
        if _ONE_COMMA.fullmatch(s) and not _GROUPED.fullmatch(s):
            return s.replace(",", "." if decimal else ", ")
        return text

    gold_is_decimal = bool(_POINT_DECIMAL.fullmatch(_numeral_text(gold).replace(",", "")))
    return rewritten(gold, False), rewritten(answer, gold_is_decimal)


# ---------------------------------------------------------------------------------------------
# Presentation-only normal form and the parent-side verdicts
# ---------------------------------------------------------------------------------------------

_LEFT_RIGHT = re.compile(r"\\(left|right)(?![a-zA-Z])")
_SPACING = re.compile(r"\\[,;:! ]|\\q?quad(?![a-zA-Z])|~")
_TEXT_MACRO = re.compile(r"\\(text|mathrm|mbox|textbf|operatorname)\s*\{")


def match_key(answer: str) -> str:
    """A normal form that changes only presentation, never value: two answers with the same key are
    the same answer. Whitespace is kept inside text macros, where it separates words, and after a
    comma, where it makes a list (`32, 349` is not `32,349`)."""
    s = answer.strip().strip("$").strip()
    s = s[:-1] if s.endswith(".") and not s.endswith("..") else s
    s = _GROUPING_MARKS.sub(",", s)
    s = _LEFT_RIGHT.sub("", s)
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = _SPACING.sub(" ", s)
    if not _TEXT_MACRO.search(s):
        s = re.sub(r",\s+", ",\0", s)
        s = re.sub(r"\s+", "", s).replace("\0", " ")
    return " ".join(s.split())


def precheck(gold: str | None, answer: str | None, max_chars: int = MAX_ANSWER_CHARS,
             fast_paths: bool = True) -> Verdict | None:
    """A verdict without sympy when one is certain; None when a worker must decide. Work linear in
    max_chars at most."""
    if not gold:
        return Verdict("unverifiable", 0.0, answer, "empty gold answer")
    if answer is None:
        return Verdict("incorrect", 0.0, None, "no answer in the answer region")
    if len(answer) > max_chars or len(gold) > max_chars:
        return Verdict("unverifiable", 0.0, answer[:200], f"answer longer than {max_chars} characters")
    if not fast_paths:
        return None
    read_gold, read = read_commas(gold, bare_answer(answer))
    if match_key(read_gold) == match_key(read):
        return Verdict("correct", 1.0, answer, "identical after normalisation")
    g, a = plain_number(read_gold), plain_number(read)
    if g is not None and a is not None:
        ok = g == a
        return Verdict("correct" if ok else "incorrect", float(ok), answer, "compared as exact numbers")
    return None


# ---------------------------------------------------------------------------------------------
# Reading an answer as sympy (runs in the worker processes)
# ---------------------------------------------------------------------------------------------

_UNICODE = {"×": "\\times ", "·": "\\cdot ", "−": "-", "π": "\\pi ", "∞": "\\infty ", "≤": "\\le ",
            "≥": "\\ge ", "°": "^\\circ", "√": "\\sqrt"}
_SQRT_PAREN = re.compile(r"(?:\\sqrt|(?<![\\a-zA-Z])sqrt)\s*\(([^()]*)\)")
_SQRT_DIGITS = re.compile(r"\\sqrt\s*(\d+)")
_LABEL = re.compile(r"^(?:the\s+)?(?:final\s+)?answer\s*(?:is\b\s*:?|:)\s*", re.IGNORECASE)
_ONE_MATH = re.compile(r"^(?:\$([^$]*)\$|\\\((.*)\\\)|\\\[(.*)\\\])$", re.DOTALL)
_DOLLAR = re.compile(r"(?<!\\)\$")  # an unescaped $: math delimiter in pairs, a currency sign alone


def normalize_sloppy(answer: str) -> str:
    """Rewrite notations the LaTeX parser reads only in part (so `4√2` is not parsed as 4)."""
    for u, latex in _UNICODE.items():
        answer = answer.replace(u, latex)
    answer = _SQRT_PAREN.sub(r"\\sqrt{\1}", answer)
    answer = _SQRT_DIGITS.sub(r"\\sqrt{\1}", answer)
    return answer.replace("\\mathrm{e}", "e")


def bare_answer(answer: str) -> str:
    """The answer without a leading "Answer:" / "The final answer is" label, a final full stop, and
    one pair of math delimiters around the whole of it."""
    s = _LABEL.sub("", answer.strip(), count=1).strip()
    if s.endswith(".") and not s.endswith(".."):
        s = s[:-1].rstrip()
    whole = _ONE_MATH.match(s)
    if whole:
        s = next(g for g in whole.groups() if g is not None).strip()
    if len(_DOLLAR.findall(s)) == 1:
        s = _DOLLAR.sub(r"\\$", s)  # `$18`: a currency sign, as LaTeX writes it
    return s


def has_delimited_math(text: str) -> bool:
    """Whether the text holds math between delimiters (`$...$`, `\\(...\\)`, `\\[...\\]`): a
    sentence around an answer, not a bare answer."""
    return len(_DOLLAR.findall(text)) >= 2 or "\\(" in text or "\\[" in text


def parse_answer(answer: str):
    """The answer as a sympy object, or None. A bare answer is parsed as LaTeX, and by the
    plain-expression parser only when its match is the whole answer (its partial matches are the `4`
    of `4 sqrt(2)`); a sentence with delimited math in it is read by math-verify's extraction."""
    import sympy
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse

    text = normalize_sloppy(bare_answer(answer))
    if has_delimited_math(text):
        parsed = parse(text, [LatexExtractionConfig()], parsing_timeout=None)
        expr = next((p for p in parsed if isinstance(p, (sympy.Basic, sympy.MatrixBase))), None)
    else:
        parsed = parse("\\boxed{" + text + "}", [LatexExtractionConfig()], parsing_timeout=None)
        expr = next((p for p in parsed if isinstance(p, (sympy.Basic, sympy.MatrixBase))), None)
        if expr is None:
            parsed = parse(text, [ExprExtractionConfig()], parsing_timeout=None)
            whole = len(parsed) == 2 and re.sub(r"\s", "", str(parsed[1])) == re.sub(r"\s", "", text)
            expr = parsed[0] if whole and isinstance(parsed[0], sympy.Basic) else None
    if expr is not None and isinstance(expr, sympy.Basic) and expr.has(sympy.zoo, sympy.nan):
        return None  # 12:00 -> zoo; two zoos would compare equal
    return expr


# ---------------------------------------------------------------------------------------------
# Comparing (runs in the worker processes)
# ---------------------------------------------------------------------------------------------


def _scalars(expr) -> list | None:
    """All the numbers an answer consists of: a number, `symbol = number`, a tuple, an interval's
    ends, a matrix, or a set (in numeric order); None when the answer is anything else (an equation
    such as `2x+4y=3` is not its right-hand side)."""
    import sympy

    if isinstance(expr, sympy.Eq):
        if not isinstance(expr.lhs, sympy.Symbol):
            return None
        expr = expr.rhs
    if isinstance(expr, sympy.Tuple):
        items = list(expr.args)
    elif isinstance(expr, sympy.Interval):
        items = [expr.start, expr.end]
    elif isinstance(expr, sympy.MatrixBase):
        items = list(expr)
    elif isinstance(expr, sympy.FiniteSet):
        items = list(expr.args)
        if not all(isinstance(x, sympy.Expr) and x.is_real for x in items):
            return None
        items = sorted(items, key=lambda x: sympy.N(x, 40))
    else:
        items = [expr]
    finite = all(isinstance(x, sympy.Expr) and x.is_number and x.is_finite for x in items)
    return items if finite else None


def numeric_mismatch(gold_expr, pred_expr, raw: str) -> str | None:
    """Why an "equal" from math-verify is a false positive on numbers, or None when it holds (or when
    the answers are not wholly numbers: the guard never judges on part of an answer)."""
    import sympy

    if "%" in raw:
        return None  # math-verify deliberately equates 10% with 10 and 0.1
    gs, ps = _scalars(gold_expr), _scalars(pred_expr)
    if gs is None or ps is None or len(gs) != len(ps):
        return None
    for g, p in zip(gs, ps):
        exact = not (g.atoms(sympy.Float) or p.atoms(sympy.Float))
        tolerance = sympy.Float("1e-25") if exact else sympy.Float("1e-4")
        diff = abs(sympy.N(g - p, 40))
        scale = max(abs(sympy.N(g, 40)), abs(sympy.N(p, 40)))
        if scale != 0 and diff > tolerance * scale:
            return f"numerically different (relative difference {float(diff / scale):.3g})"
    return None


def proportional_equations(gold_expr, pred_expr, thorough: bool = False) -> bool:
    """Whether two equations are one a non-zero constant multiple of the other (`lhs - rhs` of one
    divided by the other's is a non-zero number): then they have the same solutions. The quick form
    only cancels common factors (polynomial and rational equations); `thorough` also simplifies."""
    import sympy

    equations = (gold_expr, pred_expr)
    if not all(isinstance(e, sympy.Eq) and isinstance(e.lhs, sympy.Expr) and isinstance(e.rhs, sympy.Expr)
               for e in equations):
        return False  # `x \in [-2, 7]` is an Eq of a symbol and a set
    g, p = gold_expr.lhs - gold_expr.rhs, pred_expr.lhs - pred_expr.rhs
    if g == 0 or p == 0 or not (g.free_symbols or p.free_symbols):
        return False
    ratio = sympy.cancel(sympy.together(g / p))
    if thorough and not ratio.is_number:
        ratio = sympy.simplify(ratio)
    return bool(ratio.is_number and ratio.is_finite and ratio != 0)


def judge(gold: str, answer: str) -> tuple[str, str]:
    """(status, reason) for an extracted answer against a gold answer. Unbounded in time: call it in
    a worker under a deadline."""
    from math_verify import verify

    gold, answer = read_commas(gold, bare_answer(answer))
    g, a = plain_number(gold), plain_number(answer)
    if g is not None and a is not None:  # the parent's exact path, for numbers too long for it
        return ("correct" if g == a else "incorrect"), "compared as exact numbers"
    gold_expr = parse_answer(gold)
    if gold_expr is None:
        # Text answers math-verify cannot parse ("Evelyn and Bob"): compare normalised text.
        same = match_key(gold).lower() == match_key(answer).lower()
        return ("correct" if same else "incorrect"), "compared as text (gold is not parsable as math)"
    pred_expr = parse_answer(answer)
    if pred_expr is None:
        return "incorrect", "answer is not parsable as math"
    multiple = "equivalent equations (one is a non-zero multiple of the other)"
    if proportional_equations(gold_expr, pred_expr):
        return "correct", multiple  # before math-verify, whose solving is slow on such pairs
    if verify([gold_expr], [pred_expr], timeout_seconds=None):
        why = numeric_mismatch(gold_expr, pred_expr, gold + answer)
        if why:
            return "incorrect", why
        return "correct", "equivalent (math-verify)"
    if proportional_equations(gold_expr, pred_expr, thorough=True):
        return "correct", multiple
    return "incorrect", "not equivalent (math-verify)"
