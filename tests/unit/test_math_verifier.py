"""The math verifier: real math-verify in real worker processes (no mocks).

Covers equivalences and non-equivalences, the false-positive guards, extraction from the answer
region only, pathological answers answered within the deadline, killed and crashed workers being
replaced, no stray processes after 1,000 checks, use off the main thread, and `r1lab verify math`.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from r1lab.cli import main
from r1lab.evaluation.metrics import cons_at_k
from r1lab.verify.math import MathVerifier, verify_math
from r1lab.verify.math_equivalence import gold_answer, match_key, plain_number

DEADLINE = 2.0
SLACK = 3.0  # killing and collecting a worker on a loaded 2-core machine
VERDICT_DEADLINE = 60.0  # tests of verdicts, not of speed: a loaded machine must not time them out


@pytest.fixture(scope="module")
def verifier():
    """For the tests of what is equal; the deadline tests make their own at DEADLINE."""
    with MathVerifier(workers=2, timeout_s=VERDICT_DEADLINE) as v:
        yield v


@pytest.fixture(scope="module")
def strict():
    with MathVerifier(workers=2, timeout_s=DEADLINE) as v:
        yield v


def worker_children() -> set[int]:
    """Live processes whose parent is this test process and that run the verifier's worker loop."""
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, ppid = fields[0], int(fields[1])
        if ppid == os.getpid() and b"worker_main" in cmdline and state != "Z":
            found.add(int(proc.name))
    return found


def boxed(answer: str) -> str:
    return "Some reasoning first. So the answer is \\boxed{" + answer + "}."


EQUIVALENT = [
    ("\\frac{1}{2}", "0.5"),
    ("0.5", "\\frac12"),
    ("\\dfrac{3}{4}", "\\frac{3}{4}"),
    ("18", "18.0"),
    ("#### 1,000", "1000"),  # GSM8K gold, thousands separator
    ("x=5", "5"),
    ("\\text{(C)}", "C"),
    ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\pi/2)"),
    ("\\frac{\\sqrt{3}}{2}", "\\sin(\\pi/3)"),
    ("3\\sqrt{13}", "\\sqrt{117}"),
    ("4\\sqrt{2}", "4√2"),  # sloppy unicode root, rewritten before parsing
    ("4\\sqrt{2}", "4 sqrt(2)"),
    ("10\\%", "10"),
    ("\\frac{1}{3}", "0.333333"),
    ("x^2+1", "1+x^2"),
    ("\\{1, 2\\}", "\\{2, 1\\}"),
    ("The solution ends with \\boxed{42}.", "42"),  # worked-solution gold: its last box
]

NOT_EQUIVALENT = [
    ("\\frac{1}{2004!}", "\\frac{1}{2006!}"),  # math-verify alone says equal (chopped difference)
    ("\\frac{1}{2^{99}}", "\\frac{1}{2^{98}}"),
    ("0.00000001", "0.00000002"),
    ("(1/2^{99}, 1)", "(1/2^{98}, 1)"),
    ("\\frac{2^{2005}+1}{3 \\cdot 2^{2006}}", "\\frac{1}{3 \\cdot 2^{2006}}"),
    ("4", "4\\sqrt{2}"),
    ("4", "4\\sqrt(2)"),  # `$4\sqrt(2)$` parses as 4 through math-verify's plain-expression fallback
    ("4", "4√2"),
    ("4", "4 sqrt(2)"),
    ("12:00", "1:00"),  # both parse to zoo
    ("\\pm 2021", "2021"),
    ("1 - \\frac{1}{e}", "1 + \\frac{1}{e}"),
    ("7", "banana"),
    ("3", "-3"),
]


def test_equivalent_answers_are_correct(verifier):
    verdicts = verifier.verify_many([(g, boxed(a)) for g, a in EQUIVALENT])
    wrong = [(g, a, v) for (g, a), v in zip(EQUIVALENT, verdicts) if v.status != "correct"]
    assert not wrong
    assert all(v.score == 1.0 for v in verdicts)


def test_same_answers_through_math_verify_without_fast_paths():
    with MathVerifier(workers=2, timeout_s=VERDICT_DEADLINE, fast_paths=False) as v:
        verdicts = v.verify_many([(g, boxed(a)) for g, a in EQUIVALENT])
        assert v.stats["fast"] == 0
    assert [x.status for x in verdicts] == ["correct"] * len(EQUIVALENT)


