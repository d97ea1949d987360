"""Judging semantics of the two test styles, the reward, and `r1lab verify code` (real sandboxes)."""

import json

import pytest

from r1lab.cli import main
from r1lab.verify.code import CodeCase, judge_case, normalise_output


def run(code, tests, entry=None, **kw):
    return judge_case(CodeCase(code=code, tests=tests, entry_point=entry, timeout_s=kw.pop("timeout_s", 5), **kw))


# ------------------------------------------------------------------------------------- assert style
def test_each_assert_counts_and_failures_do_not_stop_the_script():
    tests = "assert f(1) == 1\nassert f(2) == 4\nassert f(3) == 9\nassert f(4) == 0\n"
    result = run("def f(x):\n    return x * x if x < 3 else 0\n", tests, "f")
    # test 3 fails; test 4 still runs and passes
    assert (result.passed, result.passed_tests, result.total_tests, result.status) == (False, 3, 4, "failed")
    assert result.detail.startswith("test 3:")


def test_humaneval_style_check_is_called_with_the_entry_point():
    tests = "def check(candidate):\n    assert candidate([3, 1, 2]) == [1, 2, 3]\n    assert candidate([]) == []\n"
    assert run("def srt(xs):\n    return sorted(xs)\n", tests, "srt").passed
    assert not run("def srt(xs):\n    return xs\n", tests, "srt").passed


def test_prelude_helpers_are_trusted_over_the_programs():
    prelude = "def double(x):\n    return 2 * x\n"
    tests = "assert double(half(10)) == 10\n"
    honest = run(prelude + "def half(x):\n    return x // 2\n", tests, "half", prelude=prelude)
    cheat = run("def double(x):\n    return 10\ndef half(x):\n    return 0\n", tests, "half", prelude=prelude)
    assert honest.passed and not cheat.passed


def test_tests_may_call_other_functions_of_the_program():
    result = run("def helper():\n    return 5\ndef f():\n    return helper() + 1\n",
                 "assert helper() == 5\nassert f() == 6\n", "f")
    assert result.passed


def test_expected_builtin_exceptions_cross_the_boundary():
    tests = ("try:\n    f(-1)\n    raised = False\nexcept ValueError:\n    raised = True\nassert raised\n"
             "assert f(4) == 2\n")
    assert run("def f(x):\n    if x < 0:\n        raise ValueError('neg')\n    return int(x ** 0.5)\n",
               tests, "f").passed


def test_plain_data_of_every_kind_comes_back_exact():
    code = ("def f():\n    return {'t': (1, 2.5, -0.0), 's': {1, 2}, 'fs': frozenset('ab'), 'b': b'\\x00',"
            " 'c': 1 - 2j, 'big': 10 ** 5000, 'n': None}\n")
    tests = ("r = f()\nassert r['t'] == (1, 2.5, -0.0) and type(r['t']) is tuple\nassert r['s'] == {1, 2}\n"
             "assert r['fs'] == frozenset('ab')\nassert r['b'] == b'\\x00'\nassert r['c'] == 1 - 2j\n"
             "assert r['big'] == 10 ** 5000\nassert r['n'] is None\n")
    result = run(code, tests, "f")
    assert result.passed, result


def test_kwargs_and_mutable_arguments_are_copies():
    tests = "xs = [3, 1]\nassert f(xs, reverse=True) == [3, 1]\nassert xs == [3, 1]\n"
    assert run("def f(xs, reverse=False):\n    xs.sort(reverse=reverse)\n    return xs\n", tests, "f").passed


def test_a_non_plain_argument_fails_only_its_assert():
    result = run("def f(x):\n    return 1\n", "assert f(object()) == 1\nassert f(0) == 1\n", "f")
    assert (result.passed_tests, result.total_tests) == (1, 2)
    assert "not plain data" in result.detail


@pytest.mark.parametrize("code, tests, status", [
    ("def f(:\n", "assert f() == 1\n", "crashed"),  # the program does not compile
    ("raise RuntimeError('boom')\n", "assert f() == 1\n", "crashed"),
    ("def f():\n    return 1\n", "assert f( == 1\n", "error"),  # the tests do not compile
    ("def f():\n    return 1\n", "x = 1\nassert True\n", "error"),  # nothing to test
    ("def g():\n    return 1\n", "assert f() == 1\n", "failed"),  # entry point missing
])
def test_statuses(code, tests, status):
    result = run(code, tests, "f")
    assert not result.passed and result.status == status, result


def test_a_crash_after_some_tests_keeps_their_credit():
    code = "import os\nn = 0\ndef f(x):\n    if x == 3:\n        os._exit(0)\n    return x\n"
    result = run(code, "assert f(1) == 1\nassert f(2) == 2\nassert f(3) == 3\nassert f(4) == 4\n", "f")
    assert (result.status, result.passed_tests, result.total_tests) == ("crashed", 2, 4)


