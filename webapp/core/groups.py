"""Endpoints grouped by how every policy treats them, and the flows between groups.

Kubernetes decides a connection from A to B from four things only
(https://kubernetes.io/docs/concepts/services-networking/network-policies/):
which policies select A for Egress, which select B for Ingress, which peers
of their rules match B (egress) and A (ingress), and the ports of those rules,
a named port being looked up in B's container ports. Endpoints that agree on
all of that are interchangeable: a GROUP. Its signature is

- the policies that isolate it, per direction (policy selection, policyTypes);
- the distinct peers, of the rules that apply to any traffic, that match it;
- how every named port of the rules that can have it as destination resolves
  (name and protocol -> its port numbers, none when missing);
- whether it is an external address region (external-to-external traffic is
  never a flow, so regions and pods never share a group).

Rules apply to traffic only when their policy selects some endpoint and lists
their direction in policyTypes; the others change nothing and split nothing.
hostNetwork pods need no flag: policies never select them and only peers open
to everything match them, which the signature already says.

External regions (webapp.core.addresses) may share a group: a region is cut
by every ipBlock of the upload, but a group only by the ipBlocks of rules that
apply, so two regions that differ only by an ipBlock of a policy selecting
nothing are treated alike.

Groups come from the selector matches the Evaluator already made (one pass
over the classes each distinct peer matches), and flows are computed once per
pair of groups, visiting only pairs some rule names (see `_group_flows`):
time and memory grow with endpoints + groups² + grants, never with
endpoints². `expand_pairs` gives the pairwise flows back, lazily.

With cluster-wide policies the signature also carries the cluster policies
whose subject selects the endpoint (so, per direction, the tiers it goes
through), the distinct cluster-rule peers that match it, the named ports of
cluster rules as it resolves them, and its node type (so a domain or node
endpoint never shares a group with an address region). Any pair of groups can
then be decided by a cluster rule (an Admin Deny of open traffic, an Accept),
so every pair of groups is visited once (groups², never endpoints²), and the
ports an Admin or Baseline Deny drops become `denials`. Without cluster
policies nothing of this is computed and group ids do not change.

Group ids: a group of one endpoint has that endpoint's id (CONTRACT §3); a
larger group is `group:` and 16 hex digits of a SHA-256 of its signature
written with policy ids and selectors. So the id names a behaviour: it stays
the same when unrelated workloads or policies are added, removed or
reordered, or when members join or leave, and changes exactly when the
group's treatment does.
"""

from __future__ import annotations

import hashlib
import heapq
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from webapp.core.addresses import block_text
from webapp.core.evaluate import (
    EG,
    IN,
    ClusterGrant,
    Denial,
    EndpointClass,
    Evaluator,
    Flow,
    Verdict,
)
from webapp.core.model import (
    AnyPeer,
    ClusterPeer,
    Direction,
    DomainPeer,
    IPBlockPeer,
    NetworksPeer,
    NodesPeer,
    NodeType,
    Peer,
    Policy,
    Protocol,
    Rule,
)
from webapp.core.portset import ALL_PORTS, PortSet
from webapp.core.scene import Scene

GROUP_PREFIX = "group:"

RuleRef = tuple[Policy, Rule]


@dataclass(frozen=True, slots=True)
class Group:
    """Endpoints that every policy of the upload treats alike."""

    id: str
    members: tuple[str, ...]
    """Endpoint ids, in scene order."""
    external: bool


@dataclass(frozen=True, slots=True)
class GroupFlow:
    """Traffic from every member of `source` to every other member of `target`."""

    source: str
    target: str
    pairs: int
    """|source|·|target|, or |G|·(|G|-1) from a group to itself."""
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class GroupDenial:
    """Ports that an Admin or Baseline Deny rule of one direction drops, from every member of
    `source` to every other member of `target` (not merely "no NetworkPolicy rule allows")."""

    source: str
    target: str
    pairs: int
    direction: Direction
    rule: ClusterGrant
    """The Deny rule; `rule.ports` are the ports it drops."""
    via: tuple[ClusterGrant, ...] = ()
    """The Admin Pass that handed the ports to the Baseline Deny, if any."""

    @property
    def ports(self) -> PortSet:
        return self.rule.ports


@dataclass(frozen=True, slots=True)
class GroupedEvaluation:
    scene: Scene
    groups: tuple[Group, ...]
    """In the scene order of their first members."""
    group_of: dict[str, str]
    """Endpoint id -> group id."""
    flows: tuple[GroupFlow, ...]
    """Sorted by (source group, target group) in the order of `groups`."""
    denials: tuple[GroupDenial, ...] = ()
    """Sorted like flows; egress before ingress; empty without cluster-wide policies."""
    tiers: bool = False
    """The upload has cluster-wide policies."""


