"""Uploaded files into `RawObject`s and Problems: where the input stage starts.

Implements the decoding half of "kubectl apply": YAML and JSON documents,
`---` separated, `kind: List` (and typed `*List`s such as `PodList`) flattened
into their items, scalars resolved as Kubernetes' decoder resolves them, and
strict decoding (duplicate keys are errors, as with `kubectl apply`'s default
field validation). Reference: https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation

`load_sources` checks the upload's limits, decodes each file's bytes
(`decode`), cuts it into documents (`documents`), reads them (`_FileReader`:
`yaml_events` for YAML, `json_input` for JSON) and turns each document's
value into RawObjects (`_Collector`), which `inventory.build_inventory`
validates. Documents are parsed many at a time for speed; only when a
window of documents fails is it re-read around the broken one, and a
refusal near an unrendered Helm template says so.
"""

from __future__ import annotations

import codecs
import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.events import DocumentStartEvent

from webapp.core.input.documents import _Chunk, _line_table, _Outcome, _Refused, _split
from webapp.core.input.json_input import _NotPlain, _read_json, _read_json_list
from webapp.core.input.raw import (
    DEFAULT_LIMITS,
    Limits,
    PosDict,
    PosList,
    RawObject,
    SourceText,
    UnusableInput,
)
from webapp.core.input.scalars import _describe
from webapp.core.input.yaml_events import _Builder, _Failed, _KeepAll
from webapp.core.model import Problem, Severity
from webapp.core.text import escape, shorten

__all__ = ["decode", "load_sources"]


_LIBYAML: bool = bool(getattr(yaml, "__with_libyaml__", False))


