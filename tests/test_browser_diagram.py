"""The diagram tells the story at every size (issue 9), in real Chromium against a real server.

Each node says whether it is isolated per direction; arrows are what a
policy allows, and open-by-default traffic is drawn only by namespace on
request; a picked pair that no flow allows is drawn as denied, with the
reason; the first view of 200 and of 1,000 workloads is readable at fit,
says what it leaves out, and counts reach over the whole analysis; labels,
colours, selection, tooltips, the legend and the summary are legible.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from browserfixtures import (
    PageWatch,
    ServerProcess,
    bare_pods,
    large_manifests,
    wait_ready,
)
from test_browser_reach import group_reach, shown_reach

from webapp.core.document import pair_flows
from webapp.graph import cluster_of
from webapp.outputs.offline import standalone_html

pytestmark = pytest.mark.browser

SAMPLES = Path(__file__).resolve().parent.parent / "sample-manifests"
SHOP = "10-online-shop"
ARTICLE = "01-db-ingress-from-backend-with-app"
POLICY_ONLY = "01-db-ingress-from-backend"
SELECTED = "#1565c0"
DENIED = "#c62828"


def sample_files(slug: str) -> list[tuple[str, bytes]]:
    files = sorted(
        path
        for path in (SAMPLES / slug).rglob("*")
        if path.suffix in (".yaml", ".yml", ".json") and path.name != "scenario.yaml"
    )
    return [(path.name, path.read_bytes()) for path in files]


def open_upload(tab: Any, server: ServerProcess, files: list[tuple[str, bytes]]) -> dict[str, Any]:
    answer = server.post_analysis(files)
    tab.goto(server.url + answer["url"])
    wait_ready(tab, timeout=30_000)
    return answer


def drawn(tab: Any) -> list[dict[str, Any]]:
    return list(tab.evaluate("window.netpolViz.nodes.get()"))


def drawn_edges(tab: Any) -> list[dict[str, Any]]:
    return list(tab.evaluate("window.netpolViz.edges.get()"))


def vis_id(tab: Any, name: str) -> int:
    return int(
        tab.evaluate(
            f"window.netpolViz.view.nodeDetails.findIndex((d) => d.name === {json.dumps(name)})"
        )
    )


def click_node(tab: Any, node: int | str, *, shift: bool = False, double: bool = False) -> None:
    point = tab.evaluate(f"window.netpolViz.domPointOfNode({json.dumps(node)})")
    box = tab.locator("#network canvas").bounding_box()
    x, y = box["x"] + point["x"], box["y"] + point["y"]
    if double:
        tab.mouse.dblclick(x, y)
        return
    if shift:
        tab.keyboard.down("Shift")
    tab.mouse.click(x, y)
    if shift:
        tab.keyboard.up("Shift")


@pytest.fixture
def page(context: Any, server: ServerProcess) -> tuple[Any, PageWatch]:
    tab = context.new_page()
    return tab, PageWatch(tab, server.url)


@pytest.fixture
def small_screen(browser: Any, server: ServerProcess) -> Any:
    """A laptop's screen: 1440 × 900."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    tab = context.new_page()
    yield tab, PageWatch(tab, server.url)
    context.close()


# --- the story first: isolation on every node, arrows are what a policy allows ---------


