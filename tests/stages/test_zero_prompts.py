"""A GRPO run with a template file and a system prompt: the rollouts are prompted with them, the run
records them, and the model card lists them; prompts longer than max_prompt_length are left out, said so."""

import json

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


def test_prompts_longer_than_max_prompt_length_are_left_out_with_a_notice_and_the_rest_train(tmp_path, one_thread,
                                                                                            capsys):
    # Issue 13 item 15: a prompt longer than max_prompt_length is never truncated; it is left out, a
    # notice says how many, and the run trains on the others. Short questions make prompts of about 50
    # tokens here, padded ones about 175; the limit, 80, falls between.
    padding = " Think about it slowly and carefully, step by step." * 4
    short = [{"question": f"What is {i} + 1?", "answer": str(i + 1)} for i in range(6)]
    long = [{"question": f"What is {i} + 1?{padding}", "answer": str(i + 1)} for i in range(10, 14)]
    held = [{"question": "What is 50 + 1?", "answer": "51"}, {"question": f"What is 60 + 1?{padding}", "answer": "61"}]
    for name, rows in (("train.jsonl", short + long), ("held.jsonl", held)):
        (tmp_path / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = ZeroConfig(steps=1, prompts_per_step=2, samples_per_prompt=2, max_new_tokens=16, train_problems=30,
                     eval_problems=2, save_every=0, report_to="none", task=str(tmp_path / "train.jsonl"),
                     task_options={"test_file": str(tmp_path / "held.jsonl")}, max_prompt_length=80)
    too_long = {r["question"] for r in long + held[1:]}
    s = build_setup(cfg)
    drawn = s.task.problems("train", cfg.train_problems, cfg.seed)
    left_out = sum(p.question in too_long for p in drawn)
    assert 0 < left_out < len(drawn)
    err = capsys.readouterr().err
    assert (f"left out {left_out} of {len(drawn)} training problems whose prompts are longer than 80 tokens "
            "(max_prompt_length)") in err
    assert "left out 1 of 2 held-out problems" in err
    assert s.train_problems == [p for p in drawn if p.question not in too_long]  # the rest, in order
    assert [p.question for p in s.eval_problems] == [held[0]["question"]]

    run_zero(cfg, tmp_path / "run", progress=False)
    samples = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    assert samples and not {row["question"] for row in samples} & too_long
