"""A slow, obviously-correct point evaluator, written from the Kubernetes docs alone.

It answers one question — may this packet (source, destination, protocol,
port) pass? — by looking at every policy, with none of the fast evaluator's
classes, caches or maps. Property tests compare the two.
https://kubernetes.io/docs/concepts/services-networking/network-policies/
"""

from __future__ import annotations

import ipaddress

from webapp.core.model import (
    AnyPeer,
    Direction,
    Inventory,
    IPBlockPeer,
    NodeType,
    PodPeer,
    Policy,
    Protocol,
    Rule,
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
            return False  # pods are never matched by ipBlock (our stated assumption)
        addr = _sample_address(e)
        if addr.version != peer.cidr.version or addr not in peer.cidr:
            return False
        return not any(addr in x for x in peer.excepts)
    assert isinstance(peer, PodPeer)
    if e.type is NodeType.IPBLOCK or e.host_network:
        return False
    assert e.namespace is not None
    if peer.same_namespace and e.namespace != policy.namespace:
        return False
    ns_labels = dict(scene.namespaces[e.namespace].labels)
    return peer.namespace_selector.matches(ns_labels) and peer.pod_selector.matches(dict(e.labels))


def _port_matches(rule: Rule, dst: Endpoint, protocol: Protocol, port: int) -> bool:
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
    if e.type is NodeType.IPBLOCK or e.host_network:
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
            if src.id == dst.id or src.type is dst.type is NodeType.IPBLOCK:
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
