"""Property test for the tiers: on random clusters mixing Admin and Baseline cluster-wide
policies with NetworkPolicies, the group flows and denials, expanded to pairs of nodes,
say exactly what the literal point evaluator of tests/reference.py says, port by port:
allowed or not, the chain of rules that decided each direction, and the Deny rule."""

from __future__ import annotations

import ipaddress
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import tier_allowed, tier_decision
from test_properties import NS_NAMES, PROTOS, VALUES, probe_ports, selector
from test_properties import inventory as np_inventory

from webapp.core.evaluate import Chain, evaluate
from webapp.core.explain import explain
from webapp.core.groups import expand_pairs
from webapp.core.model import (
    Action,
    ClusterNode,
    ClusterPolicy,
    ClusterRule,
    Direction,
    DomainPeer,
    Inventory,
    NetworksPeer,
    NodesPeer,
    NodeType,
    PodPeer,
    PortSpec,
    Protocol,
    Source,
    Tier,
)
from webapp.core.selectors import Selector

NETWORKS = ["10.0.0.0/8", "10.1.0.0/16", "0.0.0.0/0", "192.168.0.0/24", "2001:db8::/32"]
DOMAINS = ["*.example.com", "api.example.com"]

cluster_port = st.one_of(
    st.builds(PortSpec, st.sampled_from(PROTOS), st.sampled_from([53, 80, 8080, 3306])),
    st.builds(
        lambda p, lo, n: PortSpec(p, lo, lo + n),
        st.sampled_from(PROTOS),
        st.sampled_from([50, 80, 3000]),
        st.integers(1, 6000),
    ),
)
named_port = st.sampled_from(["http", "dns", "db"]).map(
    lambda name: tuple(PortSpec(p, name) for p in Protocol)
)


@st.composite
def pod_peer(draw: st.DrawFn) -> PodPeer:
    if draw(st.booleans()):
        return PodPeer(Selector(), draw(selector()))  # namespaces
    return PodPeer(draw(selector()), draw(selector()))  # pods


@st.composite
def cluster_peer(draw: st.DrawFn, direction: Direction) -> object:
    kinds = ["pods", "pods"] + (
        ["networks", "domain", "nodes"] if direction is Direction.EGRESS else []
    )
    kind = draw(st.sampled_from(kinds))
    if kind == "pods":
        return draw(pod_peer())
    if kind == "networks":
        cidrs = draw(st.lists(st.sampled_from(NETWORKS), min_size=1, max_size=2, unique=True))
        return NetworksPeer(tuple(ipaddress.ip_network(c) for c in cidrs))
    if kind == "domain":
        return DomainPeer(draw(st.sampled_from(DOMAINS)))
    return NodesPeer(Selector.of(draw(st.dictionaries(st.just("zone"), st.sampled_from(VALUES)))))


@st.composite
def cluster_policy(draw: st.DrawFn, index: int) -> ClusterPolicy:
    tier = draw(st.sampled_from(list(Tier)))

    def rules(direction: Direction) -> tuple[ClusterRule, ...]:
        out = []
        for i in range(draw(st.integers(0, 3))):
            peers = tuple(draw(st.lists(cluster_peer(direction), min_size=1, max_size=2)))
            ports: tuple[PortSpec, ...] = ()
            shape = draw(st.sampled_from(["all", "ports", "named"]))
            if shape == "ports":
                ports = tuple(draw(st.lists(cluster_port, min_size=1, max_size=2)))
            elif shape == "named":
                ports = draw(named_port)
            out.append(
                ClusterRule(
                    direction,
                    i,
                    draw(st.sampled_from([None, f"r{i}"])),
                    draw(st.sampled_from(list(Action))),
                    peers,
                    ports,
                    Source("c.yaml", index, 10 * i + 1),
                )
            )
        return tuple(out)

    return ClusterPolicy(
        "ClusterNetworkPolicy",
        # Names in reverse of their index, so the (priority, name) order is not upload order.
        f"c{9 - index}",
        tier,
        draw(st.sampled_from([10, 10, 20])),
        draw(pod_peer()),
        rules(Direction.INGRESS),
        rules(Direction.EGRESS),
        Source("c.yaml", index, 1),
    )


@st.composite
def tiered_inventory(draw: st.DrawFn) -> Inventory:
    base = draw(np_inventory())
    cluster = tuple(draw(cluster_policy(i)) for i in range(draw(st.integers(1, 4))))
    nodes: tuple[ClusterNode, ...] = ()
    if draw(st.booleans()):
        nodes = tuple(
            ClusterNode(
                f"n{i}",
                tuple(draw(st.dictionaries(st.just("zone"), st.sampled_from(VALUES))).items()),
                Source("nodes.yaml", i, 1),
            )
            for i in range(draw(st.integers(1, 3)))
        )
    return Inventory(
        base.namespaces,
        base.workloads,
        base.policies,
        cluster_policies=cluster,
        cluster_nodes=nodes,
    )


