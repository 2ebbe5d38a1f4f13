"""The stored form of an upload: sanitized objects that keep their file, document and lines.

A share link shows the stored analysis; questions asked later (why / why
not, diffs) re-evaluate the stored input. Keeping each kept field's line
makes that re-evaluation name the same file:line as the upload did, while
everything the analysis does not read is gone (see webapp.core.input.sanitize).
The form is a plain JSON list of objects,

    {"file", "document", "path", "line", "body": {...}, "lines": [[path, line], ...]}

where each path is a list of mapping keys and list indexes inside `body`,
and, last, `{"problems": [Problem, ...]}`: the problems of the analysis, as
in its document. They are stored rather than found again because most of
them cannot be: the loader's need the text, and the validation of what is
dropped (annotations, unused kinds) needs what was dropped. For the same
reason an object that validation left out is not stored at all, so that
re-analysis uses exactly the objects the analysis used. (Inputs stored
before problems were kept have no such entry; they are re-validated.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from webapp.core.document import problem_json
from webapp.core.input.raw import PosDict, PosList, RawObject
from webapp.core.input.sanitize import sanitize_object
from webapp.core.model import Problem, Severity

Path = list[str | int]


def _lines(kept: Any, original: Any, path: Path, out: list[list[Any]]) -> None:
    """Record the line of every kept mapping key and list item, found in the original.

    Recurses only into containers: most kept values are scalars, and a call
    per scalar was most of the cost of storing a large upload."""
    if isinstance(kept, dict) and isinstance(original, PosDict):
        key_lines = original.key_lines
        for key, value in kept.items():
            here = [*path, key]
            line = key_lines.get(key)
            if line is not None:
                out.append([here, line])
            if isinstance(value, dict | list):
                _lines(value, original.get(key), here, out)
    elif isinstance(kept, list) and isinstance(original, PosList):
        item_lines = original.item_lines
        for index, value in enumerate(kept):
            here = [*path, index]
            if index < len(item_lines):
                out.append([here, item_lines[index]])
            if isinstance(value, dict | list) and index < len(original):
                _lines(value, original[index], here, out)


def _refused(objects: Sequence[RawObject], problems: Sequence[Problem]) -> set[int]:
    """Indexes of the objects that an error left out (an error names the object's path)."""
    errors: dict[tuple[str, int | None], list[str]] = {}
    for p in problems:
        if p.severity is Severity.ERROR:
            errors.setdefault((p.file, p.document), []).append(p.path or "")
    refused = set()
    for number, obj in enumerate(objects):
        for path in errors.get((obj.file, obj.document), ()):
            if (
                not obj.path
                or path == obj.path
                or path.startswith((obj.path + ".", obj.path + "["))
            ):
                refused.add(number)
                break
    return refused


def dump(objects: Sequence[RawObject], problems: Sequence[Problem] = ()) -> list[dict[str, Any]]:
    """The objects the analysis used, sanitized, with their positions, then its problems."""
    out: list[dict[str, Any]] = []
    refused = _refused(objects, problems)
    for number, obj in enumerate(objects):
        if number in refused:
            continue
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
    out.append({"problems": [problem_json(p) for p in problems]})
    return out


def restore_problems(stored: Sequence[dict[str, Any]]) -> tuple[Problem, ...] | None:
    """The problems stored with the input; None for an input stored without them."""
    for entry in stored:
        if "problems" in entry:
            return tuple(
                Problem(
                    Severity(p["severity"]),
                    p["message"],
                    p["file"],
                    p["document"],
                    p["line"],
                    p["kind"],
                    p["name"],
                    p["path"],
                )
                for p in entry["problems"]
            )
    return None


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
        if "body" not in entry:
            continue
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
