"""The format reward checks the form the prompt asked for: R1-Zero's think/answer blocks under the
r1_zero frame (unchanged), one \\boxed{} answer under a chat template; training's reward and eval's
format-valid rate use the same rule, made in one place (templates.format_rule)."""

import pytest

from r1lab.config import ZeroConfig
from r1lab.evaluation.runner import ProblemResult, report, summarize
from r1lab.grpo.rollout import make_rollout
from r1lab.models.random_init import build_tokenizer
from r1lab.models.templates import (
    PromptFormat,
    answer_format,
    format_rule,
    placeholder_answers,
    prompt_format,
    stop_strings,
)
from r1lab.rewards import format_reward
from r1lab.rewards.scoring import score_completions
from r1lab.tasks import load_task
from r1lab.types import Completion, FormatRule, Verdict

BOXED = FormatRule("boxed")

CHAT = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2 + 5 = 7, so the answer is \\boxed{7}.", 1.0),
        ("\\boxed{7}", 1.0),
        ("The answer is \\boxed{7}. Indeed \\boxed{7}", 1.0),  # the same answer twice is one answer
        ("\\boxed{\\boxed{7}}", 1.0),  # a box inside a box is unwrapped
        ("<think> 2 + 5 </think> so \\boxed{7}", 1.0),  # after a closed reasoning block
        ("<answer> \\boxed{7} </answer>", 1.0),
        ("The answer is 7.", 0.0),  # no box: the extractor finds no answer
        ("The answer is \\boxed{}.", 0.0),  # an empty box
        ("It is \\boxed{5} or \\boxed{6}", 0.0),  # a hedge: two different answers
        ("It is \\boxed{7", 0.0),  # never closed
        ("<think> so \\boxed{7}", 0.0),  # the box only inside an unclosed reasoning block
        ("<think> \\boxed{5} </think> the answer is 5", 0.0),  # a box in the reasoning is not the answer
        ("<answer> 7 </answer> \\boxed{7}", 0.0),  # with tags, only the tagged block is read
        ("", 0.0),
    ],
)
def test_boxed_rule(text, expected):
    assert format_reward(text, BOXED) == expected


def test_tags_rule_is_the_default_and_does_not_accept_a_bare_box():
    assert format_reward("<think> 2 + 5 </think> <answer> 7 </answer>") == 1.0
    assert format_reward("<think> 2 + 5 </think> <answer> 7 </answer>", FormatRule("tags")) == 1.0
    assert format_reward("\\boxed{7}") == 0.0
    with pytest.raises(ValueError, match="unknown answer format 'box'"):
        FormatRule("box")


@pytest.fixture()
def chat_tok():
    tok = build_tokenizer()
    tok.chat_template = CHAT
    return tok


def test_the_rule_follows_the_template(tmp_path, chat_tok):
    assert answer_format(prompt_format("r1_zero", chat_tok)) == "tags"
    assert answer_format("r1_zero") == "tags"  # a bare name too
    assert answer_format(prompt_format("r1_zero", chat_tok, system_prompt="Solve it.")) == "tags"  # the frame
    assert answer_format(prompt_format("chat", chat_tok)) == "boxed"
    assert answer_format(prompt_format("auto", chat_tok)) == "boxed"
    tagged = prompt_format("chat", chat_tok, system_prompt="Reason in <think> </think>, answer in <answer> </answer>.")
    assert answer_format(tagged) == "tags" and stop_strings(tagged) == ["</answer>"]
    plain = tmp_path / "plain.jinja"
    plain.write_text("Q: {{ question }} {{ instruction }}\nA:")
    assert answer_format(prompt_format(str(plain), chat_tok)) == "boxed"
    plain.write_text("Q: {{ question }} Answer in <answer> </answer>.\nA:")
    assert answer_format(prompt_format(str(plain), chat_tok)) == "tags"


