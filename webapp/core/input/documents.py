"""A file cut into documents, and what reading one document gives.

Each file is split at its `---` / `...` markers (column 0) before any YAML is
parsed, so a syntax error is charged to its own document and the ones after
it are still read (`sources`); each `_Chunk` keeps its offsets and first
line. Reading a chunk gives an `_Outcome`: a value, or a `_Refused` that
becomes the document's Problem.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_MARKER = re.compile(r"^(?:(---)|\.\.\.)(?=[ \t\n]|\Z)", re.M)
_CONTENT = re.compile(r"^[ \t]*[^ \t\n#]", re.M)
_NOT_DIRECTIVE = re.compile(r"^(?:[ \t]+[^ \t\n#]|[^ \t\n#%])", re.M)
# Line breaks as libyaml counts them: besides LF, also NEL, LS and PS, which
# editors do not show as new lines.
_YAML_BREAKS = re.compile("[\n\x85\u2028\u2029]")
_EXTRA_BREAKS = ("\x85", "\u2028", "\u2029")


@dataclass(frozen=True, slots=True)
class _Refused:
    """Why a document is left out: the Problem's message, line and field path."""

    message: str
    line: int
    path: str | None = None
    kind: str | None = None
    name: str | None = None


@dataclass(slots=True)
class _Chunk:
    """The text of one document: `start`/`end` offsets, 1-based first `line`.

    `index` is the document index (None for a chunk with only blank lines and
    comments); `content` the offset of its first character of content.
    """

    start: int
    end: int
    line: int
    index: int | None = None
    content: int = 0
    body_end: int = 0


def _split(text: str) -> list[_Chunk]:
    """Cut a file at its document markers, keeping each document's first line."""
    pieces: list[tuple[int, int, bool]] = []  # start, end, ends with "..."
    start = 0
    for match in _MARKER.finditer(text):
        if match.group(1):
            if match.start() > start:
                pieces.append((start, match.start(), False))
            start = match.start()
        else:
            newline = text.find("\n", match.end())
            end = len(text) if newline < 0 else newline + 1
            pieces.append((start, end, True))
            start = end
    if start < len(text):
        pieces.append((start, len(text), False))
    chunks: list[_Chunk] = []
    line = 1
    previous = 0
    for start, end, dotted in pieces:
        line += text.count("\n", previous, start)
        previous = start
        body_end = text.rfind("\n", start, end - 1) + 1 if dotted else end
        body_end = max(body_end, start)
        chunk = _Chunk(start, end, line, None, -1, body_end)
        chunk.content = _content_start(text, start, body_end)
        chunks.append(chunk)
    # Directives (`%YAML 1.1`) belong to the document after them.
    merged: list[_Chunk] = []
    for chunk in chunks:
        if (
            merged
            and merged[-1].content >= 0
            and text[merged[-1].content] == "%"
            and not (_NOT_DIRECTIVE.search(text, merged[-1].start, merged[-1].body_end))
        ):
            directive = merged.pop()
            chunk.start, chunk.line = directive.start, directive.line
        merged.append(chunk)
    return merged


def _content_start(text: str, start: int, end: int) -> int:
    """Offset of the first character that is not blank or comment, or -1."""
    pos = start
    if text.startswith("---", start):
        newline = text.find("\n", start, end)
        eol = end if newline < 0 else newline
        rest = text[start + 3 : eol]
        stripped = rest.lstrip(" \t")
        if stripped and not stripped.startswith("#"):
            return eol - len(stripped)
        pos = eol + 1
    match = _CONTENT.search(text, pos, end) if pos < end else None
    if match is None:
        return -1
    return match.end() - 1


@dataclass(slots=True)
class _Outcome:
    value: Any = None
    refusal: _Refused | None = None
    dropped: dict[int, int] | None = None  # see _Builder.dropped


def _line_table(text: str, first_line: int) -> Sequence[int]:
    """Editor line (1-based) of each libyaml line (0-based) of `text`."""
    if not any(extra in text for extra in _EXTRA_BREAKS):
        return range(first_line, first_line + text.count("\n") + 2)
    table = [first_line]
    line = first_line
    for match in _YAML_BREAKS.finditer(text):
        if match.group() == "\n":
            line += 1
        table.append(line)
    table.append(line)
    return table
