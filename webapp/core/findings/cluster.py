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
    NetworksPeer,
    NodesPeer,
    NodeType,
    PodPeer,
    PortSpec,
    Tier,
)
from webapp.core.portset import resolve_ports
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


def _pods_overlap(u: Upload, a: PodPeer, b: PodPeer) -> bool:
    return bool({c.index for c in u.ev.peer_classes(a)} & {c.index for c in u.ev.peer_classes(b)})


def _domain_covers(wide: str, narrow: str) -> bool:
    """`*.example.com` matches names under example.com, not example.com itself."""
    if wide == narrow:
        return True
    return wide.startswith("*.") and narrow.removeprefix("*.").endswith(wide[1:])


def _nodes_overlap(u: Upload, a: Selector, b: Selector) -> bool:
    if a.is_empty or b.is_empty or a == b:
        return True
    return any(
        a.matches(dict(n.labels)) and b.matches(dict(n.labels)) for n in u.inventory.cluster_nodes
    )


def _peer_overlaps(u: Upload, a: ClusterPeer, b: ClusterPeer) -> bool:
    """Whether some endpoint can match both peers (pods: on the scene)."""
    if isinstance(a, PodPeer) and isinstance(b, PodPeer):
        return _pods_overlap(u, a, b)
    if isinstance(a, NetworksPeer) and isinstance(b, NetworksPeer):
        return any(x.version == y.version and x.overlaps(y) for x in a.cidrs for y in b.cidrs)
    if isinstance(a, DomainPeer) and isinstance(b, DomainPeer):
        return _domain_covers(a.pattern, b.pattern) or _domain_covers(b.pattern, a.pattern)
    if isinstance(a, NodesPeer) and isinstance(b, NodesPeer):
        return _nodes_overlap(u, a.selector, b.selector)
    return False


def _port_targets(u: Upload) -> set[tuple[ContainerPort, ...]]:
    """The container ports named ports can resolve against: every pod's, and none."""
    return {()} | {c.ports for c in u.ev.pod_classes}


def _ports_overlap(
    a: tuple[PortSpec, ...], b: tuple[PortSpec, ...], targets: set[tuple[ContainerPort, ...]]
) -> bool:
    return any(resolve_ports(a, t) & resolve_ports(b, t) for t in targets)


def _rules_overlap(
    u: Upload, a: ClusterRule, b: ClusterRule, targets: set[tuple[ContainerPort, ...]]
) -> bool:
    return _ports_overlap(a.ports, b.ports, targets) and any(
        _peer_overlaps(u, x, y) for x in a.peers for y in b.peers
    )


@check(
    id="cnp-priority-conflict",
    severity=Level.MEDIUM,
    summary="Two cluster-wide policies of one tier and priority apply to the same pods with "
    "rules of different actions for the same traffic: the spec leaves their order undefined.",
)
def priority_conflict(u: Upload) -> Iterator[Result]:
    """One tier and priority: "the implementation can apply any of the matching policies" (§3.5)."""
    targets = _port_targets(u)
    for tier in Tier:
        by_priority: dict[int, list[ClusterPolicy]] = defaultdict(list)
        for p in _policies(u, tier):
            by_priority[p.priority].append(p)
        for peers in by_priority.values():
            for i, a in enumerate(peers):
                for b in peers[i + 1 :]:
                    yield from _conflict(u, a, b, targets)


def _conflict(
    u: Upload, a: ClusterPolicy, b: ClusterPolicy, targets: set[tuple[ContainerPort, ...]]
) -> Iterator[Hit]:
    common = set(_subject(u, a)) & set(_subject(u, b))
    if not common:
        return
    for direction in Direction:
        for ra in a.rules(direction):
            for rb in b.rules(direction):
                if ra.action is rb.action or not _rules_overlap(u, ra, rb, targets):
                    continue
                nodes = tuple(e for e in _subject(u, a) if e in common)
                yield Hit(
                    f"{_rule_text(a, ra)} and {_rule_text(b, rb)} are both {a.tier} priority "
                    f"{a.priority}, apply to {len(nodes)} endpoint{'s' if len(nodes) != 1 else ''}"
                    " in common and match some of the same traffic: order undefined by the spec; "
                    "netpol-viz "
                    f"evaluates by name as kube-network-policies and Calico do "
                    f"({shorten(a.name)} first); give them different priorities",
                    nodes,
                    (a.id, b.id),
                    rb.source,
                )
                return  # one finding per pair of policies


