"""Math answer equivalence: math-verify behind a pool of killable worker processes.

Why workers: math-verify bounds its own work with `signal.alarm`, which only works on the main thread
of the main interpreter; off it, a check either raises or (with the timeout disabled) can hang on an
answer like 10^{10^{10^{10}}}. One framework silently scored a whole dataset as 0 because of this
(../shared/GUIDE.md section 4). Here every check runs in a worker process with math-verify's own
timeouts disabled; the parent gives each check a hard wall-clock deadline and kills (SIGKILL) and
replaces a worker that overruns it. The caller always gets a `Verdict`, never an exception or a hang.

Verdicts are tri-state: "correct", "incorrect", or "unverifiable" (timeout, crashed worker, gold that
does not parse), each with a reason, so that callers can count checker failures apart from wrong
answers.

What is compared: the gold answer (the text after GSM8K's `####`, else the last \\boxed{} of a worked
solution, else the text itself) against the answer extracted from the response's answer region only
(r1lab/verify/extract.py: <answer> tags, else the last \\boxed{} after the reasoning; never the last
number). Guards against known math-verify false positives:
  - tiny numbers: `1/2004!` vs `1/2006!` are "equal" to math-verify because it compares a chopped
    15-digit difference (huggingface/Math-Verify issue #14). When math-verify says equal and both
    sides are numbers, we re-check the relative difference at 40 digits: exact inputs must agree to
    1e-25, inputs with a decimal point to 1e-4 (math-verify's 6-decimal rounding alone lets 1e-8 equal
    2e-8).
  - partial parses: `$4\\sqrt(2)$` parses as 4 when math-verify falls back to plain-expression
    extraction on the part it understands (issue #41). We parse the answer as LaTeX only, accept the
    plain-expression parser only when its match covers the whole answer, and first rewrite sloppy
    notations the LaTeX parser misreads (√, sqrt(...), \\sqrt(...), unicode operators).
  - answers only inside the thinking: extraction never looks there.
  - expressions that evaluate to zoo/nan (`12:00`, a division by zero) are never compared as
    numbers: both would be "zoo" and equal.
Cheap exact paths run in the parent before any worker is involved: identical answers after
meaning-preserving normalisation are correct, and two plain decimal numbers are compared exactly.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_connections
from pathlib import Path

from r1lab.types import Verdict
from r1lab.verify.extract import extract_answer, last_boxed

DEFAULT_TIMEOUT_S = 5.0  # hard wall-clock deadline per check; real checks take milliseconds
DEFAULT_MEMORY_MB = 4096  # address-space cap per worker, so 10^{10^{10}} fails fast instead of swapping
MAX_ANSWER_CHARS = 10_000  # no benchmark answer comes near this; longer ones are not sent to sympy
MAX_WORKERS = 4
START_TIMEOUT_S = 120.0  # a cold worker imports sympy and math-verify (seconds on a busy machine)

# ---------------------------------------------------------------------------------------------
# Gold answers and the parent-side exact paths
# ---------------------------------------------------------------------------------------------


def gold_answer(gold) -> str | None:
    """The answer inside a gold field: after GSM8K's last `####`, else a worked solution's last
    \\boxed{}, else the text itself (numbers are printed without a spurious `.0`)."""
    if isinstance(gold, float) and gold.is_integer():
        gold = int(gold)
    text = str(gold).strip()
    if "####" in text:
        text = text.rsplit("####", 1)[1].strip()
    elif "\\boxed" in text or "\\fbox" in text:
        boxed = last_boxed(text)
        text = boxed.strip() if boxed is not None else text
    return text or None


_LEFT_RIGHT = re.compile(r"\\(left|right)(?![a-zA-Z])")
_SPACING = re.compile(r"\\[,;:! ]|\\q?quad(?![a-zA-Z])|~")
_TEXT_MACRO = re.compile(r"\\(text|mathrm|mbox|textbf|operatorname)\s*\{")


def match_key(answer: str) -> str:
    """A normal form that changes only presentation, never value: two answers with the same key are
    the same answer. Whitespace is kept inside text macros, where it separates words."""
    s = answer.strip().strip("$").strip()
    s = s[:-1] if s.endswith(".") and not s.endswith("..") else s
    s = _LEFT_RIGHT.sub("", s)
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = _SPACING.sub(" ", s)
    if not _TEXT_MACRO.search(s):
        s = re.sub(r"\s+", "", s)
    return " ".join(s.split())


_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)")
_THOUSANDS = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?")


def plain_number(answer: str) -> Fraction | None:
    """The exact value of a plain decimal numeral (`18`, `-0.5`, `1,000`, `\\$18`), else None."""
    s = answer.strip().strip("$").replace("{,}", ",").replace(" ", "")
    if s.startswith("\\$"):
        s = s[2:]
    if s.endswith(".") and s[:-1].isdigit():
        s = s[:-1]
    if _THOUSANDS.fullmatch(s):
        s = s.replace(",", "")
    return Fraction(s) if _NUMBER.fullmatch(s) else None


def precheck(gold: str | None, answer: str | None, max_chars: int = MAX_ANSWER_CHARS,
             fast_paths: bool = True) -> Verdict | None:
    """A verdict without sympy when one is certain; None when a worker must decide."""
    if not gold:
        return Verdict("unverifiable", 0.0, answer, "empty gold answer")
    if answer is None:
        return Verdict("incorrect", 0.0, None, "no answer in the answer region")
    if len(answer) > max_chars or len(gold) > max_chars:
        return Verdict("unverifiable", 0.0, answer[:200], f"answer longer than {max_chars} characters")
    if not fast_paths:
        return None
    if match_key(gold) == match_key(answer):
        return Verdict("correct", 1.0, answer, "identical after normalisation")
    g, a = plain_number(gold), plain_number(answer)
    if g is not None and a is not None:
        ok = g == a
        return Verdict("correct" if ok else "incorrect", float(ok), answer, "compared as exact numbers")
    return None


# ---------------------------------------------------------------------------------------------
# Worker side: parsing, math-verify, guards (runs in the worker processes; importable for tests)
# ---------------------------------------------------------------------------------------------

_UNICODE = {"×": "\\times ", "·": "\\cdot ", "−": "-", "π": "\\pi ", "∞": "\\infty ", "≤": "\\le ",
            "≥": "\\ge ", "°": "^\\circ", "√": "\\sqrt"}
_SQRT_PAREN = re.compile(r"(?:\\sqrt|(?<![\\a-zA-Z])sqrt)\s*\(([^()]*)\)")
_SQRT_DIGITS = re.compile(r"\\sqrt\s*(\d+)")


def normalize_sloppy(answer: str) -> str:
    """Rewrite notations the LaTeX parser reads only in part (so `4√2` is not parsed as 4)."""
    for u, latex in _UNICODE.items():
        answer = answer.replace(u, latex)
    answer = _SQRT_PAREN.sub(r"\\sqrt{\1}", answer)
    answer = _SQRT_DIGITS.sub(r"\\sqrt{\1}", answer)
    return answer.replace("\\mathrm{e}", "e")


def parse_answer(answer: str):
    """The answer as a sympy object, or None. LaTeX first; the plain-expression parser only when its
    match is the whole answer (its partial matches are the `4` of `4 sqrt(2)`)."""
    import sympy
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse

    text = normalize_sloppy(answer)
    parsed = parse("\\boxed{" + text + "}", [LatexExtractionConfig()], parsing_timeout=None)
    expr = next((p for p in parsed if isinstance(p, (sympy.Basic, sympy.MatrixBase))), None)
    if expr is None:
        parsed = parse(text, [ExprExtractionConfig()], parsing_timeout=None)
        whole = len(parsed) == 2 and re.sub(r"\s", "", str(parsed[1])) == re.sub(r"\s", "", text)
        expr = parsed[0] if whole and isinstance(parsed[0], sympy.Basic) else None
    if expr is not None and isinstance(expr, sympy.Basic) and expr.has(sympy.zoo, sympy.nan):
        return None  # 12:00 -> zoo; two zoos would compare equal
    return expr


def _scalars(expr) -> list | None:
    """The numbers inside a number, `x = number`, a tuple, an interval's ends, a matrix, or a set
    (in numeric order), else None."""
    import sympy

    if isinstance(expr, sympy.Eq):
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
    """Why an "equal" from math-verify is a false positive on numbers, or None when it holds."""
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


def judge(gold: str, answer: str) -> tuple[str, str]:
    """(status, reason) for an extracted answer against a gold answer. Unbounded in time: call it in
    a worker under a deadline."""
    from math_verify import verify

    gold_expr = parse_answer(gold)
    if gold_expr is None:
        # Text answers math-verify cannot parse ("Evelyn and Bob"): compare normalised text.
        same = match_key(gold).lower() == match_key(answer).lower()
        return ("correct" if same else "incorrect"), "compared as text (gold is not parsable as math)"
    pred_expr = parse_answer(answer)
    if pred_expr is None:
        return "incorrect", "answer is not parsable as math"
    if not verify([gold_expr], [pred_expr], timeout_seconds=None):
        return "incorrect", "not equivalent (math-verify)"
    why = numeric_mismatch(gold_expr, pred_expr, gold + answer)
    if why:
        return "incorrect", why
    return "correct", "equivalent (math-verify)"


def worker_main(fd: int, memory_mb: int) -> None:
    """A worker's loop: receive (key, gold, answer) on the socket `fd`, send (key, status, reason)."""
    import logging
    import resource
    import signal

    conn = Connection(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business; it kills us
    if memory_mb:
        cap = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    # math-verify warns that its timeout is disabled: the parent's deadline is the timeout.
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    judge("\\frac{1}{2}", "0.5")  # import and warm sympy before declaring ourselves ready
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return  # parent gone
        if job is None:
            return
        key, gold, answer = job
        try:
            status, reason = judge(gold, answer)
        except MemoryError:
            status, reason = "unverifiable", f"checker ran out of memory ({memory_mb} MiB cap)"
        except RecursionError:
            status, reason = "unverifiable", "checker hit the recursion limit"
        except Exception as err:  # a sympy bug must not take the worker down
            status, reason = "unverifiable", f"checker error: {type(err).__name__}"
        conn.send((key, status, reason))


# ---------------------------------------------------------------------------------------------
# The pool
# ---------------------------------------------------------------------------------------------


# Workers are plain subprocesses running this module's worker_main, not multiprocessing children:
# multiprocessing's spawn and forkserver re-import the caller's __main__ in every worker, which breaks
# (and can recurse) in any script without an `if __name__ == "__main__"` guard.
WORKER_CODE = "import sys; from r1lab.verify.math import worker_main; worker_main(int(sys.argv[1]), int(sys.argv[2]))"
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


@dataclass
class _Worker:
    process: subprocess.Popen
    conn: Connection
    ready: bool = False
    key: int | None = None  # job running, or None when idle
    deadline: float = 0.0
    started: float = 0.0


class MathVerifier:
    """A persistent pool of math-verify workers with a hard deadline per check.

    `verify_many(pairs)` extracts the answer from each (gold, response) pair and checks them in
    parallel; `compare_many` checks already-extracted answers (consensus voting). Thread-safe (calls
    are serialised); starts lazily; `close()` (also at interpreter exit) stops every worker.
    """

    def __init__(self, workers: int | None = None, timeout_s: float | None = None,
                 memory_mb: int | None = DEFAULT_MEMORY_MB, max_answer_chars: int = MAX_ANSWER_CHARS,
                 fast_paths: bool = True):
        env_workers = os.environ.get("R1LAB_VERIFY_WORKERS")
        self.size = workers or (int(env_workers) if env_workers else min(MAX_WORKERS, os.cpu_count() or 1))
        self.timeout_s = timeout_s or float(os.environ.get("R1LAB_VERIFY_TIMEOUT", DEFAULT_TIMEOUT_S))
        self.memory_mb = memory_mb
        self.max_answer_chars = max_answer_chars
        self.fast_paths = fast_paths  # off: every check goes to math-verify (tests, comparisons)
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._owner_pid = os.getpid()
        self.stats = {"checks": 0, "fast": 0, "timeouts": 0, "crashes": 0}
        self._start_failures = 0  # workers that died before becoming ready, since the last ready one

    # -- public API ------------------------------------------------------------------------------

    def verify(self, gold, response: str) -> Verdict:
        return self.verify_many([(gold, response)])[0]

    def verify_many(self, pairs) -> list[Verdict]:
        """(gold, response) pairs -> verdicts, in order."""
        golds = [gold_answer(g) for g, _ in pairs]
        answers = [extract_answer(r) if isinstance(r, str) else None for _, r in pairs]
        return self.compare_many(list(zip(golds, answers)))

    def compare_many(self, pairs) -> list[Verdict]:
        """(gold answer, extracted answer) pairs -> verdicts, in order; no extraction."""
        verdicts: list[Verdict | None] = []
        jobs = []
        for i, (gold, answer) in enumerate(pairs):
            v = precheck(gold, answer, self.max_answer_chars, self.fast_paths)
            verdicts.append(v)
            if v is None:
                jobs.append((i, gold, answer))
        self.stats["checks"] += len(pairs)
        self.stats["fast"] += len(pairs) - len(jobs)
        if jobs:
            with self._lock:
                outcomes = self._run(jobs)
            for i, _, answer in jobs:
                status, reason = outcomes[i]
                verdicts[i] = Verdict(status, 1.0 if status == "correct" else 0.0, answer, reason)
        return verdicts  # type: ignore[return-value]

    def equivalent(self, a: str, b: str) -> bool:
        """Whether two extracted answers are the same answer (`a` plays the gold)."""
        return self.compare_many([(a, b)])[0].correct

    def worker_pids(self) -> list[int]:
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    def close(self) -> None:
        with self._lock:
            if os.getpid() != self._owner_pid:
                self._workers = []  # a forked child does not own its parent's workers
                return
            for w in self._workers:
                with contextlib.suppress(OSError, ValueError):
                    w.conn.send(None)  # ask politely first: a clean exit
            for w in self._workers:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    w.process.wait(timeout=1.0)
                self._kill(w)
            self._workers = []

    def __enter__(self) -> MathVerifier:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------------

    def _spawn(self) -> _Worker:
        ours, theirs = socket.socketpair()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [PACKAGE_ROOT, os.environ.get("PYTHONPATH")])))
        process = subprocess.Popen(
            [sys.executable, "-c", WORKER_CODE, str(theirs.fileno()), str(self.memory_mb or 0)],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env,
        )
        theirs.close()  # so the parent sees EOF when the worker dies
        return _Worker(process=process, conn=Connection(ours.detach()), started=time.monotonic())

    def _kill(self, w: _Worker) -> None:
        if w.process.poll() is None:
            w.process.kill()  # SIGKILL: sympy ignores nothing, but may be deep in C code
        w.process.wait()
        w.conn.close()

    def _ensure_pool(self) -> None:
        if os.getpid() != self._owner_pid:  # we were forked: start our own workers
            self._workers, self._owner_pid = [], os.getpid()
        while len(self._workers) < self.size:
            self._workers.append(self._spawn())

    def _run(self, jobs: list[tuple[int, str, str]]) -> dict[int, tuple[str, str]]:
        """Run every job to a verdict: dispatch to idle workers, collect, kill the overdue."""
        self._ensure_pool()
        pending = deque(jobs)
        outcomes: dict[int, tuple[str, str]] = {}
        while pending or any(w.key is not None for w in self._workers):
            now = time.monotonic()
            for w in list(self._workers):
                if w.ready and w.key is None and pending:
                    self._dispatch(w, pending, now)
            if pending and not any(w.ready for w in self._workers) and self._start_failed(now):
                while pending:
                    outcomes[pending.popleft()[0]] = ("unverifiable", "verifier workers failed to start")
                continue
            waits = [w.deadline - now for w in self._workers if w.key is not None]
            timeout = max(0.0, min(waits)) if waits else 1.0
            ready = wait_connections([w.conn for w in self._workers], timeout=timeout)
            for w in list(self._workers):
                if w.conn in ready:
                    self._receive(w, outcomes)
            self._reap_overdue(outcomes)
        return outcomes

    def _dispatch(self, w: _Worker, pending: deque, now: float) -> None:
        job = pending.popleft()
        try:
            w.conn.send(job)
        except OSError:  # died since its last message: retry the job on a fresh worker
            pending.appendleft(job)
            self._replace(w)
            return
        w.key, w.deadline = job[0], now + self.timeout_s

    def _receive(self, w: _Worker, outcomes: dict) -> None:
        try:
            msg = w.conn.recv()
        except (EOFError, OSError):
            try:
                code = w.process.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                code = None
            if w.key is not None:
                self.stats["crashes"] += 1
                outcomes[w.key] = ("unverifiable", f"checker process died (exit code {code})")
            elif not w.ready:
                self._start_failures += 1
            self._replace(w)
            return
        if msg[0] == "ready":
            w.ready = True
            self._start_failures = 0
        else:
            key, status, reason = msg
            outcomes[key] = (status, reason)
            w.key = None

    def _reap_overdue(self, outcomes: dict) -> None:
        now = time.monotonic()
        for w in list(self._workers):
            if w.key is not None and now >= w.deadline:
                self.stats["timeouts"] += 1
                outcomes[w.key] = ("unverifiable", f"timeout: no verdict within {self.timeout_s:g} s")
                self._replace(w)

    def _replace(self, w: _Worker) -> None:
        self._kill(w)
        self._workers[self._workers.index(w)] = self._spawn()

    def _start_failed(self, now: float) -> bool:
        """Workers keep dying before they are ready, or none became ready in START_TIMEOUT_S."""
        if self._start_failures >= 3 * self.size:
            return True
        return all(now - w.started > START_TIMEOUT_S for w in self._workers)


