"""Golden JSON for every sample scenario, produced by the real CLI, plus the article's claims.

Goldens are rewritten only with `pytest --update-golden`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from clirun import cli_bytes as cli
from semantics_helpers import ports_text

from webapp.core.document import pair_flows

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample-manifests"
GOLDEN = Path(__file__).resolve().parent / "golden"
SCENARIOS = sorted(p.name for p in SAMPLES.iterdir() if p.is_dir())




def written(scenario: str) -> bytes:
    """`analyze --format json` of the scenario, as printed."""
    result = cli("analyze", f"sample-manifests/{scenario}", "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def analyse(scenario: str) -> dict[str, Any]:
    return json.loads(written(scenario))  # type: ignore[no-any-return]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_golden(scenario: str, request: pytest.FixtureRequest) -> None:
    text = written(scenario)
    doc = json.loads(text)
    golden = GOLDEN / f"{scenario}.json"
    if request.config.getoption("--update-golden"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_bytes(text)  # as the CLI writes it, so a diff shows what changed
    assert golden.exists(), f"no golden file; run pytest --update-golden once for {scenario}"
    assert doc == json.loads(golden.read_text(encoding="utf-8"))
    assert not [p for p in doc["problems"] if p["severity"] == "error"], doc["problems"]


def flows_by_name(doc: dict[str, Any]) -> dict[tuple[str, str], str]:
    names = {n["id"]: n["name"] for n in doc["nodes"]}
    return {(names[f["source"]], names[f["target"]]): ports_text(f) for f in pair_flows(doc)}


def test_article_db_backend_policy_alone_reads_as_the_article_says() -> None:
    doc = analyse("01-db-ingress-from-backend")
    flows = flows_by_name(doc)
    inferred = {n["name"] for n in doc["nodes"] if n["type"] == "inferred"}
    assert {"default: name=mysql", "default: role=backend", "default: any other pod"} <= inferred
    assert flows[("default: role=backend", "default: name=mysql")] == "TCP 3306"
    assert ("default: any other pod", "default: name=mysql") not in flows
    # Egress is not isolated by this policy: mysql still reaches everything.
    assert flows[("default: name=mysql", "default: any other pod")] == "all"


def test_article_egress_only_policy_lets_everything_in_but_mysql_out_only_to_backend() -> None:
    doc = analyse("02-db-egress-to-backend")
    flows = flows_by_name(doc)
    assert flows[("default: any other pod", "default: name=mysql")] == "all"
    assert flows[("default: name=mysql", "default: role=backend")] == "all"
    assert ("default: name=mysql", "default: any other pod") not in flows


def test_article_payments_namespace_reaches_mysql_on_3306_only() -> None:
    doc = analyse("05-payments-namespace-to-db")
    flows = flows_by_name(doc)
    payments = [n for n in doc["nodes"] if n["namespace"] == "team=payments"]
    assert payments and payments[0]["type"] == "inferred"
    assert flows[(payments[0]["name"], "default: name=mysql")] == "TCP 3306"
    assert ("default: any other pod", "default: name=mysql") not in flows


def test_article_dns_example_keeps_dns_with_the_app() -> None:
    doc = analyse("06-egress-with-dns-with-app")
    flows = flows_by_name(doc)
    assert flows[("mysql", "coredns")] == "TCP 53, UDP 53"
    assert flows[("mysql", "backend")] == "all"
    assert ("mysql", "frontend") not in flows
    assert flows[("backend", "mysql")] == "TCP 3306"
    assert ("frontend", "mysql") not in flows


def test_article_ipblock_example() -> None:
    doc = analyse("04-db-ipblock-with-app")
    flows = flows_by_name(doc)
    assert flows[("10.10.20.15/32", "mysql")] == "TCP 3306"
    assert flows[("mysql", "10.10.20.15/32")] == "all"
    assert ("backend", "mysql") not in flows
    assert ("mysql", "other external addresses") not in flows


# --- the cluster-wide samples read as their READMEs say -------------------------------------


def _title(node: dict[str, Any]) -> str:
    return f"{node['namespace']}/{node['name']}" if node["namespace"] else node["name"]


def tier_verdicts(doc: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(source, target) -> what a reader of the document learns about the pair: "allowed
    PORTS by RULES" (ingress rules, else egress ones, as `rule-name`s or `ns/policy`s),
    or "denied by RULE NAMES" (the Deny rules, sorted), or nothing for a pair that is
    merely not allowed by any NetworkPolicy."""
    names = {n["id"]: _title(n) for n in doc["nodes"]}
    out: dict[tuple[str, str], str] = {}

    def rules(refs: list[dict[str, Any]]) -> str:
        return " -> ".join(r.get("name") or r["policy"] for r in refs)

    for f in pair_flows(doc):
        decided = rules(f["ingress"]) or rules(f["egress"]) or "default"
        out[(names[f["source"]], names[f["target"]])] = f"allowed {ports_text(f)} by {decided}"
    members = {g["id"]: g["nodes"] for g in doc["groups"]}
    denied: dict[tuple[str, str], set[str]] = {}
    for d in doc["denials"]:
        for a in members[d["source"]]:
            for b in members[d["target"]]:
                if a != b:
                    chain = [*(v["name"] for v in d["via"]), d["rule"]["name"]]
                    denied.setdefault((names[a], names[b]), set()).add(" -> ".join(chain))
    for pair, chains in denied.items():
        out.setdefault(pair, "denied by " + "; ".join(sorted(chains)))
    return out


