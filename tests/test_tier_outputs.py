"""Every output names the deciding rule through the tiers, on one small upload.

Tenant `a` and tenant `b`, a monitoring namespace; the Admin tier passes monitoring
ingress to the namespace owners (priority 10) and denies ingress from other tenants
(priority 20); `a/scrape` accepts the scrape on 9090; the Baseline denies all other
ingress into tenants. Each format is asserted on the exact phrases a reader sees:
the chain "Admin … Pass → NetworkPolicy … allows" with file:line, the denials as
their own rows, and "denied by an Admin or Baseline rule" apart from "not allowed by
any NetworkPolicy".
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clirun import ROOT
from flask.testing import FlaskClient
from webfixtures import upload

UPLOAD = """\
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {tenant: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b, labels: {tenant: b}}
---
apiVersion: v1
kind: Namespace
metadata: {name: mon, labels: {purpose: monitoring}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
spec:
  containers: [{name: c, image: x, ports: [{name: metrics, containerPort: 9090}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: b, labels: {app: web}}
spec:
  containers: [{name: c, image: x}]
---
apiVersion: v1
kind: Pod
metadata: {name: prom, namespace: mon, labels: {app: prom}}
spec:
  containers: [{name: c, image: x}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: delegate}
spec:
  tier: Admin
  priority: 10
  subject:
    namespaces: {matchExpressions: [{key: tenant, operator: Exists}]}
  ingress:
  - name: pass-mon
    action: Pass
    from:
    - namespaces: {matchLabels: {purpose: monitoring}}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: isolate-a}
spec:
  tier: Admin
  priority: 120
  subject:
    namespaces: {matchLabels: {tenant: a}}
  ingress:
  - name: deny-others
    action: Deny
    from:
    - namespaces: {matchLabels: {tenant: b}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: scrape, namespace: a}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {purpose: monitoring}}
    ports: [{port: metrics}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: default-deny}
spec:
  tier: Baseline
  priority: 0
  subject:
    namespaces: {matchExpressions: [{key: tenant, operator: Exists}]}
  ingress:
  - name: deny-all
    action: Deny
    from:
    - namespaces: {}
"""
FILE = "tiers.yaml"
LINES = UPLOAD.splitlines()


def line_of(text: str, after: str = "") -> int:
    """The 1-based line of the first line holding `text` (after the first holding `after`)."""
    start = LINES.index(next(x for x in LINES if after in x)) if after else 0
    return next(i for i, x in enumerate(LINES[start:], start + 1) if text in x)


PASS = (
    "Admin ClusterNetworkPolicy/delegate priority 10 ingress[0] 'pass-mon' Pass "
    f"({FILE}:{line_of('- name: pass-mon')})"
)
SCRAPE = f"NetworkPolicy a/scrape ingress[0] allows ({FILE}:{line_of('- from:', 'name: scrape')})"
DENY_A = (
    "Admin ClusterNetworkPolicy/isolate-a priority 120 ingress[0] 'deny-others' Deny "
    f"({FILE}:{line_of('- name: deny-others')})"
)
BASELINE = (
    "Baseline ClusterNetworkPolicy/default-deny priority 0 ingress[0] 'deny-all' Deny "
    f"({FILE}:{line_of('- name: deny-all')})"
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("tiers")
    (path / FILE).write_text(UPLOAD, encoding="utf-8")
    yield path


def run(folder: Path, *args: str) -> str:
    """`python -m webapp ARGS` in `folder`, so the upload is named as written: tiers.yaml."""
    done = subprocess.run(
        [sys.executable, "-m", "webapp", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize(
    ("source", "target", "column", "verdict", "expected"),
    [
        pytest.param(
            "mon/prom", "a/web", "ingress_rules", "allowed",
            f"{PASS} → {SCRAPE}", id="pass-chain-hands-over-to-networkpolicy",
        ),
        pytest.param(
            "b/web", "a/web", "ingress_rules", "denied", f"denied by {DENY_A}",
            id="admin-deny-is-a-row-of-its-own",
        ),
        pytest.param(
            "mon/prom", "b/web", "ingress_rules", "denied", f"denied by {PASS} → {BASELINE}",
            id="baseline-deny-after-the-pass-names-the-pass",
        ),
    ],
)
def test_csv_names_the_deciding_rule(
    folder: Path, source: str, target: str, column: str, verdict: str, expected: str
) -> None:
    rows = rows_of(run(folder, "analyze", FILE, "--format", "csv"))
    assert list(rows[0])[-1] == "verdict"
    found = [
        r
        for r in rows
        if (r["source_members"], r["target_members"], r["verdict"]) == (source, target, verdict)
    ]
    assert [r[column] for r in found] == [expected]


def test_csv_without_cluster_policies_has_no_verdict_column(tmp_path: Path) -> None:
    only_np = "\n---\n".join(d for d in UPLOAD.split("\n---\n") if "ClusterNetworkPolicy" not in d)
    (tmp_path / FILE).write_text(only_np, encoding="utf-8")
    rows = rows_of(run(tmp_path, "analyze", FILE, "--format", "csv"))
    assert "verdict" not in rows[0]
    lines = only_np.splitlines()
    rule = lines.index("  - from:", lines.index("metadata: {name: scrape, namespace: a}")) + 1
    assert f"a/scrape ingress[0] ({FILE}:{rule})" in {r["ingress_rules"] for r in rows}


def test_markdown_has_a_denials_section_apart_from_not_allowed(folder: Path) -> None:
    text = run(folder, "analyze", FILE, "--format", "md")
    flows = text.split("## Allowed flows", 1)[1].split("## ", 1)[0]
    denials = text.split("## Denied by Admin or Baseline rules", 1)[1].split("## ", 1)[0]
    unescape = str.maketrans("", "", "\\")
    assert f"ingress: {PASS} → {SCRAPE}" in flows.translate(unescape)
    assert (
        "Traffic denied by an Admin or Baseline rule; a pair in neither this table nor the "
        "flows is not allowed by any NetworkPolicy." in denials
    )
    assert f"| b/web | a/web | 1 | TCP all ports; UDP all ports; SCTP all ports | ingress | " \
        f"denied by {DENY_A} |" in denials.translate(unescape)
    assert "- Cluster-wide policies: 3\n- Denials by Admin or Baseline rules: 3\n" in text
    assert "## Cluster-wide policies" in text
    assert "| ClusterNetworkPolicy/delegate | Admin | 10 | a/web, b/web |" in text.translate(
        unescape
    )


def test_dot_draws_denials_as_red_edges_with_their_rule(folder: Path) -> None:
    text = run(folder, "analyze", FILE, "--format", "dot")
    deny = [line for line in text.splitlines() if '"b/Pod/web" -> "a/Pod/web"' in line]
    assert deny == [
        '  "b/Pod/web" -> "a/Pod/web" [label="Admin Deny: TCP all ports; UDP all ports; '
        f'SCTP all ports", color="red", fontcolor="red", tooltip="denied by {DENY_A}"];'
    ]
    scrape = [line for line in text.splitlines() if '"mon/Pod/prom" -> "a/Pod/web"' in line]
    assert len(scrape) == 1 and f'tooltip="ingress: {PASS} → {SCRAPE}"' in scrape[0]


def test_standalone_html_edge_title_names_the_chain(folder: Path) -> None:
    text = run(folder, "analyze", FILE, "--format", "html")
    # The data island is JSON with every non-ASCII character and quote escaped.
    title = json.dumps(f"allowed by ingress: {PASS} → {SCRAPE}")[1:-1].replace("'", "\\u0027")
    assert title in text


def test_query_names_tier_policy_priority_rule_action_and_file_line(folder: Path) -> None:
    text = run(folder, "query", FILE, "--from", "mon/prom", "--to", "a/web", "--port", "9090")
    assert text.startswith("ALLOWED: ")
    assert (
        "Admin ClusterNetworkPolicy/delegate priority 10 ingress[0] 'pass-mon' Pass → "
        "NetworkPolicy a/scrape ingress[0] allows" in text
    )
    assert f"{FILE}:{line_of('- name: pass-mon')}" in text
    answer: dict[str, Any] = json.loads(
        run(folder, "query", FILE, "--from", "b/web", "--to", "a/web", "--format", "json")
    )
    assert answer["allowed"] is False
    [deny] = [c for c in answer["ingress"]["chains"] if c["outcome"] == "deny"]
    [step] = deny["steps"]
    assert {k: step[k] for k in ("tier", "policy", "priority", "rule", "name", "action")} == {
        "tier": "Admin",
        "policy": "ClusterNetworkPolicy/isolate-a",
        "priority": 120,
        "rule": 0,
        "name": "deny-others",
        "action": "Deny",
    }
    assert step["source"] == {"file": FILE, "line": line_of("- name: deny-others")}


def test_sarif_points_cnp_findings_at_the_policy(folder: Path) -> None:
    log = json.loads(run(folder, "check", FILE, "--format", "sarif"))
    [ovn] = [r for r in log["runs"][0]["results"] if r["ruleId"] == "cnp-priority-ovn"]
    [location] = ovn["locations"]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == FILE
    doc = json.loads(run(folder, "analyze", FILE))
    [policy] = [p for p in doc["clusterPolicies"] if p["id"] == "ClusterNetworkPolicy/isolate-a"]
    assert location["physicalLocation"]["region"]["startLine"] == policy["source"]["line"]
    name_line = line_of("name: isolate-a")  # the document starts two lines above it
    assert policy["source"]["line"] in range(name_line - 2, name_line + 1)


def test_review_report_names_chains_and_lists_denials(folder: Path) -> None:
    text = run(folder, "check", FILE, "--format", "md").translate(str.maketrans("", "", "\\"))
    assert "- Policies: 1; cluster-wide policies: 3" in text
    assert "- Node pairs denied by an Admin or Baseline rule (for some ports): 3" in text
    assert f"ingress: {PASS} → {SCRAPE}" in text
    section = text.split("## Denied by Admin or Baseline rules", 1)[1].split("## ", 1)[0]
    assert f"denied by {DENY_A}" in section and f"denied by {PASS} → {BASELINE}" in section


def test_report_page_lists_denials(client: FlaskClient) -> None:
    created = upload(client, (FILE, UPLOAD)).get_json()
    page = client.get(f"/a/{created['id']}/report").get_data(as_text=True)
    section = page.split('id="denials"', 1)[1].split("</section>", 1)[0]
    assert "Denied by Admin or Baseline rules" in section
    assert "denied by Admin ClusterNetworkPolicy/isolate-a priority 120 ingress[0] " \
        "&#39;deny-others&#39; Deny" in section


def test_pairs_json_lists_denials_per_pair_of_nodes() -> None:
    """`--pairs` leaves groups out, so denials name node ids too, one per pair (tenant-b's
    two workloads are one group)."""
    sample = ROOT / "sample-manifests" / "cluster-multi-tenant"
    grouped = json.loads(run(ROOT, "analyze", str(sample)))
    pairs = json.loads(run(ROOT, "analyze", str(sample), "--pairs"))
    assert "groups" not in pairs
    members = {g["id"]: g["nodes"] for g in grouped["groups"]}
    expected = sorted(
        (a, b, d["rule"]["name"], d["direction"])
        for d in grouped["denials"]
        for a in members[d["source"]]
        for b in members[d["target"]]
        if a != b
    )
    assert sorted(
        (d["source"], d["target"], d["rule"]["name"], d["direction"]) for d in pairs["denials"]
    ) == expected
    assert (
        "tenant-b/Deployment/web", "tenant-b/Deployment/worker", "deny-all-ingress", "ingress"
    ) in expected
    assert {d["pairs"] for d in pairs["denials"]} == {1}
