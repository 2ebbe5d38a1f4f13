"""Which flows NetworkPolicies allow, computed selector-first over equivalence classes.

Kubernetes semantics (https://kubernetes.io/docs/concepts/services-networking/network-policies/):
- A pod is isolated for a direction when some policy of its namespace selects
  it and lists that direction in policyTypes; otherwise that direction is open.
- Allowed traffic of an isolated pod is the union of the rules of every policy
  that selects it for that direction (policies are additive, never deny).
- A connection from A to B needs A's egress and B's ingress to both allow it.
- hostNetwork pods are not selected by policies, and selectors do not match
  them; only rules open to every peer reach them.
- ipBlock peers match external addresses only (pods are not matched by
  ipBlock: an assumption the README states).

Cluster-wide policies (ClusterNetworkPolicy, and ANP/BANP read into it) add
tiers around that (docs: ../shared/docs/cluster-network-policy.md §3.2),
per direction: the Admin tier's policies whose subject selects the pod, by
(priority, name), each one's rules in written order; the first rule whose
peers match and whose ports contain the port decides: Accept allows, Deny
denies, Pass skips the rest of the Admin tier. Then NetworkPolicy decides if
it isolates the pod in that direction; else the Baseline tier, the same way
(Pass goes to the default); else allowed. `Evaluator.side` computes this with
PortSet algebra: each matching rule takes the ports still undecided.

Pods that share namespace, labels, container ports and hostNetwork behave
identically, so each policy selector is matched once per class and each
namespaceSelector once per namespace. webapp.core.groups then merges the
classes that every policy treats alike into groups and finds the flows
between groups, combining both directions with `Evaluator.verdict`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING

from webapp.core.model import (
    Action,
    AnyPeer,
    ClusterPeer,
    ClusterPolicy,
    ClusterRule,
    ContainerPort,
    Direction,
    DomainPeer,
    Inventory,
    IPBlockPeer,
    NetworksPeer,
    NodesPeer,
    NodeType,
    Peer,
    Policy,
    PortSpec,
    Rule,
    Tier,
)
from webapp.core.portset import ALL_PORTS, NO_PORTS, PortSet, resolve_ports
from webapp.core.scene import Endpoint, Scene, build_scene
from webapp.core.selectors import LabelIndex, Selector

if TYPE_CHECKING:
    from webapp.core.groups import GroupedEvaluation

IN = Direction.INGRESS
EG = Direction.EGRESS


@dataclass(frozen=True, slots=True)
class Grant:
    """A rule of a policy, with the ports it allows towards one destination."""

    policy: Policy
    rule: Rule
    ports: PortSet


class Outcome(StrEnum):
    """How one direction decided some ports; the values are stable API strings."""

    ACCEPT = "accept"
    """An Admin or Baseline Accept rule."""
    DENY = "deny"
    """An Admin or Baseline Deny rule."""
    ALLOW = "networkpolicy-allow"
    """NetworkPolicies isolate the pod in this direction and a rule of theirs allows it."""
    ISOLATED = "networkpolicy-isolated"
    """NetworkPolicies isolate the pod in this direction and none of their rules allows it."""
    DEFAULT = "default"
    """No tier decided (or a Baseline Pass): allowed, the Kubernetes default."""

    @property
    def allows(self) -> bool:
        return self in (Outcome.ACCEPT, Outcome.ALLOW, Outcome.DEFAULT)


@dataclass(frozen=True, slots=True)
class ClusterGrant:
    """A rule of a cluster-wide policy that matched first for `ports` (what it took)."""

    policy: ClusterPolicy
    rule: ClusterRule
    ports: PortSet


@dataclass(frozen=True, slots=True)
class Chain:
    """How one direction decided `ports`: the cluster rules on the way (an Admin Pass, then
    the Accept or Deny, or a Baseline Pass) and, when the NetworkPolicy tier decided, the
    NetworkPolicy rules that allow them (`grants`, each with all the ports it allows)."""

    ports: PortSet
    outcome: Outcome
    steps: tuple[ClusterGrant, ...] = ()
    grants: tuple[Grant, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    """What both directions say about traffic from one endpoint class to another."""

    ports: PortSet
    egress: tuple[Grant, ...]
    """Egress grants whose ports survive the ingress side; () when the source is not isolated."""
    ingress: tuple[Grant, ...]
    default_allow: bool
    """Open only because no rule decided either side (the Kubernetes default)."""
    egress_chains: tuple[Chain, ...] = ()
    """With cluster-wide policies: how egress decided each allowed port (ports cut to `ports`)."""
    ingress_chains: tuple[Chain, ...] = ()


@dataclass(frozen=True, slots=True)
class Denial:
    """Ports of one direction that an Admin or Baseline Deny rule drops (`rule.ports`)."""

    direction: Direction
    rule: ClusterGrant
    via: tuple[ClusterGrant, ...] = ()
    """The Admin Pass that handed these ports to the Baseline tier, if any."""


@dataclass(frozen=True, slots=True)
class Flow:
    source: str
    target: str
    verdict: Verdict


@dataclass(slots=True)
class EndpointClass:
    """Pods with one namespace, labels, container ports and hostNetwork, or one external
    region: alike by construction, before any policy is read (groups merge classes)."""

    index: int
    namespace: str | None
    labels: dict[str, str]
    ports: tuple[ContainerPort, ...]
    host_network: bool
    external: bool
    members: list[str] = field(default_factory=list)
    region: int = -1
    type: NodeType = NodeType.WORKLOAD
    """Workload or inferred for pods; ipblock, domain or node for external classes."""
    isolated: dict[Direction, list[Policy]] = field(default_factory=lambda: {IN: [], EG: []})
    cluster: list[ClusterPolicy] = field(default_factory=list)
    """The cluster-wide policies whose subject selects it, Admin then Baseline, each by order."""


@dataclass(frozen=True)
class Evaluation:
    scene: Scene
    grouped: GroupedEvaluation
    """The flows between groups of alike endpoints (webapp.core.groups)."""
    isolation: dict[str, dict[Direction, tuple[Policy, ...]]]
    """Per endpoint id: the policies that isolate it, per direction."""
    selects: dict[str, tuple[str, ...]]
    """Per policy id: the endpoint ids it selects."""
    cluster_selects: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Per cluster-wide policy id (`Kind/name`): the endpoint ids its subject selects."""

    @cached_property
    def flows(self) -> tuple[Flow, ...]:
        """One flow per allowed pair of distinct endpoints, in scene order of (source, target).

        Made on first use from the group flows; this grows with the square of
        the endpoints, so new code should read `grouped` instead.
        """
        from webapp.core.groups import expand_pairs

        return tuple(expand_pairs(self.grouped))


