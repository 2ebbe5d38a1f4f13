"""What a diff tells a reviewer beyond flows: the findings a change fixed or introduced,
the YAML diff of each policy added, removed or changed, and the Markdown and CSV of the
diff, through the core, the `diff` command, the API and the diff page."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from clirun import cli
from semantics_helpers import deployment, namespace, policy
from webfixtures import upload

from webapp.core import SourceText, analyze
from webapp.core.diff import diff_documents, finding_changes
from webapp.review import diff_markdown

PROD = namespace("prod")
WEB = deployment("web", "prod", {"app": "web"})
DB = deployment("db", "prod", {"app": "db"}, [("mysql", 3306, "TCP")])
BASE = [PROD, WEB, DB]
DB_ID = "prod/Deployment/db"


def db_ingress(port: int = 3306, app: str = "db") -> dict[str, Any]:
    return policy(
        "db-in",
        "prod",
        podSelector={"matchLabels": {"app": app}},
        policyTypes=["Ingress"],
        ingress=[
            {"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": port}]}
        ],
    )


def analysed(*objects: dict[str, Any], name: str = "case.yaml", text: str | None = None) -> Any:
    text = text if text is not None else yaml.safe_dump_all(objects, sort_keys=False)
    return analyze([SourceText(name, text.encode())])


def diff_of(old: Any, new: Any) -> dict[str, Any]:
    return diff_documents(old.document, new.document, (old.sanitized, new.sanitized))


# --- findings fixed and introduced: the key ------------------------------------------------


def finding(rule: str, message: str = "m", nodes: Any = (), policies: Any = ()) -> dict[str, Any]:
    return {
        "rule": rule,
        "severity": "medium",
        "message": message,
        "nodes": list(nodes),
        "policies": list(policies),
    }


def doc(*findings: dict[str, Any], nodes: Any = ()) -> dict[str, Any]:
    return {"nodes": list(nodes), "findings": list(findings)}


def block(node_id: str, *cidrs: str) -> dict[str, Any]:
    return {"id": node_id, "type": "ipblock", "cidrs": list(cidrs)}


# (old document, new document, (rule, message) of the findings fixed, of those introduced)
FINDING_CASES: list[Any] = [
    pytest.param(
        doc(finding("not-isolated", nodes=["a"])),
        doc(),
        [("not-isolated", "m")],
        [],
        id="only-old-has-it-fixed",
    ),
    pytest.param(
        doc(),
        doc(finding("egress-blocks-dns", nodes=["a"], policies=["ns/p"])),
        [],
        [("egress-blocks-dns", "m")],
        id="only-new-has-it-introduced",
    ),
    pytest.param(
        doc(finding("not-isolated", "3 of 5 pods", nodes=["a"])),
        doc(finding("not-isolated", "3 of 6 pods", nodes=["a"])),
        [],
        [],
        id="reworded-message-same-rule-and-names-is-the-same-finding",
    ),
    pytest.param(
        doc(finding("not-isolated", nodes=["a", "b"], policies=["ns/q", "ns/p"])),
        doc(finding("not-isolated", nodes=["b", "a"], policies=["ns/p", "ns/q"])),
        [],
        [],
        id="order-of-names-does-not-matter",
    ),
    pytest.param(
        doc(finding("not-isolated", nodes=["a"])),
        doc(finding("not-isolated", nodes=["b"])),
        [("not-isolated", "m")],
        [("not-isolated", "m")],
        id="same-rule-other-node-fixed-and-introduced",
    ),
    pytest.param(
        doc(finding("not-isolated", nodes=["a"])),
        doc(finding("ingress-not-isolated", nodes=["a"])),
        [("not-isolated", "m")],
        [("ingress-not-isolated", "m")],
        id="same-node-other-rule-fixed-and-introduced",
    ),
    pytest.param(
        doc(finding("named-port-undefined", "port http", policies=["ns/p"]),
            finding("named-port-undefined", "port grpc", policies=["ns/p"])),
        doc(finding("named-port-undefined", "port grpc", policies=["ns/p"])),
        [("named-port-undefined", "port http")],
        [],
        id="one-key-two-findings-equal-messages-pair-first",
    ),
    pytest.param(
        doc(finding("internet-open", nodes=["ipblock-1"]), nodes=[block("ipblock-1", "0.0.0.0/0")]),
        doc(finding("internet-open", nodes=["ipblock-7"]), nodes=[block("ipblock-7", "0.0.0.0/0")]),
        [],
        [],
        id="ipblock-named-by-its-addresses-not-its-id",
    ),
    pytest.param(
        doc(finding("internet-open", nodes=["ip-1"]), nodes=[block("ip-1", "0.0.0.0/0")]),
        doc(finding("internet-open", nodes=["ip-1"]), nodes=[block("ip-1", "10.0.0.0/8")]),
        [("internet-open", "m")],
        [("internet-open", "m")],
        id="same-ipblock-id-other-addresses-is-another-finding",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "fixed", "introduced"), FINDING_CASES)
def test_findings_are_matched_by_rule_and_names(
    old: dict[str, Any], new: dict[str, Any], fixed: list[Any], introduced: list[Any]
) -> None:
    changes = finding_changes(old, new)
    assert [(f["rule"], f["message"]) for f in changes["fixed"]] == fixed
    assert [(f["rule"], f["message"]) for f in changes["introduced"]] == introduced


def test_isolating_the_database_fixes_and_introduces_findings_of_the_analysis() -> None:
    old, new = analysed(*BASE), analysed(*BASE, db_ingress())
    diff = diff_of(old, new)
    fixed = {(f["rule"], tuple(f["nodes"])) for f in diff["findings"]["fixed"]}
    introduced = {(f["rule"], tuple(f["nodes"])) for f in diff["findings"]["introduced"]}
    assert fixed == {("not-isolated", (DB_ID,))}  # isolated in neither direction, before
    assert introduced == {("cni-enforcement", ())}  # said once an upload has policies
    assert diff["summary"]["findingsFixed"] == len(diff["findings"]["fixed"])
    assert diff["summary"]["findingsIntroduced"] == len(diff["findings"]["introduced"])
    # What both versions share is not listed.
    assert not fixed & introduced
    assert diff_documents(old.document, old.document)["findings"] == {
        "fixed": [],
        "introduced": [],
    }


# --- the YAML of each policy --------------------------------------------------------------


def yaml_rows(diff: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(policy, change, the + and - lines) of each YAML diff."""
    return [
        (
            d["policy"],
            d["change"],
            [line for line in d["lines"] if line[:1] in "+-" and line[:3] not in ("+++", "---")],
        )
        for d in diff["policyDiffs"]
    ]


