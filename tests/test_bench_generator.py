"""bench/generate.py: deterministic, exact counts, parseable, shaped like a real export."""

from __future__ import annotations

import collections
import importlib.util
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "generate.py"
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


generator = load_generator()


@cache
def cluster(pods: int, policies: int, seed: int = 1) -> tuple[str, tuple[dict[str, Any], ...]]:
    text = generator.generate(pods, policies, seed)
    return text, tuple(yaml.load_all(text, Loader=Loader))


def of_kind(docs: tuple[dict[str, Any], ...], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def test_same_seed_gives_same_text() -> None:
    assert generator.generate(300, 80, 7) == generator.generate(300, 80, 7)


def test_another_seed_gives_another_cluster() -> None:
    assert generator.generate(300, 80, 7) != generator.generate(300, 80, 8)


@pytest.mark.parametrize(
    ("pods", "policies"),
    [
        pytest.param(3, 0, id="smallest-cluster-no-policies"),
        pytest.param(10, 1, id="fewer-policies-than-namespaces"),
        pytest.param(57, 13, id="odd-counts"),
        pytest.param(500, 100, id="policies-a-fifth-of-pods"),
        pytest.param(200, 900, id="more-policies-than-pods"),
    ],
)
def test_exact_pod_and_policy_counts(pods: int, policies: int) -> None:
    _, docs = cluster(pods, policies)
    assert len(of_kind(docs, "Pod")) == pods
    assert len(of_kind(docs, "NetworkPolicy")) == policies


@pytest.mark.parametrize(
    ("pods", "expected"),
    [
        pytest.param(3, 3, id="minimum-three-namespaces"),
        pytest.param(500, 50, id="about-one-namespace-per-ten-pods"),
    ],
)
def test_namespace_count(pods: int, expected: int) -> None:
    _, docs = cluster(pods, 10)
    assert len(of_kind(docs, "Namespace")) == expected


def test_cli_writes_the_same_text(tmp_path: Path) -> None:
    out = tmp_path / "c.yaml"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--pods", "120", "--policies", "30", "--seed", "4",
         "-o", str(out)],
        check=True,
    )
    assert out.read_text(encoding="utf-8") == generator.generate(120, 30, 4)


def test_cli_refuses_too_few_pods() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--pods", "2", "--policies", "1"],
        capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert "--pods" in result.stderr


def test_output_is_plain_yaml_without_anchors() -> None:
    text, docs = cluster(500, 100)
    assert "&id" not in text and "*id" not in text
    assert all(isinstance(d, dict) and {"apiVersion", "kind", "metadata"} <= d.keys() for d in docs)


def test_every_namespace_has_team_and_env_labels() -> None:
    _, docs = cluster(500, 100)
    for ns in of_kind(docs, "Namespace"):
        labels = ns["metadata"]["labels"]
        assert labels["kubernetes.io/metadata.name"] == ns["metadata"]["name"]
        assert {"team", "env"} <= labels.keys()


def test_pods_group_back_into_workloads() -> None:
    _, docs = cluster(500, 100)
    owners: collections.Counter[tuple[str, str, str]] = collections.Counter()
    for pod in of_kind(docs, "Pod"):
        meta = pod["metadata"]
        refs = meta.get("ownerReferences") or []
        if not refs:
            continue
        (ref,) = refs
        assert ref["controller"] is True and ref["uid"]
        if ref["kind"] == "ReplicaSet":
            pod_hash = meta["labels"]["pod-template-hash"]
            assert ref["name"].endswith("-" + pod_hash)
            assert meta["name"].startswith(ref["name"] + "-")
        owners[(meta["namespace"], ref["kind"], ref["name"])] += 1
    kinds = collections.Counter(kind for _, kind, _ in owners)
    assert kinds["ReplicaSet"] > 0 and kinds["StatefulSet"] > 0
    replicas = [n for (_, kind, _), n in owners.items() if kind == "ReplicaSet"]
    assert 3 <= sum(replicas) / len(replicas) <= 7


def test_pods_stay_compact() -> None:
    text, _ = cluster(500, 0)
    pod_docs = [d for d in text.split("---\n") if "\nkind: Pod\n" in d]
    lines = [d.count("\n") for d in pod_docs]
    assert max(lines) <= 28 and sum(lines) / len(lines) <= 25


def test_named_port_http_means_different_numbers() -> None:
    _, docs = cluster(500, 100)
    numbers = {
        port["containerPort"]
        for pod in of_kind(docs, "Pod")
        for container in pod["spec"]["containers"]
        for port in container.get("ports", [])
        if port["name"] == "http"
    }
    assert len(numbers) >= 3


def test_policy_names_are_unique_per_namespace() -> None:
    _, docs = cluster(200, 900)
    keys = [(p["metadata"]["namespace"], p["metadata"]["name"])
            for p in of_kind(docs, "NetworkPolicy")]
    assert len(keys) == len(set(keys))


def test_most_app_namespaces_deny_by_default() -> None:
    _, docs = cluster(1000, 400)
    app_namespaces = {
        ns["metadata"]["name"] for ns in of_kind(docs, "Namespace")
        if ns["metadata"]["name"] not in ("kube-system", "monitoring")
    }
    denying = {
        p["metadata"]["namespace"] for p in of_kind(docs, "NetworkPolicy")
        if p["metadata"]["name"] == "default-deny"
        and p["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    }
    assert denying <= app_namespaces
    assert len(denying) >= 0.9 * len(app_namespaces)


def walk(value: Any) -> Any:
    """Every mapping inside `value`, depth first."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


@pytest.mark.parametrize(
    "feature",
    [
        pytest.param("operator-In", id="selector-operator-in"),
        pytest.param("operator-NotIn", id="selector-operator-notin"),
        pytest.param("operator-Exists", id="selector-operator-exists"),
        pytest.param("operator-DoesNotExist", id="selector-operator-doesnotexist"),
        pytest.param("endPort", id="port-range-with-endport"),
        pytest.param("ipBlock-except", id="ipblock-with-except"),
        pytest.param("namespace-and-pod-peer", id="namespace-and-pod-selector-in-one-peer"),
        pytest.param("named-port", id="named-port-in-a-rule"),
        pytest.param("dns", id="dns-to-kube-dns-udp-and-tcp"),
    ],
)
def test_policy_features_are_all_present(feature: str) -> None:
    _, docs = cluster(1000, 300)
    found: set[str] = set()
    for policy in of_kind(docs, "NetworkPolicy"):
        for node in walk(policy["spec"]):
            if "operator" in node:
                found.add("operator-" + node["operator"])
            if "endPort" in node:
                found.add("endPort")
            if "except" in node:
                found.add("ipBlock-except")
            if "namespaceSelector" in node and "podSelector" in node:
                found.add("namespace-and-pod-peer")
            if isinstance(node.get("port"), str):
                found.add("named-port")
            if node.get("port") == 53 and node.get("protocol") == "UDP":
                found.add("dns")
    assert feature in found
