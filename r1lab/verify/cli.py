"""`r1lab verify math|code`: the project's verifiers from the shell.

Both read JSON lines with the project's one reader (r1lab.data.io.iter_jsonl) and write one JSON line
per input line, in input order, each echoing the input's `id` (null when it has none). A line that
cannot be checked (not JSON, a missing or mistyped key) becomes an output line with status "error"
whose reason names file:line, and the command goes on; it then exits with status 2 and repeats the
messages on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

from r1lab.data.io import iter_jsonl
from r1lab.errors import UserError
from r1lab.types import Verdict

MATH_CHUNK = 512  # pairs checked at once: verdicts stream out while a large file is read
EXIT_FOR_STATUS = {"correct": 0, "incorrect": 1, "unverifiable": 3}


def add_arguments(parser) -> None:
    """The flags of `r1lab verify` (the CLI made the parser)."""
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    register_math(kinds)
    register_code(kinds)


# ---------------------------------------------------------------------------------------------- math
def register_math(kinds) -> None:
    from r1lab.verify.math import DEFAULT_TIMEOUT_S

    p = kinds.add_parser(
        "math", help="check math answers (math-verify in killable workers)",
        description="Check responses against gold answers. The answer is taken from the response's "
        "answer region only (<answer> tags, else the \\boxed{} answers after the reasoning). One JSON "
        "line per check: id, correct, extracted, status (correct/incorrect/unverifiable, or error for "
        "a bad input line), reason.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--gold", help="gold answer (bare, GSM8K '#### N', or a solution with \\boxed{})")
    src.add_argument("--file", type=Path, help='jsonl of {"gold", "response", "id"?} lines; verdicts go '
                     "to stdout in the same order")
    p.add_argument("--response", help="the response to check (with --gold)")
    p.add_argument("--timeout", type=float, default=None, help=f"seconds per check (default {DEFAULT_TIMEOUT_S:g})")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default min(4, CPUs))")
    p.set_defaults(run=run_math)


def run_math(args: argparse.Namespace) -> int:
    from r1lab.verify.math import MathVerifier

    if args.workers is not None and args.workers < 1:
        raise UserError("--workers must be at least 1")
    if args.gold is not None and args.response is None:
        raise UserError("--gold needs --response")
    with MathVerifier(workers=args.workers, timeout_s=args.timeout) as verifier:
        if args.gold is not None:
            v = verifier.verify(args.gold, args.response)
            print(json.dumps(_verdict_json(v)))
            return EXIT_FOR_STATUS[v.status]
        bad = pairs = 0
        chunk: list[tuple[object, tuple | None, str | None]] = []  # (id, (gold, response) or None, error)
        for line in iter_jsonl(args.file):
            rid, pair, error = _math_entry(line)
            chunk.append((rid, pair, error))
            bad, pairs = bad + (error is not None), pairs + (pair is not None)
            if pairs == MATH_CHUNK:
                _write_math(verifier, chunk)
                chunk, pairs = [], 0
        _write_math(verifier, chunk)
    return 2 if bad else 0


def _math_entry(line) -> tuple[object, tuple | None, str | None]:
    row = line.value
    rid = row.get("id") if isinstance(row, dict) else None
    if line.error is not None:
        return rid, None, f"{line.where}: {line.error}"
    missing = [key for key in ("gold", "response") if key not in row]
    if missing:
        return rid, None, f"{line.where}: missing key(s) {', '.join(repr(k) for k in missing)}"
    if not isinstance(row["response"], str):
        return rid, None, f"{line.where}: key 'response' must be a string (got {type(row['response']).__name__})"
    if not isinstance(row["gold"], (str, int, float)) or isinstance(row["gold"], bool):
        return rid, None, f"{line.where}: key 'gold' must be a string or a number (got {type(row['gold']).__name__})"
    return rid, (row["gold"], row["response"]), None


def _write_math(verifier, chunk) -> None:
    verdicts = iter(verifier.verify_many([pair for _, pair, _ in chunk if pair is not None]))
    for rid, pair, error in chunk:
        if pair is None:
            print(f"r1lab verify math: {error}", file=sys.stderr)
            out = {"id": rid, "correct": False, "extracted": None, "status": "error", "reason": error}
        else:
            out = {"id": rid, **_verdict_json(next(verdicts))}
        sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


def _verdict_json(v: Verdict) -> dict:
    return {"correct": v.correct, "extracted": v.extracted, "status": v.status, "reason": v.reason}


# ---------------------------------------------------------------------------------------------- code
def register_code(kinds) -> None:
    from r1lab.verify.code import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S

    parser = kinds.add_parser(
        "code", help="run programs against tests in the sandbox",
        description="Judge untrusted Python programs. Each line of --file is a JSON object "
                    '{"code", "tests", "entry_point"?, "prelude"?, "timeout_s"?, "memory_mb"?, "id"?}; '
                    'each output line {"id", "passed", "passed_tests", "total_tests", "status", '
                    '"detail"}, in the same order. memory_mb caps all the processes of a program '
                    "together (the summary on stderr says how).")
    parser.add_argument("--file", required=True, type=Path, help="cases, one JSON object per line")
    parser.add_argument("--out", type=Path, help="write results here instead of stdout")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="cases judged at once")
    parser.add_argument("--timeout-s", type=float, help=f"default per case (default {DEFAULT_TIMEOUT_S})")
    parser.add_argument("--memory-mb", type=int, help=f"default per case (default {DEFAULT_MEMORY_MB})")
    parser.set_defaults(run=run_code)


def run_code(args: argparse.Namespace) -> int:
    from r1lab.verify import sandbox
    from r1lab.verify.code import CodeCase, case_from_row, error_result, judge_cases

    if args.workers < 1:
        raise UserError("--workers must be at least 1")
    defaults = {k: v for k, v in (("timeout_s", args.timeout_s), ("memory_mb", args.memory_mb)) if v}
    entries: list[tuple[object, CodeCase | str]] = []
    for line in iter_jsonl(args.file):
        rid = line.value.get("id") if isinstance(line.value, dict) else None
        if line.error is not None:
            entries.append((rid, f"{line.where}: {line.error}"))
        else:
            case = case_from_row(line.value, defaults)
            entries.append((rid, case if isinstance(case, CodeCase) else f"{line.where}: {case}"))
    start = time.monotonic()
    judged = iter(judge_cases([e for _, e in entries if isinstance(e, CodeCase)], args.workers))
    results = [next(judged) if isinstance(e, CodeCase) else error_result(e) for _, e in entries]
    lines = "".join(json.dumps({"id": rid, **asdict(r)}) + "\n" for (rid, _), r in zip(entries, results))
    if args.out:
        args.out.write_text(lines)
    else:
        sys.stdout.write(lines)
    bad = [e for _, e in entries if isinstance(e, str)]
    for message in bad:
        print(f"r1lab verify code: {message}", file=sys.stderr)
    print(f"r1lab verify code: {sum(r.passed for r in results)}/{len(results)} cases passed in "
          f"{time.monotonic() - start:.1f} s (sandbox: {sandbox.choose_mechanism()}; memory: "
          f"{sandbox.memory_cap_text()}; {args.workers} workers)", file=sys.stderr)
    return 2 if bad else 0
