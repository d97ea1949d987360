"""Advantages against values worked out by hand (sample std, as torch.std)."""

import math

import pytest
import torch

from r1lab.rl.advantages import group_advantages, zero_variance_groups

R2 = 1 / math.sqrt(2)


def close(t, values):
    assert torch.allclose(t, torch.tensor(values, dtype=torch.float32), atol=1e-4), t


def test_group_scale_two_groups():
    # groups [1,0] and [0,1]: centred +-0.5, std sqrt(0.5) -> +-0.7071
    close(group_advantages(torch.tensor([1.0, 0, 0, 1]), 2), [R2, -R2, -R2, R2])


def test_group_scale_one_right_of_four():
    # mean .25, centred [.75,-.25,-.25,-.25], var (.5625 + 3 * .0625) / 3 = .25, std .5
    close(group_advantages(torch.tensor([1.0, 0, 0, 0]), 4), [1.5, -0.5, -0.5, -0.5])


def test_zero_variance_group_gives_zero_and_is_flagged():
    rewards = torch.tensor([1.0, 1, 0, 0, 1, 0])
    close(group_advantages(rewards, 2), [0, 0, 0, 0, R2, -R2])
    assert zero_variance_groups(rewards, 2).tolist() == [True, True, False]


def test_nan_rewards_are_left_out():
    # [1, 0, nan]: stats over [1, 0] -> +-0.7071, the NaN row gets 0
    close(group_advantages(torch.tensor([1.0, 0.0, float("nan")]), 3), [R2, -R2, 0.0])
    # a group with a single valid value has no spread: everything 0
    close(group_advantages(torch.tensor([1.0, float("nan")]), 2), [0.0, 0.0])
    assert zero_variance_groups(torch.tensor([1.0, float("nan")]), 2).tolist() == [True]


def test_batch_scale():
    # group means .5 and 1 -> centred [.5,-.5,0,0]; batch std of [1,0,1,1] is .5
    close(group_advantages(torch.tensor([1.0, 0, 1, 1]), 2, "batch"), [1.0, -1.0, 0.0, 0.0])


def test_no_scale_is_centred_reward():
    close(group_advantages(torch.tensor([2.0, 0, 0, 0]), 4, "none"), [1.5, -0.5, -0.5, -0.5])


def test_shape_errors():
    with pytest.raises(ValueError, match="G=4"):
        group_advantages(torch.zeros(6), 4)
    with pytest.raises(ValueError, match="unknown advantage scale"):
        group_advantages(torch.zeros(4), 2, "per-token")