class _Signature(NamedTuple):
    """What every policy says about an endpoint class; equal signatures, one group."""

    external: bool
    ingress: tuple[int, ...]
    """Positions (in the inventory) of the policies isolating it for Ingress."""
    egress: tuple[int, ...]
    peers: tuple[int, ...]
    """Numbers of the distinct peers that match it, ascending."""
    named_ports: tuple[tuple[str, str, tuple[int, ...]], ...]
    """(name, protocol, port numbers) of each named port that resolves to something."""
    cluster: tuple[int, ...] = ()
    """Positions of the cluster-wide policies whose subject selects it."""
    cluster_peers: tuple[int, ...] = ()
    """Numbers of the distinct cluster-rule peers that match it (see `_cluster_peers`)."""
    type: str = ""
    """Its node type, with cluster-wide policies only (domain and node endpoints are external)."""


@dataclass(frozen=True, slots=True)
class _Applied:
    """A rule that applies to traffic: its policy selects something for its direction."""

    policy: Policy
    direction: Direction
    rule: Rule
    selected: tuple[EndpointClass, ...]
    peers: tuple[int, ...]
    """Numbers of its distinct peers (see `_Peers`)."""


@dataclass(frozen=True, slots=True)
class _Peers:
    """The distinct peers of the applied rules, numbered, with the classes each matches."""

    values: list[Peer]
    matches: list[tuple[EndpointClass, ...]]


def _applied_rules(ev: Evaluator) -> tuple[list[_Applied], _Peers]:
    """Rules in inventory order, so rule refs keep the order they have today."""
    out: list[_Applied] = []
    number: dict[Peer, int] = {}
    peers = _Peers([], [])
    for policy in ev.inventory.policies:
        chosen = tuple(ev.selected[policy.id])
        if not chosen:
            continue
        for direction in (IN, EG):
            if direction not in policy.policy_types:
                continue
            for rule in policy.rules(direction):
                numbers = []
                for peer in rule.peers:
                    k = number.get(peer)
                    if k is None:
                        k = number[peer] = len(peers.values)
                        peers.values.append(peer)
                        peers.matches.append(ev.peer_classes(peer))
                    numbers.append(k)
                out.append(_Applied(policy, direction, rule, chosen, tuple(numbers)))
    return out, peers


def _named_ports(rule: Rule) -> set[tuple[str, Protocol]]:
    return {(s.port, s.protocol) for s in rule.ports if isinstance(s.port, str)}


def _peer_text(peer: Peer) -> str:
    if isinstance(peer, AnyPeer):
        return "any"
    if isinstance(peer, IPBlockPeer):
        return f"ipBlock {block_text(peer)}"
    return f"pods [{peer.pod_selector}] in namespaces [{peer.namespace_selector}]"


def _cluster_peers(ev: Evaluator) -> list[ClusterPeer]:
    """The distinct peers of every cluster-wide policy's rules, in upload order."""
    return list(
        dict.fromkeys(
            peer
            for cp in ev.inventory.cluster_policies
            for rule in cp.ingress + cp.egress
            for peer in rule.peers
        )
    )


def _cluster_names(ev: Evaluator) -> set[tuple[str, Protocol]]:
    return {
        (s.port, s.protocol)
        for cp in ev.inventory.cluster_policies
        for rule in cp.ingress + cp.egress
        for s in rule.ports
        if isinstance(s.port, str)
    }


