"""Per-program cost of the code sandbox next to a bare `python -c`, measured side by side.

Contenders, interleaved round by round (so load from other processes hits them alike), after a
warm-up round, each timed end to end from the parent (spawn, run, reap):
  bare python -c          `python -c pass` with this environment's interpreter (site included);
  bare python -I -S -c    the same interpreter and flags the sandbox runs programs with;
  sandbox/<mechanism>     sandbox.run of `python -I -S -c pass` under bwrap, unshare and process;
  assert case             judge_case on a one-assert problem (program and judge: two sandboxes);
  stdio case              judge_case on a one-test stdin/stdout problem (one sandbox).
Prints the median and ratios to both bare baselines, then the HumanEval figures (164 canonical
solutions and 164 `pass` bodies, `--workers` at a time) unless --no-humaneval.

    .venv/bin/python benchmarks/sandbox_overhead.py [--rounds 30] [--workers 2] [--no-humaneval]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from r1lab.verify import sandbox
from r1lab.verify.code import CodeCase, judge_case


def contenders() -> dict[str, callable]:
    py = sandbox.python_executable()
    out = {
        "bare python -c": lambda: subprocess.run([sys.executable, "-c", "pass"], check=True),
        "bare python -I -S -c": lambda: subprocess.run([py, "-I", "-S", "-c", "pass"], check=True),
    }
    for mechanism in sandbox.MECHANISMS:
        if sandbox._works(mechanism)[0]:
            out[f"sandbox/{mechanism}"] = (
                lambda m=mechanism: sandbox.run([py, "-I", "-S", "-c", "pass"], sandbox.Limits(), mechanism=m))
    assert_case = CodeCase(code="def f(x):\n    return x + 1\n", tests="assert f(1) == 2\n", entry_point="f")
    stdio_case = CodeCase(code="print(int(input()) + 1)", tests=[{"input": "1", "output": "2"}])
    out["assert case"] = lambda: _ok(judge_case(assert_case))
    out["stdio case"] = lambda: _ok(judge_case(stdio_case))
    return out


def _ok(result) -> None:
    if not result.passed:
        raise RuntimeError(f"benchmark case failed: {result}")


def measure(rounds: int) -> dict[str, list[float]]:
    runs = contenders()
    for fn in runs.values():  # warm-up: page cache, the mechanism probe, harness bytecode
        fn()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def humaneval(workers: int) -> None:
    from r1lab.tasks.humaneval import load_records
    from r1lab.verify.code import judge_cases

    records = load_records()
    bodies = [r["canonical_solution"] for r in records] + ["    pass\n"] * len(records)
    cases = [CodeCase(code=r["prompt"] + body, tests=r["test"], entry_point=r["entry_point"], prelude=r["prompt"])
             for r, body in zip(list(records) * 2, bodies)]
    start = time.perf_counter()
    results = judge_cases(cases, workers)
    elapsed = time.perf_counter() - start
    canonical, stubs = results[:len(records)], results[len(records):]
    print(f"\nHumanEval, {workers} workers: {len(cases)} programs in {elapsed:.1f} s "
          f"({elapsed / len(cases) * 1000:.0f} ms each, {elapsed / len(cases) * workers * 1000:.0f} ms "
          f"per program per worker); canonical passed {sum(r.passed for r in canonical)}/{len(records)}, "
          f"pass bodies passed {sum(r.passed for r in stubs)}/{len(records)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-humaneval", action="store_true")
    args = parser.parse_args()
    print(f"sandbox mechanism in force: {sandbox.choose_mechanism()}; memory cap: {sandbox.memory_cap_text()}; "
          f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    times = measure(args.rounds)
    bare, bare_is = (statistics.median(times[k]) for k in ("bare python -c", "bare python -I -S -c"))
    print(f"\n{'contender':24} {'median ms':>10} {'min ms':>8} {'x python -c':>12} {'x -I -S -c':>11}")
    for name, samples in times.items():
        med = statistics.median(samples)
        print(f"{name:24} {med * 1000:10.1f} {min(samples) * 1000:8.1f} {med / bare:12.2f} {med / bare_is:11.2f}")
    if not args.no_humaneval:
        humaneval(args.workers)


if __name__ == "__main__":
    main()
