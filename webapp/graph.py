"""The analysis document as a networkx graph, and the queries the diagram page asks.

`build_graph` turns a CONTRACT §3 document into a `networkx.DiGraph`: one
node per document node (its attributes are the node's keys), one edge per
pair of nodes a flow allows. Version 2 flows join groups of nodes, so a
document of a few flows can stand for millions of pairs: `drawn_pairs`
expands a bounded number of them, flow by flow in the order asked, and the
graph can be built over only those. What is counted over the whole analysis
(`reach_counts`) is arithmetic over groups, never over expanded pairs. On
top of the graph: direct `neighbours`, transitive `reachable_from` / `reaching` (where a
compromised pod could get to, hop by hop), `collapse_clusters` (each
namespace as one node, the big-upload view) and `layout`, which places
nodes in Python so the browser never runs physics on a large upload.

Nodes are grouped into clusters: a workload's or inferred node's namespace,
one cluster for the external address blocks, one for inferred peers with no
namespace. Cluster keys are prefixed so no uploaded name can collide with
the fixed ones.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx  # type: ignore[import-untyped]  # no stubs installed

EXTERNAL_CLUSTER = "external"
"""Cluster of the ipblock nodes: addresses outside the cluster; domain names and Kubernetes
nodes (destinations of cluster-wide policies) too."""
EXTERNAL_TYPES = ("ipblock", "domain", "node")
UNPLACED_CLUSTER = "inferred"
"""Cluster of inferred nodes whose namespace is unknown."""
NAMESPACE_PREFIX = "ns:"

# Room for one node box (at most 200 wide; its label is up to ~28 characters over 4
# lines) in diagram units (CSS pixels at zoom 1), and the gap kept around a cluster.
# Tight, so that more of a drawing is readable once fitted to the screen.
CELL_WIDTH = 215.0
CELL_HEIGHT = 110.0
CLUSTER_GAP = 110.0


def cluster_of(node: Mapping[str, Any]) -> str:
    """The cluster (visual group) a document node belongs to."""
    if node.get("type") in EXTERNAL_TYPES:
        return EXTERNAL_CLUSTER
    namespace = node.get("namespace")
    if namespace is None:
        return UNPLACED_CLUSTER
    return NAMESPACE_PREFIX + str(namespace)


def cluster_title(cluster: str) -> str:
    """How a cluster is named on the page."""
    if cluster.startswith(NAMESPACE_PREFIX):
        return cluster[len(NAMESPACE_PREFIX) :]
    if cluster == EXTERNAL_CLUSTER:
        return "external addresses"
    return "inferred, namespace unknown"


def group_members(document: Mapping[str, Any]) -> dict[str, list[str]]:
    """Group id -> its node ids; without "groups" (version 1, `--pairs`) each node is its own."""
    groups = document.get("groups")
    if groups:
        return {str(g["id"]): [str(n) for n in g["nodes"]] for g in groups}
    return {str(n["id"]): [str(n["id"])] for n in document.get("nodes", [])}


def _flow_members(
    document: Mapping[str, Any], members: Mapping[str, list[str]]
) -> Iterator[tuple[int, list[str], list[str]]]:
    """Each flow's index with the nodes of its two ends; an end that names nothing is a bug."""
    for index, flow in enumerate(document.get("flows", [])):
        ends = []
        for end in (flow["source"], flow["target"]):
            if end not in members:
                raise ValueError(f"flow {index} names unknown node {end!r}")
            ends.append(members[end])
        yield index, ends[0], ends[1]


Pair = tuple[int, str, str]
"""(flow index, source node id, target node id): one pair a flow allows."""


def drawn_pairs(
    document: Mapping[str, Any], order: Sequence[int] | None = None, limit: int | None = None
) -> list[Pair]:
    """At most `limit` pairs of nodes, taken flow by flow in `order` (default: document order).

    A flow from a group to itself leaves out each node's pair with itself.
    Only what is returned is expanded, so the cost is bounded by `limit`.
    """
    members = group_members(document)
    flows = {index: (source, target) for index, source, target in _flow_members(document, members)}
    pairs: list[Pair] = []
    for index in order if order is not None else range(len(flows)):
        sources, targets = flows[index]
        for a in sources:
            for b in targets:
                if limit is not None and len(pairs) >= limit:
                    return pairs
                if a != b:
                    pairs.append((index, a, b))
    return pairs


