"""The signs task: its difficulty knob, its splits (1 operation has few held-out questions) and its verifier."""

import itertools

import pytest

from r1lab.errors import ConfigError
from r1lab.tasks import NO_ANSWER, load_task
from r1lab.tasks.demo import evaluate, expression, held_out, values_along
from r1lab.tasks.signs import SignsTask, make_task, parse_expression, question_text
from r1lab.types import Problem


def test_values_question_and_parse_by_hand():
    assert values_along([12, 7, 8, 3], ["+", "-", "+"]) == [19, 11, 14]
    assert evaluate([12, 7, 8, 3], ["-", "+", "-"]) == 10
    assert evaluate([5], []) == 5
    assert question_text([12, 7, 8, 3], 10) == "Make 10 : 12 ? 7 ? 8 ? 3 ."
    assert expression([12, 7, 8, 3], ["-", "+", "-"]) == "12 - 7 + 8 - 3"
    assert parse_expression("12 - 7 + 8 - 3") == ([12, 7, 8, 3], ["-", "+", "-"])
    assert parse_expression(" 12-7+8 . ") == ([12, 7, 8], ["-", "+"])
    assert parse_expression("12") == ([12], [])
    for bad in ("12 * 7", "12 - - 7", "twelve", "", None, "12 - 7 = 5"):
        assert parse_expression(bad) is None


def test_difficulty_knob_sets_operations_in_turn():
    task = make_task("signs", min_ops=2, max_ops=4)
    problems = task.problems("train", 30, seed=0)
    assert [p.meta["operations"] for p in problems] == [2, 3, 4] * 10
    for p in problems:
        k = p.meta["operations"]
        assert len(p.meta["ops"]) == k and len(p.meta["numbers"]) == k + 1
        assert p.question.count(" ? ") == k
    with pytest.raises(ValueError, match="min_ops <= max_ops"):
        SignsTask(min_ops=3, max_ops=2)


def test_every_choice_of_signs_stays_non_negative_and_the_target_is_reachable():
    for p in SignsTask().problems("train", 300, seed=3):
        numbers = p.meta["numbers"]
        assert len(set(numbers[1:])) == len(numbers) - 1 and all(1 <= n <= 9 for n in numbers[1:])
        for ops in itertools.product("+-", repeat=len(numbers) - 1):
            assert min(values_along(numbers, ops)) >= 0
        assert evaluate(numbers, p.meta["ops"]) == p.answer


def test_longer_questions_have_more_choices_and_fewer_right_ones():
    # The knob makes a guess worse: the share of sign choices that hit the target falls with length.
    task = SignsTask()
    share = {}
    for p in task.problems("train", 600, seed=0):
        numbers, k = p.meta["numbers"], p.meta["operations"]
        hits = sum(evaluate(numbers, ops) == p.answer for ops in itertools.product("+-", repeat=k))
        share.setdefault(k, []).append(hits / 2 ** k)
    means = [sum(v) / len(v) for _, v in sorted(share.items())]
    assert means == sorted(means, reverse=True) and means[0] > 2 * means[-1]


def test_splits_are_disjoint_seeded_and_one_operation_runs_out():
    task = SignsTask()
    test = task.problems("test", 120, seed=0)
    train = task.problems("train", 3000, seed=0)
    assert all(held_out(p.question) for p in test) and not any(held_out(p.question) for p in train)
    assert len({p.question for p in test}) == len(test)
    one_op = [p for p in test if p.meta["operations"] == 1]
    assert len(one_op) == 15  # every held-out question of one operation, once; then 2 and 3 take turns
    assert [p.meta["operations"] for p in test[:9]] == [1, 2, 3] * 3
    assert [p.question for p in task.problems("test", 60, seed=0)] == [p.question for p in test[:60]]
    assert [p.question for p in task.problems("test", 60, seed=1)] != [p.question for p in test[:60]]
    with pytest.raises(ValueError, match="held-out problems of 1 to 1 operations; asked for 16"):
        SignsTask(max_ops=1).problems("test", 16, seed=0)


def test_verify():
    task = SignsTask()
    p = task.problems("test", 2, seed=0)[1]
    right = expression(p.meta["numbers"], p.meta["ops"])
    assert task.verify(p, f" <think> x </think> <answer> {right} </answer>").correct
    flipped = ["-" if op == "+" else "+" for op in p.meta["ops"]]
    wrong = task.verify(p, f" <think> x </think> <answer> {expression(p.meta['numbers'], flipped)} </answer>")
    assert not wrong.correct and wrong.reason == "makes another value"
    reordered = task.verify(p, f"<answer> {expression(p.meta['numbers'][::-1], p.meta['ops'])} </answer>")
    assert not reordered.correct and "in order" in reordered.reason
    assert task.verify(p, f"<answer> {p.answer} </answer>").reason == "answer does not use the question's numbers in order"
    assert task.verify(p, "<think> x </think>").reason == NO_ANSWER
    assert task.verify(p, "<answer> 12 * 3 </answer>").reason.startswith("answer is not")


def test_any_signs_that_make_the_target_are_right_and_agree():
    task = SignsTask()
    p = Problem(id="x", question=question_text([7, 1, 1], 7), answer=7,
                meta={"numbers": [7, 1, 1], "ops": ["+", "-"], "operations": 2})
    assert task.verify(p, "<answer> 7 + 1 - 1 </answer>").correct and task.verify(p, "<answer> 7 - 1 + 1 </answer>").correct
    assert task.equivalent("7 + 1 - 1", "7 - 1 + 1") and not task.equivalent("7 + 1 + 1", "7 - 1 + 1")
    assert task.equivalent("junk", " junk ")


def test_loads_by_name_with_options_and_rejects_unknown_ones():
    task = load_task("signs", min_ops=2, max_ops=2)
    assert isinstance(task, SignsTask) and task.min_ops == task.max_ops == 2
    with pytest.raises(ConfigError):
        load_task("signs", operations=3)