def completions(texts, group):
    return [Completion(prompt_index=i // group, token_ids=[1, 2], text=t, finish_reason="stop")
            for i, t in enumerate(texts)]


TEXTS = ["so \\boxed{4}", "<think> 2+2 </think> <answer> 4 </answer>", "the answer is 4", "\\boxed{3} or \\boxed{4}"]


def test_training_reward_and_eval_rate_use_the_same_rule():
    task = load_task("demo")
    problem = task.problems("train", 1, 0)[0]
    texts = [t.replace("4", str(problem.answer)) for t in TEXTS]
    comps = completions(texts, group=4)
    weights = {"accuracy": 1.0, "format": 0.2}
    boxed = score_completions(task, [problem], [[1]], comps, weights, format_rule=BOXED)
    tags = score_completions(task, [problem], [[1]], comps, weights)  # the default: R1-Zero's tags
    assert boxed.reward_components["format"] == [1.0, 0.0, 0.0, 0.0]
    assert tags.reward_components["format"] == [0.0, 1.0, 0.0, 0.0]
    assert boxed.reward_components["accuracy"] == tags.reward_components["accuracy"]  # the verdict is the task's

    result = ProblemResult(problem, texts, [Verdict("incorrect", 0.0, None)] * 4, [2] * 4, ["stop"] * 4)
    assert summarize([result], BOXED)["format_rate"] == 0.25
    assert summarize([result], FormatRule("tags"))["format_rate"] == 0.25
    assert summarize([result, result], BOXED)["format_rate"] == 0.25
    assert report([result], [1], format_rule=BOXED)["format_rate"] == 0.25
    assert "format_rate" not in report([result], [1])  # not asked: no rate under an unknown rule


class Scripted:
    """A generator that answers every prompt with the same scripted texts."""

    shares_model = True

    def __init__(self, texts):
        self.texts = texts

    def generate(self, prompt_ids, params):
        assert params.n == len(self.texts)
        return completions(self.texts * len(prompt_ids), params.n)


@pytest.mark.parametrize("template, expected", [("chat", [1.0, 0.0, 0.0, 0.0]), ("r1_zero", [0.0, 1.0, 0.0, 0.0])])
def test_a_rollout_scores_format_by_its_template(chat_tok, template, expected):
    cfg = ZeroConfig(task="demo", samples_per_prompt=4, prompts_per_step=2)
    task = load_task("demo")
    problems = list(task.problems("train", 2, 0))
    rollout = make_rollout(Scripted(TEXTS), chat_tok, PromptFormat(template), task, problems, cfg, step=0, version=0)
    assert rollout.reward_components["format"] == expected * 2


def test_a_copy_of_the_prompts_filled_box_is_not_an_answer(chat_tok):
    """SmolLM2 under GRPO learned to echo its system prompt "... as \\boxed{answer}." for the format
    reward; the rule now gives a copy of a box the prompt shows nothing, in training and in eval."""
    system = "Solve the problem, then write the final answer as \\boxed{ answer }."
    fmt = prompt_format("chat", chat_tok, system_prompt=system)
    assert placeholder_answers(fmt) == ("answer",)
    assert placeholder_answers(prompt_format("chat", chat_tok, system_prompt="Put it in \\boxed{}.")) == ()
    copies = ["Solve the problem, then write the final answer as \\boxed{answer}.", "\\boxed{ answer }",
              "so \\boxed{4}", "\\boxed{answer} \\boxed{4}"]
    cfg = ZeroConfig(task="demo", samples_per_prompt=4, prompts_per_step=1)
    task = load_task("demo")
    problems = list(task.problems("train", 1, 0))
    rollout = make_rollout(Scripted(copies), chat_tok, fmt, task, problems, cfg, step=0, version=0)
    assert rollout.reward_components["format"] == [0.0, 0.0, 1.0, 0.0]
    result = ProblemResult(problems[0], copies, [Verdict("incorrect", 0.0, None)] * 4, [2] * 4, ["stop"] * 4)
    assert format_rule(fmt) == FormatRule("boxed", ("answer",))
    assert summarize([result], format_rule(fmt))["format_rate"] == 0.25
    assert summarize([result], BOXED)["format_rate"] == 0.75  # without the placeholders: the copies pass
    assert format_reward("\\boxed{answer}", format_rule(fmt)) == 0.0
