"""Groups of endpoints that every policy treats alike (webapp.core.groups), as named cases.

Each case uploads a small cluster and states how its nodes are grouped: two
nodes share a group only when the same policies select them in each
direction, the same peers match them and every named port the rules use
resolves the same way (CONTRACT §3, Group).
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest
import yaml
from semantics_helpers import deployment, namespace, policy

from webapp.core import SourceText, analyze
from webapp.core.evaluate import evaluate
from webapp.core.groups import GroupedEvaluation, expand_pairs
from webapp.core.model import (
    NAME_LABEL,
    Direction,
    Inventory,
    Namespace,
    PodPeer,
    Policy,
    Rule,
    Source,
    Workload,
)
from webapp.core.selectors import Selector

OTHER = "ipblock:other"
ALL_INGRESS = [{"from": [{"podSelector": {}}]}]


def grouped(*objects: dict[str, Any]) -> GroupedEvaluation:
    text = yaml.safe_dump_all(objects, sort_keys=False)
    return analyze([SourceText("case.yaml", text.encode())]).evaluation.grouped


def partition(g: GroupedEvaluation) -> set[frozenset[str]]:
    return {frozenset(group.members) for group in g.groups}


def dep(ns: str, name: str, labels: dict[str, str] | None = None, **kw: Any) -> dict[str, Any]:
    return deployment(name, ns, labels or {"app": name}, **kw)


def node(ns: str, name: str) -> str:
    return f"{ns}/Deployment/{name}"


NAMESPACES = [namespace("a", team="x"), namespace("b", team="y"), namespace("c", team="z")]
HTTP_8080 = [("http", 8080, "TCP")]
HTTP_9090 = [("http", 9090, "TCP")]

CASES: list[Any] = [
    pytest.param(
        [dep("a", "web"), dep("b", "web"), dep("a", "api")],
        [[node("a", "web"), node("b", "web"), node("a", "api")], [OTHER]],
        id="no-policies-every-pod-one-group",
    ),
    pytest.param(
        [
            dep("a", "web"),
            dep("b", "web"),
            dep("b", "api"),
            policy("deny", "a", policyTypes=["Ingress"]),
        ],
        [[node("a", "web")], [node("b", "web"), node("b", "api")], [OTHER]],
        id="same-labels-other-namespace-split-by-a-namespace-wide-policy",
    ),
    pytest.param(
        [
            dep("a", "web"),
            dep("b", "web"),
            dep("a", "api"),
            dep("c", "db"),
            policy(
                "from-web",
                "c",
                policyTypes=["Ingress"],
                ingress=[
                    {
                        "from": [
                            {
                                "namespaceSelector": {},
                                "podSelector": {"matchLabels": {"app": "web"}},
                            }
                        ]
                    }
                ],
            ),
        ],
        [[node("a", "web"), node("b", "web")], [node("a", "api")], [node("c", "db")], [OTHER]],
        id="same-labels-other-namespace-one-peer-matches-both-one-group",
    ),
    pytest.param(
        [
            dep("a", "web"),
            dep("a", "api"),
            policy("same-ns", "a", policyTypes=["Ingress", "Egress"], ingress=ALL_INGRESS),
        ],
        [[node("a", "web"), node("a", "api")], [OTHER]],
        id="namespace-wide-policy-one-group-whatever-the-labels",
    ),
    pytest.param(
        [
            dep("a", "web", ports=HTTP_8080),
            dep("a", "web2", ports=HTTP_8080),
            dep("a", "api", ports=HTTP_9090),
            dep("a", "batch"),
            policy(
                "http",
                "a",
                policyTypes=["Ingress"],
                ingress=[{"from": [{"podSelector": {}}], "ports": [{"port": "http"}]}],
            ),
        ],
        [[node("a", "web"), node("a", "web2")], [node("a", "api")], [node("a", "batch")], [OTHER]],
        id="named-port-resolving-differently-or-missing-splits",
    ),
    pytest.param(
        [
            dep("a", "web", ports=HTTP_8080),
            dep("a", "api", ports=HTTP_9090),
            policy(
                "numbers",
                "a",
                policyTypes=["Ingress"],
                ingress=[{"from": [{"podSelector": {}}], "ports": [{"port": 8080}]}],
            ),
        ],
        [[node("a", "web"), node("a", "api")], [OTHER]],
        id="named-port-no-rule-uses-does-not-split",
    ),
    pytest.param(
        [
            dep("a", "web", ports=HTTP_8080),
            dep("a", "api", ports=HTTP_9090),
            policy(
                "ghost",
                "a",
                podSelector={"matchLabels": {"app": "ghost"}},
                policyTypes=["Ingress"],
                ingress=[{"from": [{"podSelector": {}}], "ports": [{"port": "http"}]}],
            ),
        ],
        [[node("a", "web"), node("a", "api")], [OTHER]],
        id="rules-of-a-policy-selecting-nothing-split-nothing",
    ),
    pytest.param(
        [
            dep("a", "web"),
            dep("a", "agent", host_network=True),
            dep("b", "tool"),
            policy("deny", "a", policyTypes=["Ingress"]),
        ],
        [[node("a", "web")], [node("a", "agent"), node("b", "tool")], [OTHER]],
        id="hostnetwork-pod-is-never-selected-so-groups-with-open-pods",
    ),
    pytest.param(
        [
            dep("a", "agent", host_network=True),
            dep("a", "tool"),
            policy(
                "egress",
                "b",
                policyTypes=["Egress"],
                egress=[{"to": [{"namespaceSelector": {}}]}],
            ),
            dep("b", "web"),
        ],
        # Namespace c has no workloads: its inferred "any pod" is matched like a/tool.
        [[node("a", "agent")], [node("a", "tool"), "inferred:c:*"], [node("b", "web")], [OTHER]],
        id="hostnetwork-pod-not-matched-by-a-namespace-peer-splits",
    ),
    pytest.param(
        [
            namespace("logs"),
            namespace("metrics"),
            dep("a", "web"),
            policy(
                "to-collectors",
                "a",
                policyTypes=["Egress"],
                egress=[
                    {
                        "to": [
                            {
                                "namespaceSelector": {},
                                "podSelector": {"matchLabels": {"app": "collector"}},
                            }
                        ]
                    }
                ],
            ),
        ],
        [
            [node("a", "web")],
            [f"inferred:{ns}:app=collector" for ns in ("c", "logs", "metrics")],
            [f"inferred:{ns}:*" for ns in ("c", "logs", "metrics")],
            [OTHER],
        ],
        id="inferred-pods-treated-alike-share-a-group",
    ),
    pytest.param(
        [
            dep("a", "web"),
            policy(
                "out",
                "a",
                podSelector={"matchLabels": {"app": "web"}},
                policyTypes=["Egress"],
                egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}],
            ),
            policy(
                "ghost",
                "a",
                podSelector={"matchLabels": {"app": "ghost"}},
                policyTypes=["Egress"],
                egress=[{"to": [{"ipBlock": {"cidr": "192.168.0.0/16"}}]}],
            ),
        ],
        [[node("a", "web")], ["ipblock:10.0.0.0/8"], ["ipblock:192.168.0.0/16", OTHER]],
        id="regions-told-apart-only-by-an-unapplied-ipblock-share-a-group",
    ),
    pytest.param(
        [
            dep("a", "web"),
            policy(
                "out",
                "a",
                policyTypes=["Egress"],
                egress=[
                    {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]},
                    {"to": [{"ipBlock": {"cidr": "192.168.0.0/16"}}]},
                ],
            ),
        ],
        [[node("a", "web")], ["ipblock:10.0.0.0/8"], ["ipblock:192.168.0.0/16"], [OTHER]],
        id="regions-named-by-applied-ipblocks-stay-apart",
    ),
]


@pytest.mark.parametrize(("objects", "expected"), CASES)
def test_group_formation(objects: list[dict[str, Any]], expected: list[list[str]]) -> None:
    g = grouped(*NAMESPACES, *objects)
    assert partition(g) == {frozenset(members) for members in expected}


def test_group_flows_of_a_cluster_without_policies() -> None:
    """One flow per pair of groups: pods -> pods, pods -> outside, outside -> pods."""
    g = grouped(*NAMESPACES, dep("a", "web"), dep("b", "web"), dep("a", "api"))
    pods = g.group_of[node("a", "web")]
    got = {(f.source, f.target): (f.pairs, f.verdict.default_allow) for f in g.flows}
    assert got == {(pods, pods): (6, True), (pods, OTHER): (3, True), (OTHER, pods): (3, True)}
    assert pods.startswith("group:") and len(pods) == len("group:") + 16


@pytest.mark.parametrize(
    ("pods", "self_flow"),
    [
        pytest.param(["web"], None, id="group-of-one-has-no-flow-to-itself"),
        pytest.param(["web", "api"], 2, id="group-of-two-covers-both-ordered-pairs"),
        pytest.param(["web", "api", "db"], 6, id="group-of-three-covers-six-pairs"),
    ],
)
def test_flow_from_a_group_to_itself(pods: list[str], self_flow: int | None) -> None:
    objects = [dep("a", p) for p in pods]
    same_ns = policy("same-ns", "a", policyTypes=["Ingress", "Egress"], ingress=ALL_INGRESS)
    g = grouped(*NAMESPACES, *objects, same_ns, policy("all-out", "a", egress=[{}]))
    gid = g.group_of[node("a", "web")]
    found = [f.pairs for f in g.flows if f.source == f.target == gid]
    assert found == ([] if self_flow is None else [self_flow])
    assert len(list(expand_pairs(g))) == sum(f.pairs for f in g.flows)


def test_external_regions_in_one_group_have_no_flow_between_them() -> None:
    g = grouped(*NAMESPACES, *CASES[-2].values[0])
    shared = g.group_of[OTHER]
    assert g.group_of["ipblock:192.168.0.0/16"] == shared
    assert not [f for f in g.flows if f.source == f.target == shared]
    assert not [
        f
        for f in expand_pairs(g)
        if f.source.startswith("ipblock:") and f.target.startswith("ipblock:")
    ]


BASE = [
    *NAMESPACES,
    dep("a", "web"),
    dep("a", "api"),
    policy("deny", "a", policyTypes=["Ingress"]),
    dep("b", "tool"),
    dep("b", "tool2"),
]


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param([dep("c", "other")], id="unrelated-workload-elsewhere"),
        pytest.param([dep("b", "tool3")], id="a-member-joins"),
        pytest.param(
            [dep("c", "db"), policy("deny", "c", policyTypes=["Egress"])],
            id="unrelated-policy-elsewhere",
        ),
    ],
)
def test_group_ids_are_stable_across_unrelated_edits(edit: list[dict[str, Any]]) -> None:
    before = grouped(*BASE)
    after = grouped(*edit, *BASE)  # added first, so scene order changes too
    for member in (node("a", "web"), node("b", "tool")):
        assert after.group_of[member] == before.group_of[member]
        assert after.group_of[member].startswith("group:")


def test_group_id_changes_when_the_treatment_does() -> None:
    before = grouped(*BASE)
    after = grouped(*BASE, policy("deny-out", "b", policyTypes=["Egress"]))
    assert after.group_of[node("b", "tool")] != before.group_of[node("b", "tool")]
    assert after.group_of[node("a", "web")] == before.group_of[node("a", "web")]


def _pods(n: int, namespaces: list[str]) -> tuple[Workload, ...]:
    return tuple(
        Workload("Pod", namespaces[i % len(namespaces)], f"p{i}", (("app", f"a{i % 7}"),))
        for i in range(n)
    )


def _admit_every_pod(ns: str, k: int) -> Policy:
    every_pod = PodPeer(Selector(), Selector())
    rule = Rule(Direction.INGRESS, 0, (every_pod,), (), Source("p.yaml", k, 1))
    return Policy(
        ns, "admit", Selector(), frozenset({Direction.INGRESS}), (rule,), (), Source("p.yaml", k)
    )


NAMES_20 = [f"ns{k}" for k in range(20)]

COST_CASES = [
    pytest.param(
        Inventory(
            (Namespace("default", ((NAME_LABEL, "default"),)),), _pods(1000, ["default"]), ()
        ),
        2,
        3,
        id="bare-pods-without-policies-one-group",
    ),
    pytest.param(
        Inventory(
            tuple(Namespace(ns, ((NAME_LABEL, ns),)) for ns in NAMES_20),
            _pods(1000, NAMES_20),
            tuple(_admit_every_pod(ns, k) for k, ns in enumerate(NAMES_20)),
        ),
        21,
        20 * 20 + 20,  # every namespace to every namespace, and every namespace out
        id="namespaces-isolated-each-admitting-every-pod",
    ),
]


@pytest.mark.parametrize(("inv", "groups", "flows"), COST_CASES)
def test_evaluation_cost_grows_with_groups_not_pairs(
    inv: Inventory, groups: int, flows: int
) -> None:
    """1,000 pods where almost every pair is allowed: a million pairwise flows would
    need tens of MB; the grouped evaluation needs a few flows and little memory."""
    tracemalloc.start()
    try:
        evaluation, _ = evaluate(inv)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    g = evaluation.grouped
    assert (len(g.groups), len(g.flows)) == (groups, flows)
    assert sum(f.pairs for f in g.flows) >= 1000 * 999
    assert peak < 10 * 2**20, f"peak {peak / 2**20:.1f} MiB"
