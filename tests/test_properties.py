"""Property tests: the fast evaluator agrees with the point evaluator in tests/reference.py,
its groups with the slow pairwise evaluation there, and PortSet behaves like the set
of (protocol, port) pairs it stands for."""

from __future__ import annotations

import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import allowed, pairwise_flows

from webapp.core.evaluate import Grant, evaluate
from webapp.core.explain import explain
from webapp.core.groups import expand_pairs
from webapp.core.model import (
    NAME_LABEL,
    AnyPeer,
    ContainerPort,
    Direction,
    Inventory,
    IPBlockPeer,
    Namespace,
    NodeType,
    PodPeer,
    Policy,
    PortSpec,
    Protocol,
    Rule,
    Source,
    Workload,
)
from webapp.core.portset import PortSet, resolve_ports
from webapp.core.selectors import Operator, Requirement, Selector

PROTOS = list(Protocol)
SMALL = 40  # PortSet properties over a small universe, so sets can be enumerated

# --- PortSet --------------------------------------------------------------

ranges = st.lists(
    st.tuples(st.sampled_from(PROTOS), st.integers(1, SMALL), st.integers(0, 6)).map(
        lambda t: (t[0], t[1], min(SMALL, t[1] + t[2]))
    ),
    max_size=6,
)


def as_set(ps: PortSet) -> set[tuple[Protocol, int]]:
    return {(p, n) for p, lo, hi in ps.ranges for n in range(lo, hi + 1)}


def is_canonical(ps: PortSet) -> bool:
    order = {p: i for i, p in enumerate(PROTOS)}
    for a, b in zip(ps.ranges, ps.ranges[1:], strict=False):
        if (order[a[0]], a[1]) >= (order[b[0]], b[1]):
            return False
        if a[0] is b[0] and b[1] <= a[2] + 1:
            return False
    return all(1 <= lo <= hi <= 65535 for _, lo, hi in ps.ranges)


@given(ranges, ranges)
def test_portset_algebra_matches_python_sets(a: list, b: list) -> None:
    x, y = PortSet.of(a), PortSet.of(b)
    sx, sy = as_set(x), as_set(y)
    assert sx == {(p, n) for p, lo, hi in a for n in range(lo, hi + 1)}
    for result, expected in ((x | y, sx | sy), (x & y, sx & sy), (x - y, sx - sy)):
        assert is_canonical(result)
        assert as_set(result) == expected
    for p in PROTOS:
        for n in (1, 7, SMALL):
            assert ((p, n) in x) == ((p, n) in sx)


# --- random clusters ------------------------------------------------------

KEYS = ["app", "tier", "env"]
VALUES = ["a", "b", "c"]
PORT_NAMES = ["http", "dns", "db"]
NS_NAMES = ["alpha", "beta", "gamma"]
CIDRS = ["10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/24", "0.0.0.0/0", "2001:db8::/32"]


@st.composite
def requirement(draw: st.DrawFn) -> Requirement:
    op = draw(st.sampled_from(list(Operator)))
    key = draw(st.sampled_from(KEYS))
    values: tuple[str, ...] = ()
    if op in (Operator.IN, Operator.NOT_IN):
        values = tuple(sorted(set(draw(st.lists(st.sampled_from(VALUES), min_size=1, max_size=2)))))
    return Requirement(key, op, values)


@st.composite
def selector(draw: st.DrawFn) -> Selector:
    labels = draw(st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=2))
    exprs = tuple(draw(st.lists(requirement(), max_size=2)))
    return Selector.of(labels, exprs)


@st.composite
def peer(draw: st.DrawFn, namespace: str) -> object:
    kind = draw(st.sampled_from(["pod", "ns", "both", "ipblock", "any"]))
    if kind == "any":
        return AnyPeer()
    if kind == "ipblock":
        cidr = ipaddress.ip_network(draw(st.sampled_from(CIDRS)))
        excepts = tuple(
            e
            for e in (ipaddress.ip_network(c) for c in CIDRS)
            if e.version == cidr.version and e != cidr and e.subnet_of(cidr) and draw(st.booleans())
        )
        return IPBlockPeer(cidr, excepts)
    if kind == "pod":
        return PodPeer(draw(selector()), Selector.of({NAME_LABEL: namespace}), True)
    pods = draw(selector()) if kind == "both" else Selector()
    return PodPeer(pods, draw(selector()))


port_spec = st.one_of(
    st.builds(PortSpec, st.sampled_from(PROTOS), st.none(), st.none()),
    st.builds(PortSpec, st.sampled_from(PROTOS), st.sampled_from([53, 80, 8080, 3306])),
    st.builds(PortSpec, st.sampled_from(PROTOS), st.sampled_from(PORT_NAMES)),
    st.builds(
        lambda p, lo, n: PortSpec(p, lo, lo + n),
        st.sampled_from(PROTOS),
        st.sampled_from([50, 80, 3000]),
        st.integers(0, 6000),
    ),
)


