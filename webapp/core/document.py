"""The analysis document of CONTRACT §3 (version 2): the one place its keys are spelled.

Every output (JSON, CSV, Markdown, DOT, HTML, web pages, API) is built from
the dict this module returns, so they always agree. The TypedDicts below are
the document's shape; readers type-check against them.

Flows connect groups of alike endpoints (webapp.core.groups), so the
document grows with the number of distinct behaviours, not with the square
of the number of nodes. `pair_flows` gives one flow per pair of nodes back,
lazily, from a document of either version.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NotRequired, TypedDict

from webapp.core.evaluate import ClusterGrant, Evaluation, Grant, Verdict
from webapp.core.model import (
    ClusterPolicy,
    ClusterRule,
    Direction,
    NodeType,
    Policy,
    Problem,
    Rule,
    Severity,
    Source,
    Tier,
)
from webapp.core.portset import PortSet
from webapp.core.scene import Endpoint

VERSION = 2


# "from" is a Python keyword: the functional form spells the key as the contract does.
PortRangeJSON = TypedDict("PortRangeJSON", {"protocol": str, "from": int, "to": int})


class SourceJSON(TypedDict):
    file: str
    document: int | None
    line: int | None


class RuleSourceJSON(TypedDict):
    file: str
    line: int | None


class RuleRefJSON(TypedDict):
    policy: str
    """`namespace/name`, or `<kind>/<name>` (ClusterNetworkPolicy/x) for a cluster rule."""
    direction: str
    rule: int
    source: RuleSourceJSON
    tier: NotRequired[str]
    """Cluster rules only: "Admin" or "Baseline"; so are the keys below."""
    action: NotRequired[str]
    """"Accept", "Deny" or "Pass"."""
    priority: NotRequired[int]
    name: NotRequired[str | None]
    """The rule's `name`, or null."""


class IsolationJSON(TypedDict):
    ingress: bool
    egress: bool


class NodePoliciesJSON(TypedDict):
    ingress: list[str]
    egress: list[str]


class ContainerPortJSON(TypedDict):
    name: str | None
    port: int
    protocol: str


class NodeJSON(TypedDict):
    id: str
    type: str
    kind: str | None
    namespace: str | None
    name: str
    labels: dict[str, str]
    cidrs: list[str]
    pods: int | None
    isolated: IsolationJSON
    group: str
    policies: NodePoliciesJSON
    ports: list[ContainerPortJSON]
    hostNetwork: bool
    selector: str | None
    source: SourceJSON | None


class GroupJSON(TypedDict):
    id: str
    nodes: list[str]


class FlowJSON(TypedDict):
    source: str
    target: str
    pairs: int
    ports: list[PortRangeJSON]
    allTraffic: bool
    egress: list[RuleRefJSON]
    ingress: list[RuleRefJSON]
    defaultAllow: bool


class DenialJSON(TypedDict):
    """Ports that an Admin or Baseline Deny rule drops from every node of `source` to every
    other node of `target` (groups as for flows), in one direction."""

    source: str
    target: str
    pairs: int
    ports: list[PortRangeJSON]
    direction: str
    rule: RuleRefJSON
    via: list[RuleRefJSON]
    """The Admin Pass rules that handed these ports to the Baseline Deny ([] when none)."""


class RuleJSON(TypedDict):
    direction: str
    rule: int
    line: int | None
    endLine: int | None
    text: str


class PolicyJSON(TypedDict):
    id: str
    namespace: str
    name: str
    policyTypes: list[str]
    selects: list[str]
    source: SourceJSON | None
    rules: list[RuleJSON]


class ClusterRuleJSON(TypedDict):
    direction: str
    rule: int
    name: str | None
    action: str
    line: int | None
    endLine: int | None
    text: str


class ClusterPolicyJSON(TypedDict):
    """A ClusterNetworkPolicy (or an AdminNetworkPolicy / BaselineAdminNetworkPolicy read into
    the same model): cluster-scoped, so its id is `<kind>/<name>`."""

    id: str
    kind: str
    name: str
    tier: str
    priority: int
    selects: list[str]
    """The node ids its subject selects."""
    source: SourceJSON | None
    rules: list[ClusterRuleJSON]


class FindingJSON(TypedDict):
    rule: str
    severity: str
    message: str
    nodes: list[str]
    policies: list[str]
    source: RuleSourceJSON | None


class ProblemJSON(TypedDict):
    severity: str
    file: str
    document: int | None
    line: int | None
    kind: str | None
    name: str | None
    path: str | None
    message: str


class SummaryJSON(TypedDict):
    workloads: int
    pods: int
    inferred: int
    policies: int
    isolatedIngress: int
    """Nodes that stand for pods (workloads and inferred) isolated for ingress."""
    isolatedEgress: int
    groups: int
    flows: int
    """Flows of the document (between groups)."""
    pairs: int
    """Pairs of nodes that some flow allows: what `--pairs` would list."""
    problems: int


