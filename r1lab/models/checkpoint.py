"""Checkpoints: the model in Hugging Face format plus what `--resume` needs (optimizer, scheduler, RNG
states, step), as CHECKPOINTS/checkpoint-N directories (as Hugging Face's Trainer names them) and one
pointer, CHECKPOINTS/latest, a symbolic link to the newest complete one.

What survives a crash at any moment:
- a checkpoint is written into a temporary directory, its files fsynced, then renamed into place:
  a checkpoint-N directory is always complete;
- `latest` is replaced by renaming a new link over it, which is atomic: it always names a complete
  checkpoint, the old one or the new one;
- if `latest` is missing or dangling anyway (a checkpoint directory deleted by hand), `find_latest`
  falls back to the highest complete checkpoint-N;
- old checkpoints are deleted only after `latest` names the new one, and at most `keep` are kept.
"""

from __future__ import annotations

import errno
import os
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from r1lab.errors import DataError, UserError

TRAINER_STATE = "trainer_state.pt"
CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")


def save_checkpoint(ckpt_root: Path, model, tokenizer, step: int, optimizer=None, scheduler=None,
                    keep: int | None = 2) -> Path:
    """Write checkpoint-`step`, point `latest` at it, keep the newest `keep` (None: all)."""
    ckpt_root = Path(ckpt_root)
    final = ckpt_root / f"checkpoint-{step}"
    tmp = ckpt_root / f".tmp-checkpoint-{step}"
    try:
        ckpt_root.mkdir(parents=True, exist_ok=True)
        if tmp.exists():
            shutil.rmtree(tmp)
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        state: dict[str, Any] = {
            "step": step,
            "rng": {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state()},
        }
        if optimizer is not None:
            state["optimizer"] = optimizer.state_dict()
        if scheduler is not None:
            state["scheduler"] = scheduler.state_dict()
        torch.save(state, tmp / TRAINER_STATE)
        _fsync_tree(tmp)
        if final.exists():  # a checkpoint of this step from an earlier, abandoned attempt
            shutil.rmtree(final)
        tmp.rename(final)
        _point_latest(ckpt_root, final.name)
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise UserError(f"no space left on the device while writing checkpoint {final}: free some space "
                            f"and rerun with --resume (the last complete checkpoint is kept)") from None
        raise
    _prune(ckpt_root, keep)
    return final


def find_latest(ckpt_root: Path) -> Path | None:
    """The checkpoint to resume from: what `latest` names, else the highest complete checkpoint-N."""
    ckpt_root = Path(ckpt_root)
    latest = ckpt_root / "latest"
    if latest.is_dir() and (latest / TRAINER_STATE).is_file():
        return latest.resolve()
    complete = [d for d in _checkpoints(ckpt_root) if (d / TRAINER_STATE).is_file()]
    return complete[-1] if complete else None


def load_trainer_state(ckpt_dir: Path) -> dict[str, Any]:
    path = Path(ckpt_dir) / TRAINER_STATE
    if not path.is_file():
        raise DataError(f"no resumable checkpoint at {ckpt_dir} (missing {TRAINER_STATE})")
    try:
        return torch.load(path, weights_only=False)
    except Exception as err:  # a truncated or overwritten file: torch raises several kinds
        raise DataError(f"checkpoint file {path} is corrupted ({type(err).__name__}: {err}); remove "
                        f"{Path(ckpt_dir).name} to resume from an earlier checkpoint") from None


def restore_rng(state: dict[str, Any]) -> None:
    rng = state["rng"]
    torch.set_rng_state(rng["torch"])
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])


def _checkpoints(ckpt_root: Path) -> list[Path]:
    """checkpoint-N directories, oldest first."""
    if not ckpt_root.is_dir():
        return []
    found = [(int(m.group(1)), d) for d in ckpt_root.iterdir() if (m := CHECKPOINT_RE.match(d.name)) and d.is_dir()]
    return [d for _, d in sorted(found)]


def _point_latest(ckpt_root: Path, target: str) -> None:
    link = ckpt_root / ".latest-new"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target, target_is_directory=True)
    if (ckpt_root / "latest").is_dir() and not (ckpt_root / "latest").is_symlink():
        shutil.rmtree(ckpt_root / "latest")  # a run from before step-numbered checkpoints
    os.replace(link, ckpt_root / "latest")
    _fsync_dir(ckpt_root)


def _prune(ckpt_root: Path, keep: int | None) -> None:
    if keep is None:
        return
    current = (ckpt_root / "latest").resolve()
    old = [d for d in _checkpoints(ckpt_root) if d.resolve() != current]
    for d in old[:max(0, len(old) - (keep - 1))]:
        shutil.rmtree(d, ignore_errors=True)


def _fsync_tree(directory: Path) -> None:
    for path in directory.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
