"""Math answer checking behind a pool of killable worker processes, and the shared instance that
training rewards and eval both use.

Why workers: math-verify bounds its own work with `signal.alarm`, which only works on the main thread
of the main interpreter; off it, a check either raises or (with the timeout disabled) can hang on an
answer like 10^{10^{10^{10}}}. One framework silently scored a whole dataset as 0 because of this (the
project guide, section 4). Here every check runs in a worker process with math-verify's own timeouts
disabled; the parent gives each check a hard wall-clock deadline and kills (SIGKILL) and replaces a
worker that overruns it. The caller always gets a `Verdict`, never an exception or a hang.

Verdicts are tri-state: "correct", "incorrect", or "unverifiable" (timeout, crashed worker, gold that
does not parse), each with a reason, so that callers can count checker failures apart from wrong
answers. What counts as the same answer is r1lab/verify/math_equivalence.py; the answer comes from the
response's answer region only (r1lab/verify/extract.py). The parent does only work linear in the
response (extraction) and in MAX_ANSWER_CHARS (the exact fast paths) before a deadline applies.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_connections
from pathlib import Path

from r1lab.types import Verdict
from r1lab.verify.extract import extract_answer
from r1lab.verify.math_equivalence import MAX_ANSWER_CHARS, gold_answer, judge, precheck

__all__ = ["MathVerifier", "answers_equivalent", "gold_answer", "shared_verifier", "verify_math",
           "verify_math_many"]

DEFAULT_TIMEOUT_S = 5.0  # hard wall-clock deadline per check; real checks take milliseconds
DEFAULT_MEMORY_MB = 4096  # address-space cap per worker, so 10^{10^{10}} fails fast instead of swapping
MAX_WORKERS = 4
START_TIMEOUT_S = 120.0  # a cold worker imports sympy and math-verify (seconds on a busy machine)


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
    # Exact answers of any length are compared exactly here, under the parent's deadline and the
    # memory cap above, instead of failing int() at Python's 4,300-digit default.
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
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


def _parent_error(err: Exception, answer: str | None = None) -> Verdict:
    return Verdict("unverifiable", 0.0, answer if answer is None else answer[:200],
                   f"checker error in the parent: {type(err).__name__}: {str(err)[:200]}")


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
        prepared = []
        for gold, response in pairs:
            try:
                answer = extract_answer(response) if isinstance(response, str) else None
                prepared.append((gold_answer(gold), answer))
            except Exception as err:  # bounded work, but a bug here must not end a training step
                prepared.append(_parent_error(err))
        return self.compare_many(prepared)

    def compare_many(self, pairs) -> list[Verdict]:
        """(gold answer, extracted answer) pairs -> verdicts, in order; no extraction."""
        verdicts: list[Verdict | None] = []
        jobs = []
        for i, pair in enumerate(pairs):
            if isinstance(pair, Verdict):
                verdicts.append(pair)
                continue
            gold, answer = pair
            try:
                v = precheck(gold, answer, self.max_answer_chars, self.fast_paths)
            except Exception as err:
                v = _parent_error(err, answer)
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