# ---------------------------------------------------------------------------------------------
# The shared instance: training rewards and eval use the same verifier
# ---------------------------------------------------------------------------------------------

_shared: MathVerifier | None = None
_shared_lock = threading.Lock()


def shared_verifier() -> MathVerifier:
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = MathVerifier()
            atexit.register(_shared.close)
        return _shared


def verify_math(gold, response: str) -> Verdict:
    """Check a response against a gold answer (a bare answer, a GSM8K `#### N` answer or a worked
    solution with \\boxed{}), using the shared worker pool."""
    return shared_verifier().verify(gold, response)


def verify_math_many(pairs) -> list[Verdict]:
    return shared_verifier().verify_many(pairs)


def answers_equivalent(a: str, b: str) -> bool:
    return shared_verifier().equivalent(a, b)


# ---------------------------------------------------------------------------------------------
# `r1lab verify math`
# ---------------------------------------------------------------------------------------------

EXIT_FOR_STATUS = {"correct": 0, "incorrect": 1, "unverifiable": 3}


def register_verify(kinds) -> None:
    p = kinds.add_parser(
        "math", help="check math answers (math-verify in killable workers)",
        description="Check responses against gold answers. The answer is taken from the response's "
        "answer region only (<answer> tags, else the last \\boxed{} after the reasoning). One JSON "
        "line per check: correct, extracted, status (correct/incorrect/unverifiable), reason.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--gold", help="gold answer (bare, GSM8K '#### N', or a solution with \\boxed{})")
    src.add_argument("--file", help='jsonl of {"gold", "response"} lines ("-" for stdin); '
                     "verdicts go to stdout in the same order")
    p.add_argument("--response", help="the response to check (with --gold)")
    p.add_argument("--timeout", type=float, default=None, help=f"seconds per check (default {DEFAULT_TIMEOUT_S:g})")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default min(4, CPUs))")
    p.set_defaults(run=run_verify_cli)


