"""Judging untrusted Python programs against tests (`r1lab verify code` is in r1lab/verify/cli.py).

Two test styles:
- assert style (HumanEval, MBPP): `tests` is Python source whose assert statements are the tests
  (HumanEval's `def check(candidate)` is called with the entry point). Each assert is one test. The
  program and the tests run in two separate sandboxes joined by a pair of pipes (code_harness.py
  says why and how): the program never sees the tests, its exit code and output are never read, and
  only plain data it returns reaches the test code.
- stdin/stdout style (LiveCodeBench, Codeforces): `tests` is a list of {"input", "output"}. Each test
  runs the program in a fresh sandbox with the input on stdin; it passes when the program exits with
  status 0 and its whole output equals the expected one after trailing whitespace is removed from
  every line and trailing empty lines are dropped (not a prefix match). After a timeout the remaining
  tests are not run and count as failed, so a hanging program costs one time limit, not one per test.

Statuses: ok (every test passed), failed (a wrong answer, or the function raised), timeout, memory,
crashed (the program exited, was killed or printed past the output limit before the tests finished),
error (the harness could not judge: bad tests, a sandbox that would not start).
"""

from __future__ import annotations

import functools
import importlib.util
import marshal
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from r1lab.verify import code_harness, sandbox

Status = Literal["ok", "failed", "timeout", "memory", "crashed", "error"]
HARNESS_FILE = Path(code_harness.__file__)
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MEMORY_MB = 512
STARTUP_S = 3.0  # wall-time allowance for starting the sandboxes, on top of a case's timeout
JUDGE_MEMORY_MB = 1024


class IOTest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: str
    output: str


class CodeCase(BaseModel):
    """One program and its tests: a line of `r1lab verify code --file`."""

    model_config = ConfigDict(extra="forbid")
    code: str
    tests: str | list[IOTest]
    entry_point: str | None = None
    # Trusted code run in the judge before the tests (HumanEval's prompt: helpers the tests call,
    # like `poly`, come from here and not from the program, which could redefine them).
    prelude: str = ""
    timeout_s: float = Field(DEFAULT_TIMEOUT_S, gt=0, le=600)
    memory_mb: int = Field(DEFAULT_MEMORY_MB, ge=64, le=65536)
    id: str | int | None = None  # not used in judging; `r1lab verify code` echoes it


@dataclass
class CodeResult:
    passed: bool
    passed_tests: int
    total_tests: int
    status: Status
    detail: str

    @property
    def fraction(self) -> float:
        return self.passed_tests / self.total_tests if self.total_tests else 0.0



def _result(status: Status, passed: int, total: int, detail: str) -> CodeResult:
    ok = status == "ok" and passed == total and total > 0
    return CodeResult(ok, passed, total, status if ok or status != "ok" else "failed", detail[:2000])


# ---------------------------------------------------------------------------------------- asserts
def judge_asserts(case: CodeCase) -> CodeResult:
    program_limits = sandbox.Limits(wall_s=case.timeout_s + STARTUP_S, cpu_s=case.timeout_s,
                                    memory_mb=case.memory_mb)
    judge_limits = sandbox.Limits(wall_s=case.timeout_s + STARTUP_S, cpu_s=case.timeout_s + STARTUP_S,
                                  memory_mb=max(JUDGE_MEMORY_MB, case.memory_mb), max_processes=4)
    try:
        prepared = code_harness.prepare_tests(case.tests)
    except SyntaxError as err:
        return _result("error", 0, 0, f"tests: {err}")
    if prepared["total"] == 0:
        return _result("error", 0, 0, "the tests hold no assert")
    job = {"program": case.code, "prelude": case.prelude, "entry_point": case.entry_point,
           "timeout_s": case.timeout_s, **prepared}
    python, files = sandbox.python_executable(), {"harness.pyc": harness_bytecode()}
    requests_r, requests_w = os.pipe()
    answers_r, answers_w = os.pipe()
    job_fd = sandbox.data_fd(code_harness.to_text(job).encode())
    runs = []
    try:
        runs.append(sandbox.spawn([python, "-I", "-S", "harness.pyc", "program", str(requests_r),
                                   str(answers_w)], program_limits, pass_fds=(requests_r, answers_w),
                                  files=files))
        runs.append(sandbox.spawn([python, "-I", "-S", "harness.pyc", "judge", str(requests_w),
                                   str(answers_r)], judge_limits, stdin=job_fd,
                                  pass_fds=(requests_w, answers_r), files=files))
    except BaseException:
        if runs:
            sandbox.supervise(runs, time.monotonic())
        raise
    finally:
        for fd in (requests_r, requests_w, answers_r, answers_w, job_fd):
            os.close(fd)
    program, judge = sandbox.supervise(runs, runs[0].started + case.timeout_s + STARTUP_S, primary=runs[1])
    return _assert_verdict(program, judge)


