"""Records that pass between stages. Shapes are given in field comments: B prompts, G samples per
prompt, T completion tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

VerdictStatus = Literal["correct", "incorrect", "unverifiable"]
# How a prompt asks for the final answer: in <think>/<answer> tags, or in a \boxed{}.
AnswerFormat = Literal["tags", "boxed"]


@dataclass(frozen=True)
class Problem:
    """One task instance. `answer` is the gold answer in whatever form the task's verify() wants."""

    id: str
    question: str
    answer: Any
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """The verifier's judgement of one response.

    `status` is the verdict eval reports and the accuracy reward follows; `score` is the task's partial
    credit in [0, 1] (1.0 / 0.0 for exact tasks), rewarded only when a config weights it. `status` is tri-state: "unverifiable" means the checker could not decide (a
    timeout, an unparsable gold), which callers count separately from "incorrect".
    """

    status: VerdictStatus
    score: float
    extracted: str | None
    reason: str = ""

    @property
    def correct(self) -> bool:
        return self.status == "correct"


@dataclass
class Completion:
    """One sampled completion of one prompt."""

    prompt_index: int  # index into the step's prompt list
    token_ids: list[int]  # completion tokens only, EOS/stop token included when one was produced
    text: str  # decoded completion without special tokens (EOS), stop string included
    finish_reason: Literal["stop", "length"]
    logprobs: list[float] | None = None  # sampling logprobs per token, when the generator returns them
    policy_version: int = 0  # weights version that produced it (distributed rollouts tag it)


@dataclass
class Rollout:
    """A scored step's worth of completions, grouped: completions[i*G:(i+1)*G] answer prompts[i]."""

    problems: list[Problem]  # [B]
    prompt_ids: list[list[int]]  # [B][prompt length]
    completions: list[Completion]  # [B*G]
    rewards: list[float]  # [B*G] combined reward
    reward_components: dict[str, list[float | None]]  # name -> [B*G]; None: a custom reward not applicable
    verdicts: list[Verdict]  # [B*G]


def sample_record(problem: Problem, response: str, tokens: int, finish_reason: str, verdict: Verdict, *,
                  step: int | None = None, sample: int | None = None, reward: float | None = None,
                  components: dict[str, float] | None = None, aha: bool | None = None) -> dict[str, Any]:
    """One sampled response as a line of samples.jsonl, the same schema for training runs (`step`,
    `reward`, `components`, `aha`: whether a self-check caught and fixed a slip, r1lab.rewards.signals.is_aha)
    and evaluations (`sample`, the index among a problem's n). Every reader (the eval resume, the
    report) relies on these keys."""
    row: dict[str, Any] = {}
    if step is not None:
        row["step"] = step
    row |= {"problem_id": problem.id}
    if sample is not None:
        row["sample"] = sample
    row |= {
        "question": problem.question, "gold": str(problem.answer), "response": response, "tokens": tokens,
        "finish_reason": finish_reason, "extracted": verdict.extracted, "status": verdict.status,
        "correct": verdict.correct, "score": verdict.score, "reason": verdict.reason,
    }
    if reward is not None:
        row["reward"] = reward
    if components is not None:
        row["components"] = components
    if aha is not None:
        row["aha"] = aha
    return row


@dataclass(frozen=True)
class FormatRule:
    """The form a prompt asks the response to take, which the format reward and the format-valid rate
    check (r1lab.rewards.format_reward). `answer`: "tags" for R1-Zero's <think>/<answer> blocks,
    "boxed" for one \\boxed{} answer; `placeholders`: the filled boxes the prompt itself shows, whose
    copy is not an answer. r1lab.models.templates.format_rule makes one from a prompt template."""

    answer: AnswerFormat = "tags"
    placeholders: tuple[str, ...] = ()

    def __post_init__(self):
        if self.answer not in get_args(AnswerFormat):
            raise ValueError(f"unknown answer format {self.answer!r} (known: {', '.join(get_args(AnswerFormat))})")


TAGS_FORMAT = FormatRule("tags")  # R1-Zero's frame: the format rule when no template says otherwise
