"""GRPO pitfalls other frameworks shipped as bugs, one test each, on tiny models built here.

Gradients across trainer ranks are checked on a real Ray cluster in
tests/integration/test_ray_distributed.py (test_data_parallel_update_is_the_whole_batch_update)."""

import copy

import pytest
import torch
from transformers import AutoModelForCausalLM, LlamaConfig

from r1lab.config import ZeroConfig
from r1lab.generation import SamplingParams, make_generator
from r1lab.grpo.loop import advantages_and_weights
from r1lab.models.loading import disable_dropout, load_model
from r1lab.rewards import combine
from r1lab.rl.logprobs import build_batch, build_shared_batch, completion_logprobs, right_pad
from r1lab.rl.update import UpdateSettings, grpo_update
from r1lab.types import Completion

pytestmark = pytest.mark.usefixtures("one_thread")

PROMPTS = [[5, 6, 7, 8, 9], [10, 11, 12], [13, 14, 15, 16, 17, 18, 19]]


def sampled(path, temperature=1.0, top_p=1.0, n=4):
    model, tok = load_model(path)
    params = SamplingParams(n=n, max_new_tokens=16, temperature=temperature, top_p=top_p, seed=3)
    out = make_generator("engine", model, tok).generate(PROMPTS, params)
    return model, tok, out


def settings(**kw) -> UpdateSettings:
    base = dict(loss_type="grpo", clip_low=0.2, clip_high=0.28, beta=0.0, iterations=1, micro_batch_size=4,
                max_new_tokens=16, temperature=1.0, max_grad_norm=1e9)
    return UpdateSettings(**{**base, **kw})


def update(model, out, advantages, s, pad_id, behaviour=None, lr=0.0):
    model = copy.deepcopy(model)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    stats = grpo_update(model, opt, sched, [PROMPTS[c.prompt_index] for c in out], [c.token_ids for c in out],
                        advantages, torch.ones(len(out)), s, pad_id, behaviour_logprobs=behaviour)
    return stats, model


def test_first_update_has_ratio_exactly_one_and_no_clipping(tiny_qwen2):
    model, tok, out = sampled(tiny_qwen2)
    advantages = torch.linspace(-1, 1, len(out))
    for mu in (1, 2):  # mu = 2: the old-policy forward and the first gradient forward see the same weights
        stats, _ = update(model, out, advantages, settings(iterations=mu), tok.pad_token_id)
        assert stats["ratio_mean"] == 1.0 and stats["clip_fraction"] == 0.0, mu


def test_gradients_do_not_depend_on_the_micro_batch_split(tiny_qwen2):
    model, tok, out = sampled(tiny_qwen2)
    advantages = torch.linspace(-1, 1, len(out))
    deltas = []
    for micro in (1, 5, len(out)):
        _, moved = update(model, out, advantages, settings(micro_batch_size=micro, loss_type="dapo"), tok.pad_token_id,
                          lr=1.0)
        deltas.append(torch.cat([(a - b).flatten() for a, b in zip(moved.parameters(), model.parameters())]))
    assert deltas[0].abs().max() > 0
    for d in deltas[1:]:
        torch.testing.assert_close(d, deltas[0], atol=1e-6, rtol=1e-4)


def test_eos_stays_in_the_loss_when_pad_equals_eos():
    eos = 2
    ids, mask = right_pad([[7, 8, eos], [9, eos]], pad_id=eos)
    assert mask.tolist() == [[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]]
    for build in (build_batch, build_shared_batch):
        assert build([[5, 6], [5]], [[7, 8, eos], [9, eos]], pad_id=eos).completion_mask.tolist() == mask.tolist()


def completion(finish: str) -> Completion:
    return Completion(prompt_index=0, token_ids=[1, 2], text="", finish_reason=finish)


def test_truncated_rows_follow_mask_truncated():
    comps = [completion("stop"), completion("length"), completion("stop"), completion("length")]
    rewards = [1.0, 0.0, 0.0, 1.0]
    for mask, expected in ((True, [1.0, 0.0, 1.0, 0.0]), (False, [1.0, 1.0, 1.0, 1.0])):
        cfg = ZeroConfig(samples_per_prompt=2, mask_truncated=mask)
        _, weights, _ = advantages_and_weights(rewards, comps, cfg)
        assert weights.tolist() == expected


def test_a_nan_or_missing_reward_never_gives_a_nan_advantage():
    # A reward component that could not score one sample (NaN) poisons its total, not its group.
    totals = combine({"accuracy": [1.0, 0.0, float("nan"), 1.0], "format": [1.0, 1.0, 1.0, 0.0]},
                     {"accuracy": 1.0, "format": 0.5})
    comps = [completion("stop")] * 4
    for scale in ("group", "batch", "none"):
        advantages, _, _ = advantages_and_weights(totals, comps, ZeroConfig(samples_per_prompt=2,
                                                                            advantage_scale=scale))
        assert torch.isfinite(advantages).all() and advantages[2] == 0.0, scale


def test_dropout_is_off_for_rollout_logprobs_and_the_update(tmp_path):
    from r1lab.models.random_init import build_tokenizer

    tok = build_tokenizer()
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, intermediate_size=64, attention_dropout=0.5,
                         pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config).train()
    batch = build_batch([[5, 6, 7]] * 2, [[8, 9, 10, 11]] * 2, tok.pad_token_id)
    first, _ = completion_logprobs(model, batch)
    assert not torch.equal(first, completion_logprobs(model, batch)[0]), "the model as loaded has dropout"
    disable_dropout(model)
    model.train()  # as the GRPO setup leaves it
    first, _ = completion_logprobs(model, batch)
    assert torch.equal(first, completion_logprobs(model, batch)[0])
    assert model.config.attention_dropout == 0.0


def test_sampling_and_training_logprobs_use_the_same_temperature(tiny_qwen2):
    model, tok, out = sampled(tiny_qwen2, temperature=0.7, top_p=0.8)
    batch = build_batch([PROMPTS[c.prompt_index] for c in out], [c.token_ids for c in out], tok.pad_token_id)
    with torch.no_grad():
        trainer, _ = completion_logprobs(model, batch, temperature=0.7)
    for row, c in enumerate(out):
        torch.testing.assert_close(trainer[row, :len(c.token_ids)], torch.tensor(c.logprobs), atol=1e-4, rtol=0)
    # and the update's old-policy logprobs are these: the ratio against the sampler's is ~1 at step 0
    stats, _ = update(model, out, torch.linspace(-1, 1, len(out)), settings(temperature=0.7), tok.pad_token_id,
                      behaviour=[c.logprobs for c in out])
    assert stats["ratio_mean"] == pytest.approx(1.0, abs=1e-4) and stats["clip_fraction"] == 0.0


@pytest.mark.parametrize("precision", ["float32", "bfloat16", "int8"])
def test_no_cache_outlives_a_weight_version(tiny_qwen2, precision):
    model, tok = load_model(tiny_qwen2)
    engine = make_generator("engine", model, tok, precision)
    greedy = SamplingParams(n=1, max_new_tokens=12, temperature=0.0)
    prompts = [list(range(5, 40))]  # longer than a 16-token cache block
    engine.generate(prompts, greedy)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    fresh = make_generator("engine", copy.deepcopy(model), tok, precision).generate(prompts, greedy)
    assert engine.generate(prompts, greedy)[0].token_ids == fresh[0].token_ids
