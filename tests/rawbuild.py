"""RawObjects built from plain dicts, with made-up but distinct line numbers (no YAML involved)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from webapp.core.input.raw import PosDict, PosList, RawObject


def _positioned(value: Any, line: int, lines: Iterator[int]) -> Any:
    """Nested dicts and lists as PosDict/PosList; every key and item gets its own line."""
    if isinstance(value, dict):
        mapping = PosDict(line)
        for key, item in value.items():
            mapping.key_lines[key] = key_line = next(lines)
            mapping[key] = _positioned(item, key_line, lines)
        return mapping
    if isinstance(value, list):
        seq = PosList(line)
        for item in value:
            seq.item_lines.append(item_line := next(lines))
            seq.append(_positioned(item, item_line, lines))
        return seq
    return value


def raw(
    obj: dict[str, Any],
    *,
    file: str = "up.yaml",
    document: int = 0,
    path: str = "",
    lines_per_document: int = 100,
) -> RawObject:
    """Document N's lines start at `lines_per_document * N + 1`."""
    lines = itertools.count(lines_per_document * document + 1)
    body = _positioned(obj, 0, lines)
    body.line = min(body.key_lines.values(), default=1)
    return RawObject(file, document, path, body.line, body)
