"""What a user of `netpol-viz analyze` sees for merge keys, NaN and Helm templates."""

from __future__ import annotations

import json
from pathlib import Path

from test_samples import cli

UPLOAD = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  podSelector: {}
  ingress:
  - from: &peers [{podSelector: {}}]
    ports: [{port: 5432}]
  - from: *peers
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  <<: {namespace: prod}
  name: merged
spec:
  podSelector: {}
  policyTypes: [Egress]
---
apiVersion: v1
kind: Pod
metadata: {name: nan, namespace: prod}
spec:
  containers:
  - name: c
    ports:
    - containerPort: .nan
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
spec:
  replicas: {{ .Values.replicas }}
"""


def line_of(text: str) -> int:
    return UPLOAD.split("\n").index(text) + 1


def test_merge_keys_nan_and_helm_templates_on_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "upload.yaml"
    path.write_text(UPLOAD)
    result = cli("analyze", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    document = json.loads(result.stdout)
    assert [p["id"] for p in document["policies"]] == ["prod/db", "prod/merged"]
    problems = {p["document"]: p for p in document["problems"] if p["severity"] == "error"}
    assert problems.keys() == {2, 3}
    nan = problems[2]
    assert (nan["line"], nan["kind"], nan["name"], nan["path"]) == (
        line_of("    - containerPort: .nan"),
        "Pod",
        "nan",
        "spec.containers[0].ports[0].containerPort",
    )
    assert "NaN and infinities are refused" in nan["message"]
    helm = problems[3]
    assert helm["line"] == line_of("  replicas: {{ .Values.replicas }}")
    assert "helm template" in helm["message"]
    assert "helm template" in result.stderr.decode()