REFORMATTED = """\
apiVersion: v1
kind: Namespace
metadata: {name: prod}
---
# the database takes only the web tier
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-in
  namespace: prod
  annotations: {owner: "team-db"}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]   # web only
    ports: [{port: 3306}]
"""


def test_an_added_policy_is_all_added_lines_and_a_removed_one_all_removed() -> None:
    without, with_policy = analysed(*BASE), analysed(*BASE, db_ingress())
    [(name, change, lines)] = yaml_rows(diff_of(without, with_policy))
    assert (name, change) == ("prod/db-in", "added")
    assert lines[:3] == ["+apiVersion: networking.k8s.io/v1", "+kind: NetworkPolicy", "+metadata:"]
    assert "+    - port: 3306" in lines and all(line.startswith("+") for line in lines)
    [(name, change, lines)] = yaml_rows(diff_of(with_policy, without))
    assert (name, change) == ("prod/db-in", "removed")
    assert all(line.startswith("-") for line in lines)
    headers = diff_of(with_policy, without)["policyDiffs"][0]["lines"][:2]
    assert headers == ["--- before/case.yaml (line 45)", "+++ /dev/null"]


def test_a_changed_port_is_one_line_out_and_one_in() -> None:
    diff = diff_of(analysed(*BASE, db_ingress(3306)), analysed(*BASE, db_ingress(5432)))
    changed = ["-    - port: 3306", "+    - port: 5432"]
    assert yaml_rows(diff) == [("prod/db-in", "changed", changed)]
    assert diff["policies"]["changed"] == ["prod/db-in"]


