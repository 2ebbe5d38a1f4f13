"""The CI gate: `check` exit codes and formats, SARIF 2.1.0 checked against the sarif-om
object model, and the Markdown review report."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import attr
import pytest
import sarif_om
from browserfixtures import article_document
from clirun import cli
from flask.testing import FlaskClient
from scalefixtures import (
    PODS,
    analyse_list,
    as_list,
    bare_pod,
    bare_pods,
    measured,
    read_pairwise_flows,
)
from semantics_helpers import deployment, namespace, policy, run
from webfixtures import upload

from webapp.core import analyze
from webapp.core.document import pair_flows
from webapp.core.findings import CHECKS
from webapp.inputs import read_paths
from webapp.review import (
    ROWS_SHOWN,
    artifact_uri,
    failing,
    findings_sarif,
    findings_text,
    flow_groups,
    namespace_matrix,
    review_markdown,
    rules_markdown,
)
from webapp.web.report import report_data

ROOT = Path(__file__).resolve().parent.parent
HIGH = "sample-manifests/02-db-egress-to-backend-with-app"  # egress cuts DNS: high
MEDIUM = "sample-manifests/10-online-shop"  # medium and low findings, no high
SAMPLES = sorted(p for p in (ROOT / "sample-manifests").iterdir() if p.is_dir())
SARIF_LEVELS = {"none", "note", "warning", "error"}

# Which sarif-om class each nested SARIF property holds (the part of the schema we emit).
NESTED: dict[tuple[type, str], type] = {
    (sarif_om.SarifLog, "runs"): sarif_om.Run,
    (sarif_om.Run, "tool"): sarif_om.Tool,
    (sarif_om.Run, "results"): sarif_om.Result,
    (sarif_om.Tool, "driver"): sarif_om.ToolComponent,
    (sarif_om.ToolComponent, "rules"): sarif_om.ReportingDescriptor,
    (sarif_om.ReportingDescriptor, "shortDescription"): sarif_om.MultiformatMessageString,
    (sarif_om.ReportingDescriptor, "defaultConfiguration"): sarif_om.ReportingConfiguration,
    (sarif_om.Result, "message"): sarif_om.Message,
    (sarif_om.Result, "locations"): sarif_om.Location,
    (sarif_om.Location, "physicalLocation"): sarif_om.PhysicalLocation,
    (sarif_om.PhysicalLocation, "artifactLocation"): sarif_om.ArtifactLocation,
    (sarif_om.PhysicalLocation, "region"): sarif_om.Region,
}


def build(cls: type, data: Any, path: str = "$") -> Any:
    """Build the sarif-om object for `data`, failing on any property the class does not
    define, any required property missing, or a nested value of the wrong shape."""
    assert isinstance(data, dict), f"{path}: expected an object"
    fields = {a.metadata["schema_property_name"]: a for a in attr.fields(cls)}
    unknown = set(data) - set(fields)
    assert not unknown, f"{path}: {cls.__name__} has no properties {sorted(unknown)}"
    missing = [n for n, a in fields.items() if a.default is attr.NOTHING and n not in data]
    assert not missing, f"{path}: {cls.__name__} requires {missing}"
    kwargs = {}
    for name, value in data.items():
        child = NESTED.get((cls, name))
        if child is not None and isinstance(value, list):
            value = [build(child, v, f"{path}.{name}[{i}]") for i, v in enumerate(value)]
        elif child is not None:
            value = build(child, value, f"{path}.{name}")
        elif name == "properties":
            assert isinstance(value, dict), f"{path}.properties must be an object"
        kwargs[fields[name].name] = value
    return cls(**kwargs)


def sarif_for(*objects: dict[str, Any]) -> dict[str, Any]:
    return findings_sarif(run(*objects), "1.2.3")


CLUSTER = [
    namespace("prod"),
    deployment("web", "prod", {"app": "web"}),
    deployment("db", "prod", {"app": "db"}),
]
DENY = policy("deny", "prod", policyTypes=["Ingress", "Egress"])
TYPO = policy(
    "db-in",
    "prod",
    podSelector={"matchLabels": {"app": "db"}},
    ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "wbe"}}}]}],
)


def test_sarif_builds_as_the_sarif_om_object_model() -> None:
    log = build(sarif_om.SarifLog, sarif_for(*CLUSTER, DENY, TYPO))
    assert log.version == "2.1.0"
    assert log.schema_uri.endswith("sarif-2.1.0.json")
    (run_,) = log.runs
    assert run_.tool.driver.name == "netpol-viz"
    assert run_.tool.driver.version == "1.2.3"
    assert [r.id for r in run_.tool.driver.rules] == [c.id for c in CHECKS]
    assert run_.results


def test_sarif_rules_come_from_the_registry() -> None:
    rules = sarif_for(*CLUSTER)["runs"][0]["tool"]["driver"]["rules"]
    for rule, check in zip(rules, CHECKS, strict=True):
        assert rule["id"] == check.id
        assert rule["shortDescription"]["text"] == check.summary
        assert rule["defaultConfiguration"]["level"] in SARIF_LEVELS
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in rules}
    assert levels["egress-blocks-dns"] == "error"
    assert levels["not-isolated"] == "warning"
    assert levels["any-namespace"] == "note"
    assert levels["cni-enforcement"] == "note"


def test_sarif_results_point_at_the_yaml_line() -> None:
    doc = run(*CLUSTER, DENY, TYPO)
    sarif = findings_sarif(doc)
    results = sarif["runs"][0]["results"]
    assert len(results) == len(doc["findings"])
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    by_rule = {r["ruleId"]: r for r in results}
    typo = by_rule["peer-matches-nothing"]
    assert typo["level"] == "warning"
    assert rules[typo["ruleIndex"]]["id"] == "peer-matches-nothing"
    rule_line = next(p for p in doc["policies"] if p["id"] == "prod/db-in")["rules"][0]["line"]
    (location,) = typo["locations"]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "case.yaml"},
        "region": {"startLine": rule_line},
    }
    dns = by_rule["egress-blocks-dns"]
    assert dns["level"] == "error"
    assert "cannot reach DNS" in dns["message"]["text"]
    for result in results:
        assert result["level"] in SARIF_LEVELS
        assert result["message"]["text"]
    # GitHub code scanning rejects a file with one location-less result: the CNI note,
    # which concerns no single line, is shown at the first policy.
    first = doc["policies"][0]
    assert by_rule["cni-enforcement"]["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "case.yaml"},
        "region": {"startLine": first["source"]["line"]},
    }
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results)


@pytest.mark.parametrize(
    ("name", "uri"),
    [
        pytest.param("manifests/app.yaml", "manifests/app.yaml", id="relative-stays-relative"),
        pytest.param("my dir/a#b.yaml", "my%20dir/a%23b.yaml", id="spaces-and-hash-encoded"),
        pytest.param("/srv/x.yaml", "file:///srv/x.yaml", id="absolute-is-file-uri"),
        pytest.param("dir\\win.yaml", "dir/win.yaml", id="backslashes-become-slashes"),
    ],
)
def test_artifact_uri(name: str, uri: str) -> None:
    assert artifact_uri(name) == uri


@pytest.mark.parametrize(
    ("fail_on", "severities", "count"),
    [
        pytest.param("high", ["medium", "low", "info"], 0, id="high-ignores-medium"),
        pytest.param("high", ["high", "info"], 1, id="high-fails-on-high"),
        pytest.param("medium", ["high", "medium", "low"], 2, id="medium-includes-high"),
        pytest.param("low", ["low", "info"], 1, id="low-never-counts-info"),
    ],
)
def test_failing_threshold(fail_on: str, severities: list[str], count: int) -> None:
    assert len(failing([{"severity": s} for s in severities], fail_on)) == count


def test_rules_markdown_lists_the_registry() -> None:
    table = rules_markdown().splitlines()
    assert table[0] == "| Rule | Severity | What it finds |"
    assert [line.split(" | ")[0] for line in table[2:]] == [f"| `{c.id}`" for c in CHECKS]


# --- review report ----------------------------------------------------------------------


def test_review_markdown_sections_and_coverage() -> None:
    doc = run(
        *CLUSTER,
        namespace("dev"),
        deployment("tool", "dev", {"app": "tool"}),
        policy("in", "prod", policyTypes=["Ingress"]),
    )
    report = review_markdown(doc)
    for heading in (
        "# NetworkPolicy security review",
        "## Summary",
        "## Isolation coverage",
        "## Findings",
        "## Flows by namespace pair",
        "## Namespace matrix",
    ):
        assert f"\n{heading}\n" in f"\n{report}"
    assert "- Isolated for ingress: 2 of 3 (67%)" in report
    assert "- Isolated for egress: 0 of 3 (0%)" in report
    assert "| prod | 2 | 2 | 0 |" in report
    assert "### dev → prod" not in report  # prod refuses all ingress
    assert "### prod → dev (2)" in report


def test_namespace_matrix_counts_allowed_pairs() -> None:
    doc = run(*CLUSTER, namespace("dev"), deployment("tool", "dev"), policy("in", "prod"))
    names, cells = namespace_matrix(doc)
    assert names[-1] == "(external)"
    assert cells[("dev", "prod")] == (0, 2)
    assert cells[("prod", "dev")] == (2, 2)
    assert cells[("prod", "prod")] == (0, 2)
    assert cells[("(external)", "(external)")] == (0, 0)


def test_review_markdown_escapes_uploaded_strings() -> None:
    doc = run(*CLUSTER, DENY)
    doc["findings"].append(
        {
            "rule": "x",
            "severity": "low",
            "message": "a | b <img src=x onerror=alert(1)> [link](http://e)",
            "nodes": [],
            "policies": [],
            "source": {"file": "evil|name.yaml", "line": 3},
        }
    )
    report = review_markdown(doc)
    assert not re.search(r"(?<!\\)<img", report)
    assert "a \\| b \\<img" in report
    assert "evil\\|name.yaml:3" in report
    assert "\\[link\\](http" in report


# --- the command ------------------------------------------------------------------------




@pytest.mark.parametrize(
    ("path", "fail_on", "code"),
    [
        pytest.param(HIGH, None, 1, id="high-finding-fails-by-default"),
        pytest.param(MEDIUM, None, 0, id="medium-findings-pass-by-default"),
        pytest.param(MEDIUM, "medium", 1, id="medium-findings-fail-at-medium"),
        pytest.param(MEDIUM, "low", 1, id="low-threshold"),
    ],
)
def test_check_exit_codes(path: str, fail_on: str | None, code: int) -> None:
    args = ["check", path] + (["--fail-on", fail_on] if fail_on else [])
    result = cli(*args)
    assert result.returncode == code, result.stdout + result.stderr
    assert result.stdout.rstrip().splitlines()[-1].endswith(f"at or above {fail_on or 'high'}")


def test_check_text_lines_are_file_line_severity_rule() -> None:
    result = cli("check", HIGH)
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"{HIGH}/db-backend.yaml:1: high: egress-blocks-dns: ")


def test_check_json() -> None:
    result = cli("check", MEDIUM, "--format", "json", "--fail-on", "medium")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["failOn"] == "medium" and data["failed"] is True
    assert data["counts"]["high"] == 0 and data["counts"]["medium"] > 0
    assert {f["rule"] for f in data["findings"]} >= {"peers-or-likely-and", "internet-open"}


def test_check_sarif_output_file(tmp_path: Path) -> None:
    out = tmp_path / "netpol.sarif"
    result = cli("check", HIGH, "--format", "sarif", "--output", str(out))
    assert result.returncode == 1
    sarif = json.loads(out.read_text(encoding="utf-8"))
    log = build(sarif_om.SarifLog, sarif)
    uris = {
        loc.physical_location.artifact_location.uri
        for r in log.runs[0].results
        for loc in r.locations or ()
    }
    assert f"{HIGH}/db-backend.yaml" in uris


def test_check_md_is_the_review_report() -> None:
    result = cli("check", MEDIUM, "--format", "md")
    assert result.returncode == 0
    assert result.stdout.startswith("# NetworkPolicy security review")
    assert "peers\\-or\\-likely\\-and" in result.stdout or "peers-or-likely-and" in result.stdout


def test_check_unusable_input_exits_2(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("not: kubernetes\n")
    result = cli("check", str(tmp_path / "x.yaml"))
    assert result.returncode == 2
    assert result.stdout == ""


SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-2.1.0-rtm.5.json"


def test_sarif_validates_against_the_sarif_2_1_0_json_schema(tmp_path: Path) -> None:
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema)
    out = tmp_path / "netpol.sarif"
    cli("check", HIGH, "--format", "sarif", "--output", str(out))
    sarif = json.loads(out.read_text(encoding="utf-8"))
    errors = sorted(validator.iter_errors(sarif), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    assert sarif["runs"][0]["results"], "the sample has findings to validate"
    broken = json.loads(json.dumps(sarif))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert not validator.is_valid(broken)  # the check can fail


# --- the review report from groups --------------------------------------------------------

EVERY_OTHER = (
    "every workload in default may reach every other workload in default "
    "(all traffic, open by default)"
)


def test_review_report_and_check_at_scale_work_from_groups(client: FlaskClient) -> None:
    """2,000 bare pods, no policy: 4 million node pairs in 3 group flows. The report,
    the page, SARIF and the text render quickly in little memory, say that every
    workload may reach every other, and count every pair."""
    analysis = analyse_list(*bare_pods())
    with measured() as cost:
        document = analysis.document
        report = review_markdown(document)
        page = report_data(document)
        sarif = findings_sarif(document, "1.2.3")
        text = findings_text(document)
    cost.check()
    assert not read_pairwise_flows(analysis)
    pairs = PODS * (PODS - 1) + 2 * PODS  # among the pods, and each way with the outside
    assert document["summary"]["pairs"] == pairs
    assert f"- {EVERY_OTHER}" in report
    assert f"### default → default ({PODS * (PODS - 1)})" in report
    assert f"- Allowed node pairs: {pairs}, in 3 flows between 2 groups" in report
    assert f"| default | {PODS * (PODS - 1)}/{PODS * (PODS - 1)} | {PODS}/{PODS} |" in report
    first = page["flowGroups"]["sections"][0]["flows"][0]
    assert first["text"] == EVERY_OTHER
    assert page["flowGroups"]["pairs"] == pairs
    results = sarif["runs"][0]["results"]
    assert len(results) == len(document["findings"]) > PODS - 1
    assert "Pod 'default/pod-1234' is isolated in neither direction" in text
    created = upload(client, ("cluster.json", as_list(*bare_pods()))).get_json()
    with measured() as cost:
        html = client.get(f"/a/{created['id']}/report").get_data(as_text=True)
    cost.check()
    assert EVERY_OTHER in html


def test_check_md_at_scale_as_a_command(tmp_path: Path) -> None:
    (tmp_path / "cluster.json").write_bytes(as_list(*bare_pods()))
    result = cli("check", str(tmp_path / "cluster.json"), "--format", "md", "--fail-on", "low")
    assert result.returncode == 1, result.stderr  # 2,000 medium not-isolated findings
    assert f"- {EVERY_OTHER}" in result.stdout


def pair_matrix(document: dict[str, Any]) -> Counter[tuple[str, str]]:
    """The oracle: allowed node pairs per namespace pair, counted pair by pair (small
    documents only)."""
    nodes = {n["id"]: n for n in document["nodes"]}

    def ns(node_id: str) -> str:
        node = nodes[node_id]
        return "(external)" if node["type"] == "ipblock" else node["namespace"] or "(no namespace)"

    return Counter((ns(f["source"]), ns(f["target"])) for f in pair_flows(document))


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_report_numbers_equal_the_document_summary_and_every_pair(sample: Path) -> None:
    document = analyze(read_paths([str(sample)])).document
    summary = document["summary"]
    report = review_markdown(document)
    assert (
        f"- Allowed node pairs: {summary['pairs']}, in {summary['flows']} flows between "
        f"{summary['groups']} groups"
    ) in report
    assert f"- Workloads: {summary['workloads']} ({summary['pods']} pods)" in report
    _, cells = namespace_matrix(document)
    oracle = pair_matrix(document)
    assert {k: v[0] for k, v in cells.items() if v[0]} == dict(oracle)
    assert sum(a for a, _ in cells.values()) == summary["pairs"]
    found = flow_groups(document)
    assert found["pairs"] == summary["pairs"]
    page = report_data(document)["summary"]
    assert {k: page[k] for k in ("pairs", "flows", "groups", "workloads", "pods")} == {
        k: summary[k] for k in ("pairs", "flows", "groups", "workloads", "pods")
    }


def test_report_of_a_version_1_document_counts_its_node_flows() -> None:
    """Share links keep working across document versions: a version 1 document (flows
    between nodes, no groups) reads as groups of one node."""
    document = article_document()
    _, cells = namespace_matrix(document)
    assert {k: v[0] for k, v in cells.items() if v[0]} == dict(pair_matrix(document))
    report = review_markdown(document)
    assert f"- Allowed node pairs: {len(document['flows'])}, in {len(document['flows'])}" in report
    assert "every workload in payments may reach every workload in kube-system" in report


def test_flows_by_namespace_pair_lists_a_bounded_number_and_counts_the_rest() -> None:
    """25 pods of `a` each allowed a port of `b/db` (25 groups, 25 flows), and one pod
    that is not: the a -> b section lists 20 flows, says "+5 more", counts all 25 pairs."""
    rules = [
        {
            "from": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": f"p{k}"}}}],
            "ports": [{"port": 1000 + k}],
        }
        for k in range(25)
    ]
    document = analyse_list(
        *(bare_pod(f"p{k}", "a") for k in range(25)),
        bare_pod("other", "a"),
        bare_pod("db", "b"),
        policy("db-in", "b", policyTypes=["Ingress"], ingress=rules),
    ).document
    section = next(
        s for s in flow_groups(document)["sections"] if (s["source"], s["target"]) == ("a", "b")
    )
    assert section["pairs"] == 25
    assert len(section["flows"]) == ROWS_SHOWN == 20
    assert section["more"] == {"flows": 5, "pairs": 5}
    report = review_markdown(document)
    assert "### a → b (25)" in report
    assert "+5 more flows (5 node pairs)" in report
    assert "| a/p0 | every workload in b | 1 | TCP 1000 |" in report
