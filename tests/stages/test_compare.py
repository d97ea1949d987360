"""compare: rows in the configured order, each with pass@1 and its 95% interval, mean length,
format-valid and language-mixing rates, written to table.json."""

import json

from r1lab.stages.compare import CompareConfig, format_table
from r1lab.stages.compare import run as run_compare


def test_table_rows(tiny_r1, tmp_path):
    cfg = CompareConfig(models={"b": tiny_r1, "a": tiny_r1}, problems=3, n=2, max_new_tokens=8)
    table = run_compare(cfg, tmp_path, progress=False)
    assert json.loads((tmp_path / "table.json").read_text()) == table
    assert [r["model"] for r in table["rows"]] == ["b", "a"]
    for row in table["rows"]:
        lo, hi = row["pass@1_ci95"]
        assert 0 <= lo <= row["pass@1"] <= hi <= 1
        assert 0 <= row["format_rate"] <= 1 and 0 <= row["language_mixing_rate"] <= 1
        assert 0 < row["response_length_mean"] <= 8
    assert table["rows"][0]["pass@1"] == table["rows"][1]["pass@1"]  # same model, same seeds, same answers
    assert format_table(table).count("\n") == 3
