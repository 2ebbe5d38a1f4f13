"""Cluster-wide policy findings that need no flow evaluation: ties, shadowed rules,
Pass with nothing below it, `networks` of every address, OVN priorities, and the
NetworkPolicy hand-over on which implementations differ.

They read the ClusterPolicy objects and match their selectors on the scene's
endpoints. Semantics: ../shared/docs/cluster-network-policy.md §3 (tiers and
first match per direction), §3.4 (hand-over), §3.5 (ties), §5.8 (lint).
Each claim that a rule "can never match" is made only when it is certain
from the selectors and ports themselves (equal selectors, empty selectors,
CIDR containment, port sets), never from what happens to be uploaded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from webapp.core.findings.registry import Hit, Level, Result, Unchecked, check
from webapp.core.findings.upload import Upload
from webapp.core.findings.wording import names
from webapp.core.model import (
    Action,
    ClusterPeer,
    ClusterPolicy,
    ClusterRule,
    ContainerPort,
    Direction,
    DomainPeer,
    IPNetwork,
    NetworksPeer,
    NodesPeer,
    NodeType,
    PodPeer,
    Protocol,
    Tier,
)
from webapp.core.portset import NO_PORTS, PortSet, resolve_ports
from webapp.core.selectors import Selector
from webapp.core.text import shorten

OVN_MAX_PRIORITY = 99
"""OVN-Kubernetes enforces AdminNetworkPolicy priorities 0-99 only (ANPWithUnsupportedPriority)."""


def _rule_text(policy: ClusterPolicy, rule: ClusterRule) -> str:
    named = f" {shorten(rule.name)}" if rule.name else ""
    return f"{shorten(policy.id)} spec.{rule.direction}[{rule.index}]{named} ({rule.action})"


def _policies(u: Upload, tier: Tier | None = None) -> list[ClusterPolicy]:
    """The cluster-wide policies of a tier (every tier: None) in evaluation order."""
    found = [p for p in u.inventory.cluster_policies if tier is None or p.tier is tier]
    return sorted(found, key=lambda p: (p.order, p.kind))


def _known(u: Upload, ids: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Uploaded workloads, and inferred pods (policies-only mode: whether they exist,
    and which policies select them, is not known)."""
    inferred = tuple(e for e in ids if u.ev.endpoint[e].type is NodeType.INFERRED)
    return tuple(e for e in ids if e not in inferred), inferred


def _namespaces(u: Upload, ids: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(u.ev.endpoint[e].namespace or "" for e in ids))


def _subject(u: Upload, policy: ClusterPolicy) -> tuple[str, ...]:
    """The endpoint ids a policy applies to (never hostNetwork pods), in scene order."""
    return tuple(m for c in u.ev.peer_classes(policy.subject) for m in c.members)


# --- cnp-priority-conflict -------------------------------------------------------


def _domain_covers(wide: str, narrow: str) -> bool:
    """`*.example.com` matches names under example.com, not example.com itself."""
    if wide == narrow:
        return True
    return wide.startswith("*.") and narrow.removeprefix("*.").endswith(wide[1:])


def _domain_parents(pattern: str) -> list[str]:
    """The pattern and every wildcard that covers it (see _domain_covers)."""
    labels = pattern.removeprefix("*.").split(".")
    return [pattern, *("*." + ".".join(labels[i:]) for i in range(1, len(labels)))]


