"""Text exports of the analysis document: JSON, CSV, Markdown and Graphviz DOT.

Every function takes the document of CONTRACT §3 (a plain dict, as
`webapp.core.document.build_document` returns it or as stored) and nothing
else, so every export says what the diagram and the API say.

Uploaded strings (names, labels, file names, messages) are data: each
format escapes its own syntax, so a name cannot start a spreadsheet
formula, break a Markdown table, inject HTML, or leave a DOT string. Control
and invisible formatting characters (bidi overrides, zero-width marks) are
shown as `\\uXXXX` so they cannot reorder or hide text in a reviewer's viewer.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from json.encoder import encode_basestring
from typing import Any

from webapp.core.text import is_hidden

Doc = Mapping[str, Any]

CSV_HEADER = (
    "source", "source_namespace", "source_name",
    "target", "target_namespace", "target_name",
    "ports", "all_traffic", "egress_rules", "ingress_rules",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LINE_BREAKS = ("\r\n", "\r", "\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
MARKDOWN_SPECIALS = frozenset("\\`*_[]<>#|&~!@")
SEVERITY_ORDER = ("high", "medium", "low", "info", "error", "warning")
CIDRS_SHOWN = 4


# --- shared wording ------------------------------------------------------------


def visible(text: Any, keep: str = "") -> str:
    """`text` as a string with control and format characters spelled out (`\\u202e`).

    Characters in `keep` are left alone (CSV keeps tabs and line breaks, which
    its quoting handles).
    """
    string = "" if text is None else str(text)
    if string.isprintable():  # the common case: no C* or Z* character but plain spaces
        return string
    out = []
    for ch in string:
        if ch in keep or not is_hidden(ch):
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}")
    return "".join(out)


def one_line(text: Any) -> str:
    """`text` on one line: every kind of line break becomes a space, then `visible`."""
    text = "" if text is None else str(text)
    for brk in LINE_BREAKS:
        text = text.replace(brk, " ")
    return visible(text, keep="\t").replace("\t", " ")


def format_ports(flow: Mapping[str, Any]) -> str:
    """`TCP 3306; UDP 53; TCP 8000-8080`, or `all` when nothing restricts the flow."""
    if flow.get("allTraffic"):
        return "all"
    parts = []
    for p in flow.get("ports") or ():
        lo, hi = p.get("from"), p.get("to")
        span = f"{lo}" if lo == hi or hi is None else f"{lo}-{hi}"
        parts.append(f"{p.get('protocol', '')} {span}")
    return "; ".join(parts)


def format_source(source: Mapping[str, Any] | None) -> str:
    """`file:line`, `file`, or empty when nothing is known."""
    if not source or not source.get("file"):
        return ""
    line = source.get("line")
    return f"{source['file']}:{line}" if line else str(source["file"])


def format_rule_ref(ref: Mapping[str, Any]) -> str:
    """`ns/policy ingress[0] (file:line)`: the RuleRef of CONTRACT §3 in one phrase."""
    text = f"{ref.get('policy', '')} {ref.get('direction', '')}[{ref.get('rule', '')}]"
    where = format_source(ref.get("source"))
    return f"{text} ({where})" if where else text


def format_cidrs(node: Mapping[str, Any], limit: int = CIDRS_SHOWN) -> str:
    """An ipblock's first CIDRs, `(+N more)` for the rest: its name already sums them up."""
    cidrs = [str(c) for c in node.get("cidrs") or ()]
    shown = ", ".join(cidrs[:limit])
    return shown + (f" (+{len(cidrs) - limit} more)" if len(cidrs) > limit else "")


def node_index(doc: Doc) -> dict[str, Mapping[str, Any]]:
    return {str(n.get("id")): n for n in doc.get("nodes") or ()}


def node_title(node: Mapping[str, Any] | None, fallback: str = "") -> str:
    """`namespace/name`, or the bare name for nodes outside namespaces.

    An inferred node's name already starts with its namespace (`default: name=mysql`).
    """
    if not node:
        return fallback
    if node.get("type") == "inferred" and node.get("name"):
        return str(node["name"])
    name = str(node.get("name") or node.get("id") or fallback)
    namespace = node.get("namespace")
    return f"{namespace}/{name}" if namespace else name


def node_kind(node: Mapping[str, Any]) -> str:
    if node.get("type") == "workload":
        return str(node.get("kind") or "workload")
    return str(node.get("type") or "")


def is_default_allow(flow: Mapping[str, Any]) -> bool:
    """Allowed only because neither side is isolated (no rule to name)."""
    if "defaultAllow" in flow:
        return bool(flow["defaultAllow"])
    return not flow.get("egress") and not flow.get("ingress")


# --- JSON ------------------------------------------------------------------------