def test_every_node_says_its_isolation_and_open_traffic_is_drawn_only_by_namespace(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    answer = open_upload(tab, server, sample_files(SHOP))
    document = answer["analysis"]
    details = tab.evaluate("window.netpolViz.view.nodeDetails")
    nodes = [n for n in drawn(tab) if isinstance(n["id"], int)]
    assert len(nodes) == len(document["nodes"])  # 12 workloads: drawn one by one, readable
    for node in nodes:
        detail = details[node["id"]]
        if detail["type"] == "ipblock":
            continue
        lines = node["label"].split("\n")
        isolated = detail.get("isolated") or {}
        want_in = "ingress: isolated" if isolated.get("ingress") else "ingress: open to all"
        want_out = "egress: isolated" if isolated.get("egress") else "egress: may reach anything"
        assert want_in in lines and want_out in lines, (detail["name"], lines)
        assert ("open to every pod and address" in node["title"]) != bool(isolated.get("ingress"))

    # Arrows: one per pair a policy rule allows; no open-by-default pair is drawn one by one.
    rule_pairs = sum(f["pairs"] for f in document["flows"] if not f["defaultAllow"])
    open_pairs = sum(f["pairs"] for f in document["flows"] if f["defaultAllow"])
    assert open_pairs > 0
    edges = drawn_edges(tab)
    assert all(isinstance(e["id"], int) for e in edges)
    assert len(edges) == rule_pairs
    assert not any(e.get("dashes") for e in edges)
    status = tab.inner_text("#status-line")
    assert f"{open_pairs} pairs open by default" in status
    legend = tab.inner_text(".legend")
    assert "open to all" in legend and "may reach anything" in legend

    # The toggle draws open traffic summed by namespace, counted over every pair.
    tab.check("#show-open")
    opened = [e for e in drawn_edges(tab) if str(e["id"]).startswith("open:")]
    assert opened and all(e["dashes"] for e in opened)
    by_id = {n["id"]: n for n in document["nodes"]}
    between: Counter[tuple[str, str]] = Counter()
    for pair in pair_flows(document):
        if pair["defaultAllow"]:
            ends = cluster_of(by_id[pair["source"]]), cluster_of(by_id[pair["target"]])
            if ends[0] != ends[1]:
                between[ends] += 1
    title = re.compile(r"(\d+) pairs? of nodes open by default")
    counts = [int(title.match(e["title"]).group(1)) for e in opened]  # type: ignore[union-attr]
    assert sorted(counts) == sorted(between.values())
    hubs = [n for n in drawn(tab) if str(n["id"]).startswith("hub:")]
    assert hubs and all(n["label"].startswith("open traffic · ") for n in hubs)
    assert f"{open_pairs} pairs open by default" in tab.inner_text("#status-line")
    tab.uncheck("#show-open")
    assert not any(str(e["id"]).startswith("open:") for e in drawn_edges(tab))
    watch.assert_clean()


# --- denied traffic can be seen ---------------------------------------------------------


def denied_edge(tab: Any) -> dict[str, Any]:
    tab.wait_for_function("() => document.body.dataset.denied")
    edge_id = tab.evaluate("document.body.dataset.denied")
    edge = tab.evaluate(f"window.netpolViz.edges.get({json.dumps(edge_id)})")
    assert edge is not None, edge_id
    return dict(edge)


def test_compare_with_draws_a_denied_pair_with_the_refusing_side_and_the_rules(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    open_upload(tab, server, sample_files(ARTICLE))
    frontend, mysql, backend = (vis_id(tab, n) for n in ("frontend", "mysql", "backend"))
    tab.evaluate(f"window.netpolViz.reveal({frontend})")
    tab.click("text=Compare with…")
    assert "Now click the node to compare default/frontend with" in tab.inner_text("#details")
    click_node(tab, mysql)
    edge = denied_edge(tab)
    assert (edge["from"], edge["to"]) == (frontend, mysql)
    assert edge["label"] == "✕ denied: default/mysql refuses ingress"
    # Distinct from an allowed arrow and from the selection: red and dotted.
    assert edge["color"]["color"] == DENIED and edge["dashes"]
    assert tab.evaluate("window.netpolViz.view.options.edges.color.highlight") == SELECTED
    assert tab.evaluate("document.body.dataset.why") == "denied"

    point = tab.evaluate(f"window.netpolViz.domPointOfEdge({json.dumps(edge['id'])})")
    box = tab.locator("#network canvas").bounding_box()
    tab.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    panel = tab.inner_text("#details")
    assert "Denied" in panel
    assert "isolated by default/db-backend" in panel
    assert "default/db-backend · spec.ingress[0]" in panel  # the rule, and why it does not match

    # An allowed pair is not "denied": comparing shows its rule, and the denied edge stays.
    tab.evaluate(f"window.netpolViz.reveal({backend})")
    tab.click("text=Compare with…")
    click_node(tab, mysql)
    tab.wait_for_function("() => document.querySelector('#details .rule-head')")
    assert "default/db-backend · spec.ingress[0]" in tab.inner_text("#details")
    watch.assert_clean()


def test_offline_export_shift_click_draws_the_denied_pair_from_the_node_data(
    context: Any, tmp_path: Path, server: ServerProcess
) -> None:
    answer = server.post_analysis(sample_files(ARTICLE))
    saved = tmp_path / "diagram.html"
    saved.write_text(standalone_html(answer["analysis"]), encoding="utf-8")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(saved.as_uri())
    wait_ready(tab)
    frontend, mysql = vis_id(tab, "frontend"), vis_id(tab, "mysql")
    click_node(tab, frontend, shift=True)
    click_node(tab, mysql, shift=True)
    edge = denied_edge(tab)
    assert (edge["from"], edge["to"]) == (frontend, mysql)
    assert edge["label"] == "✕ denied: default/mysql refuses ingress"
    panel = tab.inner_text("#details")
    assert "isolated for ingress by default/db-backend" in panel
    assert "open the served page" in panel
    assert errors == []


# --- every size: levels of detail, readable at fit, counts over the whole analysis ------

LEGIBLE_PX = 10
DRAWN_NODES_AT_MOST = 40


@pytest.mark.slow
@pytest.mark.parametrize(
    ("workloads", "namespaces"),
    [pytest.param(200, 20, id="200-workloads"), pytest.param(1000, 100, id="1000-workloads")],
)
def test_first_view_is_readable_at_fit_and_says_what_it_leaves_out(
    small_screen: tuple[Any, PageWatch], server: ServerProcess, workloads: int, namespaces: int
) -> None:
    tab, watch = small_screen
    answer = open_upload(
        tab, server, [("cluster.yaml", large_manifests(workloads, namespaces).encode())]
    )
    document = answer["analysis"]
    first = tab.evaluate(
        """() => {
          const v = window.netpolViz;
          const scale = v.network.getScale();
          const base = v.view.options.nodes.font.size;
          const sizes = v.nodes.get().map((n) => (n.font && n.font.size) || base);
          return {scale: scale, count: v.nodes.length, smallest: Math.min(...sizes) * scale,
                  ids: v.nodes.getIds()};
        }"""
    )
    assert first["count"] <= DRAWN_NODES_AT_MOST, first["count"]
    assert first["smallest"] >= LEGIBLE_PX, first

    # Namespace boxes, the fold and single nodes stand for every node exactly once.
    clusters = tab.evaluate("window.netpolViz.view.clusters")
    by_id = {c["id"]: c for c in clusters}
    shown = sum(len(by_id[i]["members"]) for i in first["ids"] if i in by_id)
    shown += sum(1 for i in first["ids"] if isinstance(i, int))
    status = tab.inner_text("#status-line")
    folded = re.search(r"holds (\d+) namespaces \((\d+) nodes\)", status)
    if workloads >= 1000:
        assert folded, status
        assert "more" in first["ids"]
        shown += int(folded.group(2))
        assert int(folded.group(1)) + sum(1 for i in first["ids"] if i in by_id) == len(clusters)
    assert shown == len(document["nodes"])

    # Arrows between namespaces are summed: node pairs and their ports.
    labels = tab.evaluate(
        """() => window.netpolViz.edges.get().map((e) => e.label ||
             window.netpolViz.network.body.edges[e.id] && window.netpolViz.edges.get(e.id).title)"""
    )
    assert any(re.search(r"\d+ pairs? (of nodes )?.*(TCP|UDP) ", label or "") for label in labels)

    # A namespace expands to its workloads.
    team = next(c for c in clusters if c["id"] in first["ids"] and c["title"].startswith("team-"))
    click_node(tab, team["id"], double=True)
    tab.wait_for_function(
        f"() => {json.dumps(team['members'])}.every((id) => window.netpolViz.nodes.get(id))"
    )
    if workloads >= 1000:
        tab.click("#fit")
        click_node(tab, "more", double=True)
        tab.wait_for_function("() => !window.netpolViz.nodes.get('more')")
        assert tab.evaluate("window.netpolViz.nodes.length") >= len(clusters) - 1

    # Reach over the whole analysis, whatever is drawn (CONTRACT §5 hooks).
    expected = group_reach(document)
    coredns = next(n for n in document["nodes"] if n["name"] == "coredns")
    sample = [coredns, next(n for n in document["nodes"] if n["type"] == "ipblock")]
    for tier in ("web-", "api-", "db-"):
        sample.append(next(n for n in document["nodes"] if n["name"].startswith(tier)))
    for node in sample:
        assert shown_reach(tab, node) == expected[node["id"]], node["name"]
    # Every workload resolves DNS, and coredns is open to the external addresses.
    assert expected[coredns["id"]][1] == len(document["nodes"]) - 1
    watch.assert_clean()


def test_a_large_group_of_alike_nodes_is_one_box_with_a_count(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    answer = open_upload(tab, server, [("pods.json", bare_pods(200, namespaces=4))])
    clusters = tab.evaluate("window.netpolViz.view.clusters")
    ns0 = next(c for c in clusters if c["title"] == "ns-0")
    click_node(tab, ns0["id"], double=True)
    key = tab.evaluate(
        "window.netpolViz.nodes.getIds().find((id) => String(id).startsWith('grp:'))"
    )
    box = tab.evaluate(f"window.netpolViz.nodes.get({json.dumps(key)})")
    assert box["label"].split("\n")[0] == "×50 alike workloads · 50 pods"
    assert "ingress: open to all" in box["label"].split("\n")
    assert not any(isinstance(i, int) for i in tab.evaluate("window.netpolViz.nodes.getIds()"))
    status = tab.inner_text("#status-line")
    assert "1 box of alike nodes" in status and "boxes hold 50 nodes" in status
    click_node(tab, key)
    assert "×50 alike nodes in ns-0" in tab.inner_text("#details")

    click_node(tab, key, double=True)
    tab.wait_for_function(
        f"() => {json.dumps(ns0['members'])}.every((id) => window.netpolViz.nodes.get(id))"
    )
    assert not tab.evaluate(f"window.netpolViz.nodes.get({json.dumps(key)})")
    # Reach is the group's, over every pod: 199 others and the external addresses.
    pod = next(n for n in answer["analysis"]["nodes"] if n["name"] == "pod-0101")
    externals = sum(1 for n in answer["analysis"]["nodes"] if n["type"] == "ipblock")
    assert shown_reach(tab, pod) == (199 + externals, 199 + externals)
    watch.assert_clean()


# --- legibility --------------------------------------------------------------------------


def test_dense_port_labels_show_on_selection_and_tooltips_stay_beside_the_node(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    open_upload(tab, server, sample_files(SHOP))
    edges = drawn_edges(tab)
    assert len(edges) > 30  # dense: labels would pile up
    assert all(e["label"] == "" for e in edges)
    postgres = vis_id(tab, "postgres")
    click_node(tab, postgres)
    tab.wait_for_function("() => window.netpolViz.edges.get().some((e) => e.label)")
    labelled = {e["id"] for e in drawn_edges(tab) if e["label"]}
    touching = {e["id"] for e in drawn_edges(tab) if postgres in (e["from"], e["to"])}
    assert labelled == touching
    assert all(
        re.fullmatch(r"(TCP|UDP|SCTP) .+|all", e["label"]) for e in drawn_edges(tab) if e["label"]
    )
    selected_edge = next(iter(touching))
    color = tab.evaluate(
        f"window.netpolViz.network.body.edges[{selected_edge}].options.color.highlight"
    )
    assert color == SELECTED

    # The tooltip: sans-serif, beside the hovered node rather than over it.
    cart = vis_id(tab, "cart")
    point = tab.evaluate(f"window.netpolViz.domPointOfNode({cart})")
    box = tab.locator("#network canvas").bounding_box()
    tab.mouse.move(box["x"] + point["x"], box["y"] + point["y"])
    tip = tab.locator("div.vis-tooltip")
    tip.wait_for(state="visible")
    family = tip.evaluate("(el) => getComputedStyle(el).fontFamily")
    assert "sans-serif" in family and "monospace" not in family
    node_box = tab.evaluate(
        f"""() => {{
          const n = window.netpolViz.network, b = n.getBoundingBox({cart});
          const a = n.canvasToDOM({{x: b.left, y: b.top}});
          const z = n.canvasToDOM({{x: b.right, y: b.bottom}});
          return {{left: a.x, top: a.y, right: z.x, bottom: z.y}};
        }}"""
    )
    tip_box = tip.bounding_box()
    left, top = tip_box["x"] - box["x"], tip_box["y"] - box["y"]
    right, bottom = left + tip_box["width"], top + tip_box["height"]
    overlaps = (
        left < node_box["right"]
        and right > node_box["left"]
        and top < node_box["bottom"]
        and bottom > node_box["top"]
    )
    assert not overlaps, (tip_box, node_box)
    watch.assert_clean()


def test_namespace_colours_come_from_their_names(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    open_upload(tab, server, sample_files(SHOP))
    before = {c["title"]: c["color"] for c in tab.evaluate("window.netpolViz.view.clusters")}
    # Another upload with a namespace that sorts first and changes every cluster's position.
    extra = (
        b"apiVersion: v1\nkind: Pod\nmetadata: {name: first, namespace: aaa-first}\n"
        b"spec: {containers: [{name: x, image: x}]}\n"
    )
    open_upload(tab, server, [*sample_files(SHOP), ("extra.yaml", extra)])
    after = {c["title"]: c["color"] for c in tab.evaluate("window.netpolViz.view.clusters")}
    assert "aaa-first" in after
    assert {title: after[title] for title in before} == before
    swatches = tab.evaluate(
        "[...document.querySelectorAll('#legend-namespaces .swatch')]"
        ".map((s) => s.style.backgroundColor)"
    )
    assert len(set(swatches)) == len(swatches)
    watch.assert_clean()


def test_legend_is_visible_without_scrolling_on_a_laptop_screen(
    small_screen: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = small_screen
    open_upload(tab, server, sample_files(SHOP))
    assert tab.evaluate("window.scrollY") == 0
    legend = tab.locator(".legend").bounding_box()
    assert legend["y"] + legend["height"] <= 900, legend
    assert tab.locator("#network").bounding_box()["height"] >= 400
    watch.assert_clean()


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        pytest.param(
            POLICY_ONLY,
            ["1 policy", "1 isolated for ingress", "0 isolated for egress"],
            id="policies-only",
        ),
        pytest.param(
            ARTICLE,
            ["5 workloads", "1 policy", "1 isolated for ingress", "0 problems"],
            id="with-app",
        ),
    ],
)
def test_summary_agrees_with_the_nodes_and_says_plurals_right(
    page: tuple[Any, PageWatch], server: ServerProcess, slug: str, expected: list[str]
) -> None:
    tab, watch = page
    open_upload(tab, server, sample_files(slug))
    summary = re.sub(r"\s+", " ", tab.inner_text(".summary"))
    for text in expected:
        assert re.search(rf"(^|\s){re.escape(text)}(\s|$|\()", summary), (text, summary)
    assert not re.search(r"(^|\s)1 (workloads|pods|policies|problems|flows)\b", summary), summary
    # As many nodes say "ingress: isolated" as the summary counts.
    isolated = sum(1 for n in drawn(tab) if "ingress: isolated" in n.get("label", "").split("\n"))
    count = int(re.search(r"(\d+) isolated for ingress", summary).group(1))
    assert isolated == count
    watch.assert_clean()
