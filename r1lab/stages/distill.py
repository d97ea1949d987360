"""`r1lab distill --teacher T --student S`: the teacher samples verified traces, the student is
fine-tuned on them (DeepSeek-AI 2025, section 2.4: small dense models fine-tuned on R1's curated
samples, SFT only, no RL).

Two stages composed: `sample` with the teacher (RUN/traces/data.jsonl, rejection-sampled: verified
and readable) then `sft` of the student on those traces (RUN/student/final_model). Teacher and student may
have different tokenizers: the traces pass between them as text.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from r1lab.config import Strict, add_config_flags, load_config
from r1lab.errors import ConfigError
from r1lab.models.card import write_model_card
from r1lab.stages import sample, sft
from r1lab.stages.sample import SampleConfig
from r1lab.stages.sft import SFTConfig
from r1lab.tracking.run_log import RunLog


class DistillConfig(Strict):
    teacher: str = Field("", description="the model that samples traces (required)")
    student: str = Field("", description="the model fine-tuned on them (required)")
    sample: SampleConfig = Field(default_factory=SampleConfig, description="rejection sampling with the teacher "
                                 "(its model is the teacher)")
    sft: SFTConfig = Field(default_factory=SFTConfig, description="fine-tuning of the student (its model and data "
                           "are set by distill)")
    extra_data: list[str] = Field(default_factory=list, description="more SFT files mixed in (e.g. non-reasoning "
                                  "data)")


Config = DistillConfig


def run(cfg: DistillConfig, run_dir: Path, resume: bool = False, progress: bool = True) -> dict:
    if not cfg.teacher or not cfg.student:
        raise ConfigError("distill: 'teacher' and 'student' are both required")
    run_dir = Path(run_dir)
    sample_cfg = cfg.sample.model_copy(update={"model": cfg.teacher})
    traces = sample.run(sample_cfg, run_dir / "traces", progress=progress)
    if traces["examples"] == 0:
        raise ConfigError(f"distill: the teacher produced no verified traces ({traces['outcomes']})")
    sft_cfg = cfg.sft.model_copy(update={"model": cfg.student, "data": [traces["data"], *cfg.extra_data]})
    tuned = sft.run(sft_cfg, run_dir / "student", progress=progress)
    summary = {"traces": traces, "sft": tuned, "final_model": tuned["final_model"]}
    RunLog(run_dir).write_summary(summary)
    write_model_card(tuned["final_model"], stage="distill", base_model=cfg.student, data=sft_cfg.data, run_dir=run_dir,
                     recipe={"algorithm": "distillation: SFT on the teacher's verified traces (no RL)",
                             "teacher": cfg.teacher, "traces kept": traces["examples"],
                             "samples per problem": cfg.sample.n, "epochs": cfg.sft.epochs,
                             "learning_rate": cfg.sft.learning_rate},
                     results=f"No held-out evaluation (student loss {tuned['loss_first']:.3f} -> "
                             f"{tuned['loss_last']:.3f}); run `r1lab eval` on it.")
    return summary


def add_arguments(p) -> None:
    """The flags of `r1lab distill` (the CLI made the parser)."""
    p.add_argument("--teacher", help="teacher model dir or id")
    p.add_argument("--student", help="student model dir or id")
    p.add_argument("--out", required=True, help="run directory; the student goes to OUT/student/final_model")
    add_config_flags(p, "YAML config file (keys: teacher, student, sample.*, sft.*)")
    p.set_defaults(run=_run)


def _run(args) -> int:
    cfg = load_config(DistillConfig, args.config, args.overrides, teacher=args.teacher, student=args.student)
    s = run(cfg, Path(args.out))
    print(f"done: {s['traces']['examples']} traces, student loss {s['sft']['loss_first']:.3f} -> "
          f"{s['sft']['loss_last']:.3f}; student in {s['final_model']}")
    return 0