class _PurePythonParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """The same event stream as libyaml's, from PyYAML's pure Python parser."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


if _LIBYAML:
    from yaml._yaml import CParser as _Parser
else:  # pragma: no cover - exercised by monkeypatching in the tests
    _Parser = _PurePythonParser  # type: ignore[assignment,misc]


# Windows of documents parsed by one parser: large enough that a parser per
# window costs nothing, small enough that re-reading a window after a syntax
# error (or libyaml's 16 KB read-ahead meeting a bad character) stays cheap.
_WINDOW_CHARS = 64 * 1024


# An action of a Go template, as Helm charts are written: `{{ .Values.x }}`, `{{- end }}`.
_HELM = re.compile(r"\{\{.*?\}\}")
_HELM_REACH = 3  # lines before an error where a template may have caused it


# --- A file's documents, parsed in windows ----------------------------------------


@dataclass(slots=True)
class _Interruption:
    """Why reading chunks [first, stop) ended early.

    Chunks before `done` are read. A syntax error (`message`) is charged to
    `culprit`, which is then read on its own; a refused document is recorded
    already and has no message.
    """

    done: int
    culprit: int
    message: str | None = None
    line: int | None = None
    keep_all: bool = False  # the culprit is to be read again without dropping fields


class _FileReader:
    """Reads the documents of one decoded file into an outcome per chunk."""

    def __init__(self, text: str, chunks: list[_Chunk], limits: Limits) -> None:
        self.text = text
        self.chunks = chunks
        self.limits = limits
        self.chunk_lines = [chunk.line for chunk in chunks]
        self.outcomes: dict[int, _Outcome] = {}

    def read(self) -> dict[int, _Outcome]:
        if len(self.chunks) == 1 and self.chunks[0].index is not None:
            fast = _read_json_list(self.text, self.chunks[0], self.limits, self._policy_with_lines)
            if fast is not None:
                self.outcomes[0] = fast
                return self.outcomes
        return self._read_windows()

    def _policy_with_lines(self, text: str, line: int) -> Any:
        """One policy item of a JSON List read by the YAML path, for the line of each field."""
        chunk = _Chunk(0, len(text), line, 0, 0, len(text))
        limits = Limits(self.limits.max_bytes, 1, self.limits.max_depth - 2)
        outcome = _FileReader(text, [chunk], limits)._read_windows().get(0)
        if outcome is None or outcome.value is None:
            raise _NotPlain  # the YAML path will name what is wrong
        return outcome.value

    def _read_windows(self) -> dict[int, _Outcome]:
        work = list(reversed(self._windows()))
        while work:
            first, stop = work.pop()
            stopped = self._read_range(first, stop)
            if stopped is None:
                continue
            culprit = stopped.culprit
            if culprit + 1 < stop:
                work.append((culprit + 1, stop))
            if stopped.keep_all:
                self._read_alone(culprit, drop=False)
            elif stopped.message is not None:
                self._read_alone(culprit)
            if stopped.done < culprit:
                work.append((stopped.done, culprit))
        for number, outcome in self.outcomes.items():
            if outcome.refusal is not None:
                outcome.refusal = _helm(self.text, self.chunks[number], outcome.refusal)
        return self.outcomes

    def _windows(self) -> list[tuple[int, int]]:
        windows: list[tuple[int, int]] = []
        first = 0
        for number, chunk in enumerate(self.chunks):
            if chunk.end - self.chunks[first].start >= _WINDOW_CHARS:
                windows.append((first, number + 1))
                first = number + 1
        if first < len(self.chunks):
            windows.append((first, len(self.chunks)))
        return windows

    def _chunk_of(self, line: int) -> int:
        return max(0, bisect_right(self.chunk_lines, line) - 1)

    def _read_range(self, first: int, stop: int, drop: bool = True) -> _Interruption | None:
        """Parse chunks [first, stop) as one stream, up to the first document that fails."""
        start, end = self.chunks[first].start, self.chunks[stop - 1].end
        text = self.text[start:end] if end - start < len(self.text) else self.text
        lines = _line_table(text, self.chunks[first].line)
        builder = _Builder(text, lines, self.limits.max_depth, drop)
        done = first
        open_chunk: int | None = None
        try:
            parser = _Parser(text)
            get_event: Callable[[], Any] = parser.get_event
            get_event()  # stream start
            while True:
                event = get_event()
                if event.__class__ is not DocumentStartEvent:
                    return None
                mark: Any = event.start_mark
                chunk_number = self._chunk_of(lines[mark.line])
                chunk = self.chunks[chunk_number]
                open_chunk = chunk_number
                value = builder.document(get_event, chunk.end - chunk.start + 1000)
                open_chunk = None
                if chunk.index is not None:
                    self.outcomes[chunk_number] = _Outcome(value, None, builder.dropped or None)
                done = chunk_number + 1
        except _KeepAll:
            assert open_chunk is not None
            return _Interruption(done, open_chunk, keep_all=True)
        except _Failed as failed:
            assert open_chunk is not None
            if self.chunks[open_chunk].index is not None:
                self.outcomes[open_chunk] = _Outcome(None, failed.refusal)
            return _Interruption(done, open_chunk)
        except yaml.YAMLError as error:
            line = _error_line(error, text, lines)
            if open_chunk is not None and not isinstance(error, yaml.reader.ReaderError):
                culprit = open_chunk
            elif line is not None:
                culprit = self._chunk_of(line)
            else:
                culprit = done
            culprit = min(max(culprit, done), stop - 1)
            return _Interruption(done, culprit, _error_message(error), line)

    def _read_alone(self, number: int, drop: bool = True) -> None:
        chunk = self.chunks[number]
        failure = self._read_range(number, number + 1, drop)
        if failure is not None and failure.keep_all:
            self._read_alone(number, drop=False)
            return
        if failure is None or failure.message is None or chunk.index is None:
            return
        self.outcomes.pop(number, None)
        if chunk.content >= 0 and self.text[chunk.content] in "{[":
            outcome = _read_json(self.text, chunk, self.limits)
            if outcome is not None:
                self.outcomes[number] = outcome
                return
        last_line = chunk.line + self.text.count("\n", chunk.start, max(chunk.start, chunk.end - 1))
        line = min(max(failure.line or chunk.line, chunk.line), last_line)
        self.outcomes[number] = _Outcome(None, _Refused(failure.message, line))


def _helm(text: str, chunk: _Chunk, refusal: _Refused) -> _Refused:
    """A refusal near `{{ ... }}` named for what it is: a Helm template not yet rendered.

    Unrendered, `replicas: {{ .Values.replicas }}` is a flow mapping whose key
    is a mapping, and `{{- if .Values.x }}` a syntax error; either way the
    error is on the template's line or within a few lines after it. (Rendered
    manifests may hold `{{ }}` in strings, such as alerting rules: those parse,
    so they are never looked at here.)
    """
    if "{{" not in text[chunk.start : chunk.end]:
        return refusal
    found: tuple[int, str] | None = None
    for offset, written in enumerate(text[chunk.start : chunk.end].split("\n")):
        number = chunk.line + offset
        if number > refusal.line + 1:
            break
        if number < refusal.line - _HELM_REACH or written.lstrip().startswith("#"):
            continue
        for match in _HELM.finditer(written):
            before = written[: match.start()]
            # In a quoted scalar it is text, which YAML reads without error.
            if before.count("'") % 2 == 0 and before.count('"') % 2 == 0:
                found = (number, match.group())
                break
    if found is None:
        return refusal
    line, template = found
    message = (
        f"{shorten(template)} on line {line} is an unrendered Helm template, not YAML: render "
        "the chart first (`helm template RELEASE CHART > manifests.yaml`) and upload the output"
    )
    return _Refused(message, line, refusal.path, refusal.kind, refusal.name)


def _error_line(error: yaml.YAMLError, text: str, lines: Sequence[int]) -> int | None:
    if isinstance(error, yaml.reader.ReaderError):
        position = error.position
        if _LIBYAML:  # libyaml counts bytes of UTF-8, PyYAML characters
            position = len(text.encode("utf-8")[:position].decode("utf-8", errors="ignore"))
        return lines[0] + text.count("\n", 0, position)
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is None:
        return None
    return int(lines[min(mark.line, len(lines) - 1)])


def _error_message(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.reader.ReaderError):
        character = error.character
        shown = escape(chr(character)) if isinstance(character, int) else escape(str(character))
        return f"YAML syntax error: character {shown} is not allowed in YAML text"
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    context = getattr(error, "context", None)
    message = f"YAML syntax error: {escape(problem)}"
    return f"{message} ({escape(context)})" if context else message


# --- Decoding -------------------------------------------------------------------


_BINARY_SIGNATURES = (
    (b"\x1f\x8b", "gzip data"),
    (b"PK\x03\x04", "a zip archive"),
    (b"\x28\xb5\x2f\xfd", "zstd data"),
    (b"BZh", "bzip2 data"),
    (b"\xfd7zXZ\x00", "xz data"),
)


def decode(source: SourceText) -> str:
    """The text of an uploaded file, BOM removed and line endings as LF.

    UTF-8 (with or without BOM) and UTF-16 with a BOM are text; anything else
    is refused with UnusableInput naming the file.
    """
    data = source.data
    name = escape(source.name)
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise UnusableInput(f"{name} is UTF-32 text, which is not supported; save it as UTF-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise UnusableInput(f"{name} is not valid UTF-16 text; save it as UTF-8") from None
    else:
        for signature, what in _BINARY_SIGNATURES:
            if data.startswith(signature):
                raise UnusableInput(f"{name} is not text ({what}); upload the YAML itself")
        if b"\x00" in data:
            raise UnusableInput(
                f"{name} is not text (binary data, or UTF-16 without a byte-order mark); "
                "upload YAML or JSON saved as UTF-8"
            )
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            offset = error.start + (3 if data.startswith(codecs.BOM_UTF8) else 0)
            line = 1 + data.count(b"\n", 0, offset)
            raise UnusableInput(
                f"{name} is not UTF-8 text (byte 0x{data[offset]:02x} on line {line}); "
                "save it as UTF-8"
            ) from None
    if "\x00" in text:
        raise UnusableInput(f"{name} is not text (it holds NUL characters)")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


# --- Documents into objects -----------------------------------------------------


def _name_of(body: PosDict) -> str | None:
    metadata = body.get("metadata")
    if isinstance(metadata, dict):
        name = metadata.get("name")
        if isinstance(name, str):
            return name
    return None


class _Collector:
    """Turns document values into RawObjects and Problems for one file."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.objects: list[RawObject] = []
        self.problems: list[Problem] = []

    def problem(
        self,
        document: int,
        line: int,
        message: str,
        *,
        kind: str | None = None,
        name: str | None = None,
        path: str | None = None,
    ) -> None:
        self.problems.append(
            Problem(Severity.ERROR, message, self.name, document, line, kind, name, path)
        )

    def add(
        self,
        document: int,
        line: int,
        value: Any,
        path: str = "",
        dropped: dict[int, int] | None = None,
    ) -> None:
        where = f"{path} of document {document}" if path else f"document {document}"
        if not isinstance(value, PosDict):
            self.problem(
                document,
                line,
                f"{where} is not a Kubernetes object: it is {_describe(value)}",
                path=path or None,
            )
            return
        kind, version = value.get("kind"), value.get("apiVersion")
        missing = [field for field, got in (("kind", kind), ("apiVersion", version)) if not got]
        if missing:
            self.problem(
                document,
                line,
                f"{where} is not a Kubernetes object: missing " + " and ".join(missing),
                kind=kind if isinstance(kind, str) and kind else None,
                name=_name_of(value),
                path=path or None,
            )
            return
        if not isinstance(kind, str) or not isinstance(version, str):
            field = "kind" if not isinstance(kind, str) else "apiVersion"
            self.problem(
                document,
                value.line_of(field),
                f"{field} must be a string, not {_describe(value[field])}",
                kind=kind if isinstance(kind, str) else None,
                name=_name_of(value),
                path=f"{path}.{field}" if path else field,
            )
            return
        if kind == "List" or (kind.endswith("List") and "items" in value):
            self._add_items(document, value, kind, version, path, dropped)
            return
        size = dropped.get(id(value), 0) if dropped else 0
        self.objects.append(RawObject(self.name, document, path, line, value, size))

    def _add_items(
        self,
        document: int,
        body: PosDict,
        kind: str,
        version: str,
        path: str,
        dropped: dict[int, int] | None,
    ) -> None:
        items = body.get("items")
        items_path = f"{path}.items" if path else "items"
        if items is None:
            return
        if not isinstance(items, PosList):
            self.problem(
                document,
                body.line_of("items"),
                f"items must be a list, not {_describe(items)}",
                kind=kind,
                path=items_path,
            )
            return
        # A typed list from the API (`PodList`) may leave kind and apiVersion
        # out of its items; they are the list's, as kubectl fills them in.
        item_kind = kind[: -len("List")] if kind != "List" else None
        for number, item in enumerate(items):
            line = items.line_of(number)
            if item_kind and isinstance(item, PosDict):
                for field, default in (("kind", item_kind), ("apiVersion", version)):
                    if field not in item:
                        item[field] = default
                        item.key_lines[field] = line
            self.add(document, line, item, f"{items_path}[{number}]", dropped)


