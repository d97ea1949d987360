"""The pipeline demo's synthetic non-reasoning data (r1lab.data.general): general prompts for RL,
preference pairs for the reward model and SFT examples, as a pipeline stage."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from r1lab.config import Strict
from r1lab.data.general import write_demo_data
from r1lab.tracking.run_log import RunLog


class DemoDataConfig(Strict):
    seed: int = Field(0, description="seed of the generated data")
    prompts: int = Field(64, ge=1, description="general prompts written to prompts.jsonl")
    pairs: int = Field(400, ge=2, description="preference pairs written to pairs.jsonl")
    sft: int = Field(64, ge=1, description="SFT examples written to sft.jsonl")


Config = DemoDataConfig


def run(cfg: DemoDataConfig, run_dir: Path, resume: bool = False, progress: bool = True) -> dict:
    paths = write_demo_data(run_dir, cfg.seed, cfg.prompts, cfg.pairs, cfg.sft)
    summary = {k: str(v) for k, v in paths.items()}
    RunLog(run_dir).write_summary(summary)
    return summary
