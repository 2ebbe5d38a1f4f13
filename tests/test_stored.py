"""The stored input keeps nothing secret and re-analyses to exactly the same analysis.

Re-analysis goes the way the web app takes it: `analyze_stored` of the stored
input after `to_json` and `json.loads`. Every policy's `rules` (line range and
YAML excerpt of each rule) is the one thing left out of the comparison: the
excerpts are cut from the uploaded text, which is not stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import test_loader
import test_normalize
import test_validation
from _pytest.mark.structures import ParameterSet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp.core import Analysis, SourceText, UnusableInput, analyze, analyze_stored
from webapp.web.analysis import to_json

SAMPLES = Path(__file__).resolve().parent.parent / "sample-manifests"

SECRETS = b"""\
apiVersion: v1
kind: Secret
metadata: {name: db-password}
stringData: {password: hunter2}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"password": "hunter2"}'
spec:
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      initContainers:
      - name: migrate
        image: migrate
        env: [{name: PASSWORD, value: hunter2}]
      containers:
      - name: api
        image: registry.example/api
        env: [{name: PASSWORD, value: hunter2}]
        ports: [{name: http, containerPort: 8080}]
"""

# Appended to an input whose every document is broken, so that something is analysed.
VALID_POLICY = (
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    "metadata: {name: deny, namespace: prod}\nspec: {podSelector: {}}\n"
)


def comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """The document without the rule excerpts of policies and cluster-wide policies (cut from
    the text, which is not stored)."""
    policies = [{k: v for k, v in p.items() if k != "rules"} for p in doc["policies"]]
    out = {**doc, "policies": policies}
    if "clusterPolicies" in doc:
        out["clusterPolicies"] = [
            {k: v for k, v in p.items() if k != "rules"} for p in doc["clusterPolicies"]
        ]
    return out


def reanalysed(analysis: Analysis) -> Analysis:
    return analyze_stored(json.loads(to_json(analysis.sanitized)))


def assert_same_analysis(data: bytes, name: str = "up.yaml") -> None:
    sources = [SourceText(name, data)]
    try:
        first = analyze(sources)
    except UnusableInput:
        sources = [SourceText(name, data + b"\n---\n" + VALID_POLICY.encode())]
        try:
            first = analyze(sources)
        except UnusableInput:
            return
    again = reanalysed(first)
    assert again.problems == first.problems
    assert comparable(again.document) == comparable(first.document)
    assert again.findings == first.findings


@pytest.mark.parametrize("scenario", sorted(p.name for p in SAMPLES.iterdir() if p.is_dir()))
def test_stored_input_reanalyses_to_the_same_document(scenario: str) -> None:
    folder = SAMPLES / scenario
    sources = [
        SourceText(p.relative_to(folder).as_posix(), p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.suffix in (".yaml", ".yml", ".json")
    ]
    first = analyze(sources)
    again = reanalysed(first)
    assert again.problems == first.problems
    assert comparable(again.document) == comparable(first.document)


# --- Every bad input of the loader and validation tests -------------------------------


def _as_text(value: Any) -> bytes | None:
    if isinstance(value, str) and "kind" in value:
        return value.encode()
    if isinstance(value, bytes) and b"kind" in value:
        return value
    if isinstance(value, dict) and "kind" in value:
        return json.dumps(value, indent=2).encode()
    return None


def _values(value: Any) -> Iterator[Any]:
    if isinstance(value, ParameterSet):
        yield from value.values
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _values(item)
    else:
        yield value


def _collected() -> list[Any]:
    """Inputs in module constants and parametrized cases of the loader and validation tests."""
    found: dict[bytes, str] = {}
    for module in (test_loader, test_normalize, test_validation):
        for attr, value in vars(module).items():
            if attr.startswith("__"):
                continue
            candidates = list(_values(value))
            for mark in getattr(value, "pytestmark", ()):
                if mark.name == "parametrize":
                    candidates += list(_values(list(mark.args[1])))
            for number, candidate in enumerate(candidates):
                text = _as_text(candidate)
                if text is not None:
                    found.setdefault(text, f"{module.__name__}.{attr}[{number}]")
    return [pytest.param(text, id=name) for text, name in found.items()]


COLLECTED = _collected()


def test_the_collection_reaches_the_bad_inputs() -> None:
    assert len(COLLECTED) > 150


@pytest.mark.parametrize("data", COLLECTED)
def test_every_collected_input_reanalyses_to_the_same_analysis(data: bytes) -> None:
    assert_same_analysis(data)


# --- Random manifests -----------------------------------------------------------------

ODD_SCALARS = st.sampled_from(
    [
        "yes", "no", "on", "off", "y", "~", "null", "''", '""', "1.10", "0x1F", "0o17", "0755",
        "08", "1e3", ".5", "1_000", "1e999", ".nan", "-.Inf", "+.inf", "'.nan'", "2024-01-31",
        "1:20", "80", "-1", "65536", "0", "18446744073709551616", "99999999999999999999999",
        "http", "'80'", "!!str 80", "!!float 1", "é", "'x\\u202ey'", '"\\U0001F600"', "a b",
        "TCP", "UDP", "sctp", "10.0.0.0/8", "::/0", "[]", "{}", "[1, 2]", "{a: 1}",
    ]
)  # fmt: skip
NAMES = st.sampled_from(["web", "db", "api", "Web", "a-b", "x" * 70, "é"])
NAMESPACES = st.sampled_from(["prod", "dev", "default", "Prod"])
POLICY_TYPES = st.sampled_from(["Ingress", "Egress", "Ingress, Egress"])


@st.composite
def manifests(draw: st.DrawFn) -> str:
    """A few documents of policies, pods, deployments and namespaces with odd scalars."""
    docs = []
    for _ in range(draw(st.integers(1, 4))):
        name, namespace = draw(NAMES), draw(NAMESPACES)
        scalar = draw(ODD_SCALARS)
        label = f"{{app: {draw(ODD_SCALARS)}, tier: {draw(NAMES)}}}"
        kind = draw(st.sampled_from(["NetworkPolicy", "Pod", "Deployment", "Namespace", "List"]))
        merge = draw(st.booleans())
        base = f"base: &base {{port: {scalar}, protocol: {draw(ODD_SCALARS)}}}\n" if merge else ""
        port = "{<<: *base}" if merge else f"{{port: {scalar}, protocol: TCP}}"
        if kind == "NetworkPolicy":
            body = (
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                f"metadata: {{name: {name}, namespace: {namespace}}}\n{base}"
                f"spec:\n  podSelector: {{matchLabels: {label}}}\n"
                f"  policyTypes: [{draw(POLICY_TYPES)}]\n"
                f"  ingress:\n  - from: [{{podSelector: {{matchLabels: {label}}}}}]\n"
                f"    ports: [{port}]\n"
                f"  egress:\n  - to: [{{ipBlock: {{cidr: {draw(ODD_SCALARS)}}}}}]\n"
            )
        elif kind == "Namespace":
            body = f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {label}}}\n"
        else:
            pod_spec = (
                f"containers: [{{name: c, ports: [{{containerPort: {scalar}, name: "
                f"{draw(ODD_SCALARS)}}}], env: [{{name: X, value: {draw(ODD_SCALARS)}}}]}}]"
            )
            if kind == "Deployment":
                body = (
                    f"apiVersion: apps/v1\nkind: Deployment\n{base}"
                    f"metadata: {{name: {name}, namespace: {namespace}}}\n"
                    f"spec:\n  replicas: {draw(ODD_SCALARS)}\n"
                    f"  template:\n    metadata: {{labels: {label}}}\n    spec: {{{pod_spec}}}\n"
                )
            else:
                pod = (
                    f"{{apiVersion: v1, kind: Pod, metadata: {{name: {name}, namespace: "
                    f"{namespace}, labels: {label}}}, spec: {{{pod_spec}}}, "
                    f"status: {{podIP: {draw(ODD_SCALARS)}}}}}"
                )
                body = (
                    f"apiVersion: v1\nkind: List\nitems:\n- {pod}\n- {pod}\n"
                    if kind == "List"
                    else pod + "\n"
                )
        docs.append(body)
    return "---\n".join(docs)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manifests())
def test_random_manifests_reanalyse_to_the_same_analysis(text: str) -> None:
    assert_same_analysis(text.encode())


# --- What is kept -----------------------------------------------------------------------


def test_stored_input_drops_secrets_env_and_annotations() -> None:
    analysis = analyze([SourceText("app.yaml", SECRETS)])
    text = json.dumps(analysis.sanitized)
    assert "hunter2" not in text and "registry.example" not in text
    assert "last-applied" not in text
    api, problems = analysis.sanitized
    assert api["file"] == "app.yaml" and api["document"] == 1 and api["line"] == 6
    ports = api["body"]["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert ports == [{"name": "http", "containerPort": 8080}]
    # The Secret itself is gone; only the note that it was skipped is kept.
    assert problems["problems"][0]["message"] == "Secret (v1) is not used by the analysis; skipped"


def test_an_object_that_validation_left_out_is_not_stored() -> None:
    # The bad annotation value is dropped by sanitizing: storing the policy
    # would bring it back to life on re-analysis.
    text = VALID_POLICY.replace("{name: deny,", "{name: bad, annotations: {a: 1},")
    analysis = analyze([SourceText("np.yaml", (text + "---\n" + VALID_POLICY).encode())])
    kept = [e["body"]["metadata"]["name"] for e in analysis.sanitized if "body" in e]
    assert kept == ["deny"]
    assert [p["id"] for p in reanalysed(analysis).document["policies"]] == ["prod/deny"]


def test_an_input_stored_without_problems_is_revalidated() -> None:
    # A pod in a namespace the upload does not define: its warning is found again.
    shop = b"apiVersion: v1\nkind: Pod\nmetadata: {name: cart, namespace: shop}\n"
    shop += b"spec: {containers: [{name: main}]}\n"
    analysis = analyze([SourceText("app.yaml", SECRETS), SourceText("shop.yaml", shop)])
    objects_only = [e for e in json.loads(to_json(analysis.sanitized)) if "body" in e]
    again = analyze_stored(objects_only)
    assert comparable(again.document)["nodes"] == comparable(analysis.document)["nodes"]
    # Found again from the objects: the namespace warning; lost with the Secret: its note.
    assert [p.message.split(" ")[0] for p in again.problems] == ["namespace"]


def test_rule_excerpts_of_cluster_policies_survive_a_reanalysis_from_the_stored_input() -> None:
    """The stored input keeps no text: a re-analysis (an upgrade of a stored analysis) takes
    the YAML excerpts of NetworkPolicy and cluster-wide policy rules from the old document."""
    from webapp.web.reanalysis import with_rule_texts

    folder = SAMPLES / "cluster-multi-tenant"
    first = analyze([SourceText(p.name, p.read_bytes()) for p in sorted(folder.glob("*.yaml"))])
    again = reanalysed(first).document
    assert not any(r["text"] for p in again["clusterPolicies"] for r in p["rules"])
    assert with_rule_texts(again, first.document) == first.document


def test_reanalysis_keeps_the_rule_excerpts_of_cluster_policies() -> None:
    """A stored upload re-evaluated (after an upgrade) has no text to cut excerpts from:
    they come from the document stored before, for cluster-wide policies too."""
    from webapp.web.reanalysis import with_rule_texts

    folder = SAMPLES / "cluster-multi-tenant"
    first = analyze(
        [SourceText(p.name, p.read_bytes()) for p in sorted(folder.glob("*.yaml"))]
    )
    again = reanalysed(first)
    assert all(not r["text"] for p in again.document["clusterPolicies"] for r in p["rules"])
    kept = with_rule_texts(again.document, json.loads(to_json(first.document)))
    assert kept["clusterPolicies"] == first.document["clusterPolicies"]
    assert kept["clusterPolicies"][1]["rules"][0]["text"].startswith("  - name: pass-monitoring")
