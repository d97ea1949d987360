"""Per-prompt seeded sampling, shared by every generator (r1lab.generation.sampling): the sampler draws
from the truncated distribution, and a prompt's samples do not depend on which prompts share its
batch (what lets rollout workers split a step and reproduce one process)."""

import torch


def test_per_prompt_sampler_draws_from_the_truncated_distribution():
    from r1lab.generation import SamplingParams
    from r1lab.generation.hf import PerPromptSampler

    logits = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0])
    rows = 20_000
    params = SamplingParams(n=1, temperature=0.8, top_k=4, top_p=0.9, seeds=tuple(range(rows)))
    picked = PerPromptSampler(params, rows)(None, logits.repeat(rows, 1)).argmax(-1)
    # By hand: softmax(logits / 0.8) over the top 4, then the smallest head with mass >= 0.9.
    probs = torch.softmax(logits[:4] / 0.8, -1)
    keep = (probs.cumsum(-1) - probs) < 0.9
    expected = torch.zeros(5)
    expected[:4] = torch.where(keep, probs, 0) / probs[keep].sum()
    freq = torch.bincount(picked, minlength=5).float() / rows
    torch.testing.assert_close(freq, expected, atol=0.015, rtol=0)


def test_a_prompts_samples_do_not_depend_on_its_batch(tiny_qwen2):
    from r1lab.generation import SamplingParams
    from r1lab.generation.hf import HFGenerator
    from r1lab.models.loading import load_model

    model, tok = load_model(tiny_qwen2, "float32")
    gen = HFGenerator(model, tok)
    prompts = [tok(t)["input_ids"] for t in ("Compute 12 + 34 .", "Compute 1 - 2 + 99 - 5 and more .", "hi")]
    together = gen.generate(prompts, SamplingParams(n=3, max_new_tokens=12, seeds=(7, 8, 9)))
    alone = gen.generate(prompts[1:2], SamplingParams(n=3, max_new_tokens=12, seeds=(8,)))
    assert [c.token_ids for c in together[3:6]] == [c.token_ids for c in alone]
    assert len({tuple(c.token_ids) for c in alone}) == 3  # the n samples of a prompt differ