def reach_counts(document: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
    """Node id -> (how many other nodes it has a flow to, how many have a flow to it).

    Every member of a group has the group's flows, so a node's reach-out is
    the sum of its flows' target group sizes (less itself in its own group):
    O(nodes + flows), however many pairs the flows stand for.
    """
    members = group_members(document)
    size = {group: len(nodes) for group, nodes in members.items()}
    out: dict[str, int] = defaultdict(int)
    into: dict[str, int] = defaultdict(int)
    for flow in document.get("flows", []):
        source, target = str(flow["source"]), str(flow["target"])
        same = int(source == target)
        out[source] += size.get(target, 0) - same
        into[target] += size.get(source, 0) - same
    return {node: (out[group], into[group]) for group, nodes in members.items() for node in nodes}


def build_graph(document: Mapping[str, Any], pairs: Iterable[Pair] | None = None) -> nx.DiGraph:
    """Nodes of the document with their attributes, one edge per pair of `pairs`.

    `pairs` defaults to every pair the flows allow (`drawn_pairs` without a
    limit): fine for a small document; pass a bounded list for a big one.
    Each node also gets `cluster` and `balance` (how many more nodes it
    sends to than it receives from, over the whole analysis); each edge gets
    its flow's keys plus `index` (its position in document["flows"]). A flow
    naming a node or group that is not in the document is a bug in whoever
    built the document.
    """
    flows = list(document.get("flows", []))
    counts = reach_counts(document)
    graph = nx.DiGraph()
    for node in document.get("nodes", []):
        out, into = counts.get(node["id"], (0, 0))
        graph.add_node(node["id"], **node, cluster=cluster_of(node), balance=out - into)
    for index, source, target in drawn_pairs(document) if pairs is None else pairs:
        graph.add_edge(
            source, target, **{**flows[index], "source": source, "target": target}, index=index
        )
    return graph


@dataclass(frozen=True, slots=True)
class Neighbours:
    """Direct peers of a node: what it can send to, and what can send to it."""

    reaches: tuple[str, ...]
    reached_by: tuple[str, ...]


def neighbours(graph: nx.DiGraph, node_id: str) -> Neighbours:
    return Neighbours(
        reaches=tuple(sorted(graph.successors(node_id))),
        reached_by=tuple(sorted(graph.predecessors(node_id))),
    )


def reachable_from(graph: nx.DiGraph, node_id: str) -> set[str]:
    """Every node reachable in one or more allowed hops (the node itself excluded)."""
    return set(nx.descendants(graph, node_id))


def reaching(graph: nx.DiGraph, node_id: str) -> set[str]:
    """Every node that can reach `node_id` in one or more allowed hops."""
    return set(nx.ancestors(graph, node_id))


def neighbourhood(graph: nx.DiGraph, node_id: str, depth: int = 1) -> set[str]:
    """The node and everything within `depth` hops, in either direction."""
    undirected = graph.to_undirected(as_view=True)
    return set(nx.single_source_shortest_path_length(undirected, node_id, cutoff=depth))


def clusters(graph: nx.DiGraph) -> dict[str, list[str]]:
    """Cluster key -> node ids in it, both in a stable order (see `_cluster_order`)."""
    members: dict[str, list[str]] = defaultdict(list)
    for node_id, cluster in graph.nodes(data="cluster"):
        members[cluster].append(node_id)
    return {key: _node_order(graph, members[key]) for key in _cluster_order(graph, members)}


def collapse_clusters(graph: nx.DiGraph, collapsed: Iterable[str]) -> nx.DiGraph:
    """The graph with each cluster in `collapsed` merged into one node named by its key.

    A merged node carries `members` (node ids), `pods` (their sum) and
    `internal` (flows inside the cluster, no longer drawn). Edges between
    the resulting nodes carry `flows` (how many flows they stand for) and
    `defaultAllow` (how many of those are open only by the Kubernetes default).
    """
    collapsed = set(collapsed)
    representative = {
        node_id: (cluster if cluster in collapsed else node_id)
        for node_id, cluster in graph.nodes(data="cluster")
    }
    result = nx.DiGraph()
    for node_id, attributes in graph.nodes(data=True):
        rep = representative[node_id]
        if rep == node_id:
            result.add_node(node_id, **attributes)
            continue
        if rep not in result:
            result.add_node(rep, cluster=rep, members=[], pods=0, internal=0)
        merged = result.nodes[rep]
        merged["members"].append(node_id)
        merged["pods"] += int(attributes.get("pods") or 0)
    for source, target, attributes in graph.edges(data=True):
        rep_source, rep_target = representative[source], representative[target]
        if rep_source == rep_target:
            result.nodes[rep_source]["internal"] += 1
            continue
        if not result.has_edge(rep_source, rep_target):
            result.add_edge(rep_source, rep_target, flows=0, defaultAllow=0)
        edge = result.edges[rep_source, rep_target]
        edge["flows"] += 1
        edge["defaultAllow"] += int(bool(attributes.get("defaultAllow")))
    return result


def _flow_balance(graph: nx.DiGraph, nodes: Iterable[str]) -> int:
    """Nodes reached minus nodes reaching, over the whole analysis: senders sort first."""
    return sum(int(graph.nodes[node].get("balance", 0)) for node in nodes)


def _cluster_order(graph: nx.DiGraph, members: Mapping[str, list[str]]) -> list[str]:
    """Namespaces that mostly send first, then receivers; external and unplaced last."""

    def key(cluster: str) -> tuple[int, int, str]:
        fixed = {UNPLACED_CLUSTER: 1, EXTERNAL_CLUSTER: 2}.get(cluster, 0)
        return (fixed, -_flow_balance(graph, members[cluster]), cluster)

    return sorted(members, key=key)


def _node_order(graph: nx.DiGraph, nodes: Iterable[str]) -> list[str]:
    return sorted(nodes, key=lambda node: (-_flow_balance(graph, [node]), str(node)))


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned rectangle in diagram units: where a cluster is drawn."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.left + self.right) / 2, (self.top + self.bottom) / 2)


@dataclass(frozen=True, slots=True)
class Layout:
    """Node positions and the box of each cluster around its nodes."""

    positions: dict[str, tuple[float, float]]
    boxes: dict[str, Box]


def layout(graph: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """Position of every node: clusters packed in rows, nodes on a grid inside each.

    A grid keeps the box-shaped, labelled nodes from overlapping whatever
    the upload's size, and costs O(n); the browser then has nothing to
    simulate. See `cluster_layout` for the cluster boxes as well.
    """
    return cluster_layout(graph).positions


def cluster_layout(graph: nx.DiGraph) -> Layout:
    groups = clusters(graph)
    shapes = {key: _grid_shape(len(nodes)) for key, nodes in groups.items()}
    sizes = {
        key: (columns * CELL_WIDTH, rows * CELL_HEIGHT) for key, (columns, rows) in shapes.items()
    }
    # Rows about as wide as the whole drawing is tall keep it near square.
    area = sum((w + CLUSTER_GAP) * (h + CLUSTER_GAP) for w, h in sizes.values())
    widest = max((w for w, _ in sizes.values()), default=0.0)
    row_limit = max(math.sqrt(area) * 1.3, widest)

    positions: dict[str, tuple[float, float]] = {}
    boxes: dict[str, Box] = {}
    x = y = row_height = 0.0
    for key, nodes in groups.items():
        width, height = sizes[key]
        if x > 0 and x + width > row_limit:
            x, y, row_height = 0.0, y + row_height + CLUSTER_GAP, 0.0
        columns, _ = shapes[key]
        for index, node_id in enumerate(nodes):
            row, column = divmod(index, columns)
            positions[node_id] = (
                round(x + (column + 0.5) * CELL_WIDTH, 1),
                round(y + (row + 0.5) * CELL_HEIGHT, 1),
            )
        boxes[key] = Box(x, y, x + width, y + height)
        x += width + CLUSTER_GAP
        row_height = max(row_height, height)
    return Layout(positions, boxes)


def _grid_shape(count: int) -> tuple[int, int]:
    """Columns and rows of a cluster's grid: about twice as many rows as columns.

    Cells are about twice as wide as tall, so this makes square-looking boxes.
    """
    if count <= 0:
        return (1, 1)
    columns = max(1, math.ceil(math.sqrt(count / 2)))
    rows = math.ceil(count / columns)
    return (columns, rows)
