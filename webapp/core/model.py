"""The normalised objects the evaluator works on.

Everything here is immutable and already defaulted the way the API server
defaults it (protocol TCP, policyTypes, namespace `default`), so the
evaluator never sees a missing field. Null-versus-empty distinctions of the
YAML (an absent `from` versus a `podSelector: {}`) are settled when these
objects are built, in `webapp.core.input.policies`.

Reference: https://kubernetes.io/docs/concepts/services-networking/network-policies/
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeAlias

from webapp.core.selectors import Selector

IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
Labels: TypeAlias = tuple[tuple[str, str], ...]
"""Labels as sorted (key, value) pairs, so objects holding them stay hashable."""

NAME_LABEL = "kubernetes.io/metadata.name"
"""The label the API server puts on every Namespace (immutable, = its name)."""


class Protocol(StrEnum):
    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"


class Direction(StrEnum):
    INGRESS = "ingress"
    EGRESS = "egress"

    @property
    def policy_type(self) -> str:
        """The spelling used in spec.policyTypes."""
        return "Ingress" if self is Direction.INGRESS else "Egress"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class NodeType(StrEnum):
    WORKLOAD = "workload"
    IPBLOCK = "ipblock"
    INFERRED = "inferred"
    DOMAIN = "domain"
    """A `domainNames` pattern of a cluster-wide policy: a symbolic destination."""
    NODE = "node"
    """The Nodes a `nodes` peer selects (symbolic, or a set of uploaded Nodes)."""

    @property
    def is_external(self) -> bool:
        """Not a pod: never a policy's subject, and traffic between two of these is not analysed."""
        return self in (NodeType.IPBLOCK, NodeType.DOMAIN, NodeType.NODE)


def labels_of(mapping: dict[str, str]) -> Labels:
    return tuple(sorted(mapping.items()))


@dataclass(frozen=True, slots=True)
class Source:
    """Where something was written: file as uploaded, 0-based document, 1-based line.

    `end_line` is its last line with content, where the loader knows it (rules).
    """

    file: str
    document: int | None = None
    line: int | None = None
    end_line: int | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """Input that could not be used as given (CONTRACT §3 Problem)."""

    severity: Severity
    message: str
    file: str = ""
    document: int | None = None
    line: int | None = None
    kind: str | None = None
    name: str | None = None
    path: str | None = None


# --- Peers: a closed union -------------------------------------------------


@dataclass(frozen=True, slots=True)
class PodPeer:
    """Pods matching `pod_selector` in namespaces matching `namespace_selector`.

    A peer with only a podSelector means "in the policy's own namespace"; it is
    built with a namespace selector on the immutable name label and
    `same_namespace=True`, so AND of the two selectors is the only case.
    """

    pod_selector: Selector
    namespace_selector: Selector
    same_namespace: bool = False


@dataclass(frozen=True, slots=True)
class IPBlockPeer:
    """Addresses in `cidr` but in none of `excepts`. Never matches pods (see README)."""

    cidr: IPNetwork
    excepts: tuple[IPNetwork, ...] = ()


@dataclass(frozen=True, slots=True)
class AnyPeer:
    """A rule without `from`/`to` (or with an empty list): every source or destination."""


Peer: TypeAlias = PodPeer | IPBlockPeer | AnyPeer


@dataclass(frozen=True, slots=True)
class PortSpec:
    """One NetworkPolicyPort, defaulted: `port` None means every port of `protocol`."""

    protocol: Protocol = Protocol.TCP
    port: int | str | None = None
    end_port: int | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """One item of spec.ingress or spec.egress.

    `peers` is never empty (an absent or empty from/to is `(AnyPeer(),)`);
    `ports` empty means every port and protocol.
    """

    direction: Direction
    index: int
    peers: tuple[Peer, ...]
    ports: tuple[PortSpec, ...]
    source: Source


@dataclass(frozen=True, slots=True)
class Policy:
    namespace: str
    name: str
    pod_selector: Selector
    policy_types: frozenset[Direction]
    ingress: tuple[Rule, ...]
    egress: tuple[Rule, ...]
    source: Source

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"

    def rules(self, direction: Direction) -> tuple[Rule, ...]:
        return self.ingress if direction is Direction.INGRESS else self.egress


@dataclass(frozen=True, slots=True)
class Namespace:
    name: str
    labels: Labels
    source: Source | None = None
    """None for namespaces the upload names but does not define."""
    inferred: bool = False
    """True for a namespace made up from a namespaceSelector (policies-only mode)."""


@dataclass(frozen=True, slots=True)
class ContainerPort:
    name: str | None
    port: int
    protocol: Protocol = Protocol.TCP


@dataclass(frozen=True, slots=True)
class Workload:
    """A group of pods with one template: one node of the diagram.

    `kind` is the uploaded kind (Deployment, Pod, ...), or the owner's kind
    for exported pods grouped by owner.
    """

    kind: str
    namespace: str
    name: str
    labels: Labels
    ports: tuple[ContainerPort, ...] = ()
    pods: int = 1
    host_network: bool = False
    source: Source = field(default_factory=lambda: Source(""))

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


