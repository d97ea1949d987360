"""Prompt templates.

`r1_zero`: a plain-text conversation frame for base models, in the spirit of DeepSeek-R1-Zero's
template (DeepSeek-AI 2025, Table 1): the assistant reasons inside <think> tags and answers inside
<answer> tags. The wording is ours. The frame ends at "Assistant:" and does not pre-fill "<think>",
so the format reward sees the model open its own reasoning block.

`chat`: the model's own chat template, the question followed by the task's instruction (for math,
R1's protocol: put the final answer in \\boxed{}).
"""

from __future__ import annotations

from typing import Literal

TemplateName = Literal["r1_zero", "chat"]

R1_ZERO_TEMPLATE = (
    "The user gives a problem and the assistant solves it. The assistant first reasons inside "
    "<think> </think> and then gives only the final answer inside <answer> </answer>.\n"
    "User: {question}\n"
    "Assistant:"
)

# Generation stops right after the answer block under the r1_zero frame; anything after it would
# fail the strict format reward anyway.
R1_ZERO_STOP = ["</answer>"]


def choose_template(requested: str, tokenizer) -> TemplateName:
    """'auto' means: the model's chat template if it has one (instruct models), else r1_zero (base)."""
    if requested != "auto":
        return requested  # type: ignore[return-value]
    return "chat" if getattr(tokenizer, "chat_template", None) else "r1_zero"


def render_prompt(template: TemplateName, question: str, tokenizer, chat_instruction: str = "") -> str:
    if template == "r1_zero":
        return R1_ZERO_TEMPLATE.format(question=question)
    content = f"{question}\n{chat_instruction}".strip() if chat_instruction else question
    return tokenizer.apply_chat_template(
        [{"role": "user", "content": content}], tokenize=False, add_generation_prompt=True
    )


def stop_strings(template: TemplateName) -> list[str]:
    return list(R1_ZERO_STOP) if template == "r1_zero" else []
