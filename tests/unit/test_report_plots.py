"""The paper's two figures as PNGs: held-out accuracy with its band and the base at step 0, and mean
response length; each titled with run, model and task."""

import json

import matplotlib.pyplot as plt
import pytest
from report_runs import fake_eval, fake_run

from r1lab.errors import UserError
from r1lab.tracking.plots import draw_accuracy, draw_length, write_plots
from r1lab.tracking.report.sources import load_source


def test_accuracy_figure_has_the_base_at_step_0_and_the_band(tmp_path):
    run_dir = fake_run(tmp_path / "demo-run", steps=4)
    (run_dir / "summary.json").write_text(json.dumps({"base": {"pass@1": 0.5, "pass@1_ci95": [0.4, 0.6]}}))
    fig, ax = plt.subplots()
    draw_accuracy(ax, load_source(run_dir))
    assert ax.get_title() == "Held-out accuracy during training\ndemo-run · model tiny-base · task demo"
    held = next(line for line in ax.get_lines() if line.get_label() == "held-out pass@1")
    assert list(held.get_xdata()) == [0, 2, 4] and list(held.get_ydata()) == [0.5, 0.25, 0.5]
    band = ax.collections[0]  # fill_between: the 95% interval at steps 0, 2, 4
    assert band.get_label() == "95% CI over problems"
    assert band.get_paths()[0].vertices[:, 1].min() == pytest.approx(0.1)
    assert band.get_paths()[0].vertices[:, 1].max() == pytest.approx(0.6)
    assert [t.get_text() for t in ax.texts] == ["base 0.50"]
    plt.close(fig)


def test_length_figure_smooths_long_runs(tmp_path):
    fig, ax = plt.subplots()
    draw_length(ax, load_source(fake_run(tmp_path / "run", steps=60, with_eval=False)))
    assert ax.get_title().startswith("Mean response length during training\nrun · model tiny-base")
    assert [line.get_label() for line in ax.get_lines()] == ["mean (per step)", "mean (smoothed)"]
    assert ax.collections[0].get_label() == "10th-90th percentile"
    plt.close(fig)


def test_write_plots_and_the_call_zero_makes(tmp_path):
    run_dir = fake_run(tmp_path / "run", steps=3)
    paths = write_plots(run_dir)
    assert [p.name for p in paths] == ["accuracy.png", "response_length.png"]
    assert all(p.stat().st_size > 10_000 for p in paths)
    assert write_plots(run_dir, run_dir / "other") == [run_dir / "other" / "accuracy.png",
                                                       run_dir / "other" / "response_length.png"]
    with pytest.raises(UserError, match="an eval directory"):
        write_plots(fake_eval(tmp_path / "ev"))