def tier_probes(inv: Inventory) -> set[tuple[Protocol, int]]:
    probes = probe_ports(inv)
    for cp in inv.cluster_policies:
        for r in cp.ingress + cp.egress:
            for s in r.ports:
                if isinstance(s.port, int):
                    for n in (s.port - 1, s.port, s.port + 1, (s.end_port or s.port) + 1):
                        if 1 <= n <= 65535:
                            probes |= {(p, n) for p in PROTOS}
    return probes


def _chain_at(chains: tuple[Chain, ...], probe: tuple[Protocol, int]) -> Chain:
    found = [c for c in chains if probe in c.ports]
    assert len(found) == 1, (probe, chains)
    return found[0]


def _decided(chain: Chain, probe: tuple[Protocol, int]) -> tuple[str, tuple, tuple]:
    return (
        str(chain.outcome),
        tuple((g.policy.id, g.rule.direction, g.rule.index) for g in chain.steps),
        tuple(
            (g.policy.id, g.rule.direction, g.rule.index) for g in chain.grants if probe in g.ports
        ),
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiered_inventory())
def test_group_flows_and_denials_expand_to_the_literal_tier_algorithm(inv: Inventory) -> None:
    evaluation, evaluator = evaluate(inv)
    scene, grouped = evaluation.scene, evaluation.grouped
    assert grouped.tiers
    flows = {(f.source, f.target): f.verdict for f in expand_pairs(grouped)}
    members = {g.id: g.members for g in grouped.groups}
    denied: dict[tuple[str, str, Direction], list] = defaultdict(list)
    for d in grouped.denials:
        for a in members[d.source]:
            for b in members[d.target]:
                if a != b:
                    denied[(a, b, d.direction)].append(d)
    probes = sorted(tier_probes(inv))
    for src in scene.endpoints:
        for dst in scene.endpoints:
            verdict = flows.get((src.id, dst.id))
            skipped = (
                src.id == dst.id
                or (src.type.is_external and dst.type.is_external)
                or src.type in (NodeType.DOMAIN, NodeType.NODE)
            )
            if skipped:
                assert verdict is None and not any(
                    denied.get((src.id, dst.id, d)) for d in Direction
                )
                continue
            for probe in probes:
                proto, port = probe
                expected = tier_allowed(inv, scene, src, dst, proto, port)
                got = verdict is not None and probe in verdict.ports
                assert got == expected, (src.id, dst.id, probe)
                sides = (
                    (Direction.EGRESS, src, dst, verdict.egress_chains if verdict else ()),
                    (Direction.INGRESS, dst, src, verdict.ingress_chains if verdict else ()),
                )
                for direction, me, other, chains in sides:
                    want = tier_decision(inv, scene, me, other, dst, direction, proto, port)
                    if expected:
                        assert _decided(_chain_at(chains, probe), probe) == want, (
                            src.id,
                            dst.id,
                            direction,
                            probe,
                        )
                    deny_rules = [
                        (d.rule.policy.id, d.direction, d.rule.rule.index)
                        for d in denied.get((src.id, dst.id, direction), [])
                        if probe in d.ports
                    ]
                    if want[0] == "deny":
                        assert deny_rules == [want[1][-1]], (src.id, dst.id, direction, probe)
                    else:
                        assert deny_rules == [], (src.id, dst.id, direction, probe)
            # The explanation agrees with the flow, pair by pair.
            why = explain(evaluator, src.id, dst.id)
            assert why.allowed == (verdict is not None)
            if verdict is not None:
                assert why.ports == verdict.ports


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiered_inventory())
def test_members_of_a_group_are_interchangeable_with_tiers(inv: Inventory) -> None:
    """Every member of a group has the same row and column of verdicts and denials."""
    evaluation, _ = evaluate(inv)
    grouped = evaluation.grouped
    scene = evaluation.scene
    ids = [e.id for e in scene.endpoints]
    by_id = {e.id: e for e in scene.endpoints}
    probes = sorted(tier_probes(inv))[:: max(1, len(tier_probes(inv)) // 12)]

    def row(a: str, x: str) -> tuple:
        if a == x:
            return ()
        src, dst = by_id[a], by_id[x]
        if (src.type.is_external and dst.type.is_external) or src.type in (
            NodeType.DOMAIN,
            NodeType.NODE,
        ):
            return ()
        return tuple(
            (
                tier_decision(inv, scene, src, dst, dst, Direction.EGRESS, p, n),
                tier_decision(inv, scene, dst, src, dst, Direction.INGRESS, p, n),
            )
            for p, n in probes
        )

    for g in grouped.groups:
        first = g.members[0]
        for other in g.members[1:]:
            for x in ids:
                if x not in (first, other):
                    assert row(first, x) == row(other, x), (first, other, x)
                    assert row(x, first) == row(x, other), (x, first, other)


def test_policies_of_one_namespace_stay_groups_without_cluster_policies() -> None:
    """The no-cluster-policy path is untouched: no denials, tiers off."""
    from cnpbuild import inventory, namespace, workload

    inv = inventory([namespace(n) for n in NS_NAMES], [workload("alpha", "a")])
    grouped = evaluate(inv)[0].grouped
    assert not grouped.tiers and grouped.denials == ()