_Key = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class _Reach:
    """What a rule's peers match, and its ports per destination, for overlap tests."""

    pods: frozenset[int]
    """Indexes of the endpoint classes its pod peers match on the scene."""
    networks: tuple[IPNetwork, ...]
    domains: tuple[str, ...]
    nodes: tuple[Selector, ...]
    ports: tuple[PortSet, ...]
    """Its ports resolved on each of the scene's container-port lists (see _targets)."""

    @classmethod
    def of(cls, u: Upload, rule: ClusterRule, targets: list[tuple[ContainerPort, ...]]) -> _Reach:
        peers = rule.peers
        return cls(
            frozenset(
                c.index for p in peers if isinstance(p, PodPeer) for c in u.ev.peer_classes(p)
            ),
            tuple(c for p in peers if isinstance(p, NetworksPeer) for c in p.cidrs),
            tuple(p.pattern for p in peers if isinstance(p, DomainPeer)),
            tuple(p.selector for p in peers if isinstance(p, NodesPeer)),
            tuple(resolve_ports(rule.ports, t) for t in targets),
        )

    def own_keys(self) -> set[_Key]:
        """How the rule is filed in the index of possible overlaps."""
        keys: set[_Key] = {("pods", i) for i in self.pods}
        keys |= {("networks", c) for c in self.networks}
        keys |= {("domain", d) for d in self.domains}
        return keys | ({("nodes",)} if self.nodes else set())

    def overlap_keys(self) -> set[_Key]:
        """The keys of every rule that may overlap this one: a pod class in common, a
        CIDR around one of its CIDRs, a pattern over one of its domains, any nodes.
        (A CIDR or pattern inside one of its own is found from the other rule.)"""
        keys: set[_Key] = {("pods", i) for i in self.pods}
        keys |= {
            ("networks", c.supernet(new_prefix=n))
            for c in self.networks
            for n in range(c.prefixlen + 1)
        }
        keys |= {("domain", p) for d in self.domains for p in _domain_parents(d)}
        return keys | ({("nodes",)} if self.nodes else set())

    def overlaps(self, other: _Reach, u: Upload) -> bool:
        """Whether some traffic can match both: a peer in common and a port in common."""
        peers = (
            bool(self.pods & other.pods)
            or any(
                x.version == y.version and x.overlaps(y)
                for x in self.networks
                for y in other.networks
            )
            or any(
                _domain_covers(x, y) or _domain_covers(y, x)
                for x in self.domains
                for y in other.domains
            )
            or any(_nodes_overlap(u, x, y) for x in self.nodes for y in other.nodes)
        )
        return peers and any(a & b for a, b in zip(self.ports, other.ports, strict=True))


def _nodes_overlap(u: Upload, a: Selector, b: Selector) -> bool:
    if a.is_empty or b.is_empty or a == b:
        return True
    return any(
        a.matches(dict(n.labels)) and b.matches(dict(n.labels)) for n in u.inventory.cluster_nodes
    )


def _targets(u: Upload) -> list[tuple[ContainerPort, ...]]:
    """The container ports named ports can resolve against: none, and every pod's."""
    return list(dict.fromkeys([(), *(c.ports for c in u.ev.pod_classes)]))


@check(
    id="cnp-priority-conflict",
    severity=Level.MEDIUM,
    summary="Two cluster-wide policies of one tier and priority apply to the same pods with "
    "rules of different actions for the same traffic: the spec leaves their order undefined.",
)
def priority_conflict(u: Upload) -> Iterator[Result]:
    """One tier and priority: "the implementation can apply any of the matching policies" (§3.5).

    Rules that may overlap are found through an index of what their peers match,
    so ties among many policies do not compare every pair of rules.
    """
    targets = _targets(u)
    for tier in Tier:
        by_priority: dict[int, list[ClusterPolicy]] = defaultdict(list)
        for p in _policies(u, tier):
            by_priority[p.priority].append(p)
        for tied in by_priority.values():
            if len(tied) > 1:
                yield from _conflicts(u, tied, targets)


def _conflicts(
    u: Upload, tied: list[ClusterPolicy], targets: list[tuple[ContainerPort, ...]]
) -> Iterator[Hit]:
    """For each pair of tied policies with subjects in common, their first pair of
    overlapping rules of different actions (ingress first, then by rule index)."""
    subjects = [set(_subject(u, p)) for p in tied]
    common: dict[tuple[int, int], set[str]] = {}
    first: dict[tuple[int, int], tuple[tuple[int, int, int], ClusterRule, ClusterRule]] = {}
    for d_rank, direction in enumerate(Direction):
        entries = [
            (i, r, _Reach.of(u, r, targets)) for i, p in enumerate(tied) for r in p.rules(direction)
        ]
        index: dict[_Key, list[int]] = defaultdict(list)
        for n, (_, _, reach) in enumerate(entries):
            for key in reach.own_keys():
                index[key].append(n)
        for i, rule, reach in entries:
            near = {m for key in reach.overlap_keys() for m in index.get(key, ())}
            for j, other, other_reach in (entries[m] for m in near):
                if i == j or rule.action is other.action:
                    continue
                # Found from either side; named with the policy first by name first.
                pair, ra, rb = ((i, j), rule, other) if i < j else ((j, i), other, rule)
                rank = (d_rank, ra.index, rb.index)
                if pair in first and first[pair][0] <= rank:
                    continue
                if pair not in common:
                    common[pair] = subjects[i] & subjects[j]
                if common[pair] and reach.overlaps(other_reach, u):
                    first[pair] = (rank, ra, rb)
    for (i, j), (_, ra, rb) in sorted(first.items()):
        a, b = tied[i], tied[j]
        nodes = tuple(e for e in _subject(u, a) if e in common[i, j])
        yield Hit(
            f"{_rule_text(a, ra)} and {_rule_text(b, rb)} are both {a.tier} priority "
            f"{a.priority}, apply to {len(nodes)} endpoint{'s' if len(nodes) != 1 else ''}"
            " in common and match some of the same traffic: order undefined by the spec; "
            "netpol-viz evaluates by name as kube-network-policies and Calico do "
            f"({shorten(a.name)} first); give them different priorities",
            nodes,
            (a.id, b.id),
            rb.source,
        )


