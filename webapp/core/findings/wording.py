"""How findings name things: nodes, lists, rule and peer paths, and typo suggestions.

Every uploaded string passes through `shorten` (webapp.core.text), which
quotes it, makes hidden characters visible and bounds its length.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence

from webapp.core.model import NAME_LABEL, Direction, NodeType, Rule
from webapp.core.scene import Endpoint
from webapp.core.selectors import Operator, Selector
from webapp.core.text import shorten

SIMILAR = 0.75
"""difflib ratio from which a name counts as a likely typo of another."""


def node_text(e: Endpoint) -> str:
    if e.type is NodeType.WORKLOAD:
        return f"{e.kind} {shorten(f'{e.namespace}/{e.name}')}"
    if e.type is NodeType.INFERRED:
        return f"inferred node {shorten(e.name)}"
    return f"addresses {shorten(e.name)}"


def names(items: Iterable[str], limit: int = 5) -> str:
    """`'a', 'b' and 3 more`."""
    listed = list(items)
    more = f" and {len(listed) - limit} more" if len(listed) > limit else ""
    return ", ".join(shorten(i) for i in listed[:limit]) + more


def rule_path(rule: Rule) -> str:
    return f"spec.{rule.direction}[{rule.index}]"


def peers_key(rule: Rule) -> str:
    return "from" if rule.direction is Direction.INGRESS else "to"


def peer_path(rule: Rule, index: int) -> str:
    return f"{rule_path(rule)}.{peers_key(rule)}[{index}]"


def selector_text(selector: Selector) -> str:
    return shorten(str(selector), 80)


def close_match(word: str, candidates: Sequence[str]) -> str | None:
    """The candidate `word` most likely misspells, if any is close enough."""
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=SIMILAR)
    return close[0] if close else None


def _label_terms(selector: Selector) -> list[str]:
    """The `key=value` (or bare key) terms a selector requires, for typo suggestions."""
    terms: list[str] = []
    for r in selector.requirements:
        if r.operator is Operator.IN:
            terms.extend(f"{r.key}={v}" for v in r.values)
        elif r.operator is Operator.EXISTS:
            terms.append(r.key)
    return terms


def suggestion(selector: Selector, label_sets: Iterable[Mapping[str, str]]) -> str:
    """`; did you mean 'app=postgres' instead of 'app=postgre'?` when an existing label is
    close to one the selector requires; empty otherwise."""
    existing: set[str] = set()
    for labels in label_sets:
        for k, v in labels.items():
            if k != NAME_LABEL:
                existing.update((f"{k}={v}", k))
    for term in _label_terms(selector):
        if term in existing:
            continue
        close = close_match(term, sorted(existing))
        if close:
            return f"; did you mean {shorten(close)} instead of {shorten(term)}?"
    return ""
