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
