"""Outputs where Hugging Face users look: a model card next to the weights, and transformers' own
per-call progress bars kept off r1lab's progress line."""

import yaml
from transformers import AutoModelForCausalLM
from transformers.utils import logging as hf_logging

from r1lab.models.card import eval_results, write_model_card
from r1lab.models.loading import load_model


def front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_model_card_names_base_data_recipe_and_results(tmp_path):
    out = tmp_path / "run" / "final_model"
    out.mkdir(parents=True)
    results = eval_results([("base model (step 0)", {"pass@1": 0.25, "pass@1_ci95": [0.1, 0.4],
                                                      "format_rate": 0.5, "response_length_mean": 30.0}),
                            ("this model (step 10)", {"pass@1": 0.75, "pass@1_ci95": [0.6, 0.9],
                                                       "format_rate": 1.0, "response_length_mean": 22.5})])
    path = write_model_card(out, stage="zero", base_model="HuggingFaceTB/SmolLM2-135M-Instruct", data="data/train.jsonl",
                            recipe={"steps": 10, "rewards": {"accuracy": 1.0}}, results=results, run_dir=out.parent)
    text = path.read_text()
    meta = front_matter(text)
    assert meta["base_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct" and "r1lab" in meta["tags"]
    assert "`data/train.jsonl`" in text and "| `steps` | `10` |" in text and "{accuracy: 1.0}" in text
    assert "| this model (step 10) | 0.750 [0.600, 0.900] | 1.000 | 22.5 |" in text
    # A local directory or a built-in name is no hub id: described, not put in the metadata.
    card = write_model_card(out, stage="sft", base_model="tiny-base", data=[], recipe={}, results=eval_results([]))
    assert "base_model" not in front_matter(card.read_text()) and "No held-out evaluation" in card.read_text()


def test_transformers_bars_are_silenced(tiny_qwen2, tmp_path, capfd):
    hf_logging.enable_progress_bar()
    AutoModelForCausalLM.from_pretrained(tiny_qwen2)
    assert "Loading weights" in capfd.readouterr().err  # what a run would print at every load
    model, _ = load_model(tiny_qwen2)
    model.save_pretrained(tmp_path / "saved")
    err = capfd.readouterr().err
    assert "Loading weights" not in err and "Writing model shards" not in err