class DocumentJSON(TypedDict):
    version: int
    nodes: list[NodeJSON]
    groups: NotRequired[list[GroupJSON]]
    """Left out with `--pairs`, where flows connect nodes."""
    flows: list[FlowJSON]
    denials: NotRequired[list[DenialJSON]]
    """Only when the upload has cluster-wide policies, so older documents stay as they were."""
    clusterPolicies: NotRequired[list[ClusterPolicyJSON]]
    """The cluster-wide policies, only when the upload has some (as `denials`)."""
    policies: list[PolicyJSON]
    findings: list[FindingJSON]
    problems: list[ProblemJSON]
    notes: list[ProblemJSON]
    summary: SummaryJSON


def ports_json(ports: PortSet) -> list[PortRangeJSON]:
    return [{"protocol": str(p), "from": lo, "to": hi} for p, lo, hi in ports.ranges]


def source_json(source: Source | None) -> SourceJSON | None:
    if source is None:
        return None
    return {"file": source.file, "document": source.document, "line": source.line}


def rule_ref(policy: Policy, rule: Rule) -> RuleRefJSON:
    return {
        "policy": policy.id,
        "direction": str(rule.direction),
        "rule": rule.index,
        "source": {"file": rule.source.file, "line": rule.source.line},
    }


def cluster_rule_ref(policy: ClusterPolicy, rule: ClusterRule) -> RuleRefJSON:
    return {
        "policy": policy.id,
        "direction": str(rule.direction),
        "rule": rule.index,
        "source": {"file": rule.source.file, "line": rule.source.line},
        "tier": str(policy.tier),
        "action": str(rule.action),
        "priority": policy.priority,
        "name": rule.name,
    }


def problem_json(p: Problem) -> ProblemJSON:
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


def _node(e: Endpoint, ev: Evaluation) -> NodeJSON:
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
        "group": ev.grouped.group_of[e.id],
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


def _refs(grants: tuple[Grant, ...]) -> list[RuleRefJSON]:
    return [rule_ref(g.policy, g.rule) for g in grants]


def _tier_refs(v: Verdict, direction: Direction) -> list[RuleRefJSON]:
    """The rules that decided a direction, in tier order: Admin (a Pass hop included),
    NetworkPolicy, Baseline; each once."""
    chains = v.egress_chains if direction is Direction.EGRESS else v.ingress_chains
    if not chains:
        return _refs(v.egress if direction is Direction.EGRESS else v.ingress)
    steps: dict[Tier, dict[tuple[int, int], ClusterGrant]] = {t: {} for t in Tier}
    for c in chains:
        for g in c.steps:
            steps[g.policy.tier].setdefault((id(g.policy), g.rule.index), g)
    grants = v.egress if direction is Direction.EGRESS else v.ingress
    return [
        *(cluster_rule_ref(g.policy, g.rule) for g in steps[Tier.ADMIN].values()),
        *_refs(grants),
        *(cluster_rule_ref(g.policy, g.rule) for g in steps[Tier.BASELINE].values()),
    ]


class _FlowParts:
    """The JSON of each distinct verdict, built once however many flows share it."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[list[PortRangeJSON], list[RuleRefJSON], list[RuleRefJSON]]]
        self._cache = {}

    def flow(self, source: str, target: str, pairs: int, v: Verdict) -> FlowJSON:
        parts = self._cache.get(id(v))
        if parts is None:
            parts = (
                ports_json(v.ports),
                _tier_refs(v, Direction.EGRESS),
                _tier_refs(v, Direction.INGRESS),
            )
            self._cache[id(v)] = parts
        return {
            "source": source,
            "target": target,
            "pairs": pairs,
            "ports": parts[0],
            "allTraffic": v.ports.is_all,
            "egress": parts[1],
            "ingress": parts[2],
            "defaultAllow": v.default_allow,
        }


def group_flows(ev: Evaluation) -> list[FlowJSON]:
    parts = _FlowParts()
    return [parts.flow(f.source, f.target, f.pairs, f.verdict) for f in ev.grouped.flows]


def denials_json(ev: Evaluation) -> list[DenialJSON]:
    return [
        {
            "source": d.source,
            "target": d.target,
            "pairs": d.pairs,
            "ports": ports_json(d.ports),
            "direction": str(d.direction),
            "rule": cluster_rule_ref(d.rule.policy, d.rule.rule),
            "via": [cluster_rule_ref(g.policy, g.rule) for g in d.via],
        }
        for d in ev.grouped.denials
    ]


def node_pair_flows(ev: Evaluation) -> Iterator[FlowJSON]:
    """One flow per pair of nodes (`--pairs`), lazily: memory stays bounded."""
    from webapp.core.groups import expand_pairs

    parts = _FlowParts()
    for f in expand_pairs(ev.grouped):
        yield parts.flow(f.source, f.target, 1, f.verdict)


def pair_flows(doc: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The flows of a document, one per pair of nodes, lazily; for documents of any version.

    A version 2 flow from group G to group H stands for every (a in G, b in H)
    with a != b; version 1 documents (and `--pairs` ones) already list pairs.
    """
    groups = doc.get("groups")
    if not groups:
        yield from doc.get("flows") or ()
        return
    members = {str(g["id"]): [str(n) for n in g["nodes"]] for g in groups}
    for f in doc.get("flows") or ():
        for a in members.get(str(f["source"]), ()):
            for b in members.get(str(f["target"]), ()):
                if a != b:
                    yield {**f, "source": a, "target": b, "pairs": 1}