def _signatures(ev: Evaluator, applied: list[_Applied], peers: _Peers) -> list[_Signature]:
    """Each class's signature (see the module docstring), cheap to compare: policy
    positions and peer numbers."""
    matched: list[list[int]] = [[] for _ in ev.classes]
    for k, classes in enumerate(peers.matches):
        for c in classes:
            matched[c.index].append(k)
    egress_names: dict[int, set[tuple[str, Protocol]]] = defaultdict(set)
    ingress_names: dict[int, set[tuple[str, Protocol]]] = defaultdict(set)
    for a in applied:
        named = _named_ports(a.rule)
        if not named:
            continue
        if a.direction is IN:
            ingress_names[id(a.policy)] |= named
        else:
            for k in a.peers:
                egress_names[k] |= named
    position = {id(p): i for i, p in enumerate(ev.inventory.policies)}
    cluster_position = {id(p): i for i, p in enumerate(ev.inventory.cluster_policies)}
    cluster_matched: list[list[int]] = [[] for _ in ev.classes]
    for k, cpeer in enumerate(_cluster_peers(ev)):
        for i in sorted(ev.cluster_peer_classes(cpeer)):
            cluster_matched[i].append(k)
    cluster_names = _cluster_names(ev)
    out: list[_Signature] = []
    for c in ev.classes:
        # Named ports are resolved on the destination: the ingress rules of the
        # policies isolating it, and the egress rules whose peers match it.
        names: set[tuple[str, Protocol]] = set(cluster_names) if not c.external else set()
        for p in c.isolated[IN]:
            names |= ingress_names.get(id(p), set())
        for k in matched[c.index]:
            names |= egress_names.get(k, set())
        resolved = []
        for name, proto in sorted(names):
            numbers = sorted({p.port for p in c.ports if p.name == name and p.protocol is proto})
            if numbers:
                resolved.append((name, str(proto), tuple(numbers)))
        out.append(
            _Signature(
                c.external,
                tuple(position[id(p)] for p in c.isolated[IN]),
                tuple(position[id(p)] for p in c.isolated[EG]),
                tuple(matched[c.index]),
                tuple(resolved),
                tuple(sorted(cluster_position[id(p)] for p in c.cluster)),
                tuple(cluster_matched[c.index]),
                str(c.type) if ev.tiers else "",
            )
        )
    return out


def _cluster_peer_text(peer: ClusterPeer) -> str:
    if isinstance(peer, NetworksPeer):
        return "networks " + ",".join(str(c) for c in peer.cidrs)
    if isinstance(peer, DomainPeer):
        return f"domain {peer.pattern}"
    if isinstance(peer, NodesPeer):
        return f"nodes [{peer.selector}]"
    return _peer_text(peer)


def _signature_text(ev: Evaluator, sig: _Signature, peers: _Peers) -> str:
    """The signature in stable words (policy ids, selectors), for the group id."""
    policies = ev.inventory.policies
    ports = (f"{n}/{p}={','.join(map(str, numbers))}" for n, p, numbers in sig.named_ports)
    lines = [
        "external" if sig.external else "pods",
        "ingress " + ",".join(policies[i].id for i in sig.ingress),
        "egress " + ",".join(policies[i].id for i in sig.egress),
        "peers " + "; ".join(sorted(_peer_text(peers.values[k]) for k in sig.peers)),
        "ports " + "; ".join(ports),
    ]
    if ev.tiers:  # only then: ids of uploads without cluster policies stay as they were
        cluster = ev.inventory.cluster_policies
        cpeers = _cluster_peers(ev)
        lines += [
            "type " + sig.type,
            "subject of " + ",".join(sorted(cluster[i].id for i in sig.cluster)),
            "cluster peers "
            + "; ".join(sorted(_cluster_peer_text(cpeers[k]) for k in sig.cluster_peers)),
        ]
    return "\n".join(lines)


def _group_ids(
    ev: Evaluator,
    members: list[list[str]],
    signatures: list[_Signature],
    peers: _Peers,
) -> list[str]:
    ids: list[str] = []
    taken: set[str] = set()
    for names, sig in zip(members, signatures, strict=True):
        if len(names) == 1:
            gid = names[0]
        else:
            text = _signature_text(ev, sig, peers)
            gid = GROUP_PREFIX + hashlib.sha256(text.encode()).hexdigest()[:16]
            n = 1
            while gid in taken:  # a 64-bit collision: deterministic, by group order
                n += 1
                gid = f"{gid.split('~')[0]}~{n}"
        taken.add(gid)
        ids.append(gid)
    return ids


def evaluate_groups(ev: Evaluator) -> GroupedEvaluation:
    """Group the endpoints, then find the allowed traffic between every pair of groups."""
    applied, peers = _applied_rules(ev)
    index_of: dict[_Signature, int] = {}
    group_of_class: list[int] = []
    signatures: list[_Signature] = []
    reps: list[EndpointClass] = []
    # Classes are numbered in the scene order of their first endpoint, so groups
    # numbered in class order are in the scene order of their first member.
    for c, sig in zip(ev.classes, _signatures(ev, applied, peers), strict=True):
        g = index_of.get(sig)
        if g is None:
            g = index_of[sig] = len(reps)
            signatures.append(sig)
            reps.append(c)
        group_of_class.append(g)
    members: list[list[str]] = [[] for _ in reps]
    for e in ev.scene.endpoints:
        members[group_of_class[ev.class_of[e.id].index]].append(e.id)
    ids = _group_ids(ev, members, signatures, peers)
    groups = tuple(
        Group(gid, tuple(m), c.external) for gid, m, c in zip(ids, members, reps, strict=True)
    )
    sizes = [len(m) for m in members]
    denials: list[tuple[int, int, int, Denial]] = []
    if ev.tiers:
        flows, denials = _tier_flows(reps, sizes, ev)
    else:
        flows = _group_flows(applied, peers, group_of_class, reps, sizes, ev)
    return GroupedEvaluation(
        ev.scene,
        groups,
        {m: g.id for g in groups for m in g.members},
        tuple(GroupFlow(ids[s], ids[t], pairs, v) for s, t, pairs, v in flows),
        tuple(
            GroupDenial(ids[s], ids[t], pairs, d.direction, d.rule, d.via)
            for s, t, pairs, d in denials
        ),
        ev.tiers,
    )


