"""Security-review outputs: findings, "why / why not" answers and diffs, as text, JSON,
CSV, Markdown and SARIF 2.1.0.

The CLI (`check`, `query`, `diff`) and the web pages share these functions:
findings and the review report come from an analysis document, answers from
an `Explanation` of `webapp.core.explain`, diffs from
`webapp.core.diff.diff_documents`. Uploaded strings are escaped by the
helpers of `webapp.outputs` for each format.
"""

from __future__ import annotations

import csv
import difflib
import io
import ipaddress
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from webapp.core.diff import FLOW_CHANGES, external_ports, port_set
from webapp.core.document import cluster_rule_ref, ports_json, rule_ref
from webapp.core.evaluate import Chain
from webapp.core.explain import (
    REASON_TEXT,
    Explanation,
    Reason,
    SideVerdict,
    chain_text,
    find_address,
)
from webapp.core.findings import CHECKS, LEVELS, Level
from webapp.outputs.csv import csv_cell
from webapp.outputs.markdown import denials_section, md, md_table
from webapp.outputs.wording import (
    DENIED_BY_CLUSTER,
    format_chain,
    format_denial,
    format_ports,
    format_rule_ref,
    format_source,
    is_default_allow,
    node_index,
    node_title,
    one_line,
)

if TYPE_CHECKING:
    from webapp.core import Analysis
    from webapp.core.scene import Endpoint

Doc = Mapping[str, Any]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SARIF_LEVEL = {Level.HIGH: "error", Level.MEDIUM: "warning", Level.LOW: "note", Level.INFO: "note"}
FAIL_ON = ("high", "medium", "low")
EXTERNAL = "(external)"


# --- findings and the CI gate -----------------------------------------------------


def severity_rank(severity: str) -> int:
    """0 for high ... 3 for info; unknown severities rank below info."""
    try:
        return Level(severity).rank
    except ValueError:
        return len(LEVELS)


def failing(findings: Iterable[Mapping[str, Any]], fail_on: str) -> list[Mapping[str, Any]]:
    """The findings at or above the `fail_on` severity (high, medium or low)."""
    threshold = severity_rank(fail_on)
    return [f for f in findings if severity_rank(str(f.get("severity"))) <= threshold]


def severity_counts(findings: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    counts = Counter(str(f.get("severity")) for f in findings)
    return {str(level): counts[str(level)] for level in LEVELS}


def _counts_text(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "none"


def findings_text(document: Doc, fail_on: str = "high") -> str:
    """One line per finding, `file:line: severity: rule: message`, then a summary line."""
    findings = list(document.get("findings") or ())
    lines = []
    for f in findings:
        where = format_source(f.get("source")) or "<upload>"
        lines.append(
            f"{one_line(where)}: {one_line(f.get('severity'))}: {one_line(f.get('rule'))}: "
            f"{one_line(f.get('message'))}"
        )
    failed = failing(findings, fail_on)
    lines.append(
        f"{len(findings)} finding{'s' if len(findings) != 1 else ''} "
        f"({_counts_text(severity_counts(findings))}); "
        f"{len(failed)} at or above {fail_on}"
    )
    return "\n".join(lines) + "\n"


def findings_json(document: Doc, fail_on: str = "high") -> dict[str, Any]:
    """The `check --format json` object: findings, counts, threshold and verdict."""
    findings = list(document.get("findings") or ())
    failed = failing(findings, fail_on)
    return {
        "failOn": fail_on,
        "failed": bool(failed),
        "counts": severity_counts(findings),
        "findings": findings,
        "problems": list(document.get("problems") or ()),
    }


def artifact_uri(name: str) -> str:
    """A file name as uploaded, as the URI reference SARIF wants (relative stays relative)."""
    path = name.replace("\\", "/")
    if path.startswith("/"):
        return "file://" + quote(path)
    return quote(path)


def _rule_name(check_id: str) -> str:
    return "".join(part.capitalize() for part in check_id.split("-"))


def sarif_rules() -> list[dict[str, Any]]:
    """`tool.driver.rules`: the finding registry as SARIF reportingDescriptors."""
    return [
        {
            "id": c.id,
            "name": _rule_name(c.id),
            "shortDescription": {"text": c.summary},
            "defaultConfiguration": {"level": SARIF_LEVEL[c.severity]},
            "properties": {"severity": str(c.severity)},
        }
        for c in CHECKS
    ]


class _Anchors:
    """Where results are shown: a finding's own source, else its first policy's or
    node's, else the upload's first policy or workload.

    GitHub code scanning rejects a whole SARIF file when one result has no
    location, and upload-wide notes (the CNI note) concern no single line.
    The indexes are built once, not per finding: a finding per workload is common.
    """

    def __init__(self, document: Doc) -> None:
        self.policies = {
            str(p.get("id")): p
            for p in [*(document.get("policies") or ()), *(document.get("clusterPolicies") or ())]
        }
        self.nodes = node_index(document)
        items = [*self.policies.values(), *self.nodes.values()]
        self.fallback = next((s for s in map(_source_of, items) if s.get("file")), None)

    def of(self, f: Mapping[str, Any]) -> Mapping[str, Any] | None:
        if f.get("source") and f["source"].get("file"):
            return dict(f["source"])
        candidates = [self.policies.get(str(i)) for i in f.get("policies") or ()]
        candidates += [self.nodes.get(str(i)) for i in f.get("nodes") or ()]
        for item in candidates:
            source = _source_of(item)
            if source.get("file"):
                return source
        return self.fallback


def _source_of(item: Mapping[str, Any] | None) -> Mapping[str, Any]:
    source: Mapping[str, Any] = (item or {}).get("source") or {}
    return source


def _sarif_result(
    f: Mapping[str, Any], rule_index: Mapping[str, int], anchors: _Anchors
) -> dict[str, Any]:
    severity = str(f.get("severity"))
    rank = severity_rank(severity)
    level = SARIF_LEVEL[LEVELS[rank]] if rank < len(LEVELS) else "note"
    result: dict[str, Any] = {
        "ruleId": str(f.get("rule")),
        "level": level,
        "message": {"text": str(f.get("message"))},
        "properties": {
            "severity": severity,
            "nodes": list(f.get("nodes") or ()),
            "policies": list(f.get("policies") or ()),
        },
    }
    if f.get("rule") in rule_index:
        result["ruleIndex"] = rule_index[str(f["rule"])]
    source = anchors.of(f)
    if source:
        physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(source["file"])}}
        line = source.get("line")
        if isinstance(line, int) and line >= 1:
            physical["region"] = {"startLine": line}
        result["locations"] = [{"physicalLocation": physical}]
    return result


