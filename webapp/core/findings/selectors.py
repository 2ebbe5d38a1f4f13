"""Selectors that select or match nothing, and peers ORed where AND was likely meant.

From https://kubernetes.io/docs/concepts/services-networking/network-policies/:
spec.podSelector chooses the pods of the policy's namespace that it applies
to; a peer's namespaceSelector and podSelector in one `from`/`to` item are
ANDed, while separate items are ORed ("Behavior of to and from selectors");
a peer with a podSelector alone looks only in the policy's namespace.
Labels are matched as apimachinery does (webapp.core.selectors).
"""

from __future__ import annotations

from collections.abc import Iterator

from webapp.core.findings.registry import Hit, Level, Result, Unchecked, check
from webapp.core.findings.upload import Upload
from webapp.core.findings.wording import (
    names,
    peer_path,
    peers_key,
    rule_path,
    selector_text,
    suggestion,
)
from webapp.core.model import NodeType, PodPeer, Policy, Rule
from webapp.core.text import shorten


@check(
    id="peers-or-likely-and",
    severity=Level.MEDIUM,
    summary="A rule lists a namespaceSelector-only peer and a podSelector-only peer (OR) where "
    "one peer with both selectors (AND) was likely meant.",
)
def peers_or_likely_and(u: Upload) -> Iterator[Result]:
    """Separate from/to items are ORed; one item with both selectors is their AND."""
    for policy, rule in u.rules():
        ns_only = [
            (i, p)
            for i, p in enumerate(rule.peers)
            if isinstance(p, PodPeer)
            and not p.same_namespace
            and p.pod_selector.is_empty
            and not p.namespace_selector.is_empty
        ]
        pod_only = [
            (i, p)
            for i, p in enumerate(rule.peers)
            if isinstance(p, PodPeer) and p.same_namespace and not p.pod_selector.is_empty
        ]
        if not (ns_only and pod_only):
            continue
        (ni, np), (pi, pp) = ns_only[0], pod_only[0]
        key = peers_key(rule)
        widened = {m for _, p in ns_only for c in u.ev.peer_classes(p) for m in c.members}
        nodes = dict.fromkeys(
            [*u.selected(policy), *(e.id for e in u.scene.endpoints if e.id in widened)]
        )
        yield Hit(
            f"{rule_path(rule)}.{key} of {shorten(policy.id)} lists namespaceSelector "
            f"({selector_text(np.namespace_selector)}) as {key}[{ni}] and podSelector "
            f"({selector_text(pp.pod_selector)}) as {key}[{pi}]: separate peers are ORed, "
            "so every pod of those namespaces is allowed, and the podSelector looks only "
            f"in {shorten(policy.namespace)}; if pods matching both were meant, put both "
            "selectors in one peer",
            tuple(nodes),
            (policy.id,),
            rule.source,
        )


@check(
    id="peer-matches-nothing",
    severity=Level.MEDIUM,
    summary="A peer selector matches no uploaded workload or namespace (often a label typo).",
    needs_workloads=True,
)
def peer_matches_nothing(u: Upload) -> Iterator[Result]:
    """A peer matches by namespace labels AND pod labels; if nothing matches, it allows nothing."""
    for policy, rule in u.rules():
        for index, peer in enumerate(rule.peers):
            if isinstance(peer, PodPeer):
                yield from _unmatched_peer(u, policy, rule, index, peer)


def _unmatched_peer(
    u: Upload, policy: Policy, rule: Rule, index: int, peer: PodPeer
) -> Iterator[Result]:
    """The namespaceSelector first (it decides where the podSelector looks), then the pods."""
    path = peer_path(rule, index)
    if peer.same_namespace:
        namespaces = [policy.namespace]
    else:
        namespaces = [
            name
            for name in u.ev.namespaces_matching(peer.namespace_selector)
            if not u.scene.namespaces[name].inferred
        ]
        if not namespaces:
            if not u.defined_namespaces:
                yield Unchecked(policies=(policy.id,), namespace_labels=True)
                return
            hint = suggestion(
                peer.namespace_selector,
                (dict(ns.labels) for ns in u.defined_namespaces.values()),
            )
            yield Hit(
                f"{path}.namespaceSelector ({selector_text(peer.namespace_selector)}) of "
                f"{shorten(policy.id)} matches no uploaded namespace{hint}",
                u.selected(policy),
                (policy.id,),
                rule.source,
            )
            return
    if peer.pod_selector.is_empty:
        return  # every pod of those namespaces: nothing to mistype
    if any(
        u.ev.endpoint[m].type is NodeType.WORKLOAD
        for c in u.ev.peer_classes(peer)
        for m in c.members
    ):
        return
    unknown = tuple(n for n in namespaces if not u.has_workloads(n))
    if unknown:
        yield Unchecked(namespaces=unknown, policies=(policy.id,))
        return
    candidates = [w for n in namespaces for w in u.workloads_in[n]]
    hint = suggestion(peer.pod_selector, (dict(w.labels) for w in candidates))
    elsewhere = u.workloads_matching(peer.pod_selector, set(namespaces))
    if elsewhere and not hint:
        hint = (
            f"; it would match {names(f'{w.namespace}/{w.name}' for w in elsewhere)}"
            ": is a namespaceSelector missing from this peer?"
        )
    yield Hit(
        f"{path}.podSelector ({selector_text(peer.pod_selector)}) of "
        f"{shorten(policy.id)} matches no uploaded workload in {names(namespaces)}{hint}",
        u.selected(policy),
        (policy.id,),
        rule.source,
    )


@check(
    id="policy-selects-nothing",
    severity=Level.MEDIUM,
    summary="A policy whose podSelector selects no uploaded workload, so it protects nothing.",
    needs_workloads=True,
)
def policy_selects_nothing(u: Upload) -> Iterator[Result]:
    """spec.podSelector chooses the pods of the policy's namespace that it applies to."""
    for p in u.policies:
        if not u.has_workloads(p.namespace):
            yield Unchecked(namespaces=(p.namespace,), policies=(p.id,))
            continue
        if u.selected(p):
            continue
        here = u.workloads_in[p.namespace]
        hint = suggestion(p.pod_selector, (dict(w.labels) for w in here))
        elsewhere = u.workloads_matching(p.pod_selector, {p.namespace})
        if elsewhere and not hint:
            hint = (
                f"; it would select {names(f'{w.namespace}/{w.name}' for w in elsewhere)}: "
                "is metadata.namespace right?"
            )
        if any(w.host_network for w in here) and not hint:
            hint = "; hostNetwork pods are never selected"
        yield Hit(
            f"NetworkPolicy {shorten(p.id)} selects no uploaded workload: spec.podSelector "
            f"({selector_text(p.pod_selector)}) matches no pod in {shorten(p.namespace)}{hint}",
            (),
            (p.id,),
            p.source,
        )
