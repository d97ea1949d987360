"""Every setting discoverable: each config key of each stage has a description, `--help` lists them
with type and default, `r1lab config STAGE` prints a YAML file that loads back to the defaults,
docs/config.md is what the models generate, and TRL's GRPOConfig names point at real keys."""

from pathlib import Path

import pytest
import yaml
from pydantic import Field

from r1lab import cli
from r1lab.config import (
    TRL_GRPO_NAMES,
    Strict,
    ZeroConfig,
    build_config,
    default_yaml,
    key_docs,
    load_config,
    markdown_reference,
    resolve_key,
    undocumented,
)
from r1lab.stages.pipeline import KINDS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "config.md"
STAGES = sorted(set(cli.CONFIG_STAGES) | set(KINDS))


def config_of(stage: str):
    module = cli.COMMANDS[stage][0] if stage in cli.COMMANDS else KINDS[stage].module
    return __import__(module, fromlist=["Config"]).Config


@pytest.mark.parametrize("stage", STAGES)
def test_every_key_has_a_description(stage):
    assert undocumented(config_of(stage)) == []


def test_a_key_added_without_a_description_is_caught():
    class Grown(Strict):
        steps: int = Field(3, description="optimizer steps")
        new_knob: float = 0.5

    class Outer(Strict):
        inner: Grown = Field(default_factory=Grown, description="a section")

    assert undocumented(Outer) == ["inner.new_knob"]


def test_docs_config_md_is_current():
    expected = markdown_reference(cli.stage_configs())
    assert DOCS.read_text() == expected, ("docs/config.md is stale: regenerate it with "
                                         "`python -m r1lab.cli config --markdown > docs/config.md`")


@pytest.mark.parametrize("stage", [s for s in cli.CONFIG_STAGES if s not in ("eval",)])
def test_printed_yaml_loads_back_to_the_defaults(stage, tmp_path, capsys):
    assert cli.main(["config", stage]) == 0
    path = tmp_path / "c.yaml"
    path.write_text(capsys.readouterr().out)
    cls = config_of(stage)
    if stage == "demo":
        from r1lab.stages.demo import DEMO_RECIPE

        assert load_config(cls, path) == load_config(cls, DEMO_RECIPE)
    else:
        assert load_config(cls, path) == cls()


def test_eval_yaml_marks_its_required_keys(capsys):
    cli.main(["config", "eval"])
    data = yaml.safe_load(capsys.readouterr().out)
    assert data["model"] is None and data["benchmark"] is None
    cfg = build_config(config_of("eval"), data | {"model": "tiny-base", "benchmark": "gsm8k"})
    assert cfg.n == 64


@pytest.mark.parametrize("stage", ["zero", "rl", "sft", "eval"])
def test_help_lists_every_key_with_type_and_default(stage, capsys):
    with pytest.raises(SystemExit):
        cli.main([stage, "--help"])
    out = capsys.readouterr().out
    for doc in key_docs(config_of(stage)):
        if not doc.section:
            assert f"  {doc.key} ({doc.type}; default " in out, doc.key
            assert " ".join(doc.description.split()[:4]) in " ".join(out.split()), doc.key


def test_trl_names_point_at_real_keys():
    for trl, ours, _ in TRL_GRPO_NAMES:
        assert not ours or ours.startswith("--") or resolve_key(ZeroConfig, ours), (trl, ours)
    for trl, ours in (("num_generations", "samples_per_prompt"), ("max_completion_length", "max_new_tokens"),
                      ("epsilon", "clip_eps_low"), ("epsilon_high", "clip_eps_high"),
                      ("scale_rewards", "advantage_scale"), ("num_iterations", "iterations_per_batch"),
                      ("mask_truncated_completions", "mask_truncated"), ("loss_type", "loss")):
        assert (trl, ours) in {(t, o) for t, o, _ in TRL_GRPO_NAMES}


def test_report_to_takes_one_name_as_trl_does():
    assert load_config(ZeroConfig, overrides=["report_to=wandb"]).report_to == ["wandb"]
    assert load_config(ZeroConfig, overrides=["report_to=none"]).report_to == []
    assert load_config(ZeroConfig, overrides=["report_to=[tensorboard, mlflow]"]).report_to == ["tensorboard",
                                                                                                "mlflow"]


def test_the_default_yaml_comments_every_key():
    text = default_yaml(ZeroConfig, "zero")
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert all("  # " in line for line in body), [line for line in body if "  # " not in line]
