"""Decoded manifests before validation: plain dicts and lists that remember lines.

The loader (`webapp.core.input.sources`) produces these; validation
(`webapp.core.input.inventory`) consumes them. Scalars are plain `str`, `int`,
`float`, `bool` or `None`, resolved as Kubernetes' YAML decoder resolves
them (no YAML 1.1 sexagesimal ints); mappings and sequences carry the
1-based line where they and each of their entries start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class PosDict(dict[str, Any]):
    """A mapping with `line` (where it starts), `end_line` (its last line with
    content) and `key_lines` (where each key is written)."""

    __slots__ = ("end_line", "key_lines", "line")

    def __init__(self, line: int = 0, end_line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.end_line = line if end_line is None else end_line
        self.key_lines: dict[str, int] = {}

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class PosList(list[Any]):
    """A sequence with `line` (where it starts), `end_line` (its last line with
    content) and `item_lines` (where each item starts)."""

    __slots__ = ("end_line", "item_lines", "line")

    def __init__(self, line: int = 0, end_line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.end_line = line if end_line is None else end_line
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


@dataclass(frozen=True, slots=True)
class SourceText:
    """One uploaded file (or standard input) as bytes, with the name it was uploaded as."""

    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds that keep one upload from taking the machine."""

    max_bytes: int = 128 * 1024 * 1024
    max_documents: int = 200_000
    max_depth: int = 64


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class RawObject:
    """One Kubernetes object of the upload.

    `path` is the field path of the object inside its document: "" for a
    top-level object, "items[3]" for an item of a `kind: List`.

    The loader leaves out of `body` what the analysis never reads (see
    webapp.core.input.drops: `status`, `metadata.managedFields`, containers' `env`
    and the like), among them the annotation
    `kubectl.kubernetes.io/last-applied-configuration`, a copy of the whole
    object. The API server counts it in the annotations' total size (keys and
    values, UTF-8 bytes, at most 256 KiB), so `dropped_annotation_bytes` is
    the size of the annotations dropped (key and value bytes), to be added
    to the size of those in `body`.
    """

    file: str
    document: int
    path: str
    line: int
    body: PosDict
    dropped_annotation_bytes: int = 0

    @property
    def kind(self) -> str:
        value = self.body.get("kind")
        return value if isinstance(value, str) else ""

    @property
    def api_version(self) -> str:
        value = self.body.get("apiVersion")
        return value if isinstance(value, str) else ""


class UnusableInput(Exception):
    """The whole upload is unusable (not text, empty, too large): exit 2, HTTP 400/413."""

    def __init__(
        self, message: str, *, too_large: bool = False, problems: tuple[Any, ...] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.too_large = too_large
        # Problems found before giving up (webapp.core.model.Problem), for the error report.
        self.problems = problems
