"""Every training stage leaves final_model/README.md, a model card Hugging Face tools read: SFT and the
reward model here (GRPO's is checked by test_coming_from_trl.py), each on a tiny model in seconds."""

import yaml

from r1lab.data.general import write_demo_data
from r1lab.stages.rm import RMConfig
from r1lab.stages.rm import run as run_rm
from r1lab.stages.sft import SFTConfig
from r1lab.stages.sft import run as run_sft


def card(final_model) -> tuple[dict, str]:
    text = (final_model / "README.md").read_text()
    return yaml.safe_load(text.split("---\n")[1]), text


def test_sft_and_rm_write_model_cards(tiny_r1, tmp_path, one_thread):
    paths = write_demo_data(tmp_path / "data", seed=0, prompts=4, pairs=16, sft=8)
    s = run_sft(SFTConfig(model=tiny_r1, data=[paths["sft"]], epochs=1, batch_size=4), tmp_path / "sft",
                progress=False)
    meta, text = card(tmp_path / "sft" / "final_model")
    assert meta["tags"] == ["r1lab", "sft"] and f"`{paths['sft']}`" in text and f"`{tiny_r1}`" in text
    assert f"{s['loss_first']:.3f} -> {s['loss_last']:.3f}" in text

    s = run_rm(RMConfig(model=tiny_r1, pairs=paths["pairs"], epochs=1, batch_size=8, eval_fraction=0.25),
               tmp_path / "rm", progress=False)
    meta, text = card(tmp_path / "rm" / "final_model")
    assert meta["tags"] == ["r1lab", "rm"] and f"{s['eval_pair_accuracy']:.3f} after, on 4 pairs" in text
