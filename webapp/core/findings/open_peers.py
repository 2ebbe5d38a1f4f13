"""internet-open and any-namespace: peers open to every address or every namespace.

An ipBlock of 0.0.0.0/0 or ::/0 covers every address, and an empty
namespaceSelector (`{}`) matches every namespace ("Behavior of to and from
selectors", https://kubernetes.io/docs/concepts/services-networking/network-policies/).
"""

from __future__ import annotations

from collections.abc import Iterator

from webapp.core.findings.registry import Hit, Level, Result, check
from webapp.core.findings.upload import Upload
from webapp.core.findings.wording import peer_path, selector_text
from webapp.core.model import Direction, IPBlockPeer, PodPeer, Rule
from webapp.core.portset import resolve_ports
from webapp.core.text import shorten


def _reach(rule: Rule) -> tuple[str, str]:
    """How a rule's peers are let through: the verb, and the ports (empty for all)."""
    verb = "admits" if rule.direction is Direction.INGRESS else "allows traffic to"
    ports = resolve_ports(rule.ports, ())
    on = "" if ports.is_all else f" on {ports}"
    if rule.ports and not ports:
        on = " on named ports"  # resolved per destination, so not listed here
    return verb, on


@check(
    id="internet-open",
    severity=Level.MEDIUM,
    summary="A rule open to the whole internet (ipBlock 0.0.0.0/0 or ::/0).",
)
def internet_open(u: Upload) -> Iterator[Result]:
    """A /0 ipBlock matches every external address; with cluster-wide policies, the Admin
    tier decides first, so the message says when no external traffic gets through by it."""
    external = _external_rules(u) if u.ev.tiers else None
    for policy, rule in u.rules():
        for i, peer in enumerate(rule.peers):
            if not (isinstance(peer, IPBlockPeer) and peer.cidr.prefixlen == 0):
                continue
            verb, on = _reach(rule)
            but = f" except {', '.join(str(e) for e in peer.excepts)}" if peer.excepts else ""
            regions = tuple(m for c in u.ev.peer_classes(peer) for m in c.members)
            overridden = external is not None and id(rule) not in external
            yield Hit(
                f"{peer_path(rule, i)} of {shorten(policy.id)} has ipBlock {peer.cidr}{but}: "
                f"it {verb} every external address{on}"
                + (
                    "; but Admin ClusterNetworkPolicy rules decide that traffic first, so no "
                    "external address gets through by this rule"
                    if overridden
                    else ""
                ),
                u.selected(policy) + regions,
                (policy.id,),
                rule.source,
                Level.LOW if overridden else None,
            )


def _external_rules(u: Upload) -> set[int]:
    """The NetworkPolicy rules (by id) that some flow to or from an external address names."""
    external = {g.id for g in u.evaluation.grouped.groups if g.external}
    return {
        id(g.rule)
        for f in u.evaluation.grouped.flows
        if f.source in external or f.target in external
        for g in f.verdict.egress + f.verdict.ingress
    }


@check(
    id="any-namespace",
    severity=Level.LOW,
    summary="A rule open to every namespace (namespaceSelector: {}).",
)
def any_namespace(u: Upload) -> Iterator[Result]:
    """`namespaceSelector: {}` matches every namespace."""
    for policy, rule in u.rules():
        for i, peer in enumerate(rule.peers):
            if not (
                isinstance(peer, PodPeer)
                and not peer.same_namespace
                and peer.namespace_selector.is_empty
            ):
                continue
            verb, on = _reach(rule)
            pods = (
                "every pod"
                if peer.pod_selector.is_empty
                else f"pods matching {selector_text(peer.pod_selector)}"
            )
            yield Hit(
                f"{peer_path(rule, i)} of {shorten(policy.id)} has namespaceSelector: {{}}: "
                f"it {verb} {pods} in every namespace{on}",
                u.selected(policy),
                (policy.id,),
                rule.source,
            )
