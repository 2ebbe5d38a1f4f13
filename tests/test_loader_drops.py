"""What the loader drops while reading (status, managedFields, env, ...) and what it keeps.

The analysis never reads these fields, and exports are mostly made of them;
dropping them as their parser events arrive keeps memory with the content
that matters. NetworkPolicies keep everything: they are decoded strictly.
"""

from __future__ import annotations

import gc
import json
import tracemalloc
from typing import Any

import pytest

from webapp.core import SourceText, analyze
from webapp.core.input.drops import LAST_APPLIED
from webapp.core.input.raw import RawObject
from webapp.core.input.sources import load_sources

LAST = f'      {LAST_APPLIED}: \'{{"kind":"Pod"}}\'\n'
EXPORTED_META = (
    "  metadata:\n    name: web\n    namespace: prod\n"
    "    annotations:\n" + LAST + "      team: payments\n"
    "    managedFields: [{manager: kubectl, fieldsV1: {f:spec: {}}}]\n"
)
CONTAINER = (
    "    - name: c\n      ports: [{containerPort: 80}]\n"
    "      env: [{name: A, value: b}]\n      envFrom: [{secretRef: {name: s}}]\n"
    "      volumeMounts: [{name: v, mountPath: /v}]\n      resources: {limits: {cpu: 1}}\n"
    "      livenessProbe: {tcpSocket: {port: 80}}\n      readinessProbe: {exec: {command: [x]}}\n"
    "      startupProbe: {httpGet: {port: 80}}\n      image: nginx\n"
)
KEPT_CONTAINER = {"name": "c", "ports": [{"containerPort": 80}], "image": "nginx"}


def indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line + "\n" for line in text.splitlines())


def only(text: str) -> RawObject:
    [obj], problems = load_sources([SourceText("x.yaml", text.encode())])
    assert problems == []
    return obj


def pod_spec(spaces: int) -> str:
    return indent(
        "containers:\n" + CONTAINER + "initContainers:\n" + CONTAINER + "volumes: [{name: v}]\n",
        spaces,
    )


POD = (
    "apiVersion: v1\nkind: Pod\n"
    + EXPORTED_META.replace("  ", "", 1).replace("\n  ", "\n")
    + "spec:\n"
    + pod_spec(2)
    + "status: {phase: Running}\n"
)
DEPLOYMENT = (
    "apiVersion: apps/v1\nkind: Deployment\n"
    + EXPORTED_META.replace("  ", "", 1).replace("\n  ", "\n")
    + "spec:\n  replicas: 2\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n"
    + pod_spec(6)
    + "status: {replicas: 2}\n"
)
CRONJOB = (
    "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\n"
    "spec:\n  schedule: '@daily'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n"
    + pod_spec(10)
)


@pytest.mark.parametrize(
    ("text", "spec_path"),
    [
        pytest.param(POD, ("spec",), id="pod"),
        pytest.param(DEPLOYMENT, ("spec", "template", "spec"), id="deployment-template"),
        pytest.param(CRONJOB, ("spec", "jobTemplate", "spec", "template", "spec"), id="cronjob"),
    ],
)
def test_pod_spec_fields_the_analysis_does_not_read_are_dropped(
    text: str, spec_path: tuple[str, ...]
) -> None:
    obj = only(text)
    spec: Any = obj.body
    for key in spec_path:
        spec = spec[key]
    assert spec == {"containers": [KEPT_CONTAINER], "initContainers": [KEPT_CONTAINER]}
    assert "status" not in obj.body


@pytest.mark.parametrize("text", [POD, DEPLOYMENT], ids=["pod", "deployment"])
def test_metadata_keeps_other_annotations_and_counts_the_dropped_one(text: str) -> None:
    obj = only(text)
    assert obj.body["metadata"] == {
        "name": "web",
        "namespace": "prod",
        "annotations": {"team": "payments"},
    }
    assert obj.dropped_annotation_bytes == len(LAST_APPLIED) + len('{"kind":"Pod"}')


def test_items_of_a_list_are_objects_even_when_kind_comes_last() -> None:
    # `kubectl get pods -o yaml` sorts keys: items before kind.
    text = "apiVersion: v1\nitems:\n- " + POD.replace("\n", "\n  ").rstrip() + "\nkind: List\n"
    obj = only(text)
    assert obj.path == "items[0]"
    assert obj.body["spec"]["containers"] == [KEPT_CONTAINER]
    assert "status" not in obj.body and obj.dropped_annotation_bytes > 0


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        pytest.param(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            "metadata: {name: np, managedFields: [], annotations: {" + LAST_APPLIED + ": '{}'}}\n"
            "spec: {podSelector: {}}\nstatus: {}\n",
            ["status", "metadata.managedFields", "metadata.annotations"],
            id="network-policy-keeps-everything",
        ),
        pytest.param(
            "status: {phase: Running}\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
            ["status"],
            id="field-before-kind-is-kept",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n"
            "  annotations: {" + LAST_APPLIED + ": {not: a string}}\n",
            ["metadata.annotations"],
            id="annotation-that-is-not-a-string-is-kept-for-validation",
        ),
    ],
)
def test_what_is_kept(text: str, kept: list[str]) -> None:
    obj = only(text)
    for path in kept:
        value: Any = obj.body
        for key in path.split("."):
            value = value[key]
        assert value is not None
    assert obj.dropped_annotation_bytes == 0