def findings_sarif(document: Doc, tool_version: str = "") -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: the registry as rules, the findings as results."""
    from webapp import __version__

    rule_index = {c.id: i for i, c in enumerate(CHECKS)}
    anchors = _Anchors(document)
    driver: dict[str, Any] = {
        "name": "netpol-viz",
        "version": tool_version or __version__,
        "rules": sarif_rules(),
    }
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": driver},
                "results": [
                    _sarif_result(f, rule_index, anchors) for f in document.get("findings") or ()
                ],
            }
        ],
    }


def rules_markdown() -> str:
    """The finding registry as a Markdown table (for the README and docs pages)."""
    rows = [(f"`{c.id}`", str(c.severity), c.summary) for c in CHECKS]
    lines = ["| Rule | Severity | What it finds |", "|---|---|---|"]
    lines += [f"| {rule} | {severity} | {summary} |" for rule, severity, summary in rows]
    return "\n".join(lines) + "\n"


# --- Markdown review report ---------------------------------------------------------
#
# The report reads flows between GROUPS (CONTRACT §3 version 2): a flow from G to H
# stands for every pair (a in G, b in H), a != b. Counts per namespace are member
# counts multiplied, so nothing here ever lists node pairs. Documents without groups
# (version 1, `--pairs`) read as groups of one node each.

NAMES_SHOWN = 5
"""Namespaces or nodes named on one end of a flow before "(+N more)"."""
ROWS_SHOWN = 20
"""Flows listed under one namespace pair before "+N more"."""
SECTIONS_SHOWN = 100
"""Namespace pairs listed in "Flows by namespace pair" before "+N more"."""


def _namespace_of(node: Mapping[str, Any] | None) -> str:
    if not node or node.get("type") == "ipblock":
        return EXTERNAL
    return str(node.get("namespace") or "(no namespace)")


def _namespace_key(name: str) -> tuple[bool, str]:
    """Namespaces sort by name, external addresses last."""
    return (name == EXTERNAL, name)


def bounded(items: Sequence[str], limit: int = NAMES_SHOWN) -> str:
    """`a, b, c (+2 more)`: the first `limit` items, and how many are left out."""
    shown = ", ".join(items[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


class Grouping:
    """A document of any version as nodes in groups, each group's members per namespace.

    Version 2 documents list their groups; in version 1 and `--pairs` documents
    flows name nodes, which read as groups of one.
    """

    def __init__(self, document: Doc) -> None:
        self.nodes = node_index(document)
        self.members: dict[str, list[str]] = {
            str(g.get("id")): [str(n) for n in g.get("nodes") or ()]
            for g in document.get("groups") or ()
        }
        self.sizes: Counter[str] = Counter(_namespace_of(n) for n in self.nodes.values())
        """Nodes per namespace (external addresses as one)."""
        self.namespaces = sorted(self.sizes, key=_namespace_key)
        self.tiers = "denials" in document
        """The upload has cluster-wide policies: rules are named through the tiers."""
        self._split: dict[str, dict[str, list[str]]] = {}

    def members_of(self, end: str) -> list[str]:
        return self.members.get(end) or [end]

    def by_namespace(self, end: str) -> dict[str, list[str]]:
        """The members of a flow's end, per namespace, in document order."""
        split = self._split.get(end)
        if split is None:
            split = defaultdict(list)
            for m in self.members_of(end):
                split[_namespace_of(self.nodes.get(m))].append(m)
            self._split[end] = split = dict(split)
        return split

    def is_whole(self, namespace: str, members: Sequence[str]) -> bool:
        return len(members) == self.sizes[namespace]

    def noun(self, members: Iterable[str]) -> str:
        """What the members are: workloads, inferred nodes, or nodes when mixed."""
        types = {str((self.nodes.get(m) or {}).get("type")) for m in members}
        if types == {"workload"}:
            return "workload"
        return "inferred node" if types == {"inferred"} else "node"

    def every(self, namespaces: Sequence[str], members: Sequence[str], other: bool) -> str:
        """`every (other) workload in a, b`: an end that holds whole namespaces."""
        each = "every other" if other else "every"
        if namespaces == [EXTERNAL]:
            return f"{each} external address"
        inside = [ns for ns in namespaces if ns != EXTERNAL]
        noun = self.noun(members)
        if len(inside) == 1:
            where = inside[0]
        elif len(inside) > NAMES_SHOWN and len(inside) == len(self.namespaces) - (
            EXTERNAL in self.sizes
        ):
            where = f"all {len(inside)} namespaces"
        else:
            where = f"namespaces {bounded(inside)}"
        text = f"{each} {noun} in {where}"
        return text + (f" and {each} external address" if EXTERNAL in namespaces else "")

    def some(self, members: Sequence[str]) -> str:
        """Some of a namespace's nodes, named (bounded)."""
        return bounded([node_title(self.nodes.get(m), m) for m in members])


def flow_pairs(flow: Mapping[str, Any], grouping: Grouping) -> int:
    """The node pairs a flow stands for: its `pairs`, or 1 in a version 1 document."""
    pairs = flow.get("pairs")
    if isinstance(pairs, int):
        return pairs
    source, target = str(flow.get("source")), str(flow.get("target"))
    size = len(grouping.members_of(source))
    return size * (len(grouping.members_of(target)) - (source == target))