# --- cnp-shadowed-rule -----------------------------------------------------------


def _selector_covers(wide: Selector, narrow: Selector) -> bool:
    return wide.is_empty or wide == narrow


def _inside(narrow: IPNetwork, wide: IPNetwork) -> bool:
    return narrow.version == wide.version and narrow.subnet_of(wide)  # type: ignore[arg-type]


def _peer_covers(wide: ClusterPeer, narrow: ClusterPeer) -> bool:
    """Whether `wide` certainly matches everything `narrow` matches."""
    if isinstance(wide, PodPeer) and isinstance(narrow, PodPeer):
        return _selector_covers(wide.namespace_selector, narrow.namespace_selector) and (
            _selector_covers(wide.pod_selector, narrow.pod_selector)
        )
    if isinstance(wide, NetworksPeer) and isinstance(narrow, NetworksPeer):
        return all(any(_inside(n, w) for w in wide.cidrs) for n in narrow.cidrs)
    if isinstance(wide, DomainPeer) and isinstance(narrow, DomainPeer):
        return _domain_covers(wide.pattern, narrow.pattern)
    if isinstance(wide, NodesPeer) and isinstance(narrow, NodesPeer):
        return _selector_covers(wide.selector, narrow.selector)
    return False


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a rule matches, reduced for quick covering tests (computed once per rule)."""

    every_port: bool
    numbers: PortSet
    """The numbered ports (named ones resolve per destination, so are kept by name)."""
    names: frozenset[tuple[Protocol, str]]
    peer_types: frozenset[type]

    @classmethod
    def of(cls, rule: ClusterRule) -> _Shape:
        numbered = tuple(s for s in rule.ports if not isinstance(s.port, str))
        return cls(
            not rule.ports,
            resolve_ports(numbered, ()) if numbered else NO_PORTS,
            frozenset((s.protocol, s.port) for s in rule.ports if isinstance(s.port, str)),
            frozenset(type(p) for p in rule.peers),
        )

    def ports_cover(self, narrow: _Shape) -> bool:
        """Every port `narrow` can match, this matches: numbers by port set, names by name."""
        if self.every_port:
            return True
        return not (narrow.every_port or narrow.names - self.names or narrow.numbers - self.numbers)


def _rule_covers(wide: ClusterRule, ws: _Shape, narrow: ClusterRule, ns: _Shape) -> bool:
    return (
        ns.peer_types <= ws.peer_types
        and ws.ports_cover(ns)
        and all(any(_peer_covers(w, n) for w in wide.peers) for n in narrow.peers)
    )


def _covering(policies: list[ClusterPolicy], policy: ClusterPolicy) -> list[ClusterPolicy]:
    """Policies certainly evaluated before `policy` for every pod it applies to: of its
    tier, with a lower priority (a tie's order is undefined), and a covering subject."""
    return [
        other
        for other in policies
        if other.tier is policy.tier
        and other.priority < policy.priority
        and _peer_covers(other.subject, policy.subject)
    ]


_EVERY = Selector()


def _keys(peer: ClusterPeer) -> list[_Key]:
    """How a peer is filed in the index of covering candidates."""
    if isinstance(peer, PodPeer):
        return [("pods", peer.namespace_selector, peer.pod_selector)]
    if isinstance(peer, NetworksPeer):
        return [("networks", c) for c in peer.cidrs]
    if isinstance(peer, DomainPeer):
        return [("domain", peer.pattern)]
    return [("nodes", peer.selector)]


def _wider_keys(peer: ClusterPeer) -> list[_Key]:
    """The keys of every peer that could cover `peer` (see _peer_covers)."""
    if isinstance(peer, PodPeer):
        return [
            ("pods", ns, pods)
            for ns in {peer.namespace_selector, _EVERY}
            for pods in {peer.pod_selector, _EVERY}
        ]
    if isinstance(peer, NetworksPeer):
        first = peer.cidrs[0]
        return [("networks", first.supernet(new_prefix=n)) for n in range(first.prefixlen + 1)]
    if isinstance(peer, DomainPeer):
        return [("domain", pattern) for pattern in _domain_parents(peer.pattern)]
    return [("nodes", peer.selector), ("nodes", _EVERY)]


@dataclass(frozen=True, slots=True)
class _Indexed:
    order: tuple[int, int]
    """(position of its policy in evaluation order, rule index): which comes first."""
    policy: ClusterPolicy
    rule: ClusterRule
    shape: _Shape


@check(
    id="cnp-shadowed-rule",
    severity=Level.MEDIUM,
    summary="A cluster-wide rule that can never match: an earlier rule of higher precedence "
    "matches all of its peers and ports.",
)
def shadowed_rule(u: Upload) -> Iterator[Result]:
    """First match wins within a tier (§3.2): a rule behind a covering rule is dead.

    Earlier rules are those of the same policy, and of policies of the tier with a
    lower priority (a tie's order is undefined) whose subject covers its subject.
    Candidates are looked up by peer, so the work grows with the rules, not their square.
    """
    policies = _policies(u)
    index: dict[tuple[Direction, _Key], list[_Indexed]] = defaultdict(list)
    entries: list[_Indexed] = []
    for position, policy in enumerate(policies):
        for rule in policy.ingress + policy.egress:
            entry = _Indexed((position, rule.index), policy, rule, _Shape.of(rule))
            entries.append(entry)
            for key in {k for peer in rule.peers for k in _keys(peer)}:
                index[rule.direction, key].append(entry)
    covering = {p.id: {q.id for q in _covering(policies, p)} for p in policies}
    for entry in entries:
        policy, rule = entry.policy, entry.rule
        if not rule.peers:
            continue
        candidates = {
            id(c): c
            for key in _wider_keys(rule.peers[0])
            for c in index.get((rule.direction, key), ())
            if c.order < entry.order and (c.policy is policy or c.policy.id in covering[policy.id])
        }
        found = [c for c in candidates.values() if _rule_covers(c.rule, c.shape, rule, entry.shape)]
        if not found:
            continue
        first = min(found, key=lambda c: c.order)
        same = first.rule.action is rule.action
        yield Hit(
            f"{_rule_text(policy, rule)} can never match: {_rule_text(first.policy, first.rule)} "
            "comes first and matches all of its peers and ports"
            + ("" if same else f", so its {rule.action} never applies"),
            _subject(u, policy),
            tuple(dict.fromkeys((policy.id, first.policy.id))),
            rule.source,
            Level.LOW if same else None,
        )


# --- cnp-pass-to-nothing ---------------------------------------------------------


def _baseline_decides(u: Upload, direction: Direction) -> set[str]:
    """Endpoints that some Baseline policy with rules in `direction` applies to."""
    return {e for p in _policies(u, Tier.BASELINE) if p.rules(direction) for e in _subject(u, p)}


@check(
    id="cnp-pass-to-nothing",
    severity=Level.MEDIUM,
    summary="A Pass rule for pods that no NetworkPolicy isolates and no Baseline policy "
    "covers in that direction: the traffic ends in the default allow.",
    needs_workloads=True,
)
def pass_to_nothing(u: Upload) -> Iterator[Result]:
    """Pass goes to the NetworkPolicy tier, then Baseline, then allow (§3.2)."""
    for policy in _policies(u):
        for rule in policy.ingress + policy.egress:
            if rule.action is not Action.PASS:
                continue
            d = rule.direction
            below = _baseline_decides(u, d) if policy.tier is Tier.ADMIN else set()
            allowed, unknown = _known(
                u, [e for e in _subject(u, policy) if not u.evaluation.isolation[e][d]]
            )
            allowed = tuple(e for e in allowed if e not in below)
            if unknown:
                yield Unchecked(_namespaces(u, unknown), unknown, (policy.id,))
            if not allowed:
                continue
            after = "no Baseline policy" if policy.tier is Tier.ADMIN else "nothing below Baseline"
            yield Hit(
                f"{_rule_text(policy, rule)} passes {d} of {len(allowed)} endpoint"
                f"{'s' if len(allowed) != 1 else ''} that no NetworkPolicy isolates for {d} "
                f"and {after} decides: the passed traffic is allowed by default",
                allowed,
                (policy.id,),
                rule.source,
            )


# --- cnp-networks-all --------------------------------------------------------------


def _passes_pods_first(policy: ClusterPolicy, rule: ClusterRule) -> bool:
    """An earlier Pass of every pod in the same policy: the API doc's remedy."""
    every = PodPeer(Selector(), Selector())
    return any(
        r.action is Action.PASS and not r.ports and every in r.peers
        for r in policy.rules(rule.direction)[: rule.index]
    )


@check(
    id="cnp-networks-all",
    severity=Level.MEDIUM,
    summary="A cluster-wide rule with networks 0.0.0.0/0 or ::/0: in real dataplanes it "
    "also matches traffic to pods and nodes.",
)
def networks_all(u: Upload) -> Iterator[Result]:
    """`networks` match any IP, pod IPs included (§2.3); the analysis shows external only."""
    for policy in _policies(u):
        for rule in policy.egress:
            for peer in rule.peers:
                if not isinstance(peer, NetworksPeer):
                    continue
                every = [str(c) for c in peer.cidrs if c.prefixlen == 0]
                if not every:
                    continue
                guarded = rule.action is Action.PASS or _passes_pods_first(policy, rule)
                yield Hit(
                    f"{_rule_text(policy, rule)} has networks {', '.join(every)}: it also "
                    f"matches traffic to pods and nodes, not only external addresses"
                    + (
                        ""
                        if guarded
                        else "; put a Pass rule for pod traffic before it if that is not meant"
                    ),
                    _subject(u, policy),
                    (policy.id,),
                    rule.source,
                    Level.LOW if guarded else None,
                )
                break


# --- cnp-priority-ovn --------------------------------------------------------------


@check(
    id="cnp-priority-ovn",
    severity=Level.INFO,
    summary="An Admin priority above 99, which OVN-Kubernetes does not enforce.",
)
def priority_ovn(u: Upload) -> Iterator[Result]:
    """OVN-Kubernetes AdminNetworkPolicy: priorities 0-99 only (§3.5)."""
    for policy in _policies(u, Tier.ADMIN):
        if policy.priority > OVN_MAX_PRIORITY:
            yield Hit(
                f"{shorten(policy.id)} has priority {policy.priority}: OVN-Kubernetes enforces "
                f"AdminNetworkPolicy priorities 0-{OVN_MAX_PRIORITY} only, so not this one "
                "(event ANPWithUnsupportedPriority)",
                _subject(u, policy),
                (policy.id,),
                policy.source,
            )


# --- cnp-handover-ambiguity --------------------------------------------------------


@check(
    id="cnp-handover-ambiguity",
    severity=Level.LOW,
    summary="A pod selected by a NetworkPolicy in one direction only and by a Baseline "
    "policy for the other: implementations differ on whether the Baseline applies.",
    needs_workloads=True,
)
def handover_ambiguity(u: Upload) -> Iterator[Result]:
    """NP decides per direction here (v1 isolation); kube-network-policies treats any
    selecting NetworkPolicy as final in both directions (§3.4)."""
    for policy in _policies(u, Tier.BASELINE):
        for d in Direction:
            if not policy.rules(d):
                continue
            other = Direction.EGRESS if d is Direction.INGRESS else Direction.INGRESS
            isolation = u.evaluation.isolation
            nodes, unknown = _known(
                u, [e for e in _subject(u, policy) if not isolation[e][d] and isolation[e][other]]
            )
            if unknown:
                yield Unchecked(_namespaces(u, unknown), unknown, (policy.id,))
            if not nodes:
                continue
            selecting = sorted({p.id for e in nodes for p in isolation[e][other]})
            yield Hit(
                f"{shorten(policy.id)} has {d} rules for {len(nodes)} endpoint"
                f"{'s' if len(nodes) != 1 else ''} that "
                + (
                    f"NetworkPolicy {names(selecting)} selects"
                    if len(selecting) == 1
                    else f"NetworkPolicies {names(selecting)} select"
                )
                + f" for {other} only: netpol-viz (and the NetworkPolicy definition of "
                f"isolation) applies the Baseline to their {d}, kube-network-policies does "
                f"not (any selecting NetworkPolicy decides both directions there)",
                nodes,
                (policy.id, *selecting),
                policy.source,
            )
