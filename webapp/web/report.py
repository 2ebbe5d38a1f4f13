"""What the printable review report and the diff page's tables show, as data for templates.

The report has the sections of `webapp.review.review_markdown` (summary,
isolation coverage, findings, flows by namespace pair, the denials by Admin or
Baseline rules when there are cluster-wide policies, namespace matrix, problems)
and counts them the same way; the templates escape every string.
The diff tables list the changes of `webapp.core.diff.diff_documents` with
node names in place of ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webapp.outputs.wording import denial_rows, format_source, node_index, node_title
from webapp.review import (
    coverage,
    denial_changes_text,
    external_access,
    finding_counts,
    finding_nodes,
    finding_rows,
    flow_changes,
    flow_groups,
    namespace_matrix,
    severity_counts,
    tier_changes_text,
    totals,
)

Doc = Mapping[str, Any]
Node = Mapping[str, Any]


def _finding_rows(document: Doc) -> list[dict[str, Any]]:
    nodes = node_index(document)
    return [
        {
            "severity": str(f.get("severity", "")),
            "rule": str(f.get("rule", "")),
            "message": str(f.get("message", "")),
            "where": format_source(f.get("source")),
            "nodes": finding_nodes(f, nodes),
            "policies": [str(p) for p in f.get("policies") or ()],
        }
        for f in document.get("findings") or ()
    ]


def matrix(document: Doc) -> dict[str, Any]:
    """The namespace-by-namespace matrix of `webapp.review.namespace_matrix`, row by row.

    Each cell has the allowed and possible node pairs and a `level` for its
    shading: none, some or all of the possible pairs allowed ("" when no pair
    is possible).
    """
    names, cells = namespace_matrix(document)
    rows = []
    for source in names:
        row = []
        for target in names:
            allowed, possible = cells[(source, target)]
            level = ""
            if possible:
                level = "none" if not allowed else "all" if allowed >= possible else "some"
            row.append({"target": target, "allowed": allowed, "possible": possible, "level": level})
        rows.append({"source": source, "cells": row})
    return {"names": names, "rows": rows}


def report_data(document: Doc) -> dict[str, Any]:
    """Everything the report page shows, in its section order."""
    return {
        "summary": totals(document),
        "severities": severity_counts(document.get("findings") or ()),
        "coverage": coverage(document),
        "findings": _finding_rows(document),
        "flowGroups": flow_groups(document),
        "denials": denial_rows(document) if "denials" in document else None,
        "matrix": matrix(document),
        "problems": [
            {
                "severity": str(p.get("severity", "")),
                "where": format_source(p),
                "message": str(p.get("message", "")),
            }
            for p in document.get("problems") or ()
        ],
    }


# --- the diff page's tables ----------------------------------------------------------


def _kind(node: Node) -> str:
    if node.get("type") == "workload":
        return str(node.get("kind") or "workload")
    return "external addresses" if node.get("type") == "ipblock" else "inferred"


def diff_tables(diff: Doc, old: Doc, new: Doc) -> dict[str, Any]:
    """The changes of a diff in words: flows added, removed and changed between sets of
    nodes (`webapp.review.flow_changes`), external addresses gained and lost
    (`webapp.review.external_access`), denials by Admin or Baseline rules gained
    and lost and flows whose deciding tier changed (when either version has
    cluster-wide policies), nodes (workloads, inferred nodes) added and removed,
    policies."""
    nodes = {**node_index(old), **node_index(new)}

    def name(node_id: Any) -> str:
        return node_title(nodes.get(str(node_id)), str(node_id))

    flows = flow_changes(diff, old, new)
    return {
        "summary": dict(diff["summary"]),
        "changed": bool(diff["changed"]),
        "flowsAdded": [f for f in flows if f["change"] == "added"],
        "flowsRemoved": [f for f in flows if f["change"] == "removed"],
        "flowsChanged": [f for f in flows if f["change"] not in ("added", "removed")],
        "external": external_access(diff, old, new),
        "denials": denial_changes_text(diff, old, new),
        "tiers": tier_changes_text(diff, old, new),
        "clusterWide": "denials" in old or "denials" in new,
        "nodesAdded": [{"name": name(n["id"]), "kind": _kind(n)} for n in diff["nodes"]["added"]],
        "nodesRemoved": [
            {"name": name(n["id"]), "kind": _kind(n)} for n in diff["nodes"]["removed"]
        ],
        "policies": {
            kind: [str(p) for p in diff["policies"][kind]]
            for kind in ("added", "removed", "changed")
        },
        "findings": finding_rows(diff, old, new),
        "findingCounts": finding_counts(diff),
        "policyDiffs": (
            [_policy_diff(d) for d in diff["policyDiffs"]] if "policyDiffs" in diff else None
        ),
    }


DIFF_LINES_FOLDED = 30
"""A policy's YAML diff longer than this starts folded."""
DIFF_LINES_SHOWN = 500
"""Lines of one policy's YAML diff on the page; the Markdown download has them all."""


def _line_class(line: str) -> str:
    if line.startswith(("---", "+++")):
        return "head"
    return {"@": "hunk", "+": "add", "-": "del"}.get(line[:1], "context")


def _policy_diff(entry: Mapping[str, Any]) -> dict[str, Any]:
    """One policy's YAML diff for the page: its lines with their kind (head, hunk, add,
    del, context), bounded, and whether it starts folded."""
    lines = [str(line) for line in entry["lines"]]
    return {
        "policy": str(entry["policy"]),
        "change": str(entry["change"]),
        "lines": [(_line_class(line), line) for line in lines[:DIFF_LINES_SHOWN]],
        "more": max(len(lines) - DIFF_LINES_SHOWN, 0),
        "added": sum(1 for line in lines if _line_class(line) == "add"),
        "removed": sum(1 for line in lines if _line_class(line) == "del"),
        "folded": len(lines) > DIFF_LINES_FOLDED,
    }
