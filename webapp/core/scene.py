"""The endpoints of an analysis: uploaded workloads, inferred pods, external regions.

Namespaces that objects or policies name without the upload defining them
are created with only the `kubernetes.io/metadata.name` label, as the API
server would label them; a warning says so, except for the initial
namespaces every cluster has (default, kube-system, kube-public,
kube-node-lease: kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/).
A namespace in which the upload describes no pods is described by "inferred"
endpoints instead (policies-only mode): one per distinct pod selector that
policies use there, plus one for any other pod. A namespaceSelector that
matches no known namespace gets an inferred namespace with the labels it
requires (e.g. `team=payments`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from webapp.core.addresses import Region, partition
from webapp.core.model import (
    NAME_LABEL,
    ContainerPort,
    DomainPeer,
    Inventory,
    IPBlockPeer,
    Labels,
    Namespace,
    NetworksPeer,
    NodesPeer,
    NodeType,
    PodPeer,
    Policy,
    Problem,
    Severity,
    Source,
    labels_of,
)
from webapp.core.selectors import LabelIndex, Operator, Selector


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One node of the analysis: something traffic comes from or goes to."""

    id: str
    type: NodeType
    name: str
    namespace: str | None = None
    kind: str | None = None
    labels: Labels = ()
    ports: tuple[ContainerPort, ...] = ()
    pods: int = 0
    host_network: bool = False
    source: Source | None = None
    cidrs: tuple[str, ...] = ()
    selector: str | None = None
    """For inferred endpoints: the selector they stand for."""


@dataclass(frozen=True, slots=True)
class Scene:
    namespaces: dict[str, Namespace]
    endpoints: tuple[Endpoint, ...]
    """Pods (workload and inferred) first, then external regions."""
    regions: tuple[Region, ...]
    blocks: tuple[IPBlockPeer, ...]
    """Every distinct ipBlock of the upload, then each CIDR of a cluster policy's `networks`
    peers as an ipBlock of its own; Region.blocks indexes this."""
    problems: tuple[Problem, ...]
    node_selectors: dict[str, frozenset[Selector]] = field(default_factory=dict)
    """Per "node" endpoint: the `nodes` selectors that match it."""


def pod_peers(policy: Policy) -> list[PodPeer]:
    return [p for r in policy.ingress + policy.egress for p in r.peers if isinstance(p, PodPeer)]


def cluster_pod_peers(inv: Inventory) -> list[tuple[PodPeer, Source]]:
    """Every subject and pod or namespace peer of the cluster-wide policies, with its policy's
    source: in policies-only mode they name pods as NetworkPolicy selectors do."""
    out: list[tuple[PodPeer, Source]] = []
    for cp in inv.cluster_policies:
        out.append((cp.subject, cp.source))
        out += [
            (peer, cp.source)
            for r in cp.ingress + cp.egress
            for peer in r.peers
            if isinstance(peer, PodPeer)
        ]
    return out


def _named_namespace(selector: Selector) -> str | None:
    """The namespace a selector names through the immutable name label, if it names exactly one."""
    for r in selector.requirements:
        if r.key == NAME_LABEL and r.operator is Operator.IN and len(r.values) == 1:
            return r.values[0]
    return None


INITIAL_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
"""The namespaces Kubernetes creates in every cluster: assumed without a warning."""


def _complete_namespaces(inv: Inventory, problems: list[Problem]) -> dict[str, Namespace]:
    namespaces = {ns.name: ns for ns in inv.namespaces}
    users: dict[str, Source] = {}
    for w in inv.workloads:
        users.setdefault(w.namespace, w.source)
    for p in inv.policies:
        users.setdefault(p.namespace, p.source)
        for peer in pod_peers(p):
            named = _named_namespace(peer.namespace_selector)
            if named:
                users.setdefault(named, p.source)
    for peer, src in cluster_pod_peers(inv):
        named = _named_namespace(peer.namespace_selector)
        if named:
            users.setdefault(named, src)
    for name in sorted(users.keys() - namespaces.keys()):
        namespaces[name] = Namespace(name, ((NAME_LABEL, name),))
        if name in INITIAL_NAMESPACES:
            continue
        src = users[name]
        problems.append(
            Problem(
                Severity.WARNING,
                f"namespace '{name}' is not defined in the upload; assumed to exist "
                f"with only the label {NAME_LABEL}={name}",
                file=src.file,
                document=src.document,
                line=src.line,
                kind="Namespace",
                name=name,
            )
        )
    # A namespaceSelector that matches nothing known stands for namespaces the
    # upload does not show: give it one inferred namespace with the labels it needs.
    index = LabelIndex({n: dict(ns.labels) for n, ns in namespaces.items()})
    peers = [peer for p in inv.policies for peer in pod_peers(p)]
    peers += [peer for peer, _ in cluster_pod_peers(inv)]
    for sel in dict.fromkeys(peer.namespace_selector for peer in peers if not peer.same_namespace):
        if index.select(sel):
            continue
        labels = sel.required_labels()
        if not sel.matches(labels):
            continue  # contradictory selector: it can match no namespace at all
        name = str(sel)
        labels.setdefault(NAME_LABEL, name)
        namespaces[name] = Namespace(name, labels_of(labels), inferred=True)
    return dict(sorted(namespaces.items()))