def test_a_new_pod_selector_is_a_changed_policy_once_the_inputs_are_known() -> None:
    # The document holds a policy's types and rule texts, not its podSelector.
    old, new = analysed(*BASE, db_ingress(app="db")), analysed(*BASE, db_ingress(app="cache"))
    assert diff_documents(old.document, new.document)["policies"]["changed"] == []
    diff = diff_of(old, new)
    assert diff["policies"]["changed"] == ["prod/db-in"]
    assert yaml_rows(diff) == [("prod/db-in", "changed", ["-      app: db", "+      app: cache"])]


def test_comments_formatting_annotations_and_files_are_not_changes() -> None:
    old = analysed(PROD, db_ingress())
    new = analysed(name="elsewhere/db.yaml", text=REFORMATTED)
    diff = diff_of(old, new)
    assert diff["policyDiffs"] == []
    assert diff["policies"]["changed"] == []


def test_without_both_inputs_there_is_no_yaml_diff() -> None:
    old, new = analysed(*BASE, db_ingress(3306)), analysed(*BASE, db_ingress(5432))
    assert "policyDiffs" not in diff_documents(old.document, new.document)


def test_markdown_fences_the_yaml_diff_beyond_any_backticks_inside() -> None:
    named = dict(db_ingress(5432))
    old, new = analysed(*BASE, db_ingress(3306)), analysed(*BASE, named, name="``` x.yaml")
    diff = diff_of(old, new)
    text = diff_markdown(diff, old.document, new.document)
    section = text.split("## Policy YAML", 1)[1]
    assert "### prod/db-in (changed)" in section
    assert "\n````diff\n--- before/case.yaml (line 45)\n+++ after/``` x.yaml (line 45)\n" in section
    assert "\n-    - port: 3306\n+    - port: 5432\n````\n" in section


# --- the command ---------------------------------------------------------------------------


def write(folder: Path, *objects: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "all.yaml").write_text(yaml.safe_dump_all(objects, sort_keys=False))
    return folder


@pytest.fixture
def isolated(tmp_path: Path) -> tuple[Path, Path]:
    """Before: nothing isolated. After: the database takes TCP 3306 from web only."""
    return write(tmp_path / "old", *BASE), write(tmp_path / "new", *BASE, db_ingress())


@pytest.mark.parametrize("fmt", ["text", "json", "csv", "md"])
def test_diff_command_says_which_findings_were_fixed_and_shows_the_yaml(
    isolated: tuple[Path, Path], fmt: str
) -> None:
    old, new = isolated
    result = cli("diff", str(old), str(new), "--format", fmt)
    assert result.returncode == 1, result.stderr
    out = result.stdout
    if fmt == "json":
        answer = json.loads(out)
        assert DB_ID in [n for f in answer["findings"]["fixed"] for n in f["nodes"]]
        assert [(d["policy"], d["change"]) for d in answer["policyDiffs"]] == [
            ("prod/db-in", "added")
        ]
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(out)))
        fixed = [r for r in rows if r[0] == "fixed"]
        assert ["fixed", "finding (medium)", "not-isolated", "prod/db"] in [r[:4] for r in fixed]
        assert all(r[4] and not r[5] for r in fixed)  # the message is what was, before
    elif fmt == "md":
        assert "| fixed | finding (medium) | not-isolated | prod/db |" in out
        assert "## Policy YAML" in out and "+    - port: 3306" in out
    else:
        lines = out.splitlines()
        assert any(
            line.startswith("fixed    finding (medium) not-isolated: Deployment 'prod/db'")
            for line in lines
        ), out
        assert "findings: " in next(line for line in lines if line.startswith("flows: "))
        assert "policy prod/db-in (added)" in lines and "+    - port: 3306" in lines


def test_diff_command_of_a_saved_document_has_findings_but_no_yaml(
    isolated: tuple[Path, Path],
) -> None:
    old, new = isolated
    saved = old.parent / "baseline.json"
    assert cli("analyze", str(old), "--format", "json", "--output", str(saved)).returncode == 0
    answer = json.loads(cli("diff", str(saved), str(new), "--format", "json").stdout)
    assert answer["summary"]["findingsFixed"] >= 1
    assert "policyDiffs" not in answer


# --- the API and the page -------------------------------------------------------------------

HOSTILE_FILE = "<img src=x onerror=alert(1)>.yaml"


