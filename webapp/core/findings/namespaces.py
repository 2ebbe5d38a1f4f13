"""namespace-not-defined: a policy in a namespace the upload does not define.

A NetworkPolicy applies only to pods of its own namespace (metadata.namespace,
`default` when omitted), so a mistyped namespace protects nothing there. Only
uploads that define Namespaces can be compared with.
"""

from __future__ import annotations

from collections.abc import Iterator

from webapp.core.findings.registry import Hit, Level, Result, check
from webapp.core.findings.upload import Upload
from webapp.core.findings.wording import close_match
from webapp.core.text import shorten

BUILTIN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
"""Namespaces every cluster has, so an upload need not define them."""


@check(
    id="namespace-not-defined",
    severity=Level.LOW,
    summary="A policy in a namespace that the upload (which defines namespaces) does not define.",
)
def namespace_not_defined(u: Upload) -> Iterator[Result]:
    """A policy in a namespace the upload does not define may carry a mistyped namespace."""
    if not u.defined_namespaces:
        return  # nothing to compare with
    for p in u.policies:
        if p.namespace in u.defined_namespaces or p.namespace in BUILTIN_NAMESPACES:
            continue
        close = close_match(p.namespace, sorted(u.defined_namespaces))
        hint = f"; did you mean {shorten(close)}?" if close else ""
        yield Hit(
            f"NetworkPolicy {shorten(p.id)} is in namespace {shorten(p.namespace)}, which "
            f"the upload does not define{hint}",
            u.selected(p),
            (p.id,),
            p.source,
        )