@pytest.mark.parametrize(
    ("scenario", "source", "target", "expected"),
    [
        pytest.param(
            "cluster-multi-tenant", "monitoring/prometheus", "tenant-a/web",
            "allowed TCP 9090 by pass-monitoring -> tenant-a/allow-scrape",
            id="multi-tenant-monitoring-scrape-through-the-pass-chain",
        ),
        pytest.param(
            "cluster-multi-tenant", "monitoring/prometheus", "tenant-b/web",
            "denied by pass-monitoring -> deny-all-ingress",
            id="multi-tenant-pass-with-no-networkpolicy-falls-to-baseline-deny",
        ),
        pytest.param(
            "cluster-multi-tenant", "tenant-a/worker", "tenant-a/web",
            "allowed TCP 8080 by tenant-a/allow-scrape",
            id="multi-tenant-within-tenant-a-networkpolicy-decides",
        ),
        pytest.param(
            "cluster-multi-tenant", "tenant-a/web", "tenant-a/worker",
            "denied by deny-all-ingress", id="multi-tenant-baseline-default-deny",
        ),
        pytest.param(
            "cluster-multi-tenant", "tenant-b/web", "tenant-b/worker",
            "denied by deny-all-ingress", id="multi-tenant-baseline-default-deny-in-tenant-b",
        ),
        pytest.param(
            "cluster-multi-tenant", "tenant-a/web", "tenant-b/web",
            "denied by deny-other-namespaces", id="multi-tenant-tenant-to-tenant-admin-deny",
        ),
        pytest.param(
            "cluster-multi-tenant", "tenant-b/worker", "tenant-a/web",
            "denied by deny-other-namespaces", id="multi-tenant-tenant-b-to-a-admin-deny",
        ),
        pytest.param(
            "cluster-multi-tenant", "kube-system/coredns", "tenant-a/worker",
            "denied by deny-other-namespaces", id="multi-tenant-coredns-into-a-tenant-admin-deny",
        ),
        pytest.param(
            "cluster-multi-tenant", "tenant-b/web", "kube-system/coredns",
            "allowed all by cluster-dns", id="multi-tenant-dns-egress-accept",
        ),
        pytest.param(
            "cluster-multi-tenant", "any external address", "tenant-b/web",
            "allowed all by default", id="multi-tenant-external-addresses-default-allow",
        ),
        pytest.param(
            "cluster-v1alpha1", "frontend/web", "backend/api",
            "allowed TCP 8080 by pass-shop-app-ports -> backend/api-from-frontend",
            id="v1alpha1-pass-then-networkpolicy",
        ),
        pytest.param(
            "cluster-v1alpha1", "backend/api", "frontend/web",
            "denied by deny-all-ingress; pass-shop-app-ports -> deny-all-ingress",
            id="v1alpha1-pass-then-baseline-deny",
        ),
        pytest.param(
            "cluster-v1alpha1", "sandbox/toy", "frontend/web",
            "denied by deny-all-ingress; deny-everything-else",
            id="v1alpha1-sandbox-egress-denied",
        ),
        pytest.param(
            "cluster-v1alpha1", "sandbox/toy", "kube-system/coredns",
            "allowed TCP 53, UDP 53 by allow-dns", id="v1alpha1-sandbox-dns-allowed",
        ),
        pytest.param(
            "cluster-v1alpha1", "backend/api", "sandbox/toy",
            "denied by deny-from-shop; deny-to-sandbox",
            id="v1alpha1-shop-to-sandbox-denied-on-both-sides",
        ),
    ],
)
def test_cluster_samples_read_as_their_readmes_say(
    scenario: str, source: str, target: str, expected: str
) -> None:
    assert tier_verdicts(analyse(scenario)).get((source, target)) == expected


@pytest.mark.parametrize(
    ("scenario", "source", "target"),
    [
        pytest.param("cluster-multi-tenant", "any external address", "tenant-a/web",
                     id="multi-tenant-external-into-isolated-web-not-allowed-by-networkpolicy"),
        pytest.param("cluster-multi-tenant", "tenant-b/web", "tenant-a/worker",
                     id="multi-tenant-denied-pairs-are-never-also-flows"),
    ],
)
def test_cluster_samples_not_allowed_pairs_are_no_flow(
    scenario: str, source: str, target: str
) -> None:
    doc = analyse(scenario)
    names = {n["id"]: _title(n) for n in doc["nodes"]}
    flows = {(names[f["source"]], names[f["target"]]) for f in pair_flows(doc)}
    assert (source, target) not in flows


@pytest.mark.parametrize(
    ("scenario", "findings"),
    [
        pytest.param("cluster-multi-tenant", [], id="multi-tenant-no-cnp-finding"),
        pytest.param("cluster-v1alpha1", ["cnp-handover-ambiguity"],
                     id="v1alpha1-handover-ambiguity-for-backend-api"),
    ],
)
def test_cluster_samples_cnp_findings(scenario: str, findings: list[str]) -> None:
    doc = analyse(scenario)
    found = [f for f in doc["findings"] if f["rule"].startswith("cnp-")]
    assert [f["rule"] for f in found] == findings
    if findings:
        assert found[0]["nodes"] == ["backend/Deployment/api"]
