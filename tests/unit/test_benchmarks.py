"""Named benchmarks: a local copy when there is one, else the public hub dataset through
`datasets.load_dataset` (exercised here on local folders, which load_dataset reads the same way, so no
network is needed); aliases; errors that name what works."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from r1lab.errors import DataError, UnknownTaskError
from r1lab.evaluation.benchmarks import (
    BENCHMARKS,
    benchmark_name,
    default_data_dir,
    hub_benchmark,
    load_benchmark,
)
from r1lab.tasks.math_file import HubSource

SHARED = Path(__file__).resolve().parents[3] / "shared" / "benchmarks"
ROOT = Path(__file__).resolve().parents[2]


def write_jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_names_and_aliases():
    assert sorted(BENCHMARKS) == ["aime24", "amc23", "gsm8k", "math500", "minerva"]
    assert benchmark_name("minerva_math") == "minerva" and benchmark_name("MATH500") == "math500"
    assert benchmark_name("HuggingFaceH4/MATH-500") == "math500" and benchmark_name("openai/gsm8k") == "gsm8k"
    assert benchmark_name("gsm8") is None
    hub = {name: (b.hub.path, b.hub.config, b.hub.split) for name, b in BENCHMARKS.items()}
    assert hub["gsm8k"] == ("openai/gsm8k", "main", "test")
    assert hub["math500"] == ("HuggingFaceH4/MATH-500", None, "test")


def test_a_local_copy_wins_and_an_alias_reads_it(tmp_path):
    write_jsonl(tmp_path / "minerva_math" / "test.jsonl", [
        {"problem": "Speed of light in km/s?", "solution": "It is $\\boxed{3 \\times 10^5}$.", "idx": 7}])
    task, problems = load_benchmark("minerva_math", tmp_path)
    assert [(p.id, p.answer) for p in problems] == [("minerva-7", "3 \\times 10^5")]
    assert task.problems("test", 5, seed=0) == problems
    with pytest.raises(DataError, match="no training problems .every problem of a benchmark"):
        task.problems("train", 1, seed=0)
    with pytest.raises(DataError, match=r"no local copy at .*gsm8k/test.jsonl.*openai/gsm8k"):
        load_benchmark("gsm8k", tmp_path)


def test_the_default_data_dir_is_used_only_when_it_exists(tmp_path, monkeypatch):
    monkeypatch.delenv("R1LAB_DATA_DIR", raising=False)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    assert default_data_dir() is None  # no ../shared/benchmarks: named benchmarks come from the hub
    (tmp_path / "shared" / "benchmarks").mkdir(parents=True)
    assert default_data_dir() == tmp_path / "shared" / "benchmarks"
    monkeypatch.setenv("R1LAB_DATA_DIR", str(tmp_path / "mine"))
    assert default_data_dir() == tmp_path / "mine"


def test_the_hub_loader_reads_the_hub_layout_through_load_dataset(tmp_path):
    # math-ai/minervamath's columns (question, answer), in a folder laid out as that repository is.
    rows = [{"question": "What is 2+2?", "answer": "4"}, {"question": "Half of 3?", "answer": "1.5"}]
    write_jsonl(tmp_path / "minervamath" / "test.jsonl", rows)
    source = HubSource(str(tmp_path / "minervamath"), None, "test")
    task, problems = hub_benchmark("minerva", source)
    assert [(p.id, p.question, p.answer) for p in problems] == [
        ("minerva-0", "What is 2+2?", "4"), ("minerva-1", "Half of 3?", "1.5")]
    assert task.verify(problems[1], "\\boxed{3/2}").correct


@pytest.mark.skipif(not (SHARED / "math500" / "test.jsonl").is_file(), reason=f"no benchmark copies in {SHARED}")
def test_the_hub_loader_reads_math500_in_place_like_its_local_copy():
    source = HubSource(str(SHARED / "math500"), None, "test")  # the same columns as HuggingFaceH4/MATH-500
    _, from_hub_path = hub_benchmark("math500", source)
    _, from_local = load_benchmark("math500", SHARED)
    assert len(from_hub_path) == 500 and from_hub_path == from_local


def test_without_a_local_copy_the_hub_is_asked(tmp_path):
    # Offline mode makes datasets answer from its (empty) cache at once: the error names the hub dataset.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_CACHE": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("R1LAB_DATA_DIR", None)
    code = ("from r1lab.evaluation.benchmarks import load_benchmark\n"
            "try:\n    load_benchmark('math500')\nexcept Exception as err:\n    print(type(err).__name__, err)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert "DataError could not load HuggingFaceH4/MATH-500 [test]" in out.stdout, out.stdout + out.stderr


def test_files_and_tasks_as_benchmarks(tmp_path):
    f = write_jsonl(tmp_path / "mine.jsonl", [{"problem": "1+2?", "answer": "3"}])
    task, problems = load_benchmark(str(f))
    assert [p.question for p in problems] == ["1+2?"] and task.problems("test", 9, seed=0) == problems
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(DataError, match="empty.jsonl: no problems in the file"):
        load_benchmark(str(empty))
    task, problems = load_benchmark("demo", rg_problems=3)
    assert task.name == "demo" and len(problems) == 3


@pytest.mark.parametrize("name, needle", [
    ("gsm8", "did you mean 'gsm8k'?"),
    ("aime", "did you mean 'aime24'?"),
    ("minerva-math", "did you mean 'minerva_math'"),
])
def test_unknown_benchmarks_name_what_works(name, needle):
    with pytest.raises(UnknownTaskError) as err:
        load_benchmark(name)
    assert needle in str(err.value) and "benchmarks are gsm8k, math500, aime24, amc23, minerva" in str(err.value)
    assert "reasoning_gym_task" not in str(err.value)
