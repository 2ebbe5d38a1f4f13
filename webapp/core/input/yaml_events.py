"""YAML parser events into positioned values, one document at a time.

libyaml (`yaml.CParser`) produces *events*; `_Builder` builds PosDict,
PosList and scalars from them with an explicit stack, recording the line of
every key and item. PyYAML's resolver and constructors are not used (they
read YAML 1.1, where `1:20` is 80, and the unsafe ones build Python objects
from tags; see `scalars`), and neither is libyaml's composer: it recurses in
C, so about 100,000 nested `[` crash the process. Events never recurse, and
the depth limit is checked before anything deep is built.

While reading it also applies what `kubectl apply` applies: duplicate keys
are errors (strict decoding), merge keys (`<<`) merge as go-yaml v2's strict
decoder merges them, aliases are expanded with a budget of nodes per
document (its length plus 1000, so "billion laughs" is refused after a few
hundred events), and NaN or infinities are refused as Kubernetes' YAML-to-JSON
conversion refuses them. Fields the analysis never reads are skipped as they
arrive (`drops`). A document that cannot be used raises `_Failed` with its
`_Refused`, which `sources` turns into a Problem.

Reference: https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from webapp.core.input.documents import _Refused
from webapp.core.input.drops import _DROP, _DROP_STRING, _OBJECT, _rule_of
from webapp.core.input.raw import PosDict, PosList
from webapp.core.input.scalars import (
    _MAP,
    _MERGE_TAG,
    _NON_FINITE,
    _NUMBER_START,
    _SEQ,
    _WORDS,
    _BadScalar,
    _describe,
    _number,
    _plain,
    _short_tag,
    _tagged,
)
from webapp.core.text import escape, shorten

_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*\Z")


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


_DROPPED: Any = object()  # the value of an anchor written inside a dropped field


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


def _unsupported(tag: str, is_map: bool) -> bool:
    """Whether a collection's explicit tag is neither `!` nor the standard one of its kind."""
    return tag != "!" and tag != (_MAP if is_map else _SEQ)


