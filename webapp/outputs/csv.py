"""The flows as CSV (RFC 4180 line ends): one row per flow between groups, or with
`--pairs` one row per pair of nodes, streamed.

With cluster-wide policies the rule cells name the deciding rules through the
tiers (webapp.outputs.wording.format_rules), a last column `verdict` says
`allowed` or `denied`, and each denial of the document (ports an Admin or
Baseline Deny rule drops) is a row of its own after the flows, its rule in the
cell of its direction. `--pairs` lists the allowed pairs only, as its contract says.

A cell a spreadsheet could take for a formula (`=`, `+`, `-`, `@`, tab, CR)
gets a leading `'`; hidden characters are spelled out (`\\u202e`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from webapp.core.diff import port_set
from webapp.outputs.wording import Groups, format_denial, format_ports, format_rules, visible

GROUP_HEADER = (
    "source", "source_nodes", "source_members",
    "target", "target_nodes", "target_members",
    "pairs", "ports", "all_traffic", "egress_rules", "ingress_rules",
)
PAIRS_HEADER = (
    "source", "source_namespace", "source_name",
    "target", "target_namespace", "target_name",
    "ports", "all_traffic", "egress_rules", "ingress_rules",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 2048
"""Rows per chunk written."""


def csv_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: formula starts get a leading `'`."""
    text = visible(value, keep="\t\r\n")
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _line(cells: Iterable[Any]) -> str:
    """One CSV record, without its line end, every cell through `csv_cell`."""
    out = io.StringIO()
    # With "\r\n" as terminator the writer also quotes any cell holding a bare
    # "\r", which spreadsheets would take as a row break.
    csv.writer(out, lineterminator="\r\n").writerow([csv_cell(c) for c in cells])
    return out.getvalue()[:-2]


VERDICT_COLUMN = "verdict"
"""The last column, only for documents with cluster-wide policies (those with `denials`)."""


def _rule_cells(flow: Mapping[str, Any], tiers: bool) -> tuple[str, str]:
    return (
        format_rules(flow.get("egress") or (), tiers),
        format_rules(flow.get("ingress") or (), tiers),
    )


def _verdict_cells(flow: Mapping[str, Any], tiers: bool = False) -> tuple[str, ...]:
    cells = (
        format_ports(flow),
        "true" if flow.get("allTraffic") else "false",
        *_rule_cells(flow, tiers),
    )
    return (*cells, "allowed") if tiers else cells


def _denial_cells(denial: Mapping[str, Any]) -> tuple[str, ...]:
    ports = {"ports": denial.get("ports") or (), "allTraffic": port_set(denial).is_all}
    text = format_denial(denial)
    egress = denial.get("direction") == "egress"
    return (
        format_ports(ports),
        "true" if ports["allTraffic"] else "false",
        text if egress else "",
        "" if egress else text,
        "denied",
    )


def to_csv(doc: Mapping[str, Any]) -> str:
    """One row per flow of the document: its groups, their member counts and a short
    naming of their members, the pairs of nodes it stands for, ports and rules."""
    groups = Groups(doc)
    tiers = "denials" in doc
    lines = [_line((*GROUP_HEADER, VERDICT_COLUMN) if tiers else GROUP_HEADER)]
    rows = [(f, _verdict_cells(f, tiers)) for f in doc.get("flows") or ()]
    rows += [(d, _denial_cells(d)) for d in doc.get("denials") or ()]
    for item, cells in rows:
        source, target = str(item.get("source", "")), str(item.get("target", ""))
        pairs = item.get("pairs")
        if pairs is None:  # version 1: each flow is one pair
            pairs = 1
        lines.append(_line((
            source, groups.size(source), groups.describe(source),
            target, groups.size(target), groups.describe(target),
            pairs, *cells,
        )))
    return "\r\n".join(lines) + "\r\n"


def pairs_csv(doc: Mapping[str, Any]) -> Iterator[bytes]:
    """One row per pair of nodes (`--pairs`), in chunks: the node cells are made once
    per node and the verdict cells once per group flow."""
    groups = Groups(doc)
    nodes: dict[str, str] = {}

    def node_cells(node_id: str) -> str:
        if node_id not in nodes:
            n = groups.nodes.get(node_id, {})
            nodes[node_id] = _line((node_id, n.get("namespace") or "", n.get("name") or ""))
        return nodes[node_id]

    tiers = "denials" in doc
    yield (_line(PAIRS_HEADER) + "\r\n").encode()
    chunk: list[str] = []
    for flow in doc.get("flows") or ():
        verdict = "," + _line(_verdict_cells(flow)[:2] + _rule_cells(flow, tiers)) + "\r\n"
        for a in groups.of(str(flow.get("source", ""))):
            row = node_cells(a) + ","
            for b in groups.of(str(flow.get("target", ""))):
                if a != b:
                    chunk += (row, node_cells(b), verdict)
                    if len(chunk) >= 3 * CHUNK:
                        yield "".join(chunk).encode("utf-8", "surrogatepass")
                        chunk = []
    yield "".join(chunk).encode("utf-8", "surrogatepass")
