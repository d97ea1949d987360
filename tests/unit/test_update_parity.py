"""The lean GRPO update (shared prompt forwards, no forward/backward for rows without gradient)
against the reference path (every sequence run whole): from identical rollouts, the same loss and
the same gradients, and the same weights after an optimizer step where nothing at all is trained."""

import copy

import pytest
import torch

from r1lab.generation import SamplingParams, make_generator
from r1lab.models.loading import load_model
from r1lab.rl.update import UpdateSettings, grpo_update, rows_with_gradient

# Tiny models: one torch thread for the whole module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("one_thread")

PROMPTS = [[5, 6, 7, 8], [9, 10, 11, 12, 13, 14, 15], [16, 17, 18]]
G = 4


def rollout(path):
    """Engine rollouts of 3 prompts x 4 samples with ragged lengths (frequent EOS ids)."""
    model, tok = load_model(path)
    model.generation_config.eos_token_id = list(range(20, 32))
    out = make_generator("engine", model, tok).generate(PROMPTS, SamplingParams(n=G, max_new_tokens=20, seed=7))
    return model, tok, [PROMPTS[c.prompt_index] for c in out], [c.token_ids for c in out]


def settings(loss: str, lean: bool, beta: float = 0.0, iterations: int = 1) -> UpdateSettings:
    return UpdateSettings(loss_type=loss, clip_low=0.2, clip_high=0.28, beta=beta, iterations=iterations,
                          micro_batch_size=5, max_new_tokens=20, temperature=0.9, max_grad_norm=1e9,
                          share_prompts=lean, skip_zero_advantage=lean)


def one_step(model, prompts, completions, advantages, weights, s, pad_id, ref=None):
    """Run grpo_update with a zero learning rate and return its stats and the gradients it left."""
    model = copy.deepcopy(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    stats = grpo_update(model, opt, sched, prompts, completions, advantages, weights, s, pad_id, ref)
    return stats, torch.cat([p.grad.flatten() for p in model.parameters()])


@pytest.mark.parametrize("loss", ["grpo", "dapo", "dr_grpo"])
def test_lean_update_matches_reference(tiny_qwen2, loss):
    model, tok, prompts, completions = rollout(tiny_qwen2)
    assert len({len(c) for c in completions}) > 3
    # A zero-variance group (advantage 0), a masked row, the rest mixed signs.
    advantages = torch.tensor([0.0, 0.0, 0.0, 0.0, 1.2, -0.4, -0.8, 0.0, 0.5, -1.5, 0.3, 0.7])
    weights = torch.ones(12)
    weights[9] = 0.0
    ref_stats, ref_grad = one_step(model, prompts, completions, advantages, weights, settings(loss, False),
                                   tok.pad_token_id)
    stats, grad = one_step(model, prompts, completions, advantages, weights, settings(loss, True),
                           tok.pad_token_id)
    assert stats["trained_fraction"] == 6 / 12 and ref_stats["trained_fraction"] == 1.0
    assert stats["loss"] == pytest.approx(ref_stats["loss"], abs=1e-6)
    assert stats["grad_norm"] == pytest.approx(ref_stats["grad_norm"], rel=1e-4)
    assert torch.allclose(grad, ref_grad, atol=1e-6, rtol=1e-4)


def test_shared_prompts_with_reference_model_and_two_iterations(tiny_llama):
    model, tok, prompts, completions = rollout(tiny_llama)
    advantages = torch.linspace(-1, 1, 12)
    weights = torch.ones(12)
    ref_model = copy.deepcopy(model).eval()
    with torch.no_grad():  # a reference that differs from the policy, so the KL term is not zero
        for p in ref_model.parameters():
            p.add_(0.01 * torch.randn(p.shape, generator=torch.Generator().manual_seed(1)))
    s_ref, s_lean = settings("grpo", False, beta=0.1, iterations=2), settings("grpo", True, beta=0.1, iterations=2)
    ref_stats, ref_grad = one_step(model, prompts, completions, advantages, weights, s_ref, tok.pad_token_id, ref_model)
    stats, grad = one_step(model, prompts, completions, advantages, weights, s_lean, tok.pad_token_id, ref_model)
    assert stats["kl"] > 0
    for key in ("loss", "kl", "ratio_mean", "clip_fraction", "entropy"):
        assert stats[key] == pytest.approx(ref_stats[key], rel=1e-4, abs=1e-6), key
    assert torch.allclose(grad, ref_grad, atol=1e-6, rtol=1e-4)


def test_nothing_to_train_still_steps_the_optimizer_like_the_full_batch(tiny_qwen2):
    model, tok, prompts, completions = rollout(tiny_qwen2)
    results = []
    for lean in (False, True):
        m = copy.deepcopy(model)
        opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.1)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
        # A first step with signal (the same path for both) gives AdamW momentum; the second, the
        # one compared, has all advantages 0.
        for adv, path in ((torch.linspace(-1, 1, 12), False), (torch.zeros(12), lean)):
            stats = grpo_update(m, opt, sched, prompts, completions, adv, torch.ones(12), settings("grpo", path),
                                tok.pad_token_id)
        results.append((stats, torch.cat([p.detach().flatten() for p in m.parameters()])))
    (ref_stats, ref_params), (stats, params) = results
    assert stats["trained_fraction"] == 0 and stats["loss"] == ref_stats["loss"] == 0
    assert torch.allclose(params, ref_params, atol=1e-7)


def test_rows_with_gradient():
    adv = torch.tensor([0.0, 1.0, -2.0, 0.0])
    w = torch.tensor([1.0, 1.0, 0.0, 1.0])
    assert rows_with_gradient(adv, w, beta=0.0) == [1]
    assert rows_with_gradient(adv, w, beta=0.04) == [0, 1, 3]  # a KL term gives every row a gradient


def test_bfloat16_autocast_update_is_close_to_float32(tiny_qwen2):
    """precision=bfloat16 runs the forwards and backward under autocast: the gradient points the same
    way as float32's and has nearly the same size, the loss agrees to bfloat16's precision, and the
    parameters and their gradients stay float32."""
    model, tok, prompts, completions = rollout(tiny_qwen2)
    advantages = torch.linspace(-1, 1, 12)
    weights = torch.ones(12)
    exact = settings("grpo", True)
    rounded = UpdateSettings(**{**exact.__dict__, "precision": "bfloat16"})
    ref_stats, ref_grad = one_step(model, prompts, completions, advantages, weights, exact, tok.pad_token_id)
    stats, grad = one_step(model, prompts, completions, advantages, weights, rounded, tok.pad_token_id)
    assert grad.dtype == torch.float32 and not torch.equal(grad, ref_grad)  # autocast did change the numerics
    assert torch.nn.functional.cosine_similarity(grad, ref_grad, dim=0) > 0.99
    assert stats["grad_norm"] == pytest.approx(ref_stats["grad_norm"], rel=0.05)
    assert stats["loss"] == pytest.approx(ref_stats["loss"], abs=0.02)
