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
from functools import cached_property
from typing import TYPE_CHECKING

from webapp.core.model import (
    AnyPeer,
    ContainerPort,
    Direction,
    Inventory,
    IPBlockPeer,
    NodeType,
    Peer,
    Policy,
    PortSpec,
    Rule,
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


@dataclass(frozen=True, slots=True)
class Verdict:
    """What both directions say about traffic from one endpoint class to another."""

    ports: PortSet
    egress: tuple[Grant, ...]
    """Egress grants whose ports survive the ingress side; () when the source is not isolated."""
    ingress: tuple[Grant, ...]
    default_allow: bool
    """Open only because neither side is isolated (the Kubernetes default)."""


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
    isolated: dict[Direction, list[Policy]] = field(default_factory=lambda: {IN: [], EG: []})


@dataclass(frozen=True)
class Evaluation:
    scene: Scene
    grouped: GroupedEvaluation
    """The flows between groups of alike endpoints (webapp.core.groups)."""
    isolation: dict[str, dict[Direction, tuple[Policy, ...]]]
    """Per endpoint id: the policies that isolate it, per direction."""
    selects: dict[str, tuple[str, ...]]
    """Per policy id: the endpoint ids it selects."""

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
            external = e.type is NodeType.IPBLOCK
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
            found = tuple(c for c in self.classes if c.external and i in self._region_blocks(c))
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

    def rule_ports(self, rule: Rule, target: EndpointClass) -> PortSet:
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
    return Evaluation(scene, evaluate_groups(ev), isolation, selects), ev
