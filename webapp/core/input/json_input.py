"""JSON documents into positioned values, read with the json module.

Two paths. A whole-file JSON object (`kubectl get -o json`, a `kind: List`)
is scanned item by item with the json module's own scanner, so every item
gets the lines where it starts and ends and what the analysis never reads is
pruned before it is built (`drops`); a NetworkPolicy item is read again by
the YAML path for the line of each field. And JSON that YAML refuses (tabs
as indentation, say) is read as JSON. Either way it decodes as Kubernetes
does: duplicate keys are errors, NaN and Infinity are not JSON, and an
overflowing number stays text, as go-yaml keeps it. Hands `_Outcome`s to
`sources`, like the YAML path.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from webapp.core.input.documents import _Chunk, _Outcome, _Refused
from webapp.core.input.drops import _OBJECT_RULES, _prune
from webapp.core.input.raw import Limits, PosDict, PosList
from webapp.core.model import POLICY_KINDS
from webapp.core.text import shorten


class _DuplicateJsonKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateJsonKey(key)
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def _json_float(text: str) -> Any:
    value = float(text)
    return text if math.isinf(value) else value


class _TooDeep(Exception):
    pass


def _from_json(value: Any, line: int, end: int, depth: int) -> Any:
    """PosDict/PosList from decoded JSON; every node gets the document's first line.

    `depth` is how many more levels of nesting are allowed.
    """
    if isinstance(value, dict | list) and depth <= 0:
        raise _TooDeep
    if isinstance(value, dict):
        mapping = PosDict(line, end)
        for key, item in value.items():
            mapping[key] = _from_json(item, line, end, depth - 1)
            mapping.key_lines[key] = line
        return mapping
    if isinstance(value, list):
        items = PosList(line, end)
        items.extend(_from_json(item, line, end, depth - 1) for item in value)
        items.item_lines.extend([line] * len(value))
        return items
    return value


def _read_json(file_text: str, chunk: _Chunk, limits: Limits) -> _Outcome | None:
    """JSON that YAML refuses (tabs used as indentation, say), read as JSON."""
    text = file_text[chunk.content : chunk.body_end]
    first = chunk.line + file_text.count("\n", chunk.start, chunk.content)
    too_deep = _Refused(f"nested more than {limits.max_depth} levels deep", first)
    try:
        # NaN and Infinity are not JSON (Go refuses them); an overflowing
        # number stays text, as go-yaml keeps it.
        value = json.loads(
            text,
            object_pairs_hook=_json_object,
            parse_constant=_no_constant,
            parse_float=_json_float,
        )
    except _DuplicateJsonKey as duplicate:
        return _Outcome(None, _Refused(f"duplicate key {shorten(duplicate.key)}", first))
    except RecursionError:
        return _Outcome(None, too_deep)
    except ValueError:
        return None
    last = first + text.rstrip().count("\n")
    try:
        return _Outcome(_from_json(value, first, last, limits.max_depth))
    except _TooDeep:
        return _Outcome(None, too_deep)


_PolicyReader = Callable[[str, int], Any]


class _NotPlain(Exception):
    """JSON the fast path does not read; the YAML path reads it and names any problem."""


def _read_json_list(
    text: str, chunk: _Chunk, limits: Limits, read_policy: _PolicyReader
) -> _Outcome | None:
    """A whole-file JSON object (`kubectl get -o json`) read with the json module.

    Only a document that decodes cleanly is read here; anything else (a
    duplicate key, NaN, too deep, not an object) returns None, and the YAML
    path reads it as before, so problems are the same either way. Every item
    of `items` gets the lines where it starts and ends; NetworkPolicies,
    whose rules are shown by file:line, are read again alone by the YAML
    path (`read_policy`: its text and first line to its value) for the line of
    every field.
    """
    start = chunk.content
    if start < 0 or text[start] != "{":
        return None
    # scan_once(text, offset) -> (value, end): the json module's own scanner, driven per item.
    decoder: _Scan = json.JSONDecoder(
        object_pairs_hook=_json_object, parse_constant=_no_constant, parse_float=_json_float
    ).scan_once  # type: ignore[attr-defined]
    first = chunk.line + text.count("\n", chunk.start, start)
    dropped: dict[int, int] = {}
    try:
        root, end = _scan_object(text, start, decoder, first, limits, dropped, read_policy)
    except (_NotPlain, _DuplicateJsonKey, _TooDeep, RecursionError, ValueError):
        return None
    if text[end : chunk.body_end].strip() or root.get("kind") in POLICY_KINDS:
        return None  # a lone policy is small: the YAML path gives every field its line
    return _Outcome(root, None, dropped or None)


_Scan = Callable[[str, int], tuple[Any, int]]
_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _skip_to(text: str, at: int, expected: str) -> tuple[str, int]:
    at = _WHITESPACE.match(text, at).end()  # type: ignore[union-attr]
    if at >= len(text) or text[at] not in expected:
        raise _NotPlain
    return text[at], at + 1


def _scan_object(
    text: str,
    start: int,
    decoder: _Scan,
    first: int,
    limits: Limits,
    dropped: dict[int, int],
    read_policy: _PolicyReader,
) -> tuple[PosDict, int]:
    """The top-level object: its `items` item by item (for their offsets), the rest at once."""
    pairs: list[tuple[str, Any]] = []
    key_lines: dict[str, int] = {}
    at = start + 1
    line, counted = first, start
    mark, at = _skip_to(text, at, '"}')
    while mark == '"':
        key, at = decoder(text, at - 1)
        _, at = _skip_to(text, at, ":")
        value_at = _WHITESPACE.match(text, at).end()  # type: ignore[union-attr]
        if key == "items" and text.startswith("[", value_at):
            line += text.count("\n", counted, value_at)
            counted = value_at
            value, at = _scan_items(text, value_at, decoder, line, limits, dropped, read_policy)
        else:
            raw, at = decoder(text, value_at)
            line += text.count("\n", counted, value_at)
            counted = value_at
            value = _from_json(raw, line, line, limits.max_depth - 1)
        pairs.append((key, value))
        key_lines[key] = line
        mark, at = _skip_to(text, at, ",}")
        if mark == ",":
            mark, at = _skip_to(text, at, '"')
    end_line = first + text.count("\n", start, at)
    root = PosDict(first, end_line)
    root.update(_json_object(pairs))
    root.key_lines.update(key_lines)
    return root, at


def _scan_items(
    text: str,
    start: int,
    decoder: _Scan,
    line: int,
    limits: Limits,
    dropped: dict[int, int],
    read_policy: _PolicyReader,
) -> tuple[PosList, int]:
    """The `items` array, each item with the lines it spans (policies: every field's line)."""
    items = PosList(line)
    counted = start
    at = start + 1
    mark = text[_WHITESPACE.match(text, at).end()]  # type: ignore[union-attr]
    if mark == "]":
        _, at = _skip_to(text, at, "]")
        items.end_line = line + text.count("\n", start, at)
        return items, at
    while True:
        item_at = _WHITESPACE.match(text, at).end()  # type: ignore[union-attr]
        raw, at = decoder(text, item_at)
        line += text.count("\n", counted, item_at)
        counted = item_at
        end = line + text.count("\n", item_at, at)
        if isinstance(raw, dict) and raw.get("kind") in POLICY_KINDS:
            item = read_policy(text[item_at:at], line)
        else:
            # As the YAML path does while reading: what the analysis never reads goes
            # before the item is built, so memory follows the useful content.
            rule = _OBJECT_RULES.get(str(raw.get("kind"))) if isinstance(raw, dict) else None
            size = _prune(raw, rule) if rule else 0
            item = _from_json(raw, line, end, limits.max_depth - 2)
            if size:
                dropped[id(item)] = size
        items.append(item)
        items.item_lines.append(line)
        mark, at = _skip_to(text, at, ",]")
        if mark == "]":
            items.end_line = line + text.count("\n", counted, at)
            return items, at
