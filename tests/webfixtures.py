"""Helpers shared by the web tests: an app on a temporary database, manifests, the PostgreSQL URL.

The PostgreSQL URL comes from NETPOL_TEST_DATABASE_URL (`.ci/postgres.sh`
starts a server and prints it). Without it the PostgreSQL cases are
skipped locally, and fail under CI=true: a missing database in CI is a
failure, not a skip.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from webapp.web import create_app

POSTGRES_ENV = "NETPOL_TEST_DATABASE_URL"

SHARE_ID = re.compile(r"[A-Za-z0-9_-]{32,}")

ARTICLE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: mysql
  namespace: default
spec:
  selector:
    matchLabels: {name: mysql}
  template:
    metadata:
      labels: {name: mysql}
    spec:
      containers:
      - name: mysql
        image: mysql:8
        env:
        - name: MYSQL_ROOT_PASSWORD
          value: hunter2
        ports:
        - containerPort: 3306
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: backend
  namespace: default
spec:
  selector:
    matchLabels: {role: backend}
  template:
    metadata:
      labels: {role: backend}
    spec:
      containers:
      - name: backend
        image: python:3.12
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-backend
  namespace: default
spec:
  podSelector:
    matchLabels: {name: mysql}
  ingress:
  - from:
    - podSelector:
        matchLabels: {role: backend}
    ports:
    - protocol: TCP
      port: 3306
"""
"""The article's first policy with the two workloads it is about (3 documents)."""

POLICY_ONLY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: default}
spec: {podSelector: {}, policyTypes: [Ingress]}
"""

CONTRACT_KEYS = {"version", "nodes", "flows", "policies", "findings", "problems"}

SCENARIO = """\
# Article: backend to database

Only the backend may reach MySQL.
"""


def write_samples(root: Path) -> Path:
    """A samples folder with one scenario `article` and one folder that is not a scenario."""
    scenario = root / "article"
    (scenario / "k8s").mkdir(parents=True)
    (scenario / "README.md").write_text(SCENARIO, encoding="utf-8")
    (scenario / "k8s" / "article.yaml").write_text(ARTICLE, encoding="utf-8")
    (scenario / "README.txt").write_text("not a manifest", encoding="utf-8")
    (root / "no-scenario").mkdir()
    (root / "no-scenario" / "x.yaml").write_text(POLICY_ONLY, encoding="utf-8")
    return root


def make_app(tmp_path: Path, config: Mapping[str, Any] | None = None) -> Flask:
    """An app whose database, instance folder and samples live in `tmp_path`."""
    samples = tmp_path / "samples"
    if not samples.exists():
        write_samples(samples)
    settings: dict[str, Any] = {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE": str(tmp_path / "test.sqlite3"),
        "SAMPLES_DIR": str(samples),
    }
    settings.update(config or {})
    return create_app(settings)


def upload(client: FlaskClient, *files: tuple[str, str | bytes], **kwargs: Any) -> TestResponse:
    """POST files (name, content) as multipart field `manifests` to the API."""
    from io import BytesIO

    parts = [
        (BytesIO(content.encode() if isinstance(content, str) else content), name)
        for name, content in files
    ]
    return client.post("/api/v1/analyses", data={"manifests": parts}, **kwargs)


def postgres_url() -> str:
    """The test PostgreSQL URL; skips without one, fails without one under CI."""
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(f"{POSTGRES_ENV} is not set under CI: .ci/run must start PostgreSQL")
    pytest.skip(f"{POSTGRES_ENV} is not set (run: eval \"$(bash .ci/postgres.sh)\")")


def database_for(kind: str, tmp_path: Path) -> str:
    """A database of `kind` ("sqlite" or "postgres") for one test."""
    if kind == "sqlite":
        return str(tmp_path / "store.sqlite3")
    return postgres_url()
