"""Uploaded bytes to `RawObject`s that remember where each value was written.

Implements the decoding half of "kubectl apply": YAML and JSON documents,
`---` separated, `kind: List` (and typed `*List`s such as `PodList`) flattened
into their items, scalars resolved as Kubernetes' decoder resolves them
(sigs.k8s.io/yaml on go-yaml v2, not PyYAML's YAML 1.1), and strict decoding
(duplicate keys are errors, as with `kubectl apply`'s default field
validation). Reference: https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation

How it parses, and why:

- libyaml (`yaml.CParser`) produces *events*; this module builds PosDict,
  PosList and scalars from them with an explicit stack. PyYAML's resolver
  and constructors are not used (they read YAML 1.1, where `1:20` is 80,
  and the unsafe ones build Python objects from tags), and neither is
  libyaml's composer: it recurses in C, so about 100,000 nested `[` crash
  the process. Events never recurse, and the depth limit is checked before
  anything deep is built.
- Each file is split into documents here (`---` / `...` at column 0), so a
  syntax error is charged to its own document and the ones after it are
  still read. Documents are parsed many at a time for speed; only when a
  window of documents fails is it re-read around the broken one.
- Aliases are expanded with a budget of nodes per document (its length plus
  1000), so "billion laughs" is refused after a few hundred events.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from webapp.core.model import Problem, Severity
from webapp.core.raw import (
    DEFAULT_LIMITS,
    Limits,
    PosDict,
    PosList,
    RawObject,
    SourceText,
    UnusableInput,
)
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

_STANDARD_TAG = "tag:yaml.org,2002:"
_STR = _STANDARD_TAG + "str"
_MAP = _STANDARD_TAG + "map"
_SEQ = _STANDARD_TAG + "seq"
_MERGE_TAG = _STANDARD_TAG + "merge"

# Windows of documents parsed by one parser: large enough that a parser per
# window costs nothing, small enough that re-reading a window after a syntax
# error (or libyaml's 16 KB read-ahead meeting a bad character) stays cheap.
_WINDOW_CHARS = 64 * 1024

_MARKER = re.compile(r"^(?:(---)|\.\.\.)(?=[ \t\n]|\Z)", re.M)
_CONTENT = re.compile(r"^[ \t]*[^ \t\n#]", re.M)
_NOT_DIRECTIVE = re.compile(r"^(?:[ \t]+[^ \t\n#]|[^ \t\n#%])", re.M)
# Line breaks as libyaml counts them: besides LF, also NEL, LS and PS, which
# editors do not show as new lines.
_YAML_BREAKS = re.compile("[\n\x85\u2028\u2029]")
_EXTRA_BREAKS = ("\x85", "\u2028", "\u2029")
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*\Z")
# An action of a Go template, as Helm charts are written: `{{ .Values.x }}`, `{{- end }}`.
_HELM = re.compile(r"\{\{.*?\}\}")
_HELM_REACH = 3  # lines before an error where a template may have caused it


# --- Scalars as go-yaml v2 resolves them -------------------------------------

# sigs.k8s.io/yaml/goyaml.v2/resolve.go: its table of words, YAML 1.1 booleans
# included (so `on: x` has the key true). Quoted scalars are never resolved.
_WORDS: dict[str, Any] = {
    **dict.fromkeys(("", "~", "null", "Null", "NULL")),
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "on", "On", "ON"), True),
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "off", "Off", "OFF"), False),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_NUMBER_START = frozenset("0123456789+-.")
# Go's strconv.ParseInt(s, 0, 64) syntax (after go-yaml drops underscores):
# 0x hex, 0o and leading-0 octal, 0b binary, decimal. No sexagesimal `1:20`.
_GO_INT = re.compile(
    r"([-+]?)(?:0[xX](?P<hex>[0-9a-fA-F]+)|0[oO](?P<oct>[0-7]+)|0[bB](?P<bin>[01]+)"
    r"|0(?P<oct0>[0-7]*)|(?P<dec>[1-9][0-9]*))\Z"
)
_INT64_MIN = -(2**63)
_UINT64_MAX = 2**64 - 1
_GO_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_GO_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?\Z")


def _number(text: str) -> Any:
    """go-yaml v2's reading of a plain scalar that starts like a number.

    Timestamps such as `2024-01-31` stay strings: go-yaml v2 hands them to
    an `interface{}` (which is how Kubernetes decodes) as the original text.
    """
    if text[0] == ".":
        return float(text) if _GO_DOT_FLOAT.match(text) else text
    plain = text.replace("_", "")
    match = _GO_INT.match(plain)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        for group, base in (("dec", 10), ("hex", 16), ("oct", 8), ("bin", 2), ("oct0", 8)):
            digits = match.group(group)
            if digits is not None:
                number = sign * int(digits or "0", base)
                # ParseInt then ParseUint, 64 bits: beyond them go-yaml tries a float.
                if _INT64_MIN <= number <= _UINT64_MAX:
                    return number
                break
    if _GO_FLOAT.match(plain):
        value = float(plain)
        # Go's ParseFloat fails on overflow, and go-yaml then keeps the string.
        return text if math.isinf(value) else value
    return text


def _plain(text: str) -> Any:
    if text in _WORDS:
        return _WORDS[text]
    if text[:1] in _NUMBER_START:
        return _number(text)
    return text


@dataclass(frozen=True, slots=True)
class _Refused:
    """Why a document is left out: the Problem's message, line and field path."""

    message: str
    line: int
    path: str | None = None
    kind: str | None = None
    name: str | None = None


