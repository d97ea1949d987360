"""A reduced `r1lab base build` (small corpus, few steps) into a temporary directory: the tokenizer
round-trips, the model loads with the Auto classes, the loss went down, the same seed rebuilds the
same corpus, tokenizer and weights. Also checks the shipped model when it is present."""

import argparse
import json

import pytest
import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM, AutoTokenizer

from r1lab.config import DEFAULT_TASK
from r1lab.models import corpus as chain_corpus
from r1lab.models import signs_corpus, tiny_base
from r1lab.models.loading import TINY_BASE_DIR
from r1lab.models.templates import R1_ZERO_TEMPLATE, choose_template
from r1lab.stages import base as base_stage

# A small model and corpus: the test checks the build's mechanics, not the shipped model's quality.
SMALL = dict(corpus="signs", corpus_size=400, steps=40, batch_size=16, warmup_steps=5, eval_problems=0, log_every=10, threads=1,
             hidden_size=64, layers=2, heads=2, kv_heads=1, intermediate_size=128, learning_rate=3e-3)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny-base")
    record = tiny_base.build(tiny_base.BaseBuildConfig(**SMALL), out, log=lambda *_: None)
    return out, record


def test_tokenizer_round_trips_and_has_distinct_pad_and_eos(built):
    out, _ = built
    tok = AutoTokenizer.from_pretrained(out)
    texts = [d.text for d in signs_corpus.make_corpus(50, seed=1)] + ["Ünïcode, tabs\tand 12345 digits: 007!"]
    for text in texts:
        ids = tok(text, add_special_tokens=False)["input_ids"]
        assert tok.decode(ids) == text
    assert tok.pad_token_id != tok.eos_token_id
    assert getattr(tok, "chat_template", None) is None  # a base model: r1lab picks the r1_zero frame
    assert choose_template("auto", tok) == "r1_zero"
    for tag in tiny_base.TAGS:  # single tokens that survive skip_special_tokens
        ids = tok(tag, add_special_tokens=False)["input_ids"]
        assert len(ids) == 1 and tok.decode(ids, skip_special_tokens=True) == tag
    pieces = tok.convert_ids_to_tokens(tok(" 12 + 7", add_special_tokens=False)["input_ids"])
    assert pieces == ["Ġ12", "Ġ+", "Ġ7"]  # the demo's numbers are whole tokens


def test_auto_tokenizer_tokenizes_as_in_pretraining(built):
    # transformers may swap in a model-specific tokenizer class that rebuilds the pre-tokenizer; the
    # ids the model gets must be those of the saved tokenizer.json it was trained with.
    out, _ = built
    raw = Tokenizer.from_file(str(out / "tokenizer.json"))
    tok = AutoTokenizer.from_pretrained(out)
    for d in signs_corpus.make_corpus(30, seed=2):
        assert tok(d.text, add_special_tokens=False)["input_ids"] == raw.encode(d.text, add_special_tokens=False).ids


def test_model_loads_with_auto_classes_and_generates(built):
    out, record = built
    model = AutoModelForCausalLM.from_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    assert type(model).__name__ == "LlamaForCausalLM"
    assert sum(p.numel() for p in model.parameters()) == record["parameters"]
    prompt = tok(R1_ZERO_TEMPLATE.format(question="Make 12 : 7 ? 8 ? 3 ."), return_tensors="pt")
    generated = model.generate(**prompt, max_new_tokens=5, do_sample=False, pad_token_id=tok.pad_token_id)
    assert generated.shape[1] == prompt["input_ids"].shape[1] + 5 or generated[0, -1] == tok.eos_token_id
    assert (out / "README.md").read_text().startswith("# tiny-base")
    assert json.loads((out / "build_info.json").read_text())["parameters"] == record["parameters"]


def test_loss_went_down(built):
    _, record = built
    assert record["loss_last"] < 0.75 * record["loss_first"], record


