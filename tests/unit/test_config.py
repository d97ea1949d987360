import pytest

from r1lab.config import ZeroConfig, load_config
from r1lab.errors import ConfigError


def test_defaults_and_derived():
    cfg = load_config(ZeroConfig, overrides=["prompts_per_step=4", "samples_per_prompt=6", "micro_batch_size=5"])
    assert cfg.global_batch == 24 and cfg.accumulation_steps == 5
    assert cfg.derived()["advantage_scale"] == "group"
    assert load_config(ZeroConfig, overrides=["loss=dr_grpo"]).resolved_advantage_scale == "none"


def test_yaml_then_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("steps: 7\nrewards:\n  format: 0.5\n")
    cfg = load_config(ZeroConfig, path, ["rewards.accuracy=2", "temperature=0.7"])
    assert (cfg.steps, cfg.rewards.format, cfg.rewards.accuracy, cfg.temperature) == (7, 0.5, 2.0, 0.7)


@pytest.mark.parametrize(
    "override, needle",
    [
        ("stepz=3", "unknown config key 'stepz'"),
        ("rewards.formatt=1", "unknown config key 'rewards.formatt'"),
        ("steps=many", "config key 'steps'"),
        ("loss=ppo", "config key 'loss'"),
        ("temperature=-1", "config key 'temperature'"),
        ("steps", "key=value"),
    ],
)
def test_bad_keys_name_the_key(override, needle):
    with pytest.raises(ConfigError, match=needle.replace(".", r"\.")):
        load_config(ZeroConfig, overrides=[override])


def test_bad_file_is_named(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("steps: [1\n")
    with pytest.raises(ConfigError, match="bad.yaml"):
        load_config(ZeroConfig, path)
    path.write_text("samples_per_promt: 3\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: unknown config key 'samples_per_promt'"):
        load_config(ZeroConfig, path)
    with pytest.raises(ConfigError, match="not found"):
        load_config(ZeroConfig, tmp_path / "missing.yaml")