@st.composite
def policy(draw: st.DrawFn, index: int) -> Policy:
    ns = draw(st.sampled_from(NS_NAMES))
    types = frozenset(draw(st.lists(st.sampled_from(list(Direction)), min_size=1, max_size=2)))

    def rules(direction: Direction) -> tuple[Rule, ...]:
        out = []
        for i in range(draw(st.integers(0, 2))):
            peers = tuple(draw(st.lists(peer(ns), min_size=1, max_size=2)))
            ports = tuple(draw(st.lists(port_spec, max_size=2)))
            out.append(Rule(direction, i, peers, ports, Source("p.yaml", index, i + 1)))
        return tuple(out)

    return Policy(
        ns,
        f"p{index}",
        draw(selector()),
        types,
        rules(Direction.INGRESS),
        rules(Direction.EGRESS),
        Source("p.yaml", index, 1),
    )


@st.composite
def workload(draw: st.DrawFn, index: int) -> Workload:
    ports = tuple(
        ContainerPort(name, number, proto)
        for name, number, proto in draw(
            st.lists(
                st.tuples(
                    st.sampled_from(PORT_NAMES),
                    st.sampled_from([53, 80, 8080, 9090, 3306]),
                    st.sampled_from(PROTOS),
                ),
                max_size=2,
                unique_by=lambda t: (t[0], t[2]),
            )
        )
    )
    return Workload(
        "Deployment",
        draw(st.sampled_from(NS_NAMES)),
        f"w{index}",
        tuple(
            sorted(draw(st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES))).items())
        ),
        ports,
        pods=1,
        host_network=draw(st.booleans()) and draw(st.booleans()),
    )


@st.composite
def inventory(draw: st.DrawFn) -> Inventory:
    namespaces = tuple(
        Namespace(
            n,
            tuple(
                sorted(
                    {
                        **draw(st.dictionaries(st.just("team"), st.sampled_from(VALUES))),
                        NAME_LABEL: n,
                    }.items()
                )
            ),
        )
        for n in NS_NAMES
    )
    n_work = draw(st.integers(0, 5))
    n_pol = draw(st.integers(0, 4))
    return Inventory(
        namespaces,
        tuple(draw(workload(i)) for i in range(n_work)),
        tuple(draw(policy(i)) for i in range(n_pol)),
    )


def probe_ports(inv: Inventory) -> set[tuple[Protocol, int]]:
    numbers = {1, 65535, 53, 80, 8080, 9090, 3306, 49, 50, 51, 3000, 9000}
    for p in inv.policies:
        for r in p.ingress + p.egress:
            for s in r.ports:
                if isinstance(s.port, int):
                    numbers |= {s.port - 1, s.port, s.port + 1}
                if s.end_port:
                    numbers |= {s.end_port, s.end_port + 1}
    return {(proto, n) for proto in PROTOS for n in numbers if 1 <= n <= 65535}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inventory())
def test_fast_evaluation_agrees_with_point_evaluator(inv: Inventory) -> None:
    evaluation, _ = evaluate(inv)
    scene = evaluation.scene
    flows = {(f.source, f.target): f for f in evaluation.flows}
    probes = probe_ports(inv)
    for src in scene.endpoints:
        for dst in scene.endpoints:
            flow = flows.get((src.id, dst.id))
            if src.id == dst.id or (src.type is dst.type is NodeType.IPBLOCK):
                assert flow is None
                continue
            for proto, port in probes:
                expected = allowed(inv, scene, src, dst, proto, port)
                got = flow is not None and (proto, port) in flow.verdict.ports
                assert got == expected, (src.id, dst.id, proto, port)
            if flow is not None:
                v = flow.verdict
                assert v.ports, "a listed flow allows something"
                # Every listed rule contributes ports that survive both sides.
                for g in v.egress + v.ingress:
                    assert g.ports & v.ports
                if v.egress:
                    union = PortSet()
                    for g in v.egress:
                        union = union | g.ports
                    assert v.ports - union == PortSet()
                if v.ingress:
                    union = PortSet()
                    for g in v.ingress:
                        union = union | g.ports
                    assert v.ports - union == PortSet()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inventory())
