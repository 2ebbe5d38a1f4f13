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
