"""Throughput of r1lab's math verifier next to math-verify's own loop, on the same 10,000 pairs.

Pairs are built from MATH-500 and GSM8K (../shared/benchmarks): gold solutions fed back, other
problems' answers, equivalent rewrites (R1 answer tags, `x = ...`, `\\dfrac`, decimals, `N.0`), wrong
numbers, and responses without an answer, shuffled with a fixed seed.

Contenders, each on all pairs:
  math-verify   `verify(parse(gold), parse(response))` in a plain loop (its own signal timeouts);
  r1lab         MathVerifier.verify_many (workers, hard deadlines, exact fast paths), in process;
  r1lab, no fast paths   the same with every check sent to the workers;
  r1lab CLI     `r1lab verify math --file pairs.jsonl`, wall time including start-up.
Prints pairs/s, the ratio to math-verify, and how often the two verdicts disagree (with examples).

    .venv/bin/python benchmarks/verify_throughput.py [--pairs 10000] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from r1lab.verify.math import MathVerifier
from r1lab.verify.math_equivalence import gold_answer

DATA = Path(os.environ.get("R1LAB_DATA_DIR") or Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def variants(gold: str, other: str, solution: str | None, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, response) for one gold answer: right ones in several forms, wrong ones, unanswered ones."""
    dfrac = gold.replace("\\frac", "\\dfrac")
    out = [
        ("answer tags", f"<think>working it out</think> <answer>{gold}</answer>"),
        ("x = ... then boxed", f"Let me see. So x = {gold}, and the answer is \\boxed{{{gold}}}."),
        ("dfrac", f"Thus the answer is \\boxed{{{dfrac}}}."),
        ("another problem's answer", f"The answer is \\boxed{{{other}}}."),
        ("answer only in the thinking", f"<think>maybe \\boxed{{{gold}}}</think> I am not sure"),
        ("bare answer, no box", f"The answer is {gold}"),
    ]
    if solution:
        out.append(("gold solution", solution))
    if gold.lstrip("-").isdigit():
        n = int(gold)
        out += [("N.0", f"\\boxed{{{n}.0}}"), ("wrong number", f"\\boxed{{{n + rng.choice([-2, -1, 1, 10])}}}"),
                ("N/4 as decimal", f"\\boxed{{{n / 4}}}")]
    return out


def build_pairs(count: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    math500 = read_jsonl(DATA / "math500" / "test.jsonl")
    gsm8k = read_jsonl(DATA / "gsm8k" / "test.jsonl")
    sources = [(r["answer"], r["solution"]) for r in math500]
    sources += [(gold_answer(r["answer"]), None) for r in gsm8k]
    pairs = []
    for gold, solution in sources:
        other = rng.choice(sources)[0]
        pairs += [{"gold": gold, "response": resp, "kind": kind} for kind, resp in variants(gold, other, solution, rng)]
    rng.shuffle(pairs)
    while len(pairs) < count:
        pairs += pairs[: count - len(pairs)]
    return pairs[:count]


def run_math_verify(pairs: list[dict]) -> tuple[float, list[bool]]:
    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.ERROR)
    verify(parse("$1$"), parse("1"))  # warm up
    start = time.perf_counter()
    out = [bool(verify(parse("$" + p["gold"] + "$"), parse(p["response"]))) for p in pairs]
    return time.perf_counter() - start, out


def run_r1lab(pairs: list[dict], workers: int, fast_paths: bool) -> tuple[float, list[bool], dict]:
    with MathVerifier(workers=workers, fast_paths=fast_paths) as v:
        v.compare_many([("\\frac{1}{2}", "0.5")] * workers * 4)  # start and warm the workers
        v.stats = dict.fromkeys(v.stats, 0)
        start = time.perf_counter()
        verdicts = v.verify_many([(p["gold"], p["response"]) for p in pairs])
        elapsed = time.perf_counter() - start
        stats = dict(v.stats)
    stats["unverifiable"] = sum(x.status == "unverifiable" for x in verdicts)
    return elapsed, [x.correct for x in verdicts], stats


def run_cli(pairs: list[dict], workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pairs.jsonl"
        path.write_text("".join(json.dumps(p) + "\n" for p in pairs))
        start = time.perf_counter()
        code = ("import sys; from r1lab.cli import main; "
                f"sys.exit(main(['verify', 'math', '--file', {str(path)!r}, '--workers', '{workers}']))")
        subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    args = ap.parse_args()
    pairs = build_pairs(args.pairs)
    print(f"{len(pairs)} pairs, {args.workers} workers, {os.cpu_count()} CPUs")

    mv_s, mv = run_math_verify(pairs)
    rows = [("math-verify parse+verify loop", mv_s, None)]
    ours_s, ours, stats = run_r1lab(pairs, args.workers, fast_paths=True)
    rows.append(("r1lab MathVerifier.verify_many", ours_s, stats))
    slow_s, _, slow_stats = run_r1lab(pairs, args.workers, fast_paths=False)
    rows.append(("r1lab, no fast paths", slow_s, slow_stats))
    cli_s, startup_s = run_cli(pairs, args.workers), run_cli(pairs[:1], args.workers)
    rows.append(("r1lab verify math --file (CLI, incl. start-up)", cli_s, None))
    rows.append(("same, less the start-up of a 1-pair run", cli_s - startup_s, None))

    print(f"CLI start-up (1 pair): {startup_s:.1f} s")
    print("| contender | seconds | pairs/s | x math-verify |\n|---|---:|---:|---:|")
    for name, secs, _ in rows:
        print(f"| {name} | {secs:.1f} | {len(pairs) / secs:.0f} | {mv_s / secs:.2f} |")
    print(f"fast paths decided {stats['fast']} of {len(pairs)}; unverifiable: {stats['unverifiable']} "
          f"(no fast paths: {slow_stats['unverifiable']}); timeouts {stats['timeouts']}")
    differ = [i for i, (a, b) in enumerate(zip(mv, ours)) if a != b]
    print(f"verdicts differ on {len(differ)} pairs ({sum(ours[i] for i in differ)} where only r1lab says "
          f"correct, {sum(mv[i] for i in differ)} where only math-verify does)")
    kinds = Counter((pairs[i]["kind"], "r1lab" if ours[i] else "math-verify") for i in differ)
    print("| kind of response | pairs | disagreements | only r1lab correct | only math-verify correct |\n"
          "|---|---:|---:|---:|---:|")
    for kind, total in Counter(p["kind"] for p in pairs).most_common():
        a, b = kinds[(kind, "r1lab")], kinds[(kind, "math-verify")]
        print(f"| {kind} | {total} | {a + b} | {a} | {b} |")
    for i in [i for i in differ if pairs[i]["kind"] in ("dfrac", "gold solution", "N.0", "x = ... then boxed",
                                                         "another problem's answer", "wrong number")][:12]:
        print(f"  gold {pairs[i]['gold'][:40]!r} response {pairs[i]['response'][-70:]!r}: "
              f"math-verify {mv[i]}, r1lab {ours[i]}")


if __name__ == "__main__":
    main()