class Evaluator:
    """Matches selectors against endpoint classes, with caches shared by every query."""

    def __init__(self, inventory: Inventory, scene: Scene) -> None:
        self.inventory = inventory
        self.scene = scene
        self.ns_labels = {name: dict(ns.labels) for name, ns in scene.namespaces.items()}
        self.ns_index = LabelIndex(self.ns_labels)
        self.classes: list[EndpointClass] = []
        self.class_of: dict[str, EndpointClass] = {}
        self.endpoint: dict[str, Endpoint] = {e.id: e for e in scene.endpoints}
        keyed: dict[tuple[object, ...], EndpointClass] = {}
        region_index = {r.id: i for i, r in enumerate(scene.regions)}
        for e in scene.endpoints:
            external = e.type.is_external
            key = (e.id,) if external else (e.namespace, e.labels, e.ports, e.host_network)
            cls = keyed.get(key)
            if cls is None:
                cls = EndpointClass(
                    len(self.classes),
                    e.namespace,
                    dict(e.labels),
                    e.ports,
                    e.host_network,
                    external,
                    region=region_index.get(e.id, -1),
                    type=e.type,
                )
                keyed[key] = cls
                self.classes.append(cls)
            cls.members.append(e.id)
            self.class_of[e.id] = cls
        self.pod_classes = [c for c in self.classes if not c.external]
        self.by_namespace: dict[str, list[EndpointClass]] = defaultdict(list)
        for c in self.pod_classes:
            if c.namespace is not None and not c.host_network:
                self.by_namespace[c.namespace].append(c)
        self.block_index = {b: i for i, b in enumerate(scene.blocks)}
        self._peer_cache: dict[Peer, tuple[EndpointClass, ...]] = {}
        self._ns_cache: dict[Selector, list[str]] = {}
        self._ports_cache: dict[
            tuple[tuple[PortSpec, ...], tuple[ContainerPort, ...]], PortSet
        ] = {}
        self.selected: dict[str, list[EndpointClass]] = {}
        for policy in inventory.policies:
            chosen = [
                c
                for c in self.by_namespace.get(policy.namespace, [])
                if policy.pod_selector.matches(c.labels)
            ]
            self.selected[policy.id] = chosen
            for direction in policy.policy_types:
                for c in chosen:
                    c.isolated[direction].append(policy)
        self._position = {id(p): i for i, p in enumerate(inventory.policies)}
        self.tiers = bool(inventory.cluster_policies)
        """Cluster-wide policies are present: flows come from `tier_verdict`."""
        self._cluster_peer_cache: dict[ClusterPeer, frozenset[int]] = {}
        self._rule_peer_cache: dict[
            tuple[Direction, int], tuple[tuple[frozenset[int], ...], bool]
        ] = {}
        self._side_cache: dict[tuple[object, ...], tuple[Chain, ...]] = {}
        self._np_peer_cache: dict[int, frozenset[int]] = {}
        self._verdict_cache: dict[tuple[int, int], tuple[Verdict | None, tuple[Denial, ...]]] = {}
        tier_rank = {Tier.ADMIN: 0, Tier.BASELINE: 1}
        for cp in sorted(inventory.cluster_policies, key=lambda p: (tier_rank[p.tier], p.order)):
            # Subjects are pods only, never hostNetwork ones (peer_classes skips them).
            for c in self.peer_classes(cp.subject):
                c.cluster.append(cp)

    # --- matching -----------------------------------------------------------

    def namespaces_matching(self, selector: Selector) -> list[str]:
        found = self._ns_cache.get(selector)
        if found is None:
            found = self.ns_index.select(selector)
            self._ns_cache[selector] = found
        return found

    def peer_classes(self, peer: Peer) -> tuple[EndpointClass, ...]:
        """Every class (pods and external regions) a peer matches."""
        found = self._peer_cache.get(peer)
        if found is not None:
            return found
        if isinstance(peer, AnyPeer):
            found = tuple(self.classes)
        elif isinstance(peer, IPBlockPeer):
            i = self.block_index[peer]
            found = tuple(c for c in self.classes if c.region >= 0 and i in self._region_blocks(c))
        else:
            found = tuple(
                c
                for ns in self.namespaces_matching(peer.namespace_selector)
                for c in self.by_namespace.get(ns, [])
                if peer.pod_selector.matches(c.labels)
            )
        self._peer_cache[peer] = found
        return found

    def _region_blocks(self, cls: EndpointClass) -> frozenset[int]:
        return self.scene.regions[cls.region].blocks

    def peer_matches(self, peer: Peer, cls: EndpointClass) -> bool:
        return cls in self.peer_classes(peer)

    def cluster_peer_classes(self, peer: ClusterPeer) -> frozenset[int]:
        """Indexes of the classes a cluster-wide policy's peer matches (doc §3.3)."""
        found = self._cluster_peer_cache.get(peer)
        if found is not None:
            return found
        if isinstance(peer, NetworksPeer):
            # Pods carry no addresses in uploads: networks match external regions, as ipBlocks.
            blocks = {self.block_index[IPBlockPeer(cidr)] for cidr in peer.cidrs}
            found = frozenset(
                c.index for c in self.classes if c.region >= 0 and blocks & self._region_blocks(c)
            )
        elif isinstance(peer, DomainPeer):
            found = frozenset({self.class_of[f"dns:{peer.pattern}"].index})
        elif isinstance(peer, NodesPeer):
            found = frozenset(
                self.class_of[node].index
                for node, selectors in self.scene.node_selectors.items()
                if peer.selector in selectors
            )
        else:  # namespaces / pods: never hostNetwork pods, never external classes
            found = frozenset(c.index for c in self.peer_classes(peer))
        self._cluster_peer_cache[peer] = found
        return found

    def rule_ports(self, rule: Rule | ClusterRule, target: EndpointClass) -> PortSet:
        """Ports a rule allows towards `target` (named ports resolved on the target)."""
        key = (rule.ports, target.ports)
        found = self._ports_cache.get(key)
        if found is None:
            found = resolve_ports(rule.ports, target.ports)
            self._ports_cache[key] = found
        return found

    # --- combining -------------------------------------------------------------

    def verdict(
        self,
        source: EndpointClass,
        target: EndpointClass,
        egress_rules: Iterable[tuple[Policy, Rule]] | None,
        ingress_rules: Iterable[tuple[Policy, Rule]] | None,
    ) -> Verdict | None:
        """Combine the two directions; None for a rule list means that side is not isolated."""
        if egress_rules is None and ingress_rules is None:
            return Verdict(ALL_PORTS, (), (), True)
        eg = [Grant(p, r, self.rule_ports(r, target)) for p, r in egress_rules or ()]
        ing = [Grant(p, r, self.rule_ports(r, target)) for p, r in ingress_rules or ()]
        eg_ports = _union(eg) if egress_rules is not None else ALL_PORTS
        in_ports = _union(ing) if ingress_rules is not None else ALL_PORTS
        allowed = eg_ports & in_ports
        if not allowed:
            return None
        return Verdict(
            allowed,
            tuple(g for g in eg if g.ports & allowed),
            tuple(g for g in ing if g.ports & allowed),
            False,
        )

    # --- tiers (cluster-wide policies) --------------------------------------------

    def _first_match(
        self,
        policies: Iterable[ClusterPolicy],
        direction: Direction,
        undecided: PortSet,
        other: EndpointClass,
        dst: EndpointClass,
    ) -> tuple[list[ClusterGrant], PortSet]:
        """One tier: each rule, in policy order then written order, whose peers match `other`
        takes the undecided ports it covers. Returns the grants and the ports left over."""
        taken: list[ClusterGrant] = []
        for policy in policies:
            for rule in policy.rules(direction):
                if not undecided:
                    return taken, undecided
                if not any(other.index in self.cluster_peer_classes(p) for p in rule.peers):
                    continue
                ports = self.rule_ports(rule, dst) & undecided
                if ports:
                    taken.append(ClusterGrant(policy, rule, ports))
                    undecided = undecided - ports
        return taken, undecided

    def _rule_peers(
        self, direction: Direction, me: EndpointClass
    ) -> tuple[tuple[frozenset[int], ...], bool]:
        """For `me`'s cluster and NetworkPolicy rules of a direction: the classes each rule's
        peers match, and whether any rule names a port (resolved on the destination)."""
        key = (direction, me.index)
        found = self._rule_peer_cache.get(key)
        if found is None:
            cluster = [r for p in me.cluster for r in p.rules(direction)]
            netpol = [r for p in me.isolated[direction] for r in p.rules(direction)]
            matched = [
                frozenset().union(*(self.cluster_peer_classes(p) for p in r.peers)) for r in cluster
            ] + [self._np_peer_classes(r) for r in netpol]
            named = any(isinstance(s.port, str) for r in cluster + netpol for s in r.ports)
            found = self._rule_peer_cache[key] = (tuple(matched), named)
        return found

    def _np_peer_classes(self, rule: Rule) -> frozenset[int]:
        found = self._np_peer_cache.get(id(rule))  # rules live as long as the inventory
        if found is None:
            found = frozenset(c.index for p in rule.peers for c in self.peer_classes(p))
            self._np_peer_cache[id(rule)] = found
        return found

    def side(
        self, direction: Direction, me: EndpointClass, other: EndpointClass, dst: EndpointClass
    ) -> tuple[Chain, ...]:
        """How `me`'s `direction` (towards or from `other`; `dst` is the destination) decides
        every port, tier by tier (doc §3.2). External and hostNetwork ends decide nothing.

        The answer depends on `other` only through which of `me`'s rules match it, and on
        `dst` only through named ports, so it is computed once per such combination."""
        if me.external or me.host_network:
            return _OPEN
        matched, named = self._rule_peers(direction, me)
        key = (
            direction,
            me.index,
            tuple(other.index in m for m in matched),
            dst.ports if named else None,
        )
        found = self._side_cache.get(key)
        if found is None:
            found = self._side_cache[key] = self._decide(direction, me, other, dst)
        return found

    def _decide(
        self, direction: Direction, me: EndpointClass, other: EndpointClass, dst: EndpointClass
    ) -> tuple[Chain, ...]:
        chains: list[Chain] = []
        admin = [p for p in me.cluster if p.tier is Tier.ADMIN]
        baseline = [p for p in me.cluster if p.tier is Tier.BASELINE]
        taken, rest = self._first_match(admin, direction, ALL_PORTS, other, dst)
        # Ports handed to the next tier, with the Admin Pass that handed them over (if any).
        handed: list[tuple[PortSet, tuple[ClusterGrant, ...]]] = [(rest, ())] if rest else []
        for g in taken:
            if g.rule.action is Action.PASS:
                handed.append((g.ports, (g,)))
            else:
                outcome = Outcome.ACCEPT if g.rule.action is Action.ACCEPT else Outcome.DENY
                chains.append(Chain(g.ports, outcome, (g,)))
        policies = me.isolated[direction]
        if policies:  # NetworkPolicy isolates it in this direction: its verdict is final
            grants = [
                Grant(p, r, self.rule_ports(r, dst))
                for p in policies
                for r in p.rules(direction)
                if other.index in self._np_peer_classes(r)
            ]
            allowed = _union(grants)
            for ports, steps in handed:
                if ports & allowed:
                    ok = ports & allowed
                    mine = tuple(g for g in grants if g.ports & ok)
                    chains.append(Chain(ok, Outcome.ALLOW, steps, mine))
                if ports - allowed:
                    chains.append(Chain(ports - allowed, Outcome.ISOLATED, steps))
        else:
            for ports, steps in handed:
                taken, rest = self._first_match(baseline, direction, ports, other, dst)
                for g in taken:
                    outcome = {
                        Action.ACCEPT: Outcome.ACCEPT,
                        Action.DENY: Outcome.DENY,
                        Action.PASS: Outcome.DEFAULT,  # a Baseline Pass goes to the default
                    }[g.rule.action]
                    chains.append(Chain(g.ports, outcome, (*steps, g)))
                if rest:
                    chains.append(Chain(rest, Outcome.DEFAULT, steps))
        chains.sort(key=lambda c: c.ports.ranges)
        return tuple(chains)

    def tier_verdict(
        self, source: EndpointClass, target: EndpointClass
    ) -> tuple[Verdict | None, tuple[Denial, ...]]:
        """Both directions through the tiers: allowed where egress and ingress both allow
        (an egress Accept does not bypass ingress), and the ports each side's Deny rules drop."""
        eg = self.side(EG, source, target, target)
        ing = self.side(IN, target, source, target)
        # Sides come from a cache, so pairs decided alike share one verdict (and its JSON).
        key = (id(eg), id(ing))
        found = self._verdict_cache.get(key)
        if found is None:
            found = self._verdict_cache[key] = self._combine(eg, ing)
        return found

    def _combine(
        self, eg: tuple[Chain, ...], ing: tuple[Chain, ...]
    ) -> tuple[Verdict | None, tuple[Denial, ...]]:
        denials = tuple(
            Denial(d, c.steps[-1], c.steps[:-1])
            for d, chains in ((EG, eg), (IN, ing))
            for c in chains
            if c.outcome is Outcome.DENY
        )
        allowed = _allowed(eg) & _allowed(ing)
        if not allowed:
            return None, denials
        egc, ingc = _cut(eg, allowed), _cut(ing, allowed)
        return (
            Verdict(
                allowed,
                self._grants(egc),
                self._grants(ingc),
                all(c.outcome is Outcome.DEFAULT for c in egc + ingc),
                egc,
                ingc,
            ),
            denials,
        )

    def _grants(self, chains: tuple[Chain, ...]) -> tuple[Grant, ...]:
        """The NetworkPolicy grants of some chains, once each, in policy and rule order."""
        seen = {id(g): g for c in chains for g in c.grants}
        return tuple(
            sorted(seen.values(), key=lambda g: (self._position[id(g.policy)], g.rule.index))
        )