class _BadScalar(Exception):
    """A scalar whose explicit tag cannot be honoured."""


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_STANDARD_TAG) :] if tag.startswith(_STANDARD_TAG) else tag


def _tagged(tag: str, text: str) -> Any:
    """A scalar with an explicit tag: the standard scalar tags, as go-yaml decodes them."""
    if tag == _STR or tag == "!":
        return text
    kind = tag[len(_STANDARD_TAG) :] if tag.startswith(_STANDARD_TAG) else None
    if kind not in ("int", "float", "bool", "null"):
        raise _BadScalar(f"unsupported YAML tag {shorten(_short_tag(tag))}")
    value = _plain(text)
    if kind == "float" and type(value) is int:
        return float(value)
    expected: dict[str, tuple[type, ...]] = {
        "int": (int,),
        "float": (float,),
        "bool": (bool,),
        "null": (type(None),),
    }
    if type(value) not in expected[kind]:
        raise _BadScalar(f"cannot read {shorten(text)} as !!{kind}")
    return value


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {shorten(value)}"
    if isinstance(value, int | float):
        return f"the number {shorten(value)}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return shorten(value)


# --- Field paths --------------------------------------------------------------


def _key_segment(path: str, key: str) -> str:
    if _IDENTIFIER.match(key):
        return f"{path}.{key}" if path else key
    shown = key if len(key) <= 60 else key[:59] + "…"
    return f"{path}[{escape(shown)}]"


# --- Building values from events ----------------------------------------------


_NO_KEY: Any = object()


class _MergeKey(str):
    """The pending key of a mapping when it is a YAML merge key (`<<`)."""

    __slots__ = ()


_MERGE = _MergeKey("<<")
_MERGE_VALUE = "a mapping, an alias of a mapping, or a list of those"


# --- What is dropped while reading ------------------------------------------------