def _skipped_alias(event: Any, anchors: dict[str, _Anchored]) -> int:
    """The nodes that an alias in a dropped value adds to the count; _KeepAll if undefined."""
    anchored = anchors.get(event.anchor)
    if anchored is None:
        raise _KeepAll
    return anchored.size - 1


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
        # The document's value, set when its top-level node is complete.
        self.root: Any = None

    def document(self, get_event: Callable[[], Any], budget: int) -> Any:
        """The value of the document whose start event was just read, up to its end event.

        Raises _Failed for a document that cannot be used. The caller does not
        read the rest of that document: libyaml takes time quadratic in the
        nesting depth of flow collections, so 100,000 `[` would take minutes.
        `budget` is how many nodes the document may count, aliases expanded.
        """
        stack: list[_Frame] = []
        anchors: dict[str, _Anchored] = {}
        self.root = None
        self.dropped = {}
        # Bound once: this loop runs for every event of the upload.
        scalar, start, end, alias = self._scalar, self._start, self._end, self._alias
        count = 0  # nodes read, for the alias budget
        skip: Any = None  # _DROP or _DROP_STRING when the next value is to be dropped
        while True:
            event = get_event()
            cls = event.__class__
            if skip is not None:
                skipped = self._skip(event, get_event, stack, anchors, skip)
                skip = None
                if skipped is not None:
                    count += skipped
                    if count > budget:
                        raise _KeepAll
                    continue
            if cls is ScalarEvent:
                count += 1
                skip = scalar(event, stack, anchors)
            elif cls is MappingStartEvent or cls is SequenceStartEvent:
                count += 1
                start(event, stack, count)
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                end(event, stack, anchors, count)
            elif cls is AliasEvent:
                count = alias(event, stack, anchors, count, budget)
            elif cls is DocumentEndEvent:
                return self.root

    def _scalar(self, event: Any, stack: list[_Frame], anchors: dict[str, _Anchored]) -> Any:
        """Add a scalar; returns _DROP or _DROP_STRING when it is a key whose value is dropped."""
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
            value = self._tagged(event, stack)
        if value.__class__ is float and not (math.isfinite(value) or self._at_key(stack)):
            raise self._non_finite(stack, text, self.lines[event.start_mark.line])
        if event.anchor is not None:
            anchors[event.anchor] = _Anchored(value, 1)
        if not stack:
            self.root = value
            return None
        frame = stack[-1]
        container = frame.container
        if isinstance(container, PosDict):
            if frame.key is _NO_KEY:
                return self._key(event, value, stack, container)
            if frame.key is _MERGE:
                message = f"the merge key ('<<') needs {_MERGE_VALUE}, not " + _describe(value)
                raise self._failure(stack, message, self.lines[event.start_mark.line])
            container[frame.key] = value
            container.key_lines[frame.key] = frame.key_line
            frame.key = _NO_KEY
        else:
            container.append(value)
            container.item_lines.append(self.lines[event.start_mark.line])
        frame.last = event
        return None

    def _tagged(self, event: Any, stack: list[_Frame]) -> Any:
        """A scalar with an explicit tag, or the refusal of its document."""
        try:
            return _tagged(event.tag, event.value)
        except _BadScalar as bad:
            raise self._failure(stack, str(bad), self.lines[event.start_mark.line]) from None

    def _key(self, event: Any, key: Any, stack: list[_Frame], container: PosDict) -> Any:
        """Make the scalar just read the pending key of `container`, the mapping being built.

        Returns _DROP or _DROP_STRING when the mapping's rule drops the key's value.
        """
        frame = stack[-1]
        line = self.lines[event.start_mark.line]
        if type(key) is not str or key in container or key == "<<":
            tag = event.tag
            merge = (event.implicit[0] and tag is None) or tag == _MERGE_TAG
            key = self._check_key(stack, key, event.value, line, merge)
        frame.key = key
        frame.key_line = line
        frame.last = event
        rule = frame.rule
        if rule is None:
            return None
        if rule is _OBJECT:
            rule = _rule_of(container)
        child = rule.get(key) if rule is not None else None
        if child is _DROP or child is _DROP_STRING:
            frame.next_rule = None
            return child
        frame.next_rule = child
        return None

    def _start(self, event: Any, stack: list[_Frame], count: int) -> None:
        """Open the mapping or list whose start event was just read."""
        line = self.lines[event.start_mark.line]
        is_map = event.__class__ is MappingStartEvent
        tag = event.tag
        if tag is not None and _unsupported(tag, is_map):
            what = "mapping" if is_map else "list"
            message = f"unsupported YAML tag {shorten(_short_tag(tag))} on a {what}"
            raise self._failure(stack, message, line)
        if self._at_key(stack):
            what = "mapping" if is_map else "list"
            raise self._failure(stack, f"a mapping key must be a string, not a {what}", line)
        if len(stack) >= self.max_depth:
            raise self._failure(stack, f"nested more than {self.max_depth} levels deep", line)
        new: PosDict | PosList = PosDict(line) if is_map else PosList(line)
        # What to drop among its entries: the rule its parent has for it (see drops).
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
        frame = _Frame(new, event.anchor, count, bool(event.flow_style))
        frame.rule = rule
        stack.append(frame)

    def _end(
        self, event: Any, stack: list[_Frame], anchors: dict[str, _Anchored], count: int
    ) -> None:
        """Close the collection whose end event was just read, and add it to its parent."""
        frame = stack.pop()
        container = frame.container
        end = self.lines[event.end_mark.line] if frame.flow else self._end_of(frame.last)
        container.end_line = end
        if frame.anchor is not None:
            anchors[frame.anchor] = _Anchored(container, count - frame.count + 1)
        if not stack:
            self.root = container
            return
        self._attach(stack, container, container.line, end)

    def _alias(
        self,
        event: Any,
        stack: list[_Frame],
        anchors: dict[str, _Anchored],
        count: int,
        budget: int,
    ) -> int:
        """Add a copy of the anchored value; returns the node count with its nodes added."""
        line = self.lines[event.start_mark.line]
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
            if len(stack) + _height(value) > self.max_depth:
                message = f"nested more than {self.max_depth} levels deep"
                raise self._failure(stack, message, line)
            if stack and stack[-1].key is _MERGE and type(value) is PosList:
                # go-yaml v2 merges a list written in place, not an alias of one.
                message = f"the merge key ('<<') needs {_MERGE_VALUE}, not a list's alias"
                raise self._failure(stack, message, line)
            value = _copy(value)
        if stack:
            self._attach(stack, value, line, line)
        else:
            self.root = value
        return count

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
        if skip is _DROP_STRING and not self._drop_string(event, stack):
            return None
        return self._skip_value(event, get_event, stack, anchors)

    def _skip_value(
        self,
        event: Any,
        get_event: Callable[[], Any],
        stack: list[_Frame],
        anchors: dict[str, _Anchored],
    ) -> int:
        """Read the value that starts with `event` to its end; returns the nodes it counts."""
        frame = stack[-1]
        lines = self.lines
        count = 0
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
                unsupported = tag is not None and _unsupported(tag, cls is MappingStartEvent)
                if unsupported or len(stack) + len(opened) >= self.max_depth:
                    raise _KeepAll
                opened.append((event.anchor, count, bool(event.flow_style)))
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                anchor, started, flow = opened.pop()
                if anchor is not None:
                    anchors[anchor] = _Anchored(_DROPPED, count - started + 1)
                if flow:
                    last = lines[event.end_mark.line]
            elif cls is AliasEvent:
                count += _skipped_alias(event, anchors)
                last = lines[event.start_mark.line]
            if not opened:
                frame.key = _NO_KEY
                frame.last = last
                return count
            event = get_event()

    def _drop_string(self, event: Any, stack: list[_Frame]) -> bool:
        """Whether the value (of an annotation) is a string to drop; its bytes are counted."""
        if event.__class__ is not ScalarEvent or event.anchor is not None:
            return False
        value = _skipped_scalar(event)
        if type(value) is not str:
            return False
        frame = stack[-1]
        obj = next(f for f in reversed(stack) if f.rule is _OBJECT).container
        size = len(str(frame.key).encode()) + len(value.encode())
        self.dropped[id(obj)] = self.dropped.get(id(obj), 0) + size
        return True

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
