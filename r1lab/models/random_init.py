"""Randomly initialised small models with a small trained tokenizer, saved as ordinary Hugging Face
directories. Tests and benchmarks use them to exercise the real loading and training code paths on
models built locally (nothing comes from a hub)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoModelForCausalLM, LlamaConfig, PreTrainedTokenizerFast, Qwen2Config

SPECIALS = ["<pad>", "<eos>"]
# Single tokens, but ordinary ones: decoding with skip_special_tokens must keep them.
TAG_TOKENS = ["<think>", "</think>", "<answer>", "</answer>"]


def _training_text() -> list[str]:
    from r1lab.models.templates import R1_ZERO_TEMPLATE
    from r1lab.tasks.demo import DemoTask

    lines = []
    for p in DemoTask().problems("train", 300, seed=0):
        lines.append(R1_ZERO_TEMPLATE.format(question=p.question) + f" <think> {p.question} </think> "
                     f"<answer> {p.answer} </answer>")
    lines.append("wait, let me check. The answer is \\boxed{42}. ```python\ndef f(x):\n    return x\n```")
    return lines


def build_tokenizer(vocab_size: int = 384) -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(_training_text(), trainer)
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in TAG_TOKENS])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>",
        additional_special_tokens=[],
    )


def build_random_model(
    out_dir: str | Path,
    arch: Literal["qwen2", "llama"] = "qwen2",
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    intermediate_size: int = 128,
    seed: int = 0,
    vocab_size: int = 384,
) -> Path:
    out = Path(out_dir)
    tokenizer = build_tokenizer(vocab_size)
    common = dict(
        vocab_size=len(tokenizer), hidden_size=hidden_size, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=kv_heads, intermediate_size=intermediate_size,
        max_position_embeddings=1024, tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, bos_token_id=None,
    )
    config = Qwen2Config(**common) if arch == "qwen2" else LlamaConfig(**common)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out
