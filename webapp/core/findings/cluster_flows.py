"""cnp-overridden-allow: a NetworkPolicy rule allows traffic that an Admin Deny drops first.

The Admin tier is evaluated before NetworkPolicy: "Deny: dropped; no further
ClusterNetworkPolicy or NetworkPolicy rules are processed"
(policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicy, Action; the notes in
../shared/docs/cluster-network-policy.md §3.2). A namespace owner reading only
their NetworkPolicy would expect the traffic to pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from webapp.core.evaluate import IN, ClusterGrant
from webapp.core.findings.registry import Hit, Level, Result, check
from webapp.core.findings.upload import Upload
from webapp.core.findings.wording import rule_path
from webapp.core.model import Policy, Rule, Tier
from webapp.core.portset import NO_PORTS, PortSet
from webapp.core.text import shorten


@dataclass(slots=True)
class _Overridden:
    deny: str
    ports: PortSet = NO_PORTS
    pairs: int = 0
    nodes: dict[str, None] = field(default_factory=dict)


@check(
    id="cnp-overridden-allow",
    severity=Level.MEDIUM,
    summary="A NetworkPolicy rule allows traffic that an Admin-tier Deny rule of a "
    "cluster-wide policy drops before NetworkPolicy is consulted.",
)
def cnp_overridden_allow(u: Upload) -> Iterator[Result]:
    """Per Admin Deny of a pair of groups: the NetworkPolicy rules of the same side, whose
    peers match the other end, that would allow some of the dropped ports."""
    grouped = u.evaluation.grouped
    members = {g.id: g.members for g in grouped.groups}
    found: dict[tuple[int, int, int, int], tuple[Policy, Rule, _Overridden]] = {}
    for d in grouped.denials:
        if d.rule.policy.tier is not Tier.ADMIN:
            continue
        src, dst = u.ev.class_of[members[d.source][0]], u.ev.class_of[members[d.target][0]]
        me, other = (dst, src) if d.direction is IN else (src, dst)
        for policy in me.isolated[d.direction]:
            for rule in policy.rules(d.direction):
                if not any(u.ev.peer_matches(p, other) for p in rule.peers):
                    continue
                ports = u.ev.rule_ports(rule, dst) & d.ports
                if not ports:
                    continue
                key = (id(policy), rule.index, id(d.rule.policy), d.rule.rule.index)
                entry = found.setdefault(key, (policy, rule, _Overridden(_deny_text(d.rule))))
                over = entry[2]
                over.ports = over.ports | ports
                over.pairs += d.pairs
                for g in (d.source, d.target):
                    over.nodes.update(dict.fromkeys(members[g]))
    for policy, rule, over in found.values():
        yield Hit(
            f"{rule_path(rule)} of NetworkPolicy {shorten(policy.id)} allows {over.ports} that "
            f"{over.deny} drops first, for {over.pairs} pair"
            f"{'s' if over.pairs != 1 else ''} of nodes: the Admin tier decides before "
            "NetworkPolicy, so this allow never applies there",
            tuple(over.nodes),
            (policy.id,),
            rule.source,
        )


def _deny_text(g: ClusterGrant) -> str:
    """The Deny rule as explanations name it, with the uploaded names quoted."""
    name = f" {shorten(g.rule.name)}" if g.rule.name else ""
    return (
        f"{g.policy.tier} {g.policy.kind} {shorten(g.policy.name)} priority {g.policy.priority} "
        f"{g.rule.direction}[{g.rule.index}]{name} Deny"
    )