# Fields the analysis never reads and exports are full of: they are skipped as
# their events arrive, so they are never built. A rule maps a key to _DROP, to
# the rule of its value, or (in a list's rule) "*" to the rule of each item.
_DROP: Any = object()
_DROP_STRING: Any = object()  # drop it if it is a string (else validation must see it)
_OBJECT: Any = object()  # an object's top level: its rule depends on its kind
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_CONTAINER_DROPS = (
    "env",
    "envFrom",
    "volumeMounts",
    "resources",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
)
_CONTAINER: dict[str, Any] = dict.fromkeys(_CONTAINER_DROPS, _DROP)
_POD_SPEC: dict[str, Any] = {
    "volumes": _DROP,
    **{key: {"*": _CONTAINER} for key in ("containers", "initContainers", "ephemeralContainers")},
}
_TEMPLATE: dict[str, Any] = {"spec": _POD_SPEC}
_EXPORTED: dict[str, Any] = {
    "status": _DROP,
    "metadata": {"managedFields": _DROP, "annotations": {LAST_APPLIED: _DROP_STRING}},
}
# NetworkPolicies keep everything (they are decoded strictly); an object whose
# kind comes after these fields keeps them too. Items of a List are objects.
_OBJECT_RULES: dict[str, dict[str, Any] | None] = {
    "NetworkPolicy": None,
    "Pod": {**_EXPORTED, "spec": _POD_SPEC},
    **{
        kind: {**_EXPORTED, "spec": {"template": _TEMPLATE}}
        for kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")
    },
    "ReplicationController": {**_EXPORTED, "spec": {"template": _TEMPLATE}},
    "CronJob": {**_EXPORTED, "spec": {"jobTemplate": {"spec": {"template": _TEMPLATE}}}},
}
# Policies whose problems and rules are shown by file:line: every field gets its line.
_POLICY_KINDS = frozenset(
    {"NetworkPolicy", "ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"}
)
_OTHER_KIND: dict[str, Any] = {**_EXPORTED, "items": {"*": _OBJECT}}
_KIND_NOT_YET_READ: dict[str, Any] = {"items": {"*": _OBJECT}}
_DROPPED: Any = object()  # the value of an anchor written inside a dropped field
_NON_FINITE = frozenset(text for text, value in _WORDS.items() if type(value) is float)


class _KeepAll(Exception):
    """An alias refers to an anchor inside a dropped field: read the document without dropping."""


class _Frame:
    """A mapping or sequence being built; `key` is the pending key of a mapping.

    `last` is what was added last: the end line of a collection, or a scalar's
    event, whose end line is worked out only if it turns out to be the last.
    """

    __slots__ = (
        "anchor",
        "container",
        "count",
        "flow",
        "key",
        "key_line",
        "last",
        "merged",
        "next_rule",
        "rule",
    )

    def __init__(
        self, container: PosDict | PosList, anchor: str | None, count: int, flow: bool
    ) -> None:
        self.container = container
        self.key: Any = _NO_KEY
        self.key_line = 0
        self.last: Any = container.line
        self.anchor = anchor
        self.count = count
        self.flow = flow
        # Keys that a merge key set, with the line of that `<<`.
        self.merged: dict[str, int] | None = None
        # What to drop among the entries (see _OBJECT_RULES), and the rule of the pending value.
        self.rule: Any = None
        self.next_rule: Any = None


@dataclass(slots=True)
class _Anchored:
    value: Any
    size: int


def _copy(value: Any) -> Any:
    """A deep copy of an aliased value, so every object's body stays a tree."""
    if type(value) is PosDict:
        copy = PosDict(value.line, value.end_line)
        for key, item in value.items():
            copy[key] = _copy(item)
        copy.key_lines.update(value.key_lines)
        return copy
    if type(value) is PosList:
        items = PosList(value.line, value.end_line)
        items.extend(_copy(item) for item in value)
        items.item_lines.extend(value.item_lines)
        return items
    return value


def _height(value: Any) -> int:
    if type(value) is PosDict:
        return 1 + max(map(_height, value.values()), default=0)
    if type(value) is PosList:
        return 1 + max(map(_height, value), default=0)
    return 0


def _skipped_scalar(event: Any) -> Any:
    """A dropped scalar's value; _KeepAll where the builder would refuse it."""
    text = event.value
    if event.tag is None:
        value = _plain(text) if event.implicit[0] else text
    else:
        try:
            value = _tagged(event.tag, text)
        except _BadScalar:
            raise _KeepAll from None
    if value.__class__ is float and not math.isfinite(value):
        raise _KeepAll
    return value


