"""SFT on a tiny random model: labels cover assistant tokens and their EOS only, the loss falls on a
small repeated set, the saved directory is a loadable HF model; LoRA and packing paths run."""

import json
import re
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

from r1lab.data.io import SFTExample, read_sft
from r1lab.errors import ConfigError, DataError, UserError
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


def test_a_warm_up_longer_than_the_run_is_warned_about_and_cut(tiny_qwen2, data, tmp_path, capsys):
    # Issue 13 item 15: 8 examples, batch 2, 1 epoch = 4 optimizer steps. A warm-up of 5 would never
    # let the learning rate reach its value; it is cut to 4 // 10 = 0 steps and said so. The logged lr
    # is the one for the next step: warm-up w, then linear decay, lr * min((s+1)/w, (4-s)/(4-w)).
    def logged_lrs(warmup_steps, name):
        cfg = SFTConfig(model=tiny_qwen2, data=str(data), epochs=1, batch_size=2, batching="shuffle",
                        learning_rate=1e-3, warmup_steps=warmup_steps)
        run_sft(cfg, tmp_path / name, progress=False)
        rows = [json.loads(line) for line in (tmp_path / name / "metrics.jsonl").read_text().splitlines()]
        return [row["lr"] for row in rows], capsys.readouterr().err

    lrs, err = logged_lrs(5, "long")
    assert "warning: warmup_steps (5) >= the 4 optimizer steps of this run" in err
    assert "warming up over 0 steps instead" in err
    assert lrs == pytest.approx([1e-3 * 3 / 4, 1e-3 * 2 / 4, 1e-3 * 1 / 4, 0.0])
    lrs, err = logged_lrs(2, "short")  # a warm-up that fits is kept, with no word
    assert "warmup_steps" not in err
    assert lrs == pytest.approx([1e-3, 1e-3, 1e-3 / 2, 0.0])


@pytest.mark.skipif(not Path("/dev/full").is_char_device(), reason="needs Linux's /dev/full")
def test_a_full_disk_while_saving_the_model_is_one_line_naming_it(tiny_qwen2, data, tmp_path):
    # Every write to /dev/full fails with ENOSPC: linked from final_model/config.json, the disk fills
    # as the model is saved.
    (tmp_path / "run" / "final_model").mkdir(parents=True)
    (tmp_path / "run" / "final_model" / "config.json").symlink_to("/dev/full")
    cfg = SFTConfig(model=tiny_qwen2, data=str(data), epochs=1, batch_size=4)
    with pytest.raises(UserError, match=re.escape(f"no space left on the device while writing "
                                                  f"{tmp_path / 'run' / 'final_model'}; free some space")):
        run_sft(cfg, tmp_path / "run", progress=False)