@pytest.fixture
def stored(client: Any) -> tuple[str, str]:
    ids = []
    for objects in (BASE, [*BASE, db_ingress()]):
        text = yaml.safe_dump_all(objects, sort_keys=False)
        response = upload(client, (HOSTILE_FILE, text))
        assert response.status_code == 201, response.get_data(as_text=True)
        ids.append(response.get_json()["id"])
    return ids[0], ids[1]


@pytest.mark.parametrize(
    ("fmt", "media_type", "first_line"),
    [
        pytest.param("md", "text/markdown", "# NetworkPolicy diff", id="markdown"),
        pytest.param("csv", "text/csv", "change,item,source,target,before,after,pairs", id="csv"),
    ],
)
def test_diff_api_serves_markdown_and_csv_downloads(
    client: Any, stored: tuple[str, str], fmt: str, media_type: str, first_line: str
) -> None:
    old_id, new_id = stored
    response = client.get(f"/api/v1/diff/{old_id}/{new_id}?format={fmt}")
    assert response.status_code == 200
    assert response.mimetype == media_type
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="netpol-diff-{old_id[:8]}-{new_id[:8]}.{fmt}"'
    text = response.get_data(as_text=True)
    assert text.splitlines()[0] == first_line
    assert "not-isolated" in text.replace("\\", "")
    if fmt == "md":
        assert "+    - port: 3306" in text


def test_diff_api_json_has_findings_and_refuses_an_unknown_format(
    client: Any, stored: tuple[str, str]
) -> None:
    old_id, new_id = stored
    answer = client.get(f"/api/v1/diff/{old_id}/{new_id}").get_json()
    assert answer["version"] == 5
    assert DB_ID in [n for f in answer["findings"]["fixed"] for n in f["nodes"]]
    assert answer["policyDiffs"][0]["lines"][1] == f"+++ after/{HOSTILE_FILE} (line 45)"
    refused = client.get(f"/api/v1/diff/{old_id}/{new_id}?format=pdf")
    assert refused.status_code == 400
    assert "format" in refused.get_json()["error"]


def test_diff_page_counts_findings_by_severity_and_escapes_the_yaml_diff(
    client: Any, stored: tuple[str, str]
) -> None:
    old_id, new_id = stored
    answer = client.get(f"/api/v1/diff/{old_id}/{new_id}").get_json()
    html = client.get(f"/diff/{old_id}/{new_id}").get_data(as_text=True)
    section = html.split('id="finding-changes"', 1)[1].split("</table>", 1)[0]
    fixed = len(answer["findings"]["fixed"])
    assert f'data-change="fixed" data-count="{fixed}"' in section
    assert section.count('<tr class="finding') == fixed + len(answer["findings"]["introduced"])
    assert f'href="/api/v1/diff/{old_id}/{new_id}?format=md"' in html
    assert f'href="/api/v1/diff/{old_id}/{new_id}?format=csv"' in html
    yaml_part = html.split('id="policy-diffs"', 1)[1]
    assert '<span class="line line-add">+    - port: 3306</span>' in yaml_part
    assert "<img" not in yaml_part and "&lt;img src=x onerror=alert(1)&gt;.yaml" in yaml_part


def test_diff_page_folds_a_long_policy_diff_and_opens_a_short_one(client: Any) -> None:
    rules = [{"ports": [{"port": 8000 + i}]} for i in range(20)]  # 40 lines of YAML
    long = policy("many", "prod", podSelector={}, policyTypes=["Ingress"], ingress=rules)
    ids = []
    for objects in (BASE, [*BASE, db_ingress(), long]):
        response = upload(client, ("all.yaml", yaml.safe_dump_all(objects, sort_keys=False)))
        ids.append(response.get_json()["id"])
    html = client.get(f"/diff/{ids[0]}/{ids[1]}").get_data(as_text=True)
    tags = {
        tag.split('data-policy="', 1)[1].split('"', 1)[0]: tag
        for tag in html.split("<details ")[1:]
        if 'class="policy-diff' in tag.split(">", 1)[0]
    }
    assert set(tags) == {"prod/db-in", "prod/many"}
    assert " open>" in tags["prod/db-in"].split("<summary>", 1)[0]
    assert " open>" not in tags["prod/many"].split("<summary>", 1)[0]
