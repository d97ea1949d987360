"""HumanEval through the task and the sandbox: all 164 canonical solutions pass and all 164 stubs
whose body is `pass` fail. Responses are written the way a chat model answers (a fenced block after
the reasoning) so extraction, program assembly and judging are all exercised."""

import time

from r1lab.tasks import load_task

F = "```"


def test_canonical_solutions_pass_and_pass_bodies_fail():
    # A wide time limit: this machine is shared, and a timeout here would be the machine's fault.
    task = load_task("humaneval", timeout_s=30, workers=2)
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
    # Some stubs' tests include lines like `assert True`, so a stub may earn partial credit (score);
    # none may be judged correct.
    cheats = [p.id for p, v in zip(problems, bad) if v.correct or v.status == "unverifiable"]
    assert cheats == []
    print(f"\nHumanEval: 328 programs judged in {elapsed:.1f} s with 2 workers")


def test_a_constant_answer_with_redefined_builtins_passes_nothing():
    """Issue 13 item 1: a program that returns a constant and defines every builtin the tests call
    (`def abs(*a, **k): return 0`, `tuple`, `len`, `str` ...) used to pass HumanEval/2, /4, /33 and /37
    completely: the judge's tests called the program's versions. They must see the real builtins."""
    import ast
    import builtins

    from r1lab.tasks.humaneval import load_records
    from r1lab.verify.code import CodeCase, judge_cases

    callable_builtins = {n for n in dir(builtins) if callable(getattr(builtins, n)) and not n.startswith("_")}
    cases, labels = [], []
    for record in load_records():
        named = {n.id for n in ast.walk(ast.parse(record["test"])) if isinstance(n, ast.Name)}
        shadowed = sorted(named & callable_builtins)
        if not shadowed:
            continue
        fakes = "".join(f"def {name}(*args, **kwargs):\n    return 0\n" for name in shadowed)
        fakes += "def check(candidate):\n    return None\ndef __r1_check(i, thunk):\n    return None\n"
        for constant in ("0", "0.5", "True", "()", "None"):
            cases.append(CodeCase(code=f"{record['prompt']}    return {constant}\n{fakes}",
                                  tests=record["test"], entry_point=record["entry_point"],
                                  prelude=record["prompt"], timeout_s=30))
            labels.append((record["task_id"], constant, shadowed))
    assert len({task for task, _, _ in labels}) >= 10  # the problems whose tests call builtins
    passed = [label for label, result in zip(labels, judge_cases(cases, workers=2)) if result.passed]
    assert passed == []
