"""Reward functions from a user's file: TRL's calling convention, None as "not applicable", weights,
each logged as its own component."""

import math

import pytest
import torch

from r1lab.config import ZeroConfig, load_config
from r1lab.errors import ConfigError
from r1lab.rewards import combine
from r1lab.rewards.custom import call_reward, load_function, load_reward_functions, reward_columns
from r1lab.rewards.scoring import score_completions
from r1lab.rl.advantages import group_advantages
from r1lab.types import Completion, Problem, Verdict

USER_FILE = '''
def brevity(completions, **kwargs):
    return [1.0 - len(c) / 100 for c in completions]

def only_easy(completions, level, **kwargs):
    return [1.0 if lv == "easy" else None for lv in level]

def named_only(completions, answer):  # no **kwargs: gets only what it names
    return [float(c.strip() == str(a)) for c, a in zip(completions, answer)]

def echo(prompts, completions, completion_ids, question, **kwargs):
    return [float(len(p) > 0 and q in p) + 0.0 * len(i) for p, q, i in zip(prompts, question, completion_ids)]

def as_array(completions, **kwargs):
    return np.array([0.5] * len(completions))

def too_few(completions, **kwargs):
    return [1.0]

def not_a_number(completions, **kwargs):
    return ["high"] * len(completions)

import numpy as np
'''


@pytest.fixture()
def user_file(tmp_path):
    path = tmp_path / "my_rewards.py"
    path.write_text(USER_FILE)
    return path


class ExactTask:
    """A task whose verdict is the answer's exact text (enough for scoring tests)."""

    chat_instruction = ""

    def prompt(self, p):
        return p.question

    def verify(self, problem, response):
        ok = response.strip() == str(problem.answer)
        return Verdict("correct" if ok else "incorrect", float(ok), response.strip())

    def verify_many(self, problems, responses):
        return [self.verify(p, r) for p, r in zip(problems, responses)]


