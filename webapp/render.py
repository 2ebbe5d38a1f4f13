"""The analysis document as data for the diagram page (vis-network).

`view_data(document)` is everything `static/app.js` needs, placed into the
page as a JSON data island: vis-network nodes, edges and options built with
pyvis's `Network` (used as a builder only; its own HTML template loads
scripts from CDNs and can put tooltips through innerHTML), the clusters
(namespaces) with their collapsed form, the side-panel details, and the
policies' rule excerpts that edges point to.

The offline HTML export (`webapp.outputs.offline`) embeds the same data.

Every uploaded string reaches the browser as JSON data and is shown with
`textContent` or as a vis-network string title (which vis 9 sets with
`innerText`). Labels and tooltips also show control and bidi-override
characters as visible `<U+202E>` marks, so a name cannot reorder or hide
what is drawn next to it.
"""

from __future__ import annotations

import colorsys
import hashlib
import ipaddress
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx  # type: ignore[import-untyped]  # no stubs installed
from pyvis.network import Network  # type: ignore[import-untyped]  # no stubs

from webapp.core.diff import Comparison, external_ports, refine
from webapp.core.text import is_hidden
from webapp.graph import (
    EXTERNAL_CLUSTER,
    Layout,
    Pair,
    build_graph,
    cluster_layout,
    cluster_title,
    clusters,
    drawn_pairs,
    group_members,
)
from webapp.outputs.wording import ALL_PORTS, ALL_TRAFFIC, format_allowed_by, has_tiers

COLLAPSE_THRESHOLD = 300
"""A filter that leaves at most this many nodes draws them, not their namespaces. (The
first view's level of detail is picked in draw.js from what is readable at fit.)"""
EDGE_BUDGET = 4000
"""At most this many pairs of nodes are drawn as arrows (rule-allowed flows
first); the rest are counted, in pairs, in view["omitted"]. Every count, reach
list, search and focus of the page works from the groups and their flows
(view["groups"], view["flows"]), which are small, so nothing is lost but
arrows. Keeps a big page under 2 MB and the browser responsive."""
BUSY_EDGES = 60
"""With more edges than this, their labels show only when zoomed in."""
LABEL_LIMIT = 28
TITLE_LIST_LIMIT = 12
PORTS_IN_LABEL = 3

EXTERNAL_COLOR = "#e0e0e0"
RULE_EDGE_COLOR = "#37474f"
DEFAULT_EDGE_COLOR = "#9e9e9e"
SELECTED_COLOR = "#1565c0"
"""Selection and hover are blue: red means removed or denied."""


def visible_text(text: object) -> str:
    """`text` with invisible and reordering characters (`is_hidden`) shown as `<U+XXXX>`."""
    string = str(text)
    if string.isprintable():
        return string
    return "".join(f"<U+{ord(c):04X}>" if is_hidden(c) else c for c in string)


def _short(text: object, limit: int = LABEL_LIMIT) -> str:
    shown = visible_text(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# --- Ports ------------------------------------------------------------------


def port_ranges(flow: Mapping[str, Any]) -> list[str]:
    """Per protocol, "TCP 3306" / "TCP 80, 8000-8080" / "UDP all ports" (outputs.wording)."""
    by_protocol: dict[str, list[str]] = {}
    for spec in flow.get("ports", []):
        start, end = spec["from"], spec["to"]
        if (start, end) == (1, 65535):
            text = ALL_PORTS
        else:
            text = str(start) if start == end else f"{start}-{end}"
        by_protocol.setdefault(spec["protocol"], []).append(text)
    return [f"{protocol} {', '.join(ports)}" for protocol, ports in by_protocol.items()]


def port_label(flow: Mapping[str, Any]) -> str:
    """The edge label: `all`, `TCP 3306`, `TCP 53, UDP 53`, `TCP 80, 443 +2`."""
    if flow.get("allTraffic"):
        return ALL_TRAFFIC
    parts = port_ranges(flow)
    numbers = [
        f"{protocol} {port}" if index == 0 else port
        for protocol, ports in (part.split(" ", 1) for part in parts)
        for index, port in enumerate(ports.split(", "))
    ]
    if len(numbers) <= PORTS_IN_LABEL:
        return ", ".join(parts)
    return ", ".join(numbers[:PORTS_IN_LABEL]) + f" +{len(numbers) - PORTS_IN_LABEL}"


# --- Node text --------------------------------------------------------------


SYMBOLIC = {
    "domain": ("domain name", "a destination named by DNS (domainNames of a cluster-wide policy)"),
    "node": ("Kubernetes nodes", "the nodes a cluster-wide policy's `nodes` peer selects"),
}
"""The symbolic destinations of cluster-wide policies: their label line and tooltip line."""
OPEN_INGRESS = "open to every pod and address"
OPEN_EGRESS = "may reach anything"


def isolation_lines(node: Mapping[str, Any], cluster: Iterable[str] = ()) -> list[str]:
    """One line per direction: isolated, or the marker of what being open means.

    `cluster`: the directions in which a cluster-wide policy's rules apply to the node;
    there, not being isolated by a NetworkPolicy does not make it open to all."""
    isolated = node.get("isolated") or {}
    tiers = set(cluster)

    def line(direction: str, open_text: str) -> str:
        if isolated.get(direction):
            return f"{direction}: isolated"
        return f"{direction}: " + ("cluster policy" if direction in tiers else open_text)

    return [line("ingress", "open to all"), line("egress", OPEN_EGRESS)]


def cluster_directions(document: Mapping[str, Any]) -> dict[str, set[str]]:
    """Per node id: the directions in which some cluster-wide policy has rules for it."""
    found: dict[str, set[str]] = {}
    for policy in document.get("clusterPolicies") or ():
        directions = {str(rule["direction"]) for rule in policy.get("rules") or ()}
        for node in policy.get("selects") or ():
            found.setdefault(str(node), set()).update(directions)
    return found


def isolation_text(node: Mapping[str, Any]) -> str:
    return " · ".join(isolation_lines(node))


def node_label(node: Mapping[str, Any], cluster: Iterable[str] = ()) -> str:
    """Short lines drawn in the node: name, kind and pods, then its isolation per direction."""
    kind = node.get("type")
    name = _short(node.get("name", node["id"]))
    if kind in SYMBOLIC:
        return f"{name}\n{SYMBOLIC[kind][0]}"
    if kind == "ipblock":
        cidrs = [_short(cidr) for cidr in node.get("cidrs", [])]
        shown = ", ".join(cidrs[:2]) + (f" +{len(cidrs) - 2}" if len(cidrs) > 2 else "")
        return name if shown in ("", name) else f"{name}\n{shown}"
    if kind == "inferred":
        return "\n".join(["(inferred)", name, *isolation_lines(node, cluster)])
    pods = node.get("pods")
    count = f" · {_plural(pods, 'pod')}" if isinstance(pods, int) else ""
    kind_line = f"{_short(node.get('kind') or 'workload', 16)}{count}"
    return "\n".join([name, kind_line, *isolation_lines(node, cluster)])


def _listed(items: list[str]) -> str:
    shown = items[:TITLE_LIST_LIMIT]
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" (+{more} more)" if more > 0 else "")


