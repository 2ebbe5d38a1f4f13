"""The analysis as a readable Markdown report: summary, nodes, flows between groups
with the rules that allow them, policies, findings, problems.

Flows are listed per group ("every workload of namespace shop", "a/x, a/y +4
more") with the pairs of nodes each stands for, so the report grows with the
number of behaviours, not with the square of the number of workloads.
Uploaded text renders as exactly itself: no HTML, links or table breaks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from webapp.outputs.wording import (
    DENIED_BY_CLUSTER,
    NOT_ALLOWED,
    Groups,
    denial_rows,
    format_allowed_by,
    format_cidrs,
    format_ports,
    format_source,
    is_default_allow,
    node_index,
    node_kind,
    node_title,
    one_line,
)

Doc = Mapping[str, Any]
MARKDOWN_SPECIALS = frozenset("\\`*_[]<>#|&~!@")
SEVERITY_ORDER = ("high", "medium", "low", "info", "error", "warning")



def md(value: Any) -> str:
    """Inline Markdown text that renders as exactly `value`: no HTML, links or table breaks.

    Besides Markdown's own syntax, `@`, the colon of `://` and the dot of `www.`
    are escaped, because GitHub turns `https://…`, `www.…` and `@user` into
    links or mentions on its own. (An e-mail address can still become a
    `mailto:` link: GitHub's autolinker looks through escapes there, and no
    escape stops it; such a link opens no page and runs nothing.)
    """
    text = one_line(value)
    out = []
    for i, ch in enumerate(text):
        if (
            ch in MARKDOWN_SPECIALS
            or (ch == ":" and text[i + 1 : i + 2] == "/")
            or (ch == "." and text[max(0, i - 3) : i].lower() == "www")
        ):
            out.append("\\")
        out.append(ch)
    return "".join(out)


def md_table(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> list[str]:
    """A GitHub table; headers and cells go through `md`, so no uploaded string (a
    namespace name in a matrix header, a label in a cell) can add a column or HTML.
    Empty cells show as "—"."""
    head = list(header)
    lines = ["| " + " | ".join(md(h) for h in head) + " |", "|" + "---|" * len(head)]
    lines += [
        "| " + " | ".join(md(c) if c not in ("", None) else "—" for c in row) + " |"
        for row in rows
    ]
    return lines


def _yes_no(value: Any) -> str:
    return "yes" if value else "no"


def _where(item: Mapping[str, Any]) -> str:
    """`file:line (document 2)` for a Problem-shaped dict."""
    where = format_source(item)
    if item.get("document") is not None:
        where = f"{where} (document {item['document']})".strip()
    return where


def _summary_lines(doc: Doc) -> list[str]:
    nodes = list(doc.get("nodes") or ())
    workloads = [n for n in nodes if n.get("type") == "workload"]
    types = Counter(n.get("type") for n in nodes)
    findings = Counter(str(f.get("severity", "")) for f in doc.get("findings") or ())
    problems = Counter(str(p.get("severity", "")) for p in doc.get("problems") or ())

    def by_severity(counts: Counter[str]) -> str:
        ordered = sorted(counts, key=lambda s: (*SEVERITY_ORDER, s).index(s))
        return ", ".join(f"{counts[s]} {md(s)}" for s in ordered) or "none"

    cluster = (
        [
            f"- Cluster-wide policies: {len(doc.get('clusterPolicies') or ())}",
            f"- Denials by Admin or Baseline rules: {len(doc.get('denials') or ())}",
        ]
        if "denials" in doc
        else []
    )
    return [
        f"- Workloads: {len(workloads)} "
        f"({sum(int(n.get('pods') or 0) for n in workloads)} pods)",
        f"- External address blocks: {types['ipblock']}",
        f"- Inferred (pods no uploaded object describes): {types['inferred']}",
        f"- Policies: {len(doc.get('policies') or ())}",
        f"- Workloads isolated for ingress: "
        f"{sum(1 for n in workloads if (n.get('isolated') or {}).get('ingress'))}"
        f" of {len(workloads)}",
        f"- Workloads isolated for egress: "
        f"{sum(1 for n in workloads if (n.get('isolated') or {}).get('egress'))}"
        f" of {len(workloads)}",
        f"- Allowed flows: {_flows_summary(doc)}",
        *cluster,
        f"- Findings: {by_severity(findings)}",
        f"- Problems: {by_severity(problems)}",
    ]


def _nodes_section(doc: Doc) -> list[str]:
    rows = []
    for n in doc.get("nodes") or ():
        isolated = n.get("isolated") or {}
        kind = node_kind(n)
        if n.get("type") == "ipblock" and n.get("cidrs"):
            kind = f"{kind}: {format_cidrs(n)}"
        rows.append((
            n.get("name") or n.get("id") or "",
            n.get("namespace") or "",
            kind,
            "" if n.get("pods") is None else n.get("pods"),
            _yes_no(isolated.get("ingress")),
            _yes_no(isolated.get("egress")),
        ))
    header = ("Name", "Namespace", "Kind / type", "Pods", "Isolated ingress", "Isolated egress")
    return md_table(header, rows) if rows else ["No nodes."]


def _flows_summary(doc: Doc) -> str:
    """`3`, or `4 between 3 groups (3,998,000 pairs of nodes)` when flows join groups."""
    flows = list(doc.get("flows") or ())
    if not doc.get("groups"):
        return str(len(flows))
    pairs = sum(int(f.get("pairs") or 0) for f in flows)
    groups = len(doc.get("groups") or ())
    return f"{len(flows)} between {groups} groups ({pairs:,} pairs of nodes)"


def _flows_section(doc: Doc) -> list[str]:
    groups = Groups(doc)
    tiers = "denials" in doc
    rows = []
    for f in doc.get("flows") or ():
        source, target = str(f.get("source", "")), str(f.get("target", ""))
        allowed_by = format_allowed_by(f, tiers) or (
            "no policy isolates either side (Kubernetes default)" if is_default_allow(f) else ""
        )
        pairs = f.get("pairs")
        rows.append((
            groups.describe(source),
            groups.describe(target),
            f"{1 if pairs is None else pairs:,}",
            format_ports(f),
            allowed_by,
        ))
    header = ("Source", "Target", "Pairs", "Ports", "Allowed by")
    return md_table(header, rows) if rows else ["No allowed flows."]


def denials_section(doc: Doc) -> list[str]:
    """The ports an Admin or Baseline Deny rule drops: apart from pairs that are merely not
    allowed by any NetworkPolicy (those are in neither table)."""
    rows = [
        (r["source"], r["target"], f"{r['pairs']:,}", r["ports"], r["direction"], r["deniedBy"])
        for r in denial_rows(doc)
    ]
    if not rows:
        return [f"No traffic is {DENIED_BY_CLUSTER}."]
    intro = (
        f"Traffic {DENIED_BY_CLUSTER}; a pair in neither this table nor the flows is "
        f"{NOT_ALLOWED}."
    )
    header = ("Source", "Target", "Pairs", "Ports", "Direction", "Denied by")
    return [intro, "", *md_table(header, rows)]


def _cluster_policies_section(doc: Doc) -> list[str]:
    nodes = node_index(doc)
    rows = [
        (
            p.get("id", ""),
            p.get("tier", ""),
            p.get("priority", ""),
            ", ".join(node_title(nodes.get(str(s)), str(s)) for s in p.get("selects") or ())
            or "nothing",
            "; ".join(
                f"{r.get('direction')}[{r.get('rule')}]"
                + (f" '{r['name']}'" if r.get("name") else "")
                + f" {r.get('action')}"
                for r in p.get("rules") or ()
            ),
            format_source(p.get("source")),
        )
        for p in doc.get("clusterPolicies") or ()
    ]
    header = ("Policy", "Tier", "Priority", "Subject", "Rules", "Source")
    return md_table(header, rows) if rows else ["No cluster-wide policies."]


def _policies_section(doc: Doc) -> list[str]:
    nodes = node_index(doc)
    rows = [
        (
            p.get("id") or f"{p.get('namespace', '')}/{p.get('name', '')}",
            ", ".join(str(t) for t in p.get("policyTypes") or ()),
            ", ".join(node_title(nodes.get(str(s)), str(s)) for s in p.get("selects") or ())
            or "nothing",
            format_source(p.get("source")),
        )
        for p in doc.get("policies") or ()
    ]
    header = ("Policy", "Types", "Selects", "Source")
    return md_table(header, rows) if rows else ["No policies."]


def _findings_section(doc: Doc) -> list[str]:
    nodes = node_index(doc)
    rows = [
        (
            f.get("severity", ""),
            f.get("rule", ""),
            f.get("message", ""),
            ", ".join(node_title(nodes.get(str(n)), str(n)) for n in f.get("nodes") or ()),
            ", ".join(str(p) for p in f.get("policies") or ()),
        )
        for f in doc.get("findings") or ()
    ]
    header = ("Severity", "Rule", "Message", "Nodes", "Policies")
    return md_table(header, rows) if rows else ["No findings."]


def _problem_rows(items: Iterable[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (
            p.get("severity", ""),
            _where(p),
            f"{p.get('kind')}/{p.get('name')}" if p.get("kind") and p.get("name")
            else p.get("kind") or p.get("name") or "",
            p.get("path") or "",
            p.get("message", ""),
        )
        for p in items
    ]


PROBLEM_HEADER = ("Severity", "Where", "Object", "Field", "Message")


def to_markdown(doc: Doc) -> str:
    """A readable report: summary, nodes, flows, policies, findings, problems (and notes)."""
    lines = ["# NetworkPolicy analysis", "", *_summary_lines(doc)]
    sections = [("Nodes", _nodes_section(doc)), ("Allowed flows", _flows_section(doc))]
    if "denials" in doc:
        sections.append(("Denied by Admin or Baseline rules", denials_section(doc)))
    sections.append(("Policies", _policies_section(doc)))
    if "clusterPolicies" in doc:
        sections.append(("Cluster-wide policies", _cluster_policies_section(doc)))
    sections.append(("Findings", _findings_section(doc)))
    problems = _problem_rows(doc.get("problems") or ())
    sections.append(
        ("Problems", md_table(PROBLEM_HEADER, problems) if problems else ["No problems."])
    )
    notes = _problem_rows(doc.get("notes") or ())
    if notes:
        sections.append(("Notes", md_table(PROBLEM_HEADER, notes)))
    for title, body in sections:
        lines += ["", f"## {title}", "", *body]
    return "\n".join(lines) + "\n"


