"""A slow, obviously-correct point evaluator, written from the Kubernetes docs alone.

It answers one question — may this packet (source, destination, protocol,
port) pass? — by looking at every policy, with none of the fast evaluator's
classes, caches or maps. Property tests compare the two.
https://kubernetes.io/docs/concepts/services-networking/network-policies/
"""

from __future__ import annotations

import ipaddress

from webapp.core.model import (
    Action,
    AnyPeer,
    ClusterPolicy,
    ClusterRule,
    Direction,
    DomainPeer,
    Inventory,
    IPBlockPeer,
    NetworksPeer,
    NodesPeer,
    NodeType,
    PodPeer,
    Policy,
    Protocol,
    Rule,
    Tier,
)
from webapp.core.portset import PortSet
from webapp.core.scene import Endpoint, Scene


def _sample_address(e: Endpoint) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """Any address of an external region: the region is treated alike throughout."""
    return ipaddress.ip_network(e.cidrs[0]).network_address


def _peer_matches(peer: object, policy: Policy, e: Endpoint, scene: Scene) -> bool:
    if isinstance(peer, AnyPeer):
        return True
    if isinstance(peer, IPBlockPeer):
        if e.type is not NodeType.IPBLOCK:
            return False  # pods (and domain names, nodes) are never matched by ipBlock
        addr = _sample_address(e)
        if addr.version != peer.cidr.version or addr not in peer.cidr:
            return False
        return not any(addr in x for x in peer.excepts)
    assert isinstance(peer, PodPeer)
    if e.type.is_external or e.host_network:
        return False
    assert e.namespace is not None
    if peer.same_namespace and e.namespace != policy.namespace:
        return False
    ns_labels = dict(scene.namespaces[e.namespace].labels)
    return peer.namespace_selector.matches(ns_labels) and peer.pod_selector.matches(dict(e.labels))


def _port_matches(rule: Rule | ClusterRule, dst: Endpoint, protocol: Protocol, port: int) -> bool:
    if not rule.ports:
        return True
    for spec in rule.ports:
        if spec.protocol != protocol:
            continue
        if spec.port is None:
            return True
        if isinstance(spec.port, int):
            end = spec.end_port if spec.end_port is not None else spec.port
            if spec.port <= port <= end:
                return True
            continue
        for cp in dst.ports:
            if cp.name == spec.port and cp.protocol == protocol and cp.port == port:
                return True
    return False


def _selecting(inv: Inventory, e: Endpoint, direction: Direction) -> list[Policy]:
    if e.type.is_external or e.host_network:
        return []
    return [
        p
        for p in inv.policies
        if p.namespace == e.namespace
        and direction in p.policy_types
        and p.pod_selector.matches(dict(e.labels))
    ]


def _side_allows(
    inv: Inventory,
    scene: Scene,
    me: Endpoint,
    other: Endpoint,
    dst: Endpoint,
    direction: Direction,
    protocol: Protocol,
    port: int,
) -> bool:
    policies = _selecting(inv, me, direction)
    if not policies:
        return True
    for p in policies:
        for rule in p.rules(direction):
            if any(_peer_matches(peer, p, other, scene) for peer in rule.peers) and _port_matches(
                rule, dst, protocol, port
            ):
                return True
    return False


def allowed(
    inv: Inventory, scene: Scene, src: Endpoint, dst: Endpoint, protocol: Protocol, port: int
) -> bool:
    """Whether a packet from src to dst on (protocol, port) passes both sides."""
    return _side_allows(
        inv, scene, src, dst, dst, Direction.EGRESS, protocol, port
    ) and _side_allows(inv, scene, dst, src, dst, Direction.INGRESS, protocol, port)


# --- every pair at once, for the group invariant -----------------------------

RuleKey = tuple[str, Direction, int]
"""(policy id, direction, rule index): a rule, as a Verdict's grants name it."""


def _rule_ports(rule: Rule, dst: Endpoint) -> PortSet:
    """The (protocol, port) pairs a rule allows towards dst, spelled out from its ports list."""
    if not rule.ports:
        return PortSet.all()
    ranges: list[tuple[Protocol, int, int]] = []
    for spec in rule.ports:
        if spec.port is None:
            ranges.append((spec.protocol, 1, 65535))
        elif isinstance(spec.port, int):
            end = spec.end_port if spec.end_port is not None else spec.port
            ranges.append((spec.protocol, spec.port, end))
        else:
            ranges.extend(
                (spec.protocol, cp.port, cp.port)
                for cp in dst.ports
                if cp.name == spec.port and cp.protocol == spec.protocol
            )
    return PortSet.of(ranges)


def _side(
    inv: Inventory, scene: Scene, me: Endpoint, other: Endpoint, dst: Endpoint, d: Direction
) -> tuple[PortSet, list[tuple[RuleKey, PortSet]]] | None:
    """What one side allows and by which rules; None when no policy isolates `me`."""
    policies = _selecting(inv, me, d)
    if not policies:
        return None
    ports = PortSet()
    rules: list[tuple[RuleKey, PortSet]] = []
    for p in policies:
        for rule in p.rules(d):
            if any(_peer_matches(peer, p, other, scene) for peer in rule.peers):
                allowed_here = _rule_ports(rule, dst)
                ports = ports | allowed_here
                rules.append(((p.id, d, rule.index), allowed_here))
    return ports, rules