@dataclass(frozen=True, slots=True)
class Duplicate:
    """An object with the kind, namespace and name of an earlier one of the upload.

    The later one replaces the earlier, as `kubectl apply` leaves it; the
    record lets findings say so without reading the warning's wording.
    """

    kind: str
    namespace: str
    """Empty for cluster-scoped kinds (Namespace)."""
    name: str
    kept: Source
    """The object used: its file, document and the line of its metadata.name."""
    dropped: Source
    """The earlier object, which the analysis ignores."""
    message: str
    """The warning reported about it (a Problem with the same text and position)."""

    @property
    def id(self) -> str:
        """`namespace/name`, as Policy.id spells it (the name alone when cluster-scoped)."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


# --- Cluster-wide policies (ClusterNetworkPolicy v1alpha2; ANP/BANP v1alpha1) -----
# Both generations are read into this one model (docs: ../shared/docs/cluster-network-policy.md
# §2, §4): an AdminNetworkPolicy is the Admin tier with Allow -> Accept, the
# BaselineAdminNetworkPolicy the Baseline tier; v1alpha1 `ports` become the
# same PortSpecs as `protocols`.


POLICY_KINDS = frozenset(
    {"NetworkPolicy", "ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"}
)
"""Policies, whose problems and rules are shown by file:line (and their rules as excerpts)."""


class Tier(StrEnum):
    """Evaluation order: Admin, then NetworkPolicy, then Baseline, then allow."""

    ADMIN = "Admin"
    BASELINE = "Baseline"


class Action(StrEnum):
    ACCEPT = "Accept"
    DENY = "Deny"
    PASS = "Pass"


@dataclass(frozen=True, slots=True)
class NetworksPeer:
    """`networks`: addresses in any of `cidrs`. Pods carry no IPs in uploads, so
    it matches external addresses only, as an ipBlock does (README assumption)."""

    cidrs: tuple[IPNetwork, ...]


@dataclass(frozen=True, slots=True)
class DomainPeer:
    """`domainNames` item: a symbolic external endpoint `dns:<pattern>` (egress only)."""

    pattern: str


@dataclass(frozen=True, slots=True)
class NodesPeer:
    """`nodes`: the addresses of the Nodes matching `selector` (egress only)."""

    selector: Selector


ClusterPeer: TypeAlias = PodPeer | NetworksPeer | DomainPeer | NodesPeer
"""`namespaces: S` is PodPeer(pod_selector=Selector(), namespace_selector=S);
`pods` is PodPeer(podSelector, namespaceSelector or Selector()). Neither
matches hostNetwork pods."""


@dataclass(frozen=True, slots=True)
class ClusterRule:
    """One item of spec.ingress or spec.egress of a cluster-wide policy.

    `ports` empty means every protocol and port (protocols unset). A
    destinationNamedPort `x` is three PortSpecs (TCP, UDP, SCTP with port "x"):
    the container port of that name decides the protocol, as KNP matches it.
    """

    direction: Direction
    index: int
    name: str | None
    action: Action
    peers: tuple[ClusterPeer, ...]
    ports: tuple[PortSpec, ...]
    source: Source


@dataclass(frozen=True, slots=True)
class ClusterPolicy:
    kind: str
    """ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy, as uploaded."""
    name: str
    tier: Tier
    priority: int
    """Lower wins within a tier; ties are evaluated by name (KNP, Calico). A BANP gets 0."""
    subject: PodPeer
    ingress: tuple[ClusterRule, ...]
    egress: tuple[ClusterRule, ...]
    source: Source

    @property
    def id(self) -> str:
        """`<kind>/<name>`: cluster-scoped, and unlike `ns/name` of a NetworkPolicy."""
        return f"{self.kind}/{self.name}"

    @property
    def order(self) -> tuple[int, str]:
        return (self.priority, self.name)

    def rules(self, direction: Direction) -> tuple[ClusterRule, ...]:
        return self.ingress if direction is Direction.INGRESS else self.egress


@dataclass(frozen=True, slots=True)
class ClusterNode:
    """An uploaded Node: what `nodes` peers select (optional inventory)."""

    name: str
    labels: Labels
    source: Source


@dataclass(frozen=True, slots=True)
class Inventory:
    """What the upload describes, after validation: the evaluator's input."""

    namespaces: tuple[Namespace, ...]
    workloads: tuple[Workload, ...]
    policies: tuple[Policy, ...]
    problems: tuple[Problem, ...] = ()
    duplicates: tuple[Duplicate, ...] = ()
    """Objects replaced by a later one of the same kind, namespace and name, in upload order."""
    cluster_policies: tuple[ClusterPolicy, ...] = ()
    """ClusterNetworkPolicies (and converted ANP/BANP), in upload order."""
    cluster_nodes: tuple[ClusterNode, ...] = ()
