"""Cluster-wide policy findings: a firing and a quiet table case for each rule.

Each case uploads a small multi-tenant cluster plus cluster-wide policies (and
NetworkPolicies where the hand-over matters), through `analyze` as the CLI
and the web app do, and says whether a rule fires (with a phrase its message
must contain) or stays quiet. Semantics: ../shared/docs/cluster-network-policy.md.
"""

from __future__ import annotations

from typing import Any

import pytest
from semantics_helpers import deployment, namespace, policy, run

from webapp.core.findings import CHECK_BY_ID

V2 = "policy.networking.k8s.io/v1alpha2"
V1 = "policy.networking.k8s.io/v1alpha1"
TENANT_A = {"matchLabels": {"tenant": "a"}}
TENANT_B = {"matchLabels": {"tenant": "b"}}
EVERY = {"namespaces": {}}
FROM_B = {"namespaces": TENANT_B}
FROM_A = {"namespaces": TENANT_A}

CLUSTER = [
    namespace("tenant-a", tenant="a"),
    namespace("tenant-b", tenant="b"),
    namespace("monitoring", purpose="monitoring"),
    deployment("app", "tenant-a", {"app": "app"}, [("http", 8080, "TCP")]),
    deployment("app", "tenant-b", {"app": "app"}, [("http", 8080, "TCP")]),
    deployment("prometheus", "monitoring", {"app": "prometheus"}),
]


def cnp(
    name: str,
    priority: int = 10,
    subject: dict[str, Any] | None = None,
    tier: str = "Admin",
    **rules: Any,
) -> dict[str, Any]:
    spec = {"tier": tier, "priority": priority, "subject": subject or {"namespaces": {}}, **rules}
    return {
        "apiVersion": V2,
        "kind": "ClusterNetworkPolicy",
        "metadata": {"name": name},
        "spec": spec,
    }


def anp(name: str, priority: int = 10, **rules: Any) -> dict[str, Any]:
    spec = {"priority": priority, "subject": {"namespaces": {}}, **rules}
    return {
        "apiVersion": V1,
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": name},
        "spec": spec,
    }


def rule(action: str, *peers: Any, key: str = "from", **fields: Any) -> dict[str, Any]:
    return {"action": action, key: list(peers), **fields}


def out(action: str, *peers: Any, **fields: Any) -> dict[str, Any]:
    return rule(action, *peers, key="to", **fields)


def tcp(number: int) -> dict[str, Any]:
    return {"tcp": {"destinationPort": {"number": number}}}


def tcp_range(start: int, end: int) -> dict[str, Any]:
    return {"tcp": {"destinationPort": {"range": {"start": start, "end": end}}}}


IN_A = {"subject": {"namespaces": TENANT_A}}
BASELINE_DENY_IN = cnp("baseline", tier="Baseline", priority=0, ingress=[rule("Deny", EVERY)])
NP_INGRESS_A = policy("in", "tenant-a", policyTypes=["Ingress"])
NP_EGRESS_A = policy("out", "tenant-a", policyTypes=["Egress"])
NP_BOTH_A = policy("both", "tenant-a", policyTypes=["Ingress", "Egress"])
MONITORING = {"namespaces": {"matchLabels": {"purpose": "monitoring"}}}
PASS_MONITORING = cnp("delegate", **IN_A, ingress=[rule("Pass", MONITORING)])