@functools.cache
def harness_bytecode() -> bytes:
    """code_harness.py as a .pyc for the sandbox's interpreter (the base of this one): compiling its
    source at every start would cost about as much as starting the interpreter."""
    code = compile(HARNESS_FILE.read_text(), str(HARNESS_FILE.name), "exec")
    # PEP 552 header: magic, flags=0 (timestamp-based), mtime, source size; unused when run directly.
    return importlib.util.MAGIC_NUMBER + bytes(12) + marshal.dumps(code)


def _assert_verdict(program: sandbox.Outcome, judge: sandbox.Outcome) -> CodeResult:
    try:
        verdict = code_harness.parse_plain(judge.stdout.decode())
        status, passed, total = verdict["status"], int(verdict["passed_tests"]), int(verdict["total_tests"])
        detail = str(verdict.get("detail", ""))
        if status not in ("ok", "failed", "timeout", "memory", "crashed", "error"):
            raise ValueError(status)
    except (ValueError, KeyError, TypeError, code_harness.NotPlainData):
        if judge.timed_out:
            return _result("timeout", 0, 0, "the time limit ran out")
        tail = judge.stderr.decode(errors="replace").strip()[-500:]
        return _result("error", 0, 0, f"the judge gave no verdict: {tail or 'no output'}")
    if status == "crashed":
        # Explain a dead program from what the parent saw of it.
        stderr = program.stderr.decode(errors="replace")
        if program.output_exceeded:
            detail = f"the program printed more than the {program_limit_text()} output limit"
        elif program.cpu_exceeded or program.timed_out:
            status, detail = "timeout", "the program ran out of CPU time"
        elif program.memory_exceeded or "MemoryError" in stderr:
            status, detail = "memory", "the program ran out of memory"
    if status == "memory":
        detail = f"{detail} ({memory_limit_text(program)})"
    return _result(status, passed, total, detail + one_process_hint(detail))


def memory_limit_text(outcome: sandbox.Outcome) -> str:
    """The memory limit a program ran under, and how it covered its processes."""
    return f"{outcome.memory_limit_mb} MiB, {sandbox.memory_cap()}"


# What a program sees when the sandbox refuses it a thread or a process (RLIMIT_NPROC=1).
REFUSED_TASK = ("can't start new thread", "BlockingIOError", "Resource temporarily unavailable")


def one_process_hint(message: str) -> str:
    """A note for a program that failed to start a thread or process in a one-process sandbox."""
    if sandbox.memory_cap() == "single-process" and any(m in message for m in REFUSED_TASK):
        return (" (this sandbox allows one process and no threads, so that the memory limit is the "
                "program's total: no cgroup v2 is usable here)")
    return ""


def program_limit_text() -> str:
    return f"{sandbox.Limits().output_bytes >> 20} MiB"