# -------------------------------------------------------------------------------------- stdin/stdout
@pytest.mark.parametrize("got, want, same", [
    ("3\n", "3", True), ("3  \n\n\n", "3", True), ("1 2 \r\n3\r\n", "1 2\n3\n", True),
    ("3\n", "3\n4", False), ("3\n4\n", "3", False), (" 3", "3", False), ("1\n\n2", "1\n2", False),
    ("", "", True), ("", "0", False),
])
def test_normalise_output(got, want, same):
    assert (normalise_output(got) == normalise_output(want)) is same


def test_stdio_style_counts_tests_and_reads_stdin():
    code = "a, b = map(int, input().split())\nprint(a + b if a < 100 else 0)\n"
    tests = [{"input": "1 2\n", "output": "3\n"}, {"input": "5 5", "output": "10"},
             {"input": "100 1", "output": "101"}]
    result = run(code, tests)
    assert (result.passed, result.passed_tests, result.total_tests, result.status) == (False, 2, 3, "failed")
    assert "test 3: wrong answer" in result.detail


def test_stdio_runtime_error_is_a_crash():
    result = run("print(1 // 0)\n", [{"input": "", "output": "0"}])
    assert result.status == "crashed" and "ZeroDivisionError" in result.detail


# ----------------------------------------------------------------------------------------------- CLI
def cli(argv):
    return main(["verify", *argv])


def test_verify_code_cli_keeps_order_and_reports_bad_lines(tmp_path, capsys):
    cases = tmp_path / "cases.jsonl"
    lines = [
        {"code": "def f():\n    return 1\n", "tests": "assert f() == 1\n", "entry_point": "f", "id": "a"},
        {"code": "print(input()[::-1])", "tests": [{"input": "abc", "output": "cba"}]},
        "not json",
        {"code": "x = 1", "tests": "assert x == 1", "timeout": 3, "id": 7},
        {"code": "while True: pass", "tests": [{"input": "", "output": ""}], "timeout_s": 0.5},
    ]
    cases.write_text("\n".join(json.dumps(x) if isinstance(x, dict) else x for x in lines) + "\n")
    assert cli(["code", "--file", str(cases), "--workers", "2"]) == 2
    captured = capsys.readouterr()
    out = [json.loads(line) for line in captured.out.splitlines()]
    assert [r["passed"] for r in out] == [True, True, False, False, False]
    assert [r["status"] for r in out] == ["ok", "ok", "error", "error", "timeout"]
    assert set(out[0]) == {"id", "passed", "passed_tests", "total_tests", "status", "detail"}
    assert [r["id"] for r in out] == ["a", None, None, 7, None]  # each input's id, echoed
    assert "cases.jsonl:3" in out[2]["detail"] and "key 'timeout'" in out[3]["detail"]
    assert "cases.jsonl:4" in captured.err


def test_verify_code_cli_out_file_and_defaults(tmp_path):
    cases, out = tmp_path / "c.jsonl", tmp_path / "out.jsonl"
    cases.write_text(json.dumps({"code": "import time\ntime.sleep(3)", "tests": [{"input": "", "output": ""}]}))
    assert cli(["code", "--file", str(cases), "--out", str(out), "--timeout-s", "0.5"]) == 0
    assert json.loads(out.read_text())["status"] == "timeout"


def test_tests_always_see_the_real_builtins_and_harness_names():
    """Issue 13 item 1: a program's `abs`, `sorted`, `len` or `check` never stands in for the real one
    in the tests, so a wrong function cannot pass by redefining what the tests call."""
    tests = ("assert abs(f(3) - 9) < 1e-6\nassert sorted(g()) == [1, 2]\nassert len(g()) == 2\n"
             "assert isinstance(f(2), int)\n")
    honest = "def f(x):\n    return x * x\ndef g():\n    return [2, 1]\n"
    cheat = ("def f(x):\n    return 0.0\ndef g():\n    return 0\ndef abs(x):\n    return 0\n"
             "def sorted(x):\n    return [1, 2]\ndef len(x):\n    return 2\ndef isinstance(*a):\n    return True\n")
    assert run(honest, tests, "f").passed
    result = run(cheat, tests, "f")
    assert (result.passed_tests, result.status) == (0, "failed"), result
    # The harness's own names: a program-defined check() or __r1_check() is never called.
    harness = "def check(candidate):\n    pass\ndef __r1_check(i, thunk):\n    pass\ndef f(x):\n    return 0\n"
    assert run(harness, "def check(candidate):\n    assert candidate(2) == 4\n", "f").passed_tests == 0
    assert run(harness, "assert f(2) == 4\n", "f").passed_tests == 0


def test_a_threaded_program_is_told_why_it_cannot_start_a_thread():
    """The price of a memory cap without cgroups (sandbox.memory_cap() == "single-process"): no
    threads. The verdict says so instead of leaving a bare RuntimeError; with a cgroup they work."""
    from r1lab.verify import sandbox

    code = "import threading\nt = threading.Thread(target=lambda: print(int(input()) + 1))\nt.start()\nt.join()\n"
    result = run(code, [{"input": "1", "output": "2"}])
    if sandbox.memory_cap() == "single-process":
        assert result.status == "crashed" and "allows one process and no threads" in result.detail
    else:
        assert result.passed, result
