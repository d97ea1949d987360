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
from collections.abc import Iterable
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


def _lines(path: str | Path) -> Iterable[tuple[str, dict]]:
    p = Path(path)
    if not p.is_file():
        raise DataError(f"data file not found: {p}")
    for number, line in enumerate(p.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{p}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{where}: invalid JSON: {err.msg}") from None
        if not isinstance(row, dict):
            raise DataError(f"{where}: expected a JSON object, got {type(row).__name__}")
        yield where, row


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
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with p.open("w") as f:
        for ex in examples:
            f.write(json.dumps({"messages": ex.messages, "meta": ex.meta}, ensure_ascii=False) + "\n")
            count += 1
    return count


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
