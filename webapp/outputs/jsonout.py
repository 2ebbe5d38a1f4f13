"""The analysis document as JSON (CONTRACT §3), and its `--pairs` form as a stream.

`document_bytes` is the one written form of a document, wherever it goes
(`analyze --format json`, the API's bodies, `export.json`, what storage keeps):
compact but line-oriented, for people and diffs. Each top-level key is on a
line of its own, and each item of a top-level list (nodes, groups, flows, denials,
policies, clusterPolicies, findings, problems, notes) on one line, written by orjson without
spaces. Pretty-printing with an indent of 2 made the document about 1.7 times
as large (7.5 MiB against 4.3 for 20,000 pods in 50 namespaces).

`json_bytes` writes any other value (answers, findings, SARIF) as
`json.dumps(value, indent=2, ensure_ascii=False)` did, several times faster.

Values orjson refuses (keys that are not strings, integers beyond 64 bits)
go through the standard library, which then writes or refuses them as it
always did. Documents hold no floats; those orjson spells in its own way
(`1e16`, not `1e+16`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson

from webapp.outputs.wording import Groups

CHUNK = 2048
"""Pair flows per chunk written."""

ITEM_SEPARATOR = b",\n    "


def json_bytes(value: Any) -> bytes:
    """`json.dumps(value, indent=2, ensure_ascii=False)` and a newline, as UTF-8."""
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n"
    except TypeError:
        text = json.dumps(value, indent=2, ensure_ascii=False) + "\n"
        return text.encode("utf-8", "surrogatepass")


def to_json(value: Any) -> str:
    """`json_bytes` as text (for `click.echo` and templates)."""
    return json_bytes(value).decode("utf-8", "surrogatepass")


def compact(value: Any) -> bytes:
    """`value` on one line without spaces.

    What orjson refuses goes through the standard library, escaped to ASCII:
    a lone surrogate (which UTF-8 cannot carry) then stays valid text.
    """
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode("ascii")


def _item_lines(items: list[Any]) -> bytes:
    return b"[\n    " + ITEM_SEPARATOR.join(map(compact, items)) + b"\n  ]"


def document_bytes(document: Mapping[str, Any]) -> bytes:
    """The document's written form: a key per line, an item of a top-level list per line.

    `json.loads` of it equals the document; it ends with a newline.
    """
    if not document:
        return b"{}\n"
    lines = [
        b"  " + compact(key) + b": "
        + (_item_lines(value) if isinstance(value, list) and value else compact(value))
        for key, value in document.items()
    ]
    return b"{\n" + b",\n".join(lines) + b"\n}\n"


def document_text(document: Mapping[str, Any]) -> str:
    """`document_bytes` as text (what the web app stores and serves)."""
    return document_bytes(document).decode("utf-8")


def pairs_document_head(
    doc: Mapping[str, Any], marker: str, denials_marker: str | None = None
) -> dict[str, Any]:
    """The `--pairs` document with `marker` where the flows go (and `denials_marker` where
    the denials go, when the document has them): no `groups`, and the summary's `flows`
    counts pairs, since each flow is one pair."""
    head = {k: v for k, v in doc.items() if k != "groups"}
    head["flows"] = marker
    if denials_marker is not None and "denials" in doc:
        head["denials"] = denials_marker
    summary = doc.get("summary")
    if isinstance(summary, Mapping) and "pairs" in summary:
        head["summary"] = {**summary, "flows": summary["pairs"]}
    return head


def _split(text: bytes, *markers: str) -> list[bytes]:
    """`text` cut at each marker's JSON string, in order."""
    parts = []
    for marker in markers:
        head, text = text.split(orjson.dumps(marker), 1)
        parts.append(head)
    return [*parts, text]


def pairs_json(doc: Mapping[str, Any]) -> Iterator[bytes]:
    """The document with one flow per pair of nodes (`--pairs`), in chunks.

    The same bytes as `document_bytes` of that document (pairs in the order
    of `webapp.core.document.pair_flows`), but each pair's flow is the bytes
    of its group flow with the two node ids put in, so memory is one group
    flow at a time and the cost per pair is a join. Denials (with cluster-wide
    policies) are listed per pair of nodes the same way, since groups are left out.
    """
    flows_at, denials_at = uuid.uuid4().hex, uuid.uuid4().hex
    head = document_bytes(pairs_document_head(doc, flows_at, denials_at))
    if "denials" in doc:
        # The document's key order puts the denials after the flows.
        before, between, after = _split(head, flows_at, denials_at)
    else:
        (before, after), between = _split(head, flows_at), None
    yield before
    groups = Groups(doc)
    listed = bool(doc.get("groups"))
    yield from _per_pair(doc.get("flows") or (), groups, listed)
    if between is not None:
        yield between
        yield from _per_pair(doc.get("denials") or (), groups, listed)
    yield after


def _per_pair(items: Iterable[Mapping[str, Any]], groups: Groups, listed: bool) -> Iterator[bytes]:
    """A top-level list of the document, each item between groups written once per pair of
    nodes (a != b) it stands for, as `document_bytes` writes a list."""
    source_at, target_at = uuid.uuid4().hex, uuid.uuid4().hex
    ids: dict[str, bytes] = {}

    def quoted(node_id: str) -> bytes:
        if node_id not in ids:
            ids[node_id] = compact(node_id)
        return ids[node_id]

    chunk: list[bytes] = []
    separator = b"[\n    "
    for item in items:
        if not listed:  # already one item per pair
            chunk += (separator, compact(item))
            separator = ITEM_SEPARATOR
            continue
        template = {**item, "source": source_at, "target": target_at, "pairs": 1}
        start, middle, end = _split(compact(template), source_at, target_at)
        for a in groups.of(str(item["source"])):
            qa = quoted(a)
            for b in groups.of(str(item["target"])):
                if a != b:
                    chunk += (separator, start, qa, middle, quoted(b), end)
                    separator = ITEM_SEPARATOR
                    if len(chunk) >= 6 * CHUNK:
                        yield b"".join(chunk)
                        chunk = []
    yield b"".join(chunk)
    yield b"[]" if separator == b"[\n    " else b"\n  ]"
