"""Where a step's scored rollout comes from: this process, or rollout workers on Ray.

A RolloutSource hands the loop the scored rollout for step t (`collect`), takes the policy's new
weights after each update (`push_weights`, phase 6) and reports per-step numbers (`stats`). Both
implementations call r1lab.grpo.rollout.make_rollout, so they are one algorithm.
"""

from __future__ import annotations

from typing import Protocol

import torch

from r1lab.distributed.rollout import RayRolloutSource
from r1lab.grpo.rollout import make_rollout, step_problems
from r1lab.grpo.setup import Setup
from r1lab.types import Rollout


class RolloutSource(Protocol):
    """Where a step's scored rollout comes from: this process or rollout workers."""

    def collect(self, step: int) -> Rollout:
        """The scored rollout for `step` (its prompts are step_problems(cfg, train_problems, step))."""
        ...

    def push_weights(self, model: torch.nn.Module, version: int) -> None:
        """The policy after `version` updates; later rollouts use it."""
        ...

    def stats(self) -> dict[str, float]:
        """Numbers about the last collect, logged with the step's metrics."""
        ...

    def shutdown(self) -> None: ...


class LocalRolloutSource:
    """Rollouts in this process. A generator that shares the trainer's model object needs nothing
    after an update; one that holds its own weights (vLLM) is given them."""

    def __init__(self, setup: Setup, version: int):
        self.s, self.version = setup, version

    def collect(self, step: int) -> Rollout:
        s = self.s
        problems = step_problems(s.cfg, s.train_problems, step)
        return make_rollout(s.generator, s.tokenizer, s.template, s.task, problems, s.cfg, step, self.version)

    def push_weights(self, model, version: int) -> None:
        if not self.s.generator.shares_model:
            self.s.generator.load_weights(model.state_dict())
        self.version = version

    def stats(self) -> dict[str, float]:
        return {}

    def shutdown(self) -> None:
        pass


def rollout_source(s: Setup, version: int) -> RolloutSource:
    """This process, or Ray rollout workers, as cfg.distributed asks. `version` is the number of
    updates the setup's weights have had."""
    if s.cfg.distributed.backend == "local":
        return LocalRolloutSource(s, version)
    return RayRolloutSource(s, version)