def to_json(doc: Doc) -> str:
    """`json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False)` plus a newline.

    The standard library drops to its pure-Python encoder whenever `indent`
    is set, which costs a noticeable share of the benchmark's time budget
    (bench/run.py) on large clusters; `_indented` writes the same bytes about
    twice as fast (a test compares the two on arbitrary JSON values).
    """
    out: list[str] = []
    _indented(doc, "", out)
    out.append("\n")
    return "".join(out)


def _json_key(key: Any) -> str:
    """Object keys as json.dumps turns them into strings."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool | int | float):
        return json.dumps(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _indented(value: Any, pad: str, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(encode_basestring(value))
    elif isinstance(value, Mapping):
        if not value:
            out.append("{}")
            return
        inner = pad + "  "
        separator = "{\n" + inner
        for key, item in value.items():
            out.append(separator)
            out.append(encode_basestring(_json_key(key)))
            out.append(": ")
            _indented(item, inner, out)
            separator = ",\n" + inner
        out.append("\n" + pad + "}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        inner = pad + "  "
        separator = "[\n" + inner
        for item in value:
            out.append(separator)
            _indented(item, inner, out)
            separator = ",\n" + inner
        out.append("\n" + pad + "]")
    else:  # numbers, booleans, null: the standard library's spelling (and its TypeError)
        out.append(json.dumps(value))


# --- CSV -------------------------------------------------------------------------


def csv_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: formula starts get a leading `'`."""
    text = visible(value, keep="\t\r\n")
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(doc: Doc) -> str:
    """One row per flow, with the CSV_HEADER columns."""
    nodes = node_index(doc)
    out = io.StringIO()
    # RFC 4180 line ends; with "\r\n" as terminator the writer also quotes any
    # cell holding a bare "\r", which spreadsheets would take as a row break.
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for flow in doc.get("flows") or ():
        source, target = str(flow.get("source", "")), str(flow.get("target", ""))
        src, dst = nodes.get(source, {}), nodes.get(target, {})
        row = (
            source, src.get("namespace") or "", src.get("name") or "",
            target, dst.get("namespace") or "", dst.get("name") or "",
            format_ports(flow),
            "true" if flow.get("allTraffic") else "false",
            "; ".join(format_rule_ref(r) for r in flow.get("egress") or ()),
            "; ".join(format_rule_ref(r) for r in flow.get("ingress") or ()),
        )
        writer.writerow([csv_cell(cell) for cell in row])
    return out.getvalue()


# --- Markdown --------------------------------------------------------------------


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
        f"- Allowed flows: {len(doc.get('flows') or ())}",
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


def _flows_section(doc: Doc) -> list[str]:
    nodes = node_index(doc)
    rows = []
    for f in doc.get("flows") or ():
        source, target = str(f.get("source", "")), str(f.get("target", ""))
        refs = [format_rule_ref(r) for r in (f.get("egress") or []) + (f.get("ingress") or [])]
        allowed_by = "; ".join(refs) or (
            "no policy isolates either side (Kubernetes default)" if is_default_allow(f) else ""
        )
        rows.append((
            node_title(nodes.get(source), source),
            node_title(nodes.get(target), target),
            format_ports(f),
            allowed_by,
        ))
    header = ("Source", "Target", "Ports", "Allowed by")
    return md_table(header, rows) if rows else ["No allowed flows."]


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
    sections = [
        ("Nodes", _nodes_section(doc)),
        ("Allowed flows", _flows_section(doc)),
        ("Policies", _policies_section(doc)),
        ("Findings", _findings_section(doc)),
    ]
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


# --- Graphviz DOT ----------------------------------------------------------------


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
    isolated = n.get("isolated") or {}
    directions = [d for d in ("ingress", "egress") if isolated.get(d)]
    isolation = "isolated: " + " + ".join(directions) if directions else "not isolated"
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


def to_dot(doc: Doc) -> str:
    """`digraph netpol`: one cluster per namespace, external blocks outside, labelled edges."""
    lines = [
        "digraph netpol {",
        '  graph [rankdir="LR", fontname="Helvetica"];',
        '  node [fontname="Helvetica", fontsize="10"];',
        '  edge [fontname="Helvetica", fontsize="9"];',
    ]
    by_namespace: dict[str, list[Mapping[str, Any]]] = {}
    outside = []
    for n in doc.get("nodes") or ():
        namespace = n.get("namespace")
        if n.get("type") != "ipblock" and namespace:
            by_namespace.setdefault(str(namespace), []).append(n)
        else:
            outside.append(n)
    for namespace, members in by_namespace.items():
        lines.append(f"  subgraph {dot_string('cluster_' + namespace)} {{")
        lines.append(f"    label={dot_string(namespace)};")
        lines += [f"    {_dot_node(n)}" for n in members]
        lines.append("  }")
    lines += [f"  {_dot_node(n)}" for n in outside]
    for f in doc.get("flows") or ():
        style = ', style="dashed"' if is_default_allow(f) else ""
        lines.append(
            f"  {dot_string(f.get('source', ''))} -> {dot_string(f.get('target', ''))}"
            f" [label={dot_string(format_ports(f))}{style}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"