def denied_pairs(document: Doc) -> int | None:
    """Node pairs that an Admin or Baseline Deny rule drops some ports of (each pair once,
    whatever directions and rules), or None for a document without cluster-wide policies."""
    if "denials" not in document:
        return None
    seen = {(str(d.get("source")), str(d.get("target"))): d for d in document["denials"]}
    return sum(int(d.get("pairs") or 0) for d in seen.values())


def totals(document: Doc) -> dict[str, Any]:
    """The report's summary counts: the document's `summary`, or counted from its parts
    when it has none (documents saved by older versions); `denied` is None without
    cluster-wide policies."""
    summary = document.get("summary") or {}
    nodes = list(document.get("nodes") or ())
    flows = list(document.get("flows") or ())

    def count(key: str, default: Callable[[], int]) -> int:
        value = summary.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else default()

    def pairs() -> int:
        grouping = Grouping(document)
        return sum(flow_pairs(f, grouping) for f in flows)

    workloads = [n for n in nodes if n.get("type") == "workload"]
    return {
        "workloads": count("workloads", lambda: len(workloads)),
        "pods": count("pods", lambda: sum(int(n.get("pods") or 0) for n in workloads)),
        "inferred": count("inferred", lambda: sum(1 for n in nodes if n.get("type") == "inferred")),
        "ipblocks": sum(1 for n in nodes if n.get("type") == "ipblock"),
        "policies": count("policies", lambda: len(document.get("policies") or ())),
        "groups": count("groups", lambda: len(document.get("groups") or ()) or len(nodes)),
        "flows": count("flows", lambda: len(flows)),
        "pairs": count("pairs", pairs),
        "problems": count("problems", lambda: len(document.get("problems") or ())),
        "clusterPolicies": len(document.get("clusterPolicies") or ()),
        "denied": denied_pairs(document),
    }


def share(part: int, whole: int) -> dict[str, Any]:
    """`part` of `whole` with its rounded percentage, as the Markdown report writes it."""
    percent = round(100 * part / whole) if whole else 0
    return {
        "count": part,
        "total": whole,
        "percent": percent,
        "text": f"{part} of {whole} ({percent}%)",
    }


def _isolated(nodes: Iterable[Mapping[str, Any]], direction: str) -> int:
    return sum(1 for n in nodes if (n.get("isolated") or {}).get(direction))


def coverage(document: Doc) -> dict[str, Any]:
    """How many workloads are isolated for ingress, egress and both, overall and per namespace."""
    workloads = [n for n in document.get("nodes") or () if n.get("type") == "workload"]
    total = len(workloads)
    both = sum(
        1
        for n in workloads
        if (n.get("isolated") or {}).get("ingress") and (n.get("isolated") or {}).get("egress")
    )
    by_namespace: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for node in workloads:
        by_namespace[_namespace_of(node)].append(node)
    return {
        "workloads": total,
        "ingress": share(_isolated(workloads, "ingress"), total),
        "egress": share(_isolated(workloads, "egress"), total),
        "both": share(both, total),
        "namespaces": [
            {
                "name": name,
                "workloads": len(nodes),
                "ingress": share(_isolated(nodes, "ingress"), len(nodes)),
                "egress": share(_isolated(nodes, "egress"), len(nodes)),
            }
            for name, nodes in sorted(by_namespace.items())
        ],
    }


def _coverage_section(document: Doc) -> list[str]:
    cov = coverage(document)
    if not cov["workloads"]:
        return ["No workloads uploaded: isolation of real pods cannot be measured."]
    lines = [
        f"- Isolated for ingress: {cov['ingress']['text']}",
        f"- Isolated for egress: {cov['egress']['text']}",
        f"- Isolated in both directions: {cov['both']['text']}",
        "",
    ]
    rows = [
        (ns["name"], ns["workloads"], ns["ingress"]["count"], ns["egress"]["count"])
        for ns in cov["namespaces"]
    ]
    return lines + md_table(("Namespace", "Workloads", "Isolated ingress", "Isolated egress"), rows)


def finding_nodes(f: Mapping[str, Any], nodes: Mapping[str, Mapping[str, Any]]) -> str:
    """The nodes a finding concerns, by name (bounded: a finding may name a whole namespace)."""
    return bounded([node_title(nodes.get(str(n)), str(n)) for n in f.get("nodes") or ()])


def _findings_section(document: Doc) -> list[str]:
    nodes = node_index(document)
    rows = [
        (
            f.get("severity", ""),
            f.get("rule", ""),
            f.get("message", ""),
            format_source(f.get("source")),
            finding_nodes(f, nodes),
        )
        for f in document.get("findings") or ()
    ]
    if not rows:
        return ["No findings."]
    counts = _counts_text(severity_counts(document.get("findings") or ()))
    header = ("Severity", "Rule", "Message", "Where", "Nodes")
    return [f"{len(rows)} findings: {counts}.", "", *md_table(header, rows)]


def _reach(flow: Mapping[str, Any], grouping: Grouping) -> Iterator[dict[str, Any]]:
    """A flow in words, between namespaces: one entry when each end holds whole
    namespaces ("every workload in a, b may reach every workload in c"), else one per
    (source namespace, target namespace) it connects, its ends named."""
    source, target = str(flow.get("source")), str(flow.get("target"))
    same = source == target
    ends = grouping.by_namespace(source), grouping.by_namespace(target)
    if grouping.tiers:  # each direction's rules as one chain through the tiers
        refs = [f"{d}: {format_chain(flow[d])}" for d in ("egress", "ingress") if flow.get(d)]
    else:
        refs = [format_rule_ref(r) for d in ("egress", "ingress") for r in flow.get(d) or ()]
    how = "open by default" if is_default_allow(flow) else "allowed by " + "; ".join(refs)
    ports = "all traffic" if flow.get("allTraffic") else format_ports(flow)

    def entry(
        namespaces: tuple[list[str], list[str]], texts: tuple[str, str], pairs: int, whole: bool
    ) -> dict[str, Any]:
        return {
            "sourceNamespaces": namespaces[0],
            "targetNamespaces": namespaces[1],
            "source": texts[0],
            "target": texts[1],
            "pairs": pairs,
            "ports": format_ports(flow),
            "allowedBy": refs,
            "whole": whole,
            "text": f"{texts[0]} may reach {texts[1]} ({ports}, {how})",
        }

    if all(grouping.is_whole(ns, m) for end in ends for ns, m in end.items()):
        names = [sorted(end, key=_namespace_key) for end in ends]
        members = [grouping.members_of(source), grouping.members_of(target)]
        texts = (
            grouping.every(names[0], members[0], other=False),
            grouping.every(names[1], members[1], other=same),
        )
        yield entry((names[0], names[1]), texts, flow_pairs(flow, grouping), True)
        return
    for s, sources in ends[0].items():
        for t, targets in ends[1].items():
            pairs = len(sources) * (len(targets) - (same and s == t))
            if not pairs:
                continue
            words = [
                grouping.every([ns], part, other)
                if grouping.is_whole(ns, part)
                else "each other"
                if other
                else grouping.some(part)
                for ns, part, other in ((s, sources, False), (t, targets, same and s == t))
            ]
            yield entry(([s], [t]), (words[0], words[1]), pairs, False)


