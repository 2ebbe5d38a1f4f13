"""The stored form of an upload: sanitized objects that keep their file, document and lines.

A share link shows the stored analysis; questions asked later (why / why
not, diffs) re-evaluate the stored input. Keeping each kept field's line
makes that re-evaluation name the same file:line as the upload did, while
everything the analysis does not read is gone (see webapp.core.sanitize).
The form is plain JSON:

    {"file", "document", "path", "line", "body": {...}, "lines": [[path, line], ...]}

where each path is a list of mapping keys and list indexes inside `body`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from webapp.core.raw import PosDict, PosList, RawObject
from webapp.core.sanitize import sanitize_object

Path = list[str | int]


def _lines(kept: Any, original: Any, path: Path, out: list[list[Any]]) -> None:
    """Record the line of every kept mapping key and list item, found in the original."""
    if isinstance(kept, dict) and isinstance(original, PosDict):
        for key, value in kept.items():
            if key in original.key_lines:
                out.append([[*path, key], original.key_lines[key]])
            _lines(value, original.get(key), [*path, key], out)
    elif isinstance(kept, list) and isinstance(original, PosList):
        for index, value in enumerate(kept):
            if index < len(original.item_lines):
                out.append([[*path, index], original.item_lines[index]])
            if index < len(original):
                _lines(value, original[index], [*path, index], out)


def dump(objects: Sequence[RawObject]) -> list[dict[str, Any]]:
    """The objects the analysis uses, sanitized, with their positions; JSON-ready."""
    out = []
    for obj in objects:
        kept = sanitize_object(obj)
        if kept is None:
            continue
        lines: list[list[Any]] = []
        _lines(kept, obj.body, [], lines)
        out.append(
            {
                "file": obj.file,
                "document": obj.document,
                "path": obj.path,
                "line": obj.line,
                "body": kept,
                "lines": lines,
            }
        )
    return out


def _positioned(value: Any, line: int) -> Any:
    if isinstance(value, dict):
        mapping = PosDict(line)
        for key, item in value.items():
            mapping[key] = _positioned(item, line)
        return mapping
    if isinstance(value, list):
        sequence = PosList(line)
        for item in value:
            sequence.append(_positioned(item, line))
            sequence.item_lines.append(line)
        return sequence
    return value


def restore(stored: Sequence[dict[str, Any]]) -> list[RawObject]:
    """RawObjects from `dump`'s output, lines included, ready for build_inventory."""
    objects = []
    for entry in stored:
        body = _positioned(entry["body"], entry["line"])
        for path, line in entry["lines"]:
            parent: Any = body
            for step in path[:-1]:
                parent = parent[step]
            last = path[-1]
            if isinstance(parent, PosDict):
                parent.key_lines[last] = line
                child = parent.get(last)
            else:
                parent.item_lines[last] = line
                child = parent[last]
            if isinstance(child, PosDict | PosList):
                child.line = line
        objects.append(
            RawObject(entry["file"], entry["document"], entry["path"], entry["line"], body)
        )
    return objects
