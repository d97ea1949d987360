"""compare: rows in the configured order, each with pass@1 and its 95% interval, mean length,
format-valid and language-mixing rates, written to table.json."""

import json

import pytest
from pydantic import ValidationError

from r1lab.stages.compare import CompareConfig, format_table, paired_differences
from r1lab.stages.compare import run as run_compare


def test_table_rows(tiny_r1, tmp_path):
    cfg = CompareConfig(models={"b": tiny_r1, "a": tiny_r1}, problems=3, n=2, max_new_tokens=8)
    table = run_compare(cfg, tmp_path, progress=False)
    assert json.loads((tmp_path / "table.json").read_text()) == table
    assert [r["model"] for r in table["rows"]] == ["b", "a"]
    for row in table["rows"]:
        lo, hi = row["pass@1_ci95"]
        assert 0 <= lo <= row["pass@1"] <= hi <= 1
        assert 0 <= row["format_rate"] <= 1
        lo, hi = row["language_mixing_rate_ci95"]
        assert 0 <= lo <= row["language_mixing_rate"] <= hi <= 1
        assert 0 < row["response_length_mean"] <= 8
    assert table["rows"][0]["pass@1"] == table["rows"][1]["pass@1"]  # same model, same seeds, same answers
    assert format_table(table).count("\n") == 3 and "language mixing [95% CI]" in format_table(table)


def test_table_shows_the_mixing_interval():
    row = {"model": "r1_zero", "pass@1": 0.5, "pass@1_ci95": [0.4, 0.6], "response_length_mean": 30.0,
           "format_rate": 1.0, "language_mixing_rate": 0.0625, "language_mixing_rate_ci95": [0.03125, 0.09375]}
    assert format_table({"rows": [row]}).splitlines()[-1] == \
        "| r1_zero | 0.500 [0.400, 0.600] | 30.0 | 1.000 | 0.062 [0.031, 0.094] |"


def test_mixing_can_be_measured_on_its_own_samples(tiny_r1, tmp_path):
    """With mixing_temperature, language mixing comes from mixing_n further samples per problem at that
    temperature (R1-Zero's mixing showed in its temperature-1.0 rollouts); pass@1 is untouched."""
    plain = CompareConfig(models={"m": tiny_r1}, problems=3, n=2, max_new_tokens=8)
    hot = plain.model_copy(update={"mixing_temperature": 1.0, "mixing_n": 5})
    same, separate = run_compare(plain, tmp_path / "a", progress=False), run_compare(hot, tmp_path / "b", progress=False)
    assert same["rows"][0]["language_mixing_samples"] == 3 * 2
    assert separate["rows"][0]["language_mixing_samples"] == 3 * 5
    assert separate["rows"][0]["pass@1"] == same["rows"][0]["pass@1"]
    assert "language mixing at temperature 1 [95% CI]" in format_table(separate)
    assert "language mixing [95% CI]" in format_table(same)


def test_paired_differences_by_hand():
    per_problem = {"r1": {"pass@1": [1.0, 0.75, 0.5], "language_mixing_rate": [0.0, 0.25, 0.0]},
                   "zero": {"pass@1": [0.75, 0.5, 0.25], "language_mixing_rate": [0.25, 0.5, 0.25]}}
    [d] = paired_differences([("r1", "zero")], per_problem)
    # Every problem differs by +0.25 in pass@1 and -0.25 in mixing: the paired interval is a point,
    # though the two rows' own intervals would overlap.
    assert (d["a"], d["b"]) == ("r1", "zero")
    assert d["pass@1"] == 0.25 and d["pass@1_ci95"] == [0.25, 0.25]
    assert d["language_mixing_rate"] == -0.25 and d["language_mixing_rate_ci95"] == [-0.25, -0.25]
    [d] = paired_differences([("zero", "r1")], {"r1": {"pass@1": [1.0, 0.0], "language_mixing_rate": [0.0, 0.0]},
                                                "zero": {"pass@1": [0.0, 1.0], "language_mixing_rate": [0.0, 0.0]}})
    assert d["pass@1"] == 0.0 and -1.0 <= d["pass@1_ci95"][0] < 0 < d["pass@1_ci95"][1] <= 1.0


def test_differences_must_name_rows():
    with pytest.raises(ValidationError, match="r2 not among the models"):
        CompareConfig(models={"r1": "a", "zero": "b"}, differences=[("r2", "zero")])


def test_a_model_against_itself_differs_by_nothing(tiny_r1, tmp_path):
    cfg = CompareConfig(models={"a": tiny_r1, "b": tiny_r1}, differences=[("a", "b")], problems=3, n=2,
                        max_new_tokens=8)
    table = run_compare(cfg, tmp_path, progress=False)
    [d] = table["differences"]
    assert d["pass@1"] == 0 and d["pass@1_ci95"] == [0, 0] and d["language_mixing_rate"] == 0
    assert "a minus b, per problem (paired 95% CI): pass@1 0.000 [0.000, 0.000]" in format_table(table)
