"""Batched completion logprobs (left-padded prompts, right-padded completions, logits only for the
completion) must equal an unpadded forward over each sequence alone."""

import torch

from r1lab.models.loading import load_model
from r1lab.rl.logprobs import build_batch, completion_logprobs
from r1lab.rl.update import length_buckets


def reference_logprobs(model, prompt, completion, temperature):
    ids = torch.tensor([prompt + completion])
    logits = model(input_ids=ids).logits[0, len(prompt) - 1:-1].float() / temperature
    return torch.log_softmax(logits, -1).gather(-1, torch.tensor(completion).unsqueeze(-1)).squeeze(-1)


def test_matches_unpadded_forward(tiny_qwen2):
    model, tok = load_model(tiny_qwen2)
    model.eval()
    prompts = [[5, 6, 7, 8, 9], [10, 11], [12, 13, 14]]
    completions = [[20, 21, 22], [23, 24, 25, 26, 27], [28]]
    batch = build_batch(prompts, completions, tok.pad_token_id)
    with torch.no_grad():
        lp, entropy = completion_logprobs(model, batch, temperature=0.7, with_entropy=True, chunk_rows=2)
        for i, (p, c) in enumerate(zip(prompts, completions)):
            ref = reference_logprobs(model, p, c, 0.7)
            assert torch.allclose(lp[i, :len(c)], ref, atol=1e-5)
            assert torch.all(lp[i, len(c):] == 0)
    assert torch.all(entropy[batch.completion_mask.bool()] > 0)


def test_length_buckets_group_similar_lengths():
    assert length_buckets([5, 1, 9, 2, 8], 2) == [[1, 3], [0, 4], [2]]