def test_explanation_agrees_with_flows(inv: Inventory) -> None:
    evaluation, evaluator = evaluate(inv)
    flows = {(f.source, f.target): f for f in evaluation.flows}
    for src in evaluation.scene.endpoints:
        for dst in evaluation.scene.endpoints:
            if src.id == dst.id:
                continue
            why = explain(evaluator, src.id, dst.id)
            flow = flows.get((src.id, dst.id))
            assert why.allowed == (flow is not None)
            if flow is not None:
                assert why.ports == flow.verdict.ports
                rules = {
                    (c.policy, c.direction, c.rule) for s in why.sides for c in s.allowed_rules
                }
                listed = {
                    (g.policy.id, g.rule.direction, g.rule.index)
                    for g in flow.verdict.egress + flow.verdict.ingress
                }
                assert listed <= rules
            elif why.analysed:
                assert "denied" in why.sentence()
            else:  # external to external: not the cluster's to decide
                assert {src.type, dst.type} == {NodeType.IPBLOCK}
                assert "is not analysed" in why.sentence()


def test_resolve_named_port_needs_name_and_protocol() -> None:
    ports = (ContainerPort("dns", 53, Protocol.UDP), ContainerPort("dns-tcp", 53, Protocol.TCP))
    assert resolve_ports((PortSpec(Protocol.UDP, "dns"),), ports) == PortSet.of(
        [(Protocol.UDP, 53, 53)]
    )
    assert not resolve_ports((PortSpec(Protocol.TCP, "dns"),), ports)


# --- groups (webapp.core.groups) -------------------------------------------


def _grant_keys(grants: tuple[Grant, ...]) -> list[tuple[str, Direction, int]]:
    return [(g.policy.id, g.rule.direction, g.rule.index) for g in grants]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inventory())
def test_group_flows_expand_to_the_pairwise_flows(inv: Inventory) -> None:
    """(a) The group invariant: expanding the group flows gives exactly what a slow
    pairwise evaluation finds, pair by pair, with the same ports and rule refs."""
    evaluation, _ = evaluate(inv)
    grouped = evaluation.grouped
    expected = pairwise_flows(inv, evaluation.scene)
    expanded = list(expand_pairs(grouped))
    got = {
        (f.source, f.target): (
            f.verdict.ports,
            _grant_keys(f.verdict.egress),
            _grant_keys(f.verdict.ingress),
            f.verdict.default_allow,
        )
        for f in expanded
    }
    assert len(got) == len(expanded), "each pair at most once"
    assert got == expected
    order = {e.id: i for i, e in enumerate(evaluation.scene.endpoints)}
    keys = [(order[f.source], order[f.target]) for f in expanded]
    assert keys == sorted(keys), "scene order of (source, target), as Evaluation.flows"
    assert [(f.source, f.target, f.verdict) for f in evaluation.flows] == [
        (f.source, f.target, f.verdict) for f in expanded
    ]
    size = {g.id: len(g.members) for g in grouped.groups}
    for f in grouped.flows:
        pairs = size[f.source] * (size[f.target] - (f.source == f.target))
        assert f.pairs == pairs > 0
    assert sum(f.pairs for f in grouped.flows) == len(expanded)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inventory())
def test_members_of_a_group_have_identical_rows_and_columns(inv: Inventory) -> None:
    """(b) Group soundness, checked against the slow pairwise evaluation: any two
    members of a group reach, and are reached by, every other endpoint alike."""
    evaluation, _ = evaluate(inv)
    grouped = evaluation.grouped
    pairs = pairwise_flows(inv, evaluation.scene)
    ids = [e.id for e in evaluation.scene.endpoints]
    assert sorted(m for g in grouped.groups for m in g.members) == sorted(ids)
    assert len({g.id for g in grouped.groups}) == len(grouped.groups)
    for g in grouped.groups:
        assert [m for m in ids if m in g.members] == list(g.members), "scene order"
        if len(g.members) == 1:
            assert g.id == g.members[0], "a group of one node has that node's id"
        for a in g.members:
            assert grouped.group_of[a] == g.id
            for b in g.members:
                if a == b:
                    continue
                assert pairs.get((a, b)) == pairs.get((b, a))
                for x in ids:
                    if x not in (a, b):
                        assert pairs.get((a, x)) == pairs.get((b, x)), (a, b, x)
                        assert pairs.get((x, a)) == pairs.get((x, b)), (x, a, b)


@settings(max_examples=100, deadline=None)
@given(inventory())
def test_without_policies_all_pods_are_one_group(inv: Inventory) -> None:
    """(c) Groups are maximal enough: with no policies every pod is treated alike."""
    bare = Inventory(inv.namespaces, inv.workloads, ())
    grouped = evaluate(bare)[0].grouped
    pods = [g for g in grouped.groups if not g.external]
    external = [g for g in grouped.groups if g.external]
    assert len(pods) == (1 if bare.workloads else 0)
    assert [g.members for g in external] == [("ipblock:other",)]
    n = len(bare.workloads)
    # pods -> pods (when there are two), pods -> other addresses, other addresses -> pods
    expected = [n * (n - 1)] * (n > 1) + [n, n] * (n > 0)
    assert sorted(f.pairs for f in grouped.flows) == sorted(expected)
