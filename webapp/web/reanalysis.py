"""Stored analyses as this version serves them: documents upgraded to version 2, and the
re-analyses of stored inputs kept warm, per process, for the questions asked of them.

Upgrade (CONTRACT §4: a link keeps working after upgrades of the document
version). A row whose document is not version 2 (a share link made before
it) is re-analysed from its stored input on first read and the version-2
document is written back with `Storage.upgrade`, a compare-and-swap, so it is
done once and two servers upgrading one row at once cannot tear it. The old
document's rule excerpts are kept: the stored input has no text to cut them
from. A row without a usable input (stored before inputs were kept, or
refused by this version's validation) is migrated as it stands: every node a
group of its own and every pairwise flow a flow of one pair, a version-2
document that says exactly what the old one said.

Warm analyses. A why / why not question needs the evaluator, and
re-analysing a 5,000-pod input takes seconds. `Warm` keeps the `Analysis` of
the inputs asked about last, keyed by share id, least recently used first
out, bounded by count and by a rough size (the stored input's length times
what an analysis keeps per byte of it, measured on bench/generate.py
clusters). A delete through this process discards its entry; every route
still looks the id up in storage first, so an analysis deleted through
another process is never answered from here.

Why re-analysing in the server's own process is safe, when uploads are
analysed in a child with a CPU budget: an upload is untrusted, anything may
be in it. What is re-analysed here is only stored input, the sanitized form
of an upload that this server already accepted after its analysis finished
within the budget. That form is smaller than the upload (no YAML, aliases or
text, only the fields the analysis reads) and goes through the same
deterministic code, so it costs about what the budget already allowed.
Nothing from the request but the share id reaches it. It runs holding one of
the process's analysis slots, so at most that many run at once, and once per
id (concurrent questions on one id wait for the one re-analysis). A question
answered from a warm analysis costs one `explain` of one pair: milliseconds.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, cast

from webapp.core import Analysis, UnusableInput, analyze_stored
from webapp.core.document import (
    VERSION,
    DocumentJSON,
    FlowJSON,
    GroupJSON,
    PolicyJSON,
)
from webapp.outputs.jsonout import document_text
from webapp.web.analysis import to_json
from webapp.web.storage import Storage, StoredAnalysis

log = logging.getLogger(__name__)

BYTES_PER_INPUT_BYTE = 6
"""What an Analysis keeps per byte of its stored input (about 4.8 on the 5,000-pod cluster)."""

LEADING_VERSION = re.compile(r'\s*\{\s*"version"\s*:\s*(\d+)\s*[,}]')


def document_version(document: str) -> int | None:
    """The `version` of a stored document, read from its first bytes when it leads (as every
    document this code writes does), else parsed; None when it has none."""
    match = LEADING_VERSION.match(document[:64])
    if match:
        return int(match[1])
    try:
        parsed = json.loads(document)
    except ValueError:
        return None
    version = parsed.get("version") if isinstance(parsed, dict) else None
    return version if isinstance(version, int) else None


@dataclass(frozen=True, slots=True)
class _Entry:
    value: Any
    size: int


ANALYSIS = "analysis"


class Warm:
    """What this process derived from stored analyses, by share id and name (the
    re-analysis of the input, the report's data): at most `entries` values and about
    `max_bytes` in all, least recently used out first. Each is built once at a time."""

    def __init__(self, entries: int, max_bytes: int) -> None:
        self.entries = entries
        self.max_bytes = max_bytes
        self._cache: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._building: dict[tuple[str, str], threading.Lock] = {}
        self.analyses = 0
        """How many re-analyses this process ran (a test counts them)."""

    def analysis(self, key: str, stored_input: Callable[[], str]) -> Analysis:
        """The analysis of `key`'s stored input (`stored_input()` is called only to build
        it); raises UnusableInput when that input can no longer be analysed."""

        def build() -> tuple[Analysis, int]:
            text = stored_input()
            started = time.monotonic()
            analysis = analyze_stored(json.loads(text))
            with self._lock:
                self.analyses += 1
            log.info(
                "analysis %s… re-analysed from its stored input in %.2f s",
                key[:8],
                time.monotonic() - started,
            )
            return analysis, len(text) * BYTES_PER_INPUT_BYTE

        return cast(Analysis, self.get(key, ANALYSIS, build))

    def get(self, key: str, name: str, build: Callable[[], tuple[Any, int]]) -> Any:
        """The value `name` of share id `key`; `build()` gives it and its rough size in
        bytes when it is not warm (concurrent callers wait for the one build)."""
        slot = (key, name)
        with self._lock:
            entry = self._hit(slot)
            if entry is not None:
                return entry.value
            building = self._building.setdefault(slot, threading.Lock())
        with building:
            try:
                with self._lock:
                    entry = self._hit(slot)
                if entry is not None:
                    return entry.value
                value, size = build()
                self._keep(slot, _Entry(value, size))
                return value
            finally:
                with self._lock:
                    self._building.pop(slot, None)

    def peek(self, key: str, name: str = ANALYSIS) -> Any:
        """The value `name` of `key` if it is warm (a hit), else None."""
        with self._lock:
            entry = self._hit((key, name))
        return entry.value if entry else None

    def discard(self, key: str) -> None:
        """Forget everything derived from share id `key` (it was deleted)."""
        with self._lock:
            for slot in [slot for slot in self._cache if slot[0] == key]:
                self._bytes -= self._cache.pop(slot).size

    def _hit(self, slot: tuple[str, str]) -> _Entry | None:
        entry = self._cache.get(slot)
        if entry is not None:
            self._cache.move_to_end(slot)
        return entry

    def _keep(self, slot: tuple[str, str], entry: _Entry) -> None:
        with self._lock:
            if entry.size > self.max_bytes or self.entries < 1:
                return  # answered, but too large to keep
            old = self._cache.pop(slot, None)
            self._bytes += entry.size - (old.size if old else 0)
            self._cache[slot] = entry
            while len(self._cache) > self.entries or self._bytes > self.max_bytes:
                _slot, evicted = self._cache.popitem(last=False)
                self._bytes -= evicted.size


@dataclass(frozen=True)
class Answer:
    """A why / why not answer as JSON text, or which end of the question names no node."""

    json: str | None = None
    unknown: str | None = None
    """"from" or "to" when that end names no node (or several)."""
    message: str = ""
    candidates: tuple[str, ...] = ()


def explain_pair(
    analysis: Analysis, source: str, target: str, protocol: str | None, port: int | None
) -> Answer:
    """Why traffic from `source` to `target` (as the CLI's `query` names them) is allowed or
    denied; the answer is the JSON of `netpol-viz query --format json`."""
    from webapp.core.explain import explain
    from webapp.core.model import Protocol
    from webapp.review import UnknownNode, explanation_json, resolve_node

    ids = []
    for end, text in (("from", source), ("to", target)):
        try:
            ids.append(resolve_node(analysis, text))
        except UnknownNode as error:
            return Answer(unknown=end, message=str(error), candidates=error.candidates)
    proto = Protocol(protocol) if protocol else None
    explanation = explain(analysis.evaluator, ids[0], ids[1], proto, port)
    return Answer(json=to_json(explanation_json(explanation, analysis)))


def upgraded(stored: StoredAnalysis, storage: Storage, warm: Warm, version: str) -> StoredAnalysis:
    """`stored` with a version-2 document, written back when it had another version."""
    if document_version(stored.document) == VERSION:
        return stored
    old = json.loads(stored.document)
    if not isinstance(old, dict):
        old = {}
    document: Mapping[str, Any]
    try:
        if not stored.input:
            raise UnusableInput("stored without its input")
        analysis = warm.analysis(stored.id, lambda: stored.input)
        document = with_rule_texts(analysis.document, old)
    except (UnusableInput, ValueError) as error:
        log.info("analysis %s… migrated as it stands: %s", stored.id[:8], error)
        document = as_version_2(old)
    text = document_text(document)
    if storage.upgrade(stored.id, stored.document, text, version):
        log.info(
            "analysis %s… upgraded from document version %s to %d",
            stored.id[:8],
            old.get("version"),
            VERSION,
        )
    return replace(stored, document=text, netpol_viz_version=version)


def with_rule_texts(document: DocumentJSON, old: Mapping[str, Any]) -> DocumentJSON:
    """`document` with the rule excerpts of the old document of the same upload (for
    NetworkPolicies and cluster-wide policies alike)."""
    texts = {
        (str(p.get("id")), str(r.get("direction")), r.get("rule")): r
        for key in ("policies", "clusterPolicies")
        for p in old.get(key) or ()
        if isinstance(p, dict)
        for r in p.get("rules") or ()
        if isinstance(r, dict) and r.get("text")
    }
    if not texts:
        return document

    def rules_of(policy: Mapping[str, Any]) -> list[Any]:
        rules = []
        for rule in policy["rules"]:
            found = texts.get((policy["id"], rule["direction"], rule["rule"]))
            if found and found.get("line") == rule["line"]:
                rule = {**rule, "text": str(found["text"]), "endLine": found.get("endLine")}
            rules.append(rule)
        return rules

    policies: list[PolicyJSON] = [
        {**policy, "rules": rules_of(policy)} for policy in document["policies"]
    ]
    out: DocumentJSON = {**document, "policies": policies}
    if "clusterPolicies" in document:
        out["clusterPolicies"] = [
            {**policy, "rules": rules_of(policy)} for policy in document["clusterPolicies"]
        ]
    return out


def as_version_2(old: Mapping[str, Any]) -> dict[str, Any]:
    """A version-1 document as version 2 without re-analysis: each node its own group (a
    group of one has the node's id), each pairwise flow a flow of one pair."""
    nodes = [
        {**n, "group": str(n.get("id"))} for n in old.get("nodes") or () if isinstance(n, dict)
    ]
    groups: list[GroupJSON] = [{"id": n["group"], "nodes": [n["group"]]} for n in nodes]
    flows = [
        cast(FlowJSON, {**f, "pairs": 1}) for f in old.get("flows") or () if isinstance(f, dict)
    ]
    summary = old.get("summary")
    document: dict[str, Any] = {
        **old,
        "version": VERSION,
        "nodes": nodes,
        "groups": groups,
        "flows": flows,
    }
    for key in ("policies", "findings", "problems"):
        document.setdefault(key, [])
    if isinstance(summary, dict):
        document["summary"] = {
            **summary,
            "groups": len(groups),
            "flows": len(flows),
            "pairs": len(flows),
        }
    return document
