"""The analysis document of CONTRACT §3: the one place its keys are spelled.

Every output (JSON, CSV, Markdown, DOT, HTML, web pages, API) is built from
the dict this module returns, so they always agree.
"""

from __future__ import annotations

from typing import Any

from webapp.core.evaluate import Evaluation, Grant, Verdict
from webapp.core.model import Direction, NodeType, Policy, Problem, Rule, Severity, Source
from webapp.core.portset import PortSet
from webapp.core.scene import Endpoint

VERSION = 1


def ports_json(ports: PortSet) -> list[dict[str, Any]]:
    return [{"protocol": str(p), "from": lo, "to": hi} for p, lo, hi in ports.ranges]


def source_json(source: Source | None) -> dict[str, Any] | None:
    if source is None:
        return None
    return {"file": source.file, "document": source.document, "line": source.line}


def rule_ref(policy: Policy, rule: Rule) -> dict[str, Any]:
    return {
        "policy": policy.id,
        "direction": str(rule.direction),
        "rule": rule.index,
        "source": {"file": rule.source.file, "line": rule.source.line},
    }


def problem_json(p: Problem) -> dict[str, Any]:
    return {
        "severity": str(p.severity),
        "file": p.file,
        "document": p.document,
        "line": p.line,
        "kind": p.kind,
        "name": p.name,
        "path": p.path,
        "message": p.message,
    }


def _node(e: Endpoint, ev: Evaluation) -> dict[str, Any]:
    iso = ev.isolation[e.id]
    return {
        "id": e.id,
        "type": str(e.type),
        "kind": e.kind,
        "namespace": e.namespace,
        "name": e.name,
        "labels": dict(e.labels),
        "cidrs": list(e.cidrs),
        "pods": e.pods if e.type is NodeType.WORKLOAD else None,
        "isolated": {
            "ingress": bool(iso[Direction.INGRESS]),
            "egress": bool(iso[Direction.EGRESS]),
        },
        "policies": {
            "ingress": [p.id for p in iso[Direction.INGRESS]],
            "egress": [p.id for p in iso[Direction.EGRESS]],
        },
        "ports": [
            {"name": cp.name, "port": cp.port, "protocol": str(cp.protocol)} for cp in e.ports
        ],
        "hostNetwork": e.host_network,
        "selector": e.selector,
        "source": source_json(e.source),
    }


def _refs(grants: tuple[Grant, ...]) -> list[dict[str, Any]]:
    return [rule_ref(g.policy, g.rule) for g in grants]


def _policy(
    p: Policy, ev: Evaluation, excerpts: dict[str, list[str]]
) -> dict[str, Any]:
    rules = []
    for rule in p.ingress + p.egress:
        text = _excerpt(excerpts, rule.source)
        line = rule.source.line or 0
        rules.append(
            {
                "direction": str(rule.direction),
                "rule": rule.index,
                "line": rule.source.line,
                "endLine": line + max(len(text) - 1, 0) if text else rule.source.line,
                "text": "\n".join(text),
            }
        )
    return {
        "id": p.id,
        "namespace": p.namespace,
        "name": p.name,
        "policyTypes": [
            d.policy_type for d in (Direction.INGRESS, Direction.EGRESS) if d in p.policy_types
        ],
        "selects": list(ev.selects[p.id]),
        "source": source_json(p.source),
        "rules": rules,
    }


def _excerpt(lines_by_file: dict[str, list[str]], source: Source) -> list[str]:
    """The lines of one sequence item: from its dash to the last line indented deeper."""
    lines = lines_by_file.get(source.file)
    if not lines or not source.line or source.line > len(lines):
        return []
    first = lines[source.line - 1]
    indent = len(first) - len(first.lstrip(" "))
    out = [first]
    for line in lines[source.line :]:
        stripped = line.strip()
        depth = len(line) - len(line.lstrip(" "))
        if stripped and depth <= indent:
            if stripped[0] in "}]" and depth == indent:
                out.append(line)
            break
        out.append(line)
        if len(out) >= 60:
            break
    while out and (not out[-1].strip() or out[-1].strip().startswith("#")):
        out.pop()
    return out


def build_document(
    ev: Evaluation,
    policies: tuple[Policy, ...],
    problems: tuple[Problem, ...],
    texts: dict[str, str],
    findings: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The analysis document; `texts` maps file names to their text, for rule excerpts."""
    # Only files that hold policies are split into lines (pod exports can be large).
    policy_files = {p.source.file for p in policies}
    excerpts = {name: texts[name].split("\n") for name in policy_files if name in texts}
    nodes = [_node(e, ev) for e in ev.scene.endpoints]
    cache: dict[int, tuple[list[Any], list[Any], list[Any]]] = {}
    flows = []
    for f in ev.flows:
        v: Verdict = f.verdict
        parts = cache.get(id(v))
        if parts is None:
            parts = (ports_json(v.ports), _refs(v.egress), _refs(v.ingress))
            cache[id(v)] = parts
        flows.append(
            {
                "source": f.source,
                "target": f.target,
                "ports": parts[0],
                "allTraffic": v.ports.is_all,
                "egress": parts[1],
                "ingress": parts[2],
                "defaultAllow": v.default_allow,
            }
        )
    workloads = [n for n in nodes if n["type"] == "workload"]
    reported = [p for p in problems if p.severity is not Severity.INFO]
    return {
        "version": VERSION,
        "nodes": nodes,
        "flows": flows,
        "policies": [_policy(p, ev, excerpts) for p in policies],
        "findings": findings or [],
        "problems": [problem_json(p) for p in reported],
        "notes": [problem_json(p) for p in problems if p.severity is Severity.INFO],
        "summary": {
            "workloads": len(workloads),
            "pods": sum(n["pods"] or 0 for n in workloads),
            "inferred": sum(1 for n in nodes if n["type"] == "inferred"),
            "policies": len(policies),
            "isolatedIngress": sum(1 for n in workloads if n["isolated"]["ingress"]),
            "isolatedEgress": sum(1 for n in workloads if n["isolated"]["egress"]),
            "flows": len(flows),
            "problems": len(reported),
        },
    }