# (objects, rule, phrase the message must contain, or None when the rule stays quiet)
CASES: list[Any] = [
    # cnp-priority-conflict
    pytest.param([*CLUSTER, cnp("deny-b", ingress=[rule("Deny", FROM_B)]),
                  cnp("allow-all", ingress=[rule("Accept", EVERY)])],
                 "cnp-priority-conflict", "order undefined by the spec",
                 id="equal-priority-deny-and-accept-overlap"),
    pytest.param([*CLUSTER, cnp("deny-b", ingress=[rule("Deny", FROM_B)]),
                  anp("allow-all", ingress=[rule("Allow", EVERY)])],
                 "cnp-priority-conflict", "('allow-all' first)",
                 id="admin-network-policy-and-cluster-network-policy-share-the-admin-tier"),
    pytest.param([*CLUSTER, cnp("deny-b", 10, ingress=[rule("Deny", FROM_B)]),
                  cnp("allow-all", 11, ingress=[rule("Accept", EVERY)])],
                 "cnp-priority-conflict", None, id="different-priorities-are-ordered"),
    pytest.param([*CLUSTER, cnp("deny-b", ingress=[rule("Deny", FROM_B)]),
                  cnp("deny-all", ingress=[rule("Deny", EVERY)])],
                 "cnp-priority-conflict", None, id="same-action-is-no-conflict"),
    pytest.param([*CLUSTER, cnp("deny-b", **IN_A, ingress=[rule("Deny", FROM_B)]),
                  cnp("allow-all", subject=FROM_B, ingress=[rule("Accept", EVERY)])],
                 "cnp-priority-conflict", None, id="disjoint-subjects"),
    pytest.param([*CLUSTER, cnp("deny-b", ingress=[rule("Deny", FROM_B)]),
                  cnp("allow-a", ingress=[rule("Accept", FROM_A)])],
                 "cnp-priority-conflict", None, id="disjoint-peers"),
    pytest.param([*CLUSTER, cnp("deny-80", ingress=[rule("Deny", EVERY, protocols=[tcp(80)])]),
                  cnp("allow-443", ingress=[rule("Accept", EVERY, protocols=[tcp(443)])])],
                 "cnp-priority-conflict", None, id="disjoint-ports"),
    pytest.param([*CLUSTER, cnp("deny-b", ingress=[rule("Deny", FROM_B)]),
                  cnp("allow-egress", egress=[out("Accept", EVERY)])],
                 "cnp-priority-conflict", None, id="different-directions"),
    pytest.param([*CLUSTER, cnp("deny-b", ingress=[rule("Deny", FROM_B)]),
                  cnp("allow-all", tier="Baseline", ingress=[rule("Accept", EVERY)])],
                 "cnp-priority-conflict", None, id="different-tiers"),
    pytest.param([*CLUSTER, cnp("deny-net", egress=[out("Deny", {"networks": ["10.0.0.0/8"]})]),
                  cnp("allow-net", egress=[out("Accept", {"networks": ["10.1.0.0/16"]})])],
                 "cnp-priority-conflict", "order undefined", id="overlapping-networks"),
    pytest.param([*CLUSTER, cnp("a-wide", egress=[out("Deny", {"networks": ["10.0.0.0/8"]})]),
                  cnp("b-narrow", egress=[out("Accept", {"networks": ["10.1.0.0/16"]})])],
                 "cnp-priority-conflict", "order undefined",
                 id="overlapping-networks-wider-first-by-name"),
    pytest.param([*CLUSTER, cnp("a", egress=[out("Accept", {"domainNames": ["*.example.com"]})]),
                  cnp("b", egress=[out("Pass", {"domainNames": ["api.example.com"]})])],
                 "cnp-priority-conflict", "order undefined", id="overlapping-domain-names"),
    # cnp-shadowed-rule
    pytest.param([*CLUSTER, cnp("p", ingress=[rule("Deny", EVERY), rule("Accept", FROM_B)])],
                 "cnp-shadowed-rule", "spec.ingress[1] (Accept) can never match",
                 id="earlier-rule-of-every-namespace-shadows-a-later-one"),
    pytest.param([*CLUSTER, cnp("p", ingress=[rule("Deny", FROM_B), rule("Accept", EVERY)])],
                 "cnp-shadowed-rule", None, id="earlier-narrower-rule-shadows-nothing"),
    pytest.param([*CLUSTER, cnp("p", ingress=[rule("Deny", EVERY, protocols=[tcp(80)]),
                                              rule("Accept", FROM_B)])],
                 "cnp-shadowed-rule", None, id="earlier-rule-with-fewer-ports-shadows-nothing"),
    pytest.param([*CLUSTER, cnp("p", ingress=[rule("Deny", EVERY, protocols=[tcp_range(1, 1024)]),
                                              rule("Accept", FROM_B, protocols=[tcp(80)])])],
                 "cnp-shadowed-rule", "so its Accept never applies",
                 id="earlier-port-range-covers-a-later-port"),
    pytest.param([*CLUSTER, cnp("p", ingress=[rule("Deny", FROM_B, name="deny-b"),
                                              rule("Pass", FROM_B, name="pass-b")])],
                 "cnp-shadowed-rule", "'pass-b' (Pass) can never match", id="equal-peers"),
    pytest.param([*CLUSTER, cnp("p", egress=[out("Deny", {"networks": ["10.0.0.0/8"]}),
                                             out("Accept", {"networks": ["10.1.0.0/16"]})])],
                 "cnp-shadowed-rule", "can never match", id="cidr-inside-an-earlier-cidr"),
    pytest.param([*CLUSTER, cnp("p", egress=[out("Deny", {"networks": ["10.1.0.0/16"]}),
                                             out("Accept", {"networks": ["10.0.0.0/8"]})])],
                 "cnp-shadowed-rule", None, id="wider-cidr-after-a-narrower-one"),
    pytest.param([*CLUSTER, cnp("first", 5, ingress=[rule("Deny", EVERY)]),
                  cnp("second", 10, **IN_A, ingress=[rule("Accept", FROM_B)])],
                 "cnp-shadowed-rule", "'ClusterNetworkPolicy/first' spec.ingress[0] (Deny) comes",
                 id="rule-of-a-lower-priority-policy-with-a-covering-subject"),
    pytest.param([*CLUSTER, cnp("first", 10, ingress=[rule("Deny", EVERY)]),
                  cnp("second", 10, **IN_A, ingress=[rule("Accept", FROM_B)])],
                 "cnp-shadowed-rule", None, id="equal-priority-is-no-certain-order"),
    pytest.param([*CLUSTER, cnp("first", 5, **IN_A, ingress=[rule("Deny", EVERY)]),
                  cnp("second", 10, ingress=[rule("Accept", FROM_B)])],
                 "cnp-shadowed-rule", None, id="earlier-policy-applies-to-fewer-pods"),
    pytest.param([*CLUSTER, cnp("first", 5, ingress=[rule("Deny", EVERY)]),
                  cnp("second", 10, tier="Baseline", ingress=[rule("Accept", FROM_B)])],
                 "cnp-shadowed-rule", None, id="other-tier-does-not-shadow"),
    pytest.param([*CLUSTER, cnp("p", egress=[out("Accept", {"domainNames": ["*.example.com"]}),
                                             out("Accept", {"domainNames": ["api.example.com"]})])],
                 "cnp-shadowed-rule", "can never match", id="domain-under-an-earlier-wildcard"),
    # cnp-pass-to-nothing
    pytest.param([*CLUSTER, PASS_MONITORING], "cnp-pass-to-nothing",
                 "the passed traffic is allowed by default", id="pass-with-nothing-below"),
    pytest.param([*CLUSTER, PASS_MONITORING, NP_INGRESS_A], "cnp-pass-to-nothing", None,
                 id="networkpolicy-decides-below"),
    pytest.param([*CLUSTER, PASS_MONITORING, BASELINE_DENY_IN], "cnp-pass-to-nothing", None,
                 id="baseline-decides-below"),
    pytest.param([*CLUSTER, PASS_MONITORING, NP_EGRESS_A], "cnp-pass-to-nothing",
                 "no NetworkPolicy isolates for ingress",
                 id="networkpolicy-of-the-other-direction-does-not-decide"),
    pytest.param([*CLUSTER, cnp("base", tier="Baseline", ingress=[rule("Pass", FROM_B)])],
                 "cnp-pass-to-nothing", "nothing below Baseline", id="pass-in-the-baseline-tier"),
    # cnp-networks-all
    pytest.param([*CLUSTER, cnp("p", egress=[out("Deny", {"networks": ["0.0.0.0/0"]})])],
                 "cnp-networks-all", "also matches traffic to pods and nodes",
                 id="networks-every-ipv4-address"),
    pytest.param([*CLUSTER, cnp("p", egress=[out("Accept", {"networks": ["::/0"]})])],
                 "cnp-networks-all", "networks ::/0", id="networks-every-ipv6-address"),
    pytest.param([*CLUSTER, cnp("p", egress=[out("Deny", {"networks": ["10.0.0.0/8"]})])],
                 "cnp-networks-all", None, id="networks-of-some-addresses"),
    # cnp-priority-ovn
    pytest.param([*CLUSTER, anp("wide", 100, ingress=[rule("Deny", FROM_B)])], "cnp-priority-ovn",
                 "priority 100: OVN-Kubernetes enforces", id="admin-priority-100"),
    pytest.param([*CLUSTER, anp("wide", 99, ingress=[rule("Deny", FROM_B)])], "cnp-priority-ovn",
                 None, id="admin-priority-99"),
    pytest.param([*CLUSTER, cnp("base", 500, tier="Baseline", ingress=[rule("Deny", FROM_B)])],
                 "cnp-priority-ovn", None, id="baseline-priority-is-not-admin"),
    # cnp-handover-ambiguity
    pytest.param([*CLUSTER, NP_EGRESS_A, BASELINE_DENY_IN], "cnp-handover-ambiguity",
                 "kube-network-policies does not",
                 id="egress-only-networkpolicy-and-baseline-ingress"),
    pytest.param([*CLUSTER, NP_BOTH_A, BASELINE_DENY_IN], "cnp-handover-ambiguity", None,
                 id="networkpolicy-of-both-directions"),
    pytest.param([*CLUSTER, BASELINE_DENY_IN], "cnp-handover-ambiguity", None,
                 id="no-networkpolicy-baseline-applies-everywhere"),
    pytest.param([*CLUSTER, NP_EGRESS_A, cnp("b", tier="Baseline", egress=[out("Deny", EVERY)])],
                 "cnp-handover-ambiguity", None, id="baseline-of-the-decided-direction-only"),
]  # fmt: skip


