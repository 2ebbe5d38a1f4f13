"""Loose ends of cluster-wide policies: uploads of only cluster policies, inferred pods from
their subjects and peers, their rule excerpts, and NetworkPolicy findings that account for
the Admin and Baseline tiers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from clirun import cli_bytes

from webapp.core import SourceText, analyze


def cnp(
    name: str,
    tier: str,
    priority: int,
    subject: str,
    ingress: str = "",
    egress: str = "",
) -> str:
    text = f"""\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {{name: {name}}}
spec:
  tier: {tier}
  priority: {priority}
  subject:
    {subject}
"""
    if ingress:
        text += f"  ingress:\n{ingress}"
    if egress:
        text += f"  egress:\n{egress}"
    return text


def namespace(name: str, labels: str = "{}") -> str:
    return f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {labels}}}\n"


def pod(ns: str, name: str) -> str:
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}, "
        f"labels: {{app: {name}}}}}\nspec:\n  containers: [{{name: c, image: x}}]\n"
    )


DENY_FROM_B = """\
  - name: deny-b
    action: Deny
    from:
    - namespaces: {matchLabels: {tenant: b}}
"""
ISOLATE_A = cnp("isolate-a", "Admin", 10, "namespaces: {matchLabels: {tenant: a}}", DENY_FROM_B)


def document(*docs: str) -> dict[str, Any]:
    return dict(analyze([SourceText("up.yaml", "---\n".join(docs).encode())]).document)


def test_an_upload_of_only_cluster_policies_is_analysed_in_policies_only_mode() -> None:
    result = cli_bytes("analyze", "-", "--format", "json", stdin=ISOLATE_A.encode())
    assert result.returncode == 0, result.stderr.decode()
    doc = json.loads(result.stdout)
    assert [(n["id"], n["type"]) for n in doc["nodes"]] == [
        ("inferred:tenant=a:*", "inferred"),
        ("inferred:tenant=b:*", "inferred"),
        ("ipblock:other", "ipblock"),
    ]
    assert [(d["source"], d["target"], d["rule"]["name"]) for d in doc["denials"]] == [
        ("inferred:tenant=b:*", "inferred:tenant=a:*", "deny-b")
    ]


def test_nothing_to_analyse_still_names_what_could_be_used() -> None:
    config_map = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
    result = cli_bytes("analyze", "-", stdin=config_map)
    assert result.returncode == 2
    assert "no NetworkPolicy, cluster-wide policy, Namespace, Pod or workload" in (
        result.stderr.decode()
    )


@pytest.mark.parametrize(
    ("docs", "inferred"),
    [
        pytest.param(
            (namespace("a", "{tenant: a}"), namespace("b", "{tenant: b}"), ISOLATE_A),
            ["inferred:a:*", "inferred:b:*"],
            id="namespaces-without-pods-get-a-pod-from-subject-and-peer",
        ),
        pytest.param(
            (
                namespace("kube-system"),
                cnp(
                    "dns",
                    "Admin",
                    5,
                    "namespaces: {}",
                    egress="""\
  - name: dns
    action: Accept
    to:
    - pods:
        namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
        podSelector: {matchLabels: {k8s-app: kube-dns}}
""",
                ),
            ),
            ["inferred:kube-system:k8s-app=kube-dns", "inferred:kube-system:*"],
            id="a-pods-peer-is-an-inferred-pod-of-its-selector",
        ),
        pytest.param(
            (pod("a", "web"), namespace("a", "{tenant: a}"), ISOLATE_A),
            ["inferred:tenant=b:*"],
            id="described-namespaces-are-not-inferred-again",
        ),
    ],
)
def test_policies_only_mode_infers_pods_from_cluster_policies(
    docs: tuple[str, ...], inferred: list[str]
) -> None:
    doc = document(*docs)
    assert [n["id"] for n in doc["nodes"] if n["type"] == "inferred"] == inferred


def test_cluster_policy_rules_have_their_excerpts() -> None:
    doc = document(ISOLATE_A)
    [policy] = doc["clusterPolicies"]
    assert policy["id"] == "ClusterNetworkPolicy/isolate-a"
    assert policy["rules"] == [
        {
            "direction": "ingress",
            "rule": 0,
            "name": "deny-b",
            "action": "Deny",
            "line": 10,
            "endLine": 13,
            "text": DENY_FROM_B.rstrip("\n"),
        }
    ]


BASELINE_DENY_ALL = cnp(
    "default-deny",
    "Baseline",
    0,
    "namespaces: {matchLabels: {tenant: a}}",
    ingress="""\
  - name: deny-all
    action: Deny
    from:
    - namespaces: {}
