"""The math-file task: jsonl, json, parquet and csv, configurable fields, GSM8K answers, seeded disjoint
splits, an explicit held-out policy, malformed rows named by file and line, verification through the
math verifier."""

import json

import pytest

from r1lab.errors import ConfigError, DataError
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
    train = {p.question for p in task.splits.train}
    test = {p.question for p in task.splits.test}
    assert not train & test and len(train) + len(test) == 400
    assert 60 < len(test) < 140
    # The same split from the same split_seed, whatever the file order; another seed, another split.
    reordered = load_task(str(write_jsonl(tmp_path / "rev.jsonl", rows[::-1])), test_fraction=0.25)
    assert {p.question for p in reordered.splits.test} == test
    other = load_task(str(f), test_fraction=0.25, split_seed=1)
    assert {p.question for p in other.splits.test} != test
    # Sampling order is seeded; test never repeats; train repeats in epochs.
    assert task.problems("test", 10, seed=3) == task.problems("test", 10, seed=3)
    assert task.problems("test", 10, seed=3) != task.problems("test", 10, seed=4)
    assert len(task.problems("test", 10_000, seed=0)) == len(test)
    assert len(task.problems("train", 1000, seed=0)) == 1000
    assert {p.question for p in task.problems("train", 1000, seed=0)} <= train


@pytest.mark.parametrize("content,where", [
    ('{"question": "ok?", "answer": "1"}\n{"question": "broken", \n', "bad.jsonl:2"),
    ('{"question": "ok?", "answer": "1"}\n\n{"answer": "2"}\n', "bad.jsonl:3: missing or empty 'question'"),
    ('{"question": "ok?", "answer": ""}\n', "bad.jsonl:1: missing or unusable 'answer'"),
    ('["question", "answer"]\n', "bad.jsonl:1: expected a JSON object"),
])
def test_malformed_rows_name_the_file_and_line(tmp_path, content, where):
    f = tmp_path / "bad.jsonl"
    f.write_text(content)
    with pytest.raises(DataError) as err:
        load_task(str(f), test_fraction=0.0)
    assert where in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="nope.jsonl"):
        load_task(str(tmp_path / "nope.jsonl"))


def test_csv_and_json_array_files_with_a_column_mapping(tmp_path):
    f = tmp_path / "mine.csv"
    f.write_text('uid,prompt,solution\nq1,"What is 6*7?",42\nq2,"Half of 1?",\\frac{1}{2}\n')
    task = load_task(str(f), question_field="prompt", answer_field="solution", id_field="uid", test_fraction=0.0)
    assert [(p.id, p.question, p.answer) for p in task.all_problems] == [
        ("q1", "What is 6*7?", "42"), ("q2", "Half of 1?", "\\frac{1}{2}")]
    assert [v.correct for v in task.verify_many(task.all_problems, ["\\boxed{42}", "\\boxed{0.5}"])] == [True, True]
    f.write_text("uid,prompt,solution\nq1,,42\n")
    with pytest.raises(DataError, match="mine.csv:2: missing or empty 'prompt'"):
        load_task(str(f), question_field="prompt", answer_field="solution")
    j = tmp_path / "arr.json"
    j.write_text(json.dumps([{"question": "1+1?", "answer": 2}, {"question": "2+2?", "answer": 4}], indent=2))
    assert [p.answer for p in load_task(str(j), test_fraction=0.0).all_problems] == ["2", "4"]


def test_no_held_out_policy_is_said_aloud(tmp_path, capsys):
    rows = [{"question": f"What is {i} + 1?", "answer": str(i + 1)} for i in range(200)]
    f = write_jsonl(tmp_path / "p.jsonl", rows)
    task = load_task(str(f))
    notice = capsys.readouterr().err
    held = len(task.splits.test)
    assert 0 < held < 200 and f"{held} of the 200 problems are held out" in notice and "test_fraction=0.1" in notice
    load_task(str(f), test_fraction=0.1)  # an explicit policy: no notice
    assert capsys.readouterr().err == ""