def test_same_seed_same_tokenizer_and_weights(built, tmp_path):
    out, _ = built
    again = tmp_path / "again"
    tiny_base.build(tiny_base.BaseBuildConfig(**SMALL), again, log=lambda *_: None)
    assert (again / "tokenizer.json").read_text() == (out / "tokenizer.json").read_text()
    a, b = load_file(out / "model.safetensors"), load_file(again / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_signs_build_states_its_corpus_in_the_card(built):
    out, record = built
    assert record["config"]["corpus"] == "signs" and tiny_base.BaseBuildConfig().corpus == "signs"  # the shipped one
    assert record["corpus"]["measured"]["guesses_per_search"] > 1 and record["corpus"]["measured"]["mixing"] > 0
    card = (out / "README.md").read_text()
    assert "--corpus signs" in card and "Task: signs" in card and "mix in Chinese" in card


@pytest.mark.parametrize("corpus, question", [("signs", "Make"), ("chain", "Compute")])
def test_cli_builds_either_corpus_and_measures_it_on_its_task(tmp_path, corpus, question):
    parser = argparse.ArgumentParser()
    base_stage.add_arguments(parser)
    args = parser.parse_args(["build", "--seed", "3", "--out", str(tmp_path), "--steps", "2", "--corpus", corpus,
                              "--corpus-size", "100", "--eval-problems", "2", "--threads", "1"])
    assert args.run(args) == 0
    info = json.loads((tmp_path / "build_info.json").read_text())
    assert info["config"]["seed"] == 3 and info["corpus"]["documents"] == 100
    assert info["config"]["corpus"] == corpus and (tmp_path / "model.safetensors").is_file()
    assert info["eval"]["samples"] == 2 * 8 and set(info["eval"]["difficulty"]) <= {"1", "2", "3", "4", "5"}
    source = tiny_base.CORPORA[corpus]
    assert source.TASK().problems("test", 1, seed=0)[0].question.startswith(question)
    assert set(info["corpus"]["measured"]) == set(source.corpus_stats(source.make_corpus(50, seed=0)))
    with pytest.raises(SystemExit):
        parser.parse_args(["build", "--corpus", "essays"])


def test_both_corpora_state_their_task_in_the_card():
    for name, source in tiny_base.CORPORA.items():
        docs = source.make_corpus(400, seed=0)
        lines = source.card_lines(source.corpus_settings(), source.corpus_stats(docs))
        assert any(f"Task: {'demo' if name == 'chain' else 'signs'}" in line for line in lines)
        assert chain_corpus.rate([d.style == "drill" for d in docs]) > 0.2


def test_eval_style_classifier():
    assert tiny_base.response_style(" <think> 1 + 2 = 3 . </think> <answer> 3 </answer>") == "steps"
    assert tiny_base.response_style(" <think> the answer is 3 . </think> <answer> 3 </answer>") == "direct"
    assert tiny_base.response_style(" <think> 1 + 2 = 3 . wait , let me check . 3 - 2 = 1 . </think> "
                                    "<answer> 3 </answer>") == "check"
    assert tiny_base.response_style(" <think> 1 + 2 = 3 . 等等 , 让我检查 . 3 - 2 = 1 . 没错 . </think> "
                                    "<answer> 3 </answer>") == "check"
    assert tiny_base.response_style(" <answer> 3 </answer>") == "malformed"


@pytest.mark.skipif(not (TINY_BASE_DIR / "model.safetensors").is_file(), reason="tiny-base not built")
def test_shipped_model_is_complete():
    from r1lab.models.loading import load_model

    model, tok = load_model("tiny-base")
    assert 1e6 < sum(p.numel() for p in model.parameters()) < 10e6
    assert tok.pad_token_id != tok.eos_token_id and choose_template("auto", tok) == "r1_zero"
    size = sum(f.stat().st_size for f in TINY_BASE_DIR.iterdir())
    assert size < 20e6
    assert "How it was made" in (TINY_BASE_DIR / "README.md").read_text()


@pytest.mark.skipif(not (TINY_BASE_DIR / "build_info.json").is_file(), reason="tiny-base not built")
def test_build_defaults_rebuild_the_shipped_model():
    """`r1lab base build --seed 0` (the defaults) is the recipe of the shipped tiny-base, and the demo's task is
    the one its corpus was written for."""
    shipped = json.loads((TINY_BASE_DIR / "build_info.json").read_text())
    assert shipped["config"] == tiny_base.BaseBuildConfig().model_dump()
    assert tiny_base.CORPORA[shipped["config"]["corpus"]].TASK.name == DEFAULT_TASK