""",
)
ADMIN_DENY_EGRESS = cnp(
    "no-egress",
    "Admin",
    20,
    "namespaces: {matchLabels: {tenant: a}}",
    egress="""\
  - name: deny-out
    action: Deny
    to:
    - networks: ["0.0.0.0/0"]
    - namespaces: {}
""",
)
ACCEPT_ONLY = cnp(
    "accept-only",
    "Admin",
    30,
    "namespaces: {matchLabels: {tenant: a}}",
    egress="""\
  - name: dns
    action: Accept
    to:
    - namespaces: {}
""",
)
EGRESS_NP = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: out, namespace: a}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - ipBlock: {cidr: 0.0.0.0/0}
"""
TENANTS = (namespace("a", "{tenant: a}"), namespace("b", "{tenant: b}"), pod("a", "web"))


def messages(doc: dict[str, Any], rule: str, node: str = "a/Pod/web") -> list[str]:
    return [f["message"] for f in doc["findings"] if f["rule"] == rule and node in f["nodes"]]


@pytest.mark.parametrize(
    ("policies", "expected"),
    [
        pytest.param(
            (),
            ["Pod 'a/web' is isolated in neither direction: every pod and address may "
             "connect to it, and it may connect to anything"],
            id="no-cluster-policy-open-both-ways",
        ),
        pytest.param(
            (ACCEPT_ONLY,),
            ["Pod 'a/web' is isolated in neither direction: every pod and address may "
             "connect to it, and it may connect to anything"],
            id="accept-only-cluster-policy-decides-nothing-closed",
        ),
        pytest.param(
            (BASELINE_DENY_ALL,),
            ["Pod 'a/web' is isolated by no NetworkPolicy; cluster-wide policies "
             "'ClusterNetworkPolicy/default-deny' decide only its ingress (their Deny rules "
             "drop some of it), so it may connect to anything"],
            id="baseline-deny-decides-ingress-egress-still-open",
        ),
        pytest.param(
            (ADMIN_DENY_EGRESS,),
            ["Pod 'a/web' is isolated by no NetworkPolicy; cluster-wide policies "
             "'ClusterNetworkPolicy/no-egress' decide only its egress (their Deny rules "
             "drop some of it), so every pod and address may connect to it"],
            id="admin-deny-decides-egress-ingress-still-open",
        ),
        pytest.param(
            (BASELINE_DENY_ALL, ADMIN_DENY_EGRESS), [],
            id="tiers-decide-both-directions-not-reported",
        ),
    ],
)
def test_not_isolated_accounts_for_cluster_policies(
    policies: tuple[str, ...], expected: list[str]
) -> None:
    assert messages(document(*TENANTS, *policies), "not-isolated") == expected


@pytest.mark.parametrize(
    ("policies", "count"),
    [
        pytest.param((), 1, id="egress-isolated-ingress-open"),
        pytest.param((BASELINE_DENY_ALL,), 0, id="baseline-deny-decides-the-ingress"),
    ],
)
def test_ingress_not_isolated_accounts_for_cluster_policies(
    policies: tuple[str, ...], count: int
) -> None:
    doc = document(*TENANTS, EGRESS_NP, *policies)
    assert len(messages(doc, "ingress-not-isolated")) == count


@pytest.mark.parametrize(
    ("policies", "suffix", "severity"),
    [
        pytest.param((), "", "medium", id="networkpolicy-alone-opens-the-internet"),
        pytest.param(
            (ADMIN_DENY_EGRESS,),
            "; but Admin ClusterNetworkPolicy rules decide that traffic first, so no external "
            "address gets through by this rule",
            "low",
            id="admin-deny-decides-first",
        ),
    ],
)
def test_internet_open_accounts_for_admin_denies(
    policies: tuple[str, ...], suffix: str, severity: str
) -> None:
    doc = document(*TENANTS, EGRESS_NP, *policies)
    [found] = [f for f in doc["findings"] if f["rule"] == "internet-open"]
    assert found["message"] == (
        "spec.egress[0].to[0] of 'a/out' has ipBlock 0.0.0.0/0: it allows traffic to every "
        "external address" + suffix
    )
    assert found["severity"] == severity
