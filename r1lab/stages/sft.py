"""Supervised fine-tuning: the loss is on assistant tokens only.

Reads top to bottom: examples (chat or prompt/completion jsonl) -> token ids with labels (-100 on
everything but assistant turns, whose EOS is labelled so the model learns to stop) -> batches
(length buckets, packed blocks, or plain shuffled) -> AdamW with warm-up and linear decay -> an HF
model directory in RUN/model (LoRA adapters, when used, are merged into it).

Rendering. A model with a chat template gets it (the labelled span of an assistant turn is what the
template adds for that turn after the generation prompt). A base model gets the r1_zero frame that
generation uses ("... User: {question}\\nAssistant:"), the assistant content after one space, then
EOS; that is exactly what `sample` and the RL stages prompt with, so SFT data from them trains the
model on its own prompt format.

Packing is the naive kind: examples are concatenated into blocks of max_length and attention may
cross example boundaries (no per-example masks on CPU); bucketing (the default) has no such leak.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path
from typing import Literal

import torch
from pydantic import Field, field_validator
from tqdm import tqdm

from r1lab.config import LoraSection, Strict, add_config_flags, dump_yaml, load_config
from r1lab.data.io import SFTExample, read_sft
from r1lab.errors import ConfigError
from r1lab.models.card import write_model_card
from r1lab.models.loading import load_model
from r1lab.models.lora import apply_lora
from r1lab.models.templates import R1_ZERO_TEMPLATE, choose_template
from r1lab.tracking.run_log import RunLog

IGNORE = -100


class SFTConfig(Strict):
    model: str = Field("tiny-base", description="HF model directory or hub id, or tiny-base / smollm2-135m")
    data: list[str] = Field(default_factory=list, description="one or more SFT jsonl files (chat messages or "
                            "prompt/completion; required)")
    template: Literal["auto", "r1_zero", "chat"] = Field("auto", description="auto: the model's chat template if "
                                                         "it has one, else the r1_zero frame")
    dtype: Literal["float32", "bfloat16"] = Field("float32", description="dtype the model is loaded in")
    epochs: int = Field(2, ge=1, description="passes over the data")
    batch_size: int = Field(16, ge=1, description="sequences (or packed blocks) per optimizer step")
    batching: Literal["bucket", "pack", "shuffle"] = Field("bucket", description="bucket: similar lengths "
                                                           "together; pack: blocks of max_length; shuffle: plain")
    max_length: int = Field(512, ge=8, description="longer examples are dropped (and counted); pack: the block "
                            "size")
    learning_rate: float = Field(1e-4, gt=0, description="AdamW learning rate (peak, after warm-up)")
    warmup_steps: int = Field(5, ge=0, description="linear warm-up steps, then linear decay to 0")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay")
    max_grad_norm: float = Field(1.0, gt=0, description="gradient clipping norm")
    lora: LoraSection = Field(default_factory=LoraSection, description="LoRA adapters instead of full "
                              "fine-tuning (merged at save)")
    seed: int = Field(0, description="seed of the order and initialisation")
    threads: int = Field(0, ge=0, description="torch intra-op threads; 0 = torch's default")

    @field_validator("data", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        return [v] if isinstance(v, str) else v


# ------------------------------------------------------------------------------------------ render
def _frame_pieces(messages: list[dict]) -> list[tuple[str, bool]]:
    """(text, trained) pieces of an example in the r1_zero frame; the EOS is added by the caller."""
    pieces, asked = [], False
    for m in messages:
        if m["role"] == "system":
            pieces.append((m["content"] + "\n", False))
        elif m["role"] == "user":
            text = R1_ZERO_TEMPLATE.format(question=m["content"]) if not asked else f"\nUser: {m['content']}\nAssistant:"
            pieces.append((text, False))
            asked = True
        else:
            pieces.append((" " + m["content"].strip(), True))
    return pieces


def encode_example(ex: SFTExample, tokenizer, template: str) -> tuple[list[int], list[int]]:
    """input ids and labels (IGNORE outside assistant turns)."""
    ids: list[int] = []
    labels: list[int] = []
    if template == "r1_zero":
        for text, trained in _frame_pieces(ex.messages):
            piece = tokenizer(text, add_special_tokens=False)["input_ids"]
            if trained:
                piece = piece + [tokenizer.eos_token_id]
            ids += piece
            labels += piece if trained else [IGNORE] * len(piece)
        return ids, labels
    for i, m in enumerate(ex.messages):
        full = tokenizer.apply_chat_template(ex.messages[:i + 1], tokenize=True, add_generation_prompt=False)
        full = list(full["input_ids"] if isinstance(full, dict) else full)
        if m["role"] == "assistant":
            head = tokenizer.apply_chat_template(ex.messages[:i], tokenize=True, add_generation_prompt=True)
            head = list(head["input_ids"] if isinstance(head, dict) else head)
            start = len(head) if full[:len(head)] == head else len(ids)
        else:
            start = len(full)
        if full[:len(ids)] != ids:
            raise ValueError("the chat template does not render conversations prefix by prefix")
        labels += [IGNORE] * (start - len(ids)) + full[start:]
        ids = full
    return ids, labels


# ----------------------------------------------------------------------------------------- batches
def make_batches(seqs: list[tuple[list[int], list[int]]], cfg: SFTConfig, epoch: int) -> list[list[tuple]]:
    rng = random.Random(f"{cfg.seed}-sft-{epoch}")
    order = list(range(len(seqs)))
    rng.shuffle(order)
    if cfg.batching == "pack":
        ids = [t for i in order for t in seqs[i][0]]
        labels = [t for i in order for t in seqs[i][1]]
        blocks = [(ids[s:s + cfg.max_length], labels[s:s + cfg.max_length])
                  for s in range(0, len(ids), cfg.max_length)]
        return [blocks[s:s + cfg.batch_size] for s in range(0, len(blocks), cfg.batch_size)]
    if cfg.batching == "bucket":  # sort within windows of 8 batches: little padding, still shuffled
        window = 8 * cfg.batch_size
        order = [i for s in range(0, len(order), window)
                 for i in sorted(order[s:s + window], key=lambda i: len(seqs[i][0]))]
    batches = [[seqs[i] for i in order[s:s + cfg.batch_size]] for s in range(0, len(order), cfg.batch_size)]
    rng.shuffle(batches)
    return batches


def collate(batch: list[tuple[list[int], list[int]]], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(ids) for ids, _ in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    for row, (ids, lab) in enumerate(batch):
        input_ids[row, :len(ids)] = torch.tensor(ids)
        labels[row, :len(lab)] = torch.tensor(lab)
        attention[row, :len(ids)] = 1
    return {"input_ids": input_ids, "attention_mask": attention, "labels": labels}


# ------------------------------------------------------------------------------------------- train
Config = SFTConfig


def run(cfg: SFTConfig, run_dir: Path, resume: bool = False, progress: bool = True) -> dict:
    if not cfg.data:
        raise ConfigError("sft: config key 'data' is required (one or more SFT jsonl files)")
    run_dir = Path(run_dir)
    log = RunLog(run_dir)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    dump_yaml(cfg, run_dir / "config.yaml")
    examples = read_sft(cfg.data)
    model, tokenizer = load_model(cfg.model, cfg.dtype)
    template = choose_template(cfg.template, tokenizer)
    encoded = [encode_example(ex, tokenizer, template) for ex in examples]
    # Packed blocks may split an example; otherwise an example longer than max_length is dropped.
    limit = float("inf") if cfg.batching == "pack" else cfg.max_length
    seqs = [s for s in encoded if len(s[0]) <= limit and any(t != IGNORE for t in s[1])]
    if not seqs:
        raise ConfigError(f"sft: no usable examples in {cfg.data} (all longer than max_length {cfg.max_length}?)")
    if cfg.lora.enabled:
        model = apply_lora(model, cfg.lora)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    steps_per_epoch = len(make_batches(seqs, cfg, 0))
    total = steps_per_epoch * cfg.epochs
    warmup = cfg.warmup_steps
    if warmup >= total:  # the learning rate would never reach its value
        warmup = total // 10
        print(f"r1lab sft: warning: warmup_steps ({cfg.warmup_steps}) >= the {total} optimizer steps of this run "
              f"({len(seqs)} examples, batch_size {cfg.batch_size}, {cfg.epochs} epochs); warming up over "
              f"{warmup} steps instead", file=sys.stderr, flush=True)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(
        (s + 1) / max(1, warmup), max(0.0, (total - s) / max(1, total - warmup))))

    step, t0, losses = 0, time.perf_counter(), []
    bar = tqdm(total=total, desc="sft", disable=not progress, dynamic_ncols=True)
    for epoch in range(cfg.epochs):
        for batch in make_batches(seqs, cfg, epoch):
            inputs = collate(batch, tokenizer.pad_token_id)
            # HF's causal-LM loss: mean over labelled (assistant) tokens of the batch, shifted by one.
            loss = model(**inputs).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
            optimizer.step()
            schedule.step()
            step += 1
            losses.append(loss.item())
            log.log_metrics({"step": step, "epoch": epoch + 1, "loss": loss.item(), "grad_norm": float(grad_norm),
                             "lr": schedule.get_last_lr()[0],
                             "trained_tokens": int((inputs["labels"] != IGNORE).sum())})
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    if cfg.lora.enabled:
        model = model.merge_and_unload()  # a plain HF checkpoint, loadable without peft
    out = run_dir / "final_model"
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    summary = {"examples": len(examples), "used": len(seqs), "dropped_too_long": len(encoded) - len(seqs),
               "steps": step, "loss_first": losses[0], "loss_last": sum(losses[-5:]) / len(losses[-5:]),
               "wall_s": time.perf_counter() - t0, "final_model": str(out), "template": template}
    log.write_summary(summary)
    recipe = {"algorithm": "supervised fine-tuning, loss on assistant tokens", "epochs": cfg.epochs,
              "optimizer steps": step, "batch_size": cfg.batch_size, "batching": cfg.batching,
              "learning_rate": cfg.learning_rate, "template": template}
    if cfg.lora.enabled:
        recipe["LoRA (merged)"] = f"r {cfg.lora.r}, alpha {cfg.lora.alpha}, on {', '.join(cfg.lora.target_modules)}"
    write_model_card(out, stage="sft", base_model=cfg.model, data=cfg.data, recipe=recipe, run_dir=run_dir,
                     results=f"No held-out evaluation (training loss {summary['loss_first']:.3f} -> "
                             f"{summary['loss_last']:.3f} over {len(seqs)} examples); run `r1lab eval` on it.")
    return summary


def add_arguments(p) -> None:
    """The flags of `r1lab sft` (the CLI made the parser)."""
    p.add_argument("--model", help="HF model dir or hub id, or tiny-base")
    p.add_argument("--data", action="append", help="SFT jsonl file (repeatable)")
    p.add_argument("--out", required=True, help="run directory; the model goes to OUT/final_model")
    p.add_argument("--epochs", type=int)
    p.add_argument("--lora", action="store_true", default=None, help="train LoRA adapters (merged at save)")
    add_config_flags(p)
    p.set_defaults(run=_run)


def _run(args) -> int:
    cfg = load_config(SFTConfig, args.config, args.overrides, model=args.model, data=args.data, epochs=args.epochs)
    if args.lora:
        cfg.lora.enabled = True
    s = run(cfg, Path(args.out))
    print(f"done: {s['used']} examples, {s['steps']} steps, loss {s['loss_first']:.3f} -> {s['loss_last']:.3f}; "
          f"model in {s['final_model']}")
    return 0