def _rule_lines(excerpts: dict[str, list[str]], source: Source) -> tuple[int | None, str]:
    """The rule's last line and its text, as the excerpt shows them."""
    text = _excerpt(excerpts, source)
    line = source.line or 0
    return (line + max(len(text) - 1, 0) if text else source.line), "\n".join(text)


def _policy(p: Policy, ev: Evaluation, excerpts: dict[str, list[str]]) -> PolicyJSON:
    rules: list[RuleJSON] = []
    for rule in p.ingress + p.egress:
        end, text = _rule_lines(excerpts, rule.source)
        rules.append(
            {
                "direction": str(rule.direction),
                "rule": rule.index,
                "line": rule.source.line,
                "endLine": end,
                "text": text,
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


def _cluster_policy(
    p: ClusterPolicy, ev: Evaluation, excerpts: dict[str, list[str]]
) -> ClusterPolicyJSON:
    rules: list[ClusterRuleJSON] = []
    for rule in p.ingress + p.egress:
        end, text = _rule_lines(excerpts, rule.source)
        rules.append(
            {
                "direction": str(rule.direction),
                "rule": rule.index,
                "name": rule.name,
                "action": str(rule.action),
                "line": rule.source.line,
                "endLine": end,
                "text": text,
            }
        )
    return {
        "id": p.id,
        "kind": p.kind,
        "name": p.name,
        "tier": str(p.tier),
        "priority": p.priority,
        "selects": list(ev.cluster_selects.get(p.id, ())),
        "source": source_json(p.source),
        "rules": rules,
    }


_EXCERPT_LINES = 60  # enough for any rule a reader wants to see in the panel


def _excerpt(lines_by_file: dict[str, list[str]], source: Source) -> list[str]:
    """The lines of one rule, from its first line to the last one the loader recorded."""
    lines = lines_by_file.get(source.file)
    if not lines or not source.line or source.line > len(lines):
        return []
    end = min(source.end_line or source.line, source.line + _EXCERPT_LINES - 1)
    return lines[source.line - 1 : max(end, source.line)]


def build_document(
    ev: Evaluation,
    policies: tuple[Policy, ...],
    problems: tuple[Problem, ...],
    texts: dict[str, str],
    findings: list[FindingJSON] | None = None,
    cluster_policies: tuple[ClusterPolicy, ...] = (),
) -> DocumentJSON:
    """The analysis document; `texts` maps file names to their text, for rule excerpts."""
    # Only files that hold policies are split into lines (pod exports can be large).
    policy_files = {p.source.file for p in policies} | {p.source.file for p in cluster_policies}
    excerpts = {name: texts[name].split("\n") for name in policy_files if name in texts}
    nodes = [_node(e, ev) for e in ev.scene.endpoints]
    flows = group_flows(ev)
    workloads = [n for n in nodes if n["type"] == "workload"]
    # Isolation is counted over every node that stands for pods, inferred ones too, so a
    # policies-only upload's summary agrees with what its nodes say.
    pod_nodes = [n for n in nodes if n["type"] != "ipblock"]
    reported = [p for p in problems if p.severity is not Severity.INFO]
    doc: DocumentJSON = {
        "version": VERSION,
        "nodes": nodes,
        "groups": [{"id": g.id, "nodes": list(g.members)} for g in ev.grouped.groups],
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
            "isolatedIngress": sum(1 for n in pod_nodes if n["isolated"]["ingress"]),
            "isolatedEgress": sum(1 for n in pod_nodes if n["isolated"]["egress"]),
            "groups": len(ev.grouped.groups),
            "flows": len(flows),
            "pairs": sum(f["pairs"] for f in flows),
            "problems": len(reported),
        },
    }
    if ev.grouped.tiers:
        doc["denials"] = denials_json(ev)
        doc["clusterPolicies"] = [_cluster_policy(p, ev, excerpts) for p in cluster_policies]
    return doc
