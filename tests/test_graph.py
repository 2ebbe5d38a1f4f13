"""webapp.graph: the document as a networkx graph, its queries and its layout."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
from browserfixtures import (
    article_document,
    flow,
    inferred,
    ipblock,
    synthetic_document,
    tcp,
    workload,
)

from webapp.graph import (
    EXTERNAL_CLUSTER,
    UNPLACED_CLUSTER,
    build_graph,
    cluster_layout,
    cluster_of,
    cluster_title,
    clusters,
    collapse_clusters,
    layout,
    neighbourhood,
    neighbours,
    reachable_from,
    reaching,
)

A = workload("alpha", "a", {"app": "a"}, pods=2)
B = workload("alpha", "b", {"app": "b"}, pods=3, ingress=["alpha/p"])
C = workload("beta", "c", {"app": "c"})
D = workload("beta", "d", {"app": "d"})
WORLD = ipblock(["0.0.0.0/0"])


def chain_document() -> dict[str, Any]:
    """a -> b -> c -> d, plus d -> world; a -> b is by rule, the rest open by default."""
    return {
        "version": 1,
        "nodes": [A, B, C, D, WORLD],
        "flows": [
            flow(
                A, B, [tcp(80)], ingress=[{"policy": "alpha/p", "direction": "ingress", "rule": 0}]
            ),
            flow(B, C),
            flow(C, D),
            flow(D, WORLD),
        ],
        "policies": [],
        "findings": [],
        "problems": [],
    }


@pytest.mark.parametrize(
    ("node", "cluster", "title"),
    [
        pytest.param(A, "ns:alpha", "alpha", id="workload-in-its-namespace"),
        pytest.param(WORLD, EXTERNAL_CLUSTER, "external addresses", id="ipblock-is-external"),
        pytest.param(inferred("beta", "app=x"), "ns:beta", "beta", id="inferred-in-namespace"),
        pytest.param(
            inferred(None, "app=x"),
            UNPLACED_CLUSTER,
            "inferred, namespace unknown",
            id="inferred-without-namespace",
        ),
        pytest.param(
            workload("external", "x", {}),
            "ns:external",
            "external",
            id="namespace-named-external-does-not-collide",
        ),
    ],
)
def test_cluster_of(node: dict[str, Any], cluster: str, title: str) -> None:
    assert cluster_of(node) == cluster
    assert cluster_title(cluster) == title


def test_build_graph_keeps_node_attributes_and_one_edge_per_flow() -> None:
    document = article_document()
    graph = build_graph(document)
    assert graph.number_of_nodes() == len(document["nodes"])
    assert graph.number_of_edges() == len(document["flows"])
    mysql = graph.nodes["default/Deployment/mysql"]
    assert mysql["labels"] == {"name": "mysql"}
    assert mysql["isolated"] == {"ingress": True, "egress": False}
    assert mysql["cluster"] == "ns:default"
    edge = graph.edges["default/Deployment/backend", "default/Deployment/mysql"]
    assert edge["ports"] == [tcp(3306)]
    assert edge["ingress"][0]["policy"] == "default/db-backend"
    assert document["flows"][edge["index"]]["target"] == "default/Deployment/mysql"
    assert not graph.has_edge("default/Deployment/frontend", "default/Deployment/mysql")


def test_build_graph_rejects_a_flow_to_an_unknown_node() -> None:
    document = chain_document()
    document["flows"].append(flow(A, workload("x", "ghost", {})))
    with pytest.raises(ValueError, match="ghost"):
        build_graph(document)


@pytest.mark.parametrize(
    ("node", "reaches", "reached_by"),
    [
        pytest.param(A["id"], (B["id"],), (), id="source-only"),
        pytest.param(C["id"], (D["id"],), (B["id"],), id="middle"),
        pytest.param(WORLD["id"], (), (D["id"],), id="sink-only"),
    ],
)
def test_neighbours(node: str, reaches: tuple[str, ...], reached_by: tuple[str, ...]) -> None:
    found = neighbours(build_graph(chain_document()), node)
    assert found.reaches == reaches
    assert found.reached_by == reached_by


def test_transitive_reach_follows_hops_in_flow_direction() -> None:
    graph = build_graph(chain_document())
    assert reachable_from(graph, A["id"]) == {B["id"], C["id"], D["id"], WORLD["id"]}
    assert reachable_from(graph, WORLD["id"]) == set()
    assert reaching(graph, C["id"]) == {A["id"], B["id"]}
    assert A["id"] not in reachable_from(graph, A["id"])


@pytest.mark.parametrize(
    ("depth", "expected"),
    [
        pytest.param(0, {C["id"]}, id="depth-0-is-the-node"),
        pytest.param(1, {B["id"], C["id"], D["id"]}, id="depth-1-both-directions"),
        pytest.param(2, {A["id"], B["id"], C["id"], D["id"], WORLD["id"]}, id="depth-2"),
    ],
)
def test_neighbourhood(depth: int, expected: set[str]) -> None:
    assert neighbourhood(build_graph(chain_document()), C["id"], depth) == expected


def test_collapse_merges_a_namespace_and_counts_what_its_edges_stand_for() -> None:
    collapsed = collapse_clusters(build_graph(chain_document()), ["ns:alpha"])
    assert set(collapsed.nodes) == {"ns:alpha", C["id"], D["id"], WORLD["id"]}
    alpha = collapsed.nodes["ns:alpha"]
    assert sorted(alpha["members"]) == sorted([A["id"], B["id"]])
    assert alpha["pods"] == 5
    assert alpha["internal"] == 1  # a -> b is inside alpha now
    assert collapsed.edges["ns:alpha", C["id"]] == {"flows": 1, "defaultAllow": 1}


def test_collapse_everything_aggregates_flows_between_clusters() -> None:
    graph = build_graph(chain_document())
    collapsed = collapse_clusters(graph, {"ns:alpha", "ns:beta", EXTERNAL_CLUSTER})
    assert set(collapsed.edges) == {("ns:alpha", "ns:beta"), ("ns:beta", EXTERNAL_CLUSTER)}
    assert collapsed.nodes["ns:beta"]["internal"] == 1
    assert collapse_clusters(graph, []).number_of_edges() == graph.number_of_edges()


def test_clusters_put_senders_first_and_external_last() -> None:
    order = list(clusters(build_graph(chain_document())))
    assert order == ["ns:alpha", "ns:beta", EXTERNAL_CLUSTER]


def test_layout_places_every_node_apart_and_inside_its_cluster_box() -> None:
    graph = build_graph(article_document())
    placed = cluster_layout(graph)
    assert set(placed.positions) == set(graph.nodes)
    assert len(set(placed.positions.values())) == graph.number_of_nodes()
    for node_id, (x, y) in placed.positions.items():
        box = placed.boxes[graph.nodes[node_id]["cluster"]]
        assert box.left < x < box.right and box.top < y < box.bottom
    for one, two in itertools.combinations(placed.boxes.values(), 2):
        apart = (
            one.right <= two.left
            or two.right <= one.left
            or one.bottom <= two.top
            or two.bottom <= one.top
        )
        assert apart, (one, two)
    assert layout(graph) == placed.positions
    assert layout(build_graph(article_document())) == placed.positions  # deterministic


def test_layout_of_a_large_upload_is_quick() -> None:
    graph = build_graph(synthetic_document(3000, namespaces=60))
    started = time.perf_counter()
    positions = layout(graph)
    assert time.perf_counter() - started < 1.0
    assert len(set(positions.values())) == 3000
