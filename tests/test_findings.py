"""Finding rules: a firing and a quiet table case for each, and the shape of the list.

Each case uploads a small cluster plus policies and says whether a rule fires
(with a phrase its message must contain) or stays quiet. Policies-only cases
check that rules needing workloads say "could not be checked" instead.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from clirun import cli
from scalefixtures import PODS, analyse_list, bare_pod, bare_pods, measured, read_pairwise_flows
from semantics_helpers import deployment, namespace, policy, run

from webapp.core import Analysis, SourceText, analyze
from webapp.core.evaluate import evaluate
from webapp.core.findings import CHECK_BY_ID, CHECKS, LEVELS
from webapp.core.findings.registry import Hit, Level, Unchecked, check
from webapp.core.findings.upload import Upload
from webapp.core.model import NAME_LABEL, Inventory, Problem, Severity
from webapp.inputs import read_paths

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted(p for p in (ROOT / "sample-manifests").iterdir() if p.is_dir())

PROD = namespace("prod", team="a")
DEV = namespace("dev", team="b")
KUBE_SYSTEM = namespace("kube-system")
WEB = deployment("web", "prod", {"app": "web"}, [("http", 8080, "TCP")])
DB = deployment("db", "prod", {"app": "db"}, [("mysql", 3306, "TCP")])
TOOL = deployment("tool", "dev", {"app": "tool"})
COREDNS = deployment(
    "coredns", "kube-system", {"k8s-app": "kube-dns"}, [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")]
)
CLUSTER = [PROD, DEV, KUBE_SYSTEM, WEB, DB, TOOL, COREDNS]

DNS_PEER = {
    "namespaceSelector": {"matchLabels": {NAME_LABEL: "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}
DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
DENY_PROD = policy("deny", "prod", policyTypes=["Ingress", "Egress"])
ALLOW_DNS_PROD = policy(
    "dns", "prod", policyTypes=["Egress"], egress=[{"to": [DNS_PEER], "ports": DNS_PORTS}]
)
SEL_DB = {"matchLabels": {"app": "db"}}


def ingress_to_db(*peers: dict[str, Any], ports: list[dict[str, Any]] | None = None) -> Any:
    rule: dict[str, Any] = {"from": list(peers)}
    if ports is not None:
        rule["ports"] = ports
    return policy("db-in", "prod", podSelector=SEL_DB, policyTypes=["Ingress"], ingress=[rule])


def fired(doc: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    """Findings of a rule, without its "could not be checked" notes."""
    return [
        f
        for f in doc["findings"]
        if f["rule"] == rule and "could not be checked" not in f["message"]
    ]


def unchecked(doc: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [
        f for f in doc["findings"] if f["rule"] == rule and "could not be checked" in f["message"]
    ]


# (objects, rule, phrase the message must contain, or None when the rule stays quiet)
CASES: list[Any] = [
    # egress-blocks-dns
    pytest.param(
        [*CLUSTER, DENY_PROD],
        "egress-blocks-dns",
        "cannot reach DNS",
        id="deny-all-egress-cuts-dns",
    ),
    pytest.param(
        [*CLUSTER, DENY_PROD, ALLOW_DNS_PROD], "egress-blocks-dns", None, id="dns-allowed-is-quiet"
    ),
    pytest.param(
        [*CLUSTER, policy("in", "prod", policyTypes=["Ingress"])],
        "egress-blocks-dns",
        None,
        id="ingress-only-policy-leaves-dns-open",
    ),
    pytest.param(
        [
            *CLUSTER,
            DENY_PROD,
            ALLOW_DNS_PROD,
            policy("dns-deny", "kube-system", policyTypes=["Ingress"]),
        ],
        "egress-blocks-dns",
        "on UDP 53 and TCP 53",
        id="dns-pod-refusing-ingress-blocks-dns",
    ),
    pytest.param(
        [
            policy(
                "db-backend",
                "default",
                podSelector={"matchLabels": {"name": "mysql"}},
                policyTypes=["Egress"],
                egress=[{"to": [{"podSelector": {"matchLabels": {"role": "backend"}}}]}],
            )
        ],
        "egress-blocks-dns",
        "none uploaded",
        id="policies-only-article-egress-to-backend-cuts-dns",
    ),
    pytest.param(
        [
            policy(
                "db-backend",
                "default",
                podSelector={"matchLabels": {"name": "mysql"}},
                policyTypes=["Egress"],
                egress=[{"to": [DNS_PEER], "ports": DNS_PORTS}],
            )
        ],
        "egress-blocks-dns",
        None,
        id="policies-only-dns-peer-is-quiet",
    ),
    pytest.param(
        [
            WEB,
            DENY_PROD,
            policy("dns", "prod", policyTypes=["Egress"], egress=[{"ports": DNS_PORTS}]),
        ],
        "egress-blocks-dns",
        None,
        id="no-dns-pod-known-port-53-to-anyone-is-quiet",
    ),
    pytest.param(
        [
            WEB,
            DENY_PROD,
            policy(
                "dns",
                "prod",
                policyTypes=["Egress"],
                egress=[{"to": [{"ipBlock": {"cidr": "203.0.113.0/24"}}]}],
            ),
        ],
        "egress-blocks-dns",
        "none uploaded",
        id="no-dns-pod-known-all-ports-to-a-range-is-not-dns",
    ),
    # not-isolated / ingress-not-isolated
    pytest.param(CLUSTER, "not-isolated", "isolated in neither direction", id="no-policy-open"),
    pytest.param(
        [PROD, WEB, DENY_PROD, ALLOW_DNS_PROD], "not-isolated", None, id="deny-all-isolates"
    ),
    pytest.param(
        [PROD, WEB, policy("out", "prod", policyTypes=["Egress"], egress=[{}])],
        "ingress-not-isolated",
        "not for ingress",
        id="egress-only-policy-leaves-ingress-open",
    ),
    pytest.param(
        [PROD, WEB, DENY_PROD], "ingress-not-isolated", None, id="ingress-isolated-is-quiet"
    ),
    # policy-selects-nothing
    pytest.param(
        [*CLUSTER, policy("p", "prod", podSelector={"matchLabels": {"app": "dbb"}})],
        "policy-selects-nothing",
        "did you mean 'app=db'",
        id="pod-selector-typo-selects-nothing",
    ),
    pytest.param(
        [*CLUSTER, policy("p", "prod", podSelector={"matchLabels": {"app": "tool"}})],
        "policy-selects-nothing",
        "is metadata.namespace right?",
        id="selector-matching-another-namespace-hints-namespace",
    ),
    pytest.param(
        [*CLUSTER, policy("p", "prod", podSelector=SEL_DB)],
        "policy-selects-nothing",
        None,
        id="policy-selecting-db-is-quiet",
    ),
    # peer-matches-nothing
    pytest.param(
        [*CLUSTER, ingress_to_db({"podSelector": {"matchLabels": {"app": "wbe"}}})],
        "peer-matches-nothing",
        "did you mean 'app=web'",
        id="peer-pod-selector-typo",
    ),
    pytest.param(
        [*CLUSTER, ingress_to_db({"namespaceSelector": {"matchLabels": {"team": "c"}}})],
        "peer-matches-nothing",
        "matches no uploaded namespace",
        id="peer-namespace-selector-matches-no-namespace",
    ),
    pytest.param(
        [*CLUSTER, ingress_to_db({"podSelector": {"matchLabels": {"app": "tool"}}})],
        "peer-matches-nothing",
        "is a namespaceSelector missing",
        id="peer-pod-selector-matching-only-another-namespace",
    ),
    pytest.param(
        [
            *CLUSTER,
            ingress_to_db(
                {"podSelector": {"matchLabels": {"app": "web"}}},
                {"namespaceSelector": {"matchLabels": {"team": "b"}}},
            ),
        ],
        "peer-matches-nothing",
        None,
        id="peers-matching-workloads-are-quiet",
    ),
    # peers-or-likely-and
    pytest.param(
        [
            *CLUSTER,
            ingress_to_db(
                {"namespaceSelector": {"matchLabels": {"team": "b"}}},
                {"podSelector": {"matchLabels": {"app": "web"}}},
            ),
        ],
        "peers-or-likely-and",
        "separate peers are ORed",
        id="namespace-peer-and-pod-peer-side-by-side",
    ),
    pytest.param(
        [
            *CLUSTER,
            ingress_to_db(
                {
                    "namespaceSelector": {"matchLabels": {"team": "b"}},
                    "podSelector": {"matchLabels": {"app": "tool"}},
                }
            ),
        ],
        "peers-or-likely-and",
        None,
        id="one-peer-with-both-selectors-is-quiet",
    ),
    # named-port-undefined
    pytest.param(
        [*CLUSTER, ingress_to_db({"podSelector": {}}, ports=[{"port": "http"}])],
        "named-port-undefined",
        "names port 'http' (TCP), which no destination",
        id="ingress-named-port-missing-on-selected-pod",
    ),
    pytest.param(
        [
            *CLUSTER,
            ingress_to_db({"podSelector": {}}, ports=[{"port": "mysql", "protocol": "UDP"}]),
        ],
        "named-port-undefined",
        "define it for another protocol",
        id="named-port-with-other-protocol",
    ),
    pytest.param(
        [
            *CLUSTER,
            policy(
                "web-out",
                "prod",
                podSelector={"matchLabels": {"app": "web"}},
                policyTypes=["Egress"],
                egress=[{"to": [{"podSelector": SEL_DB}], "ports": [{"port": "http"}]}],
            ),
        ],
        "named-port-undefined",
        "'prod/db'",
        id="egress-named-port-missing-on-peer",
    ),
    pytest.param(
        [*CLUSTER, ingress_to_db({"podSelector": {}}, ports=[{"port": "mysql"}])],
        "named-port-undefined",
        None,
        id="named-port-defined-is-quiet",
    ),
    # any-namespace / internet-open
    pytest.param(
        [*CLUSTER, ingress_to_db({"namespaceSelector": {}})],
        "any-namespace",
        "every pod in every namespace",
        id="empty-namespace-selector-opens-every-namespace",
    ),
    pytest.param(
        [*CLUSTER, ingress_to_db({"namespaceSelector": {"matchLabels": {"team": "a"}}})],
        "any-namespace",
        None,
        id="labelled-namespace-selector-is-quiet",
    ),
    pytest.param(
        [*CLUSTER, ingress_to_db({"ipBlock": {"cidr": "0.0.0.0/0"}})],
        "internet-open",
        "admits every external address",
        id="ipv4-slash-zero-ingress",
    ),
    pytest.param(
        [*CLUSTER, ingress_to_db({"ipBlock": {"cidr": "::/0"}}, ports=[{"port": 443}])],
        "internet-open",
        "on TCP 443",
        id="ipv6-slash-zero-ingress",
    ),
    pytest.param(
        [*CLUSTER, ingress_to_db({"ipBlock": {"cidr": "10.0.0.0/8"}})],
        "internet-open",
        None,
        id="private-range-is-quiet",
    ),
    # namespace-not-defined
    pytest.param(
        [*CLUSTER, policy("p", "prdo")],
        "namespace-not-defined",
        "did you mean 'prod'",
        id="policy-in-mistyped-namespace",
    ),
    pytest.param(
        [*CLUSTER, policy("p", "prod"), policy("q", "default")],
        "namespace-not-defined",
        None,
        id="defined-and-builtin-namespaces-are-quiet",
    ),
    pytest.param(
        [WEB, policy("p", "prdo")],
        "namespace-not-defined",
        None,
        id="upload-without-namespaces-is-quiet",
    ),
    # duplicate-policy
    pytest.param(
        [*CLUSTER, policy("p", "prod"), policy("p", "prod", policyTypes=["Egress"])],
        "duplicate-policy",
        "also defined at",
        id="same-name-twice-in-one-namespace",
    ),
    pytest.param(
        [*CLUSTER, policy("p", "prod"), policy("p", "dev")],
        "duplicate-policy",
        None,
        id="same-name-in-two-namespaces-is-quiet",
    ),
    # cni-enforcement
    pytest.param(
        [*CLUSTER, DENY_PROD], "cni-enforcement", "Calico, Cilium", id="cni-note-with-policies"
    ),
    pytest.param(CLUSTER, "cni-enforcement", None, id="no-policy-no-cni-note"),
]


@pytest.mark.parametrize(("objects", "rule", "phrase"), CASES)
def test_rule(objects: list[dict[str, Any]], rule: str, phrase: str | None) -> None:
    doc = run(*objects)
    found = fired(doc, rule)
    if phrase is None:
        assert found == [], found
    else:
        assert found, [f["message"] for f in doc["findings"]]
        assert any(phrase in f["message"] for f in found), [f["message"] for f in found]


def test_dns_blocked_on_tcp_only_is_medium() -> None:
    udp_only = policy(
        "dns",
        "prod",
        policyTypes=["Egress"],
        egress=[{"to": [DNS_PEER], "ports": [{"protocol": "UDP", "port": 53}]}],
    )
    doc = run(*CLUSTER, DENY_PROD, udp_only)
    found = {f["nodes"][0]: f for f in fired(doc, "egress-blocks-dns")}
    assert set(found) == {"prod/Deployment/web", "prod/Deployment/db"}
    assert {f["severity"] for f in found.values()} == {"medium"}
    assert all("on TCP 53" in f["message"] for f in found.values())


def test_dns_finding_names_the_node_the_dns_pods_and_the_isolating_policy() -> None:
    doc = run(*CLUSTER, DENY_PROD)
    f = next(f for f in fired(doc, "egress-blocks-dns") if f["nodes"][0] == "prod/Deployment/db")
    assert f["severity"] == "high"
    assert f["nodes"] == ["prod/Deployment/db", "kube-system/Deployment/coredns"]
    assert f["policies"] == ["prod/deny"]
    deny = next(p for p in doc["policies"] if p["id"] == "prod/deny")
    assert f["source"] == {"file": "case.yaml", "line": deny["source"]["line"]}


def test_rule_findings_point_at_the_rule_line() -> None:
    doc = run(*CLUSTER, ingress_to_db({"podSelector": {"matchLabels": {"app": "wbe"}}}))
    (f,) = fired(doc, "peer-matches-nothing")
    rule = next(p for p in doc["policies"] if p["id"] == "prod/db-in")["rules"][0]
    assert f["source"] == {"file": "case.yaml", "line": rule["line"]}
    assert f["policies"] == ["prod/db-in"]
    assert f["nodes"] == ["prod/Deployment/db"]
    assert f["message"].startswith("spec.ingress[0].from[0].podSelector")


@pytest.mark.parametrize(
    ("objects", "rule"),
    [
        pytest.param(
            [policy("p", "default", podSelector={"matchLabels": {"app": "x"}})],
            "not-isolated",
            id="policies-only-open-pods-not-checked",
        ),
        pytest.param(
            [policy("p", "default", podSelector={"matchLabels": {"app": "x"}})],
            "policy-selects-nothing",
            id="policies-only-selection-not-checked",
        ),
        pytest.param(
            [
                policy(
                    "p",
                    "default",
                    ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "api"}}}]}],
                )
            ],
            "peer-matches-nothing",
            id="policies-only-peer-not-checked",
        ),
        pytest.param(
            [
                policy(
                    "p",
                    "default",
                    ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "ops"}}}]}],
                )
            ],
            "peer-matches-nothing",
            id="no-namespaces-uploaded-namespace-selector-not-checked",
        ),
        pytest.param(
            [policy("p", "default", ingress=[{"ports": [{"port": "http"}]}])],
            "named-port-undefined",
            id="policies-only-named-port-not-checked",
        ),
        pytest.param(
            [policy("p", "default", policyTypes=["Egress"], egress=[{}])],
            "ingress-not-isolated",
            id="policies-only-ingress-open-not-checked",
        ),
    ],
)
def test_policies_only_rules_say_not_checked(objects: list[dict[str, Any]], rule: str) -> None:
    doc = run(*objects)
    assert fired(doc, rule) == []
    (note,) = unchecked(doc, rule)
    assert CHECK_BY_ID[rule].needs_workloads
    assert note["severity"] == "info"
    assert "no workloads uploaded" in note["message"] or "no Namespace" in note["message"]


def test_workloads_elsewhere_do_not_make_policies_only_namespaces_fire() -> None:
    doc = run(WEB, policy("p", "other", podSelector={"matchLabels": {"app": "x"}}))
    assert fired(doc, "policy-selects-nothing") == []
    assert fired(doc, "not-isolated")[0]["nodes"] == ["prod/Deployment/web"]
    assert "'other'" in unchecked(doc, "not-isolated")[0]["message"]


def test_cni_note_is_shown_once() -> None:
    doc = run(*CLUSTER, DENY_PROD, ALLOW_DNS_PROD, policy("x", "dev"))
    assert len([f for f in doc["findings"] if f["rule"] == "cni-enforcement"]) == 1


def test_findings_have_the_contract_keys_and_a_deterministic_order() -> None:
    objects = [
        *CLUSTER,
        DENY_PROD,
        ingress_to_db({"namespaceSelector": {}}, {"ipBlock": {"cidr": "0.0.0.0/0"}}),
        policy("p", "prod", podSelector={"matchLabels": {"app": "nope"}}),
    ]
    doc = run(*objects)
    findings = doc["findings"]
    assert findings
    for f in findings:
        assert set(f) == {"rule", "severity", "message", "nodes", "policies", "source"}
        assert f["rule"] in CHECK_BY_ID
        assert f["severity"] in {str(level) for level in LEVELS}
    ranks = [[str(level) for level in LEVELS].index(f["severity"]) for f in findings]
    keys = [(r, f["rule"], (f["nodes"] or [""])[0]) for r, f in zip(ranks, findings, strict=True)]
    assert keys == sorted(keys)
    reordered = run(*reversed(objects))["findings"]

    def without_lines(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in f.items() if k != "source"} for f in items]

    assert without_lines(reordered) == without_lines(findings)


# --- the registry ----------------------------------------------------------------------
# (tests/test_docs.py checks that the README's Findings table is the registry)


def test_registry_ids_are_unique_kebab_case_with_one_line_summaries() -> None:
    ids = [c.id for c in CHECKS]
    assert len(ids) == len(set(ids))
    for c in CHECKS:
        assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)+", c.id), c.id
        assert c.severity in LEVELS
        assert c.summary.endswith(".") and "\n" not in c.summary
        assert callable(c.run)
    assert [c.severity.rank for c in CHECKS] == sorted(c.severity.rank for c in CHECKS)
    # every rule the issue names is registered, with the severity it has always had
    assert {c.id: str(c.severity) for c in CHECKS} == {
        "egress-blocks-dns": "high", "not-isolated": "medium", "peers-or-likely-and": "medium",
        "peer-matches-nothing": "medium", "policy-selects-nothing": "medium",
        "named-port-undefined": "medium", "internet-open": "medium", "any-namespace": "low",
        "ingress-not-isolated": "low", "namespace-not-defined": "low",
        "duplicate-policy": "low", "cni-enforcement": "info",
        # cluster-wide policies (issue 10)
        "cnp-priority-conflict": "medium", "cnp-shadowed-rule": "medium",
        "cnp-pass-to-nothing": "medium", "cnp-networks-all": "medium",
        "cnp-handover-ambiguity": "low", "cnp-priority-ovn": "info",
        "cnp-overridden-allow": "medium",
    }  # fmt: skip


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param("duplicate-policy", id="an-id-registered-twice"),
        pytest.param("Duplicate_Policy", id="an-id-that-is-not-kebab-case"),
    ],
)
def test_registering_a_bad_id_is_refused(rule: str) -> None:
    with pytest.raises(ValueError, match="kebab-case or is registered twice"):
        check(id=rule, severity=Level.LOW, summary="Never registered.")(lambda u: ())
    assert [c.id for c in CHECKS].count("duplicate-policy") == 1


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_registered_check_runs_on_the_sample(sample: Path) -> None:
    analysis = analyze(read_paths([str(sample)]))
    upload = Upload(analysis.evaluation, analysis.evaluator)
    for c in CHECKS:
        results = list(c.run(upload))
        assert all(isinstance(r, Hit | Unchecked) for r in results), c.id
        if any(isinstance(r, Unchecked) for r in results):
            assert c.needs_workloads, c.id


FIRED_ELSEWHERE = {"cnp-overridden-allow"}
"""Cluster-wide policy checks: their firing cases build model objects in tests/test_tiers.py
(the ClusterNetworkPolicy YAML reader is written separately)."""


def test_every_registered_rule_has_a_firing_case() -> None:
    from test_findings_cluster import CASES as CLUSTER_CASES  # cluster-wide policy rules

    fired_rules = {p.values[1] for p in [*CASES, *CLUSTER_CASES] if p.values[2] is not None}
    assert fired_rules | FIRED_ELSEWHERE == {c.id for c in CHECKS}


# --- duplicate-policy reads normalisation's record, not a message's text -----------------


def analysed(*objects: dict[str, Any]) -> Analysis:
    return analyze([SourceText("case.yaml", yaml.safe_dump_all(objects, sort_keys=False).encode())])


def reanalysed(inventory: Inventory) -> Analysis:
    """The analysis of `inventory` (problems included) as analyze would return it."""
    evaluation, evaluator = evaluate(inventory)
    return Analysis(inventory, evaluation, evaluator, inventory.problems, {}, ())


def duplicate_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in findings if f["rule"] == "duplicate-policy"]


def test_duplicate_policy_ignores_a_problem_that_only_reads_like_a_duplicate() -> None:
    analysis = analysed(PROD, WEB, DENY_PROD)
    look_alike = Problem(
        Severity.WARNING,
        "NetworkPolicy 'prod/deny' is also defined at case.yaml:1; the later definition is used",
        file="case.yaml",
        document=2,
        line=4,
        kind="NetworkPolicy",
        name="deny",
    )
    inventory = dataclasses.replace(
        analysis.inventory, problems=(*analysis.inventory.problems, look_alike)
    )
    assert inventory.duplicates == ()
    assert duplicate_findings(reanalysed(inventory).findings) == []


def test_duplicate_policy_fires_from_the_record_whatever_its_wording() -> None:
    analysis = analysed(PROD, WEB, DENY_PROD, DENY_PROD)
    (duplicate,) = analysis.inventory.duplicates
    reworded = "NetworkPolicy prod/deny appears twice; the second one counts"
    inventory = dataclasses.replace(
        analysis.inventory,
        duplicates=(dataclasses.replace(duplicate, message=reworded),),
        problems=tuple(
            dataclasses.replace(p, message=reworded) if p.message == duplicate.message else p
            for p in analysis.inventory.problems
        ),
    )
    (f,) = duplicate_findings(reanalysed(inventory).findings)
    assert f["message"] == reworded
    assert f["policies"] == ["prod/deny"]
    assert f["nodes"] == ["prod/Deployment/web"]
    assert f["source"] == {"file": "case.yaml", "line": duplicate.kept.line}




def test_check_does_not_take_an_error_quoting_the_wording_for_a_duplicate(
    tmp_path: Path,
) -> None:
    """An unknown field named like the duplicate warning is an error, not a duplicate."""
    broken = policy("web", "prod")
    broken["spec"]["is also defined at"] = 1
    manifest = tmp_path / "policies.yaml"
    manifest.write_text(yaml.safe_dump_all([broken, policy("web", "prod")]), encoding="utf-8")
    result = cli("check", str(manifest), "--fail-on", "low", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "unknown field 'is also defined at'" in result.stderr
    assert duplicate_findings(json.loads(result.stdout)["findings"]) == []


def ns_list(*items: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "List", "items": list(items)}


WEB_P = policy("p", "prod", podSelector={"matchLabels": {"app": "web"}})
TOOL_P = policy("p", "dev", podSelector={"matchLabels": {"app": "tool"}})


@pytest.mark.parametrize(
    ("objects", "expected"),
    [
        pytest.param(
            [WEB_P, WEB_P],
            [("prod/p", "prod/Deployment/web")],
            id="same-policy-in-two-documents",
        ),
        pytest.param(
            [WEB_P, TOOL_P, ns_list(WEB_P, TOOL_P)],
            [("dev/p", "dev/Deployment/tool"), ("prod/p", "prod/Deployment/web")],
            id="list-items-of-two-namespaces-each-name-their-own-policy",
        ),
        pytest.param(
            [WEB_P, WEB_P, WEB_P],
            [("prod/p", "prod/Deployment/web"), ("prod/p", "prod/Deployment/web")],
            id="three-definitions-name-the-policy-in-use-twice",
        ),
    ],
)
def test_check_names_the_duplicated_policy_and_what_it_selects(
    tmp_path: Path, objects: list[dict[str, Any]], expected: list[tuple[str, str]]
) -> None:
    manifest = tmp_path / "policies.yaml"
    manifest.write_text(yaml.safe_dump_all([PROD, DEV, WEB, TOOL, *objects]), encoding="utf-8")
    result = cli("check", str(manifest), "--fail-on", "low", "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    found = duplicate_findings(json.loads(result.stdout)["findings"])
    assert sorted((f["policies"][0], f["nodes"][0]) for f in found) == expected, found
    for f in found:
        assert len(f["policies"]) == len(f["nodes"]) == 1
        assert f["message"].startswith(f"NetworkPolicy '{f['policies'][0]}' is also defined at")


# --- findings read flows between groups ----------------------------------------------


@pytest.mark.parametrize(
    ("targets", "reach"),
    [
        pytest.param({"a"}, {"b", "c"}, id="other-members-reach-a-target-in-their-group"),
        pytest.param({"a", "b"}, {"a", "b", "c"}, id="two-targets-of-a-group-reach-each-other"),
        pytest.param(set(), set(), id="no-target-no-flow"),
    ],
)
def test_ports_into_applies_a_group_flow_to_every_member_but_the_target_itself(
    targets: set[str], reach: set[str]
) -> None:
    """CONTRACT §3: a flow from G to G covers pairs of distinct members, never a -> a."""
    analysis = analyse_list(*(bare_pod(name, "default") for name in ("a", "b", "c")))
    (group,) = {g for g in analysis.evaluation.grouped.group_of.values() if "ipblock" not in g}
    ids = {e.name: e.id for e in analysis.evaluation.scene.endpoints if e.kind == "Pod"}
    got = Upload(analysis.evaluation, analysis.evaluator).ports_into({ids[t] for t in targets})
    names = {v: k for k, v in ids.items()}
    assert {names[i] for i in got if i in names} == reach  # (and the external addresses)
    assert all(p.is_all for p in got.values())
    assert group.startswith("group:")


def test_egress_blocks_dns_at_scale_reads_groups_not_pairs() -> None:
    """2,000 egress-isolated pods allowed UDP 53 to DNS and everything to each other:
    2,000 medium findings, computed from a few group flows (their 4 million node pairs
    would take seconds and >500 MiB)."""
    udp_only = policy(
        "dns",
        "default",
        policyTypes=["Egress"],
        egress=[
            {"to": [DNS_PEER], "ports": [{"protocol": "UDP", "port": 53}]},
            {"to": [{"podSelector": {}}]},
        ],
    )
    dns = bare_pod("coredns", "kube-system", **{"k8s-app": "kube-dns"})
    analysis = analyse_list(*bare_pods(), dns, udp_only)
    with measured() as cost:
        findings = analysis.findings
    cost.check()
    assert not read_pairwise_flows(analysis)
    dns_findings = [f for f in findings if f["rule"] == "egress-blocks-dns"]
    assert len(dns_findings) == PODS
    assert {f["severity"] for f in dns_findings} == {"medium"}
    sample = next(f for f in dns_findings if f["nodes"][0] == "default/Pod/pod-1234")
    assert "cannot reach DNS ('coredns' in kube-system) on TCP 53" in sample["message"]
