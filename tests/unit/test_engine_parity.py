"""r1lab's generation engine against the references: greedy output token for token equal to
transformers' `generate` (EOS, stop strings, left padding, compaction all exercised), sampling
logprobs equal to a full forward over the finished sequences, seeds that make a prompt's samples
independent of its batch, and a sampler that draws from the softmax."""

import copy

import pytest
import torch

from r1lab.generation import SamplingParams, make_generator
from r1lab.generation.sampling import Sampler
from r1lab.models.loading import load_model
from r1lab.rl.logprobs import build_batch, completion_logprobs

# Tiny models: one torch thread for the whole module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("one_thread")

PROMPTS = [[5, 6, 7], [8, 9, 10, 11, 12, 13, 14], [15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26]]


def varied(path: str):
    """The random test model with an untied random output layer. Tied to the embeddings, a random
    model greedily repeats its last token forever, which would test little; with large random output
    weights its greedy runs vary and its logits are far apart, so an argmax never hinges on float
    rounding that differs between two correct implementations."""
    model, tok = load_model(path)
    head = model.get_output_embeddings()
    head.weight = torch.nn.Parameter(torch.randn(head.weight.shape, generator=torch.Generator().manual_seed(0)) * 0.5)
    return model, tok


@pytest.mark.parametrize("fixture", ["tiny_qwen2", "tiny_llama"])
def test_greedy_matches_transformers_generate(fixture, request):
    model, tok = varied(request.getfixturevalue(fixture))
    params = SamplingParams(n=1, max_new_tokens=24, temperature=0)
    reference = make_generator("hf", model, tok).generate(PROMPTS, params)
    # Make a token the first prompt's greedy run emits midway an EOS: that row finishes early and the
    # engine compacts it away while the others go on.
    model.generation_config.eos_token_id = [tok.eos_token_id, reference[0].token_ids[6]]
    hf = make_generator("hf", model, tok).generate(PROMPTS, params)
    engine = make_generator("engine", model, tok).generate(PROMPTS, params)
    assert len(hf[0].token_ids) < 24
    for a, b in zip(hf, engine):
        assert b.token_ids == a.token_ids
        assert (b.text, b.finish_reason, b.prompt_index) == (a.text, a.finish_reason, a.prompt_index)


def test_plain_cache_fallback_matches(tiny_qwen2, monkeypatch):
    """Models whose cache layers are not plain attention (linear attention, ...) decode on their own
    DynamicCache, compacted by row selection: same tokens."""
    import r1lab.generation.engine as engine_module

    model, tok = varied(tiny_qwen2)
    params = SamplingParams(n=1, max_new_tokens=16, temperature=0)
    buffered = make_generator("engine", model, tok).generate(PROMPTS, params)
    model.generation_config.eos_token_id = [tok.eos_token_id, buffered[1].token_ids[4]]
    buffered = make_generator("engine", model, tok).generate(PROMPTS, params)
    monkeypatch.setattr(engine_module, "_plain_layers", lambda cache: False)
    plain = make_generator("engine", model, tok).generate(PROMPTS, params)
    assert len(buffered[1].token_ids) == 5
    assert [c.token_ids for c in plain] == [c.token_ids for c in buffered]


def test_greedy_stop_strings_match(tiny_qwen2):
    model, tok = varied(tiny_qwen2)
    params = SamplingParams(n=1, max_new_tokens=20, temperature=0)
    free = make_generator("hf", model, tok).generate(PROMPTS, params)
    stop = tok.decode(free[2].token_ids[8:10])  # text the third prompt's run produces midway
    params = SamplingParams(n=1, max_new_tokens=20, temperature=0, stop=[stop])
    hf = make_generator("hf", model, tok).generate(PROMPTS, params)
    engine = make_generator("engine", model, tok).generate(PROMPTS, params)
    assert hf[2].finish_reason == "stop" and len(hf[2].token_ids) <= 10
    for a, b in zip(hf, engine):
        assert (b.token_ids, b.text, b.finish_reason) == (a.token_ids, a.text, a.finish_reason)


@pytest.mark.parametrize("top_k,top_p", [(0, 1.0), (20, 0.9)])
def test_sampling_logprobs_equal_full_forward(tiny_qwen2, top_k, top_p):
    model, tok = load_model(tiny_qwen2)
    # Ten frequent EOS ids: sequences end at many different steps, so compaction runs often.
    model.generation_config.eos_token_id = list(range(20, 30))
    params = SamplingParams(n=4, max_new_tokens=30, temperature=0.7, top_k=top_k, top_p=top_p, seed=3)
    out = make_generator("engine", model, tok).generate(PROMPTS, params)
    lengths = [len(c.token_ids) for c in out]
    assert min(lengths) < 30 and len(set(lengths)) > 3
    model.eval()
    batch = build_batch([PROMPTS[c.prompt_index] for c in out], [c.token_ids for c in out], tok.pad_token_id)
    with torch.no_grad():
        full, _ = completion_logprobs(model, batch, temperature=0.7)
    for i, c in enumerate(out):
        assert torch.allclose(torch.tensor(c.logprobs), full[i, :len(c.token_ids)], atol=1e-4)
        assert c.finish_reason == ("stop" if c.token_ids[-1] in [*range(20, 30), tok.eos_token_id] else "length")


