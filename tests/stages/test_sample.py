"""Rejection sampling on a tiny model: filters by hand-made examples; a model fine-tuned on two
problems' worked solutions is sampled and its verified, readable, deduplicated completions come back
as chat SFT data with provenance, capped per prompt."""

import json

import pytest

from r1lab.data.io import read_sft
from r1lab.stages.sample import FilterSection, SampleConfig, rejection_reason, repetition_loop
from r1lab.stages.sample import run as run_sample
from r1lab.stages.sft import SFTConfig
from r1lab.stages.sft import run as run_sft
from r1lab.tasks.demo import DemoTask

GOOD = "<think> 12 + 30 = 42 . 42 - 11 = 31 . </think> <answer> 31 </answer>"


@pytest.mark.parametrize(
    "text, tokens, finish, expected",
    [
        (GOOD, 20, "stop", None),
        (GOOD, 20, "length", "truncated"),
        ("<think> 42 </think> 31", 8, "stop", "format"),
        ("<think> 所以 12 + 30 = 42 </think> <answer> 31 </answer>", 20, "stop", "language_mixing"),
        (GOOD, 200, "stop", "length"),
        ("<think> a b c d a b c d a b c d a b c d </think> <answer> 1 </answer>", 20, "stop", "repetition"),
    ],
)
def test_readability_filters(text, tokens, finish, expected):
    assert rejection_reason(text, tokens, finish, "en", FilterSection(max_tokens=100)) == expected


def test_repetition_loop_counts_word_ngrams():
    assert repetition_loop("x y x y x y x y", ngram=2, max_repeats=3)
    assert not repetition_loop("x y x y x y", ngram=2, max_repeats=3)


def test_sample_keeps_verified_readable_completions(tiny_r1, tmp_path):
    problems = DemoTask().problems("train", 2, seed=5)
    p = problems[0]  # the model memorises this one's solution; the other it cannot solve
    row = {"prompt": p.question, "completion": f"<think> ok . </think> <answer> {p.answer} </answer>"}
    sft_data = tmp_path / "seed.jsonl"
    sft_data.write_text((json.dumps(row) + "\n") * 8)
    run_sft(SFTConfig(model=tiny_r1, data=str(sft_data), epochs=60, batch_size=8, learning_rate=5e-3,
                      warmup_steps=2), tmp_path / "sft", progress=False)

    cfg = SampleConfig(model=str(tmp_path / "sft" / "final_model"), task="demo", problems=2, seed=5, n=6, temperature=0.7,
                       max_new_tokens=40, max_per_prompt=2)
    stats = run_sample(cfg, tmp_path / "sample", progress=False)
    assert sum(stats["outcomes"].values()) == 12
    examples = read_sft(tmp_path / "sample" / "data.jsonl")
    assert len(examples) == stats["examples"] >= 1  # the memorised solution passes the verifier
    assert stats["outcomes"]["unverified"] >= 6  # the other problem's samples all fail
    by_prompt = {}
    for ex in examples:
        by_prompt.setdefault(ex.meta["prompt_id"], []).append(ex.messages[1]["content"])
        assert ex.meta["verdict"] == "correct" and ex.meta["model"] == cfg.model
        p = next(p for p in problems if p.id == ex.meta["prompt_id"])
        assert ex.messages[0] == {"role": "user", "content": p.question}
        assert DemoTask().verify(p, ex.messages[1]["content"]).correct
    for texts in by_prompt.values():
        assert len(texts) <= 2 and len(set(texts)) == len(texts)  # capped and deduplicated


def test_few_shot_examples_come_before_the_prompt(tiny_qwen2):
    from r1lab.data.io import SFTExample
    from r1lab.models.loading import load_tokenizer
    from r1lab.stages.sample import prompt_texts

    shot = SFTExample([{"role": "user", "content": "Compute 1 + 2 + 3 ."},
                       {"role": "assistant", "content": " <think> 1 + 2 = 3 . 3 + 3 = 6 . </think> <answer> 6 </answer>"}])
    p = DemoTask().problems("train", 1, seed=0)[0]
    (text,) = prompt_texts(DemoTask(), [p], load_tokenizer(tiny_qwen2), "r1_zero", [shot])
    assert text.count("Assistant:") == 2 and text.endswith(f"User: {p.question}\nAssistant:")
    assert "Assistant: <think> 1 + 2 = 3 . 3 + 3 = 6 . </think> <answer> 6 </answer>\n\n" in text
