"""SFT on a tiny random model: labels cover assistant tokens and their EOS only, the loss falls on a
small repeated set, the saved directory is a loadable HF model; LoRA and packing paths run."""

import json

import pytest
import torch
from transformers import AutoModelForCausalLM

from r1lab.data.io import SFTExample, read_sft
from r1lab.errors import ConfigError, DataError
from r1lab.models.loading import load_tokenizer
from r1lab.stages.sft import IGNORE, SFTConfig, encode_example
from r1lab.stages.sft import run as run_sft

ROWS = [
    {"messages": [{"role": "user", "content": "Compute 12 + 30 - 11 ."},
                  {"role": "assistant", "content": "<think> 12 + 30 = 42 . 42 - 11 = 31 . </think> <answer> 31 </answer>"}]},
    {"prompt": "Compute 50 - 20 + 13 .", "completion": "<think> 50 - 20 = 30 . 30 + 13 = 43 . </think> <answer> 43 </answer>"},
]


@pytest.fixture()
def data(tmp_path):
    path = tmp_path / "sft.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS * 4))
    return path


def test_labels_are_assistant_tokens_and_eos(tiny_qwen2):
    tok = load_tokenizer(tiny_qwen2)
    assert tok.pad_token_id != tok.eos_token_id
    ex = SFTExample([{"role": "user", "content": "Compute 1 + 2 ."}, {"role": "assistant", "content": "<answer> 3 </answer>"}])
    ids, labels = encode_example(ex, tok, "r1_zero")
    trained = [t for t in labels if t != IGNORE]
    assert trained[-1] == tok.eos_token_id and ids[-1] == tok.eos_token_id
    assert tok.decode(trained[:-1]) == " <answer> 3 </answer>"
    prompt_part = tok.decode([i for i, lab in zip(ids, labels) if lab == IGNORE])
    assert prompt_part.endswith("User: Compute 1 + 2 .\nAssistant:")


def test_sft_lowers_the_loss_and_saves_an_hf_model(tiny_qwen2, data, tmp_path):
    cfg = SFTConfig(model=tiny_qwen2, data=str(data), epochs=6, batch_size=4, learning_rate=3e-3, seed=1)
    summary = run_sft(cfg, tmp_path / "run", progress=False)
    assert summary["used"] == 8 and summary["steps"] == 12
    assert summary["loss_last"] < summary["loss_first"] - 0.5
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "run" / "final_model")
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_lora_and_packing_paths(tiny_qwen2, data, tmp_path):
    pytest.importorskip("peft", reason="LoRA needs the lora extra (pip install -e .[lora])")
    base = AutoModelForCausalLM.from_pretrained(tiny_qwen2)
    cfg = SFTConfig(model=tiny_qwen2, data=[str(data)], epochs=1, batch_size=2, batching="pack", max_length=64,
                    learning_rate=1e-2, lora={"enabled": True, "r": 4})
    run_sft(cfg, tmp_path / "lora", progress=False)
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "lora" / "final_model")
    assert not any("lora" in name for name in merged.state_dict())  # adapters merged into plain weights
    q = "model.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(merged.state_dict()[q], base.state_dict()[q])  # the merge moved q_proj
    mlp = "model.layers.0.mlp.up_proj.weight"
    assert torch.equal(merged.state_dict()[mlp], base.state_dict()[mlp])  # frozen outside the targets


def test_bad_rows_name_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n\n" + json.dumps({"messages": [{"role": "user", "content": "x"}]}) + "\n")
    with pytest.raises(DataError, match=r"bad.jsonl:3: no assistant message"):
        read_sft(path)
    path.write_text("{not json\n")
    with pytest.raises(DataError, match=r"bad.jsonl:1: not valid JSON"):
        read_sft(path)
    with pytest.raises(ConfigError, match="'data' is required"):
        run_sft(SFTConfig(), tmp_path / "x", progress=False)
