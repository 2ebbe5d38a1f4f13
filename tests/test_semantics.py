"""Named table cases, one per NetworkPolicy semantic rule, through the whole pipeline.

Each case uploads a small cluster plus policies and states which flows exist
(ports as text) and which do not (None).
https://kubernetes.io/docs/concepts/services-networking/network-policies/
"""

from __future__ import annotations

from typing import Any

import pytest
from semantics_helpers import connectivity, deployment, namespace, policy, run

from webapp.core.document import pair_flows

CLUSTER = [
    namespace("prod", team="a", env="prod"),
    namespace("dev", team="b", env="dev"),
    namespace("kube-system"),
    deployment("web", "prod", {"app": "web", "tier": "fe"}, [("http", 8080, "TCP")]),
    deployment("api", "prod", {"app": "api", "tier": "be"}, [("http", 9090, "TCP")]),
    deployment("db", "prod", {"app": "db"}, [("mysql", 3306, "TCP")]),
    deployment("tool", "dev", {"app": "tool"}),
    deployment(
        "dns",
        "kube-system",
        {"k8s-app": "kube-dns"},
        [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")],
    ),
]

SEL_DB = {"matchLabels": {"app": "db"}}
FROM_API = [{"podSelector": {"matchLabels": {"app": "api"}}}]

CASES: list[Any] = [
    pytest.param([], {("web", "db"): "all", ("tool", "db"): "all"}, id="no-policy-everything-open"),
    pytest.param(
        [policy("deny", "prod", podSelector={}, policyTypes=["Ingress"])],
        {("web", "db"): None, ("tool", "api"): None, ("db", "tool"): "all"},
        id="empty-podselector-selects-every-pod-in-its-namespace",
    ),
    pytest.param(
        [policy("deny", "prod", podSelector={}, policyTypes=["Ingress"])],
        {("api", "tool"): "all", ("web", "dns"): "all"},
        id="policy-isolates-only-its-own-namespace",
    ),
    pytest.param(
        [policy("p", "prod", podSelector=SEL_DB, ingress=[{"from": FROM_API}])],
        {("api", "db"): "all", ("web", "db"): None, ("web", "api"): "all"},
        id="matchlabels-selects-and-peer-matches",
    ),
    pytest.param(
        [
            policy(
                "p",
                "prod",
                podSelector={
                    "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["fe"]}]
                },
                ingress=[],
            )
        ],
        {("tool", "db"): None, ("tool", "api"): None, ("tool", "web"): "all"},
        id="notin-matches-a-missing-key",
    ),
    pytest.param(
        [
            policy(
                "p",
                "prod",
                podSelector={
                    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "x"]}]
                },
                ingress=[],
            )
        ],
        {("tool", "web"): None, ("tool", "db"): "all"},
        id="in-needs-the-key",
    ),
    pytest.param(
        [
            policy(
                "p",
                "prod",
                podSelector={"matchExpressions": [{"key": "tier", "operator": "Exists"}]},
                ingress=[],
            )
        ],
        {("tool", "web"): None, ("tool", "api"): None, ("tool", "db"): "all"},
        id="exists",
    ),
    pytest.param(
        [
            policy(
                "p",
                "prod",
                podSelector={"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]},
                ingress=[],
            )
        ],
        {("tool", "web"): "all", ("tool", "db"): None},
        id="doesnotexist",
    ),
    pytest.param(
        [policy("p", "prod", podSelector=SEL_DB, ingress=[{"from": FROM_API}])],
        {("db", "tool"): "all", ("db", "web"): "all"},
        id="policytypes-omitted-without-egress-isolates-ingress-only",
    ),
    pytest.param(
        [policy("p", "prod", podSelector=SEL_DB, egress=[{"to": FROM_API}])],
        {("db", "tool"): None, ("db", "api"): "all", ("tool", "db"): None},
        id="policytypes-omitted-with-egress-rules-isolates-both",
    ),
    pytest.param(
        [policy("p", "prod", podSelector=SEL_DB, egress=[])],
        {("db", "tool"): "all", ("tool", "db"): None},
        id="policytypes-omitted-with-empty-egress-list-isolates-ingress-only",
    ),
    pytest.param(
        [
            policy(
                "p",
                "prod",
                podSelector=SEL_DB,
                policyTypes=["Egress"],
                ingress=[{"from": FROM_API}],
            )
        ],
        {("web", "db"): "all", ("db", "web"): None},
        id="policytypes-as-written-egress-only-ignores-ingress-rules",
    ),
    pytest.param(
        [policy("p", "prod", podSelector=SEL_DB, ingress=[])],
        {("api", "db"): None, ("tool", "db"): None},
        id="ingress-empty-list-allows-nothing",
    ),
    pytest.param(
        [policy("p", "prod", podSelector=SEL_DB, ingress=[{}])],
        {("api", "db"): "all", ("tool", "db"): "all", ("dns", "db"): "all"},
        id="ingress-one-empty-rule-allows-everything",
    ),
    pytest.param(
        [policy("p", "prod", podSelector=SEL_DB, ingress=[{"ports": [{"port": 3306}]}])],
        {("tool", "db"): "TCP 3306", ("web", "db"): "TCP 3306"},
        id="rule-without-from-matches-every-source",
    ),
    pytest.param(
        [policy("p", "prod", podSelector=SEL_DB, ingress=[{"from": FROM_API}])],
        {("api", "db"): "all"},
        id="rule-without-ports-allows-every-port-and-protocol",
    ),
    pytest.param(
        [policy("p", "dev", podSelector={}, ingress=[{"from": [{"podSelector": {}}]}])],
        {("tool", "tool"): None, ("web", "tool"): None},
        id="podselector-peer-alone-means-same-namespace",
    ),
    pytest.param(
        [
            policy(
                "p",
                "prod",
                podSelector=SEL_DB,
                ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "b"}}}]}],
            )
        ],
        {("tool", "db"): "all", ("api", "db"): None},
        id="namespaceselector-alone-means-every-pod-in-matching-namespaces",
    ),
    pytest.param(
        [policy("p", "prod", podSelector=SEL_DB, ingress=[{"from": [{"namespaceSelector": {}}]}])],
        {("tool", "db"): "all", ("api", "db"): "all", ("dns", "db"): "all"},
        id="empty-namespaceselector-means-all-namespaces",
    ),
    pytest.param(
        [
            policy(
                "p",
                "prod",
                podSelector=SEL_DB,
                ingress=[
                    {
                        "from": [
                            {
                                "namespaceSelector": {"matchLabels": {"team": "a"}},
                                "podSelector": {"matchLabels": {"app": "api"}},
                            }
                        ]
                    }
                ],
            )
        ],
        {("api", "db"): "all", ("web", "db"): None, ("tool", "db"): None},
        id="ns-and-pod-selector-in-one-peer-means-and",
    ),
    pytest.param(
        [
            policy(
                "p",
                "prod",
                podSelector=SEL_DB,
                ingress=[
                    {
                        "from": [
                            {"namespaceSelector": {"matchLabels": {"team": "b"}}},
                            {"podSelector": {"matchLabels": {"app": "api"}}},
                        ]
                    }
                ],
            )
        ],
        {("api", "db"): "all", ("tool", "db"): "all", ("web", "db"): None},
        id="ns-and-pod-selector-in-two-peers-means-or",
    ),
    pytest.param(
        [
            policy(
                "p",
                "prod",
                podSelector=SEL_DB,
                ingress=[{"from": FROM_API, "ports": [{"port": "http"}]}],
                egress=[],
            ),
            policy(
                "q",
                "prod",
                podSelector={"matchLabels": {"app": "web"}},
                ingress=[{"ports": [{"port": "http"}]}],
            ),
        ],
        {("api", "db"): None, ("api", "web"): "TCP 8080", ("tool", "web"): "TCP 8080"},
        id="named-port-missing-on-target-allows-nothing",
    ),
    pytest.param(
        [policy("p", "prod", podSelector={}, ingress=[{"ports": [{"port": "http"}]}])],
        {("tool", "web"): "TCP 8080", ("tool", "api"): "TCP 9090", ("tool", "db"): None},
        id="named-port-resolves-per-target-pod",
    ),
    pytest.param(
        [
            policy(
                "p",
                "kube-system",
                podSelector={},
                ingress=[{"ports": [{"port": "dns", "protocol": "TCP"}]}],
            )
        ],
        {("web", "dns"): None},
        id="named-port-needs-the-same-protocol",
    ),
    pytest.param(
        [policy("p", "prod", podSelector=SEL_DB, ingress=[{"ports": [{"protocol": "UDP"}]}])],
        {("tool", "db"): "UDP 1-65535"},
        id="protocol-without-port-means-every-port-of-it",
    ),
    pytest.param(
        [policy("p", "prod", podSelector=SEL_DB, ingress=[{"ports": [{"port": 3306}]}])],
        {("tool", "db"): "TCP 3306"},
        id="protocol-defaults-to-tcp",
    ),
    pytest.param(
        [
            policy(
                "p",
                "prod",
                podSelector=SEL_DB,
                ingress=[{"ports": [{"port": 32000, "endPort": 32768}]}],
            )
        ],
        {("tool", "db"): "TCP 32000-32768"},
        id="endport-allows-a-range",
    ),
    pytest.param(
        [
            policy(
                "p",
                "prod",
                podSelector=SEL_DB,
                ingress=[
                    {"ports": [{"port": 5000, "protocol": "SCTP"}, {"port": 53, "protocol": "UDP"}]}
                ],
            )
        ],
        {("tool", "db"): "UDP 53, SCTP 5000"},
        id="udp-and-sctp",
    ),
    pytest.param(
        [
            policy(
                "p",
                "prod",
                podSelector={"matchLabels": {"app": "web"}},
                policyTypes=["Egress"],
                egress=[{"to": FROM_API}],
            )
        ],
        {("web", "api"): "all", ("web", "dns"): None},
        id="egress-policy-cuts-dns",
    ),
    pytest.param(
        [
            policy(
                "p",
                "prod",
                podSelector={"matchLabels": {"app": "web"}},
                policyTypes=["Egress"],
                egress=[
                    {"to": FROM_API},
                    {
                        "to": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                                },
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                            }
                        ],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    },
                ],
            )
        ],
        {("web", "api"): "all", ("web", "dns"): "TCP 53, UDP 53", ("web", "db"): None},
        id="egress-with-dns-allowance",
    ),
    pytest.param(
        [
            policy(
                "e",
                "prod",
                podSelector={"matchLabels": {"app": "api"}},
                policyTypes=["Egress"],
                egress=[{"ports": [{"port": 3306}, {"port": 80}]}],
            ),
            policy(
                "i",
                "prod",
                podSelector=SEL_DB,
                ingress=[{"ports": [{"port": 3300, "endPort": 3310}]}],
            ),
        ],
        {
            ("api", "db"): "TCP 3306",
            ("web", "db"): "TCP 3300-3310",
            ("api", "web"): "TCP 80, TCP 3306",
        },
        id="both-sides-must-allow-intersection",
    ),
    pytest.param(
        [
            policy(
                "a",
                "prod",
                podSelector=SEL_DB,
                ingress=[{"from": FROM_API, "ports": [{"port": 3306}]}],
            ),
            policy(
                "b",
                "prod",
                podSelector=SEL_DB,
                ingress=[{"from": FROM_API, "ports": [{"port": 33060}]}],
            ),
        ],
        {("api", "db"): "TCP 3306, TCP 33060", ("web", "db"): None},
        id="policies-are-additive",
    ),
    pytest.param(
        [policy("p", "prod", podSelector={}, ingress=[{"from": [{"podSelector": {}}]}])],
        {("web", "api"): "all", ("db", "web"): "all", ("tool", "web"): None},
        id="same-namespace-allow-all",
    ),
]


