"""Resolving `--task`: only names that work are offered, with a did-you-mean; internal module names
are not tasks; a task file of the user's own loads from outside the package; options are checked."""

import pytest

from r1lab.errors import ConfigError, DataError, UnknownTaskError
from r1lab.tasks import Task, available_tasks, load_task


def test_named_tasks_are_the_ones_that_work_by_name():
    assert available_tasks() == ["demo", "humaneval", "signs"]


@pytest.mark.parametrize("spec, needle", [
    ("dmeo", "did you mean 'demo'?"),
    ("humanevl", "did you mean 'humaneval'?"),
    ("countdown", "did you mean 'rg:countdown'?"),  # a reasoning-gym name without its prefix
    ("reasoning_gym_task", "reasoning_gym_task tasks are spelled like rg:countdown"),
    ("math_file", "spelled like hf:openai/gsm8k"),
    ("code_file", "spelled like code:problems.jsonl"),
    ("data/problems", "for a dataset on the Hugging Face hub write hf:data/problems"),
])
def test_unknown_tasks_get_a_suggestion_and_only_working_names(spec, needle):
    with pytest.raises(UnknownTaskError) as err:
        load_task(spec)
    message = str(err.value)
    assert needle in message
    assert "named tasks: demo, humaneval, signs;" in message and "rg:<reasoning-gym dataset>" in message
    listed = message.split(": ", 1)[1]
    assert "reasoning_gym_task" not in listed and "math_file" not in listed and "code_file" not in listed


def test_options_a_task_does_not_take_are_named():
    with pytest.raises(ConfigError, match="unknown option task_options.timeout .did you mean 'timeout_s'.*"
                                          "its options: timeout_s, memory_mb, workers"):
        load_task("humaneval", timeout=3)


USER_TASK = '''
from r1lab.tasks import answer_verdict, same_text, verify_each
from r1lab.types import Problem, Verdict
from r1lab.verify.extract import extract_answer


class Parity:
    chat_instruction = "Answer even or odd in \\\\boxed{}."

    def __init__(self, name, limit):
        self.name, self.limit = name, limit

    def problems(self, split, n, seed):
        start = 0 if split == "train" else 1000
        return [Problem(f"{split}-{i}", f"Is {start + i} even or odd?", "even" if (start + i) % 2 == 0 else "odd")
                for i in range(min(n, self.limit))]

    def prompt(self, problem):
        return problem.question

    def extract(self, response):
        return extract_answer(response)

    def verify(self, problem, response):
        return answer_verdict(self.extract(response), lambda a: Verdict(
            "correct" if a == problem.answer else "incorrect", float(a == problem.answer), a))

    def verify_many(self, problems, responses):
        return verify_each(self, problems, responses)

    def equivalent(self, a, b):
        return same_text(a, b)

'''


def test_a_task_file_of_ones_own_loads_from_outside_the_package(tmp_path):
    f = tmp_path / "parity_task.py"
    f.write_text(USER_TASK + "def make_task(spec, limit=3):\n    return Parity('parity', limit)\n")
    task = load_task(str(f), limit=2)
    assert isinstance(task, Task) and task.name == "parity"
    p0, p1 = task.problems("train", 10, seed=0)
    assert [v.correct for v in task.verify_many([p0, p1], ["\\boxed{even}", "\\boxed{even}"])] == [True, False]
    assert task.verify(p0, "even").extracted is None  # no box, no answer
    with pytest.raises(ConfigError, match="unknown option task_options.limt .did you mean 'limit'"):
        load_task(str(f), limt=2)

    g = tmp_path / "object_task.py"
    g.write_text(USER_TASK + "task = Parity('parity-object', 5)\n")
    assert load_task(str(g)).name == "parity-object"
    with pytest.raises(ConfigError, match="its options: none"):
        load_task(str(g), limit=2)


def test_a_task_file_that_is_not_a_task_says_what_is_missing(tmp_path):
    f = tmp_path / "half.py"
    f.write_text("class Half:\n    name = 'half'\n\ndef make_task(spec):\n    return Half()\n")
    with pytest.raises(ConfigError, match="half.py: the task lacks chat_instruction, problems, prompt"):
        load_task(str(f))
    g = tmp_path / "nothing.py"
    g.write_text("x = 1\n")
    with pytest.raises(ConfigError, match="defines make_task"):
        load_task(str(g))
    with pytest.raises(DataError, match="task file not found"):
        load_task(str(tmp_path / "absent.py"))