def test_an_anchor_inside_a_dropped_field_is_still_there_for_its_alias() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
        "spec:\n  containers:\n  - name: c\n    env: &env [{name: A, value: b}]\n"
        "    ports: [{containerPort: 80}]\n"
        "  other: *env\n"
    )
    obj = only(text)
    assert obj.body["spec"]["other"] == [{"name": "A", "value": "b"}]


def test_problems_in_dropped_fields_name_the_exact_field() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus:\n  a: {b: .inf}\n"
    _, [problem] = load_sources([SourceText("x.yaml", text.encode())])
    assert (problem.line, problem.path) == (5, "status.a.b")


# --- Memory follows the content the analysis uses -----------------------------------------


def export(pods: int, extras: bool) -> bytes:
    """A `kubectl get pods -o yaml` export; with `extras`, each pod as a cluster returns it.

    Without them, comment lines stand where they were, so that every line
    number (and so the analysis document) is the same.
    """

    def extra(text: str) -> str:
        return text if extras else "#\n" * text.count("\n")

    out = ["apiVersion: v1\nitems:\n"]
    for i in range(pods):
        owner = f"web{i % 20}"
        out.append(
            f"- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: {owner}-h-{i}\n"
            f"    namespace: ns{i % 4}\n    labels: {{app: {owner}, pod-template-hash: h}}\n"
            f"    ownerReferences: [{{kind: ReplicaSet, name: {owner}-h, controller: true}}]\n"
        )
        out.append(
            extra(
                "    annotations:\n"
                f'      {LAST_APPLIED}: \'{{"metadata":{{"name":"{owner}-{i}"}}}}\'\n'
                "    managedFields:\n    - {manager: kubelet, operation: Update, fieldsV1:"
                " {f:status: {f:conditions: {.: {}, f:phase: {}, f:podIP: {}}}}}\n"
            )
        )
        out.append(
            "  spec:\n    containers:\n    - name: c\n      image: registry.example/web:1\n"
            "      ports: [{containerPort: 8080, name: http}]\n"
        )
        out.append(
            extra(
                "      env:\n"
                + "".join(f"      - {{name: VAR_{k}, value: value-{k}-{i}}}\n" for k in range(4))
                + "      resources: {limits: {cpu: 500m, memory: 128Mi}}\n"
                "      livenessProbe: {httpGet: {path: /healthz, port: 8080}}\n"
                "      volumeMounts: [{name: data, mountPath: /data}]\n"
                "    volumes: [{name: data, emptyDir: {}}]\n"
                "  status:\n    phase: Running\n    podIP: 10.0.0.1\n"
                "    conditions: [{type: Ready, status: 'True'}, {type: Scheduled}]\n"
            )
        )
    out.append("kind: List\nmetadata: {resourceVersion: ''}\n")
    return "".join(out).encode()


def peak_of_analysis(data: bytes) -> tuple[int, dict[str, Any]]:
    gc.collect()
    tracemalloc.start()
    try:
        document = analyze([SourceText("pods.yaml", data)]).document
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, json.loads(json.dumps(document))


@pytest.mark.slow
def test_memory_follows_the_useful_content_not_the_size_of_the_upload() -> None:
    # 2,000 pods keep the traced run short; bench/ measures 20,000 (see the README).
    lean, full = export(2_000, extras=False), export(2_000, extras=True)
    assert len(full) > 2 * len(lean)
    lean_peak, lean_document = peak_of_analysis(lean)
    full_peak, full_document = peak_of_analysis(full)
    assert full_document == lean_document
    assert full_peak < 1.5 * lean_peak, (full_peak, lean_peak)


@pytest.mark.parametrize("text", [POD, DEPLOYMENT, CRONJOB], ids=["pod", "deployment", "cronjob"])
def test_a_json_list_drops_what_the_yaml_path_drops(text: str) -> None:
    """`kubectl get -o json` is read by the json module item by item: the same fields go."""
    import yaml

    body = yaml.safe_load(text)
    as_json = json.dumps({"apiVersion": "v1", "kind": "List", "items": [body, body]}, indent=4)
    objects, problems = load_sources([SourceText("x.json", as_json.encode())])
    assert problems == []
    from_yaml = only(text)
    for obj in objects:
        assert obj.body == from_yaml.body
        assert obj.dropped_annotation_bytes == from_yaml.dropped_annotation_bytes
