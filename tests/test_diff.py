"""Diffs of two analysis documents, and the `diff` command's exit codes and formats."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from semantics_helpers import deployment, namespace, policy, run

from webapp.core.diff import diff_documents
from webapp.review import diff_csv, diff_markdown, diff_text

ROOT = Path(__file__).resolve().parent.parent

PROD = namespace("prod")
WEB = deployment("web", "prod", {"app": "web"})
DB = deployment("db", "prod", {"app": "db"}, [("mysql", 3306, "TCP")])
BASE = [PROD, WEB, DB]
WEB_ID, DB_ID = "prod/Deployment/web", "prod/Deployment/db"


def db_ingress(*ports: dict[str, Any]) -> dict[str, Any]:
    rule: dict[str, Any] = {"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}
    if ports:
        rule["ports"] = list(ports)
    return policy(
        "db-in",
        "prod",
        podSelector={"matchLabels": {"app": "db"}},
        policyTypes=["Ingress"],
        ingress=[rule],
    )


P3306 = {"port": 3306}

# (old objects, new objects, expected (change, source, target, before, after) flow rows)
FLOW_CASES: list[Any] = [
    pytest.param(
        [*BASE, db_ingress(P3306)],
        [*BASE, db_ingress(P3306)],
        set(),
        id="same-upload-no-change",
    ),
    pytest.param(
        [*BASE, db_ingress(P3306)],
        [*BASE, db_ingress({"port": 3306, "endPort": 3310})],
        {("widened", WEB_ID, DB_ID, "TCP 3306", "TCP 3306-3310")},
        id="port-range-widened",
    ),
    pytest.param(
        [*BASE, db_ingress()],
        [*BASE, db_ingress(P3306)],
        {("narrowed", WEB_ID, DB_ID, "all", "TCP 3306")},
        id="all-ports-narrowed-to-one",
    ),
    pytest.param(
        [*BASE, db_ingress(P3306)],
        [*BASE, db_ingress({"port": 5432})],
        {("changed", WEB_ID, DB_ID, "TCP 3306", "TCP 5432")},
        id="port-swapped-is-changed",
    ),
    pytest.param(
        [*BASE, db_ingress(P3306)],
        [*BASE, db_ingress(P3306), policy("deny", "prod", policyTypes=["Ingress"])],
        {("removed", DB_ID, WEB_ID, "all", "")},
        id="deny-all-removes-flow",
    ),
    pytest.param(
        [*BASE, db_ingress(P3306), policy("deny", "prod", policyTypes=["Ingress"])],
        [*BASE, db_ingress(P3306)],
        {("added", DB_ID, WEB_ID, "", "all")},
        id="dropping-deny-all-adds-flow",
    ),
]


def flow_rows(diff: dict[str, Any]) -> set[tuple[str, str, str, str, str]]:
    rows = {("added", f["source"], f["target"], "", _text(f)) for f in diff["flows"]["added"]}
    rows |= {("removed", f["source"], f["target"], _text(f), "") for f in diff["flows"]["removed"]}
    rows |= {
        (c["change"], c["source"], c["target"], c["beforeText"], c["afterText"])
        for c in diff["flows"]["changed"]
    }
    # flows from or to the external block are not the point of these cases
    return {r for r in rows if not r[1].startswith("ipblock") and not r[2].startswith("ipblock")}


def _text(flow: dict[str, Any]) -> str:
    from webapp.core.diff import port_set

    return str(port_set(flow))


@pytest.mark.parametrize(("old", "new", "expected"), FLOW_CASES)
def test_flow_changes(old: list[Any], new: list[Any], expected: set[Any]) -> None:
    diff = diff_documents(run(*old), run(*new))
    assert flow_rows(diff) == expected
    assert diff["changed"] is bool(expected)


def test_widened_flow_lists_ports_gained_and_both_flows() -> None:
    diff = diff_documents(
        run(*BASE, db_ingress(P3306)), run(*BASE, db_ingress(P3306, {"port": 5432}))
    )
    (c,) = diff["flows"]["changed"]
    assert c["change"] == "widened"
    assert c["gained"] == [{"protocol": "TCP", "from": 5432, "to": 5432}]
    assert c["lost"] == []
    assert c["old"]["ingress"][0]["policy"] == "prod/db-in"
    assert diff["summary"]["flowsChanged"] == 1


def test_workloads_added_and_removed_are_matched_by_id() -> None:
    cache = deployment("cache", "prod", {"app": "cache"})
    diff = diff_documents(run(PROD, WEB, DB), run(PROD, WEB, cache))
    assert [n["id"] for n in diff["nodes"]["added"]] == ["prod/Deployment/cache"]
    assert [n["id"] for n in diff["nodes"]["removed"]] == [DB_ID]
    added = {(f["source"], f["target"]) for f in diff["flows"]["added"]}
    assert (WEB_ID, "prod/Deployment/cache") in added
    assert diff["changed"] is True


def test_policies_added_removed_and_changed() -> None:
    old = run(*BASE, db_ingress(P3306), policy("old", "prod", policyTypes=["Egress"]))
    new = run(*BASE, db_ingress({"port": 5432}), policy("new", "prod", policyTypes=["Egress"]))
    diff = diff_documents(old, new)
    assert diff["policies"] == {
        "added": ["prod/new"],
        "removed": ["prod/old"],
        "changed": ["prod/db-in"],
    }


def test_no_change_is_not_changed_even_when_files_move() -> None:
    objects = [*BASE, db_ingress(P3306)]
    old = run(*objects)
    new = json.loads(json.dumps(old).replace("case.yaml", "moved/case.yaml"))
    diff = diff_documents(old, new)
    assert diff["changed"] is False
    assert not any(diff["summary"].values())
    assert diff_text(diff, old, new) == "no change\n"


def test_renderers_list_every_change() -> None:
    old = run(*BASE, db_ingress(P3306))
    new = run(*BASE, db_ingress({"port": 3306, "endPort": 3310}), deployment("x", "prod"))
    diff = diff_documents(old, new)
    text = diff_text(diff, old, new)
    assert "widened  flow             prod/web -> prod/db: TCP 3306 => TCP 3306-3310" in text
    assert "added    node (workload)  prod/x" in text
    rows = list(csv.DictReader(io.StringIO(diff_csv(diff, old, new))))
    assert {"change": "widened", "item": "flow", "source": "prod/web", "target": "prod/db",
            "before": "TCP 3306", "after": "TCP 3306-3310"} in rows  # fmt: skip
    md = diff_markdown(diff, old, new)
    assert md.startswith("# NetworkPolicy diff")
    assert "| widened | flow | prod/web | prod/db | TCP 3306 | TCP 3306-3310 |" in md


def test_csv_neutralises_formula_names() -> None:
    old = run(PROD, WEB)
    new = run(PROD, WEB, deployment("x", "prod"))
    node = next(n for n in new["nodes"] if n["name"] == "x")
    node.update(namespace=None, name="=HYPERLINK(1)")  # stored documents are data too
    rows = list(csv.reader(io.StringIO(diff_csv(diff_documents(old, new), old, new))))
    assert ["added", "node (workload)", "'=HYPERLINK(1)", "", "", ""] in rows


# --- the command ------------------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "webapp", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def write(folder: Path, *objects: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "all.yaml").write_text(yaml.safe_dump_all(objects, sort_keys=False))
    return folder


@pytest.fixture
def versions(tmp_path: Path) -> tuple[Path, Path]:
    old = write(tmp_path / "old", *BASE, db_ingress(P3306))
    new = write(tmp_path / "new", *BASE, db_ingress(P3306, {"port": 5432}))
    return old, new


def test_diff_unchanged_exits_0(versions: tuple[Path, Path]) -> None:
    old, _ = versions
    result = cli("diff", str(old), str(old))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "no change\n"


@pytest.mark.parametrize("fmt", ["text", "json", "csv", "md"])
def test_diff_changed_exits_1_in_every_format(versions: tuple[Path, Path], fmt: str) -> None:
    old, new = versions
    result = cli("diff", str(old), str(new), "--format", fmt)
    assert result.returncode == 1, result.stderr
    if fmt == "json":
        data = json.loads(result.stdout)
        assert data["changed"] is True
        assert data["flows"]["changed"][0]["change"] == "widened"
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(result.stdout)))
        assert rows[0] == ["change", "item", "source", "target", "before", "after"]
        assert ["widened", "flow", "prod/web", "prod/db", "TCP 3306", "TCP 3306; TCP 5432"] in rows
    elif fmt == "md":
        assert result.stdout.startswith("# NetworkPolicy diff")
    else:
        assert "widened" in result.stdout and "prod/web -> prod/db" in result.stdout


def test_diff_accepts_a_saved_analysis_document(versions: tuple[Path, Path]) -> None:
    old, new = versions
    saved = old.parent / "baseline.json"
    analysed = cli("analyze", str(old), "--format", "json", "--output", str(saved))
    assert analysed.returncode == 0, analysed.stderr
    result = cli("diff", str(saved), str(new), "--format", "json")
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["summary"]["flowsChanged"] == 1


def test_diff_unusable_input_exits_2(tmp_path: Path, versions: tuple[Path, Path]) -> None:
    old, _ = versions
    (tmp_path / "empty.yaml").write_text("just: text\n")
    result = cli("diff", str(old), str(tmp_path / "empty.yaml"))
    assert result.returncode == 2
    assert "netpol-viz:" in result.stderr
