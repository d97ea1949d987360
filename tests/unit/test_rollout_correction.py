"""Rollout correction (r1lab.rl.correction) on numbers worked out by hand.

Log-ratios are chosen so ratios are round: ln 3, ln 0.25, 0 and so on; behaviour logprobs are arbitrary
and the trainer's are behaviour + log-ratio. Padding positions hold wild values (100, -1e9) that
would change every result if they were counted.
"""

import math

import pytest
import torch

from r1lab.rl.correction import LOG_RATIO_BOUND, MismatchStats, rollout_correction

LN = math.log


def _token_case():
    """One row, three real tokens with ratios 3, 0.25, 1, then one padding position."""
    behaviour = torch.tensor([[-1.0, -2.0, -0.5, -1e9]])
    log_ratio = torch.tensor([[LN(3.0), LN(0.25), 0.0, 0.0]])
    trainer = behaviour + log_ratio
    trainer[0, 3] = 100.0
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    return trainer, behaviour, mask


def test_token_tis_truncates_above_cap_only():
    trainer, behaviour, mask = _token_case()
    out = rollout_correction(trainer, behaviour, mask, "tis", "token", cap=2.0)
    # min(3, 2) = 2; 0.25 stays (truncation has no lower bound); 1 stays; padding 0.
    torch.testing.assert_close(out.weights, torch.tensor([[2.0, 0.25, 1.0, 0.0]]))
    torch.testing.assert_close(out.mask, mask)  # tis never drops a token
    m = out.stats.metrics()
    assert m["rollout_corrected_fraction"] == pytest.approx(1 / 3)
    assert m["rollout_ratio_max"] == pytest.approx(3.0)
    assert m["rollout_ratio_min"] == pytest.approx(0.25)
    assert m["rollout_ratio_mean"] == pytest.approx((3 + 0.25 + 1) / 3)


def test_token_mis_masks_outside_band():
    trainer, behaviour, mask = _token_case()
    out = rollout_correction(trainer, behaviour, mask, "mis", "token", cap=2.0)
    # band [0.5, 2]: 3 and 0.25 leave it, 1 stays with weight rho = 1.
    torch.testing.assert_close(out.weights, torch.tensor([[0.0, 0.0, 1.0, 0.0]]))
    torch.testing.assert_close(out.mask, torch.tensor([[0.0, 0.0, 1.0, 0.0]]))
    assert out.stats.metrics()["rollout_corrected_fraction"] == pytest.approx(2 / 3)


def test_mis_keeps_the_ratio_inside_the_band():
    behaviour = torch.tensor([[-1.0, -1.0]])
    trainer = behaviour + torch.tensor([[LN(1.5), LN(0.6)]])
    out = rollout_correction(trainer, behaviour, torch.ones(1, 2), "mis", "token", cap=2.0)
    torch.testing.assert_close(out.weights, torch.tensor([[1.5, 0.6]]))


def test_mismatch_kl_estimators_by_hand():
    trainer, behaviour, mask = _token_case()
    m = rollout_correction(trainer, behaviour, mask).stats.metrics()
    # k3 per token: rho - 1 - ln rho = (3 - 1 - ln 3), (0.25 - 1 - ln 0.25), (1 - 1 - 0)
    k3 = ((2 - LN(3)) + (-0.75 + LN(4)) + 0.0) / 3
    assert m["rollout_mismatch_kl"] == pytest.approx(k3, rel=1e-6)
    assert m["rollout_mismatch_kl"] == pytest.approx(0.512561, abs=2e-6)  # (0.901388 + 0.636294) / 3
    # k1: mean of ln mu - ln pi = -(ln 3 + ln 0.25 + 0) / 3
    assert m["rollout_mismatch_kl_k1"] == pytest.approx(-(LN(3) + LN(0.25)) / 3, rel=1e-6)
    assert m["rollout_logprob_diff_max"] == pytest.approx(LN(4), rel=1e-6)


def test_none_weights_are_the_mask_and_statistics_still_measured():
    trainer, behaviour, mask = _token_case()
    out = rollout_correction(trainer, behaviour, mask, "none")
    torch.testing.assert_close(out.weights, mask)
    torch.testing.assert_close(out.mask, mask)
    m = out.stats.metrics()
    assert m["rollout_corrected_fraction"] == 0.0
    assert m["rollout_ratio_max"] == pytest.approx(3.0)


def _sequence_case():
    """Row 0: ratios 2, 2, 0.5 (product 2, geometric mean 2^(1/3) = 1.26); row 1: 1.5, 1.5 (product
    2.25, geometric mean 1.5), then padding; row 2: no real token at all."""
    behaviour = torch.full((3, 3), -2.0)
    log_ratio = torch.tensor([[LN(2), LN(2), LN(0.5)], [LN(1.5), LN(1.5), 0.0], [0.0, 0.0, 0.0]])
    trainer = behaviour + log_ratio
    trainer[1, 2] = 100.0
    trainer[2] = -1e9
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    return trainer, behaviour, mask


