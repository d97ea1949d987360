"""JSONL files between stages, read with errors that name the file and line.

SFT examples, one per line, either chat format
    {"messages": [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}], "meta": {...}}
or prompt/completion format
    {"prompt": "...", "completion": "..."}
(read as one user turn and one assistant turn). `meta` is free-form provenance (model, prompt id,
verdict) and is kept but never trained on.

Preference pairs: {"prompt": "...", "chosen": "...", "rejected": "..."}.
General prompts: {"id": "...", "prompt": "..."} (id optional: the line number stands in).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from r1lab.errors import DataError

ROLES = ("system", "user", "assistant")




@dataclass
class SFTExample:
    messages: list[dict[str, str]]  # [{"role", "content"}], at least one assistant turn
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class PreferencePair:
    prompt: str
    chosen: str
    rejected: str


@dataclass(frozen=True)
class JsonLine:
    """One non-blank line of a JSON-lines file: where it is, and its value or why it has none."""

    where: str  # "file:line"
    value: Any  # the parsed JSON value; None when `error` is set
    error: str | None  # "not valid JSON (...)" or "expected a JSON object, got list"
    last: bool  # the file's last line: a run killed mid-write leaves it cut short


def iter_jsonl(path: str | Path) -> Iterator[JsonLine]:
    """Every non-blank line of a JSON-lines file, parsed, in order; bad lines are reported, not
    raised, so a caller can choose to stop, skip or echo an error line. A missing file raises."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"data file not found: {p}")
    lines = p.read_text(encoding="utf-8").splitlines()
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        where = f"{p}:{index + 1}"
        try:
            value = json.loads(line)
        except ValueError as err:  # JSONDecodeError, or an integer past Python's 4,300-digit limit
            yield JsonLine(where, None, f"not valid JSON ({getattr(err, 'msg', err)})", index == last)
            continue
        error = None if isinstance(value, dict) else f"expected a JSON object, got {type(value).__name__}"
        yield JsonLine(where, value if error is None else None, error, index == last)


def read_jsonl(path: str | Path, *, cut_tail: bool = False, missing_ok: bool = False) -> list[dict]:
    """The JSON objects of a file, in order. A bad line raises a DataError naming file and line,
    except, with `cut_tail`, a bad last line (a crash mid-write; run logs and sample files), which is
    dropped. With `missing_ok`, a missing file reads as empty."""
    if missing_ok and not Path(path).is_file():
        return []
    rows = []
    for line in iter_jsonl(path):
        if line.error is None:
            rows.append(line.value)
        elif not (cut_tail and line.last):
            raise DataError(f"{line.where}: {line.error}")
    return rows


def _lines(path: str | Path) -> Iterator[tuple[str, dict]]:
    for line in iter_jsonl(path):
        if line.error is not None:
            raise DataError(f"{line.where}: {line.error}")
        yield line.where, line.value


def _text(row: dict, key: str, where: str) -> str:
    value = row.get(key)
    if not isinstance(value, str):
        raise DataError(f"{where}: '{key}' must be a string (got {type(value).__name__})")
    return value


def parse_sft_row(row: dict, where: str) -> SFTExample:
    meta = row.get("meta") or {}
    if "messages" in row:
        messages = row["messages"]
        if not isinstance(messages, list) or not messages:
            raise DataError(f"{where}: 'messages' must be a non-empty list")
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
                raise DataError(f"{where}: messages[{i}] needs a role in {ROLES} and a string content")
        if not any(m["role"] == "assistant" for m in messages):
            raise DataError(f"{where}: no assistant message (nothing to train on)")
        return SFTExample([{"role": m["role"], "content": m["content"]} for m in messages], meta)
    if "prompt" in row or "completion" in row:
        return SFTExample([{"role": "user", "content": _text(row, "prompt", where)},
                           {"role": "assistant", "content": _text(row, "completion", where)}], meta)
    raise DataError(f"{where}: expected 'messages' or 'prompt' and 'completion' keys, got {sorted(row)}")


def read_sft(paths: str | Path | list) -> list[SFTExample]:
    """SFT examples from one file or several, in order."""
    paths = paths if isinstance(paths, list) else [paths]
    return [parse_sft_row(row, where) for path in paths for where, row in _lines(path)]


def write_sft(path: str | Path, examples: Iterable[SFTExample]) -> int:
    return write_jsonl(path, ({"messages": ex.messages, "meta": ex.meta} for ex in examples))


def read_pairs(path: str | Path) -> list[PreferencePair]:
    return [PreferencePair(_text(row, "prompt", where), _text(row, "chosen", where), _text(row, "rejected", where))
            for where, row in _lines(path)]


def read_prompts(path: str | Path) -> list[tuple[str, str]]:
    """(id, prompt) pairs."""
    out = []
    for where, row in _lines(path):
        pid = row.get("id", where.rsplit(":", 1)[1])
        out.append((str(pid), _text(row, "prompt", where)))
    return out


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> int:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with p.open("w") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count
