"""A neural reward for general (non-verifiable) prompts: any Hugging Face sequence-classification
model with one output, normalised so that it can be weighted next to the rule rewards.

DeepSeek-R1's final RL stage (DeepSeek-AI 2025, section 2.3.4) scores general data with reward models
of human preference and reasoning data with rules. Normalisation: "sigmoid" maps a raw score r to
sigmoid((r - mean) / std), in [0, 1] like the accuracy and format rewards; mean and std come from
the reward model's calibration file (written by `r1lab rm` over its training responses), or 0 and 1
for a model without one. "zscore" leaves out the sigmoid; "none" returns raw scores.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Literal

import torch
from transformers import AutoModelForSequenceClassification

from r1lab.models.loading import load_tokenizer, resolve_model
from r1lab.models.templates import R1_ZERO_TEMPLATE, choose_template

CALIBRATION = "r1lab_reward.json"
Normalize = Literal["sigmoid", "zscore", "none"]


def reward_input(tokenizer, template: str, prompt: str, response: str) -> list[int]:
    """Token ids the reward model reads: the conversation as the policy saw and wrote it, then EOS
    (the score is read at the last token)."""
    if template == "chat":
        text = tokenizer.apply_chat_template([{"role": "user", "content": prompt},
                                              {"role": "assistant", "content": response}], tokenize=False)
    else:
        text = R1_ZERO_TEMPLATE.format(question=prompt) + " " + response.strip()
    return tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]


def load_reward_model(name_or_path: str):
    path = resolve_model(name_or_path)
    tokenizer = load_tokenizer(name_or_path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1)
    model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def score_batch(model, tokenizer, sequences: list[list[int]], max_length: int = 512) -> torch.Tensor:
    """Raw scores [N] (with gradients when the model is in training mode); right padding."""
    sequences = [s[-max_length:] for s in sequences]
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), tokenizer.pad_token_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, s in enumerate(sequences):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    return model(input_ids=ids, attention_mask=mask).logits[:, 0]


class RewardModel:
    """score(prompts, responses) -> normalised rewards."""

    def __init__(self, name_or_path: str, normalize: Normalize = "sigmoid", batch_size: int = 32,
                 max_length: int = 512):
        self.model, self.tokenizer = load_reward_model(name_or_path)
        self.model.eval()
        self.template = choose_template("auto", self.tokenizer)
        self.normalize, self.batch_size, self.max_length = normalize, batch_size, max_length
        calib = Path(resolve_model(name_or_path)) / CALIBRATION
        stats = json.loads(calib.read_text()) if calib.is_file() else {"mean": 0.0, "std": 1.0}
        self.mean, self.std = float(stats["mean"]), max(float(stats["std"]), 1e-6)

    @torch.no_grad()
    def raw(self, prompts: list[str], responses: list[str]) -> list[float]:
        seqs = [reward_input(self.tokenizer, self.template, p, r) for p, r in zip(prompts, responses)]
        out: list[float] = []
        for s in range(0, len(seqs), self.batch_size):
            out += score_batch(self.model, self.tokenizer, seqs[s:s + self.batch_size], self.max_length).tolist()
        return out

    def score(self, prompts: list[str], responses: list[str]) -> list[float]:
        return [normalize_score(r, self.mean, self.std, self.normalize) for r in self.raw(prompts, responses)]


def normalize_score(raw: float, mean: float, std: float, how: Normalize) -> float:
    if how == "none":
        return raw
    z = (raw - mean) / std
    return z if how == "zscore" else 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))