@dataclass(frozen=True, slots=True)
class _GroupRule:
    """An applied rule between groups: the groups its policy selects, and the groups
    its peers match, split by whether the other side is isolated for its direction."""

    policy: Policy
    rule: Rule
    chosen: tuple[int, ...]
    open_peers: tuple[int, ...]
    isolated_peers: tuple[int, ...]


Pairs = dict[int, dict[int, list[RuleRef]]]
"""chosen group -> peer group -> the rules that let traffic between them."""


def _group_rules(
    applied: list[_Applied],
    peers: _Peers,
    group_of_class: list[int],
    isolated: dict[Direction, list[bool]],
) -> dict[Direction, list[_GroupRule]]:
    """Applied rules at group level; many rules share peers, so each peer list is mapped once."""
    chosen_of: dict[int, tuple[int, ...]] = {}
    split_of: dict[tuple[Direction, tuple[int, ...]], tuple[tuple[int, ...], tuple[int, ...]]] = {}
    out: dict[Direction, list[_GroupRule]] = {IN: [], EG: []}
    for a in applied:
        chosen = chosen_of.get(id(a.policy))
        if chosen is None:
            chosen = tuple(dict.fromkeys(group_of_class[c.index] for c in a.selected))
            chosen_of[id(a.policy)] = chosen
        key = (a.direction, a.peers)
        split = split_of.get(key)
        if split is None:
            named = dict.fromkeys(
                group_of_class[c.index] for k in a.peers for c in peers.matches[k]
            )
            # The other side: targets of an egress rule, sources of an ingress rule.
            other = isolated[IN if a.direction is EG else EG]
            split = split_of[key] = (
                tuple(g for g in named if not other[g]),
                tuple(g for g in named if other[g]),
            )
        out[a.direction].append(_GroupRule(a.policy, a.rule, chosen, *split))
    return out


def _pairs(rules: list[_GroupRule], open_peers: bool) -> Pairs:
    out: Pairs = defaultdict(lambda: defaultdict(list))
    for r in rules:
        peers = r.open_peers if open_peers else r.isolated_peers
        for x in r.chosen if peers else ():
            row = out[x]
            for y in peers:
                row[y].append((r.policy, r.rule))
    return out


def _index(rules: list[_GroupRule]) -> dict[int, list[tuple[Policy, Rule, frozenset[int]]]]:
    """chosen group -> its rules, each with the isolated peer groups it names."""
    named_of: dict[tuple[int, ...], frozenset[int]] = {}
    out: dict[int, list[tuple[Policy, Rule, frozenset[int]]]] = defaultdict(list)
    for r in rules:
        named = named_of.get(r.isolated_peers)
        if named is None:
            named = named_of[r.isolated_peers] = frozenset(r.isolated_peers)
        for x in r.chosen:
            out[x].append((r.policy, r.rule, named))
    return out


def _cost(rules: list[_GroupRule]) -> int:
    return sum(len(r.chosen) * len(r.isolated_peers) for r in rules)


