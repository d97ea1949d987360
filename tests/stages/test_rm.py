"""Reward model on the demo's synthetic preference pairs with a tiny model: the Bradley-Terry loss
by hand, training lifts held-out pair accuracy, and the saved model serves as a normalised reward."""

import math

import torch

from r1lab.data.general import write_demo_data
from r1lab.rewards.reward_model import RewardModel, normalize_score
from r1lab.stages.rm import RMConfig, bradley_terry_loss
from r1lab.stages.rm import run as run_rm


def test_bradley_terry_loss_by_hand():
    loss = bradley_terry_loss(torch.tensor([2.0, 0.0]), torch.tensor([0.0, 0.0]))
    expected = (math.log(1 + math.exp(-2.0)) + math.log(2.0)) / 2
    assert abs(loss.item() - expected) < 1e-6
    assert normalize_score(3.0, 1.0, 2.0, "zscore") == 1.0
    assert abs(normalize_score(1.0, 1.0, 2.0, "sigmoid") - 0.5) < 1e-12


def test_rm_learns_the_demo_preferences(tiny_r1, tmp_path):
    paths = write_demo_data(tmp_path / "data", seed=0, prompts=4, pairs=160, sft=4)
    cfg = RMConfig(model=tiny_r1, pairs=paths["pairs"], epochs=3, batch_size=16, learning_rate=1e-3,
                   eval_fraction=0.25)
    s = run_rm(cfg, tmp_path / "rm", progress=False)
    assert s["pairs_eval"] == 40 and s["steps"] == 3 * 8
    assert s["eval_pair_accuracy"] >= 0.75 and s["eval_pair_accuracy"] > s["eval_pair_accuracy_before"]

    rm = RewardModel(s["final_model"])
    prompt = "Reverse the words : red cat sun ."
    good, loop = "<think> reverse the order . </think> <answer> sun cat red </answer>", \
        "<think> reverse the order . </think> <answer> " + "sun cat red " * 6 + "</answer>"
    scores = rm.score([prompt, prompt], [good, loop])
    assert all(0 < x < 1 for x in scores) and scores[0] > scores[1]