def node_title(node: Mapping[str, Any]) -> str:
    """The hover tooltip: plain text, one fact per line."""
    kind = node.get("type")
    lines = [visible_text(node.get("name", node["id"]))]
    if kind in SYMBOLIC:
        lines.append(SYMBOLIC[kind][1])
        if node.get("selector"):
            lines.append(f"selector: {visible_text(node['selector'])}")
    elif kind == "ipblock":
        lines.append(
            "external addresses: " + _listed([visible_text(c) for c in node.get("cidrs", [])])
        )
    else:
        namespace = node.get("namespace")
        lines.append(f"namespace: {visible_text(namespace) if namespace is not None else 'any'}")
        if kind == "inferred":
            lines.append("inferred: pods no uploaded object describes")
            if node.get("selector"):
                lines.append(f"selector: {visible_text(node['selector'])}")
        else:
            pods = node.get("pods")
            lines.append(
                f"{visible_text(node.get('kind') or 'workload')}, {_plural(pods or 0, 'pod')}"
            )
        labels = node.get("labels") or {}
        if labels:
            lines.append(
                "labels: "
                + _listed([f"{visible_text(k)}={visible_text(v)}" for k, v in labels.items()])
            )
        isolated = node.get("isolated") or {}
        policies = node.get("policies") or {}
        for side in ("ingress", "egress"):
            if isolated.get(side):
                names = [visible_text(p) for p in policies.get(side, [])]
                lines.append(f"{side}: isolated" + (f" by {_listed(names)}" if names else ""))
            else:
                what = OPEN_INGRESS if side == "ingress" else OPEN_EGRESS
                lines.append(f"{side}: not isolated, {what}")
    source = node.get("source")
    if source and source.get("file"):
        where = visible_text(source["file"])
        lines.append(f"from {where}" + (f":{source['line']}" if source.get("line") else ""))
    return "\n".join(lines)


def edge_title(flow: Mapping[str, Any], source: str, target: str) -> str:
    """The hover tooltip of a flow: who, which ports, and why it is open (details on click);
    with cluster-wide policies, the deciding rules of each direction through the tiers."""
    refs = [*flow.get("egress", []), *flow.get("ingress", [])]
    if has_tiers(refs) and not flow.get("defaultAllow"):
        why = "allowed by " + visible_text(format_allowed_by(flow, tiers=True))
    elif flow.get("defaultAllow"):
        why = "open by default: neither side is isolated"
    else:
        names = sorted(
            {
                visible_text(ref["policy"])
                for side in ("egress", "ingress")
                for ref in flow.get(side, [])
            }
        )
        why = (
            "allowed by " + ", ".join(names[:2]) + (f" +{len(names) - 2}" if len(names) > 2 else "")
        )
    return f"{source} → {target}\n{port_label(flow)}\n{why}"


# --- Colours ----------------------------------------------------------------


def cluster_color(cluster: str) -> str:
    """A namespace's colour, from a hash of its name: the same in every upload."""
    if cluster == EXTERNAL_CLUSTER:
        return EXTERNAL_COLOR
    digest = hashlib.sha256(cluster.encode()).digest()
    hue = int.from_bytes(digest[:2], "big") / 65536
    lightness = 0.74 + digest[2] / 255 * 0.08  # light enough for dark text
    red, green, blue = colorsys.hls_to_rgb(hue, lightness, 0.62)
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


def darker(color: str, factor: float = 0.55) -> str:
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(part * factor):02x}" for part in (red, green, blue))


def _group_style(color: str) -> dict[str, Any]:
    border = darker(color)
    return {
        "color": {
            "background": color,
            "border": border,
            "highlight": {"background": color, "border": "#000000"},
            "hover": {"background": color, "border": "#000000"},
        }
    }


# --- The view ---------------------------------------------------------------


