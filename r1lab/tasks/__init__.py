"""Tasks. A Task owns its problems (seeded train / held-out splits), its prompt text, answer extraction
and its verifier; training rewards and eval both call the same verify_many().

The verdict contract, the same for every task: `Verdict.status` (and `.correct`) is the binary
judgement that eval reports and the training accuracy reward uses; `Verdict.score` is the task's
partial credit in [0, 1] (reasoning-gym's scorer value, a code answer's share of tests passed, 1.0 or
0.0 for exact tasks), and `correct` holds exactly when `score == 1.0`. Partial credit reaches training
only through its own reward weight, so a hedged answer ("5 or 6") cannot earn accuracy.

`--task SPEC` spellings:
- a named task: `demo`, `humaneval`, `signs`; adding one is adding a file `r1lab/tasks/NAME.py` with a
  `make_task(spec, **options)` function;
- `rg:<dataset>`: a reasoning-gym dataset (r1lab/tasks/reasoning_gym_task.py);
- `code:<file.jsonl>`: your own code problems (r1lab/tasks/code_file.py);
- `hf:<owner/name>` or a .jsonl/.json/.parquet/.csv file: math problems from any dataset, with a
  column mapping and a held-out policy (r1lab/tasks/math_file.py);
- `path/to/my_task.py`: a task of your own outside the package: the file defines
  `make_task(spec, **options)` returning a Task, or a module-level `task` object.
`task_options` are passed to make_task as keyword arguments; an option it does not take is an error.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.util
import inspect
import pkgutil
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from r1lab.errors import ConfigError, DataError, UnknownTaskError
from r1lab.types import Problem, Verdict
from r1lab.user_code import import_user_file

Split = Literal["train", "test"]
SPLITS = ("train", "test")


@runtime_checkable
class Task(Protocol):
    name: str
    # Instruction appended to the question for chat models (R1's protocol asks for \boxed{}).
    chat_instruction: str

    def problems(self, split: Split, n: int, seed: int) -> Sequence[Problem]:
        """n problems of a split in a seeded order (the held-out split: at most its size)."""
        ...

    def prompt(self, problem: Problem) -> str: ...

    def extract(self, response: str) -> str | None:
        """The answer a response gives (from its answer region only), or None."""
        ...

    def verify(self, problem: Problem, response: str) -> Verdict: ...

    def verify_many(self, problems: Sequence[Problem], responses: Sequence[str]) -> list[Verdict]:
        """verify() for many pairs at once; tasks with a worker pool or sandbox check them in parallel."""
        ...

    def equivalent(self, a: str, b: str) -> bool:
        """Whether two extracted answers are the same answer (cons@k votes)."""
        ...


PROTOCOL_MEMBERS = ("name", "chat_instruction", "problems", "prompt", "extract", "verify", "verify_many",
                    "equivalent")

# ---- pieces every task shares ----

NO_ANSWER = "no answer in the answer region"


def answer_verdict(answer: str | None, judge: Callable[[str], Verdict]) -> Verdict:
    """The verdict on an extracted answer: unanswered is incorrect with no credit, else `judge` decides."""
    if answer is None:
        return Verdict("incorrect", 0.0, None, NO_ANSWER)
    return judge(answer)


def verify_each(task: Task, problems: Sequence[Problem], responses: Sequence[str]) -> list[Verdict]:
    """verify_many for tasks whose checks are cheap: one verify() after another."""
    if len(problems) != len(responses):
        raise ValueError(f"{len(problems)} problems but {len(responses)} responses")
    return [task.verify(p, r) for p, r in zip(problems, responses)]


def same_text(a: str, b: str) -> bool:
    """Answer equivalence for tasks without a semantic one: the same text, surrounding space aside."""
    return a.strip() == b.strip()


# ---- splits of file-backed tasks (math files and hub datasets, code files, benchmarks) ----


def in_test_split(question: str, split_seed: int, test_fraction: float, salt: str = "") -> bool:
    """Whether a problem is held out: decided by a hash of its text, so a file's split does not
    change when rows are added, removed or reordered."""
    digest = hashlib.sha256(f"{salt}{split_seed}\0{question.strip()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < test_fraction


DEFAULT_TEST_FRACTION = 0.1  # held out when a file-backed task is given no held-out policy (with a notice)


def held_out_notice(spec: str, held: int, total: int, fraction: float, which: str = "") -> None:
    """Say on stderr that the default held-out policy was applied, and how to choose another."""
    print(f"r1lab: task {spec}: no held-out policy given, so {held} of the {total} problems{which} are held out "
          f"for evaluation (test_fraction={fraction}, chosen by a hash of each question); set "
          "task_options.test_fraction (or test_file / test_split for datasets) to choose", file=sys.stderr)


@dataclass(frozen=True)
class Splits:
    """A fixed list of problems split into train and held-out, and how the split was made (`policy`,
    named in every error about an empty split, with `hint` saying what to change)."""

    name: str
    train: list[Problem]
    test: list[Problem]
    policy: str
    hint: str = ""

    def draw(self, split: str, n: int, seed: int) -> list[Problem]:
        """n problems of the split in a seeded order. The train split repeats in fresh orders (epochs)
        when n exceeds it; the held-out split never repeats, so it returns at most its size."""
        if split not in SPLITS:
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        pool = self.train if split == "train" else self.test
        if not pool:
            which = "no training problems" if split == "train" else "no held-out problems"
            raise DataError(f"task {self.name}: {which} ({self.policy})" + (f"; {self.hint}" if self.hint else ""))
        rng = random.Random(f"{self.name}-{split}-{seed}")
        out: list[Problem] = []
        while len(out) < n:
            order = pool[:]
            rng.shuffle(order)
            out.extend(order[: n - len(out)])
            if split == "test":
                break
        return out


# ---- resolving a task spec ----

# Tasks reached through a spelling rather than by their module's name: prefix -> (module, example).
SPELLINGS = {
    "rg:": ("reasoning_gym_task", "rg:countdown"),
    "code:": ("code_file", "code:problems.jsonl"),
    "hf:": ("math_file", "hf:openai/gsm8k"),
}
DATA_SUFFIXES = (".jsonl", ".json", ".parquet", ".csv")
# Options that no longer exist, with what replaced them.
RETIRED_OPTIONS = {
    "reward": "a task's verdict is binary now; its partial credit (e.g. the share of tests passed) is "
              "Verdict.score, weighted by rewards.partial",
}


def available_tasks() -> list[str]:
    """The task names `--task NAME` accepts: the modules of this folder not reached by a spelling."""
    spelled = {module for module, _ in SPELLINGS.values()}
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)])
                  if not m.name.startswith("_") and m.name not in spelled)


def task_spellings() -> str:
    """One line naming every way to give a task, for error messages."""
    return (f"named tasks: {', '.join(available_tasks())}; rg:<reasoning-gym dataset>; code:<file.jsonl>; "
            "hf:<hub dataset id> or a .jsonl/.json/.parquet/.csv file of math problems; "
            "or a .py file of your own defining make_task")


def load_task(spec: str, **options: Any) -> Task:
    """The task a spec names, built with `options` (task_options in a config)."""
    make = _task_factory(spec)
    _check_options(spec, make, options)
    return make(spec, **options)


def _task_factory(spec: str) -> Callable[..., Task]:
    for prefix, (module_name, _) in SPELLINGS.items():
        if spec.startswith(prefix):
            return importlib.import_module(f"r1lab.tasks.{module_name}").make_task
    if spec.endswith(".py"):
        return _user_task_factory(Path(spec))
    if spec.endswith(DATA_SUFFIXES):
        return importlib.import_module("r1lab.tasks.math_file").make_task
    if spec in available_tasks():
        return importlib.import_module(f"r1lab.tasks.{spec}").make_task
    raise UnknownTaskError(unknown_task_message(spec))


def portable_spec(spec: str) -> str:
    """The spec with a relative path to an existing file or folder made absolute, so that a process
    in another working directory (a Ray rollout worker) loads the very same task."""
    prefix = next((p for p in SPELLINGS if spec.startswith(p)), "")
    path = Path(spec[len(prefix):])
    return prefix + str(path.resolve()) if path.exists() and not path.is_absolute() else spec


def unknown_task_message(spec: str) -> str:
    """'unknown task X', the closest working names, and every spelling that works."""
    hint = ""
    spelled = {module: example for module, example in SPELLINGS.values()}
    if spec in spelled:  # an internal module name: say how that family is really spelled
        hint = f" ({spec} tasks are spelled like {spelled[spec]})"
    elif "/" in spec or "\\" in spec:
        hint = (f" (no such data file: {spec}; files must end in {', '.join(DATA_SUFFIXES)}; "
                f"for a dataset on the Hugging Face hub write hf:{spec})")
    else:
        close = difflib.get_close_matches(spec, available_tasks(), n=3, cutoff=0.6)
        if spec in _reasoning_gym_names():
            close.insert(0, f"rg:{spec}")
        if close:
            hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)"
    return f"unknown task {spec!r}{hint}: {task_spellings()}"


def _reasoning_gym_names() -> list[str]:
    try:
        from reasoning_gym.factory import DATASETS
    except ImportError:
        return []
    return sorted(DATASETS)


def _user_task_factory(path: Path) -> Callable[..., Task]:
    """A task defined in a user's file outside the package: its make_task, or its `task` object."""
    module = import_user_file(path, "task file", DataError)
    make = getattr(module, "make_task", None)
    if make is None and hasattr(module, "task"):
        def make(spec: str) -> Task:
            return module.task
    if make is None:
        raise ConfigError(f"{path}: a task file defines make_task(spec, **options) returning a Task, "
                          "or a module-level object named task")

    def make_checked(spec: str, **options: Any) -> Task:
        task = make(spec, **options)
        missing = [m for m in PROTOCOL_MEMBERS if not hasattr(task, m)]
        if missing:
            raise ConfigError(f"{path}: the task lacks {', '.join(missing)} (a Task has {', '.join(PROTOCOL_MEMBERS)}; "
                              "r1lab.tasks.verify_each and same_text give verify_many and equivalent for simple tasks)")
        return task

    make_checked.__signature__ = inspect.signature(make)  # options are checked against the user's make
    return make_checked


def _check_options(spec: str, make: Callable[..., Task], options: dict[str, Any]) -> None:
    """An option the task's make_task does not take is a ConfigError naming it and the ones it does."""
    params = list(inspect.signature(make).parameters.values())[1:]  # the first is the spec
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return  # the task checks its own options (reasoning-gym passes them to the dataset's config)
    known = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for key in sorted(set(options) - set(known)):
        why = RETIRED_OPTIONS.get(key) or _did_you_mean(key, known)
        raise ConfigError(f"task {spec!r}: unknown option task_options.{key}" + (f" ({why})" if why else "")
                          + f"; its options: {', '.join(known) or 'none'}")


def _did_you_mean(word: str, names: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""