def _rule_of(obj: PosDict) -> dict[str, Any] | None:
    kind = obj.get("kind")
    if type(kind) is not str:
        return _KIND_NOT_YET_READ
    return _OBJECT_RULES.get(kind, _OTHER_KIND)


class _Builder:
    """Builds one document at a time from a parser's events.

    `lines` maps libyaml's 0-based line numbers to the 1-based lines an
    editor shows (they differ only after NEL, LS or PS characters).
    """

    def __init__(self, text: str, lines: Sequence[int], max_depth: int, drop: bool) -> None:
        self.text = text
        self.lines = lines
        self.max_depth = max_depth
        self.drop = drop
        # Bytes of the annotations dropped from each object (by id of its mapping).
        self.dropped: dict[int, int] = {}

    def document(self, get_event: Callable[[], Any], budget: int) -> Any:
        """The value of the document whose start event was just read, up to its end event.

        Raises _Failed for a document that cannot be used. The caller does not
        read the rest of that document: libyaml takes time quadratic in the
        nesting depth of flow collections, so 100,000 `[` would take minutes.
        """
        lines = self.lines
        max_depth = self.max_depth
        stack: list[_Frame] = []
        anchors: dict[str, _Anchored] = {}
        count = 0
        root: Any = None
        self.dropped = {}
        skip: Any = None  # _DROP or _DROP_STRING when the next value is to be dropped
        while True:
            event = get_event()
            cls = event.__class__
            if skip is not None:
                dropped = self._skip(event, get_event, stack, anchors, skip)
                skip = None
                if dropped is not None:
                    count += dropped
                    if count > budget:
                        raise _KeepAll
                    continue
            if cls is ScalarEvent:
                count += 1
                text = event.value
                tag = event.tag
                if tag is None:
                    # _plain(), inlined: this runs for every scalar of the upload.
                    if not event.implicit[0]:
                        value = text
                    elif text in _WORDS:
                        value = _WORDS[text]
                    elif text[:1] in _NUMBER_START:
                        value = _number(text)
                    else:
                        value = text
                elif tag == _MERGE_TAG and text == "<<":
                    value = text
                else:
                    try:
                        value = _tagged(tag, text)
                    except _BadScalar as bad:
                        line = lines[event.start_mark.line]
                        raise self._failure(stack, str(bad), line) from None
                if value.__class__ is float and not (math.isfinite(value) or self._at_key(stack)):
                    raise self._non_finite(stack, text, lines[event.start_mark.line])
                if event.anchor is not None:
                    anchors[event.anchor] = _Anchored(value, 1)
                if not stack:
                    root = value
                    continue
                frame = stack[-1]
                container = frame.container
                if isinstance(container, PosDict):
                    if frame.key is _NO_KEY:
                        line = lines[event.start_mark.line]
                        if type(value) is not str or value in container or value == "<<":
                            merge = (event.implicit[0] and tag is None) or tag == _MERGE_TAG
                            value = self._check_key(stack, value, text, line, merge)
                        frame.key = value
                        frame.key_line = line
                        rule = frame.rule
                        if rule is not None:
                            if rule is _OBJECT:
                                rule = _rule_of(container)
                            child = rule.get(value) if rule is not None else None
                            if child is _DROP or child is _DROP_STRING:
                                skip = child
                                frame.next_rule = None
                            else:
                                frame.next_rule = child
                    elif frame.key is _MERGE:
                        line = lines[event.start_mark.line]
                        message = f"the merge key ('<<') needs {_MERGE_VALUE}, not " + _describe(
                            value
                        )
                        raise self._failure(stack, message, line)
                    else:
                        container[frame.key] = value
                        container.key_lines[frame.key] = frame.key_line
                        frame.key = _NO_KEY
                else:
                    container.append(value)
                    container.item_lines.append(lines[event.start_mark.line])
                frame.last = event
            elif cls is MappingStartEvent or cls is SequenceStartEvent:
                count += 1
                line = lines[event.start_mark.line]
                is_map = cls is MappingStartEvent
                tag = event.tag
                if tag is not None and tag != "!" and tag != (_MAP if is_map else _SEQ):
                    what = "mapping" if is_map else "list"
                    message = f"unsupported YAML tag {shorten(_short_tag(tag))} on a {what}"
                    raise self._failure(stack, message, line)
                if self._at_key(stack):
                    what = "mapping" if is_map else "list"
                    raise self._failure(
                        stack, f"a mapping key must be a string, not a {what}", line
                    )
                if len(stack) >= max_depth:
                    raise self._failure(stack, f"nested more than {max_depth} levels deep", line)
                new: PosDict | PosList = PosDict(line) if is_map else PosList(line)
                rule = None
                if stack:
                    parent = stack[-1]
                    if type(parent.container) is PosDict:
                        rule = parent.next_rule
                        parent.next_rule = None
                    elif parent.rule is not None:
                        rule = parent.rule.get("*")
                elif self.drop:
                    rule = _OBJECT
                if rule is _OBJECT and not is_map:
                    rule = None
                new_frame = _Frame(new, event.anchor, count, bool(event.flow_style))
                new_frame.rule = rule
                stack.append(new_frame)
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                frame = stack.pop()
                container = frame.container
                end = lines[event.end_mark.line] if frame.flow else self._end_of(frame.last)
                container.end_line = end
                if frame.anchor is not None:
                    anchors[frame.anchor] = _Anchored(container, count - frame.count + 1)
                if not stack:
                    root = container
                    continue
                self._attach(stack, container, container.line, end)
            elif cls is AliasEvent:
                line = lines[event.start_mark.line]
                anchored = anchors.get(event.anchor)
                if anchored is None:
                    message = f"YAML syntax error: found undefined alias {shorten(event.anchor)}"
                    raise self._failure(stack, message, line)
                if anchored.value is _DROPPED:
                    raise _KeepAll
                count += anchored.size
                if count > budget:
                    raise self._failure(stack, _BOMB, line)
                value = anchored.value
                collection = type(value) is PosDict or type(value) is PosList
                if self._at_key(stack):
                    if collection:
                        message = "a mapping key must be a string, not an alias of a " + (
                            "mapping" if type(value) is PosDict else "list"
                        )
                        raise self._failure(stack, message, line)
                    self._check_key(stack, value, str(value), line, False)
                elif collection:
                    if len(stack) + _height(value) > max_depth:
                        message = f"nested more than {max_depth} levels deep"
                        raise self._failure(stack, message, line)
                    if stack and stack[-1].key is _MERGE and type(value) is PosList:
                        # go-yaml v2 merges a list written in place, not an alias of one.
                        message = f"the merge key ('<<') needs {_MERGE_VALUE}, not a list's alias"
                        raise self._failure(stack, message, line)
                    value = _copy(value)
                if not stack:
                    root = value
                    continue
                self._attach(stack, value, line, line)
            elif cls is DocumentEndEvent:
                return root

    def _skip(
        self,
        event: Any,
        get_event: Callable[[], Any],
        stack: list[_Frame],
        anchors: dict[str, _Anchored],
        skip: Any,
    ) -> int | None:
        """Read the value that starts with `event` without building it; None to build it after all.

        Returns how many nodes it counts for the alias budget. A skipped value
        is still checked for what makes Kubernetes refuse the whole object
        (unsupported tags, NaN and infinities, undefined aliases, depth), but
        not for duplicate keys, which cannot change what is analysed. When a
        check fails, the document is read again without dropping (_KeepAll),
        so that the problem names the exact field.
        """
        frame = stack[-1]
        lines = self.lines
        if skip is _DROP_STRING:
            if event.__class__ is not ScalarEvent or event.anchor is not None:
                return None
            value = _skipped_scalar(event)
            if type(value) is not str:
                return None
            obj = next(f for f in reversed(stack) if f.rule is _OBJECT).container
            size = len(str(frame.key).encode()) + len(value.encode())
            self.dropped[id(obj)] = self.dropped.get(id(obj), 0) + size
        count = 0
        depth = 0
        last: Any = frame.last
        opened: list[tuple[str | None, int, bool]] = []  # the open collections
        while True:
            cls = event.__class__
            count += 1
            if cls is ScalarEvent:
                if event.tag is not None or event.value in _NON_FINITE:
                    _skipped_scalar(event)
                if event.anchor is not None:
                    anchors[event.anchor] = _Anchored(_DROPPED, 1)
                last = event
            elif cls is MappingStartEvent or cls is SequenceStartEvent:
                tag = event.tag
                is_map = cls is MappingStartEvent
                if tag is not None and tag != "!" and tag != (_MAP if is_map else _SEQ):
                    raise _KeepAll
                depth += 1
                if len(stack) + depth > self.max_depth:
                    raise _KeepAll
                opened.append((event.anchor, count, bool(event.flow_style)))
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                depth -= 1
                anchor, started, flow = opened.pop()
                if anchor is not None:
                    anchors[anchor] = _Anchored(_DROPPED, count - started + 1)
                if flow:
                    last = lines[event.end_mark.line]
            elif cls is AliasEvent:
                anchored = anchors.get(event.anchor)
                if anchored is None:
                    raise _KeepAll
                count += anchored.size - 1
                last = lines[event.start_mark.line]
            if depth == 0:
                frame.key = _NO_KEY
                frame.last = last
                return count
            event = get_event()

    def _attach(self, stack: list[_Frame], value: Any, line: int, end: int) -> None:
        frame = stack[-1]
        container = frame.container
        if isinstance(container, PosDict):
            if frame.key is _NO_KEY:
                frame.key = value
                frame.key_line = line
            elif frame.key is _MERGE:
                self._merge(stack, value, line)
            else:
                container[frame.key] = value
                container.key_lines[frame.key] = frame.key_line
                frame.key = _NO_KEY
        else:
            container.append(value)
            container.item_lines.append(line)
        frame.last = end

    @staticmethod
    def _at_key(stack: list[_Frame]) -> bool:
        return bool(stack) and type(stack[-1].container) is PosDict and stack[-1].key is _NO_KEY

    def _check_key(self, stack: list[_Frame], key: Any, text: str, line: int, merge: bool) -> Any:
        """The key to wait a value for: `key`, or _MERGE for a merge key (`<<`)."""
        frame = stack[-1]
        if type(key) is not str:
            # sigs.k8s.io/yaml would turn `80:` or `on:` into the strings "80" and
            # "true"; refusing is clearer than a label key that silently changed.
            message = (
                f"mapping key {shorten(text)} is read as {_describe(key)}, not a string; quote it"
            )
            raise self._failure(stack, message, line)
        if merge and key == "<<":
            # go-yaml v2's isMerge: a plain (or !!merge) `<<`; a quoted one is a key.
            # Several merge keys in one mapping are allowed, as there.
            return _MERGE
        if key in frame.container:
            where = self._path(stack)
            message = f"duplicate key {shorten(key)}" + (f" at {where}" if where else "")
            merged_on = frame.merged.get(key) if frame.merged else None
            if merged_on is not None:
                message += f": the merge key ('<<') on line {merged_on} already sets it" + _TWICE
            raise self._failure(stack, message, line, _key_segment(where, key))
        return key

    def _merge(self, stack: list[_Frame], value: Any, line: int) -> None:
        """Merge `value` into the mapping being built, as go-yaml v2's strict decoder does.

        sigs.k8s.io/yaml/goyaml.v2/decode.go (`merge`, `setMapIndex`): the
        merged mappings are decoded into the same map, a list's from its last
        item to its first (so without strictness earlier items and later
        explicit keys win). Kubernetes decodes strictly (YAMLToJSONStrict),
        and there any key that is already set, merged or written out, is an
        error ("key already set in map"): a merge never overrides anything,
        so the order in which the keys are added does not matter.
        """
        frame = stack[-1]
        container = frame.container
        assert isinstance(container, PosDict)
        merge_line = frame.key_line
        if type(value) is PosDict:
            sources = [value]
        elif type(value) is PosList and all(type(item) is PosDict for item in value):
            sources = list(value)
        else:
            what = _describe(value)
            if type(value) is PosList:
                what = "a list with an item that is not a mapping"
            message = f"the merge key ('<<') needs {_MERGE_VALUE}, not {what}"
            raise self._failure(stack, message, merge_line)
        if frame.merged is None:
            frame.merged = {}
        for source in sources:
            for key, item in source.items():
                if key in container:
                    where = self._path_before_key(stack)
                    message = (
                        f"duplicate key {shorten(key)}"
                        + (f" at {where}" if where else "")
                        + f": the merge key ('<<') on line {merge_line} sets it again"
                        + f" (line {container.key_lines.get(key, container.line)} already did)"
                        + _TWICE
                    )
                    frame.key = _NO_KEY
                    raise self._failure(stack, message, merge_line, _key_segment(where, key))
                container[key] = item
                container.key_lines[key] = source.key_lines.get(key, source.line)
                frame.merged[key] = merge_line
        frame.key = _NO_KEY

    def _path_before_key(self, stack: list[_Frame]) -> str:
        frame = stack[-1]
        pending, frame.key = frame.key, _NO_KEY
        try:
            return self._path(stack)
        finally:
            frame.key = pending

    def _non_finite(self, stack: list[_Frame], text: str, line: int) -> _Failed:
        """sigs.k8s.io/yaml converts each document to JSON with Go's encoding/json, which
        refuses NaN and infinities ("json: unsupported value"): the object is not applied."""
        message = (
            f"{shorten(text)} is not a number JSON can hold (NaN and infinities are refused "
            "when Kubernetes converts YAML to JSON); quote it if it is text"
        )
        return self._failure(stack, message, line)

    def _end_of(self, last: Any) -> int:
        """The last line with content of the entry added last to a block collection."""
        if type(last) is int:
            return last
        if last.style not in ("|", ">"):
            return int(self.lines[last.end_mark.line])
        # libyaml ends a block scalar where the next token starts, after any
        # blank lines; its last line with content is before those.
        event = last
        end = event.end_mark.index
        start = event.start_mark.index
        stop = end
        text = self.text
        while stop > start and text[stop - 1] in " \t\n":
            stop -= 1
        return int(self.lines[event.end_mark.line]) - text.count("\n", stop, end)

    @staticmethod
    def _path(stack: list[_Frame]) -> str:
        path = ""
        for frame in stack:
            if type(frame.container) is PosDict:
                if frame.key is _NO_KEY:
                    break
                path = _key_segment(path, str(frame.key))
            else:
                path += f"[{len(frame.container)}]"
        return path

    def _failure(
        self, stack: list[_Frame], message: str, line: int, path: str | None = None
    ) -> _Failed:
        """A refusal naming the object as far as it was read (kind and name come early)."""
        kind = name = None
        # The object is the document, or the item of a List being read.
        at = 0
        if (
            len(stack) > 2
            and stack[0].key == "items"
            and type(stack[1].container) is PosList
            and type(stack[2].container) is PosDict
        ):
            at = 2
        root = stack[at].container if stack else None
        if type(root) is PosDict:
            kind = root.get("kind") if isinstance(root.get("kind"), str) else None
            metadata = root.get("metadata")
            if metadata is None and stack[at].key == "metadata" and len(stack) > at + 1:
                metadata = stack[at + 1].container
            if isinstance(metadata, PosDict) and isinstance(metadata.get("name"), str):
                name = metadata["name"]
        where = path if path is not None else (self._path(stack) or None)
        return _Failed(_Refused(message, line, where, kind, name))