def _options(groups: dict[str, Any], large: bool, busy: bool) -> dict[str, Any]:
    """vis-network options. Physics is off: positions come from `graph.layout`.

    On a busy diagram edge labels are drawn only once zoomed in far enough to read.
    """
    return {
        "autoResize": True,
        "physics": {"enabled": False},
        "layout": {"improvedLayout": False, "randomSeed": 1},
        "interaction": {
            "hover": True,
            "tooltipDelay": 120,
            "navigationButtons": False,
            "keyboard": {"enabled": True, "bindToWindow": False},
            "hideEdgesOnDrag": large,
            "hideEdgesOnZoom": large,
            "multiselect": False,
        },
        "nodes": {
            "shape": "box",
            "margin": 8,
            "borderWidth": 1.5,
            "shapeProperties": {"borderRadius": 4},
            "widthConstraint": {"maximum": 200},
            "font": {"size": 15, "face": "sans-serif", "color": "#111111"},
        },
        "edges": {
            "arrows": {"to": {"enabled": True, "scaleFactor": 0.6}},
            "smooth": {"enabled": True, "type": "curvedCW", "roundness": 0.12},
            "font": {
                "size": 11,
                "face": "sans-serif",
                # Not "middle": vis-network 9.1.2 draws a rotated label of a
                # right-to-left horizontal edge at the origin (visjs/vis-network#2044).
                "align": "horizontal",
                "strokeWidth": 4,
                "strokeColor": "#ffffff",
            },
            "color": {
                "color": RULE_EDGE_COLOR,
                "highlight": SELECTED_COLOR,
                "hover": SELECTED_COLOR,
            },
            "width": 1.5,
            "selectionWidth": 2,
            "hoverWidth": 1,
            "scaling": {"label": {"drawThreshold": 9 if busy else 5}},
        },
        "groups": groups,
    }


def edge_styles() -> dict[str, dict[str, Any]]:
    """How each kind of edge is drawn; aggregated (cluster-to-cluster) edges are made in JS."""
    default = {
        "dashes": [6, 5],
        "color": {"color": DEFAULT_EDGE_COLOR, "highlight": SELECTED_COLOR},
    }
    return {
        "rule": {},
        "default": default,
        "aggregate": {"width": 3},
        "aggregateDefault": {**default, "width": 3},
    }


