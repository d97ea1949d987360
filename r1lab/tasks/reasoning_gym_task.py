"""Any reasoning-gym dataset as a task: `rg:<name>`, e.g. rg:countdown, rg:basic_arithmetic.

reasoning-gym generates problems procedurally from a seed and ships a scorer per dataset; we use that
scorer unchanged (its score in [0, 1] is the accuracy reward) on the answer we extract from the
answer region. Train and held-out splits come from different seeds, and held-out questions are
removed from the train split so no problem is seen in both.
"""

from __future__ import annotations

from typing import Any

from r1lab.errors import UnknownTaskError
from r1lab.types import Problem, Verdict
from r1lab.verify.extract import extract_answer


class ReasoningGymTask:
    chat_instruction = "Put the final answer in \\boxed{}."

    def __init__(self, dataset_name: str, **dataset_options: Any):
        import reasoning_gym

        try:
            # Build a small instance now so an unknown name or option fails at once, by name.
            reasoning_gym.create_dataset(dataset_name, size=1, seed=0, **dataset_options)
        except (ValueError, KeyError, TypeError) as err:
            raise UnknownTaskError(f"reasoning-gym dataset {dataset_name!r}: {err}") from None
        self.name = f"rg:{dataset_name}"
        self.dataset_name = dataset_name
        self.dataset_options = dataset_options
        self._datasets: dict[str, Any] = {}

    def _dataset(self, split: str, n: int, seed: int):
        import reasoning_gym

        # Separate seed streams per split; reasoning-gym derives each item from (seed, index).
        split_seed = seed + (1_000_003 if split == "test" else 0)
        dataset = reasoning_gym.create_dataset(self.dataset_name, size=n, seed=split_seed, **self.dataset_options)
        self._datasets[split] = dataset
        return dataset

    def problems(self, split: str, n: int, seed: int) -> list[Problem]:
        dataset = self._dataset(split, n, seed)
        items = [dataset[i] for i in range(n)]
        if split == "train":
            held_out = {e["question"] for e in (self._dataset("test", n, seed)[i] for i in range(n))}
            self._datasets["train"] = dataset
            items = [e for e in items if e["question"] not in held_out]
        return [
            Problem(id=f"{self.name}-{split}-{i}", question=e["question"], answer=e["answer"],
                    meta={"entry": e})
            for i, e in enumerate(items)
        ]

    def prompt(self, problem: Problem) -> str:
        return problem.question

    def extract(self, response: str) -> str | None:
        return extract_answer(response)

    def verify(self, problem: Problem, response: str) -> Verdict:
        answer = self.extract(response)
        if answer is None:
            return Verdict("incorrect", 0.0, None, "no answer in the answer region")
        dataset = next(iter(self._datasets.values()), None) or self._dataset("test", 1, 0)
        try:
            score = float(dataset.score_answer(answer=answer, entry=problem.meta["entry"]))
        except Exception as err:  # a scorer bug must not end a training run; it is counted apart
            return Verdict("unverifiable", 0.0, answer, f"scorer raised {type(err).__name__}: {err}")
        return Verdict("correct" if score >= 1.0 else "incorrect", score, answer)


def make_task(spec: str, **options: Any) -> ReasoningGymTask:
    name = spec.split(":", 1)[1]
    if not name:
        raise UnknownTaskError("rg: needs a dataset name, e.g. rg:countdown")
    return ReasoningGymTask(name, **options)
