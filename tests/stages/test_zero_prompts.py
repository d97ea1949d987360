"""A GRPO run with a template file and a system prompt: the rollouts are prompted with them, the run
records them, and the model card lists them."""

import yaml

from r1lab.config import ZeroConfig
from r1lab.grpo.rollout import make_rollout, step_problems
from r1lab.grpo.setup import build_setup
from r1lab.stages.zero import run as run_zero

TEMPLATE = "{{ system_prompt }}\nProblem: {{ question }}\nReason in <think> </think>, answer in <answer> </answer>.\nA:"


def test_a_template_file_and_a_system_prompt_reach_the_rollouts(tmp_path, one_thread, capsys):
    path = tmp_path / "r1.jinja"
    path.write_text(TEMPLATE)
    cfg = ZeroConfig(steps=1, prompts_per_step=2, samples_per_prompt=2, max_new_tokens=16, train_problems=20,
                     eval_problems=4, save_every=0, report_to="none", template=str(path),
                     system_prompt="You are a careful solver.")
    s = build_setup(cfg)
    assert "warning" not in capsys.readouterr().err  # the tags are named in an instruction, not pre-filled
    problems = step_problems(cfg, s.train_problems, 0)
    rollout = make_rollout(s.generator, s.tokenizer, s.template, s.task, problems, cfg, step=0, version=0)
    prompt = s.tokenizer.decode(rollout.prompt_ids[0])
    assert prompt == f"You are a careful solver.\nProblem: {problems[0].question}\nReason in <think> </think>, " \
                     "answer in <answer> </answer>.\nA:"

    run_zero(cfg, tmp_path / "run", progress=False)
    assert yaml.safe_load((tmp_path / "run" / "derived.yaml").read_text())["template"] == str(path)
    card = (tmp_path / "run" / "final_model" / "README.md").read_text()
    assert "You are a careful solver." in card and str(path) in card
