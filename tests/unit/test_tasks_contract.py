"""The verdict contract every task keeps: verify_many is verify for many; `correct` holds exactly when
`score` is 1.0; score (partial credit) stays in [0, 1]; an unanswered response is incorrect with no
credit. Training's accuracy reward and eval's pass@1 both read `correct`."""

import json

import pytest

from r1lab.tasks import Task, load_task
from r1lab.tasks.demo import expression

F = "```"


def code_file(tmp_path):
    rows = [{"id": "add", "question": "Write add(a, b).", "entry_point": "add", "split": "test",
             "tests": "assert add(1, 2) == 3\nassert add(2, 2) == 4\n"}]
    path = tmp_path / "code.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return f"code:{path}", {}, [f"{F}python\ndef add(a, b):\n    return a + b\n{F}",
                               f"{F}python\ndef add(a, b):\n    return 3\n{F}"]


def math_file(tmp_path):
    path = tmp_path / "math.jsonl"
    path.write_text(json.dumps({"question": "Half of one?", "answer": "\\frac{1}{2}"}) + "\n")
    return str(path), {"test_fraction": 1.0}, ["\\boxed{0.5}", "\\boxed{0.5 or 1}"]


def boxed_gold(problem, hedge):
    return f"\\boxed{{{problem.answer}}}" if not hedge else f"\\boxed{{{problem.answer} or 1{problem.answer}}}"


def signs_answers(tmp_path):
    (p,) = load_task("signs").problems("test", 1, seed=0)
    numbers, ops = p.meta["numbers"], p.meta["ops"]
    flipped = ["-" if op == "+" else "+" for op in ops]
    return "signs", {}, [f"<think>ok</think><answer>{expression(numbers, ops)}</answer>",
                         f"<think>ok</think><answer>{expression(numbers, flipped)}</answer>"]


CASES = {
    "demo": lambda tmp_path: ("demo", {}, None),
    "signs": signs_answers,
    "rg": lambda tmp_path: ("rg:basic_arithmetic", {}, None),
    "math": math_file,
    "code": code_file,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_task_keeps_the_verdict_contract(tmp_path, case):
    spec, options, fixed = CASES[case](tmp_path)
    task = load_task(spec, **options)
    assert isinstance(task, Task)
    (p,) = task.problems("test", 1, seed=0)
    right, partial = fixed or (f"<think>ok</think>{boxed_gold(p, False)}", f"<think>ok</think>{boxed_gold(p, True)}")
    responses = [right, partial, "<think>never closed", ""]
    many = task.verify_many([p] * 4, responses)
    assert many == [task.verify(p, r) for r in responses]
    assert [v.correct for v in many] == [True, False, False, False]
    assert all(0.0 <= v.score <= 1.0 and (v.score == 1.0) == v.correct for v in many)
    assert all((v.status, v.score, v.extracted) == ("incorrect", 0.0, None) for v in many[2:])
    assert many[0].extracted is not None and task.equivalent(many[0].extracted, many[0].extracted)
    assert task.problems("test", 1, seed=0) == [p]