def _policy_index(document: Mapping[str, Any]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Policies for the side panel: rule excerpts by direction and rule index."""
    policies: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for policy in document.get("policies", []):
        rules: dict[str, list[dict[str, Any] | None]] = {"ingress": [], "egress": []}
        for rule in policy.get("rules", []):
            slots = rules.setdefault(rule["direction"], [])
            while len(slots) <= rule["rule"]:
                slots.append(None)
            slots[rule["rule"]] = {
                "line": rule.get("line"),
                "endLine": rule.get("endLine"),
                "text": rule.get("text", ""),
            }
        source = policy.get("source") or {}
        index[policy["id"]] = len(policies)
        policies.append(
            {
                "id": policy["id"],
                "file": source.get("file"),
                "line": source.get("line"),
                "policyTypes": policy.get("policyTypes", []),
                "rules": rules,
            }
        )
    return policies, index


def _rule_refs(
    refs: Iterable[Mapping[str, Any]],
    policies: list[dict[str, Any]],
    policy_index: dict[str, int],
) -> list[list[int | None]]:
    """Rule references as [policy index, rule index, line]: compact, since a big upload has many.

    A reference to a policy the document does not list (it should not
    happen) gets a stub entry, so the side panel can still name it.
    """
    out: list[list[int | None]] = []
    for ref in refs:
        name = ref["policy"]
        if name not in policy_index:
            source = ref.get("source") or {}
            policy_index[name] = len(policies)
            policies.append(
                {
                    "id": name,
                    "file": source.get("file"),
                    "line": None,
                    "policyTypes": [],
                    "rules": {},
                }
            )
        out.append([policy_index[name], ref["rule"], (ref.get("source") or {}).get("line")])
    return out


Rank = Callable[[Mapping[str, Any]], "int | None"]
"""Which flows to draw first when there are more than EDGE_BUDGET: lowest rank first."""


def _rule_first(flow: Mapping[str, Any]) -> int:
    return int(bool(flow.get("defaultAllow")))


def _rules_only(flow: Mapping[str, Any]) -> int | None:
    """The analysis page draws only what a policy allows; open-by-default traffic is shown
    by the nodes' isolation markers, and drawn by namespace on request (draw.js)."""
    return None if flow.get("defaultAllow") else 0


def _edge_pairs(document: Mapping[str, Any], rank: Rank = _rule_first) -> list[Pair]:
    """The pairs of nodes drawn as arrows: lowest rank flows first (a rank of None: never
    drawn one by one), at most EDGE_BUDGET, in document order of their flows."""
    flows = document.get("flows", [])
    ranks = {i: rank(flow) for i, flow in enumerate(flows)}
    ranked = sorted((i for i, r in ranks.items() if r is not None), key=lambda i: ranks[i] or 0)
    return sorted(drawn_pairs(document, ranked, EDGE_BUDGET), key=lambda pair: pair[0])


_NODE_DETAIL_KEYS = (
    "id", "type", "kind", "namespace", "name", "labels", "cidrs", "pods",
    "isolated", "policies", "ports", "source", "selector",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Clusters:
    """The clusters of a graph in page order, with their colour and vis group name."""

    members: dict[str, list[str]]
    color: dict[str, str]
    group: dict[str, str]
    number: dict[str, int]

    @classmethod
    def of(cls, graph: nx.DiGraph) -> _Clusters:
        members = clusters(graph)
        keys = list(members)
        return cls(
            members=members,
            color={key: cluster_color(key) for key in keys},
            group={key: f"c{i}" for i, key in enumerate(keys)},
            number={key: i for i, key in enumerate(keys)},
        )


def _add_nodes(
    net: Network,
    nodes: list[dict[str, Any]],
    graph: nx.DiGraph,
    placed: Layout,
    found: _Clusters,
    tiers: Mapping[str, set[str]],
) -> list[dict[str, Any]]:
    """One vis node per document node, with vis id = its index; returns the side-panel details."""
    details = []
    for index, node in enumerate(nodes):
        cluster = graph.nodes[node["id"]]["cluster"]
        x, y = placed.positions[node["id"]]
        extra: dict[str, Any] = {"shape": "box", "group": found.group[cluster]}
        if node.get("type") == "ipblock":
            extra["shape"] = "ellipse"
        elif node.get("type") in SYMBOLIC:
            # Shapes no other node has: a hexagon (label below) and a server's cylinder.
            extra["shape"] = "hexagon" if node["type"] == "domain" else "database"
            extra["size"] = 16
        elif node.get("type") == "inferred":
            # White with a dashed border; pyvis drops a node's colour when it has a group.
            border = darker(found.color[cluster])
            white = {"background": "#ffffff", "border": "#000000"}
            del extra["group"]
            extra["color"] = {"background": "#ffffff", "border": border, "highlight": white}
            extra["color"]["hover"] = white
            extra["shapeProperties"] = {"borderDashes": [5, 4], "borderRadius": 4}
            extra["borderWidth"] = 2
        label = node_label(node, tiers.get(node["id"], ()))
        net.add_node(index, label=label, title=node_title(node), x=x, y=y, **extra)
        # Empty and null keys are left out: the page of a big upload carries many nodes.
        detail = {
            key: node[key] for key in _NODE_DETAIL_KEYS if node.get(key) not in (None, [], {})
        }
        detail["cluster"] = found.number[cluster]
        details.append(detail)
    return details


def _flow_detail(
    flow: Mapping[str, Any], policies: list[dict[str, Any]], policy_index: dict[str, int]
) -> dict[str, Any]:
    """What the side panel shows of a flow: its rules, ports (when the label shortens them)."""
    label = port_label(flow)
    detail: dict[str, Any] = {
        "label": label,
        "egress": _rule_refs(flow.get("egress", []), policies, policy_index),
        "ingress": _rule_refs(flow.get("ingress", []), policies, policy_index),
    }
    ports = ["all traffic"] if flow.get("allTraffic") else port_ranges(flow)
    if ", ".join(ports) != label:
        detail["ports"] = ports  # the label is shortened; app.js falls back to it otherwise
    if flow.get("defaultAllow"):
        detail["defaultAllow"] = True
    if "change" in flow:
        detail["change"] = flow["change"]
    return detail


def _add_edges(
    net: Network,
    document: Mapping[str, Any],
    vis_id: Mapping[str, int],
    flow_details: list[dict[str, Any]],
    pairs: list[Pair],
) -> list[dict[str, Any]]:
    """One vis edge per drawn pair (`pairs`); returns the side-panel details, one per edge."""
    flows = document.get("flows", [])
    names = {n["id"]: visible_text(n.get("name", n["id"])) for n in document.get("nodes", [])}
    styles = edge_styles()
    details = []
    for edge_id, (flow_index, source, target) in enumerate(pairs):
        flow = flows[flow_index]
        shared = flow_details[flow_index]
        net.add_edge(
            vis_id[source],
            vis_id[target],
            id=edge_id,
            label=shared["label"],
            title=edge_title(flow, names[source], names[target]),
            **styles["default" if flow.get("defaultAllow") else "rule"],
        )
        detail = {key: value for key, value in shared.items() if key != "label"}
        detail["flow"] = flow_index
        details.append(detail)
    return details


def _add_clusters(
    net: Network, graph: nx.DiGraph, placed: Layout, found: _Clusters, vis_id: Mapping[str, int]
) -> list[dict[str, Any]]:
    """A collapsed node per cluster (vis id "cluster:<n>"), and what app.js needs to expand it."""
    views = []
    for key, members in found.members.items():
        workloads = sum(1 for m in members if graph.nodes[m].get("type") == "workload")
        pods = sum(int(graph.nodes[m].get("pods") or 0) for m in members)
        counts = [_plural(workloads, "workload"), _plural(pods, "pod")]
        if key == EXTERNAL_CLUSTER or workloads < len(members):
            counts = [_plural(len(members), "node")] + (counts if workloads else [])
        title = cluster_title(key)
        box = placed.boxes[key]
        x, y = box.centre
        cluster_id = f"cluster:{found.number[key]}"
        net.add_node(
            cluster_id,
            label=f"{_short(title, 40)}\n{' · '.join(counts)}",
            title=f"{visible_text(title)}\n{', '.join(counts)}\ndouble-click to expand",
            group=found.group[key],
            x=round(x, 1),
            y=round(y, 1),
            shape="box",
            borderWidth=3,
            margin=14,
            font={"size": 18},
        )
        views.append(
            {
                "id": cluster_id,
                "key": key,
                "title": title,
                "color": found.color[key],
                "border": darker(found.color[key]),
                "members": [vis_id[m] for m in members],
                "workloads": workloads,
                "pods": pods,
                "box": [box.left, box.top, box.right, box.bottom],
            }
        )
    return views


def _finding_views(document: Mapping[str, Any], vis_id: Mapping[str, int]) -> list[dict[str, Any]]:
    """Per finding (document order): what the details panel shows of it, and the vis
    ids of the nodes a click on it highlights.

    Its own nodes; for a finding that names only policies, the nodes those
    policies select. Ids the document does not list are left out.
    """
    selects = {p["id"]: p.get("selects") or [] for p in document.get("policies", [])}
    views = []
    for finding in document.get("findings") or []:
        ids = list(finding.get("nodes") or [])
        if not ids:
            ids = [n for p in finding.get("policies") or [] for n in selects.get(p, [])]
        views.append(
            {
                "rule": finding.get("rule"),
                "severity": finding.get("severity"),
                "message": finding.get("message"),
                "policies": list(finding.get("policies") or []),
                "source": finding.get("source"),
                "nodes": list(dict.fromkeys(vis_id[i] for i in ids if i in vis_id)),
            }
        )
    return views


def view_data(document: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the diagram page's script needs, as JSON-ready data.

    vis ids: document node i is vis node i, cluster n is "cluster:<n>", drawn
    edge j is vis edge j; `nodeDetails`, `edgeDetails` and `clusters` are
    indexed the same way, and `findings` like the document's findings.
    """
    view, _ = _view(document, _rules_only)
    view["openByNamespace"] = True  # open-by-default pairs are not view["edges"]
    cluster_view(document, view)
    return view


TIER_RANK = {"Admin": 0, "Baseline": 1}


def _every_port(denial: Mapping[str, Any]) -> bool:
    """Whether a denial covers every port of the three protocols (denials have no allTraffic)."""
    whole = {(p["protocol"], p["from"], p["to"]) for p in denial.get("ports", [])}
    return whole == {(protocol, 1, 65535) for protocol in ("TCP", "UDP", "SCTP")}


def cluster_view(document: Mapping[str, Any], view: dict[str, Any]) -> None:
    """Cluster-wide policies on the page (static/js/cluster.js), when the upload has any.

    Each policy becomes a `view["policies"]` entry like a NetworkPolicy's, with
    `tier`, `priority` and each rule's `name` and `action` (replacing the stub
    `_rule_refs` made for it, at the same index, so flow references stay
    valid); each node detail lists, per direction, the policies whose subject
    selects it and that have rules for that direction, in evaluation order;
    `view["denials"]` are the document's denials between groups (view
    group indexes), each naming its deny rule as [policy index, rule, line].
    """
    found = document.get("clusterPolicies")
    denials = document.get("denials")
    if found is None and denials is None:
        return
    policies: list[dict[str, Any]] = view["policies"]
    index = {policy["id"]: i for i, policy in enumerate(policies)}
    vis_id = {node["id"]: i for i, node in enumerate(document.get("nodes", []))}
    details = view["nodeDetails"]
    ordered = sorted(
        found or [], key=lambda p: (TIER_RANK.get(p["tier"], 2), p["priority"], p["name"])
    )
    for cp in ordered:
        rules: dict[str, list[dict[str, Any] | None]] = {"ingress": [], "egress": []}
        for rule in cp.get("rules", []):
            slots = rules.setdefault(rule["direction"], [])
            slots.extend([None] * (rule["rule"] + 1 - len(slots)))
            slots[rule["rule"]] = {
                key: rule.get(key) for key in ("line", "endLine", "text", "name", "action")
            }
        source = cp.get("source") or {}
        entry = {
            "id": cp["id"],
            "file": source.get("file"),
            "line": source.get("line"),
            "policyTypes": [],
            "rules": rules,
            "tier": cp["tier"],
            "priority": cp["priority"],
        }
        if cp["id"] in index:
            policies[index[cp["id"]]] = entry
        else:
            index[cp["id"]] = len(policies)
            policies.append(entry)
        for direction in ("ingress", "egress"):
            if not rules[direction]:
                continue
            for node_id in cp.get("selects", []):
                if node_id in vis_id:
                    subjects = details[vis_id[node_id]].setdefault("clusterPolicies", {})
                    subjects.setdefault(direction, []).append(index[cp["id"]])
    group_index = {group: i for i, group in enumerate(group_members(document))}
    view["denials"] = [
        {
            "source": group_index[denial["source"]],
            "target": group_index[denial["target"]],
            "pairs": denial["pairs"],
            "direction": denial["direction"],
            "tier": denial["rule"].get("tier"),
            "label": port_label({**denial, "allTraffic": _every_port(denial)}),
            "ports": ["all traffic"] if _every_port(denial) else port_ranges(denial),
            "rule": _rule_refs([denial["rule"]], policies, index)[0],
        }
        for denial in denials or []
        if denial["source"] in group_index and denial["target"] in group_index
    ]


def _view(document: Mapping[str, Any], rank: Rank) -> tuple[dict[str, Any], list[int]]:
    """The view of `view_data`, and the flow index of each drawn edge."""
    pairs = _edge_pairs(document, rank)
    graph = build_graph(document, pairs)
    placed = cluster_layout(graph)
    found = _Clusters.of(graph)
    nodes = list(document.get("nodes", []))
    flows = list(document.get("flows", []))
    vis_id = {node["id"]: i for i, node in enumerate(nodes)}
    members = group_members(document)
    group_index = {group: i for i, group in enumerate(members)}
    policies, policy_index = _policy_index(document)
    flow_details = [_flow_detail(flow, policies, policy_index) for flow in flows]

    net = Network(directed=True)
    node_details = _add_nodes(net, nodes, graph, placed, found, cluster_directions(document))
    for group, ids in members.items():
        for node_id in ids:
            node_details[vis_id[node_id]]["g"] = group_index[group]
    edge_details = _add_edges(net, document, vis_id, flow_details, pairs)
    for flow, detail in zip(flows, flow_details, strict=True):
        detail["source"] = group_index[flow["source"]]
        detail["target"] = group_index[flow["target"]]
        detail["pairs"] = _pairs(flow, members)
    cluster_views = _add_clusters(net, graph, placed, found, vis_id)
    groups = {found.group[key]: _group_style(found.color[key]) for key in found.members}
    large = len(nodes) > COLLAPSE_THRESHOLD
    net.set_options(json.dumps(_options(groups, large, busy=len(edge_details) > BUSY_EDGES)))

    collapsed_nodes = {node["id"]: node for node in net.nodes if isinstance(node["id"], str)}
    for view in cluster_views:
        view["node"] = collapsed_nodes[view["id"]]
    total = sum(d["pairs"] for d in flow_details)
    default_allow = sum(d["pairs"] for d in flow_details if d.get("defaultAllow"))
    drawn_open = sum(1 for d in edge_details if d.get("defaultAllow"))
    view = {
        "version": 2,
        "nodes": [node for node in net.nodes if isinstance(node["id"], int)],
        "edges": net.edges,
        "options": net.options,
        "edgeStyles": edge_styles(),
        "nodeDetails": node_details,
        "edgeDetails": edge_details,
        # The whole analysis, small: groups of alike nodes (vis ids) and the flows between
        # them (group indexes), from which app.js counts, lists, searches and focuses.
        "groups": [[vis_id[node_id] for node_id in ids] for ids in members.values()],
        "flows": flow_details,
        "policies": policies,
        "clusters": cluster_views,
        "collapsed": large,
        "collapseThreshold": COLLAPSE_THRESHOLD,
        # app.js packs clusters in rows with this gap; a collapsed one takes this much room.
        "layout": {"gap": 60, "collapsed": [240, 110]},
        # Counted in pairs of nodes, like the arrows.
        "omitted": {
            "flows": total - len(edge_details),
            "defaultAllow": default_allow - drawn_open,
            # Rule-allowed pairs the budget left out.
            "rules": total - default_allow - (len(edge_details) - drawn_open),
        },
        "counts": {
            "nodes": len(nodes),
            "flows": len(flows),
            "pairs": total,
            "defaultAllow": default_allow,
        },
        "findings": _finding_views(document, vis_id),
    }
    return view, [index for index, _, _ in pairs]


def _pairs(flow: Mapping[str, Any], members: Mapping[str, list[str]]) -> int:
    """How many pairs of nodes a flow stands for: its "pairs", else counted from its groups."""
    pairs = flow.get("pairs")
    if isinstance(pairs, int):
        return pairs
    sources, targets = members[flow["source"]], members[flow["target"]]
    return len(sources) * len(targets) - (len(sources) if flow["source"] == flow["target"] else 0)


# --- The diff page ----------------------------------------------------------

DIFF_COLORS = {
    "added": "#2e7d32",
    "removed": "#c62828",
    "changed": "#ef8f00",
    "unchanged": "#b0bec5",
}
"""Edge and border colours of the diff page: green, red, amber, and a faded grey."""
CHANGED_FLOW = ("changed", "widened", "narrowed")
BEFORE = " (before)"
"""Suffix of the old version of a changed policy (a policy name has no spaces)."""


def diff_status(change: str) -> str:
    """The colour key of a flow's change: widened and narrowed are drawn as changed."""
    return "changed" if change in CHANGED_FLOW else change


def _old_refs(flow: Mapping[str, Any], renamed: set[str]) -> dict[str, Any]:
    """A removed flow whose rules point at the old version of each changed policy."""
    copy = dict(flow)
    for side in ("egress", "ingress"):
        copy[side] = [
            {**ref, "policy": ref["policy"] + BEFORE} if ref["policy"] in renamed else ref
            for ref in flow.get(side) or []
        ]
    return copy


def _networks(cidrs: Iterable[str]) -> list[Any]:
    return [ipaddress.ip_network(c, strict=False) for c in cidrs]


def _overlaps(nets: list[Any], others: list[Any]) -> bool:
    return any(a.version == b.version and a.overlaps(b) for a in nets for b in others)


def _external_notes(diff: Mapping[str, Any]) -> dict[tuple[str, str], tuple[list[str], list[Any]]]:
    """(node id, direction) -> what its external access gained and lost, in words, and the
    networks concerned: the address changes of `diff["external"]`."""
    notes: dict[tuple[str, str], tuple[list[str], list[Any]]] = {}
    for entry in diff.get("external") or ():
        towards = "to" if entry["direction"] == "egress" else "from"
        said: list[str] = []
        networks: list[Any] = []
        for change in ("gained", "lost"):
            if entry[change]:
                ports = external_ports(entry)
                said.append(f"{change} access {towards} {', '.join(entry[change])} on {ports}")
                networks.extend(_networks(entry[change]))
        for node in entry["nodes"]:
            lines, nets = notes.setdefault((node, entry["direction"]), ([], []))
            lines.extend(said)
            nets.extend(networks)
    return notes


def union_document(
    old: Mapping[str, Any], new: Mapping[str, Any], diff: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str], int]:
    """Both analyses as one document to draw, the change of each added or removed node, and
    how many node pairs with a flow in either version were left undrawn.

    Nodes of `new`, then those only `old` has. Flows connect nodes (no
    groups): at most EDGE_BUDGET of them, expanded from the classes of
    `webapp.core.diff.refine` in order, changes first, so that no more node
    pairs are made than drawn. Each carries its `change` (added, removed,
    changed, widened, narrowed or unchanged) and a changed one its old flow
    as `before`; a changed policy's old version is kept as "<id> (before)" so
    the rules of a removed flow show the text that allowed it.
    External access is compared by address (`diff["external"]`), so a flow to
    or from an address block is "changed" when its block holds addresses
    whose access changed for that workload (its `external` lists how), and an
    old version's block is drawn only for such a flow that `new` lacks.
    """
    new_nodes = {n["id"]: n for n in new.get("nodes") or []}
    old_nodes = {n["id"]: n for n in old.get("nodes") or []}
    node_change = {n["id"]: "added" for n in diff["nodes"]["added"]}
    node_change.update({n["id"]: "removed" for n in diff["nodes"]["removed"]})

    changed_policies = set(diff["policies"]["changed"])
    new_policy_ids = {p["id"] for p in new.get("policies") or []}
    policies = list(new.get("policies") or [])
    for policy in old.get("policies") or []:
        if policy["id"] not in new_policy_ids:
            policies.append(policy)
        elif policy["id"] in changed_policies:
            policies.append({**policy, "id": policy["id"] + BEFORE})

    refined = refine(old, new)
    classes = refined.classes
    changes = [c for c in refined.comparisons if c.change != "unchanged"]
    same = [c for c in refined.comparisons if c.change == "unchanged"]
    flows: list[dict[str, Any]] = []
    total = sum(c.pairs for c in refined.comparisons)

    def internal(comparisons: list[Comparison]) -> None:
        for c in comparisons:
            flow = c.old if c.change == "removed" else c.new
            assert flow is not None  # a comparison has a flow in one version at least
            if c.change == "removed":
                flow = _old_refs(flow, changed_policies)
            for a in classes[c.source]:
                for b in classes[c.target]:
                    if len(flows) >= EDGE_BUDGET:
                        return
                    if a != b:
                        drawn = {**flow, "source": a, "target": b, "pairs": 1, "change": c.change}
                        if c.old is not None and c.new is not None:
                            drawn["before"] = c.old
                        flows.append(drawn)

    internal(changes)
    external = _ExternalEdges(old, new, _external_notes(diff), changed_policies)
    total += external.total
    for flow in external.changed():
        if len(flows) >= EDGE_BUDGET:
            break
        flows.append(flow)
    internal(same)
    for flow in external.unchanged():
        if len(flows) >= EDGE_BUDGET:
            break
        flows.append(flow)

    # Drawn in document order: changes last, on top of the faded unchanged edges.
    flows.sort(key=lambda f: f["change"] != "unchanged")
    old_blocks: dict[str, Any] = {}
    for flow in flows:
        for end in (flow["source"], flow["target"]):
            if end not in new_nodes and old_nodes.get(end, {}).get("type") == "ipblock":
                old_blocks[end] = old_nodes[end]
                node_change[end] = "removed"
    nodes = [*new_nodes.values(), *diff["nodes"]["removed"], *old_blocks.values()]
    document = {
        "version": 1,
        "nodes": nodes,
        "flows": flows,
        "policies": policies,
        "findings": [],
        "problems": [],
    }
    return document, node_change, max(total - len(flows), 0)


