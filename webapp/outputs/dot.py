"""The analysis as Graphviz DOT: groups as nodes, namespaces as clusters, one edge per
flow between groups (never one per pair of nodes), and with cluster-wide policies one red
edge per denial by an Admin or Baseline Deny rule.

A group of one node is drawn as that node (its id is the node's); a larger
group as one box naming its members compactly ("every workload of namespace
shop", "shop/a, shop/b +4 more") with their count. Every uploaded string is
kept inside its quoted DOT string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webapp.outputs.wording import (
    Groups,
    format_allowed_by,
    format_cidrs,
    format_denial,
    format_ports,
    is_default_allow,
    node_kind,
    one_line,
    plural,
)

Doc = Mapping[str, Any]



def _dot_escape(value: Any) -> str:
    # Inside a quoted DOT string the lexer reads `\"` as a quote, and labels
    # read `\N`, `\l`, `\n` as well: doubling every backslash and escaping
    # every quote keeps the text literal for both.
    return one_line(value).replace("\\", "\\\\").replace('"', '\\"')


def dot_string(value: Any) -> str:
    """A quoted DOT string holding exactly `value` (on one line)."""
    return f'"{_dot_escape(value)}"'


def _dot_label(*lines: Any) -> str:
    """A multi-line label: each line escaped, then joined by DOT's own `\\n`."""
    parts = [_dot_escape(s) for s in lines if s is not None and s != ""]
    return '"' + "\\n".join(parts) + '"'


def _dot_node(n: Mapping[str, Any]) -> str:
    node_type = n.get("type")
    isolation = _isolation(n)
    attrs: dict[str, str] = {}
    if node_type == "ipblock":
        shown = format_cidrs(n)
        name = n.get("name") or n.get("id")
        label = _dot_label(name, shown if shown != name else "")
        attrs = {"shape": '"ellipse"'}
    else:
        pods = n.get("pods")
        kind = node_kind(n) if node_type == "workload" else "inferred"
        detail = f"{kind}, {pods} pod{'s' if pods != 1 else ''}" if pods is not None else kind
        label = _dot_label(n.get("name") or n.get("id"), detail, isolation)
        attrs = {"shape": '"box"'}
        if node_type == "inferred":
            attrs["style"] = '"dashed"'
    attrs["label"] = label
    body = ", ".join(f"{k}={v}" for k, v in attrs.items())
    return f"{dot_string(n.get('id', ''))} [{body}];"


def _isolation(n: Mapping[str, Any]) -> str:
    isolated = n.get("isolated") or {}
    directions = [d for d in ("ingress", "egress") if isolated.get(d)]
    return "isolated: " + " + ".join(directions) if directions else "not isolated"


def _group_node(group_id: str, groups: Groups) -> str:
    """A group of several nodes: one box with how many, who, and their isolation
    (the same for every member: the same policies select them)."""
    members = groups.of(group_id)
    first = groups.nodes.get(members[0], {})
    external = first.get("type") == "ipblock"
    label = _dot_label(
        plural(len(members), "address block" if external else "node"),
        groups.describe(group_id),
        "" if external else _isolation(first),
    )
    shape = '"ellipse"' if external else '"box3d"'
    return f"{dot_string(group_id)} [shape={shape}, label={label}];"


def _cluster_of(group_id: str, groups: Groups) -> str | None:
    """The namespace every member is in, if any (address blocks are outside)."""
    namespaces = set()
    for m in groups.of(group_id):
        n = groups.nodes.get(m, {})
        if n.get("type") == "ipblock" or not n.get("namespace"):
            return None
        namespaces.add(str(n["namespace"]))
    return namespaces.pop() if len(namespaces) == 1 else None


def _edge(item: Mapping[str, Any], label: str, style: str, doc: Doc) -> str:
    pairs = item.get("pairs")
    if pairs is not None and pairs != 1 and doc.get("groups"):
        label += f" ({pairs:,} pairs)"
    return (
        f"  {dot_string(item.get('source', ''))} -> {dot_string(item.get('target', ''))}"
        f" [label={dot_string(label)}{style}];"
    )


def to_dot(doc: Doc) -> str:
    """`digraph netpol`: a cluster per namespace, external blocks and groups that span
    namespaces outside, one labelled edge per flow between groups."""
    groups = Groups(doc)
    lines = [
        "digraph netpol {",
        '  graph [rankdir="LR", fontname="Helvetica"];',
        '  node [fontname="Helvetica", fontsize="10"];',
        '  edge [fontname="Helvetica", fontsize="9"];',
    ]
    by_namespace: dict[str, list[str]] = {}
    outside = []
    for group_id, members in groups.members.items():
        if len(members) == 1 and members[0] in groups.nodes:
            statement = _dot_node(groups.nodes[members[0]])
        else:
            statement = _group_node(group_id, groups)
        namespace = _cluster_of(group_id, groups)
        if namespace is None:
            outside.append(statement)
        else:
            by_namespace.setdefault(namespace, []).append(statement)
    for namespace, statements in by_namespace.items():
        lines.append(f"  subgraph {dot_string('cluster_' + namespace)} {{")
        lines.append(f"    label={dot_string(namespace)};")
        lines += [f"    {s}" for s in statements]
        lines.append("  }")
    lines += [f"  {s}" for s in outside]
    tiers = "denials" in doc
    for f in doc.get("flows") or ():
        style = ', style="dashed"' if is_default_allow(f) else ""
        if tiers and (why := format_allowed_by(f, tiers)):
            style += f", tooltip={dot_string(why)}"
        lines.append(_edge(f, format_ports(f), style, doc))
    # A denial by an Admin or Baseline rule is an edge of its own kind: red, its rule in
    # the label's first words and in full in the tooltip.
    for d in doc.get("denials") or ():
        rule = d.get("rule") or {}
        label = f"{rule.get('tier', '')} {rule.get('action', '')}: " + format_ports(
            {"ports": d.get("ports") or ()}
        )
        style = f', color="red", fontcolor="red", tooltip={dot_string(format_denial(d))}'
        lines.append(_edge(d, label, style, doc))
    lines.append("}")
    return "\n".join(lines) + "\n"
