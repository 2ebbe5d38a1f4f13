"""The command line's PATH arguments as uploaded files.

A PATH is a file, a folder (read recursively for *.yaml, *.yml and *.json,
in a stable order) or `-` for standard input; several PATHs are one upload
(CONTRACT §2). Files are named as the user would write them: the folder as
typed joined with the path inside it, e.g. `manifests/apps/db.yaml`.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from webapp.core.input.raw import DEFAULT_LIMITS, SourceText
from webapp.core.text import escape

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN_NAME = "<stdin>"


class InputError(Exception):
    """A PATH that cannot be read (missing, unreadable, a folder without manifests)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def read_paths(
    paths: Sequence[str],
    stdin: BinaryIO | None = None,
    *,
    max_bytes: int = DEFAULT_LIMITS.max_bytes,
) -> list[SourceText]:
    """Read every PATH into a SourceText, in the order given.

    Reading stops a byte past `max_bytes` in all, so that `/dev/zero` or an
    endless pipe cannot fill memory; the loader then refuses the upload as
    too large.
    """
    if not paths:
        raise InputError("no PATH given: name a file, a folder or - for standard input")
    sources: list[SourceText] = []
    budget = max_bytes + 1
    for path in paths:
        for name, reader in _named_files(path, stdin):
            data = reader(budget)
            budget = max(budget - len(data), 0)
            sources.append(SourceText(name, data))
    return sources


def _named_files(path: str, stdin: BinaryIO | None) -> Iterator[tuple[str, _ReadUpTo]]:
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        yield STDIN_NAME, _ReadUpTo(stream=stream)
        return
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{escape(path)}: no such file or folder") from None
    except OSError as error:
        raise InputError(f"{escape(path)}: cannot read it ({error.strerror})") from None
    if not stat.S_ISDIR(info.st_mode):
        yield path, _ReadUpTo(path=path)
        return
    found = False
    for relative in _manifests_under(path):
        found = True
        yield os.path.join(path, relative), _ReadUpTo(path=os.path.join(path, relative))
    if not found:
        raise InputError(
            f"{escape(path)}: no *.yaml, *.yml or *.json files in this folder or below it"
        )


class _ReadUpTo:
    """Reads a file or stream, at most `limit` bytes, when called."""

    def __init__(self, *, path: str | None = None, stream: BinaryIO | None = None) -> None:
        self.path = path
        self.stream = stream

    def __call__(self, limit: int) -> bytes:
        if self.stream is not None:
            return self.stream.read(limit)
        assert self.path is not None
        try:
            with open(self.path, "rb") as handle:
                return handle.read(limit)
        except IsADirectoryError:
            raise InputError(f"{escape(self.path)}: is a folder") from None
        except OSError as error:
            raise InputError(f"{escape(self.path)}: cannot read it ({error.strerror})") from None


def _manifests_under(folder: str) -> list[str]:
    """Relative paths (with "/") of the manifests under `folder`, sorted.

    Symbolic links to folders are followed, but a folder already seen (by
    device and inode) is not entered again, so link loops end.
    """
    found: list[tuple[str, ...]] = []
    seen: set[tuple[int, int]] = set()
    pending: list[tuple[str, tuple[str, ...]]] = [(folder, ())]
    while pending:
        directory, parts = pending.pop()
        try:
            info = os.stat(directory)
        except OSError:
            continue
        if (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        try:
            with os.scandir(directory) as listing:
                entries = list(listing)
        except OSError as error:
            shown = escape(os.path.join(folder, *parts))
            raise InputError(f"{shown}: cannot list it ({error.strerror})") from None
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                pending.append((entry.path, (*parts, entry.name)))
            elif entry.name.lower().endswith(MANIFEST_SUFFIXES):
                found.append((*parts, entry.name))
    return ["/".join(parts) for parts in sorted(found)]