def test_sequence_level_uses_the_product_of_ratios():
    trainer, behaviour, mask = _sequence_case()
    out = rollout_correction(trainer, behaviour, mask, "tis", "sequence", cap=2.0)
    # row 0: product 2 <= cap, kept as 2 on every token; row 1: product 2.25 truncated to 2.
    # (With the geometric mean row 1 would weigh 1.5 and nothing would be truncated.)
    expected = torch.tensor([[2.0, 2.0, 2.0], [2.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    torch.testing.assert_close(out.weights, expected)
    m = out.stats.metrics()
    assert out.stats.ratio_count == 2  # the empty row has no ratio
    assert m["rollout_ratio_mean"] == pytest.approx((2 + 2.25) / 2)
    assert m["rollout_ratio_max"] == pytest.approx(2.25)
    assert m["rollout_ratio_min"] == pytest.approx(2.0)
    assert m["rollout_corrected_fraction"] == pytest.approx(2 / 5)  # row 1's two tokens of five


def test_sequence_mis_drops_whole_sequences():
    trainer, behaviour, mask = _sequence_case()
    out = rollout_correction(trainer, behaviour, mask, "mis", "sequence", cap=2.0)
    # row 0 (2.0) is inside [0.5, 2]; row 1 (2.25) leaves it; row 2 has nothing.
    torch.testing.assert_close(out.mask, torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]))
    torch.testing.assert_close(out.weights, torch.tensor([[2.0, 2.0, 2.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]))


def test_long_sequences_leave_the_band_sooner_at_sequence_level():
    # Per-token ratio 1.05 everywhere: token level never corrects, but 15 tokens multiply to
    # 1.05^15 = 2.08 > 2, while 14 tokens give 1.98 < 2.
    behaviour = torch.zeros(2, 15)
    trainer = torch.full((2, 15), LN(1.05))
    mask = torch.ones(2, 15)
    mask[1, 14] = 0.0
    token = rollout_correction(trainer, behaviour, mask, "mis", "token", cap=2.0)
    assert token.stats.corrected_tokens == 0
    seq = rollout_correction(trainer, behaviour, mask, "mis", "sequence", cap=2.0)
    torch.testing.assert_close(seq.mask.sum(-1), torch.tensor([0.0, 14.0]))


def test_all_masked_batch_gives_zero_weights_and_nan_statistics():
    trainer = torch.tensor([[5.0, -5.0]])
    behaviour = torch.tensor([[-5.0, 5.0]])
    mask = torch.zeros(1, 2)
    for level in ("token", "sequence"):
        out = rollout_correction(trainer, behaviour, mask, "tis", level, cap=2.0)
        assert torch.equal(out.weights, torch.zeros(1, 2))
        assert all(math.isnan(v) for v in out.stats.metrics().values())


def test_identical_logprobs_agree_exactly():
    lp = torch.tensor([[-0.3, -2.0, -7.5], [-1.0, -0.1, -4.0]])
    m = rollout_correction(lp, lp.clone(), torch.ones(2, 3), "tis", "token", cap=2.0).stats.metrics()
    assert m["rollout_mismatch_kl"] == 0.0
    assert m["rollout_ratio_max"] == m["rollout_ratio_min"] == 1.0
    assert m["rollout_corrected_fraction"] == 0.0


def test_extreme_ratios_are_bounded_not_infinite():
    # A token the sampler gave logprob -80 but the trainer -1: ratio e^79 would overflow float32.
    trainer = torch.tensor([[-1.0]])
    behaviour = torch.tensor([[-80.0]])
    out = rollout_correction(trainer, behaviour, torch.ones(1, 1), "tis", "token", cap=3.0)
    assert out.weights.item() == 3.0
    m = out.stats.metrics()
    assert m["rollout_ratio_max"] == pytest.approx(math.exp(LOG_RATIO_BOUND), rel=1e-5)
    assert math.isfinite(m["rollout_mismatch_kl"])


def test_statistics_merge_across_micro_batches():
    torch.manual_seed(0)
    behaviour = -torch.rand(6, 5) * 3
    trainer = behaviour + torch.randn(6, 5) * 0.5
    mask = (torch.rand(6, 5) > 0.3).float()
    whole = rollout_correction(trainer, behaviour, mask, "mis", "sequence", cap=1.5).stats
    parts = [rollout_correction(trainer[s], behaviour[s], mask[s], "mis", "sequence", cap=1.5).stats
             for s in (slice(0, 2), slice(2, 6))]
    merged = sum(parts, MismatchStats())
    for key, value in whole.metrics().items():
        assert merged.metrics()[key] == pytest.approx(value, rel=1e-5), key


def test_weights_carry_no_gradient():
    trainer = torch.tensor([[-1.0, -2.0]], requires_grad=True)
    out = rollout_correction(trainer, torch.tensor([[-1.5, -1.0]]), torch.ones(1, 2), "tis", cap=2.0)
    assert not out.weights.requires_grad


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "clip"}, "unknown rollout correction"),
    ({"level": "geometric"}, "unknown rollout correction level"),
    ({"method": "tis", "cap": 1.0}, "cap must be > 1"),
])
def test_bad_settings_raise(kwargs, message):
    lp = torch.zeros(1, 1)
    with pytest.raises(ValueError, match=message):
        rollout_correction(lp, lp, torch.ones(1, 1), **kwargs)