def fired(doc: dict[str, Any], rule_id: str) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["rule"] == rule_id]


@pytest.mark.parametrize(("objects", "rule_id", "phrase"), CASES)
def test_rule(objects: list[dict[str, Any]], rule_id: str, phrase: str | None) -> None:
    assert rule_id in CHECK_BY_ID
    doc = run(*objects)
    assert not [p for p in doc["problems"] if p["severity"] == "error"], doc["problems"]
    found = fired(doc, rule_id)
    if phrase is None:
        assert found == [], found
    else:
        assert found, [f["message"] for f in doc["findings"]]
        assert any(phrase in f["message"] for f in found), [f["message"] for f in found]


def test_conflict_names_both_policies_the_common_pods_and_the_later_rule() -> None:
    doc = run(*CLUSTER, cnp("deny-b", **IN_A, ingress=[rule("Deny", FROM_B)]),
              cnp("allow-all", ingress=[rule("Accept", EVERY)]))  # fmt: skip
    (f,) = fired(doc, "cnp-priority-conflict")
    assert f["severity"] == "medium"
    assert f["policies"] == ["ClusterNetworkPolicy/allow-all", "ClusterNetworkPolicy/deny-b"]
    assert f["nodes"] == ["tenant-a/Deployment/app"]
    assert f["source"]["file"] == "case.yaml"