# --- cnp-shadowed-rule -----------------------------------------------------------


def _selector_covers(wide: Selector, narrow: Selector) -> bool:
    return wide.is_empty or wide == narrow


def _peer_covers(wide: ClusterPeer, narrow: ClusterPeer) -> bool:
    """Whether `wide` certainly matches everything `narrow` matches."""
    if isinstance(wide, PodPeer) and isinstance(narrow, PodPeer):
        return _selector_covers(wide.namespace_selector, narrow.namespace_selector) and (
            _selector_covers(wide.pod_selector, narrow.pod_selector)
        )
    if isinstance(wide, NetworksPeer) and isinstance(narrow, NetworksPeer):
        return all(
            any(w.version == n.version and n.subnet_of(w) for w in wide.cidrs)  # type: ignore[arg-type]
            for n in narrow.cidrs
        )
    if isinstance(wide, DomainPeer) and isinstance(narrow, DomainPeer):
        return _domain_covers(wide.pattern, narrow.pattern)
    if isinstance(wide, NodesPeer) and isinstance(narrow, NodesPeer):
        return _selector_covers(wide.selector, narrow.selector)
    return False


def _ports_cover(wide: tuple[PortSpec, ...], narrow: tuple[PortSpec, ...]) -> bool:
    """Every port `narrow` can match, `wide` matches: numbers by port set, names by name."""
    if not wide:
        return True
    if not narrow:
        return False
    numbers = tuple(s for s in narrow if not isinstance(s.port, str))
    wide_numbers = tuple(s for s in wide if not isinstance(s.port, str))
    if numbers and (
        not wide_numbers or resolve_ports(numbers, ()) - resolve_ports(wide_numbers, ())
    ):
        return False
    named = {(s.protocol, s.port) for s in narrow if isinstance(s.port, str)}
    return named <= {(s.protocol, s.port) for s in wide if isinstance(s.port, str)}


def _rule_covers(wide: ClusterRule, narrow: ClusterRule) -> bool:
    return _ports_cover(wide.ports, narrow.ports) and all(
        any(_peer_covers(w, n) for w in wide.peers) for n in narrow.peers
    )


def _earlier_rules(
    policies: list[ClusterPolicy], policy: ClusterPolicy, rule: ClusterRule
) -> Iterator[tuple[ClusterPolicy, ClusterRule]]:
    """Rules certainly evaluated before `rule` for every pod it applies to: earlier rules
    of its policy, and rules of policies of its tier with a lower priority (a tie's
    order is undefined) whose subject covers its subject."""
    for other in policies:
        if other.tier is not policy.tier or other.priority >= policy.priority:
            continue
        if _peer_covers(other.subject, policy.subject):
            yield from ((other, r) for r in other.rules(rule.direction))
    yield from ((policy, r) for r in policy.rules(rule.direction)[: rule.index])


@check(
    id="cnp-shadowed-rule",
    severity=Level.MEDIUM,
    summary="A cluster-wide rule that can never match: an earlier rule of higher precedence "
    "matches all of its peers and ports.",
)
def shadowed_rule(u: Upload) -> Iterator[Result]:
    """First match wins within a tier (§3.2): a rule behind a covering rule is dead."""
    policies = _policies(u)
    for policy in policies:
        for rule in policy.ingress + policy.egress:
            for other, earlier in _earlier_rules(policies, policy, rule):
                if not _rule_covers(earlier, rule):
                    continue
                same = earlier.action is rule.action
                yield Hit(
                    f"{_rule_text(policy, rule)} can never match: {_rule_text(other, earlier)} "
                    "comes first and matches all of its peers and ports"
                    + ("" if same else f", so its {rule.action} never applies"),
                    _subject(u, policy),
                    tuple(dict.fromkeys((policy.id, other.id))),
                    rule.source,
                    Level.LOW if same else None,
                )
                break


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
                f"{'s' if len(nodes) != 1 else ''} that NetworkPolic"
                f"{'ies' if len(selecting) != 1 else 'y'} {names(selecting)} "
                f"select for {other} only: netpol-viz (and the NetworkPolicy definition of "
                f"isolation) applies the Baseline to their {d}, kube-network-policies does "
                f"not (any selecting NetworkPolicy decides both directions there)",
                nodes,
                (policy.id, *selecting),
                policy.source,
            )
