"""The pipeline runner: a two-stage chain (sample -> sft) in a real process, killed during the
second stage and rerun: the first stage is skipped, the second completes. Bad files fail before any
work starts, naming the problem."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
import yaml

from r1lab.errors import ConfigError
from r1lab.stages.pipeline import plan, run_pipeline


def chain(model: str, sft_epochs: int = 1) -> dict:
    return {"stages": [
        {"name": "traces", "stage": "sample", "config": {
            "model": model, "problems": 4, "n": 2, "max_new_tokens": 16, "max_per_prompt": 2,
            "filters": {"require_verified": False, "require_format": False, "max_language_mixing": 1.0}}},
        {"name": "tuned", "stage": "sft", "config": {"model": model, "data": "${traces.data}",
                                                     "epochs": sft_epochs, "batch_size": 2}},
    ]}


@pytest.fixture
def stopping_model(tiny_qwen2, tmp_path):
    """The random test model with 50 end-of-sequence ids: its samples end within a few tokens instead
    of running to max_new_tokens, so the sample stage (which drops truncated samples) keeps some."""
    out = tmp_path / "stopping-model"
    shutil.copytree(tiny_qwen2, out)
    config = json.loads((out / "generation_config.json").read_text())
    (out / "generation_config.json").write_text(json.dumps(config | {"eos_token_id": list(range(10, 60))}))
    return str(out)


def test_chain_is_interrupted_and_resumes(stopping_model, tmp_path):
    tiny_qwen2 = stopping_model
    spec_path = tmp_path / "p.yaml"
    spec_path.write_text(yaml.safe_dump(chain(tiny_qwen2, sft_epochs=400)))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "r1lab.cli", "pipeline", str(spec_path), "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.time() + 120
    while not (out / "tuned" / "metrics.jsonl").exists():  # the second stage has taken steps
        assert proc.poll() is None and time.time() < deadline, proc.stdout.read()
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = json.loads((out / "traces" / "stage.json").read_text())
    assert not (out / "tuned" / "stage.json").exists()

    # Rerun, with a short second stage: the finished first stage is skipped, not redone.
    spec_path.write_text(yaml.safe_dump(chain(tiny_qwen2, sft_epochs=1)))
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=180)
    assert done.returncode == 0, done.stderr
    assert "stage 'traces' (sample) is done, skipped" in done.stdout
    assert "stage 'tuned' (sft) running" in done.stdout
    assert json.loads((out / "traces" / "stage.json").read_text()) == first
    assert (out / "tuned" / "final_model" / "config.json").exists()
    # A third run does nothing.
    record = run_pipeline(chain(tiny_qwen2, sft_epochs=1), out, "p.yaml", log=lambda *_: None)
    assert record["tuned"]["fingerprint"] == json.loads((out / "tuned" / "stage.json").read_text())["fingerprint"]


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s["stages"][1].update(stage="fine_tune"), "stage 'tuned': unknown stage 'fine_tune'"),
        (lambda s: s["stages"][1]["config"].update(data="missing.jsonl"), "config.data: input file not found: missing.jsonl"),
        (lambda s: s["stages"][1]["config"].update(epoch=2), "stage 'tuned' config: unknown config key 'epoch'"),
        (lambda s: s["stages"][1]["config"].update(data="${trace.data}"), "refers to stage 'trace', which is not an earlier"),
        (lambda s: s["stages"][1]["config"].update(data="${traces.model}"), "stage 'traces' has no output 'model'"),
        (lambda s: s["stages"][0]["config"].update(model="/no/such/model"), "model directory not found"),
        (lambda s: s["stages"][1].update(name="traces"), "the name is used twice"),
        (lambda s: s.update(stage=[]), "unknown config key 'stage'"),
    ],
)
def test_bad_files_fail_before_any_work(tiny_qwen2, tmp_path, edit, message):
    spec = chain(tiny_qwen2)
    edit(spec)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("$", r"\$").replace("{", r"\{")):
        run_pipeline(spec, tmp_path / "out", "p.yaml")
    assert not (tmp_path / "out").exists()


def test_cli_check_and_shipped_demo_validates(tiny_qwen2, tmp_path, capsys):
    from r1lab.cli import main

    spec_path = tmp_path / "p.yaml"
    spec_path.write_text(yaml.safe_dump(chain(tiny_qwen2)))
    assert main(["pipeline", str(spec_path), "--out", str(tmp_path / "o"), "--check"]) == 0
    assert "2 stages OK" in capsys.readouterr().out
    spec_path.write_text(yaml.safe_dump({"stages": [{"name": "a", "stage": "nope"}]}))
    assert main(["pipeline", str(spec_path), "--out", str(tmp_path / "o")]) == 2
    assert "unknown stage 'nope'" in capsys.readouterr().err


def test_shipped_demo_pipeline_validates(tiny_qwen2, tmp_path):
    from pathlib import Path

    from r1lab.stages.pipeline import demo_spec

    spec, source = demo_spec()
    root = Path(__file__).resolve().parents[2]
    assert (root / "configs" / "pipeline_demo.yaml").read_text() == (root / source).read_text()  # one recipe
    # Validate against a stand-in base model so the check does not need the embedded one.
    text = yaml.safe_dump(spec).replace("tiny-base", tiny_qwen2)
    stages = plan(yaml.safe_load(text), tmp_path / "demo", source)
    assert [s.kind for s in stages][-1] == "compare"
    assert set(stages[-1].config.models) == {"base", "student_base", "r1_zero", "r1", "student_rl", "student_distilled"}


def test_pipeline_writes_a_report_of_its_grpo_stages(tiny_qwen2, tmp_path, capsys):
    from r1lab.cli import main

    zero = {"model": tiny_qwen2, "steps": 2, "prompts_per_step": 2, "samples_per_prompt": 2, "max_new_tokens": 8,
            "eval_every": 0, "eval_problems": 2, "save_every": 0, "report_to": [], "log_samples_per_step": 2}
    spec_path = tmp_path / "p.yaml"
    spec_path.write_text(yaml.safe_dump({"stages": [{"name": "grpo", "stage": "zero", "config": zero}]}))
    assert main(["pipeline", str(spec_path), "--out", str(tmp_path / "o")]) == 0
    page = (tmp_path / "o" / "report.html").read_text()
    assert f"report: {tmp_path / 'o' / 'report.html'}" in capsys.readouterr().out
    data = json.loads(re.search(r'id="report-data">(.*?)</script>', page, re.S).group(1))
    assert [s["name"] for s in data["sources"]] == ["grpo"]
    assert len(data["records"]) == 4  # 2 steps x 2 kept completions
