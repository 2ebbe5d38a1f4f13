"""Cluster-wide policies built directly as model objects, for evaluation tests.

The YAML reader for ClusterNetworkPolicy is written separately; these
builders give the evaluator exactly the objects that reader produces
(webapp.core.model: ClusterPolicy, ClusterRule, the peer union), so the
tests pin the semantics independently of parsing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from webapp.core.model import (
    NAME_LABEL,
    Action,
    AnyPeer,
    ClusterNode,
    ClusterPeer,
    ClusterPolicy,
    ClusterRule,
    ContainerPort,
    Direction,
    DomainPeer,
    Inventory,
    Namespace,
    NetworksPeer,
    NodesPeer,
    Peer,
    PodPeer,
    Policy,
    PortSpec,
    Protocol,
    Rule,
    Source,
    Tier,
    Workload,
    labels_of,
)
from webapp.core.selectors import Selector

FILE = "cluster.yaml"


def namespaces(labels: Mapping[str, str] | None = None) -> PodPeer:
    """`namespaces: {matchLabels: labels}` (every pod of those namespaces)."""
    return PodPeer(Selector(), Selector.of(labels or {}))


def pods(pod_labels: Mapping[str, str], ns_labels: Mapping[str, str] | None = None) -> PodPeer:
    """`pods: {namespaceSelector: ns_labels, podSelector: pod_labels}`."""
    return PodPeer(Selector.of(pod_labels), Selector.of(ns_labels or {}))


def in_namespace(name: str, pod_labels: Mapping[str, str] | None = None) -> PodPeer:
    return PodPeer(Selector.of(pod_labels or {}), Selector.of({NAME_LABEL: name}))


def networks(*cidrs: str) -> NetworksPeer:
    return NetworksPeer(tuple(ipaddress.ip_network(c) for c in cidrs))


def domain(pattern: str) -> DomainPeer:
    return DomainPeer(pattern)


def nodes(labels: Mapping[str, str] | None = None) -> NodesPeer:
    return NodesPeer(Selector.of(labels or {}))


def tcp(port: int, end: int | None = None) -> PortSpec:
    return PortSpec(Protocol.TCP, port, end)


def udp(port: int, end: int | None = None) -> PortSpec:
    return PortSpec(Protocol.UDP, port, end)


def named(name: str) -> tuple[PortSpec, ...]:
    """destinationNamedPort: the container port of that name, whatever its protocol."""
    return tuple(PortSpec(p, name) for p in Protocol)


@dataclass(frozen=True)
class R:
    """A rule to be numbered by `cnp`: action, peers, ports (empty = all), name."""

    action: Action
    peers: Sequence[ClusterPeer]
    ports: Sequence[PortSpec] = ()
    name: str | None = None


def accept(*peers: ClusterPeer, ports: Sequence[PortSpec] = (), name: str | None = None) -> R:
    return R(Action.ACCEPT, peers, ports, name)


def deny(*peers: ClusterPeer, ports: Sequence[PortSpec] = (), name: str | None = None) -> R:
    return R(Action.DENY, peers, ports, name)


def pass_(*peers: ClusterPeer, ports: Sequence[PortSpec] = (), name: str | None = None) -> R:
    return R(Action.PASS, peers, ports, name)


def cnp(
    name: str,
    subject: PodPeer,
    *,
    tier: Tier = Tier.ADMIN,
    priority: int = 10,
    ingress: Sequence[R] = (),
    egress: Sequence[R] = (),
    kind: str = "ClusterNetworkPolicy",
    document: int = 0,
) -> ClusterPolicy:
    """A ClusterPolicy whose rules have distinct lines of FILE (10 per rule, from the policy's)."""
    base = 100 * (document + 1)

    def rules(direction: Direction, specs: Sequence[R], offset: int) -> tuple[ClusterRule, ...]:
        return tuple(
            ClusterRule(
                direction,
                i,
                r.name,
                r.action,
                tuple(r.peers),
                tuple(r.ports),
                Source(FILE, document, base + offset + 2 * i),
            )
            for i, r in enumerate(specs)
        )

    return ClusterPolicy(
        kind,
        name,
        tier,
        priority,
        subject,
        rules(Direction.INGRESS, ingress, 10),
        rules(Direction.EGRESS, egress, 60),
        Source(FILE, document, base),
    )


def workload(
    namespace: str,
    name: str,
    labels: Mapping[str, str] | None = None,
    ports: Sequence[tuple[str | None, int, Protocol]] = (),
    host_network: bool = False,
    pods: int = 1,
) -> Workload:
    return Workload(
        "Deployment",
        namespace,
        name,
        labels_of(dict(labels or {"app": name})),
        tuple(ContainerPort(n, p, proto) for n, p, proto in ports),
        pods=pods,
        host_network=host_network,
        source=Source("pods.yaml", 0, 1),
    )


def namespace(name: str, **labels: str) -> Namespace:
    return Namespace(name, labels_of({**labels, NAME_LABEL: name}), Source("ns.yaml", 0, 1))


NPRule = tuple[Sequence[Peer], Sequence[PortSpec]]


def netpol(
    namespace: str,
    name: str,
    selector: Mapping[str, str] | None = None,
    *,
    ingress: Sequence[NPRule] | None = None,
    egress: Sequence[NPRule] | None = None,
) -> Policy:
    """A NetworkPolicy; a direction given (even as []) is in policyTypes. A rule is
    (peers, ports); no peers means every peer."""

    def rules(direction: Direction, specs: Sequence[NPRule]) -> tuple[Rule, ...]:
        return tuple(
            Rule(
                direction,
                i,
                tuple(peers) or (AnyPeer(),),
                tuple(ports),
                Source("np.yaml", 0, 10 + i),
            )
            for i, (peers, ports) in enumerate(specs)
        )

    types = frozenset(
        d
        for d, given in ((Direction.INGRESS, ingress), (Direction.EGRESS, egress))
        if given is not None
    )
    return Policy(
        namespace,
        name,
        Selector.of(selector or {}),
        types,
        rules(Direction.INGRESS, ingress or ()),
        rules(Direction.EGRESS, egress or ()),
        Source("np.yaml", 0, 1),
    )


def inventory(
    namespaces_: Sequence[Namespace],
    workloads: Sequence[Workload],
    policies: Sequence[Policy] = (),
    cluster: Sequence[ClusterPolicy] = (),
    cluster_nodes: Sequence[ClusterNode] = (),
) -> Inventory:
    return Inventory(
        tuple(namespaces_),
        tuple(workloads),
        tuple(policies),
        cluster_policies=tuple(cluster),
        cluster_nodes=tuple(cluster_nodes),
    )


def node(name: str, **labels: str) -> ClusterNode:
    return ClusterNode(name, labels_of(labels), Source("nodes.yaml", 0, 1))
