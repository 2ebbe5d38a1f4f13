"""Small builders for semantic test cases: objects as dicts, analysed as one upload."""

from __future__ import annotations

from typing import Any

import yaml

from webapp.core import SourceText, analyze
from webapp.core.document import pair_flows


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def deployment(
    name: str,
    ns: str = "default",
    labels: dict[str, str] | None = None,
    ports: list[tuple[str | None, int, str]] | None = None,
    host_network: bool = False,
) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "image": "example"}
    if ports:
        container["ports"] = [
            {**({"name": n} if n else {}), "containerPort": p, "protocol": proto}
            for n, p, proto in ports
        ]
    spec: dict[str, Any] = {"containers": [container]}
    if host_network:
        spec["hostNetwork"] = True
    labels = labels if labels is not None else {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
    }


def policy(name: str, ns: str = "default", **spec: Any) -> dict[str, Any]:
    spec.setdefault("podSelector", {})
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def run(*objects: dict[str, Any]) -> dict[str, Any]:
    text = yaml.safe_dump_all(objects, sort_keys=False)
    return analyze([SourceText("case.yaml", text.encode())]).document


def ports_text(flow: dict[str, Any]) -> str:
    if flow["allTraffic"]:
        return "all"
    parts = []
    for p in flow["ports"]:
        span = str(p["from"]) if p["from"] == p["to"] else f"{p['from']}-{p['to']}"
        parts.append(f"{p['protocol']} {span}")
    return ", ".join(parts)


def connectivity(doc: dict[str, Any], include_external: bool = False) -> dict[tuple[str, str], str]:
    """(source name, target name) -> allowed ports as text, for every flow."""
    names = {n["id"]: n["name"] for n in doc["nodes"]}
    types = {n["id"]: n["type"] for n in doc["nodes"]}
    out = {}
    for f in pair_flows(doc):
        if not include_external and "ipblock" in (types[f["source"]], types[f["target"]]):
            continue
        out[(names[f["source"]], names[f["target"]])] = ports_text(f)
    return out
