"""The demo recipe end to end at a few steps on the shipped tiny base model: it loads, evaluates the
base, trains, evaluates in between and after, and logs the emergence signals every step and at every
held-out eval; every sampled completion carries its aha mark."""

import json
import math

import pytest

from r1lab.config import ZeroConfig, load_config
from r1lab.models.loading import TINY_BASE_DIR
from r1lab.rewards.signals import emergence_stats, is_aha
from r1lab.stages.demo import DEMO_RECIPE, run

EVAL_SIGNALS = ("eval/pass@1", "eval/check_rate", "eval/aha_rate", "eval/reflection_words_per_1k",
                "eval/response_length_mean", "eval/response_length_p10", "eval/response_length_p90")


def test_demo_recipe_evaluates_along_the_way():
    cfg = load_config(ZeroConfig, DEMO_RECIPE, [])
    assert cfg.eval_every > 0 and cfg.steps % cfg.eval_every == 0  # the accuracy curve has points
    assert cfg.task == "signs" and cfg.model == "tiny-base"


@pytest.mark.skipif(not (TINY_BASE_DIR / "model.safetensors").is_file(), reason="tiny-base not built")
def test_demo_recipe_runs_a_few_steps(tmp_path):
    cfg = load_config(ZeroConfig, DEMO_RECIPE, ["steps=2", "eval_every=1", "prompts_per_step=2", "samples_per_prompt=4",
                                                "eval_problems=4", "eval_n=2", "threads=1", "report_to=[]",
                                                "log_samples_per_step=8", "save_every=0"])
    # No reward for length or for checking: the rule rewards alone.
    assert cfg.rewards.language == cfg.rewards.partial == 0 and cfg.rewards.custom == []
    summary = run(cfg, tmp_path / "run", progress=False)
    for when in ("base", "final"):
        assert 0.0 <= summary[when]["pass@1"] <= 1.0 and summary[when]["problems"] == 4
    metrics = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in metrics if "eval/pass@1" in r]
    assert [r["step"] for r in evals] == [0, 1, 2]
    for r in evals:
        for key in EVAL_SIGNALS:
            assert math.isfinite(r[key]), key
        assert 0 <= r["eval/check_rate"] <= 1 and 0 <= r["eval/aha_rate"] <= r["eval/check_rate"]
    train = [r for r in metrics if "reward_mean" in r]
    rows = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 2 * 8
    for r in rows:  # the mark is the detector's verdict on the row's own text and verdict
        assert r["aha"] == is_aha(r["response"], r["correct"])
    # A step's logged rates are those of all its completions; with every completion kept, of the rows.
    for step in (1, 2):
        kept = [r for r in rows if r["step"] == step]
        stats = emergence_stats([(r["response"], r["correct"]) for r in kept], [r["tokens"] for r in kept])
        logged = next(r for r in train if r["step"] == step)
        assert logged["check_rate"] == stats["check_rate"] and logged["aha_rate"] == stats["aha_rate"]
        assert logged["response_length_mean"] == stats["response_length_mean"]
        for key in ("accuracy_with_check", "accuracy_without_check"):  # whether checking paid this step
            assert logged.get(key) == stats.get(key), key
    # The summary's two-number shapes of the length and check curves: step 1 against step 2 here.
    assert summary["check_rate"] == {"first_tenth_mean": train[0]["check_rate"], "last_tenth_mean": train[1]["check_rate"]}
    assert summary["response_length"]["last_tenth_mean"] == train[1]["response_length_mean"]
    # The base model answers in the frame it was pretrained on.
    assert sum("<think>" in r["response"] for r in rows) >= 12
    assert (tmp_path / "run" / "plots" / "accuracy.png").stat().st_size > 0
    assert "First aha moments" in (tmp_path / "run" / "report.html").read_text()
