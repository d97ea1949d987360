"""`r1lab verify math` and `r1lab verify code` treat a file alike (issue 13 item 9): a bad line becomes an
output line with status "error" naming file:line, the command goes on and exits 2, and every output
line echoes its input's `id`. Real verifiers, real files, the real entry point."""

import json

from r1lab.cli import main

BAD_LINE = "{not json"


def run(capsys, *argv):
    code = main(["verify", *argv])
    out = capsys.readouterr()
    return code, [json.loads(line) for line in out.out.splitlines()], out.err


def write(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_verify_math_file_writes_an_error_line_and_goes_on(tmp_path, capsys):
    pairs = write(tmp_path / "pairs.jsonl", [
        {"id": "p1", "gold": "2", "response": "\\boxed{2}"},
        BAD_LINE,
        {"id": "p3", "gold": "3"},
        {"id": 4, "gold": "3", "response": ["\\boxed{3}"]},
        {"id": "p5", "gold": "0.5", "response": "\\boxed{\\frac{1}{2}}"},
    ])
    code, out, err = run(capsys, "math", "--workers", "1", "--file", str(pairs))
    assert code == 2  # like `verify code`: the file had bad lines
    assert [x["id"] for x in out] == ["p1", None, "p3", 4, "p5"]
    assert [x["status"] for x in out] == ["correct", "error", "error", "error", "correct"]
    assert all(set(x) == {"id", "correct", "extracted", "status", "reason"} for x in out)
    assert out[1]["reason"].startswith(f"{pairs}:2: not valid JSON")
    assert out[2]["reason"] == f"{pairs}:3: missing key(s) 'response'"
    assert "key 'response' must be a string" in out[3]["reason"]
    assert f"{pairs}:2" in err and f"{pairs}:4" in err


def test_verify_code_file_writes_an_error_line_and_goes_on(tmp_path, capsys):
    cases = write(tmp_path / "cases.jsonl", [
        {"id": "c1", "code": "def f():\n    return 1\n", "tests": "assert f() == 1\n", "entry_point": "f"},
        BAD_LINE,
        {"id": "c3", "code": "x = 1"},
        {"id": "c4", "code": "print(input())", "tests": [{"input": "hi", "output": "hi"}]},
    ])
    code, out, err = run(capsys, "code", "--workers", "1", "--file", str(cases))
    assert code == 2
    assert [x["id"] for x in out] == ["c1", None, "c3", "c4"]
    assert [x["status"] for x in out] == ["ok", "error", "error", "ok"]
    assert out[1]["detail"].startswith(f"{cases}:2: not valid JSON")
    assert out[2]["detail"].startswith(f"{cases}:3: key 'tests'")
    assert "memory:" in err.splitlines()[-1]  # the summary says how the memory limit is enforced


def test_missing_file_is_one_line(tmp_path, capsys):
    for kind in ("math", "code"):
        code, out, err = run(capsys, kind, "--file", str(tmp_path / "nope.jsonl"))
        assert code == 2 and out == [] and err.strip().endswith("nope.jsonl")