_BOMB = "document expands aliases beyond its size (possible alias bomb); left out"
_TWICE = ", and Kubernetes' strict decoding refuses a key that is set twice"


class _Failed(Exception):
    """Raised out of the event loop for a document that cannot be used."""

    def __init__(self, refusal: _Refused) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


# --- Files into documents -----------------------------------------------------


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
            fast = _read_json_list(self.text, self.chunks[0], self.limits)
            if fast is not None:
                self.outcomes[0] = fast
                return self.outcomes
        return self._read_windows()

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
            outcome = self._read_json(chunk)
            if outcome is not None:
                self.outcomes[number] = outcome
                return
        last_line = chunk.line + self.text.count("\n", chunk.start, max(chunk.start, chunk.end - 1))
        line = min(max(failure.line or chunk.line, chunk.line), last_line)
        self.outcomes[number] = _Outcome(None, _Refused(failure.message, line))

    def _read_json(self, chunk: _Chunk) -> _Outcome | None:
        """JSON that YAML refuses (tabs used as indentation, say), read as JSON."""
        text = self.text[chunk.content : chunk.body_end]
        first = chunk.line + self.text.count("\n", chunk.start, chunk.content)
        too_deep = _Refused(f"nested more than {self.limits.max_depth} levels deep", first)
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
            return _Outcome(_from_json(value, first, last, self.limits.max_depth))
        except _TooDeep:
            return _Outcome(None, too_deep)


