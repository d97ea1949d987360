"""reasoning-gym tasks: the scorer's partial credit is the verdict's score, never its correctness
(hedged and near-miss answers are wrong); problems are generated when drawn; the two splits never
share a question; dataset and option typos are named."""

import random

import pytest

from r1lab.errors import ConfigError, UnknownTaskError
from r1lab.tasks import load_task


def boxed(answer):
    return f"<think>working</think> \\boxed{{{answer}}}"


@pytest.fixture(scope="module")
def arithmetic():
    return load_task("rg:basic_arithmetic")


def test_hedged_and_near_miss_answers_earn_partial_score_but_are_wrong(arithmetic):
    problems = [p for p in arithmetic.problems("test", 40, seed=0) if p.answer.lstrip("-").isdigit()
                and len(p.answer.lstrip("-")) >= 2][:5]
    assert problems
    for p in problems:
        n = int(p.answer)
        right = arithmetic.verify(p, boxed(p.answer))
        assert (right.status, right.score) == ("correct", 1.0)
        # The dataset's scorer gives a share for any answer containing the right one.
        for gamed in (f"{n} or {n + 1}", f"10*{n}+7"):
            v = arithmetic.verify(p, boxed(gamed))
            assert v.status == "incorrect" and not v.correct, gamed
            assert 0.0 < v.score < 1.0 and "full marks only" in v.reason
        wrong = arithmetic.verify(p, boxed(str(n + 1)))
        assert (wrong.status, wrong.score) == ("incorrect", 0.0)
    unanswered = arithmetic.verify(problems[0], f"<think>{problems[0].answer}</think>")
    assert (unanswered.status, unanswered.score, unanswered.extracted) == ("incorrect", 0.0, None)


def test_partial_credit_is_a_logged_component_of_its_own_only_when_weighted(arithmetic):
    # Issue 13 item 3: a hedged answer's partial credit reaches the reward only through the `partial`
    # component, with its own weight, and that component is logged each step as reward/partial.
    import torch

    from r1lab.config import ZeroConfig
    from r1lab.grpo.metrics import kept_samples, step_metrics
    from r1lab.rewards.scoring import score_completions
    from r1lab.types import Completion, FormatRule

    p = next(p for p in arithmetic.problems("test", 40, seed=0) if p.answer.lstrip("-").isdigit())
    n = int(p.answer)
    texts = [boxed(p.answer), boxed(f"{n} or {n + 1}"), boxed(str(n + 1)), "<think>no answer</think>"]
    comps = [Completion(prompt_index=0, token_ids=[1, 2, 3], text=t, finish_reason="stop") for t in texts]

    def score(**weights):
        return score_completions(arithmetic, [p], [[1]], comps, ZeroConfig(rewards=weights).rewards.weights(),
                                 format_rule=FormatRule("boxed"))

    hedged = score(format=0.0).verdicts[1].score
    assert 0.0 < hedged < 1.0  # the dataset's scorer pays the hedge a share

    binary = score(format=0.0)  # the default: partial credit has weight 0, so it is neither paid nor logged
    assert "partial" not in binary.reward_components
    assert binary.rewards == [1.0, 0.0, 0.0, 0.0]
    assert "reward/partial" not in step_metrics(binary, torch.zeros(1, dtype=torch.bool))

    with_partial = score(format=0.0, partial=0.5)
    assert with_partial.reward_components["accuracy"] == [1.0, 0.0, 0.0, 0.0]
    assert with_partial.reward_components["partial"] == [1.0, hedged, 0.0, 0.0]
    assert with_partial.rewards == pytest.approx([1.0 + 0.5, 0.5 * hedged, 0.0, 0.0])
    row = step_metrics(with_partial, torch.zeros(1, dtype=torch.bool))
    assert row["reward/partial"] == pytest.approx((1.0 + hedged) / 4)
    assert row["reward/accuracy"] == 0.25 and row["accuracy"] == 0.25  # eval's verdict: the hedge is wrong
    samples = kept_samples(with_partial, step=1, k=4, seed=0)
    assert [s["components"]["partial"] for s in samples] == [1.0, hedged, 0.0, 0.0]


def test_a_well_formed_wrong_countdown_answer_is_wrong_with_its_small_score():
    task = load_task("rg:countdown", min_numbers=3, max_numbers=3)
    (p,) = task.problems("test", 1, seed=0)
    entry = p.meta["entry"]
    numbers = entry["metadata"]["numbers"]
    assert task.verify(p, boxed(p.answer)).correct
    assert sum(numbers) != entry["metadata"]["target"]  # so their sum is a well-formed wrong answer
    v = task.verify(p, boxed("+".join(map(str, numbers))))
    assert (v.status, v.score) == ("incorrect", 0.05)
    verdicts = task.verify_many([p, p, p], [boxed(p.answer), boxed("1+1"), "no box"])
    assert [v.status for v in verdicts] == ["correct", "incorrect", "incorrect"]
    assert all((v.score == 1.0) == v.correct and 0.0 <= v.score <= 1.0 for v in verdicts)


def test_problems_are_generated_when_drawn_and_reproducible():
    task = load_task("rg:countdown")
    train = task.problems("train", 10_000, seed=3)  # what used to be built up front, in minutes
    assert len(train) == 10_000 and train.generated == 0
    picked = random.Random(0).sample(train, 4)  # as a step draws its prompts
    assert train.generated == 4 and len({p.id for p in picked}) == 4
    again = load_task("rg:countdown").problems("train", 10_000, seed=3)
    assert [again[int(p.id.rsplit("-", 1)[1])] for p in picked] == picked
    assert train[-1] == train[9_999] and train[:2] == [train[0], train[1]]
    with pytest.raises(IndexError):
        train[10_000]


def test_train_and_held_out_splits_never_share_a_question():
    # Sums of two one-digit numbers: about 100 distinct questions, so two independent draws would collide.
    task = load_task("rg:basic_arithmetic", min_terms=2, max_terms=2, min_digits=1, max_digits=1,
                     operators=("+",))
    train = {p.question for p in task.problems("train", 300, seed=0)}
    test = {p.question for p in task.problems("test", 300, seed=0)}
    assert len(train) > 10 and len(test) > 10
    assert not train & test
    assert task.problems("test", 5, seed=1) != task.problems("test", 5, seed=0)


def test_dataset_and_option_typos_are_named():
    with pytest.raises(UnknownTaskError, match="did you mean rg:countdown"):
        load_task("rg:countdwn")
    with pytest.raises(UnknownTaskError, match="rg: needs a reasoning-gym dataset name"):
        load_task("rg:")
    with pytest.raises(ConfigError, match="unknown option task_options.min_number .did you mean 'min_numbers'"):
        load_task("rg:countdown", min_number=3)
    with pytest.raises(ConfigError, match="invalid options"):
        load_task("rg:countdown", min_numbers=5, max_numbers=2)