def _group_flows(
    applied: list[_Applied],
    peers: _Peers,
    group_of_class: list[int],
    reps: list[EndpointClass],
    sizes: list[int],
    ev: Evaluator,
) -> list[tuple[int, int, int, Verdict]]:
    """(source group, target group, pairs, verdict) for every allowed pair of groups.

    A connection needs the source's egress and the target's ingress to allow
    it; a side that no policy isolates allows everything. Only pairs that a
    rule names are visited: an isolated side's rules name the open other
    sides directly; where both sides are isolated, the pairs of the side that
    names fewer are walked and the other side's rules looked up per group.
    The remaining (open, open) block is one default-allow flow per pair of groups.
    """
    isolated = {d: [bool(c.isolated[d]) for c in reps] for d in (IN, EG)}
    rules = _group_rules(applied, peers, group_of_class, isolated)

    def has_pairs(s: int, t: int) -> bool:
        if reps[s].external and reps[t].external:
            return False  # traffic between two external addresses is not the cluster's
        return s != t or sizes[s] > 1  # a node's traffic to itself is never listed

    def pairs(s: int, t: int) -> int:
        return sizes[s] * (sizes[t] - (s == t))

    out: list[tuple[int, int, int, Verdict]] = []

    def add(s: int, t: int, eg: list[RuleRef] | None, ing: list[RuleRef] | None) -> None:
        v = ev.verdict(reps[s], reps[t], eg, ing)
        if v is not None:
            out.append((s, t, pairs(s, t), v))

    # Egress-isolated sources to open targets: the destinations their rules name.
    for s, row in _pairs(rules[EG], open_peers=True).items():
        for t, eg in row.items():
            if has_pairs(s, t):
                add(s, t, eg, None)
    # Open sources into ingress-isolated targets: the sources the targets' rules name.
    for t, row in _pairs(rules[IN], open_peers=True).items():
        for s, ing in row.items():
            if has_pairs(s, t):
                add(s, t, None, ing)
    # Both isolated: both sides must name each other.
    if _cost(rules[EG]) <= _cost(rules[IN]):
        ingress = _index(rules[IN])
        for s, row in _pairs(rules[EG], open_peers=False).items():
            for t, eg in row.items():
                ing = [(p, r) for p, r, named in ingress.get(t, ()) if s in named]
                if ing and has_pairs(s, t):
                    add(s, t, eg, ing)
    else:
        egress = _index(rules[EG])
        for t, row in _pairs(rules[IN], open_peers=False).items():
            for s, ing in row.items():
                eg = [(p, r) for p, r, named in egress.get(s, ()) if t in named]
                if eg and has_pairs(s, t):
                    add(s, t, eg, ing)
    # Neither side isolated: the Kubernetes default lets everything through.
    default = Verdict(ALL_PORTS, (), (), True)
    open_targets = [t for t, iso in enumerate(isolated[IN]) if not iso]
    for s, iso in enumerate(isolated[EG]):
        for t in () if iso else open_targets:
            if has_pairs(s, t):
                out.append((s, t, pairs(s, t), default))
    out.sort(key=lambda f: (f[0], f[1]))
    return out


def _tier_flows(
    reps: list[EndpointClass], sizes: list[int], ev: Evaluator
) -> tuple[list[tuple[int, int, int, Verdict]], list[tuple[int, int, int, Denial]]]:
    """Flows and denials with cluster-wide policies: a cluster rule can decide any pair
    (an Admin Deny of open traffic, an Accept no NetworkPolicy names), so every pair of
    groups is decided once through the tiers."""
    flows: list[tuple[int, int, int, Verdict]] = []
    denials: list[tuple[int, int, int, Denial]] = []
    for s, src in enumerate(reps):
        if src.type in (NodeType.DOMAIN, NodeType.NODE):
            continue  # symbolic destinations of egress rules only
        for t, dst in enumerate(reps):
            if src.external and dst.external:
                continue  # traffic between two external addresses is not the cluster's
            if s == t and sizes[s] < 2:
                continue  # a node's traffic to itself is never listed
            pairs = sizes[s] * (sizes[t] - (s == t))
            verdict, denied = ev.tier_verdict(src, dst)
            if verdict is not None:
                flows.append((s, t, pairs, verdict))
            denials += [(s, t, pairs, d) for d in denied]
    return flows, denials


def expand_pairs(grouped: GroupedEvaluation) -> Iterator[Flow]:
    """Today's pairwise flows, one per pair of distinct endpoints, in scene order of
    (source, target), made lazily from the group flows.

    Each source's row merges its group's target groups (members are in scene
    order), so the work is proportional to the pairs produced.
    """
    position = {e.id: i for i, e in enumerate(grouped.scene.endpoints)}
    members = {g.id: [(position[m], m) for m in g.members] for g in grouped.groups}
    rows: dict[str, list[GroupFlow]] = defaultdict(list)
    for f in grouped.flows:
        rows[f.source].append(f)
    row_group = ""
    row: list[tuple[int, str, Verdict]] = []
    for e in grouped.scene.endpoints:
        gid = grouped.group_of[e.id]
        if gid not in rows:
            continue
        if gid != row_group:  # members of a group are often consecutive: reuse the row
            row_group = gid
            row = list(
                heapq.merge(*([(i, m, f.verdict) for i, m in members[f.target]] for f in rows[gid]))
            )
        for _, target, verdict in row:
            if target != e.id:
                yield Flow(e.id, target, verdict)