@pytest.mark.parametrize(
    ("second", "severity"),
    [
        pytest.param("Accept", "medium", id="other-action-is-medium"),
        pytest.param("Deny", "low", id="same-action-is-low-a-redundant-rule"),
    ],
)
def test_shadowed_rule_severity(second: str, severity: str) -> None:
    doc = run(*CLUSTER, cnp("p", ingress=[rule("Deny", EVERY), rule(second, FROM_B)]))
    (f,) = fired(doc, "cnp-shadowed-rule")
    assert f["severity"] == severity
    assert f["nodes"] == ["monitoring/Deployment/prometheus", "tenant-a/Deployment/app",
                          "tenant-b/Deployment/app"]  # fmt: skip


def test_pass_to_nothing_lists_only_the_pods_nothing_decides_for() -> None:
    np_in_b = policy("in", "tenant-b", policyTypes=["Ingress"])
    delegate = cnp("delegate", ingress=[rule("Pass", EVERY)])
    (f,) = fired(run(*CLUSTER, delegate, np_in_b), "cnp-pass-to-nothing")
    assert f["nodes"] == ["monitoring/Deployment/prometheus", "tenant-a/Deployment/app"]


@pytest.mark.parametrize(
    ("rules", "severity"),
    [
        pytest.param([out("Deny", {"networks": ["0.0.0.0/0"]})], "medium", id="unguarded"),
        pytest.param([out("Pass", EVERY), out("Deny", {"networks": ["0.0.0.0/0"]})], "low",
                     id="pod-traffic-passed-first"),
    ],
)  # fmt: skip
def test_networks_all_is_low_after_a_pass_of_pod_traffic(
    rules: list[dict[str, Any]], severity: str
) -> None:
    (f,) = fired(run(*CLUSTER, cnp("p", egress=rules)), "cnp-networks-all")
    assert f["severity"] == severity


def test_handover_names_the_selecting_networkpolicy_and_the_baseline() -> None:
    (f,) = fired(run(*CLUSTER, NP_EGRESS_A, BASELINE_DENY_IN), "cnp-handover-ambiguity")
    assert f["policies"] == ["ClusterNetworkPolicy/baseline", "tenant-a/out"]
    assert f["nodes"] == ["tenant-a/Deployment/app"]
    assert f["severity"] == "low"


def test_priority_ovn_is_info() -> None:
    (f,) = fired(
        run(*CLUSTER, anp("wide", 500, ingress=[rule("Deny", FROM_B)])), "cnp-priority-ovn"
    )
    assert f["severity"] == "info"
    assert f["policies"] == ["AdminNetworkPolicy/wide"]


@pytest.mark.parametrize(
    ("objects", "rule_id"),
    [
        pytest.param([namespace("tenant-a", tenant="a"), PASS_MONITORING,
                      policy("in", "tenant-a", podSelector={"matchLabels": {"app": "web"}})],
                     "cnp-pass-to-nothing", id="pass-to-nothing"),
        pytest.param([namespace("tenant-a", tenant="a"), BASELINE_DENY_IN,
                      policy("out", "tenant-a", policyTypes=["Egress"])],
                     "cnp-handover-ambiguity", id="handover-ambiguity"),
    ],
)  # fmt: skip
def test_policies_only_namespaces_are_not_checked(objects: list[Any], rule_id: str) -> None:
    """Inferred pods stand for what the selectors name: whether others exist is unknown."""
    found = fired(run(*objects), rule_id)
    assert [(f["severity"], f["message"]) for f in found] == [
        ("info", "could not be checked in namespace 'tenant-a': no workloads uploaded there "
                 "(their pods are inferred from the policies)")
    ]  # fmt: skip
