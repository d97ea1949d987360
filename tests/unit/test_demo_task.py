"""The demo task: its difficulty knob (operations per chain), its splits and its verifier."""

import pytest

from r1lab.errors import ConfigError
from r1lab.tasks import load_task
from r1lab.tasks.demo import (
    HIGH,
    LOW,
    VALUE_HIGH,
    VALUE_LOW,
    DemoTask,
    crosses_ten,
    evaluate,
    make_task,
    question_text,
    values_along,
)


def test_evaluate_and_question_by_hand():
    assert values_along([47, 8, 9, 6], ["+", "-", "+"]) == [55, 46, 52]
    assert evaluate([47, 8, 9, 6], ["+", "-", "+"]) == 52
    assert question_text([47, 8, 9, 6], ["+", "-", "+"]) == "Compute 47 + 8 - 9 + 6 ."


def test_crosses_ten_by_hand():
    assert crosses_ten(47, "+", 8) and crosses_ten(52, "-", 7) and crosses_ten(40, "-", 1)
    assert not crosses_ten(41, "+", 8) and not crosses_ten(49, "-", 9) and not crosses_ten(30, "+", 9)


def test_difficulty_knob_sets_operations_in_turn():
    task = DemoTask(min_ops=2, max_ops=5)
    problems = task.problems("test", 40, seed=0)
    assert [p.meta["operations"] for p in problems] == [2, 3, 4, 5] * 10
    assert [p.meta["operations"] for p in DemoTask().problems("test", 9, seed=0)] == [2, 3, 4] * 3
    for p in problems:
        k = p.meta["operations"]
        assert len(p.meta["ops"]) == k and len(p.meta["numbers"]) == k + 1
        assert p.question.count(" + ") + p.question.count(" - ") == k
    only_long = make_task("demo", min_ops=5, max_ops=5).problems("train", 10, seed=1)
    assert all(p.meta["operations"] == 5 for p in only_long)


def test_ranges_and_answers():
    for p in DemoTask().problems("train", 300, seed=3):
        numbers, ops = p.meta["numbers"], p.meta["ops"]
        assert all(LOW <= n <= HIGH for n in numbers) and len(set(numbers)) == len(numbers)  # distinct digits
        assert all(VALUE_LOW <= v <= VALUE_HIGH for v in values_along(numbers, ops))
        assert p.answer == evaluate(numbers, ops)


def test_longer_chains_carry_or_borrow_more_often():
    # The knob makes slips likelier: a long chain has more steps that cross a ten.
    problems = DemoTask().problems("train", 400, seed=0)
    crossings = {k: [] for k in range(2, 5)}
    for p in problems:
        values = [p.meta["numbers"][0]] + values_along(p.meta["numbers"], p.meta["ops"])
        crossings[p.meta["operations"]].append(
            sum(crosses_ten(x, op, n) for x, op, n in zip(values, p.meta["ops"], p.meta["numbers"][1:])))
    means = [sum(v) / len(v) for v in crossings.values()]
    assert means == sorted(means) and means[-1] > 1.4 * means[0]


def test_splits_are_disjoint_seeded_and_prefix_stable():
    task = DemoTask()
    test = task.problems("test", 200, seed=0)
    train = task.problems("train", 2000, seed=0)
    assert not {p.question for p in test} & {p.question for p in train}
    assert len({p.question for p in test}) == len(test)  # held-out questions never repeat
    assert [p.question for p in task.problems("test", 64, seed=0)] == [p.question for p in test[:64]]
    assert [p.question for p in task.problems("test", 64, seed=1)] != [p.question for p in test[:64]]


def test_verify():
    task = DemoTask()
    p = task.problems("test", 1, seed=0)[0]
    assert task.verify(p, f" <think> x </think> <answer> {p.answer} </answer>").correct
    assert not task.verify(p, f" <think> x </think> <answer> {p.answer + 1} </answer>").correct
    assert not task.verify(p, f" <think> {p.answer} </think>").correct  # nothing in the answer region
    assert not task.verify(p, f" <think> x </think> <answer> {p.answer} or 3 </answer>").correct


def test_held_out_split_runs_out_with_a_clear_error():
    # Chains of 2 operations on distinct digits: 119 of them hash into the held-out bucket.
    assert len(DemoTask(2, 2).problems("test", 119, seed=0)) == 119
    with pytest.raises(ValueError, match="held-out problems"):
        DemoTask(2, 2).problems("test", 120, seed=0)


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="min_ops"):
        make_task("demo", min_ops=4, max_ops=2)
    with pytest.raises(ConfigError, match="operands"):  # load_task names an option make_task does not take
        load_task("demo", operands=3)
