"""Prompts: system_prompt, template auto | r1_zero | chat | file.jinja, and the warning for templates
that open the <think> block in the prompt."""

import pytest

from r1lab.config import ZeroConfig, load_config
from r1lab.errors import ConfigError
from r1lab.models.random_init import build_tokenizer
from r1lab.models.templates import (
    R1_ZERO_TEMPLATE,
    PromptFormat,
    prompt_format,
    render_prompt,
    stop_strings,
)

CHAT = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}")
# DeepSeek-R1's distilled models end the generation prompt with an opened think block.
PREFILLED = CHAT.replace("<|assistant|>", "<|assistant|><think>\n")


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer()


@pytest.fixture()
def chat_tok(tok):
    tok.chat_template = CHAT
    yield tok
    tok.chat_template = None


def test_r1_zero_is_unchanged_and_a_system_prompt_replaces_its_first_line(tok):
    assert render_prompt(prompt_format("r1_zero", tok), "2+2?", tok) == R1_ZERO_TEMPLATE.format(question="2+2?")
    assert render_prompt("r1_zero", "2+2?", tok) == R1_ZERO_TEMPLATE.format(question="2+2?")  # a bare name too
    fmt = prompt_format("auto", tok, system_prompt="Think, then answer.")
    assert fmt.name == "r1_zero"
    assert render_prompt(fmt, "2+2?", tok) == "Think, then answer.\nUser: 2+2?\nAssistant:"
    assert stop_strings(fmt) == ["</answer>"]


def test_chat_gets_the_system_message(chat_tok):
    fmt = prompt_format("auto", chat_tok, system_prompt="Be brief.")
    assert fmt.name == "chat" and stop_strings(fmt) == []
    assert render_prompt(fmt, "2+2?", chat_tok, "Box it.") == "<|system|>Be brief.\n<|user|>2+2?\nBox it.\n<|assistant|>"
    assert render_prompt(prompt_format("chat", chat_tok), "2+2?", chat_tok) == "<|user|>2+2?\n<|assistant|>"


def test_chat_without_a_chat_template_is_a_config_error(tok):
    with pytest.raises(ConfigError, match="no chat template"):
        prompt_format("chat", tok)


def test_a_jinja_file_hf_chat_style_or_plain(tmp_path, tok):
    chat_file = tmp_path / "chat.jinja"
    chat_file.write_text(CHAT)
    fmt = prompt_format(str(chat_file), tok, system_prompt="S")
    assert render_prompt(fmt, "2+2?", tok) == "<|system|>S\n<|user|>2+2?\n<|assistant|>"
    plain = tmp_path / "plain.jinja"
    plain.write_text("{{ system_prompt }} Q: {{ question }} ({{ instruction }}) Think in <think>, answer in "
                     "<answer>.\nA:")
    fmt = prompt_format(str(plain), tok, system_prompt="Solve.")
    assert render_prompt(fmt, "2+2?", tok, "box it") == ("Solve. Q: 2+2? (box it) Think in <think>, answer in "
                                                        "<answer>.\nA:")
    assert stop_strings(fmt) == ["</answer>"]  # the file asks for answer tags


def test_template_key_is_checked(tmp_path, tok):
    with pytest.raises(ConfigError, match="config key 'template'"):
        load_config(ZeroConfig, overrides=["template=chatml"])
    assert load_config(ZeroConfig, overrides=["template=my/t.jinja"]).template == "my/t.jinja"
    with pytest.raises(ConfigError, match="template file not found"):
        prompt_format(str(tmp_path / "missing.jinja"), tok)
    broken = tmp_path / "broken.jinja"
    broken.write_text("{% for %}")
    with pytest.raises(ConfigError, match="cannot be rendered"):
        render_prompt(PromptFormat(str(broken), jinja=broken.read_text()), "q", tok)


def test_a_template_that_opens_think_in_the_prompt_is_warned_about(tmp_path, chat_tok, capsys):
    prompt_format("chat", chat_tok)
    assert "<think>" not in capsys.readouterr().err
    chat_tok.chat_template = PREFILLED
    prompt_format("chat", chat_tok)
    err = capsys.readouterr().err
    assert "opens a <think> block in the prompt" in err and "format reward" in err
    path = tmp_path / "prefilled.jinja"
    path.write_text(PREFILLED)
    prompt_format(str(path), chat_tok)
    assert "opens a <think> block" in capsys.readouterr().err
    prompt_format("r1_zero", chat_tok)  # its instruction mentions <think>, but before the question
    assert capsys.readouterr().err == ""
    chat_tok.chat_template = CHAT.replace("<|assistant|>", "<|assistant|><think>\n\n</think>\n\n")
    prompt_format("chat", chat_tok)  # a no-thinking mode: an empty block written for the model
    assert "writes an empty <think></think> block" in capsys.readouterr().err
    mention = tmp_path / "mention.jinja"
    mention.write_text("{{ question }}\nReason inside <think> </think>, then answer inside <answer> </answer>.")
    prompt_format(str(mention), chat_tok)  # the tags named in an instruction: no prefill
    assert capsys.readouterr().err == ""
