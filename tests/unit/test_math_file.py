"""The math-file task: jsonl and parquet, configurable fields, GSM8K answers, seeded disjoint splits,
malformed rows named by file and line, verification through the math verifier."""

import json

import pytest

from r1lab.errors import DataError
from r1lab.tasks import load_task
from r1lab.tasks.math_file import read_problems


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_gsm8k_style_answers_and_verification(tmp_path):
    f = write_jsonl(tmp_path / "gsm.jsonl", [
        {"question": "Natalia sold 48 clips, then half as many. Total?", "answer": "48/2 = 24\n48+24 = 72\n#### 72"},
        {"question": "How much is a thousand?", "answer": "#### 1,000"},
    ])
    task = load_task(str(f), test_fraction=0.0)
    p0, p1 = task.all_problems
    assert task.verify(p0, "<think>48 + 24</think> <answer>72</answer>").status == "correct"
    assert task.verify(p0, "<think>48 + 24</think> <answer>70</answer>").status == "incorrect"
    assert task.verify(p1, "so \\boxed{1000}").correct
    assert task.verify(p0, "The total is 72").extracted is None  # no last-number fallback
    assert [v.correct for v in task.verify_many([p0, p1], ["\\boxed{72}", "\\boxed{999}"])] == [True, False]
    assert task.equivalent("0.5", "\\frac{1}{2}")
    assert "\\boxed{}" in task.chat_instruction


def test_configurable_fields_and_ids(tmp_path):
    f = write_jsonl(tmp_path / "m.jsonl", [{"problem": "1+1?", "solution": "It is $\\boxed{2}$.", "uid": "a"}])
    (p,) = read_problems(f, question_field="problem", answer_field="solution", id_field="uid")
    assert p.id == "a" and p.question == "1+1?"
    task = load_task(str(f), question_field="problem", answer_field="solution", test_fraction=0.0)
    assert task.verify(task.all_problems[0], "\\boxed{2}").correct


def test_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    f = tmp_path / "p.parquet"
    pq.write_table(pa.table({"question": ["2*3?", "7-2?"], "answer": ["6", "5"]}), f)
    task = load_task(str(f), test_fraction=0.0)
    assert [p.answer for p in task.all_problems] == ["6", "5"]
    pq.write_table(pa.table({"question": ["2*3?", None], "answer": ["6", "5"]}), f)
    with pytest.raises(DataError, match="p.parquet: row 2"):
        load_task(str(f))


def test_held_out_split_is_seeded_and_disjoint(tmp_path):
    rows = [{"question": f"What is {i} + {i}?", "answer": str(2 * i)} for i in range(400)]
    f = write_jsonl(tmp_path / "many.jsonl", rows)
    task = load_task(str(f), test_fraction=0.25)
    train = {p.question for p in task.split["train"]}
    test = {p.question for p in task.split["test"]}
    assert not train & test and len(train) + len(test) == 400
    assert 60 < len(test) < 140
    # The same split from the same split_seed, whatever the file order; another seed, another split.
    reordered = load_task(str(write_jsonl(tmp_path / "rev.jsonl", rows[::-1])), test_fraction=0.25)
    assert {p.question for p in reordered.split["test"]} == test
    other = load_task(str(f), test_fraction=0.25, split_seed=1)
    assert {p.question for p in other.split["test"]} != test
    # Sampling order is seeded; test never repeats; train repeats in epochs.
    assert task.problems("test", 10, seed=3) == task.problems("test", 10, seed=3)
    assert task.problems("test", 10, seed=3) != task.problems("test", 10, seed=4)
    assert len(task.problems("test", 10_000, seed=0)) == len(test)
    assert len(task.problems("train", 1000, seed=0)) == 1000
    assert {p.question for p in task.problems("train", 1000, seed=0)} <= train


@pytest.mark.parametrize("content,where", [
    ('{"question": "ok?", "answer": "1"}\n{"question": "broken", \n', "bad.jsonl:2"),
    ('{"question": "ok?", "answer": "1"}\n\n{"answer": "2"}\n', "bad.jsonl: line 3"),
    ('{"question": "ok?", "answer": ""}\n', "bad.jsonl: line 1"),
    ('["question", "answer"]\n', "bad.jsonl: line 1"),
])
def test_malformed_rows_name_the_file_and_line(tmp_path, content, where):
    f = tmp_path / "bad.jsonl"
    f.write_text(content)
    with pytest.raises(DataError, match=where):
        load_task(str(f))


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="nope.jsonl"):
        load_task(str(tmp_path / "nope.jsonl"))
