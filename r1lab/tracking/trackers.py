"""The experiment trackers people already use, behind one small class: TensorBoard (the default, its
event files next to RUN/metrics.jsonl), Weights & Biases and MLflow (each only when installed).

Nothing here needs a network: wandb runs offline unless WANDB_MODE says otherwise or an API key is set
(`wandb sync RUN/wandb/offline-run-*` uploads later), and MLflow writes a local store in the run
directory (RUN/mlflow.db, or RUN/mlruns without SQLAlchemy) unless MLFLOW_TRACKING_URI points elsewhere.
metrics.jsonl stays the record and trackers are views of it, so a tracker that fails to start is
reported and skipped, never the reason a run stops.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import sys
from pathlib import Path
from typing import Any


def scalars(row: dict[str, Any]) -> dict[str, float]:
    """The numbers of a metrics row, ready for any tracker: finite ints and floats as floats, an
    interval [lo, hi] as two scalars `<key>_lo`, `<key>_hi`; the step, None, NaN and text are left out."""
    out: dict[str, float] = {}
    for key, value in row.items():
        if key == "step" or isinstance(value, bool):
            continue
        if isinstance(value, (int, float)) and math.isfinite(value):
            out[key] = float(value)
        elif isinstance(value, (list, tuple)) and len(value) == 2 and all(
                isinstance(v, (int, float)) and math.isfinite(v) for v in value):
            out[f"{key}_lo"], out[f"{key}_hi"] = float(value[0]), float(value[1])
    return out


def mlflow_key(key: str) -> str:
    """MLflow accepts letters, digits, _ - . / and spaces in names: 'eval/pass@1' -> 'eval/pass_at_1'."""
    return re.sub(r"[^A-Za-z0-9_\-./ ]", "_", key.replace("@", "_at_"))


def flat_params(config: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(flat_params(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = str(value)
    return out


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def wandb_mode() -> str:
    """WANDB_MODE when set; otherwise online only with an API key, so a machine without a network (or
    without an account) never waits on one."""
    return os.environ.get("WANDB_MODE") or ("online" if os.environ.get("WANDB_API_KEY") else "offline")


def local_mlflow_uri(run_dir: Path) -> str:
    """A store inside the run directory: SQLite (RUN/mlflow.db, the local backend MLflow 3 wants; it
    needs SQLAlchemy, which full mlflow installs), else the older file store RUN/mlruns, which
    MLflow 3 accepts only with MLFLOW_ALLOW_FILE_STORE set."""
    if installed("sqlalchemy"):
        return f"sqlite:///{(Path(run_dir) / 'mlflow.db').resolve()}"
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return (Path(run_dir) / "mlruns").resolve().as_uri()


class Trackers:
    """Log each metrics row to every tracker in `report_to`; close() at the end of the run.
    `resume_step`: the checkpoint step a resumed run continues from (its rows after it are logged again)."""

    def __init__(self, run_dir: Path, report_to: list[str], config: dict[str, Any] | None = None,
                 resume_step: int | None = None):
        self.run_dir = Path(run_dir)
        self.config = config or {}
        self.tensorboard = self.wandb = self.mlflow = None
        self.active: list[str] = []
        for name in dict.fromkeys(report_to):  # in order, each once
            module = {"tensorboard": "tensorboard", "wandb": "wandb", "mlflow": "mlflow"}.get(name)
            if module is None:
                raise ValueError(f"report_to: unknown tracker {name!r} (use tensorboard, wandb or mlflow)")
            if not installed(module):
                _warn(f"report_to includes {name}, but {module} is not installed (pip install {module}); skipped")
                continue
            try:
                getattr(self, f"_open_{name}")(resume_step)
                self.active.append(name)
            except Exception as err:  # a tracker is a view of metrics.jsonl: never the reason a run stops
                _warn(f"could not start {name} ({type(err).__name__}: {err}); skipped")

    def _open_tensorboard(self, resume_step: int | None) -> None:
        import yaml
        from torch.utils.tensorboard import SummaryWriter

        # purge_step hides the events a resumed run is about to log again (those past its checkpoint).
        purge = resume_step + 1 if resume_step else None
        self.tensorboard = SummaryWriter(log_dir=str(self.run_dir), purge_step=purge)
        if self.config and not resume_step:
            text = yaml.safe_dump(self.config, sort_keys=False)
            self.tensorboard.add_text("config", "```\n" + text + "```", global_step=0)

    def _open_wandb(self, resume_step: int | None) -> None:
        import wandb

        self.wandb = wandb.init(project=os.environ.get("WANDB_PROJECT", "r1lab"), name=self.run_dir.name,
                                dir=str(self.run_dir), config=self.config, mode=wandb_mode())

    def _open_mlflow(self, resume_step: int | None) -> None:
        import mlflow

        if not os.environ.get("MLFLOW_TRACKING_URI"):
            mlflow.set_tracking_uri(local_mlflow_uri(self.run_dir))
        mlflow.set_experiment(os.environ.get("MLFLOW_EXPERIMENT_NAME", "r1lab"))
        self.mlflow = mlflow.start_run(run_name=self.run_dir.name)
        if self.config and not resume_step:
            mlflow.log_params(flat_params(self.config))

    def log(self, row: dict[str, Any]) -> None:
        step, values = int(row["step"]), scalars(row)
        if not values:
            return
        if self.tensorboard is not None:
            for key, value in values.items():
                self.tensorboard.add_scalar(key, value, global_step=step)
            self.tensorboard.flush()  # a step takes seconds; a crash then loses nothing
        if self.wandb is not None:
            self.wandb.log(values, step=step)
        if self.mlflow is not None:
            import mlflow

            mlflow.log_metrics({mlflow_key(k): v for k, v in values.items()}, step=step)

    def close(self) -> None:
        if self.tensorboard is not None:
            self.tensorboard.close()
        if self.wandb is not None:
            self.wandb.finish()
        if self.mlflow is not None:
            import mlflow

            mlflow.end_run()
        self.tensorboard = self.wandb = self.mlflow = None


def _warn(message: str) -> None:
    print(f"r1lab trackers: {message}", file=sys.stderr)