def flow_groups(document: Doc) -> dict[str, Any]:
    """Allowed traffic by namespace pair, from the group flows (no node pairs).

    `sections`, sorted by namespaces, each `source` and `target` (namespace
    names, comma-separated), `pairs` (every node pair allowed between them),
    `flows` (at most ROWS_SHOWN entries, broadest first: `source`, `target`,
    `pairs`, `ports`, `allowedBy`, `whole`, and `text`, the entry as a
    sentence) and `more` ({"flows", "pairs"} left out). At most
    SECTIONS_SHOWN sections; `more` says how many others and their pairs.
    """
    grouping = Grouping(document)
    found: dict[tuple[tuple[str, ...], tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
    for flow in document.get("flows") or ():
        for e in _reach(flow, grouping):
            found[(tuple(e["sourceNamespaces"]), tuple(e["targetNamespaces"]))].append(e)

    def order(key: tuple[tuple[str, ...], tuple[str, ...]]) -> tuple[Any, ...]:
        return tuple(_namespace_key(n) for n in key[0]), tuple(_namespace_key(n) for n in key[1])

    sections = []
    for key in sorted(found, key=order):
        entries = sorted(found[key], key=lambda e: (-e["pairs"], e["source"], e["target"]))
        rest = entries[ROWS_SHOWN:]
        sections.append(
            {
                "source": ", ".join(key[0]),
                "target": ", ".join(key[1]),
                "pairs": sum(e["pairs"] for e in entries),
                "flows": entries[:ROWS_SHOWN],
                "more": {"flows": len(rest), "pairs": sum(e["pairs"] for e in rest)},
            }
        )
    hidden = sections[SECTIONS_SHOWN:]
    return {
        "sections": sections[:SECTIONS_SHOWN],
        "pairs": sum(s["pairs"] for s in sections),
        "more": {"sections": len(hidden), "pairs": sum(s["pairs"] for s in hidden)},
    }


def _more(count: int, what: str, pairs: int) -> str:
    return f"+{count} more {what}{'s' if count != 1 else ''} ({pairs} node pairs)"


def _flows_by_pair(document: Doc) -> list[str]:
    found = flow_groups(document)
    if not found["sections"]:
        return ["No allowed flows."]
    lines: list[str] = []
    for section in found["sections"]:
        flows, more = section["flows"], section["more"]
        lines += ["", f"### {md(section['source'])} → {md(section['target'])} ({section['pairs']})"]
        sentences = [f"- {md(e['text'])}" for e in flows if e["whole"]]
        if sentences:
            lines += ["", *sentences]
        rows = [
            (
                e["source"],
                e["target"],
                e["pairs"],
                e["ports"],
                "; ".join(e["allowedBy"]) or "no policy isolates either side",
            )
            for e in flows
            if not e["whole"]
        ]
        if rows:
            lines += ["", *md_table(("Source", "Target", "Pairs", "Ports", "Allowed by"), rows)]
        if more["flows"]:
            lines += ["", _more(more["flows"], "flow", more["pairs"])]
    if found["more"]["sections"]:
        rest = _more(found["more"]["sections"], "namespace pair", found["more"]["pairs"])
        lines += ["", f"{rest}: see the namespace matrix."]
    return lines[1:]


def namespace_matrix(document: Doc) -> tuple[list[str], dict[tuple[str, str], tuple[int, int]]]:
    """Namespaces (external last) and, per (source, target) namespace, (allowed, possible) pairs.

    Possible pairs are every ordered pair of distinct nodes, less external
    to external (never a flow). Allowed pairs are the group flows' members
    multiplied, per namespace.
    """
    grouping = Grouping(document)
    sizes, names = grouping.sizes, grouping.namespaces
    allowed: Counter[tuple[str, str]] = Counter()
    for f in document.get("flows") or ():
        source, target = str(f.get("source")), str(f.get("target"))
        for s, sources in grouping.by_namespace(source).items():
            for t, targets in grouping.by_namespace(target).items():
                allowed[(s, t)] += len(sources) * (len(targets) - (source == target and s == t))
    cells = {}
    for s in names:
        for t in names:
            self_pairs = sizes[s] if s == t else 0
            possible = 0 if s == t == EXTERNAL else sizes[s] * sizes[t] - self_pairs
            cells[(s, t)] = (allowed[(s, t)], possible)
    return names, cells


def _matrix_section(document: Doc) -> list[str]:
    names, cells = namespace_matrix(document)
    if not names:
        return ["No nodes."]
    rows = []
    for s in names:
        row: list[Any] = [s]
        for t in names:
            n, possible = cells[(s, t)]
            row.append(f"{n}/{possible}" if possible else "")
        rows.append(row)
    legend = (
        "Rows are sources, columns targets; each cell is allowed node pairs out of all "
        "pairs between the two namespaces."
    )
    return [legend, "", *md_table(("from \\ to", *names), rows)]


def review_markdown(document: Doc) -> str:
    """The review report: summary, isolation coverage, findings, flows, namespace matrix."""
    t = totals(document)
    findings = list(document.get("findings") or ())
    problems = list(document.get("problems") or ())
    lines = [
        "# NetworkPolicy security review",
        "",
        "## Summary",
        "",
        f"- Workloads: {t['workloads']} ({t['pods']} pods); inferred nodes: "
        f"{t['inferred']}; external address blocks: {t['ipblocks']}",
        f"- Policies: {t['policies']}"
        + (f"; cluster-wide policies: {t['clusterPolicies']}" if t["denied"] is not None else ""),
        f"- Allowed node pairs: {t['pairs']}, in {t['flows']} flows between "
        f"{t['groups']} groups of nodes that every policy treats alike",
        f"- Findings: {_counts_text(severity_counts(findings))}",
        f"- Problems with the input: {len(problems)}",
    ]
    if t["denied"] is not None:
        lines.insert(-2, f"- Node pairs {DENIED_BY_CLUSTER} (for some ports): {t['denied']}")
    sections = [
        ("Isolation coverage", _coverage_section(document)),
        ("Findings", _findings_section(document)),
        ("Flows by namespace pair", _flows_by_pair(document)),
    ]
    if t["denied"] is not None:
        sections.append(("Denied by Admin or Baseline rules", denials_section(document)))
    sections.append(("Namespace matrix", _matrix_section(document)))
    if problems:
        rows = [(p.get("severity", ""), format_source(p), p.get("message", "")) for p in problems]
        sections.append(("Problems", md_table(("Severity", "Where", "Message"), rows)))
    for title, body in sections:
        lines += ["", f"## {title}", "", *body]
    return "\n".join(lines) + "\n"


# --- why / why not ------------------------------------------------------------------


class UnknownNode(LookupError):
    """A --from/--to that names no node (or several); `candidates` are close names."""

    def __init__(self, text: str, candidates: Sequence[str], ambiguous: bool = False) -> None:
        self.text = text
        self.candidates = tuple(candidates)
        self.ambiguous = ambiguous
        what = "matches several nodes" if ambiguous else "matches no node"
        hint = f"; {'candidates' if ambiguous else 'did you mean'}: " if candidates else ""
        super().__init__(
            f"{one_line(text)!r} {what}{hint}{', '.join(one_line(c) for c in candidates)}"
        )


def _names_of(e: Endpoint) -> list[str]:
    """The spellings that name an endpoint besides its id: NS/NAME, NS/SELECTOR, bare name."""
    names = []
    if e.namespace is not None:
        names.append(f"{e.namespace}/{e.name}")
        if e.selector:
            names.append(f"{e.namespace}/{e.selector}")
    names.append(e.name)
    return names


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def resolve_node(analysis: Analysis, text: str) -> str:
    """The node id that `text` names: an id, `NS/NAME`, an inferred node's name, or an
    IP address or CIDR (the external block holding it).

    Raises UnknownNode with close names when nothing (or more than one node) matches.
    """
    ev = analysis.evaluator
    if text in ev.endpoint:
        return text
    if _is_address(text):
        found = find_address(ev, text)
        if found is not None:
            return found.id
    endpoints = analysis.evaluation.scene.endpoints
    index: dict[str, list[str]] = defaultdict(list)
    for e in endpoints:
        for name in dict.fromkeys(_names_of(e)):
            index[name].append(e.id)
    ids = index.get(text, [])
    if len(ids) == 1:
        return ids[0]
    if ids:
        raise UnknownNode(text, ids, ambiguous=True)
    spellings = list(dict.fromkeys([*(_names_of(e)[0] for e in endpoints), *index]))
    close = difflib.get_close_matches(text, spellings, n=5, cutoff=0.5)
    raise UnknownNode(text, close)


def _node_ref(analysis: Analysis, node_id: str) -> dict[str, Any]:
    e = analysis.evaluator.endpoint[node_id]
    return {
        "id": e.id,
        "type": str(e.type),
        "kind": e.kind,
        "namespace": e.namespace,
        "name": e.name,
    }


def _chain_json(chain: Chain, side: SideVerdict) -> dict[str, Any]:
    """One decision of a side: its outcome, ports, the cluster rules on the way (each with
    tier, action, priority and name) and the NetworkPolicy rules that allow."""
    return {
        "outcome": str(chain.outcome),
        "ports": ports_json(chain.ports),
        "portsText": str(chain.ports),
        "text": chain_text(chain, side.policies),
        "steps": [
            {**cluster_rule_ref(g.policy, g.rule), "ports": ports_json(g.ports)}
            for g in chain.steps
        ],
        "rules": [rule_ref(g.policy, g.rule) for g in chain.grants],
    }


def _side_json(side: SideVerdict, node_id: str, tiers: bool = False) -> dict[str, Any]:
    extra = {"chains": [_chain_json(c, side) for c in side.chains]} if tiers else {}
    return {
        **extra,
        "direction": str(side.direction),
        "node": node_id,
        "isolated": side.isolated,
        "reason": str(side.reason),
        "reasonText": REASON_TEXT[side.reason],
        "policies": list(side.policies),
        "ports": ports_json(side.ports),
        "portsText": str(side.ports),
        "rules": [
            {
                "policy": c.policy,
                "direction": str(c.direction),
                "rule": c.rule,
                "source": {"file": c.file, "line": c.line},
                "reason": str(c.reason),
                "reasonText": REASON_TEXT[c.reason],
                "ports": ports_json(c.ports),
                "portsText": str(c.ports),
                "missingPorts": list(c.missing_ports),
            }
            for c in side.checks
        ],
    }


def explanation_json(explanation: Explanation, analysis: Analysis) -> dict[str, Any]:
    """A why / why not answer as data (the CLI's `query --format json` and the API)."""
    x = explanation
    return {
        "allowed": x.allowed,
        "sentence": x.sentence(),
        "source": _node_ref(analysis, x.source),
        "target": _node_ref(analysis, x.target),
        "protocol": str(x.protocol) if x.protocol is not None else None,
        "port": x.port,
        "ports": ports_json(x.ports),
        "portsText": str(x.ports),
        "egress": _side_json(x.egress, x.source, analysis.evaluator.tiers),
        "ingress": _side_json(x.ingress, x.target, analysis.evaluator.tiers),
        "analysed": x.analysed,
        "self": str(x.self_traffic) if x.self_traffic is not None else None,
        "notes": [{"code": str(n.code), "node": n.node, "text": n.text} for n in x.notes],
    }


def _rule_line(check: Mapping[str, Any]) -> str:
    where = format_source(check["source"])
    rule = "(no rules)" if check["rule"] is None else f"{check['direction']}[{check['rule']}]"
    text = f"{one_line(check['policy'])} {rule}"
    if where:
        text += f" ({one_line(where)})"
    if check["reason"] == Reason.MATCHED:
        return f"allowed by {text}: {check['portsText']}"
    detail = check["reasonText"]
    if check["missingPorts"]:
        detail += f" (missing: {', '.join(one_line(p) for p in check['missingPorts'])})"
    elif check["reason"] == Reason.PORT_NOT_MATCHED:
        detail += f" (it allows {check['portsText']})"
    return f"{text}: {check['reason']}: {detail}"


def _chain_lines(key: str, name: str, side: Mapping[str, Any]) -> list[str]:
    """A side decided through the tiers: each decision with the files and lines of its rules."""
    head = f"{key} of {name}: allows {side['portsText']}"
    if side["isolated"]:
        head += f"; isolated by {', '.join(one_line(p) for p in side['policies'])}"
    lines = [head]
    for c in side["chains"]:
        where = ", ".join(
            w for w in (format_source(r["source"]) for r in c["steps"] + c["rules"]) if w
        )
        text = f"  {c['outcome']}: {one_line(c['text'])} [{c['portsText']}]"
        lines.append(text + (f" ({one_line(where)})" if where else ""))
    if side["isolated"]:
        lines += [f"  {_rule_line(c)}" for c in side["rules"]]
    return lines


def explanation_text(answer: Mapping[str, Any]) -> str:
    """The `query` text output, from the dict `explanation_json` returns."""
    if not answer["analysed"]:
        verdict = "NOT ANALYSED"
    else:
        verdict = "ALLOWED" if answer["allowed"] else "DENIED"
    lines = [f"{verdict}: {one_line(answer['sentence'])}"]
    for key in ("egress", "ingress"):
        side = answer[key]
        node = answer["source" if key == "egress" else "target"]
        name = one_line(node_title(node, node["id"]))
        if side.get("chains"):
            lines += _chain_lines(key, name, side)
            continue
        if not side["isolated"]:
            lines.append(f"{key} of {name}: open: {side['reasonText']}")
            continue
        policies = ", ".join(one_line(p) for p in side["policies"])
        allowed = side["portsText"]
        lines.append(f"{key} of {name}: isolated by {policies}; allows {allowed}")
        lines += [f"  {_rule_line(c)}" for c in side["rules"]]
    ends = {answer["source"]["id"]: answer["source"], answer["target"]["id"]: answer["target"]}
    for note in answer["notes"]:
        node = ends[note["node"]]
        lines.append(f"note: {one_line(node_title(node, node['id']))}: {one_line(note['text'])}")
    return "\n".join(lines) + "\n"


# --- diffs --------------------------------------------------------------------------

NAMESPACES_NAMED = 3
"""A set of nodes spread over more namespaces is said as "N workloads of K namespaces"."""


def namespace_sizes(nodes: Mapping[str, Mapping[str, Any]]) -> Counter[str]:
    """How many in-cluster nodes each namespace has, for `nodes_text`."""
    return Counter(_namespace_of(n) for n in nodes.values() if n.get("type") != "ipblock")


def nodes_text(
    ids: Sequence[str],
    nodes: Mapping[str, Mapping[str, Any]],
    sizes: Mapping[str, int] | None = None,
) -> str:
    """A set of nodes of a diff in a few words: `prod/web`, `12 workloads of shop`,
    `every workload of shop, db (40)`, `5 nodes of 7 namespaces`.

    "every" needs `sizes` (`namespace_sizes` of the nodes of both versions).
    """
    if len(ids) == 1:
        return node_title(nodes.get(ids[0]), ids[0])
    found = [nodes.get(i) or {} for i in ids]
    what = "workload" if all(n.get("type") == "workload" for n in found) else "node"
    spaces = Counter(_namespace_of(n) for n in found)
    where = ", ".join(spaces) if len(spaces) <= NAMESPACES_NAMED else f"{len(spaces)} namespaces"
    if sizes is not None and all(sizes.get(ns) == count for ns, count in spaces.items()):
        return f"every {what} of {where} ({len(ids)})"
    return f"{len(ids)} {what}s of {where}"


def _ports_text(entry: Mapping[str, Any], side: str) -> str:
    """The ports of one side of a diff's flow entry as the other outputs spell them; "" when
    that version has no flow."""
    if not entry[f"{side}Text"]:
        return ""
    ports = entry[side]
    return format_ports({"ports": ports, "allTraffic": port_set({"ports": ports}).is_all})


def _pairs_text(count: int) -> str:
    return f"{count} pair" if count == 1 else f"{count} pairs"


def external_access(diff: Doc, old: Doc, new: Doc) -> list[dict[str, str]]:
    """The `external` entries of a diff, one per address list gained or lost, in words.

    Each has `change` (gained or lost), `node` (its nodes in a few words:
    `nodes_text`), `direction`, `ports` (`TCP 443`), `addresses` (merged
    CIDRs, comma-separated) and `text`: "prod/web gained access to 10.11.0.0/16 on TCP 443".
    """
    nodes = {**node_index(old), **node_index(new)}
    sizes = namespace_sizes(nodes)
    out = []
    for entry in diff.get("external") or ():
        node = nodes_text([str(i) for i in entry["nodes"]], nodes, sizes)
        ports = str(external_ports(entry))
        towards = "to" if entry["direction"] == "egress" else "from"
        for change in ("gained", "lost"):
            if entry[change]:
                addresses = ", ".join(entry[change])
                out.append(
                    {
                        "change": change,
                        "node": node,
                        "direction": str(entry["direction"]),
                        "ports": ports,
                        "addresses": addresses,
                        "text": f"{node} {change} access {towards} {addresses} on {ports}",
                    }
                )
    return out


def flow_changes(diff: Doc, old: Doc, new: Doc) -> list[dict[str, str]]:
    """The flow entries of a diff (added, removed, then changed), in words.

    Each has `change`, `source` and `target` (`nodes_text`), `before` and
    `after` (ports, "" where that version has no flow), `pairs` (how many node
    pairs, as text) and `text`: "12 workloads of shop → 3 workloads of db:
    TCP 3306 added (36 pairs)".
    """
    nodes = {**node_index(old), **node_index(new)}
    sizes = namespace_sizes(nodes)
    out = []
    for kind in FLOW_CHANGES:
        for f in diff["flows"][kind]:
            source = nodes_text([str(i) for i in f["sources"]], nodes, sizes)
            target = nodes_text([str(i) for i in f["targets"]], nodes, sizes)
            before, after = _ports_text(f, "before"), _ports_text(f, "after")
            ports = f"{before} → {after}" if before and after else before or after
            pairs = _pairs_text(int(f["pairs"]))
            out.append(
                {
                    "change": str(f["change"]),
                    "source": source,
                    "target": target,
                    "before": before,
                    "after": after,
                    "pairs": str(f["pairs"]),
                    "text": f"{source} → {target}: {ports} {f['change']} ({pairs})",
                }
            )
    return out


def denial_changes_text(diff: Doc, old: Doc, new: Doc) -> list[dict[str, str]]:
    """The denials a diff gained, then lost, in words: `change`, `source`, `target`
    (`nodes_text`), `direction`, `ports`, `pairs`, `deniedBy` (`format_denial`) and `text`."""
    nodes = {**node_index(old), **node_index(new)}
    sizes = namespace_sizes(nodes)
    found = diff.get("denials") or {}
    out = []
    for change in ("gained", "lost"):
        for d in found.get(change) or ():
            source = nodes_text([str(i) for i in d["sources"]], nodes, sizes)
            target = nodes_text([str(i) for i in d["targets"]], nodes, sizes)
            ports = format_ports({"ports": d["ports"], "allTraffic": port_set(d).is_all})
            denied_by = format_denial(d)
            out.append(
                {
                    "change": change,
                    "source": source,
                    "target": target,
                    "direction": str(d["direction"]),
                    "ports": ports,
                    "pairs": str(d["pairs"]),
                    "deniedBy": denied_by,
                    "text": f"{source} → {target}: {ports} {denied_by} "
                    f"({'now' if change == 'gained' else 'no longer'}; "
                    f"{_pairs_text(int(d['pairs']))})",
                }
            )
    return out


def _tiers_text(tiers: Sequence[str]) -> str:
    return " + ".join(tiers) or "default"


def tier_changes_text(diff: Doc, old: Doc, new: Doc) -> list[dict[str, str]]:
    """Flows whose deciding tier changed, in words: `source`, `target`, `direction`,
    `before` and `after` (`Admin`, `NetworkPolicy + Baseline`, `default`), `pairs`, `text`."""
    nodes = {**node_index(old), **node_index(new)}
    sizes = namespace_sizes(nodes)
    out = []
    for t in diff.get("tiers") or ():
        source = nodes_text([str(i) for i in t["sources"]], nodes, sizes)
        target = nodes_text([str(i) for i in t["targets"]], nodes, sizes)
        before, after = _tiers_text(t["before"]), _tiers_text(t["after"])
        out.append(
            {
                "source": source,
                "target": target,
                "direction": str(t["direction"]),
                "before": before,
                "after": after,
                "pairs": str(t["pairs"]),
                "text": f"{source} → {target}: {t['direction']} decided by {before} → {after} "
                f"({_pairs_text(int(t['pairs']))})",
            }
        )
    return out


Row = tuple[str, str, str, str, str, str, str]


def _diff_rows(diff: Doc, old: Doc, new: Doc) -> list[Row]:
    """(change, item, source, target, before, after, pairs) rows, for every output format."""
    nodes = {**node_index(old), **node_index(new)}

    def name(node_id: Any) -> str:
        return node_title(nodes.get(str(node_id)), str(node_id))

    rows: list[Row] = []
    for n in diff["nodes"]["added"]:
        rows.append(("added", f"node ({n.get('type')})", name(n["id"]), "", "", "", ""))
    for n in diff["nodes"]["removed"]:
        rows.append(("removed", f"node ({n.get('type')})", name(n["id"]), "", "", "", ""))
    for f in flow_changes(diff, old, new):
        rows.append(
            (f["change"], "flow", f["source"], f["target"], f["before"], f["after"], f["pairs"])
        )
    # External access: the workloads on their side of the traffic, the addresses on the other.
    for a in external_access(diff, old, new):
        ends = (a["node"], a["addresses"])
        source, target = ends if a["direction"] == "egress" else ends[::-1]
        before, after = ("", a["ports"]) if a["change"] == "gained" else (a["ports"], "")
        rows.append((a["change"], f"external {a['direction']}", source, target, before, after, ""))
    for d in denial_changes_text(diff, old, new):
        denied = f"{d['ports']} {d['deniedBy']}"
        before, after = ("", denied) if d["change"] == "gained" else (denied, "")
        item = f"denial ({d['direction']})"
        rows.append((d["change"], item, d["source"], d["target"], before, after, d["pairs"]))
    for t in tier_changes_text(diff, old, new):
        item = f"tier ({t['direction']})"
        ends = (t["source"], t["target"])
        rows.append(("changed", item, *ends, t["before"], t["after"], t["pairs"]))
    for kind in ("added", "removed", "changed"):
        rows += [(kind, "policy", str(p), "", "", "", "") for p in diff["policies"][kind]]
    # A finding fixed was there before and is gone after; one introduced, the reverse.
    for f in finding_rows(diff, old, new):
        before, after = (f["text"], "") if f["change"] == "fixed" else ("", f["text"])
        item = f"finding ({f['severity']})"
        rows.append((f["change"], item, f["rule"], f["names"], before, after, ""))
    return rows


FINDING_CHANGES = ("fixed", "introduced")


def finding_rows(diff: Doc, old: Doc, new: Doc) -> list[dict[str, str]]:
    """The findings a diff fixed, then those it introduced, in words.

    Each has `change` (fixed or introduced), `severity`, `rule`, `names` (the
    nodes it names in a few words, `nodes_text`, then "policy ns/name") and `text`
    (its message). Diffs made before findings were compared have none.
    """
    nodes = {**node_index(old), **node_index(new)}
    sizes = namespace_sizes(nodes)
    found = diff.get("findings") or {}
    out = []
    for change in FINDING_CHANGES:
        for f in found.get(change) or ():
            named = [str(i) for i in f.get("nodes") or ()]
            policies = [str(p) for p in f.get("policies") or ()]
            names = [nodes_text(named, nodes, sizes)] if named else []
            if policies:
                noun = "policy" if len(policies) == 1 else "policies"
                names.append(f"{noun} {', '.join(policies)}")
            out.append(
                {
                    "change": change,
                    "severity": str(f.get("severity")),
                    "rule": str(f.get("rule")),
                    "names": "; ".join(names),
                    "text": str(f.get("message")),
                }
            )
    return out


def finding_counts(diff: Doc) -> dict[str, dict[str, int]]:
    """Per change (fixed, introduced), how many findings of each severity."""
    found = diff.get("findings") or {}
    return {change: severity_counts(found.get(change) or ()) for change in FINDING_CHANGES}


DIFF_HEADER = ("change", "item", "source", "target", "before", "after", "pairs")


def _diff_summary(diff: Doc) -> str:
    s = diff["summary"]
    return (
        f"flows: {s['flowsAdded']} added, {s['flowsRemoved']} removed, "
        f"{s['flowsChanged']} changed (node pairs: {s['pairsAdded']} added, "
        f"{s['pairsRemoved']} removed, {s['pairsChanged']} changed); "
        f"external access: {s['externalChanged']} changed; nodes: {s['nodesAdded']} added, "
        f"{s['nodesRemoved']} removed; policies: {s['policiesAdded']} added, "
        f"{s['policiesRemoved']} removed, {s['policiesChanged']} changed"
        + _tiers_summary(diff)
        + _findings_summary(diff)
    )


def _tiers_summary(diff: Doc) -> str:
    s = diff["summary"]
    if not (s.get("denialsGained") or s.get("denialsLost") or s.get("tiersChanged")):
        return ""
    return (
        f"; denials by Admin or Baseline rules: {s['denialsGained']} gained, "
        f"{s['denialsLost']} lost; flows whose deciding tier changed: {s['tiersChanged']}"
    )


def _findings_summary(diff: Doc) -> str:
    if "findings" not in diff:
        return ""
    counts = finding_counts(diff)
    return "; findings: " + ", ".join(
        f"{sum(counts[change].values())} {change} ({_counts_text(counts[change])})"
        for change in FINDING_CHANGES
    )


def _policy_diff_title(entry: Mapping[str, Any]) -> str:
    return f"{entry['policy']} ({entry['change']})"


def _policy_diffs_text(diff: Doc) -> list[str]:
    """Each policy's YAML diff, under a title line; every line as one line of plain text."""
    lines = []
    for entry in diff.get("policyDiffs") or ():
        lines += ["", f"policy {one_line(_policy_diff_title(entry))}"]
        lines += [one_line(line) for line in entry["lines"]]
    return lines


def _fence(lines: Sequence[str]) -> str:
    """A code fence longer than any run of backticks inside (CommonMark ends a fenced
    block only at a fence at least as long as its opening)."""
    longest = max((len(run) for line in lines for run in re.findall("`+", line)), default=0)
    return "`" * max(3, longest + 1)


def diff_text(diff: Doc, old: Doc, new: Doc) -> str:
    if not diff["changed"]:
        return "no change\n"
    lines = []
    for change, item, source, target, before, after, pairs in _diff_rows(diff, old, new):
        what = f"{source} -> {target}" if target else source
        if item.startswith("finding"):  # its rule and message; the message names what it concerns
            what, before, after = f"{source}: {before or after}", "", ""
        ports = ""
        if before and after:
            ports = f": {before} => {after}"
        elif before or after:
            ports = f": {before or after}"
        if pairs:
            ports += f" ({_pairs_text(int(pairs))})"
        lines.append(f"{change:8} {item:16} {one_line(what)}{one_line(ports)}")
    lines.append(_diff_summary(diff))
    lines += _policy_diffs_text(diff)
    return "\n".join(lines) + "\n"


def diff_csv(diff: Doc, old: Doc, new: Doc) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(DIFF_HEADER)
    for row in _diff_rows(diff, old, new):
        writer.writerow([csv_cell(c) for c in row])
    return out.getvalue()


def diff_markdown(diff: Doc, old: Doc, new: Doc) -> str:
    lines = ["# NetworkPolicy diff", "", f"- {_diff_summary(diff)}", ""]
    rows = _diff_rows(diff, old, new)
    if rows:
        header = ("Change", "Item", "Source", "Target", "Before", "After", "Pairs")
        lines += md_table(header, rows)
    else:
        lines.append("No change.")
    diffs = diff.get("policyDiffs") or ()
    if diffs:
        lines += ["", "## Policy YAML"]
    for entry in diffs:
        body = [one_line(line) for line in entry["lines"]]
        fence = _fence(body)
        lines += ["", f"### {md(_policy_diff_title(entry))}", "", fence + "diff", *body, fence]
    return "\n".join(lines) + "\n"
