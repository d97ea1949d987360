"""Checkpoints: the model in Hugging Face format plus what `--resume` needs (optimizer, scheduler,
RNG states, step). Written to a temporary directory and swapped in, so a crash mid-save never leaves
a half-written `latest`."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from r1lab.errors import DataError

TRAINER_STATE = "trainer_state.pt"


def save_checkpoint(
    ckpt_root: Path, model, tokenizer, step: int, optimizer=None, scheduler=None, extra: dict | None = None
) -> Path:
    ckpt_root = Path(ckpt_root)
    ckpt_root.mkdir(parents=True, exist_ok=True)
    tmp = ckpt_root / f".tmp-{step}"
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    state: dict[str, Any] = {
        "step": step,
        "rng": {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state()},
        "extra": extra or {},
    }
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    torch.save(state, tmp / TRAINER_STATE)
    latest = ckpt_root / "latest"
    old = ckpt_root / ".old"
    if old.exists():
        shutil.rmtree(old)
    if latest.exists():
        latest.rename(old)
    tmp.rename(latest)
    if old.exists():
        shutil.rmtree(old)
    return latest


def load_trainer_state(ckpt_dir: Path) -> dict[str, Any]:
    path = Path(ckpt_dir) / TRAINER_STATE
    if not path.is_file():
        raise DataError(f"no resumable checkpoint at {ckpt_dir} (missing {TRAINER_STATE})")
    return torch.load(path, weights_only=False)


def restore_rng(state: dict[str, Any]) -> None:
    rng = state["rng"]
    torch.set_rng_state(rng["torch"])
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])