def test_a_tiny_file_says_which_file_and_policy_left_no_held_out_problem(tmp_path):
    # Five rows and the default 10% held out by hash: none of these five falls in the held-out split.
    rows = [{"question": f"What is {i} * 3?", "answer": str(3 * i)} for i in range(5)]
    f = write_jsonl(tmp_path / "five.jsonl", rows)
    with pytest.raises(DataError) as err:
        load_task(str(f))
    message = str(err.value)
    assert "five.jsonl" in message and "test_fraction=0.1 (the default)" in message and "test_file" in message
    # Asking for no held-out split is allowed; drawing from it then says why it is empty.
    task = load_task(str(f), test_fraction=0.0)
    with pytest.raises(DataError, match=r"no held-out problems .test_fraction=0.0 of the 5 problems in .*five.jsonl"):
        task.problems("test", 4, seed=0)


def test_test_file_is_the_held_out_split_and_leaves_the_train_split(tmp_path):
    rows = [{"question": f"What is {i} - 1?", "answer": str(i - 1)} for i in range(20)]
    f = write_jsonl(tmp_path / "train.jsonl", rows)
    held = write_jsonl(tmp_path / "held.jsonl", rows[:3] + [{"question": "New one?", "answer": "7"}])
    task = load_task(str(f), test_file=str(held))
    assert {p.question for p in task.splits.test} == {r["question"] for r in rows[:3]} | {"New one?"}
    assert len(task.splits.train) == 17  # the held-out questions are not trained on
    assert not {p.question for p in task.splits.train} & {p.question for p in task.splits.test}
    with pytest.raises(ConfigError, match="one held-out policy"):
        load_task(str(f), test_file=str(held), test_fraction=0.2)
    with pytest.raises(ConfigError, match="test_split is for hub datasets"):
        load_task(str(f), test_split="test")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(DataError, match="empty.jsonl: no held-out problems"):
        load_task(str(f), test_file=str(empty))
    with pytest.raises(DataError, match="empty.jsonl: no problems in the file"):
        load_task(str(empty))


def hub_layout(root, rows_by_split, config="main"):
    """A folder laid out like a hub dataset repository with one named config (as openai/gsm8k is):
    `datasets.load_dataset(folder, config, split=...)` reads it exactly as it reads the hub's."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (root / config).mkdir(parents=True)
    card = ["---", "configs:", f"- config_name: {config}", "  data_files:"]
    for split, rows in rows_by_split.items():
        pq.write_table(pa.Table.from_pylist(rows), root / config / f"{split}-00000-of-00001.parquet")
        card += [f"  - split: {split}", f"    path: {config}/{split}-*"]
    (root / "README.md").write_text("\n".join(card + ["---", ""]))
    return root


def test_a_hub_dataset_through_load_dataset_with_its_own_test_split(tmp_path, capsys):
    train = [{"question": f"Tom has {i} apples and eats one. How many?", "answer": f"{i}-1={i - 1}\n#### {i - 1}"}
             for i in range(2, 12)]
    test = [{"question": "Ann has 3 pens and buys 2. How many?", "answer": "3+2=5\n#### 5"}]
    repo = hub_layout(tmp_path / "gsm8k-like", {"train": train, "test": test})
    task = load_task(f"hf:{repo}", config="main", test_split="test")
    assert task.name == f"hf:{repo}" and "held-out policy" not in capsys.readouterr().err
    assert [p.question for p in task.problems("test", 10, seed=0)] == [test[0]["question"]]
    assert len(task.splits.train) == 10
    (p,) = task.problems("test", 1, seed=0)
    assert task.verify(p, "<think>3+2</think><answer>5</answer>").correct
    with pytest.raises(DataError, match="could not load"):
        load_task(f"hf:{repo}", config="nope", test_split="test")
    with pytest.raises(ConfigError, match="needs a dataset id"):
        load_task("hf:")
