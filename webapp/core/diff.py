"""What a change to the manifests does to connectivity: the difference of two analysis documents.

Works on the CONTRACT §3 documents themselves (as `analyze --format json`
writes them or as the web app stores them), so any two saved analyses can be
compared. Nodes and policies are matched by id, flows by (source, target);
a flow present in both is "changed" when its allowed ports differ, and
"widened" or "narrowed" when one port set contains the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from webapp.core.document import ports_json
from webapp.core.model import Protocol
from webapp.core.portset import PortSet

Doc = Mapping[str, Any]
DIFF_VERSION = 1


def port_set(flow: Mapping[str, Any]) -> PortSet:
    """The ports of a Flow of the document as a PortSet."""
    return PortSet.of(
        (Protocol(p["protocol"]), int(p["from"]), int(p["to"])) for p in flow.get("ports") or ()
    )


def _by_id(items: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {str(i["id"]): i for i in items}


def _policy_shape(p: Mapping[str, Any]) -> tuple[Any, ...]:
    """Its types and rule texts, without where it was written (files move between versions).

    `selects` is left out: it changes with the workloads, which the node and
    flow differences already show.
    """
    rules = tuple((r.get("direction"), r.get("rule"), r.get("text")) for r in p.get("rules") or ())
    return (tuple(p.get("policyTypes") or ()), rules)


def _flow_change(before: PortSet, after: PortSet) -> str:
    gained, lost = after - before, before - after
    if gained and not lost:
        return "widened"
    if lost and not gained:
        return "narrowed"
    return "changed"


def diff_documents(old: Doc, new: Doc) -> dict[str, Any]:
    """The difference from `old` to `new`, as a JSON-ready dict.

    Keys: `changed` (anything below differs), `summary` (counts),
    `nodes` {added, removed} (Node dicts), `flows` {added, removed} (Flow
    dicts) and `changed` (source, target, change, before/after ports and
    their text, the ports gained and lost), `policies` {added, removed,
    changed} (ids).
    """
    old_nodes, new_nodes = _by_id(old.get("nodes") or ()), _by_id(new.get("nodes") or ())
    old_flows = {(f["source"], f["target"]): f for f in old.get("flows") or ()}
    new_flows = {(f["source"], f["target"]): f for f in new.get("flows") or ()}
    old_policies = _by_id(old.get("policies") or ())
    new_policies = _by_id(new.get("policies") or ())

    changed_flows = []
    for key, after_flow in new_flows.items():
        before_flow = old_flows.get(key)
        if before_flow is None:
            continue
        before, after = port_set(before_flow), port_set(after_flow)
        if before == after:
            continue
        changed_flows.append(
            {
                "source": key[0],
                "target": key[1],
                "change": _flow_change(before, after),
                "before": ports_json(before),
                "after": ports_json(after),
                "beforeText": str(before),
                "afterText": str(after),
                "gained": ports_json(after - before),
                "lost": ports_json(before - after),
                "old": before_flow,
                "new": after_flow,
            }
        )

    nodes = {
        "added": [n for i, n in new_nodes.items() if i not in old_nodes],
        "removed": [n for i, n in old_nodes.items() if i not in new_nodes],
    }
    flows = {
        "added": [f for k, f in new_flows.items() if k not in old_flows],
        "removed": [f for k, f in old_flows.items() if k not in new_flows],
        "changed": changed_flows,
    }
    policies = {
        "added": [i for i in new_policies if i not in old_policies],
        "removed": [i for i in old_policies if i not in new_policies],
        "changed": [
            i
            for i, p in new_policies.items()
            if i in old_policies and _policy_shape(p) != _policy_shape(old_policies[i])
        ],
    }
    summary = {
        "nodesAdded": len(nodes["added"]),
        "nodesRemoved": len(nodes["removed"]),
        "flowsAdded": len(flows["added"]),
        "flowsRemoved": len(flows["removed"]),
        "flowsChanged": len(changed_flows),
        "policiesAdded": len(policies["added"]),
        "policiesRemoved": len(policies["removed"]),
        "policiesChanged": len(policies["changed"]),
    }
    return {
        "version": DIFF_VERSION,
        "changed": any(summary.values()),
        "summary": summary,
        "nodes": nodes,
        "flows": flows,
        "policies": policies,
    }