# ------------------------------------------------------------------------------------ stdin/stdout
def normalise_output(text: str) -> str:
    """Trailing whitespace off every line, trailing empty lines dropped; nothing else changes."""
    return "\n".join(line.rstrip() for line in text.split("\n")).rstrip("\n")


def judge_stdio(case: CodeCase) -> CodeResult:
    tests: list[IOTest] = case.tests  # type: ignore[assignment]
    limits = sandbox.Limits(wall_s=case.timeout_s + 1.0, cpu_s=case.timeout_s, memory_mb=case.memory_mb)
    files = {"solution.py": case.code.encode()}
    python = sandbox.python_executable()
    passed = 0
    first: tuple[Status, str] | None = None
    for i, test in enumerate(tests):
        stdin = sandbox.data_fd(test.input.encode())
        try:
            outcome = sandbox.run([python, "-I", "-S", "solution.py"], limits, stdin=stdin, files=files)
        finally:
            os.close(stdin)
        status, why = _stdio_test_status(outcome, test.output)
        if status == "ok":
            passed += 1
            continue
        first = first or (status, f"test {i + 1}: {why}")
        if status == "timeout":
            skipped = len(tests) - i - 1
            if skipped:
                first = (first[0], first[1] + f" ({skipped} later tests not run)")
            break
    status, detail = first or ("ok", "")
    return _result(status, passed, len(tests), detail)


def _stdio_test_status(outcome: sandbox.Outcome, expected: str) -> tuple[Status, str]:
    stderr = outcome.stderr.decode(errors="replace")
    if outcome.timed_out or outcome.cpu_exceeded:
        return "timeout", "time limit exceeded"
    if outcome.output_exceeded:
        return "crashed", f"printed more than the {program_limit_text()} output limit"
    if outcome.memory_exceeded or "MemoryError" in stderr:
        return "memory", f"memory limit exceeded ({memory_limit_text(outcome)})"
    if outcome.exit_code != 0:
        how = f"exit status {outcome.exit_code}" if outcome.signal is None else f"signal {outcome.signal}"
        last = stderr.strip().splitlines()[-1:] or [""]
        return "crashed", f"runtime error ({how}) {last[0][:200]}".strip() + one_process_hint(stderr)
    got = normalise_output(outcome.stdout.decode(errors="replace"))
    want = normalise_output(expected)
    if got == want:
        return "ok", ""
    return "failed", f"wrong answer: expected {want[:80]!r}, got {got[:80]!r}"


# ------------------------------------------------------------------------------------------ batches
def judge_case(case: CodeCase) -> CodeResult:
    """Judge one case; never raises: a harness failure is an `error` result."""
    if isinstance(case.tests, list) and not case.tests:
        return _result("error", 0, 0, "no tests")
    try:
        if isinstance(case.tests, str):
            return judge_asserts(case)
        return judge_stdio(case)
    except Exception as err:  # a broken case must not take the batch down
        total = len(case.tests) if isinstance(case.tests, list) else 0
        return _result("error", 0, total, f"harness error: {type(err).__name__}: {err}")


def judge_cases(cases: list[CodeCase], workers: int | None = None) -> list[CodeResult]:
    """Judge many cases, `workers` at a time; results in the order of `cases`."""
    workers = max(1, workers or os.cpu_count() or 1)
    sandbox.memory_cap()  # probe the mechanism and the memory cap once, before the threads start
    if workers == 1 or len(cases) <= 1:
        return [judge_case(case) for case in cases]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(judge_case, cases))


def case_from_row(row: dict, defaults: dict) -> CodeCase | str:
    """A case from one input row (`defaults` fill keys the row lacks), or why it is not one."""
    try:
        return CodeCase(**{**defaults, **row})
    except ValidationError as err:
        return "; ".join(f"key '{'.'.join(map(str, e['loc']))}': {e['msg']}" for e in err.errors())


def error_result(detail: str) -> CodeResult:
    """The result of a case that could not be judged (a bad input line)."""
    return _result("error", 0, 0, detail)