@pytest.mark.parametrize(("policies", "expected"), CASES)
def test_semantics(
    policies: list[dict[str, Any]], expected: dict[tuple[str, str], str | None]
) -> None:
    doc = run(*CLUSTER, *policies)
    assert not [p for p in doc["problems"] if p["severity"] == "error"]
    got = connectivity(doc)
    for pair, ports in expected.items():
        assert got.get(pair) == ports, pair


def test_traffic_to_itself_is_not_listed() -> None:
    doc = run(*CLUSTER)
    assert all(f["source"] != f["target"] for f in pair_flows(doc))
    # A flow from a group to itself stands for the pairs of its distinct members only.
    sizes = {g["id"]: len(g["nodes"]) for g in doc["groups"]}
    for f in doc["flows"]:
        if f["source"] == f["target"]:
            assert f["pairs"] == sizes[f["source"]] * (sizes[f["source"]] - 1)


def test_pods_are_not_matched_by_ipblock() -> None:
    doc = run(
        *CLUSTER,
        policy(
            "p",
            "prod",
            podSelector=SEL_DB,
            ingress=[{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}],
        ),
    )
    got = connectivity(doc, include_external=True)
    assert ("web", "db") not in got
    ext = [n for n in doc["nodes"] if n["type"] == "ipblock" and "0.0.0.0/0" in n["cidrs"]]
    assert ext and got[(ext[0]["name"], "db")] == "all"