def test_known_false_positives_are_incorrect(verifier):
    verdicts = verifier.verify_many([(g, boxed(a)) for g, a in NOT_EQUIVALENT])
    wrong = [(g, a, v) for (g, a), v in zip(NOT_EQUIVALENT, verdicts) if v.status != "incorrect"]
    assert not wrong
    assert all(v.score == 0.0 and v.reason for v in verdicts)
    assert "numerically different" in verdicts[0].reason


def test_answer_comes_from_the_answer_region_only(verifier):
    cases = [
        ("4", "<think>it is \\boxed{4}</think> I am not sure.", None),  # only inside the thinking
        ("4", "<think>it is \\boxed{4}", None),  # reasoning never closed
        ("4", "I think the answer is 4", None),  # never the last number
        ("4", "<think>maybe 5</think> <answer>4</answer>", "4"),
        ("4", "<think>\\boxed{5}</think> <answer>\\boxed{4}</answer>", "4"),
        ("4", "first \\boxed{5} then \\boxed{4}", "5, 4"),  # several boxes: one list answer
    ]
    verdicts = verifier.verify_many([(g, r) for g, r, _ in cases])
    for (_, _, extracted), v in zip(cases, verdicts):
        assert v.extracted == extracted
        assert v.status == ("correct" if extracted == "4" else "incorrect")
    assert verdicts[0].reason == "no answer in the answer region"


def test_unverifiable_when_the_gold_is_empty(verifier):
    v = verifier.verify("", boxed("1"))
    assert v.status == "unverifiable" and v.score == 0.0


def test_pathological_answers_get_a_verdict_within_the_deadline(strict):
    strict.verify_many([("\\frac{1}{2}", boxed("0.5"))] * 2)  # both workers started: not under the deadline
    pids_before = set(strict.worker_pids())
    cases = {
        "tower": boxed("10^{10^{10^{10}}}"),
        "factorial of a huge number": boxed("(10^{10})!"),
        "deep nesting": boxed("(" * 2000 + "1" + ")" * 2000),
        "deep fractions": boxed("\\frac{1}{" * 300 + "2" + "}" * 300),
        "megabyte answer": boxed("1+" * 500_000 + "1"),
        "megabyte response": "x" * 1_000_000 + boxed("5"),
    }
    verdicts = {}
    for name, response in cases.items():
        start = time.monotonic()
        verdicts[name] = strict.verify("5", response)
        elapsed = time.monotonic() - start
        assert verdicts[name].status in ("correct", "incorrect", "unverifiable"), name
        assert elapsed < DEADLINE + SLACK, f"{name}: {elapsed:.1f} s"
    assert verdicts["tower"].status == "unverifiable" and verdicts["tower"].reason.startswith("timeout")
    assert verdicts["megabyte answer"].status == "unverifiable"
    assert verdicts["megabyte response"].status == "correct"
    # Overdue workers were killed and replaced: the pool is full, partly new, and still works.
    assert len(strict.worker_pids()) == 2
    assert set(strict.worker_pids()) != pids_before
    assert strict.verify("\\frac{1}{2}", boxed("0.5")).status == "correct"


def test_megabyte_answer_without_the_length_cap_is_cut_off_by_the_deadline():
    with MathVerifier(workers=1, timeout_s=DEADLINE, max_answer_chars=10**7) as v:
        v.verify("\\frac{1}{2}", boxed("0.5"))  # start the worker first (a check no fast path decides)
        start = time.monotonic()
        verdict = v.verify("5", boxed("(1+" * 200_000 + "1" + ")" * 200_000))
        assert time.monotonic() - start < DEADLINE + SLACK
        assert verdict.status in ("incorrect", "unverifiable")
        assert v.verify("2", boxed("2.0")).status == "correct"


def test_a_killed_worker_is_replaced_and_the_check_retried(verifier):
    victim = verifier.worker_pids()[0]
    os.kill(victim, signal.SIGKILL)
    time.sleep(0.2)
    verdicts = verifier.verify_many([("\\frac{1}{2}", boxed("0.5"))] * 4)
    assert all(v.status in ("correct", "unverifiable") for v in verdicts)
    assert victim not in verifier.worker_pids()
    assert verifier.verify("\\frac{1}{2}", boxed("0.5")).status == "correct"