def pairwise_flows(
    inv: Inventory, scene: Scene
) -> dict[tuple[str, str], tuple[PortSet, list[RuleKey], list[RuleKey], bool]]:
    """Every allowed ordered pair of distinct endpoints, one at a time, straight from the policies.

    Value: (ports, egress rules, ingress rules, default allow); a side's rules
    are those whose ports survive the other side, in policy and rule order.
    """
    out = {}
    for src in scene.endpoints:
        for dst in scene.endpoints:
            if src.id == dst.id or (src.type.is_external and dst.type.is_external):
                continue
            eg = _side(inv, scene, src, dst, dst, Direction.EGRESS)
            ing = _side(inv, scene, dst, src, dst, Direction.INGRESS)
            ports = (eg[0] if eg else PortSet.all()) & (ing[0] if ing else PortSet.all())
            if not ports:
                continue
            out[(src.id, dst.id)] = (
                ports,
                [k for k, p in (eg[1] if eg else []) if p & ports],
                [k for k, p in (ing[1] if ing else []) if p & ports],
                eg is None and ing is None,
            )
    return out


# --- the tiers of cluster-wide policies, literally (doc §3.2) ------------------------
#
# One (subject, peer, protocol, port) at a time: the Admin tier's policies whose
# subject selects the pod, sorted by (priority, name), each one's rules in written
# order, the first whose peers and ports match decides; then NetworkPolicy if it
# isolates the pod for this direction; then the Baseline tier; then allow.


def _cluster_peer_matches(inv: Inventory, scene: Scene, peer: object, e: Endpoint) -> bool:
    if isinstance(peer, PodPeer):  # namespaces / pods: never hostNetwork pods
        if e.type.is_external or e.host_network:
            return False
        assert e.namespace is not None
        ns_labels = dict(scene.namespaces[e.namespace].labels)
        return peer.namespace_selector.matches(ns_labels) and peer.pod_selector.matches(
            dict(e.labels)
        )
    if isinstance(peer, NetworksPeer):  # external addresses only, as an ipBlock
        if e.type is not NodeType.IPBLOCK:
            return False
        addr = _sample_address(e)
        return any(addr.version == c.version and addr in c for c in peer.cidrs)
    if isinstance(peer, DomainPeer):  # symbolic: only its own pattern
        return e.type is NodeType.DOMAIN and e.id == f"dns:{peer.pattern}"
    assert isinstance(peer, NodesPeer)
    if e.type is not NodeType.NODE:
        return False
    if not inv.cluster_nodes:
        return e.id == f"node:{peer.selector}"
    names = set(e.id.removeprefix("node:").split(","))
    return all(peer.selector.matches(dict(n.labels)) for n in inv.cluster_nodes if n.name in names)


def _subjects(inv: Inventory, scene: Scene, e: Endpoint, tier: Tier) -> list[ClusterPolicy]:
    if e.type.is_external or e.host_network:
        return []  # hostNetwork pods are never subjects
    found = [
        p
        for p in inv.cluster_policies
        if p.tier is tier and _cluster_peer_matches(inv, scene, p.subject, e)
    ]
    return sorted(found, key=lambda p: (p.priority, p.name))


ClusterKey = tuple[str, Direction, int]


def tier_decision(
    inv: Inventory,
    scene: Scene,
    me: Endpoint,
    other: Endpoint,
    dst: Endpoint,
    direction: Direction,
    protocol: Protocol,
    port: int,
) -> tuple[str, tuple[ClusterKey, ...], tuple[RuleKey, ...]]:
    """(outcome, the cluster rules on the way in order, the NetworkPolicy rules allowing),
    outcome one of accept, deny, networkpolicy-allow, networkpolicy-isolated, default."""
    steps: list[ClusterKey] = []

    def first_match(tier: Tier) -> ClusterRule | None:
        for policy in _subjects(inv, scene, me, tier):
            for rule in policy.rules(direction):
                if any(
                    _cluster_peer_matches(inv, scene, peer, other) for peer in rule.peers
                ) and _port_matches(rule, dst, protocol, port):
                    steps.append((policy.id, direction, rule.index))
                    return rule
        return None

    rule = first_match(Tier.ADMIN)
    if rule is not None and rule.action is Action.ACCEPT:
        return "accept", tuple(steps), ()
    if rule is not None and rule.action is Action.DENY:
        return "deny", tuple(steps), ()
    # No Admin rule matched, or a Pass: NetworkPolicy, if it isolates this direction.
    if not (me.type.is_external or me.host_network) and _selecting(inv, me, direction):
        allowing = tuple(
            (p.id, direction, r.index)
            for p in _selecting(inv, me, direction)
            for r in p.rules(direction)
            if any(_peer_matches(peer, p, other, scene) for peer in r.peers)
            and _port_matches(r, dst, protocol, port)
        )
        return (
            ("networkpolicy-allow" if allowing else "networkpolicy-isolated"),
            tuple(steps),
            allowing,
        )
    rule = first_match(Tier.BASELINE)
    if rule is not None and rule.action is Action.ACCEPT:
        return "accept", tuple(steps), ()
    if rule is not None and rule.action is Action.DENY:
        return "deny", tuple(steps), ()
    return "default", tuple(steps), ()  # nothing matched, or a Baseline Pass


def tier_allowed(
    inv: Inventory, scene: Scene, src: Endpoint, dst: Endpoint, protocol: Protocol, port: int
) -> bool:
    """Egress of src and ingress of dst must both allow (an egress Accept does not bypass
    ingress); an external end decides nothing."""
    ok = ("accept", "networkpolicy-allow", "default")
    eg = tier_decision(inv, scene, src, dst, dst, Direction.EGRESS, protocol, port)
    ing = tier_decision(inv, scene, dst, src, dst, Direction.INGRESS, protocol, port)
    return eg[0] in ok and ing[0] in ok
