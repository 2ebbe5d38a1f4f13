"""The stored input keeps nothing secret and re-analyses to the same answer, lines included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from webapp.core import SourceText, analyze, analyze_stored

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


def comparable(doc: dict) -> dict:
    """The parts of a document that re-analysis must reproduce exactly."""
    policies = [{k: v for k, v in p.items() if k != "rules"} for p in doc["policies"]]
    return {"nodes": doc["nodes"], "flows": doc["flows"], "policies": policies}


@pytest.mark.parametrize("scenario", sorted(p.name for p in SAMPLES.iterdir() if p.is_dir()))
def test_stored_input_reanalyses_to_the_same_document(scenario: str) -> None:
    folder = SAMPLES / scenario
    sources = [
        SourceText(p.relative_to(folder).as_posix(), p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.suffix in (".yaml", ".yml", ".json")
    ]
    first = analyze(sources)
    stored = json.loads(json.dumps(first.sanitized))
    again = analyze_stored(stored)
    assert comparable(again.document) == comparable(first.document)


def test_stored_input_drops_secrets_env_and_annotations() -> None:
    analysis = analyze([SourceText("app.yaml", SECRETS)])
    text = json.dumps(analysis.sanitized)
    assert "hunter2" not in text and "registry.example" not in text
    assert "last-applied" not in text and "Secret" not in text
    (api,) = analysis.sanitized
    assert api["file"] == "app.yaml" and api["document"] == 1 and api["line"] == 6
    ports = api["body"]["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert ports == [{"name": "http", "containerPort": 8080}]