class _ExternalEdges:
    """The node-to-address-block flows of both versions, expanded lazily from their groups."""

    def __init__(
        self,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        notes: dict[tuple[str, str], tuple[list[str], list[Any]]],
        renamed: set[str],
    ) -> None:
        self.old, self.new, self.notes, self.renamed = old, new, notes, renamed
        self.new_members = _members(new)
        self.new_group = {n: g for g, ms in self.new_members.items() for n in ms}
        self.new_keys = {(str(f["source"]), str(f["target"])) for f in new.get("flows") or ()}
        self.total = sum(int(f.get("pairs", 1)) for f in self._flows(new))
        self.total += sum(1 for _ in self._removed())

    @staticmethod
    def _flows(doc: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        blocks = _block_groups(doc)
        for f in doc.get("flows") or ():
            if (str(f["source"]) in blocks) != (str(f["target"]) in blocks):
                yield f

    def _lines(self, flow: Mapping[str, Any], node: str, block: Mapping[str, Any]) -> list[str]:
        direction = "egress" if flow["target"] == block["id"] else "ingress"
        lines, nets = self.notes.get((node, direction), ([], []))
        return lines if _overlaps(_networks(block.get("cidrs") or ()), nets) else []

    def _pairs(
        self, doc: Mapping[str, Any], only: set[str] | None
    ) -> Iterator[tuple[str, Mapping[str, Any], dict[str, Any]]]:
        """(in-cluster node, block node, the node-pair flow) of `doc`, for the
        in-cluster nodes in `only` (all when None)."""
        members = _members(doc)
        nodes = {str(n["id"]): n for n in doc.get("nodes") or ()}
        blocks = _block_groups(doc)
        for f in self._flows(doc):
            outward = str(f["target"]) in blocks
            inner, outer = (f["source"], f["target"]) if outward else (f["target"], f["source"])
            for node in members.get(str(inner), ()):
                if only is not None and node not in only:
                    continue
                for block in members.get(str(outer), ()):
                    ends = (node, block) if outward else (block, node)
                    pair = {**f, "source": ends[0], "target": ends[1], "pairs": 1}
                    yield node, nodes[block], pair

    def _key(self, pair: Mapping[str, Any]) -> tuple[str | None, str | None]:
        return self.new_group.get(pair["source"]), self.new_group.get(pair["target"])

    def changed(self) -> Iterator[dict[str, Any]]:
        """Pairs of the nodes whose external access changed: `new`'s whose block holds such
        addresses, then `old`'s that `new` lacks."""
        noted = {node for node, _ in self.notes}
        for node, block, pair in self._pairs(self.new, noted):
            lines = self._lines(pair, node, block)
            if lines:
                yield {**pair, "change": "changed", "external": lines}
        yield from self._removed()

    def _removed(self) -> Iterator[dict[str, Any]]:
        noted = {node for node, _ in self.notes}
        for node, block, pair in self._pairs(self.old, noted):
            lines = self._lines(pair, node, block)
            if lines and self._key(pair) not in self.new_keys:
                yield {**_old_refs(pair, self.renamed), "change": "removed", "external": lines}

    def unchanged(self) -> Iterator[dict[str, Any]]:
        for node, block, pair in self._pairs(self.new, None):
            if not self._lines(pair, node, block):
                yield {**pair, "change": "unchanged"}


def _members(doc: Mapping[str, Any]) -> dict[str, list[str]]:
    """Group id -> its node ids; one group per node in a document without groups."""
    groups = doc.get("groups")
    if groups:
        return {str(g["id"]): [str(n) for n in g["nodes"]] for g in groups}
    return {str(n["id"]): [str(n["id"])] for n in doc.get("nodes") or ()}


def _block_groups(doc: Mapping[str, Any]) -> set[str]:
    """The groups of address blocks (a block's group holds blocks only)."""
    members = _members(doc)
    blocks = {str(n["id"]) for n in doc.get("nodes") or () if n.get("type") == "ipblock"}
    return {g for g, ms in members.items() if ms and ms[0] in blocks}


def _changes_first(flow: Mapping[str, Any]) -> int:
    """Added, removed and changed flows before unchanged ones; rule-allowed first in each."""
    return 2 * int(flow["change"] == "unchanged") + _rule_first(flow)


def _diff_edge(
    edge: dict[str, Any],
    detail: dict[str, Any],
    flow: Mapping[str, Any],
    old_flow: Mapping[str, Any] | None,
) -> None:
    """Colour a drawn edge of the diff page by its change, and say the change in its label."""
    change = flow["change"]
    status = diff_status(change)
    color = DIFF_COLORS[status]
    detail["change"] = change
    if flow.get("external"):
        # An address block's edge: the ports may be the same, the addresses behind it are not.
        detail["external"] = list(flow["external"])
        edge["color"] = {"color": color, "highlight": color, "hover": color}
        edge["width"] = 3
        edge["title"] = "\n".join([change, *flow["external"], edge["title"]])
        return
    if status == "unchanged":
        edge["color"] = {
            "color": color,
            "highlight": SELECTED_COLOR,
            "hover": SELECTED_COLOR,
            "opacity": 0.5,
        }
        edge["font"] = {"color": "#90a4ae"}
        edge["width"] = 1
        edge["title"] = "unchanged\n" + edge["title"]
        return
    edge["color"] = {"color": color, "highlight": color, "hover": color}
    edge["width"] = 3
    if status == "changed" and old_flow is not None:
        before = port_label(old_flow)
        edge["label"] = f"{before} → {edge['label']}"
        detail["before"] = ["all traffic"] if old_flow.get("allTraffic") else port_ranges(old_flow)
        edge["title"] = f"{change}: {before} → " + edge["title"]
    else:
        edge["label"] = ("+ " if status == "added" else "− ") + edge["label"]
        edge["title"] = f"{change}\n" + edge["title"]


def _diff_node(node: dict[str, Any], detail: dict[str, Any], change: str, fill: str) -> None:
    color = DIFF_COLORS[change]
    background = (node.get("color") or {}).get("background", fill)
    box = {"background": background, "border": color}
    node["color"] = {**box, "highlight": box, "hover": box}
    node["borderWidth"] = 4
    node["label"] = f"({change})\n{node['label']}"
    node["title"] = f"{change}\n{node['title']}"
    detail["change"] = change


def diff_view_data(
    old: Mapping[str, Any], new: Mapping[str, Any], diff: Mapping[str, Any]
) -> dict[str, Any]:
    """The diagram of a diff (`webapp.core.diff.diff_documents(old, new)`) for app.js.

    The view of `view_data` drawn over the union of both analyses: flows
    added in green, removed in red, changed in amber (labelled before →
    after), unchanged faded; added and removed nodes get a border of their
    colour. `edgeDetails[j].change` and `nodeDetails[i].change` say what
    changed; `diff` holds the colours and the diff's summary.
    """
    document, node_change, omitted = union_document(old, new, diff)
    view, order = _view(document, _changes_first)
    for edge, detail, index in zip(view["edges"], view["edgeDetails"], order, strict=True):
        flow = document["flows"][index]
        _diff_edge(edge, detail, flow, flow.get("before"))
    for index, node in enumerate(view["nodes"]):
        change = node_change.get(document["nodes"][index]["id"])
        if change:
            detail = view["nodeDetails"][index]
            fill = view["clusters"][detail["cluster"]]["color"]
            _diff_node(node, detail, change, fill)
    styles = view["edgeStyles"]
    for status, color in DIFF_COLORS.items():
        styles["diff-" + status] = {"width": 3, "color": {"color": color, "highlight": color}}
    styles["diff-unchanged"]["color"]["opacity"] = 0.5
    view["mode"] = "diff"
    # Counted in node pairs over both versions, not in what this drawing expanded.
    view["omitted"] = {"flows": omitted, "defaultAllow": 0, "pairs": omitted}
    view["diff"] = {"colors": DIFF_COLORS, "summary": dict(diff["summary"])}
    return view


# --- The offline file -------------------------------------------------------