class _NotPlain(Exception):
    """JSON the fast path does not read; the YAML path reads it and names any problem."""


def _read_json_list(text: str, chunk: _Chunk, limits: Limits) -> _Outcome | None:
    """A whole-file JSON object (`kubectl get -o json`) read with the json module.

    Only a document that decodes cleanly is read here; anything else (a
    duplicate key, NaN, too deep, not an object) returns None, and the YAML
    path reads it as before, so problems are the same either way. Every item
    of `items` gets the lines where it starts and ends; NetworkPolicies,
    whose rules are shown by file:line, are read again alone by the YAML
    path for the line of every field.
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
        root, end = _scan_object(text, start, decoder, first, limits, dropped)
    except (_NotPlain, _DuplicateJsonKey, _TooDeep, RecursionError, ValueError):
        return None
    if text[end : chunk.body_end].strip() or root.get("kind") in _POLICY_KINDS:
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
    text: str, start: int, decoder: _Scan, first: int, limits: Limits, dropped: dict[int, int]
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
            value, at = _scan_items(text, value_at, decoder, line, limits, dropped)
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
    text: str, start: int, decoder: _Scan, line: int, limits: Limits, dropped: dict[int, int]
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
        if isinstance(raw, dict) and raw.get("kind") in _POLICY_KINDS:
            item = _policy_with_lines(text[item_at:at], line, limits)
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


def _policy_with_lines(text: str, line: int, limits: Limits) -> Any:
    """One policy item read by the YAML path, for the line of each of its fields."""
    chunk = _Chunk(0, len(text), line, 0, 0, len(text))
    reader = _FileReader(text, [chunk], Limits(limits.max_bytes, 1, limits.max_depth - 2))
    outcome = reader._read_windows().get(0)
    if outcome is None or outcome.value is None:
        raise _NotPlain  # the YAML path will name what is wrong
    return outcome.value


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


def _prune(value: dict[str, Any], rule: dict[str, Any]) -> int:
    """Remove what `rule` drops (see _OBJECT_RULES) from decoded JSON, in place.

    Returns the UTF-8 bytes of the dropped annotations (RawObject.dropped_annotation_bytes).
    """
    size = 0
    for key, sub in rule.items():
        if key not in value:
            continue
        child = value[key]
        if sub is _DROP:
            del value[key]
        elif sub is _DROP_STRING:
            if type(child) is str:
                size += len(key.encode()) + len(child.encode())
                del value[key]
        elif isinstance(child, dict) and isinstance(sub, dict):
            size += _prune(child, sub)
        elif isinstance(child, list) and isinstance(sub, dict) and isinstance(sub.get("*"), dict):
            for item in child:
                if isinstance(item, dict):
                    size += _prune(item, sub["*"])
    return size


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
    objects: list[RawObject] = []
    problems: list[Problem] = []
    if not _LIBYAML:
        problems.append(Problem(Severity.WARNING, "libyaml is not available; parsing is slower"))
    for source, text, chunks in files:
        collector = _Collector(source.name)
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
        objects.extend(collector.objects)
        problems.extend(collector.problems)
    return objects, problems