# --- The entry point ---------------------------------------------------------------


def load_sources(
    sources: Sequence[SourceText], limits: Limits = DEFAULT_LIMITS
) -> tuple[list[RawObject], list[Problem]]:
    """Every Kubernetes object of an upload, and a Problem for each document left out.

    Raises UnusableInput when the upload as a whole cannot be used: too
    large, not text, or with no content at all.
    """
    total = sum(len(source.data) for source in sources)
    if total > limits.max_bytes:
        raise UnusableInput(
            f"the upload is {total:,} bytes; the limit is {limits.max_bytes:,}", too_large=True
        )
    files = _documents(sources, limits)
    objects: list[RawObject] = []
    problems: list[Problem] = []
    if not _LIBYAML:
        problems.append(Problem(Severity.WARNING, "libyaml is not available; parsing is slower"))
    for source, text, chunks in files:
        collector = _read_file(source.name, text, chunks, limits)
        objects.extend(collector.objects)
        problems.extend(collector.problems)
    return objects, problems


def _documents(
    sources: Sequence[SourceText], limits: Limits
) -> list[tuple[SourceText, str, list[_Chunk]]]:
    """Each file as text cut into documents, numbered; refused when there are none or too many."""
    texts = [decode(source) for source in sources]
    files: list[tuple[SourceText, str, list[_Chunk]]] = []
    documents = 0
    for source, text in zip(sources, texts, strict=True):
        chunks = _split(text)
        index = 0
        for chunk in chunks:
            if chunk.content >= 0:
                chunk.index = index
                index += 1
        documents += index
        files.append((source, text, chunks))
    if documents > limits.max_documents:
        raise UnusableInput(
            f"the upload has {documents:,} documents; the limit is {limits.max_documents:,}",
            too_large=True,
        )
    if documents == 0:
        names = ", ".join(escape(source.name) for source in sources[:3]) or "the upload"
        if len(sources) > 3:
            names += f" and {len(sources) - 3} more"
        verb = "hold" if len(sources) > 1 else "holds"
        raise UnusableInput(f"nothing to analyse: {names} {verb} no YAML or JSON content")
    return files


def _read_file(name: str, text: str, chunks: list[_Chunk], limits: Limits) -> _Collector:
    """The objects and problems of one file's documents, in document order."""
    collector = _Collector(name)
    outcomes = _FileReader(text, chunks, limits).read()
    for number in sorted(outcomes):
        chunk, outcome = chunks[number], outcomes[number]
        assert chunk.index is not None
        line = chunk.line + text.count("\n", chunk.start, chunk.content)
        if outcome.refusal is not None:
            refused = outcome.refusal
            collector.problem(
                chunk.index,
                refused.line,
                refused.message,
                kind=refused.kind,
                name=refused.name,
                path=refused.path,
            )
        elif outcome.value is not None:
            collector.add(chunk.index, line, outcome.value, "", outcome.dropped)
    return collector
