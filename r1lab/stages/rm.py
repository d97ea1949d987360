"""`r1lab rm`: a reward model from preference pairs (Bradley-Terry).

Reads top to bottom: pairs (prompt, chosen, rejected) -> a held-out split -> an HF model with a
one-output sequence-classification head (a causal LM directory gets a fresh head) -> the
Bradley-Terry loss -log sigmoid(r_chosen - r_rejected), mean over pairs (Ouyang et al. 2022,
section 3.5) -> pair accuracy on the held-out split -> RUN/model (HF format) with a calibration file
(mean and std of the scores of the training responses) that r1lab.rewards.reward_model uses to put
the reward on the rule rewards' scale.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field

from r1lab.config import Strict, add_config_flags, dump_yaml, load_config
from r1lab.data.io import read_pairs
from r1lab.errors import ConfigError
from r1lab.models.card import write_model_card
from r1lab.models.loading import quiet_transformers_bars
from r1lab.models.templates import choose_template
from r1lab.rewards.reward_model import CALIBRATION, load_reward_model, reward_input, score_batch
from r1lab.tracking.run_log import RunLog


class RMConfig(Strict):
    model: str = Field("tiny-base", description="HF model directory or hub id (a causal LM gets a fresh score "
                       "head), or tiny-base")
    pairs: str = Field("", description='jsonl of {"prompt", "chosen", "rejected"} (required)')
    template: Literal["auto", "r1_zero", "chat"] = Field("auto", description="how prompt and response are "
                                                         "framed; auto: chat when the model has a template")
    epochs: int = Field(2, ge=1, description="passes over the training pairs")
    batch_size: int = Field(16, ge=1, description="pairs per optimizer step")
    learning_rate: float = Field(5e-5, gt=0, description="AdamW learning rate")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay")
    max_length: int = Field(256, ge=8, description="tokens kept per scored text (the last ones)")
    eval_fraction: float = Field(0.1, ge=0, lt=1, description="share of pairs held out for pair accuracy")
    seed: int = Field(0, description="seed of the split, the order and the head's initialisation")
    threads: int = Field(0, ge=0, description="torch intra-op threads; 0 = torch's default")


def pair_scores(model, tokenizer, batch) -> tuple[torch.Tensor, torch.Tensor]:
    """(r_chosen [B], r_rejected [B]) in one forward pass."""
    scores = score_batch(model, tokenizer, [s for c, r in batch for s in (c, r)])
    return scores[0::2], scores[1::2]


def bradley_terry_loss(chosen: torch.Tensor, rejected: torch.Tensor) -> torch.Tensor:
    """-log sigmoid(r_c - r_r), mean over pairs."""
    return -F.logsigmoid(chosen - rejected).mean()


@torch.no_grad()
def pair_accuracy(model, tokenizer, pairs, batch_size: int) -> float:
    model.eval()
    wins = 0
    for s in range(0, len(pairs), batch_size):
        c, r = pair_scores(model, tokenizer, pairs[s:s + batch_size])
        wins += int((c > r).sum())
    model.train()
    return wins / max(1, len(pairs))


Config = RMConfig


def run(cfg: RMConfig, run_dir: Path, resume: bool = False, progress: bool = True) -> dict:
    if not cfg.pairs:
        raise ConfigError("rm: config key 'pairs' is required (a jsonl of prompt/chosen/rejected)")
    run_dir = Path(run_dir)
    log = RunLog(run_dir)
    dump_yaml(cfg, run_dir / "config.yaml")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    t0 = time.perf_counter()
    quiet_transformers_bars()
    model, tokenizer = load_reward_model(cfg.model)
    template = choose_template(cfg.template, tokenizer)
    encoded = [(reward_input(tokenizer, template, p.prompt, p.chosen)[-cfg.max_length:],
                reward_input(tokenizer, template, p.prompt, p.rejected)[-cfg.max_length:]) for p in read_pairs(cfg.pairs)]
    random.Random(f"{cfg.seed}-rm-split").shuffle(encoded)
    n_eval = int(len(encoded) * cfg.eval_fraction)
    held, train = encoded[:n_eval], encoded[n_eval:]
    if not train:
        raise ConfigError(f"rm: no training pairs in {cfg.pairs}")
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    acc_before = pair_accuracy(model, tokenizer, held, cfg.batch_size) if held else None
    step = 0
    for epoch in range(cfg.epochs):
        order = list(range(len(train)))
        random.Random(f"{cfg.seed}-rm-{epoch}").shuffle(order)
        for s in range(0, len(order), cfg.batch_size):
            chosen, rejected = pair_scores(model, tokenizer, [train[i] for i in order[s:s + cfg.batch_size]])
            loss = bradley_terry_loss(chosen, rejected)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            step += 1
            log.log_metrics({"step": step, "epoch": epoch + 1, "loss": loss.item(),
                             "train_pair_accuracy": float((chosen > rejected).float().mean())})
        if progress:
            print(f"rm: epoch {epoch + 1}/{cfg.epochs}, last loss {loss.item():.3f}", flush=True)
    acc_after = pair_accuracy(model, tokenizer, held, cfg.batch_size) if held else None
    model.eval()
    with torch.no_grad():
        raw = torch.cat([score_batch(model, tokenizer, [x for pair in train[s:s + 32] for x in pair])
                         for s in range(0, len(train), 32)])
    out = run_dir / "final_model"
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    calibration = {"mean": float(raw.mean()), "std": float(raw.std()) if len(raw) > 1 else 1.0}
    (out / CALIBRATION).write_text(json.dumps(calibration) + "\n")
    summary = {"pairs_train": len(train), "pairs_eval": len(held), "steps": step,
               "eval_pair_accuracy_before": acc_before, "eval_pair_accuracy": acc_after,
               "calibration": calibration, "wall_s": time.perf_counter() - t0, "final_model": str(out)}
    log.write_summary(summary)
    accuracy = ("No pairs were held out (eval_fraction 0)." if acc_after is None else
                f"Held-out pair accuracy (chosen scored above rejected): {acc_before:.3f} before training, "
                f"{acc_after:.3f} after, on {len(held)} pairs.")
    write_model_card(out, stage="rm", base_model=cfg.model, data=cfg.pairs, run_dir=run_dir, results=accuracy,
                     recipe={"algorithm": "reward model, Bradley-Terry loss on preference pairs",
                             "epochs": cfg.epochs, "batch_size (pairs)": cfg.batch_size,
                             "learning_rate": cfg.learning_rate, "template": template,
                             "calibration (mean, std)": f"{calibration['mean']:.4f}, {calibration['std']:.4f}"})
    return summary


def add_arguments(p) -> None:
    """The flags of `r1lab rm` (the CLI made the parser)."""
    p.add_argument("--model", help="HF model dir or hub id (a causal LM gets a fresh score head), or tiny-base")
    p.add_argument("--pairs", help="jsonl of {prompt, chosen, rejected}")
    p.add_argument("--out", required=True, help="run directory; the reward model goes to OUT/final_model")
    p.add_argument("--epochs", type=int)
    add_config_flags(p)
    p.set_defaults(run=_run)


def _run(args) -> int:
    cfg = load_config(RMConfig, args.config, args.overrides, model=args.model, pairs=args.pairs, epochs=args.epochs)
    s = run(cfg, Path(args.out))
    print(f"done: {s['steps']} steps; held-out pair accuracy {s['eval_pair_accuracy_before']} -> "
          f"{s['eval_pair_accuracy']}; reward model in {s['final_model']}")
    return 0