def _inferred_endpoints(inv: Inventory, namespaces: dict[str, Namespace]) -> list[Endpoint]:
    described = {w.namespace for w in inv.workloads}
    undescribed = LabelIndex(
        {n: dict(ns.labels) for n, ns in namespaces.items() if n not in described}
    )
    selectors: dict[str, set[Selector]] = defaultdict(set)
    for p in inv.policies:
        if p.namespace not in described:
            selectors[p.namespace].add(p.pod_selector)
        for peer in pod_peers(p):
            for ns_name in undescribed.select(peer.namespace_selector):
                selectors[ns_name].add(peer.pod_selector)
    for peer, _ in cluster_pod_peers(inv):
        for ns_name in undescribed.select(peer.namespace_selector):
            selectors[ns_name].add(peer.pod_selector)
    out: list[Endpoint] = []
    for ns_name in sorted(selectors):
        specific = sorted((s for s in selectors[ns_name] if not s.is_empty), key=str)
        for sel in specific:
            labels = sel.required_labels()
            if not sel.matches(labels):
                continue
            out.append(
                Endpoint(
                    id=f"inferred:{ns_name}:{sel}",
                    type=NodeType.INFERRED,
                    name=f"{ns_name}: {sel}",
                    namespace=ns_name,
                    labels=labels_of(labels),
                    selector=str(sel),
                )
            )
        rest = "any other pod" if specific else "any pod"
        out.append(
            Endpoint(
                id=f"inferred:{ns_name}:*",
                type=NodeType.INFERRED,
                name=f"{ns_name}: {rest}",
                namespace=ns_name,
                selector=rest,
            )
        )
    return out


def _workload_endpoints(inv: Inventory) -> list[Endpoint]:
    out: list[Endpoint] = []
    seen: dict[str, int] = {}
    for w in inv.workloads:
        base = f"{w.namespace}/{w.kind}/{w.name}"
        seen[base] = seen.get(base, 0) + 1
        node_id = base if seen[base] == 1 else f"{base}~{seen[base]}"
        out.append(
            Endpoint(
                id=node_id,
                type=NodeType.WORKLOAD,
                name=w.name,
                namespace=w.namespace,
                kind=w.kind,
                labels=w.labels,
                ports=w.ports,
                pods=w.pods,
                host_network=w.host_network,
                source=w.source,
            )
        )
    return out


def _cluster_peers(inv: Inventory) -> list[object]:
    return [peer for cp in inv.cluster_policies for r in cp.ingress + cp.egress for peer in r.peers]


def _domain_endpoints(inv: Inventory) -> list[Endpoint]:
    """One symbolic destination per distinct `domainNames` pattern: names are resolved at run
    time, so no address region stands for them (doc §3.3)."""
    patterns = dict.fromkeys(p.pattern for p in _cluster_peers(inv) if isinstance(p, DomainPeer))
    return [
        Endpoint(id=f"dns:{pattern}", type=NodeType.DOMAIN, name=pattern, selector=pattern)
        for pattern in patterns
    ]


def _node_endpoints(inv: Inventory) -> tuple[list[Endpoint], dict[str, frozenset[Selector]]]:
    """The Nodes `nodes` peers select: one symbolic endpoint per distinct selector, or, when
    the upload has Nodes, one per set of Nodes that the same selectors match."""
    selectors = list(
        dict.fromkeys(p.selector for p in _cluster_peers(inv) if isinstance(p, NodesPeer))
    )
    if not selectors:
        return [], {}
    out: list[Endpoint] = []
    matched: dict[str, frozenset[Selector]] = {}
    if not inv.cluster_nodes:
        for sel in selectors:
            node_id = f"node:{sel}"
            out.append(
                Endpoint(id=node_id, type=NodeType.NODE, name=f"nodes: {sel}", selector=str(sel))
            )
            matched[node_id] = frozenset({sel})
        return out, matched
    by_signature: dict[frozenset[Selector], list[str]] = defaultdict(list)
    for node in inv.cluster_nodes:
        labels = dict(node.labels)
        sig = frozenset(s for s in selectors if s.matches(labels))
        if sig:  # Nodes no selector matches are like any other address
            by_signature[sig].append(node.name)
    for sig, names in by_signature.items():
        node_id = "node:" + ",".join(sorted(names))
        out.append(
            Endpoint(
                id=node_id,
                type=NodeType.NODE,
                name="nodes " + ", ".join(names),
                selector="; ".join(sorted(str(s) for s in sig)),
            )
        )
        matched[node_id] = sig
    return out, matched


def build_scene(inv: Inventory) -> Scene:
    problems: list[Problem] = []
    namespaces = _complete_namespaces(inv, problems)
    endpoints = _workload_endpoints(inv) + _inferred_endpoints(inv, namespaces)
    blocks = list(
        dict.fromkeys(
            peer
            for p in inv.policies
            for r in p.ingress + p.egress
            for peer in r.peers
            if isinstance(peer, IPBlockPeer)
        )
    )
    # `networks` CIDRs cut the external addresses exactly as ipBlocks do.
    blocks += [
        b
        for b in dict.fromkeys(
            IPBlockPeer(cidr)
            for peer in _cluster_peers(inv)
            if isinstance(peer, NetworksPeer)
            for cidr in peer.cidrs
        )
        if b not in blocks
    ]
    regions = partition(blocks)
    endpoints += [
        Endpoint(id=r.id, type=NodeType.IPBLOCK, name=r.name, cidrs=r.cidrs) for r in regions
    ]
    nodes, node_selectors = _node_endpoints(inv)
    endpoints += _domain_endpoints(inv) + nodes
    return Scene(
        namespaces,
        tuple(endpoints),
        tuple(regions),
        tuple(blocks),
        tuple(problems),
        node_selectors,
    )
