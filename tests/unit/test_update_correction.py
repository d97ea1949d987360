"""grpo_update with rollouts from another sampler (vLLM, a rounded copy): the correction weights enter
the loss as r1lab.rl.correction defines them, and the mismatch is measured in every mode."""

import copy
import math

import pytest
import torch

from r1lab.generation import SamplingParams, make_generator
from r1lab.models.loading import load_model
from r1lab.rl.logprobs import build_batch, completion_logprobs
from r1lab.rl.update import UpdateSettings, grpo_update

pytestmark = pytest.mark.usefixtures("one_thread")

PROMPTS = [[5, 6, 7, 8, 9], [10, 11, 12]]


@pytest.fixture(scope="module")
def rollout(tiny_qwen2):
    model, tok = load_model(tiny_qwen2)
    out = make_generator("engine", model, tok).generate(PROMPTS, SamplingParams(n=4, max_new_tokens=12, seed=1))
    prompts = [PROMPTS[c.prompt_index] for c in out]
    completions = [c.token_ids for c in out]
    with torch.no_grad():
        exact, _ = completion_logprobs(model, build_batch(prompts, completions, tok.pad_token_id))
    exact = [row[:len(c)].tolist() for row, c in zip(exact, completions)]
    return model, tok, prompts, completions, exact


def update(rollout, behaviour, **kw):
    model, tok, prompts, completions, _ = rollout
    model = copy.deepcopy(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    s = UpdateSettings(loss_type="grpo", clip_low=0.2, clip_high=0.28, beta=0.0, iterations=1, micro_batch_size=8,
                       max_new_tokens=12, temperature=1.0, max_grad_norm=1e9, **kw)
    advantages = torch.tensor([1.0, -1.0, 0.5, -0.5, 1.0, 0.0, -1.0, 0.5])
    return grpo_update(model, opt, sched, prompts, completions, advantages, torch.ones(8), s, tok.pad_token_id,
                       behaviour_logprobs=behaviour)


def shifted(logprobs, by):
    return [[x + by for x in row] for row in logprobs]


def test_the_same_numbers_mean_no_mismatch_and_the_on_policy_loss(rollout):
    on_policy = update(rollout, None)
    for method in ("none", "tis", "mis"):
        stats = update(rollout, rollout[4], correction=method)
        assert stats["rollout_mismatch_kl"] < 1e-9 and stats["rollout_ratio_mean"] == pytest.approx(1.0, abs=1e-5)
        assert stats["rollout_corrected_fraction"] == 0.0
        assert stats["loss"] == pytest.approx(on_policy["loss"], abs=1e-6), method


def test_tis_weights_scale_the_surrogate_and_mis_drops_tokens_outside_the_band(rollout):
    on_policy = update(rollout, None)
    # The sampler thought every sampled token twice as likely as the trainer: ratio pi/mu = 1/2.
    behaviour = shifted(rollout[4], math.log(2.0))
    tis = update(rollout, behaviour, correction="tis", correction_cap=2.0)
    assert tis["rollout_ratio_mean"] == pytest.approx(0.5, rel=1e-5)
    assert tis["rollout_mismatch_kl"] == pytest.approx(0.5 - 1 - math.log(0.5), rel=1e-5)  # k3 by hand
    assert tis["loss"] == pytest.approx(0.5 * on_policy["loss"], rel=1e-5)
    assert tis["clip_fraction"] == 0.0 and tis["ratio_mean"] == pytest.approx(1.0)  # PPO's ratio stays the trainer's
    mis = update(rollout, behaviour, correction="mis", correction_cap=1.5)  # 0.5 < 1/1.5: every token out
    assert mis["rollout_corrected_fraction"] == 1.0 and mis["loss"] == 0.0
    kept = update(rollout, behaviour, correction="mis", correction_cap=3.0)  # inside [1/3, 3]: kept, weighted
    assert kept["rollout_corrected_fraction"] == 0.0 and kept["loss"] == pytest.approx(tis["loss"], rel=1e-5)


def test_without_correction_ppo_takes_its_ratio_against_the_sampler(rollout):
    stats = update(rollout, shifted(rollout[4], math.log(2.0)), correction="none")
    assert stats["ratio_mean"] == pytest.approx(0.5, rel=1e-5)  # PPO's ratio: trainer over sampler
    assert stats["clip_fraction"] > 0 and stats["rollout_ratio_mean"] == pytest.approx(0.5, rel=1e-5)


def test_sequence_level_uses_the_product_of_ratios(rollout):
    behaviour = shifted(rollout[4], 0.01)
    stats = update(rollout, behaviour, correction="tis", correction_level="sequence", correction_cap=1e9)
    lengths = [len(c) for c in rollout[3]]
    expected = sum(math.exp(-0.01 * n) for n in lengths) / len(lengths)
    assert stats["rollout_ratio_mean"] == pytest.approx(expected, rel=1e-4)
