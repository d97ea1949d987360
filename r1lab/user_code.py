"""A user's own Python file (a task, reward functions) loaded as a module, without adding a file to
the package. One place, so every kind of user file is imported the same way."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from r1lab.errors import UserError


def import_user_file(path: Path, kind: str, missing: type[UserError] = UserError) -> ModuleType:
    """`path` as a module, imported once per process under a name of its own (derived from the file's
    absolute path, so two users' files of the same name never collide nor shadow a real module).
    `kind` names the file in errors ("task file"); `missing` is the error raised when it is absent."""
    if not path.is_file():
        raise missing(f"{kind} not found: {path}")
    tag = kind.replace(" ", "_")
    name = f"r1lab_user_{tag}_{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise missing(f"cannot import the {kind} {path} as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling inside the file look their module up here
    try:
        spec.loader.exec_module(module)
    except BaseException:  # the user's error, with its traceback; a later call imports the file afresh
        del sys.modules[name]
        raise
    return module
