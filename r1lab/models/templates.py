"""Prompt templates.

`r1_zero`: a plain-text conversation frame for base models, in the spirit of DeepSeek-R1-Zero's
template (DeepSeek-AI 2025, Table 1): the assistant reasons inside <think> tags and answers inside
<answer> tags. The wording is ours. The frame ends at "Assistant:" and does not pre-fill "<think>",
so the format reward sees the model open its own reasoning block.

`chat`: the model's own chat template, the question followed by the task's instruction (for math,
R1's protocol: put the final answer in \\boxed{}).

A `.jinja` file: the user's own template, rendered the way transformers renders a chat template
(`apply_chat_template(..., chat_template=file text)`), so a Hugging Face chat template file works
unchanged. It sees `messages` (the optional system message, then the user turn: question and
instruction), `add_generation_prompt` (true), the tokenizer's special tokens, and three plain
variables for templates that are not chats: `question`, `instruction` and `system_prompt`.

A system prompt is the system message under `chat` and `.jinja`; under `r1_zero`, which has no
roles, it replaces the frame's first line (the sentence that asks for the tags).

What the prompt asks the answer to look like decides the format rule (`format_rule`, which the format
reward r1lab.rewards.format_reward and the format-valid rate check) and the stop strings, through one
function, `answer_format`: R1-Zero's <think>/<answer> tags under the r1_zero frame, or when a template
file or the system prompt names the <answer> tag; otherwise a \\boxed{} answer, which is what the
tasks' chat instruction asks for. The rule also carries the filled boxes the prompt shows
(`placeholder_answers`), whose copy is not an answer.

A template that opens the reasoning block itself (DeepSeek-R1's distilled models' template ends the
prompt with "<think>\\n") leaves the model to write only "...</think><answer>...": the strict format
reward, which wants the response to open the block, then never fires (open-r1 hit this). The same
holds for a template that writes an empty block ("<think>\\n\\n</think>", a no-thinking mode). r1lab
warns when a prompt ends with either.

As in transformers' chat templates, Jinja drops the file's final newline; end with {{ "\\n" }} to keep one.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from r1lab.errors import ConfigError
from r1lab.types import AnswerFormat, FormatRule
from r1lab.verify.extract import boxed_answers, normalized_box

TemplateName = Literal["r1_zero", "chat"]

R1_ZERO_INSTRUCTION = (
    "The user gives a problem and the assistant solves it. The assistant first reasons inside "
    "<think> </think> and then gives only the final answer inside <answer> </answer>."
)
R1_ZERO_TEMPLATE = R1_ZERO_INSTRUCTION + "\nUser: {question}\nAssistant:"

# Generation stops right after the answer block under the r1_zero frame (and under a template file
# that asks for answer tags); anything after it would fail the strict format reward anyway.
R1_ZERO_STOP = ["</answer>"]


@dataclass(frozen=True)
class PromptFormat:
    """How a question becomes the prompt text: a template (r1_zero, chat, or a Jinja file's text) and
    an optional system prompt. Frozen and plain, so it ships to Ray rollout workers as is."""

    name: str  # "r1_zero", "chat", or the template file's path
    system_prompt: str = ""
    jinja: str = ""  # the template file's text (name is its path)

    def __str__(self) -> str:
        return self.name


def choose_template(requested: str, tokenizer) -> TemplateName:
    """'auto' means: the model's chat template if it has one (instruct models), else r1_zero (base)."""
    if requested != "auto":
        return requested  # type: ignore[return-value]
    return "chat" if getattr(tokenizer, "chat_template", None) else "r1_zero"


def prompt_format(requested: str, tokenizer, system_prompt: str = "") -> PromptFormat:
    """The prompt format a config asks for (template: auto | r1_zero | chat | path/to/file.jinja),
    with a warning when the template opens a <think> block in the prompt."""
    if requested.endswith((".jinja", ".j2")):
        path = Path(requested).expanduser()
        if not path.is_file():
            raise ConfigError(f"config key 'template': template file not found: {path}")
        fmt = PromptFormat(str(path), system_prompt, path.read_text(encoding="utf-8"))
    else:
        if requested == "chat" and not getattr(tokenizer, "chat_template", None):
            raise ConfigError("config key 'template': chat, but the tokenizer has no chat template; use r1_zero "
                              "or a .jinja file")
        fmt = PromptFormat(choose_template(requested, tokenizer), system_prompt)
    warning = think_prefill_warning(fmt, tokenizer)
    if warning:
        print(f"r1lab: warning: {warning}", file=sys.stderr, flush=True)
    return fmt


def render_prompt(template: str | PromptFormat, question: str, tokenizer, chat_instruction: str = "") -> str:
    """The prompt text of one question (`template` a PromptFormat, or a bare name: r1_zero or chat)."""
    fmt = template if isinstance(template, PromptFormat) else PromptFormat(template)
    if fmt.name == "r1_zero" and not fmt.jinja:
        if fmt.system_prompt:
            return f"{fmt.system_prompt}\nUser: {question}\nAssistant:"
        return R1_ZERO_TEMPLATE.format(question=question)
    content = f"{question}\n{chat_instruction}".strip() if chat_instruction else question
    messages = ([{"role": "system", "content": fmt.system_prompt}] if fmt.system_prompt else []) + [
        {"role": "user", "content": content}]
    if not fmt.jinja:
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    try:
        return tokenizer.apply_chat_template(messages, chat_template=fmt.jinja, tokenize=False,
                                             add_generation_prompt=True, question=question,
                                             instruction=chat_instruction, system_prompt=fmt.system_prompt)
    except Exception as err:  # jinja2's TemplateError, or what the template raises itself
        raise ConfigError(f"template file {fmt.name} cannot be rendered: {type(err).__name__}: {err}") from None


def answer_format(template: str | PromptFormat) -> AnswerFormat:
    """"tags" when the prompt asks for R1-Zero's <think>/<answer> blocks (the r1_zero frame, or a
    template file or system prompt that names the <answer> tag), else "boxed" (the chat template with
    the task's instruction: the final answer in \\boxed{})."""
    fmt = template if isinstance(template, PromptFormat) else PromptFormat(template)
    if (fmt.name == "r1_zero" and not fmt.jinja) or "<answer>" in fmt.jinja or "<answer>" in fmt.system_prompt:
        return "tags"
    return "boxed"


def stop_strings(template: str | PromptFormat) -> list[str]:
    return list(R1_ZERO_STOP) if answer_format(template) == "tags" else []


def format_rule(template: str | PromptFormat) -> FormatRule:
    """The format rule of the prompts a template makes: the answer form it asks for and the filled
    boxes it shows."""
    return FormatRule(answer_format(template), placeholder_answers(template))


def placeholder_answers(template: str | PromptFormat) -> tuple[str, ...]:
    """The filled boxes the prompt itself shows, whitespace collapsed: a placeholder such as
    "\\boxed{answer}" in a system prompt or template file. A response that copies one has exactly one
    non-empty box, so the format rule (r1lab.rewards.boxed_format) must not count it; the tasks'
    instructions show an empty "\\boxed{}", which cannot be copied for reward."""
    fmt = template if isinstance(template, PromptFormat) else PromptFormat(template)
    return tuple(sorted({normalized_box(b) for b in boxed_answers(f"{fmt.system_prompt}\n{fmt.jinja}")
                         if b.strip()}))


def think_prefill_warning(fmt: PromptFormat, tokenizer) -> str | None:
    """A warning when the template itself opens a <think> block after the question."""
    if fmt.name == "r1_zero" and not fmt.jinja:
        return None
    marker = "R1LAB-QUESTION-PROBE"
    text = render_prompt(fmt, marker, tokenizer)
    # The prompt's end, after the question: an opened block ("<think>\n", R1's distilled models) or an
    # already closed empty one ("<think>\n\n</think>", a chat template's no-thinking mode). A mention
    # of the tags in an instruction ("reason inside <think> </think>, then ...") is neither.
    tail = text[text.rfind(marker) + len(marker):].rstrip()
    opened = tail.endswith("<think>")
    empty_block = tail.endswith("</think>") and tail[:-len("</think>")].rstrip().endswith("<think>")
    if not (opened or empty_block):
        return None
    what = "opens a <think> block" if opened else "writes an empty <think></think> block"
    return (f"the prompt template ({fmt.name}) {what} in the prompt, so completions do not start with "
            "<think> and the format reward (which wants the response to open and close the block) never "
            "fires; use template: r1_zero, a .jinja file without the prefill, or set rewards.format: 0")