def completions(texts, group=2):
    return [Completion(prompt_index=i // group, token_ids=[1] * (i + 1), text=t, finish_reason="stop")
            for i, t in enumerate(texts)]


# ------------------------------------------------------------------ combine: what None does, by hand
def test_none_adds_nothing_and_keeps_the_sample_in_its_group():
    components = {"accuracy": [1.0, 0.0, 1.0, 0.0], "brevity": [0.5, None, None, 0.25]}
    totals = combine(components, {"accuracy": 1.0, "brevity": 2.0})
    assert totals == [2.0, 0.0, 1.0, 0.5]  # 1 + 2*0.5; 0; 1; 0 + 2*0.25


def test_a_sample_no_weighted_component_applies_to_has_no_total_and_advantage_zero():
    components = {"accuracy": [1.0, 0.0, 1.0, 0.0], "only_easy": [1.0, None, 0.0, 1.0]}
    totals = combine(components, {"accuracy": 0.0, "only_easy": 1.0})
    assert totals[0] == 1.0 and math.isnan(totals[1]) and totals[2:] == [0.0, 1.0]
    adv = group_advantages(torch.tensor(totals), group_size=2, scale="none")
    # group 1 is (1.0, NaN): the NaN is left out, the mean is 1.0 -> advantages (0, 0)
    assert adv.tolist() == [0.0, 0.0, -0.5, 0.5]


def test_nan_still_means_could_not_score():
    totals = combine({"accuracy": [1.0, math.nan], "f": [None, 1.0]}, {"accuracy": 1.0, "f": 1.0})
    assert totals[0] == 1.0 and math.isnan(totals[1])


def test_all_weights_zero_gives_zero_not_nan():
    assert combine({"accuracy": [1.0, 0.0]}, {"accuracy": 0.0}) == [0.0, 0.0]


# ------------------------------------------------------------------------------ loading and calling
def test_config_accepts_a_string_or_a_mapping_and_makes_the_path_absolute(user_file, monkeypatch):
    monkeypatch.chdir(user_file.parent)
    cfg = load_config(ZeroConfig, overrides=["rewards.custom=[my_rewards.py:brevity]"])
    assert cfg.rewards.custom[0].function == f"{user_file}:brevity"
    assert cfg.rewards.weights()["brevity"] == 1.0
    cfg = load_config(ZeroConfig, overrides=[
        "rewards.custom=[{function: my_rewards.py:only_easy, weight: 0.5, name: easy}]"])
    assert cfg.rewards.weights() == {"accuracy": 1.0, "format": 0.2, "language": 0.0, "partial": 0.0, "easy": 0.5}


@pytest.mark.parametrize("item, needle", [
    ("my_rewards.py", "path/to/file.py:function_name"),
    ("my_rewards.py:format", "a rule reward's name"),
    ("[my_rewards.py:brevity, other.py:brevity]", "two custom rewards are named 'brevity'"),
])
def test_bad_custom_entries_are_config_errors(item, needle):
    value = item if item.startswith("[") else f"[{item}]"
    with pytest.raises(ConfigError, match=needle):
        load_config(ZeroConfig, overrides=[f"rewards.custom={value}"])


def test_a_missing_file_or_function_is_named(user_file, tmp_path):
    with pytest.raises(ConfigError, match="reward file not found"):
        load_function(f"{tmp_path / 'nope.py'}:f")
    with pytest.raises(ConfigError, match=r"has no function 'brevty' \(it defines: .*brevity"):
        load_function(f"{user_file}:brevty")


def test_trl_arguments_and_checks(user_file):
    cfg = ZeroConfig(rewards={"custom": [f"{user_file}:{n}" for n in
                                         ("brevity", "only_easy", "named_only", "echo", "as_array")]})
    fns = {f.name: f for f in load_reward_functions(cfg.rewards.custom)}
    problems = [Problem("p0", "What is 2+2?", "4", meta={"level": "easy"}),
                Problem("p1", "What is 3+3?", "6", meta={"level": "hard"})]
    comps = completions(["4", "5", "6", "6 "])
    cols = reward_columns(problems, comps)
    assert cols["level"] == ["easy", "easy", "hard", "hard"] and cols["answer"] == ["4", "4", "6", "6"]
    prompts = ["Q: What is 2+2?"] * 2 + ["Q: What is 3+3?"] * 2
    texts, ids = [c.text for c in comps], [c.token_ids for c in comps]
    assert call_reward(fns["brevity"], prompts, texts, ids, cols) == [0.99, 0.99, 0.99, 0.98]
    assert call_reward(fns["only_easy"], prompts, texts, ids, cols) == [1.0, 1.0, None, None]
    assert call_reward(fns["named_only"], prompts, texts, ids, cols) == [1.0, 0.0, 1.0, 1.0]
    assert call_reward(fns["echo"], prompts, texts, ids, cols) == [1.0] * 4
    assert call_reward(fns["as_array"], prompts, texts, ids, cols) == [0.5] * 4
    for bad, needle in (("too_few", "returned 1 values for 4 completions"), ("not_a_number", "'high'")):
        fn = load_reward_functions(ZeroConfig(rewards={"custom": [f"{user_file}:{bad}"]}).rewards.custom)[0]
        with pytest.raises(ConfigError, match=needle):
            call_reward(fn, prompts, texts, ids, cols)


def test_a_row_kept_in_meta_gives_its_own_column_names(user_file):
    problem = Problem("p0", "2+2?", "4", meta={"row": {"prompt": "2+2?", "solution": "4", "level": "easy"}})
    cols = reward_columns([problem], completions(["4"], group=1))
    assert cols["solution"] == ["4"] and cols["level"] == ["easy"] and cols["question"] == ["2+2?"]
    assert "row" not in cols


def test_scoring_logs_each_custom_reward_as_a_component(user_file):
    cfg = ZeroConfig(rewards={"format": 0.0, "custom": [f"{user_file}:brevity",
                                                        {"function": f"{user_file}:only_easy", "weight": 2.0}]})
    problems = [Problem("p0", "2+2?", "4", meta={"level": "easy"}), Problem("p1", "3+3?", "6", meta={"level": "hard"})]
    comps = completions(["4", "5", "6", "7"])
    rollout = score_completions(ExactTask(), problems, [[1], [2]], comps, cfg.rewards.weights(),
                                load_reward_functions(cfg.rewards.custom), ["2+2?", "3+3?"])
    assert rollout.reward_components["only_easy"] == [1.0, 1.0, None, None]
    assert rollout.reward_components["brevity"] == [0.99] * 4
    # accuracy + brevity + 2 * only_easy (None adds nothing)
    assert rollout.rewards == pytest.approx([1 + 0.99 + 2, 0 + 0.99 + 2, 1 + 0.99, 0 + 0.99])


def test_step_metrics_average_over_the_samples_a_reward_applies_to(user_file):
    from r1lab.grpo.metrics import step_metrics
    from r1lab.types import Rollout

    comps = completions(["a", "b", "c", "d"])
    rollout = Rollout(problems=[Problem("p0", "q", "1"), Problem("p1", "q", "1")], prompt_ids=[[1], [1]],
                      completions=comps, rewards=[1.0, 0.0, 0.5, math.nan],
                      reward_components={"accuracy": [1.0, 0.0, 0.0, 0.0], "only_easy": [1.0, 0.0, None, None]},
                      verdicts=[Verdict("incorrect", 0.0, None)] * 4)
    row = step_metrics(rollout, torch.zeros(2, dtype=torch.bool))
    assert row["reward/only_easy"] == 0.5 and row["reward_none_rate/only_easy"] == 0.5
    assert row["reward_mean"] == 0.5  # over the three samples that have a total
    assert "reward_none_rate/accuracy" not in row

