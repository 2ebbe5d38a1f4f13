"""Why / why not: naming nodes, each denial reason, the JSON answer and the `query` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from clirun import cli
from scalefixtures import analyse_list, as_list, bare_pods, measured, read_pairwise_flows
from semantics_helpers import deployment, namespace, policy

from webapp.core import Analysis, SourceText, analyze
from webapp.core.document import ports_json
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


# --- a node to itself -------------------------------------------------------------------


def replicated(name: str, ns: str, labels: dict[str, str], replicas: int) -> dict[str, Any]:
    obj = deployment(name, ns, labels, [("http", 80, "TCP")])
    obj["spec"]["replicas"] = replicas
    return obj


def bare_pod(name: str, ns: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"containers": [{"name": "main", "image": "example"}]},
    }


SELF_CLUSTER = [
    namespace("prod"),
    replicated("api", "prod", {"app": "api"}, 3),
    bare_pod("solo", "prod", {"app": "solo"}),
]
SEL_API = {"matchLabels": {"app": "api"}}
DENY_API_INGRESS = policy("api-deny", "prod", podSelector=SEL_API, policyTypes=["Ingress"])
API_FROM_ITSELF_80 = policy(
    "api-peers",
    "prod",
    podSelector=SEL_API,
    policyTypes=["Ingress"],
    ingress=[{"from": [{"podSelector": SEL_API}], "ports": [{"port": 80}]}],
)
DENY_ALL = policy("deny-all", "prod", policyTypes=["Ingress", "Egress"])
# A DaemonSet runs one pod on every node: its pods can talk to each other.
DAEMONSET = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "agent", "namespace": "prod"},
    "spec": {
        "selector": {"matchLabels": {"app": "agent"}},
        "template": {
            "metadata": {"labels": {"app": "agent"}},
            "spec": {"containers": [{"name": "main", "image": "example"}]},
        },
    },
}
DENY_AGENT_INGRESS = policy(
    "agent-deny", "prod", podSelector={"matchLabels": {"app": "agent"}}, policyTypes=["Ingress"]
)
# A policies-only upload: `default: name=mysql` and `default: any other pod` are inferred.
INFERRED = [policy("db", "default", podSelector={"matchLabels": {"name": "mysql"}}, ingress=[])]
MYSQL = "inferred:default:name=mysql"

# (objects, node, port, allowed, "self", text that the sentence holds)
SELF_CASES: list[Any] = [
    pytest.param(
        SELF_CLUSTER,
        "prod/solo",
        None,
        True,
        "same-pod",
        "to itself is allowed: a pod's traffic to itself is always allowed",
        id="one-pod-no-policies",
    ),
    pytest.param(
        [*SELF_CLUSTER, DENY_ALL],
        "prod/solo",
        80,
        True,
        "same-pod",
        "to itself is allowed: a pod's traffic to itself is always allowed",
        id="one-pod-even-under-deny-all",
    ),
    pytest.param(
        [*SELF_CLUSTER, replicated("one", "prod", {"app": "one"}, 1)],
        "prod/one",
        80,
        True,
        "same-pod",
        "a pod's traffic to itself is always allowed",
        id="deployment-of-one-pod",
    ),
    pytest.param(
        [*SELF_CLUSTER, DAEMONSET, DENY_AGENT_INGRESS],
        "prod/agent",
        None,
        False,
        "pods-of-one-workload",
        "between two pods of prod/DaemonSet/agent is denied",
        id="daemonset-runs-a-pod-per-node",
    ),
    pytest.param(
        SELF_CLUSTER,
        "prod/api",
        None,
        True,
        "pods-of-one-workload",
        "between two pods of prod/Deployment/api is allowed (all)",
        id="deployment-of-3-no-policies",
    ),
    pytest.param(
        [*SELF_CLUSTER, DENY_API_INGRESS],
        "prod/api",
        80,
        False,
        "pods-of-one-workload",
        "between two pods of prod/Deployment/api is denied: prod/Deployment/api is isolated "
        "for ingress by prod/api-deny",
        id="deployment-of-3-default-deny-ingress",
    ),
    pytest.param(
        [*SELF_CLUSTER, API_FROM_ITSELF_80],
        "prod/api",
        80,
        True,
        "pods-of-one-workload",
        "between two pods of prod/Deployment/api is allowed (TCP 80)",
        id="deployment-of-3-own-pods-allowed-on-80",
    ),
    pytest.param(
        [*SELF_CLUSTER, API_FROM_ITSELF_80],
        "prod/api",
        81,
        False,
        "pods-of-one-workload",
        "the rule's ports do not include the requested port",
        id="deployment-of-3-own-pods-refused-on-81",
    ),
    pytest.param(
        [*SELF_CLUSTER, API_FROM_ITSELF_80],
        "prod/api",
        None,
        True,
        "pods-of-one-workload",
        "between two pods of prod/Deployment/api is allowed (TCP 80);",
        id="deployment-of-3-own-pods-any-port-is-tcp-80-only",
    ),
    pytest.param(
        INFERRED,
        "default: any other pod",
        None,
        True,
        "pods-of-one-workload",
        "between two pods of inferred:default:* is allowed (all)",
        id="inferred-not-isolated",
    ),
    pytest.param(
        INFERRED,
        MYSQL,
        None,
        False,
        "pods-of-one-workload",
        f"between two pods of {MYSQL} is denied: {MYSQL} is isolated for ingress by default/db",
        id="inferred-isolated-without-rules",
    ),
    pytest.param(
        [*SELF_CLUSTER, API_FROM_ITSELF_80],
        "203.0.113.9",
        80,
        False,
        "external",
        "from ipblock:other to itself is not analysed: traffic between external addresses",
        id="ipblock",
    ),
]


@pytest.mark.parametrize(("objects", "node", "port", "allowed", "kind", "text"), SELF_CASES)
def test_self_query(
    objects: list[dict[str, Any]],
    node: str,
    port: int | None,
    allowed: bool,
    kind: str,
    text: str,
) -> None:
    answer = ask(analyse(*objects), node, node, port)
    assert (answer["allowed"], answer["self"]) == (allowed, kind), answer["sentence"]
    assert text in answer["sentence"]
    assert "no port is allowed by both sides" not in answer["sentence"]
    assert answer["analysed"] is (kind != "external")
    if kind == "pods-of-one-workload":
        assert answer["sentence"].endswith("; each pod's traffic to itself is always allowed")


def test_self_query_of_several_pods_is_the_flow_between_two_members_of_one_class() -> None:
    """Two Deployments with the same labels are one evaluator class: the document's flow
    between them is what a self-query of either (3 pods) answers, port for port."""
    twin = replicated("api-twin", "prod", {"app": "api"}, 3)
    egress = policy(
        "api-out",
        "prod",
        podSelector=SEL_API,
        policyTypes=["Egress"],
        egress=[{"to": [{"podSelector": SEL_API}], "ports": [{"port": 80}, {"port": 9000}]}],
    )
    for policies in ([], [DENY_API_INGRESS], [API_FROM_ITSELF_80], [API_FROM_ITSELF_80, egress]):
        analysis = analyse(*SELF_CLUSTER, twin, *policies)
        pair = ("prod/Deployment/api", "prod/Deployment/api-twin")
        flow = next((f for f in analysis.evaluation.flows if (f.source, f.target) == pair), None)
        between = ask(analysis, "prod/api", "prod/api-twin")
        itself = ask(analysis, "prod/api", "prod/api")
        expected = ports_json(flow.verdict.ports) if flow else []
        assert between["ports"] == itself["ports"] == expected, policies
        assert itself["allowed"] is (flow is not None)


def test_query_to_itself_cli_text_and_exit_status(tmp_path: Path) -> None:
    manifests = tmp_path / "cluster.yaml"
    manifests.write_text(yaml.safe_dump_all([*SELF_CLUSTER, DENY_API_INGRESS]))
    one = cli("query", str(manifests), "--from", "prod/solo", "--to", "prod/solo")
    assert one.returncode == 0, one.stderr
    assert one.stdout.startswith(
        "ALLOWED: traffic from prod/Pod/solo to itself is allowed: "
        "a pod's traffic to itself is always allowed"
    )
    several = cli("query", str(manifests), "--from", "prod/api", "--to", "prod/api")
    assert several.returncode == 1, several.stderr
    assert several.stdout.startswith(
        "DENIED: traffic between two pods of prod/Deployment/api is denied: "
        "prod/Deployment/api is isolated for ingress by prod/api-deny"
    )
    assert "each pod's traffic to itself is always allowed" in several.stdout
    external = cli("query", str(manifests), "--from", "8.8.8.8", "--to", "8.8.4.4")
    assert external.returncode == 1, external.stderr
    assert "NOT ANALYSED: traffic from ipblock:other to itself is not analysed" in external.stdout
    assert "no port is allowed by both sides" not in external.stdout


@pytest.mark.parametrize(
    ("objects", "node", "port", "status", "allowed", "kind"),
    [
        pytest.param(SELF_CLUSTER, "prod/solo", None, 0, True, "same-pod", id="one-pod"),
        pytest.param(
            SELF_CLUSTER, "prod/api", None, 0, True, "pods-of-one-workload", id="several-pods"
        ),
        pytest.param(
            [*SELF_CLUSTER, API_FROM_ITSELF_80],
            "prod/api",
            "81",
            1,
            False,
            "pods-of-one-workload",
            id="several-pods-refused-port",
        ),
        pytest.param(INFERRED, MYSQL, None, 1, False, "pods-of-one-workload", id="inferred"),
        pytest.param(SELF_CLUSTER, "ipblock:other", None, 1, False, "external", id="ipblock"),
    ],
)
def test_query_to_itself_cli_json(
    tmp_path: Path,
    objects: list[dict[str, Any]],
    node: str,
    port: str | None,
    status: int,
    allowed: bool,
    kind: str,
) -> None:
    manifests = tmp_path / "cluster.yaml"
    manifests.write_text(yaml.safe_dump_all(objects))
    extra = ["--port", port] if port else []
    result = cli("query", str(manifests), "--from", node, "--to", node, *extra, "--format", "json")
    assert result.returncode == status, result.stderr
    answer = json.loads(result.stdout)
    assert (answer["allowed"], answer["self"]) == (allowed, kind)
    assert answer["source"] == answer["target"]


def test_a_query_between_two_nodes_has_no_self_field_value() -> None:
    answer = ask(analyse(*SELF_CLUSTER), "prod/api", "prod/solo")
    assert answer["self"] is None and answer["analysed"] is True and answer["notes"] == []


# --- hostNetwork: the node's address ----------------------------------------------------

NODE_ADDRESS_NOTE = "a hostNetwork pod's traffic uses its node's address, so ipBlock rules"


@pytest.mark.parametrize(
    ("source", "target"),
    [
        pytest.param("dev/agent", "prod/web", id="host-network-source"),
        pytest.param("prod/web", "dev/agent", id="host-network-target"),
        pytest.param("dev/agent", "198.51.100.7", id="host-network-source-to-address"),
        pytest.param("dev/agent", "dev/agent", id="host-network-to-itself"),
    ],
)
def test_host_network_answers_carry_the_node_address_note(
    tmp_path: Path, source: str, target: str
) -> None:
    manifests = tmp_path / "cluster.yaml"
    manifests.write_text(yaml.safe_dump_all([*CLUSTER, DB_FROM_WEB_3306]))
    base = ["query", str(manifests), "--from", source, "--to", target, "--port", "80"]
    text = cli(*base)
    assert text.returncode == 0, text.stderr
    note = next(line for line in text.stdout.splitlines() if line.startswith("note: "))
    assert note.startswith(f"note: dev/agent: {NODE_ADDRESS_NOTE}")
    answer = json.loads(cli(*base, "--format", "json").stdout)
    assert answer["notes"] == [
        {
            "code": "host-network-node-address",
            "node": "dev/Deployment/agent",
            "text": answer["notes"][0]["text"],
        }
    ]
    assert answer["notes"][0]["text"].startswith(NODE_ADDRESS_NOTE)


def test_answers_without_host_network_pods_have_no_note() -> None:
    answer = ask(analyse(*CLUSTER), "prod/web", "dev/tool")
    assert answer["notes"] == []
    assert "note:" not in explanation_text(answer)


# --- the API answers the same -----------------------------------------------------------


def api_query(client: Any, objects: list[dict[str, Any]], source: str, target: str) -> Any:
    from webfixtures import upload

    created = upload(client, ("cluster.yaml", yaml.safe_dump_all(objects)))
    assert created.status_code == 201, created.get_data(as_text=True)
    response = client.get(
        f"/api/v1/analyses/{created.get_json()['id']}/query",
        query_string={"from": source, "to": target},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@pytest.mark.parametrize(
    ("objects", "node", "allowed", "kind", "text"),
    [
        pytest.param(
            SELF_CLUSTER,
            "prod/solo",
            True,
            "same-pod",
            "a pod's traffic to itself is always allowed",
            id="one-pod",
        ),
        pytest.param(
            SELF_CLUSTER,
            "prod/api",
            True,
            "pods-of-one-workload",
            "between two pods of prod/Deployment/api is allowed",
            id="several-pods",
        ),
        pytest.param(
            [*SELF_CLUSTER, DENY_API_INGRESS],
            "prod/api",
            False,
            "pods-of-one-workload",
            "isolated for ingress by prod/api-deny",
            id="several-pods-denied",
        ),
        pytest.param(
            INFERRED,
            "default: name=mysql",
            False,
            "pods-of-one-workload",
            f"between two pods of {MYSQL} is denied",
            id="inferred",
        ),
        pytest.param(
            SELF_CLUSTER, "203.0.113.1", False, "external", "is not analysed", id="ipblock"
        ),
    ],
)
def test_api_query_to_itself(
    client: Any, objects: list[dict[str, Any]], node: str, allowed: bool, kind: str, text: str
) -> None:
    answer = api_query(client, objects, node, node)
    assert (answer["allowed"], answer["self"]) == (allowed, kind), answer["sentence"]
    assert text in answer["sentence"]


def test_api_query_with_a_host_network_end_carries_the_note(client: Any) -> None:
    answer = api_query(client, CLUSTER, "prod/web", "dev/agent")
    assert [n["code"] for n in answer["notes"]] == ["host-network-node-address"]
    assert answer["notes"][0]["node"] == "dev/Deployment/agent"


def test_query_at_scale_reads_no_pairwise_flows(tmp_path: Path) -> None:
    """2,000 bare pods (4 million node pairs): an answer is one verdict, found quickly
    and in little memory, as data and as the command prints it."""
    analysis = analyse_list(*bare_pods())
    with measured() as cost:
        answer = ask(analysis, "default/pod-7", "default/pod-1234", 443)
        outside = ask(analysis, "default/pod-7", "198.51.100.9")
    cost.check()
    assert not read_pairwise_flows(analysis)
    assert answer["allowed"] and outside["allowed"]
    assert answer["egress"]["reason"] == answer["ingress"]["reason"]
    (tmp_path / "cluster.json").write_bytes(as_list(*bare_pods()))
    result = cli(
        "query",
        str(tmp_path / "cluster.json"),
        "--from",
        "default/pod-0",
        "--to",
        "default/pod-1999",
        "--port",
        "80",
        "--protocol",
        "TCP",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ALLOWED: ")
