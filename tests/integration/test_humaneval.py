"""HumanEval through the task and the sandbox: all 164 canonical solutions pass and all 164 stubs
whose body is `pass` fail. Responses are written the way a chat model answers (a fenced block after
the reasoning) so extraction, program assembly and judging are all exercised."""

import time

from r1lab.tasks import load_task

F = "```"


def test_canonical_solutions_pass_and_pass_bodies_fail():
    # A wide time limit: this machine is shared, and a timeout here would be the machine's fault.
    task = load_task("humaneval", reward="binary", timeout_s=30, workers=2)
    problems = task.problems("test", 164, seed=0)
    assert len(problems) == 164
    prompts = [p.answer["prelude"] for p in problems]
    solved = [f"<think>known</think>\n{F}python\n{pr}{p.meta['canonical_solution']}{F}"
              for pr, p in zip(prompts, problems)]
    stubs = [f"<think>no idea</think>\n{F}python\n{pr}    pass\n{F}" for pr in prompts]
    start = time.monotonic()
    verdicts = task.verify_many(problems + problems, solved + stubs)
    elapsed = time.monotonic() - start
    good, bad = verdicts[:164], verdicts[164:]
    failures = [(p.id, v.reason) for p, v in zip(problems, good) if not v.correct]
    assert failures == []
    assert all(v.score == 1.0 for v in good)
    cheats = [p.id for p, v in zip(problems, bad) if v.correct or v.score > 0 or v.status == "unverifiable"]
    assert cheats == []
    print(f"\nHumanEval: 328 programs judged in {elapsed:.1f} s with 2 workers")