def test_ipblock_except_splits_external_addresses() -> None:
    doc = run(
        *CLUSTER,
        policy(
            "p",
            "prod",
            podSelector=SEL_DB,
            policyTypes=["Egress"],
            egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]}],
        ),
    )
    nodes = {n["id"]: n for n in doc["nodes"] if n["type"] == "ipblock"}
    reach = {f["target"] for f in doc["flows"] if f["source"] == "prod/Deployment/db"}
    allowed = [nodes[i] for i in reach if i in nodes]
    assert [n["name"] for n in allowed] == ["10.0.0.0/8 except 10.1.0.0/16"]
    assert "10.1.0.0/16" in nodes["ipblock:other"]["cidrs"]


def test_host_network_pods_are_not_selected() -> None:
    doc = run(
        *CLUSTER,
        deployment("agent", "prod", {"app": "agent"}, host_network=True),
        policy("deny", "prod", podSelector={}, policyTypes=["Ingress", "Egress"]),
    )
    agent = next(n for n in doc["nodes"] if n["name"] == "agent")
    assert agent["isolated"] == {"ingress": False, "egress": False}
    got = connectivity(doc)
    assert got[("agent", "tool")] == "all"
    assert ("agent", "web") not in got
    assert any("hostNetwork" in p["message"] for p in doc["problems"])


def test_flow_names_the_rules_that_allow_it_with_lines() -> None:
    doc = run(
        *CLUSTER,
        policy(
            "a", "prod", podSelector=SEL_DB, ingress=[{"from": FROM_API, "ports": [{"port": 3306}]}]
        ),
        policy(
            "b", "prod", podSelector=SEL_DB, ingress=[{"from": FROM_API, "ports": [{"port": 1}]}]
        ),
        policy(
            "e",
            "prod",
            podSelector={"matchLabels": {"app": "api"}},
            policyTypes=["Egress"],
            egress=[{"ports": [{"port": 3306}]}],
        ),
    )
    flow = next(
        f
        for f in doc["flows"]
        if f["source"] == "prod/Deployment/api" and f["target"] == "prod/Deployment/db"
    )
    # Policy b allows port 1 only, which the egress side refuses: it is not named.
    assert [r["policy"] for r in flow["ingress"]] == ["prod/a"]
    assert [r["policy"] for r in flow["egress"]] == ["prod/e"]
    ref = flow["ingress"][0]
    assert ref["direction"] == "ingress" and ref["rule"] == 0
    assert ref["source"]["file"] == "case.yaml" and ref["source"]["line"] > 1
