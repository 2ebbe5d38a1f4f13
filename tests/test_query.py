"""Why / why not: naming nodes, each denial reason, the JSON answer and the `query` command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from semantics_helpers import deployment, namespace, policy

from webapp.core import Analysis, SourceText, analyze
from webapp.core.explain import explain
from webapp.core.model import Protocol
from webapp.review import UnknownNode, explanation_json, explanation_text, resolve_node

ROOT = Path(__file__).resolve().parent.parent

CLUSTER = [
    namespace("prod", team="a"),
    namespace("dev", team="b"),
    deployment("web", "prod", {"app": "web"}, [("http", 8080, "TCP")]),
    deployment("db", "prod", {"app": "db"}, [("mysql", 3306, "TCP")]),
    deployment("tool", "dev", {"app": "tool"}),
    deployment("agent", "dev", {"app": "agent"}, host_network=True),
]
SEL_DB = {"matchLabels": {"app": "db"}}
FROM_WEB = [{"podSelector": {"matchLabels": {"app": "web"}}}]


def analyse(*objects: dict[str, Any]) -> Analysis:
    text = yaml.safe_dump_all(objects, sort_keys=False)
    return analyze([SourceText("case.yaml", text.encode())])


def ask(
    analysis: Analysis, source: str, target: str, port: int | None = None, protocol: str = "TCP"
) -> dict[str, Any]:
    proto = Protocol(protocol) if port is not None else None
    x = explain(
        analysis.evaluator,
        resolve_node(analysis, source),
        resolve_node(analysis, target),
        proto,
        port,
    )
    return explanation_json(x, analysis)


DB_FROM_WEB_3306 = policy(
    "db-in",
    "prod",
    podSelector=SEL_DB,
    policyTypes=["Ingress"],
    ingress=[{"from": FROM_WEB, "ports": [{"port": 3306}]}],
)

# (policies, source, target, port, allowed, side that decides, its reason)
CASES: list[Any] = [
    pytest.param(
        [], "prod/web", "prod/db", 3306, True, "ingress", "not-isolated", id="nothing-isolated"
    ),
    pytest.param(
        [DB_FROM_WEB_3306],
        "prod/web",
        "prod/db",
        3306,
        True,
        "ingress",
        "matched",
        id="rule-matches",
    ),
    pytest.param(
        [DB_FROM_WEB_3306],
        "dev/tool",
        "prod/db",
        3306,
        False,
        "ingress",
        "peer-not-matched",
        id="peer-not-matched",
    ),
    pytest.param(
        [DB_FROM_WEB_3306],
        "prod/web",
        "prod/db",
        5432,
        False,
        "ingress",
        "port-not-matched",
        id="port-not-matched",
    ),
    pytest.param(
        [
            policy(
                "db-in",
                "prod",
                podSelector=SEL_DB,
                policyTypes=["Ingress"],
                ingress=[{"from": FROM_WEB, "ports": [{"port": "postgres"}]}],
            )
        ],
        "prod/web",
        "prod/db",
        3306,
        False,
        "ingress",
        "named-port-missing",
        id="named-port-missing",
    ),
    pytest.param(
        [policy("deny", "prod", podSelector=SEL_DB, policyTypes=["Ingress"])],
        "prod/web",
        "prod/db",
        3306,
        False,
        "ingress",
        "no-rules",
        id="isolating-policy-without-rules",
    ),
    pytest.param(
        [policy("out", "prod", policyTypes=["Egress"], egress=[{"to": FROM_WEB}])],
        "prod/db",
        "dev/tool",
        None,
        False,
        "egress",
        "peer-not-matched",
        id="egress-side-refuses",
    ),
    pytest.param(
        [policy("deny", "dev", policyTypes=["Ingress"])],
        "prod/web",
        "dev/agent",
        80,
        True,
        "ingress",
        "host-network",
        id="host-network-target-is-never-isolated",
    ),
    pytest.param(
        [DB_FROM_WEB_3306],
        "203.0.113.9",
        "prod/web",
        443,
        True,
        "egress",
        "external",
        id="address-source-is-never-isolated",
    ),
    pytest.param(
        [DB_FROM_WEB_3306],
        "203.0.113.9",
        "prod/db",
        3306,
        False,
        "ingress",
        "peer-not-matched",
        id="address-source-refused-by-pod-selector-peer",
    ),
]


@pytest.mark.parametrize(
    ("policies", "source", "target", "port", "allowed", "side", "reason"), CASES
)
def test_reason(
    policies: list[dict[str, Any]],
    source: str,
    target: str,
    port: int | None,
    allowed: bool,
    side: str,
    reason: str,
) -> None:
    answer = ask(analyse(*CLUSTER, *policies), source, target, port)
    assert answer["allowed"] is allowed, answer["sentence"]
    assert answer[side]["reason"] == reason
    assert ("is allowed" if allowed else "is denied") in answer["sentence"]


def test_answer_lists_each_candidate_rule_with_its_line() -> None:
    analysis = analyse(
        *CLUSTER,
        policy(
            "db-in",
            "prod",
            podSelector=SEL_DB,
            policyTypes=["Ingress"],
            ingress=[
                {"from": [{"namespaceSelector": {"matchLabels": {"team": "b"}}}]},
                {"from": FROM_WEB, "ports": [{"port": 5432}]},
            ],
        ),
    )
    answer = ask(analysis, "prod/web", "prod/db", 3306)
    rules = answer["ingress"]["rules"]
    assert [(r["rule"], r["reason"]) for r in rules] == [
        (0, "peer-not-matched"),
        (1, "port-not-matched"),
    ]
    lines = [r["line"] for r in analysis.document["policies"][0]["rules"]]
    assert [r["source"] for r in rules] == [{"file": "case.yaml", "line": n} for n in lines]
    assert answer["ingress"]["policies"] == ["prod/db-in"]
    assert answer["egress"]["isolated"] is False
    assert answer["source"]["id"] == "prod/Deployment/web"
    assert answer["target"]["name"] == "db"
    text = explanation_text(answer)
    assert text.startswith("DENIED: ")
    assert f"prod/db-in ingress[1] (case.yaml:{lines[1]}): port-not-matched" in text
    assert "(it allows TCP 5432)" in text


def test_allowed_answer_names_the_allowing_rule() -> None:
    answer = ask(analyse(*CLUSTER, DB_FROM_WEB_3306), "prod/web", "prod/db", 3306)
    assert answer["ports"] == [{"protocol": "TCP", "from": 3306, "to": 3306}]
    text = explanation_text(answer)
    assert text.startswith("ALLOWED: ")
    assert "allowed by prod/db-in ingress[0] (case.yaml:" in text
    assert "egress of prod/web: open:" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("prod/db", "prod/Deployment/db", id="namespace-and-name"),
        pytest.param("prod/Deployment/db", "prod/Deployment/db", id="node-id"),
        pytest.param("tool", "dev/Deployment/tool", id="unique-bare-name"),
        pytest.param("8.8.8.8", "ipblock:other", id="ip-address"),
        pytest.param("10.1.2.0/24", "ipblock:other", id="cidr"),
    ],
)
def test_resolve_node(text: str, expected: str) -> None:
    assert resolve_node(analyse(*CLUSTER), text) == expected


def test_resolve_inferred_node_by_its_name_or_selector() -> None:
    analysis = analyse(
        policy("db", "default", podSelector={"matchLabels": {"name": "mysql"}}, ingress=[])
    )
    assert resolve_node(analysis, "default: name=mysql") == "inferred:default:name=mysql"
    assert resolve_node(analysis, "default/name=mysql") == "inferred:default:name=mysql"


def test_inferred_nodes_are_named_once_in_the_text() -> None:
    analysis = analyse(
        policy(
            "db",
            "default",
            podSelector={"matchLabels": {"name": "mysql"}},
            ingress=[{"from": [{"podSelector": {"matchLabels": {"role": "backend"}}}]}],
        )
    )
    text = explanation_text(ask(analysis, "default/role=backend", "default: name=mysql"))
    assert "egress of default: role=backend: open: " in text
    assert "ingress of default: name=mysql: isolated by default/db" in text


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(UnknownNode) as info:
        resolve_node(analyse(*CLUSTER), "prod/dbb")
    assert "prod/db" in info.value.candidates
    assert "did you mean" in str(info.value)


def test_ambiguous_name_lists_the_candidates() -> None:
    analysis = analyse(*CLUSTER, deployment("web", "dev", {"app": "web2"}))
    with pytest.raises(UnknownNode) as info:
        resolve_node(analysis, "web")
    assert info.value.ambiguous
    assert set(info.value.candidates) == {"prod/Deployment/web", "dev/Deployment/web"}


# --- the command ------------------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "webapp", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


SHOP = "sample-manifests/10-online-shop"


def test_query_allowed_exits_0_and_names_the_rule() -> None:
    result = cli(
        "query", SHOP, "--from", "shop-backend/cart", "--to", "shop-data/redis", "--port", "6379"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ALLOWED: ")
    assert "allowed by shop-data/redis-from-cart ingress[0] (" in result.stdout
    assert "31-data-policies.yaml:" in result.stdout


def test_query_denied_exits_1_with_reasons() -> None:
    result = cli(
        "query",
        SHOP,
        "--from",
        "shop-backend/checkout",
        "--to",
        "shop-data/redis",
        "--port",
        "6379",
        "--protocol",
        "tcp",
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("DENIED: ")
    assert "peer-not-matched" in result.stdout


def test_query_json_is_the_explanation_json() -> None:
    result = cli(
        "query",
        SHOP,
        "--from",
        "shop-frontend/storefront",
        "--to",
        "8.8.8.8",
        "--port",
        "53",
        "--protocol",
        "UDP",
        "--format",
        "json",
    )
    assert result.returncode == 1, result.stderr
    answer = json.loads(result.stdout)
    assert answer["allowed"] is False
    assert answer["target"]["type"] == "ipblock"
    assert answer["egress"]["isolated"] is True
    assert answer["egress"]["reason"] == "peer-not-matched"
    assert {"policy", "rule", "source", "reason", "ports", "missingPorts"} <= set(
        answer["egress"]["rules"][0]
    )


def test_query_unknown_node_exits_2_with_close_matches() -> None:
    result = cli("query", SHOP, "--from", "shop-backend/kart", "--to", "shop-data/redis")
    assert result.returncode == 2
    assert "shop-backend/cart" in result.stderr
    assert result.stdout == ""


def test_query_bad_port_is_a_usage_error() -> None:
    result = cli("query", SHOP, "--from", "a/b", "--to", "c/d", "--port", "70000")
    assert result.returncode == 2