def run_verify_cli(args) -> int:
    from r1lab.errors import UserError

    with MathVerifier(workers=args.workers, timeout_s=args.timeout) as verifier:
        if args.gold is not None:
            if args.response is None:
                raise UserError("--gold needs --response")
            v = verifier.verify(args.gold, args.response)
            print(json.dumps(_verdict_json(v)))
            return EXIT_FOR_STATUS[v.status]
        for chunk in _read_pairs(args.file, chunk=512):
            for v in verifier.verify_many(chunk):
                sys.stdout.write(json.dumps(_verdict_json(v)) + "\n")
            sys.stdout.flush()
    return 0


def _verdict_json(v: Verdict) -> dict:
    return {"correct": v.correct, "extracted": v.extracted, "status": v.status, "reason": v.reason}


def _read_pairs(path: str, chunk: int):
    """Yield lists of (gold, response) from a jsonl file, naming the line of any malformed row."""
    from r1lab.errors import UserError

    name = "<stdin>" if path == "-" else path
    handle = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    batch = []
    with handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                batch.append((row["gold"], row["response"]))
            except (json.JSONDecodeError, KeyError, TypeError) as err:
                raise UserError(f"{name}:{lineno}: expected a JSON object with 'gold' and 'response' "
                                f"({type(err).__name__}: {err})") from None
            if len(batch) == chunk:
                yield batch
                batch = []
    if batch:
        yield batch
