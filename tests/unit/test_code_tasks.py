"""The code tasks: `code:<file>` problems and HumanEval through the Task protocol."""

import json

import pytest

from r1lab.errors import ConfigError, DataError
from r1lab.tasks import Task, load_task

F = "```"
ROWS = [
    {"id": "add", "question": "Write add(a, b).", "entry_point": "add",
     "tests": "assert add(1, 2) == 3\nassert add(2, 2) == 4\n", "split": "train"},
    {"id": "echo", "question": "Print the input reversed.", "tests": [{"input": "ab", "output": "ba"}],
     "split": "test"},
    {"id": "sq", "question": "Write sq(x) using the given helper.", "entry_point": "sq",
     "prelude": "import math\n", "tests": "assert sq(3) == 9\n"},
]


def write(tmp_path, rows, name="problems.jsonl"):
    path = tmp_path / name
    path.write_text("".join((json.dumps(r) if isinstance(r, dict) else r) + "\n" for r in rows))
    return path


def answer(code):
    return f"<think>easy</think>\n{F}python\n{code}{F}"


def test_code_file_task_satisfies_the_protocol_and_splits(tmp_path):
    task = load_task(f"code:{write(tmp_path, ROWS)}")
    assert isinstance(task, Task) and task.name == "code:problems"
    train_ids = {p.id for p in task.problems("train", 10, seed=0)}
    test_ids = {p.id for p in task.problems("test", 10, seed=0)}
    assert "add" in train_ids and test_ids == {"echo"} and "sq" in train_ids | test_ids
    assert len(task.problems("train", 10, seed=0)) == 10  # the train split repeats (epochs)
    assert task.prompt(task.problems("test", 1, 0)[0]) == "Print the input reversed."


def test_code_verdict_is_binary_and_its_score_the_share_of_tests_passed(tmp_path):
    path = write(tmp_path, ROWS)
    task = load_task(f"code:{path}")
    add = next(p for p in task.problems("train", 10, 0) if p.id == "add")
    v = task.verify(add, answer("def add(a, b):\n    return 3\n"))
    assert (v.status, v.correct, v.score) == ("incorrect", False, 0.5) and "1/2 tests" in v.reason
    good = task.verify(add, answer("def add(a, b):\n    return a + b\n"))
    assert (good.status, good.score, good.extracted) == ("correct", 1.0, "def add(a, b):\n    return a + b\n")
    # The old reward=fraction|binary option is gone: partial credit is weighted by rewards.partial.
    with pytest.raises(ConfigError, match="rewards.partial"):
        load_task(f"code:{path}", reward="binary")


def test_code_file_verify_many_mixes_styles_and_unanswered(tmp_path):
    task = load_task(f"code:{write(tmp_path, ROWS)}", workers=2)
    problems = {p.id: p for p in task.problems("train", 10, 0) + task.problems("test", 10, 0)}
    verdicts = task.verify_many(
        [problems["echo"], problems["sq"], problems["add"], problems["echo"]],
        [answer("print(input()[::-1])\n"), answer("def sq(x):\n    return math.isqrt(x) ** 0 * x * x\n"),
         "I think the answer is add.", f"<think>{F}python\nprint(input()[::-1])\n{F}"])
    assert [v.status for v in verdicts] == ["correct", "correct", "incorrect", "incorrect"]
    assert verdicts[2].reason == verdicts[3].reason == "no code block in the answer region"


@pytest.mark.parametrize("row, message", [
    ("{oops", "problems.jsonl:1: not valid JSON"),
    (json.dumps({"tests": "assert 1"}), "problems.jsonl:1: missing or empty 'question'"),
    (json.dumps({"question": "q", "tests": 5}), "problems.jsonl:1: key 'tests"),
    (json.dumps({"question": "q", "tests": []}), "key 'tests' is an empty list"),
    (json.dumps({"question": "q", "tests": [{"input": "1"}]}), "key 'tests.list[IOTest].0.output'"),
    (json.dumps({"question": "q", "tests": "assert 1", "timeout_s": -1}), "key 'timeout_s'"),
    (json.dumps({"question": "q", "tests": "assert 1", "split": "dev"}), "key 'split'"),
    (json.dumps({"question": "q", "tests": "assert 1", "answer": "x"}), "unknown key(s) answer"),
])
def test_bad_rows_name_the_file_line_and_key(tmp_path, row, message):
    with pytest.raises(DataError) as err:
        load_task(f"code:{write(tmp_path, [row])}")
    assert message in str(err.value)


def test_bad_options_and_missing_file(tmp_path, capsys):
    path = write(tmp_path, ROWS)
    with pytest.raises(ConfigError, match="did you mean 'timeout_s'"):
        load_task(f"code:{path}", timeout=3)
    with pytest.raises(ConfigError, match="task_options.workers must be > 0"):
        load_task(f"code:{path}", workers=0)
    with pytest.raises(ConfigError, match="test_fraction must be in"):
        load_task(f"code:{path}", test_fraction=2)
    with pytest.raises(DataError):
        load_task(f"code:{tmp_path / 'nope.jsonl'}")
    capsys.readouterr()
    load_task(f"code:{path}")  # "sq" has no split key: the default policy is said aloud
    assert 'of the 1 problems without a "split" key are held out' in capsys.readouterr().err


def test_both_code_tasks_are_one_class_with_their_own_problems(tmp_path):
    from r1lab.tasks.code_file import CodeTask

    mine, humaneval = load_task(f"code:{write(tmp_path, ROWS)}", test_fraction=0.5), load_task("humaneval")
    assert type(mine) is type(humaneval) is CodeTask
    assert mine.equivalent("print(1)\n", "print(1)") and not mine.equivalent("print(1)", "print(2)")


def test_humaneval_task_loads_its_164_problems():
    task = load_task("humaneval")
    assert isinstance(task, Task)
    problems = task.problems("test", 1000, seed=0)
    assert len(problems) == 164 and problems[0].id == "HumanEval/0"
    assert task.problems("test", 5, seed=1) == problems[:5]
    p = problems[0]
    assert p.question.startswith("Complete the following Python function.\n```python\nfrom typing import List")
    assert set(p.answer) == {"tests", "entry_point", "prelude", "timeout_s", "memory_mb"}


def test_humaneval_body_only_answers_continue_the_prompt():
    task = load_task("humaneval")
    p = task.problems("test", 1, seed=0)[0]
    body = p.meta["canonical_solution"]
    assert task.verify(p, answer(body)).correct  # just the body, indented: appended to the prompt
    assert not task.verify(p, answer("    return False\n")).correct