def test_seeds_make_samples_independent_of_the_batch(tiny_qwen2):
    model, tok = load_model(tiny_qwen2)
    model.generation_config.eos_token_id = list(range(20, 26))
    engine = make_generator("engine", model, tok)
    both = engine.generate(PROMPTS[:2], SamplingParams(n=3, max_new_tokens=16, seeds=(11, 22)))
    alone = engine.generate(PROMPTS[1:2], SamplingParams(n=3, max_new_tokens=16, seeds=(22,)))
    again = engine.generate(PROMPTS[:2], SamplingParams(n=3, max_new_tokens=16, seeds=(11, 22)))
    assert [c.token_ids for c in both[3:]] == [c.token_ids for c in alone]
    assert [c.token_ids for c in both] == [c.token_ids for c in again]
    assert len({tuple(c.token_ids) for c in both}) > 1  # the samples of a prompt differ


def test_top_k_one_is_greedy(tiny_qwen2):
    model, tok = varied(tiny_qwen2)
    engine = make_generator("engine", model, tok)
    greedy = engine.generate(PROMPTS, SamplingParams(n=1, max_new_tokens=12, temperature=0))
    top1 = engine.generate(PROMPTS, SamplingParams(n=2, max_new_tokens=12, temperature=1.0, top_k=1, seed=5))
    for i, g in enumerate(greedy):
        assert top1[2 * i].token_ids == g.token_ids == top1[2 * i + 1].token_ids


def test_sampler_draws_from_the_softmax():
    probs = torch.tensor([0.1, 0.2, 0.3, 0.4])
    rows = 4000
    generators = [torch.Generator().manual_seed(i) for i in range(rows)]
    sampler = Sampler(SamplingParams(temperature=1.0), generators)
    tok, lp = sampler.sample(probs.log().repeat(rows, 1), list(range(rows)))
    freq = torch.bincount(tok, minlength=4).float() / rows
    assert torch.allclose(freq, probs, atol=0.03)
    assert torch.allclose(lp, probs.log()[tok], atol=1e-6)


def test_sampler_top_p_keeps_the_smallest_head_reaching_p():
    logits = torch.tensor([[0.5, 0.3, 0.15, 0.05]]).log().repeat(500, 1)
    sampler = Sampler(SamplingParams(temperature=1.0, top_p=0.75), [torch.Generator().manual_seed(i) for i in range(500)])
    tok, _ = sampler.sample(logits.clone(), list(range(500)))
    assert set(tok.tolist()) == {0, 1}  # 0.5 < 0.75 <= 0.5 + 0.3: the first two tokens only


def rounded(model, precision: str):
    """The policy as the engine's copy should be: bfloat16 parameters, or int8 dynamic quantization."""
    copied = copy.deepcopy(model)
    if precision == "int8":
        return torch.ao.quantization.quantize_dynamic(copied, {torch.nn.Linear}, dtype=torch.qint8)
    for p in copied.parameters():
        p.data = p.data.to(torch.bfloat16)
    return copied


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
@pytest.mark.parametrize("precision", ["bfloat16", "int8"])
def test_rounded_copy_follows_the_policy(tiny_qwen2, precision):
    """precision=bfloat16 / int8 decodes with a rounded copy of the policy refreshed at every call:
    its greedy output is that of the rounded policy, before and after the policy changes, and the
    policy itself stays float32."""
    from r1lab.generation.engine import EngineGenerator

    model, tok = varied(tiny_qwen2)
    engine = EngineGenerator(model, tok, precision=precision)
    params = SamplingParams(n=1, max_new_tokens=12, temperature=0)
    for _ in range(2):
        expected = make_generator("engine", rounded(model, precision), tok).generate(PROMPTS, params)
        assert [c.token_ids for c in engine.generate(PROMPTS, params)] == [c.token_ids for c in expected]
        assert next(model.parameters()).dtype == torch.float32
        with torch.no_grad():  # a "training step": the next call must decode with the new weights
            model.get_output_embeddings().weight.copy_(torch.randn_like(model.get_output_embeddings().weight))


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
def test_int8_logprobs_are_the_rounded_policys_and_near_float32(tiny_qwen2):
    """The int8 copy's sampling logprobs are within rounding of a full forward of the quantized model
    and of the float32 policy on the same tokens (what PPO's ratio then corrects). Not equal to the
    quantized forward: dynamic quantization scales activations per call over the whole batch, so a
    token's logprob depends on which rows share its decode step."""
    model, tok = load_model(tiny_qwen2)
    params = SamplingParams(n=2, max_new_tokens=16, temperature=1.0, seed=3)
    out = make_generator("engine", model, tok, precision="int8").generate(PROMPTS, params)
    prompts = [PROMPTS[c.prompt_index] for c in out]
    batch = build_batch(prompts, [c.token_ids for c in out], tok.pad_token_id)
    model.eval()
    for policy, tolerance in ((rounded(model, "int8"), 0.05), (model, 0.05)):
        with torch.no_grad():
            full, _ = completion_logprobs(policy, batch)
        for row, c in enumerate(out):
            diff = (full[row, :len(c.token_ids)] - torch.tensor(c.logprobs)).abs()
            assert float(diff.max()) <= tolerance, (tolerance, float(diff.max()))


@pytest.mark.parametrize("scale", [8.0, 0.01])  # peaked: the top 1024 hold top_p; flat: the full sort
def test_top_p_on_a_large_vocabulary_matches_a_full_sort(scale):
    from r1lab.generation.sampling import top_p_mask_

    logits = torch.randn(6, 5000, generator=torch.Generator().manual_seed(0)) * scale
    masked = logits.clone()
    top_p_mask_(masked, 0.9)
    vals, idx = torch.sort(logits, dim=-1, descending=True)
    probs = torch.softmax(vals, -1)
    keep_sorted = (probs.cumsum(-1) - probs) < 0.9
    expected = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, idx, keep_sorted)
    assert torch.equal(torch.isfinite(masked), expected)
    assert torch.equal(masked[expected], logits[expected])
