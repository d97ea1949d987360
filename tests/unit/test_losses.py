"""Loss pieces and normalisers against values worked out by hand."""

import math

import pytest
import torch

from r1lab.rl.losses import aggregate, clipped_surrogate, k3_kl, loss_denominator, policy_loss

LOW, HIGH = 0.2, 0.28


def surrogate(ratio, adv):
    loss, clipped = clipped_surrogate(
        torch.tensor([[math.log(ratio)]]), torch.zeros(1, 1), torch.tensor([adv]), LOW, HIGH
    )
    return loss.item(), clipped.item()


def test_clip_higher_caps_positive_advantage_at_one_plus_high():
    loss, clipped = surrogate(1.5, 1.0)
    assert loss == pytest.approx(-1.28) and clipped


def test_negative_advantage_takes_the_unclipped_pessimistic_branch_above_one():
    loss, clipped = surrogate(1.5, -1.0)
    assert loss == pytest.approx(1.5) and not clipped


def test_low_ratio_clipping():
    assert surrogate(0.5, 1.0) == (pytest.approx(-0.5), False)
    loss, clipped = surrogate(0.5, -1.0)
    assert loss == pytest.approx(0.8) and clipped


def test_k3_kl():
    # d = log .5: .5 + .6931 - 1 = .1931; and zero when the policies agree
    value = k3_kl(torch.tensor([0.0, -1.0]), torch.tensor([math.log(0.5), -1.0]))
    assert value.tolist() == pytest.approx([0.5 + math.log(2) - 1, 0.0], abs=1e-6)


PER_TOKEN = torch.tensor([[1.0, 2.0, 3.0], [4.0, 9.0, 9.0]])
MASK = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])


@pytest.mark.parametrize(
    "loss_type, expected",
    [
        ("grpo", (6 / 3 + 4 / 1) / 2),  # per-sequence means 2 and 4, averaged: 3
        ("dapo", 10 / 4),  # token mean over the batch
        ("dr_grpo", 10 / (2 * 3)),  # constant: 2 sequences x max_new_tokens 3
    ],
)
def test_normalisers(loss_type, expected):
    denominator = loss_denominator(loss_type, MASK, max_new_tokens=3)
    assert aggregate(PER_TOKEN, MASK, loss_type, denominator).item() == pytest.approx(expected)


@pytest.mark.parametrize("loss_type", ["grpo", "dapo", "dr_grpo"])
def test_micro_batches_sum_to_the_batch_loss(loss_type):
    denominator = loss_denominator(loss_type, MASK, max_new_tokens=3)
    whole = aggregate(PER_TOKEN, MASK, loss_type, denominator)
    parts = sum(aggregate(PER_TOKEN[i:i + 1], MASK[i:i + 1], loss_type, denominator) for i in range(2))
    assert parts.item() == pytest.approx(whole.item())


def test_all_masked_row_counts_for_nothing():
    mask = torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    assert loss_denominator("grpo", mask, 3) == 1.0
    assert loss_denominator("dapo", mask, 3) == 3.0
    assert aggregate(PER_TOKEN, mask, "grpo", 1.0).item() == pytest.approx(2.0)
    assert aggregate(PER_TOKEN, torch.zeros(2, 3), "dapo", loss_denominator("dapo", torch.zeros(2, 3), 3)).item() == 0


def test_policy_loss_with_kl_on_policy():
    # On-policy (ratio 1): surrogate -A per token; KL of logp=0 vs ref=log .5 is .1931 per token.
    logp = torch.zeros(1, 2, requires_grad=True)
    loss, stats = policy_loss(
        logp, logp.detach(), torch.tensor([2.0]), torch.ones(1, 2), loss_type="dapo", denominator=2.0,
        clip_low=LOW, clip_high=HIGH, beta=0.1, ref_logprobs=torch.full((1, 2), math.log(0.5)),
    )
    kl = 0.5 + math.log(2) - 1
    assert loss.item() == pytest.approx(-2.0 + 0.1 * kl)
    assert stats.kl == pytest.approx(kl) and stats.clip_fraction == 0 and stats.ratio_mean == pytest.approx(1.0)
    loss.backward()
    # d/dlogp of -A*exp(logp-old) is -A; of beta*k3 is beta*(1 - exp(ref-logp)) = 0.1*(1-.5); /2 tokens
    assert logp.grad.tolist()[0] == pytest.approx([(-2.0 + 0.05) / 2] * 2)


def test_beta_without_reference_is_an_error():
    with pytest.raises(ValueError, match="reference"):
        policy_loss(torch.zeros(1, 1), torch.zeros(1, 1), torch.ones(1), torch.ones(1, 1), loss_type="grpo",
                    denominator=1.0, clip_low=LOW, clip_high=HIGH, beta=0.1)