_OPEN = (Chain(ALL_PORTS, Outcome.DEFAULT),)
"""An end no tier decides: external, or a hostNetwork pod."""


def _allowed(chains: tuple[Chain, ...]) -> PortSet:
    ports = NO_PORTS
    for c in chains:
        if c.outcome.allows:
            ports = ports | c.ports
    return ports


def _cut(chains: tuple[Chain, ...], allowed: PortSet) -> tuple[Chain, ...]:
    """The allowing chains, cut to the ports both sides allow; grants that lose all go."""
    out = []
    for c in chains:
        ports = c.ports & allowed
        if c.outcome.allows and ports:
            out.append(
                Chain(ports, c.outcome, c.steps, tuple(g for g in c.grants if g.ports & ports))
            )
    return tuple(out)


def _union(grants: list[Grant]) -> PortSet:
    ports = NO_PORTS
    for g in grants:
        ports = ports | g.ports
    return ports


def evaluate(inventory: Inventory, scene: Scene | None = None) -> tuple[Evaluation, Evaluator]:
    # groups.py builds on the Evaluator, so it is imported here, not at the top.
    from webapp.core.groups import evaluate_groups

    scene = scene or build_scene(inventory)
    ev = Evaluator(inventory, scene)
    isolation = {
        e.id: {d: tuple(ev.class_of[e.id].isolated[d]) for d in (IN, EG)} for e in scene.endpoints
    }
    selects = {
        p.id: tuple(m for c in ev.selected[p.id] for m in c.members) for p in inventory.policies
    }
    cluster_selects: dict[str, tuple[str, ...]] = {cp.id: () for cp in inventory.cluster_policies}
    for c in ev.pod_classes:
        for cp in c.cluster:
            cluster_selects[cp.id] += tuple(c.members)
    return Evaluation(scene, evaluate_groups(ev), isolation, selects, cluster_selects), ev