def test_a_thousand_checks_leave_no_stray_worker():
    pairs = [(f"\\frac{{{i}}}{{{i + 1}}}", boxed(f"{i}/{i + 1}" if i % 3 else f"{i + 1}/{i}")) for i in range(1, 1001)]
    v = MathVerifier(workers=2, timeout_s=VERDICT_DEADLINE, fast_paths=False)
    verdicts = v.verify_many(pairs)
    assert len(verdicts) == 1000
    assert [x.correct for x in verdicts] == [bool(i % 3) for i in range(1, 1001)]
    assert worker_children() >= set(v.worker_pids()) and len(v.worker_pids()) == 2
    v.close()
    assert not (worker_children() & set(v.worker_pids()))


def test_works_off_the_main_thread(verifier):
    out = []
    t = threading.Thread(target=lambda: out.append(verifier.verify("\\frac{1}{2}", boxed("0.5"))))
    t.start()
    t.join(30)
    assert out and out[0].status == "correct"


def test_cons_at_k_puts_equivalent_answers_in_one_vote(verifier):
    answers = ["1/3", "0.5", "\\frac{1}{2}"]
    correct = [False, True, True]
    assert cons_at_k(answers, correct, lambda a, b: a == b) is False  # tie: first-sampled "1/3"
    assert cons_at_k(answers, correct, verifier.equivalent) is True
    assert verifier.equivalent("0.5", "\\frac{1}{2}")


def test_shared_instance_stops_its_workers_at_exit():
    marker = uuid.uuid4().hex
    code = "from r1lab.verify.math import verify_math; print(verify_math('1/2', 'so \\\\boxed{0.5}').status)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, R1LAB_TEST_MARKER=marker))
    assert out.stdout.strip() == "correct", out.stderr
    time.sleep(0.5)
    strays = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker.encode() in (proc / "environ").read_bytes():
                strays.append(proc.name)
        except OSError:
            continue
    assert not strays


def test_verify_math_uses_the_shared_pool():
    v = verify_math("#### 72", "<think>48 + 24</think> <answer>72</answer>")
    assert v.status == "correct" and v.extracted == "72"


def test_parent_side_helpers():
    assert gold_answer("work\n#### 1,000") == "1,000"
    assert gold_answer("so $\\boxed{\\frac{1}{2}}$.") == "\\frac{1}{2}"
    assert gold_answer(27.0) == "27"
    assert match_key("\\left( 1,2 \\right).") == match_key("(1,2)")
    assert match_key("32, 349") != match_key("32,349")  # a comma and a space make a list
    assert match_key("\\text{New York}") != match_key("\\text{NewYork}")
    assert plain_number("1,000") == 1000 and plain_number("\\$18") == 18 and plain_number("-.5") == -0.5
    assert plain_number("1,00") is None and plain_number("2^3") is None


def run_cli(capsys, *args):
    code = main(["verify", "math", "--workers", "1", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_single_check(capsys):
    code, out, err = run_cli(capsys, "--gold", "\\frac{1}{2}", "--response", "thus \\boxed{0.5}")
    assert code == 0, err
    assert json.loads(out) == {"correct": True, "extracted": "0.5", "status": "correct",
                               "reason": "equivalent (math-verify)"}
    assert run_cli(capsys, "--gold", "4", "--response", "\\boxed{5}")[0] == 1


def test_cli_file_keeps_order_and_echoes_ids(tmp_path, capsys):
    rows = [{"gold": "2", "response": "\\boxed{2}", "id": "a"},
            {"gold": "\\frac{1}{2004!}", "response": "\\boxed{1/2006!}", "id": 2},
            {"gold": "3", "response": "no box"}, {"gold": "0.5", "response": "\\boxed{\\frac{1}{2}}"}]
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, out, err = run_cli(capsys, "--file", str(pairs))
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [x["correct"] for x in lines] == [True, False, False, True]
    assert [x["extracted"] for x in lines] == ["2", "1/2006!", None, "\\frac{1}{2}"]
    assert [x["id"] for x in lines] == ["a", 2, None, None]
    assert all(set(x) == {"id", "correct", "extracted", "status", "reason"} for x in lines)
