"""Bad input fails with one clear line naming the problem, exit status 2, and no traceback."""

import pytest

from r1lab.cli import main


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["zero", "--task", "no_such_task", "--steps", "1"], "unknown task 'no_such_task'"),
        (["zero", "--task", "rg:no_such_dataset", "--steps", "1"], "no_such_dataset"),
        (["zero", "--model", "./no/such/model", "--steps", "1"], "model directory not found"),
        (["zero", "--set", "stepz=3"], "unknown config key 'stepz'"),
        (["zero", "--set", "samples_per_prompt=lots"], "config key 'samples_per_prompt'"),
        (["zero", "--config", "missing.yaml"], "config file not found"),
    ],
)
def test_errors_are_named(tmp_path, capsys, argv, needle):
    code = main(argv + ["--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err
    assert "Traceback" not in err


def test_existing_run_is_not_touched_by_a_failing_command(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_text('{"step": 1}\n')
    assert main(["zero", "--task", "nope", "--out", str(run)]) == 2
    assert (run / "metrics.jsonl").read_text() == '{"step": 1}\n'


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["zero", "--steps", "0"], "config key 'steps'"),
        (["zero", "--set", "samples_per_prompt=1"], "config key 'samples_per_prompt'"),
        (["zero", "--model", "smollm2", "--steps", "1"], "did you mean 'smollm2-135m'?"),
        (["zero", "--steps", "1", "--set", "max_prompt_length=3"], "every training prompt is longer than 3 tokens"),
    ],
)
def test_silent_no_ops_and_typos_are_named(tmp_path, capsys, argv, needle):
    assert main(argv + ["--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_an_unwritable_out_is_named_before_any_model_loads(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["zero", "--model", "./no/such/model", "--out", str(blocker / "run"), "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert f"cannot write the run directory {blocker / 'run'}" in err  # not the model's error: checked first


def test_bad_data_and_models_are_one_line(tmp_path, capsys):
    bad_sft = write(tmp_path / "sft.jsonl", '{"messages": [{"role": "user", "content": "hi"}]}\n')
    assert main(["sft", "--model", "tiny-base", "--data", bad_sft, "--out", str(tmp_path / "sft")]) == 2
    assert f"{bad_sft}:1: no assistant message" in capsys.readouterr().err
    odd = tmp_path / "odd-model"
    write(odd / "config.json", '{"model_type": "no_such_architecture"}')
    assert main(["zero", "--model", str(odd), "--out", str(tmp_path / "z"), "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert f"cannot load model '{odd}'" in err and "no_such_architecture" in err and "Traceback" not in err


def test_help_is_whole_and_version_answers(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "from a laptop CPU to a Ray cluster." in out and "zero" in out and "verify" in out
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("r1lab ")
