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
    drawn_pairs,
    layout,
    neighbourhood,
    neighbours,
    reach_counts,
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


# --- version 2: flows between groups ----------------------------------------------


def grouped_document() -> dict[str, Any]:
    """Group G = {a, b, c} (alpha) talks to itself and to H = {world}; nothing reaches H back."""
    a, b, c = (workload("alpha", name, {"tier": "x"}) for name in ("a", "b", "c"))
    nodes = [a, b, c, WORLD]
    return {
        "version": 2,
        "nodes": nodes,
        "groups": [
            {"id": "group:g", "nodes": [a["id"], b["id"], c["id"]]},
            {"id": WORLD["id"], "nodes": [WORLD["id"]]},
        ],
        "flows": [
            {**flow(a, a, [tcp(80)]), "source": "group:g", "target": "group:g", "pairs": 6},
            {**flow(a, WORLD, [tcp(443)]), "source": "group:g", "target": WORLD["id"], "pairs": 3},
        ],
        "policies": [],
        "findings": [],
        "problems": [],
    }


@pytest.mark.parametrize(
    ("name", "counts"),
    [
        pytest.param("a", (3, 2), id="member-reaches-the-others-of-its-group-and-the-target"),
        pytest.param("c", (3, 2), id="every-member-alike"),
        pytest.param("0.0.0.0/0", (0, 3), id="target-group-reached-by-every-member"),
    ],
)
def test_reach_counts_are_arithmetic_over_groups(name: str, counts: tuple[int, int]) -> None:
    document = grouped_document()
    node = next(n for n in document["nodes"] if n["name"] == name)
    assert reach_counts(document)[node["id"]] == counts


def test_reach_counts_of_a_pairwise_document_count_its_flows() -> None:
    counts = reach_counts(chain_document())
    assert counts[C["id"]] == (1, 1)
    assert counts[WORLD["id"]] == (0, 1)


def test_drawn_pairs_expand_group_flows_without_self_pairs_up_to_the_limit() -> None:
    document = grouped_document()
    every = drawn_pairs(document)
    assert len(every) == 9 == sum(f["pairs"] for f in document["flows"])
    assert all(source != target for _, source, target in every)
    assert drawn_pairs(document, order=[1, 0], limit=4)[:3] == [
        (1, n, WORLD["id"]) for n in document["groups"][0]["nodes"]
    ]
    assert len(drawn_pairs(document, limit=4)) == 4
    graph = build_graph(document)
    assert graph.number_of_edges() == 9
    assert graph.edges[document["nodes"][0]["id"], WORLD["id"]]["index"] == 1


def test_build_graph_rejects_a_flow_to_an_unknown_group() -> None:
    document = grouped_document()
    document["flows"][0]["target"] = "group:ghost"
    with pytest.raises(ValueError, match="ghost"):
        build_graph(document)
