"""Finding, selecting, focusing and sharing on the diagram page (issue 9), in real Chromium.

Search lists every match over the whole analysis; a selected node lists
everything it reaches and is reached by; focus draws only the node's own
flows; the address bar follows selection, focus, filters and the why / why
not question (CONTRACT §5 deep links), and every deep link restores its view;
the why tool's pickers are type-ahead and its answer puts the deciding rules
first. Expected values come from the analysis document, never from the page.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from browserfixtures import (
    PageWatch,
    ServerProcess,
    _deployment,
    _policy,
    pick_node,
    team_tiers,
    wait_ready,
)

pytestmark = pytest.mark.browser

SAMPLES = Path(__file__).resolve().parent.parent / "sample-manifests"
INGRESS = "01-db-ingress-from-backend-with-app"
IPBLOCK = "04-db-ipblock-with-app"
SHOP = "10-online-shop"
MYSQL = "default/Deployment/mysql"
BACKEND = "default/Deployment/backend"


def sample(slug: str) -> list[tuple[str, bytes]]:
    paths = sorted(p for p in (SAMPLES / slug).rglob("*") if p.suffix in (".yaml", ".json"))
    assert paths, slug
    return [(p.name, p.read_bytes()) for p in paths]


def peers(document: dict[str, Any], node_id: str, forward: bool) -> set[str]:
    """The nodes node_id has a flow to (forward) or from, from the document's groups."""
    members = {g["id"]: g["nodes"] for g in document["groups"]}
    group = next(n["group"] for n in document["nodes"] if n["id"] == node_id)
    found: set[str] = set()
    for flow in document["flows"]:
        if flow["source" if forward else "target"] == group:
            found.update(members[flow["target" if forward else "source"]])
    found.discard(node_id)
    return found


def shown_name(node: dict[str, Any]) -> str:
    """How the page names a node: ns/name for a workload, else its name."""
    return f"{node['namespace']}/{node['name']}" if node["type"] == "workload" else node["name"]


@pytest.fixture(scope="module")
def uploads(server: ServerProcess) -> Iterator[dict[str, dict[str, Any]]]:
    """One upload of each kind, shared by the module's tests (the API's answers)."""
    yield {
        "ingress": server.post_analysis(sample(INGRESS)),
        "ipblock": server.post_analysis(sample(IPBLOCK)),
        "shop": server.post_analysis(sample(SHOP)),
        "tiers200": server.post_analysis([("tiers.yaml", team_tiers(200, 10).encode())]),
        "tiers400": server.post_analysis([("tiers.yaml", team_tiers(400, 10).encode())]),
    }


@pytest.fixture
def page(context: Any, server: ServerProcess) -> Iterator[tuple[Any, PageWatch]]:
    tab = context.new_page()
    watch = PageWatch(tab, server.url)
    yield tab, watch
    watch.assert_clean()


def open_page(tab: Any, server: ServerProcess, answer: dict[str, Any], query: str = "") -> None:
    tab.goto(server.url + answer["url"] + query)
    wait_ready(tab, timeout=30_000)


def vis_id(tab: Any, node_id: str) -> int:
    return int(
        tab.evaluate(
            "(id) => window.netpolViz.view.nodeDetails.findIndex((d) => d.id === id)", node_id
        )
    )


def address(tab: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(tab.url).query)


def panel_title(tab: Any) -> str:
    return str(tab.locator('[data-testid="details"] .panel-title').inner_text())


def drawn_edges(tab: Any) -> list[dict[str, Any]]:
    return list(tab.evaluate("window.netpolViz.edges.get().map((e) => ({from: e.from, to: e.to}))"))


# --- search -------------------------------------------------------------------------------

SEARCHES = [
    pytest.param("shop-data/postgres", ["shop-data/postgres"], id="ns-slash-name-first"),
    pytest.param("redis", ["shop-data/redis"], id="name"),
    pytest.param("tier=api", ["shop-backend/cart", "shop-backend/checkout"], id="label-k-v"),
    pytest.param(
        "shop-backend",
        [
            "shop-backend/cart",
            "shop-backend/checkout",
            "shop-backend/debug-shell",
            "shop-backend/order-cleanup",
            "shop-backend/webhook-sender",
        ],
        id="namespace",
    ),
]


@pytest.mark.parametrize(("query", "listed"), SEARCHES)
def test_search_lists_its_matches_best_first(
    page: tuple[Any, PageWatch],
    server: ServerProcess,
    uploads: dict[str, dict[str, Any]],
    query: str,
    listed: list[str],
) -> None:
    tab, _ = page
    open_page(tab, server, uploads["shop"])
    tab.locator('[data-testid="search"]').fill(query)
    options = tab.locator("#search-list .picker-option .picker-name")
    options.first.wait_for(state="visible")
    names = options.all_inner_texts()
    assert names[: len(listed)] == listed
    if query != "shop-data/postgres":  # a name also matches as text elsewhere: only the first
        assert names == listed
    count = len(names)
    assert tab.locator(".picker-count").first.inner_text() == (
        "1 match" if count == 1 else f"{count} matches"
    )
    tab.locator('[data-testid="search"]').press("Enter")
    assert panel_title(tab) == listed[0].split("/")[-1]


def test_search_by_label_lists_every_match_not_only_the_drawn_ones(
    page: tuple[Any, PageWatch], server: ServerProcess, uploads: dict[str, dict[str, Any]]
) -> None:
    tab, _ = page
    answer = uploads["tiers400"]
    open_page(tab, server, answer)
    document = answer["analysis"]
    expected = sorted(shown_name(n) for n in document["nodes"] if n.get("labels") == {"tier": "db"})
    assert len(expected) > 100
    # 400 workloads open collapsed: none of the dbs is drawn as a node of its own.
    ids = [vis_id(tab, n["id"]) for n in document["nodes"] if n.get("labels") == {"tier": "db"}]
    assert (
        tab.evaluate("(ids) => ids.filter((id) => window.netpolViz.nodes.get(id)).length", ids) == 0
    )

    search = tab.locator('[data-testid="search"]')
    search.fill("tier=db")
    tab.locator("#search-list .picker-option").first.wait_for(state="visible")
    names = tab.locator("#search-list .picker-option .picker-name").all_inner_texts()
    assert names == expected  # all of them, sorted by name
    assert tab.locator(".picker-count").first.inner_text() == f"{len(expected)} matches"
    assert tab.evaluate("window.netpolViz.matchNodes('tier=db').length") == len(expected)
    # The list scrolls rather than growing past the page.
    box = tab.locator("#search-list").bounding_box()
    assert box["height"] < 400
    assert tab.evaluate("document.getElementById('search-list').scrollHeight") > box["height"]

    # Keyboard: down, down, Enter picks the second; the panel and the address follow.
    search.press("ArrowDown")
    search.press("ArrowDown")
    assert tab.locator("#search-list [aria-selected=true] .picker-name").inner_text() == expected[1]
    search.press("Enter")
    assert panel_title(tab) == expected[1].split("/")[-1]
    assert not tab.locator("#search-list").is_visible()
    second = next(n for n in document["nodes"] if shown_name(n) == expected[1])
    assert address(tab)["select"] == [second["id"]]
    assert address(tab)["q"] == ["tier=db"]

    # A click on a result selects it too.
    search.fill("tier=db")
    tab.locator("#search-list .picker-option").nth(5).click()
    assert panel_title(tab) == expected[5].split("/")[-1]


# --- reach lists and focus ------------------------------------------------------------------


def test_a_selected_node_lists_everything_it_reaches_and_is_reached_by_with_ports(
    page: tuple[Any, PageWatch], server: ServerProcess, uploads: dict[str, dict[str, Any]]
) -> None:
    tab, _ = page
    answer = uploads["tiers200"]
    document = answer["analysis"]
    nodes = {n["id"]: n for n in document["nodes"]}
    web = next(n for n in document["nodes"] if n["name"] == "web-0005")
    db = next(n for n in document["nodes"] if n["name"] == "db-0020")  # team-00: api only
    open_page(tab, server, answer)
    tab.evaluate("(id) => window.netpolViz.reveal(id)", vis_id(tab, web["id"]))
    assert panel_title(tab) == "web-0005"

    for testid, forward in (("reach-out", True), ("reach-in", False)):
        expected = sorted(shown_name(nodes[i]) for i in peers(document, web["id"], forward))
        section = tab.locator(f'[data-testid="{testid}"]')
        assert int(section.get_attribute("data-count")) == len(expected) > 25
        items = section.locator(".peer")
        assert items.count() == 25  # folded
        section.locator(".show-all").click()
        assert items.count() == len(expected)
        assert sorted(items.locator(".link-button:not(.why)").all_inner_texts()) == expected
        assert all(port.strip() for port in section.locator(".ports").all_inner_texts())

    # db-0020 is reached by the api workloads of its namespace only, on TCP 5432.
    tab.evaluate("(id) => window.netpolViz.reveal(id)", vis_id(tab, db["id"]))
    into = tab.locator('[data-testid="reach-in"]')
    expected_in = sorted(shown_name(nodes[i]) for i in peers(document, db["id"], False))
    assert expected_in and all(name.startswith("team-00/api-") for name in expected_in)
    assert sorted(into.locator(".link-button:not(.why)").all_inner_texts()) == expected_in
    assert set(into.locator(".ports").all_inner_texts()) == {" TCP 5432"}


def test_focus_on_a_database_draws_only_its_own_flows(
    page: tuple[Any, PageWatch], server: ServerProcess, uploads: dict[str, dict[str, Any]]
) -> None:
    tab, _ = page
    answer = uploads["tiers200"]
    document = answer["analysis"]
    db = next(n for n in document["nodes"] if n["name"] == "db-0020")
    open_page(tab, server, answer)
    focus = vis_id(tab, db["id"])
    tab.evaluate("(id) => window.netpolViz.reveal(id)", focus)
    tab.check("#show-open")  # the db's open flows too, a pair each while focused
    tab.click("text=Focus on its neighbourhood")

    out, into = peers(document, db["id"], True), peers(document, db["id"], False)
    edges = drawn_edges(tab)
    # One arrow per pair of the db's own flows, whether or not the budget drew it before;
    # never an arrow between two of its neighbours.
    assert all(focus in (e["from"], e["to"]) for e in edges)
    assert len(edges) == len(out) + len(into)
    drawn = tab.evaluate("window.netpolViz.nodes.getIds()")
    assert len(drawn) == len(out | into) + 1
    assert address(tab)["node"] == [db["id"]]

    # Without open traffic only the rule's flows are left: api of team-00 to it.
    tab.uncheck("#show-open")
    edges = drawn_edges(tab)
    assert len(edges) == len(into) and all(e["to"] == focus for e in edges)
    tab.click("#clear-focus")
    assert "node" not in address(tab)


# --- deep links ----------------------------------------------------------------------------


def _state(tab: Any) -> dict[str, Any]:
    return dict(
        tab.evaluate(
            """() => {
              const s = window.netpolViz.state;
              return {focus: s.focus, selected: s.selected, search: s.search,
                      hideDefault: s.hideDefault, showOpen: s.showOpen, namespace: s.namespace,
                      picked: window.netpolViz.network.getSelectedNodes()};
            }"""
        )
    )


def test_deep_link_node_opens_it_selected_and_focused(
    page: tuple[Any, PageWatch], server: ServerProcess, uploads: dict[str, dict[str, Any]]
) -> None:
    tab, _ = page
    open_page(tab, server, uploads["ingress"], f"?node={MYSQL}")
    mysql = vis_id(tab, MYSQL)
    state = _state(tab)
    assert (state["focus"], state["selected"], state["picked"]) == (mysql, mysql, [mysql])
    assert tab.locator("#focus-status").is_visible()
    assert panel_title(tab) == "mysql"
    assert all(mysql in (e["from"], e["to"]) for e in drawn_edges(tab))


def test_deep_link_select_opens_it_selected_not_focused(
    page: tuple[Any, PageWatch], server: ServerProcess, uploads: dict[str, dict[str, Any]]
) -> None:
    tab, _ = page
    open_page(tab, server, uploads["ingress"], f"?select={BACKEND}")
    backend = vis_id(tab, BACKEND)
    state = _state(tab)
    assert (state["focus"], state["selected"], state["picked"]) == (None, backend, [backend])
    assert panel_title(tab) == "backend"
    assert not tab.locator("#focus-status").is_visible()


def test_deep_link_filters_restore_search_namespace_and_default_allow(
    page: tuple[Any, PageWatch], server: ServerProcess, uploads: dict[str, dict[str, Any]]
) -> None:
    tab, _ = page
    open_page(tab, server, uploads["shop"], "?q=tier%3Dapi&namespace=shop-backend&showOpen=1")
    state = _state(tab)
    assert state["search"] == "tier=api" and state["showOpen"] is True
    assert tab.locator('[data-testid="search"]').input_value() == "tier=api"
    assert tab.locator("#show-open").is_checked()
    assert tab.locator("#namespace-filter option:checked").inner_text() == "shop-backend"
    labels = tab.evaluate("window.netpolViz.nodes.get().map((n) => n.label.split('\\n')[0])")
    assert sorted(labels) == ["cart", "checkout"]


WHY_LINKS = [
    pytest.param(
        "ingress",
        f"from={BACKEND}&to={MYSQL}&port=3306&protocol=TCP",
        "allowed",
        "default/backend",
        "default/mysql",
        id="node-to-node-allowed",
    ),
    pytest.param(
        "ingress",
        "from=default/frontend&to=default/mysql&port=3306",
        "denied",
        "default/frontend",
        "default/mysql",
        id="ns-slash-name-denied",
    ),
    pytest.param(
        "ipblock",
        f"from={MYSQL}&to=10.10.20.15",
        "allowed",
        "default/mysql",
        "10.10.20.15",
        id="to-an-ip-address",
    ),
    pytest.param(
        "ipblock",
        f"from={MYSQL}&to=8.8.8.8&port=53&protocol=UDP",
        "denied",
        "default/mysql",
        "8.8.8.8",
        id="to-an-ip-with-port-and-protocol",
    ),
]


@pytest.mark.parametrize(("upload", "query", "verdict", "source", "target"), WHY_LINKS)
def test_deep_link_from_to_opens_with_the_answer_shown(
    page: tuple[Any, PageWatch],
    server: ServerProcess,
    uploads: dict[str, dict[str, Any]],
    upload: str,
    query: str,
    verdict: str,
    source: str,
    target: str,
) -> None:
    tab, _ = page
    open_page(tab, server, uploads[upload], "?" + query)
    tab.wait_for_function(
        "() => ['allowed', 'denied', 'error'].includes(document.body.dataset.why)"
    )
    assert tab.evaluate("document.body.dataset.why") == verdict
    assert tab.locator("#why-from").input_value() == source
    assert tab.locator("#why-to").input_value() == target
    asked = parse_qs(query)
    assert tab.locator("#why-port").input_value() == asked.get("port", [""])[0]
    assert tab.locator("#why-protocol").input_value() == asked.get("protocol", [""])[0]
    assert tab.locator("#why-result .why-verdict").inner_text().lower().startswith(verdict)


def test_the_address_follows_the_view_and_a_copied_link_restores_it(
    context: Any,
    page: tuple[Any, PageWatch],
    server: ServerProcess,
    uploads: dict[str, dict[str, Any]],
) -> None:
    tab, watch = page
    # Another view's parameter (the matrix's) is kept through every change.
    open_page(tab, server, uploads["ingress"], "?view=graph")
    search = tab.locator('[data-testid="search"]')
    search.fill("default/backend")
    search.press("Enter")
    tab.click("text=Focus on its neighbourhood")
    tab.check("#show-open")
    # A denied pair the focused node is part of (one it is not would end the focus to draw it).
    pick_node(tab, "#why-from", "default/backend")
    pick_node(tab, "#why-to", "default/mysql")
    tab.fill("#why-port", "80")
    tab.click("#why-explain")
    tab.wait_for_function("() => document.body.dataset.why === 'denied'")
    wanted = address(tab)
    assert wanted == {
        "view": ["graph"],
        "node": [BACKEND],  # focus dropped the search that found it
        "showOpen": ["1"],
        "from": [BACKEND],
        "to": [MYSQL],
        "port": ["80"],
    }
    # The share link carries the same view.
    share = tab.locator("#share-url").input_value()
    assert urlsplit(share).path == urlsplit(tab.url).path
    assert parse_qs(urlsplit(share).query) == wanted
    before = _state(tab)
    answer = tab.locator("#why-result").inner_text()

    other = context.new_page()
    other_watch = PageWatch(other, server.url)
    other.goto(server.url + urlsplit(share).path + "?" + urlsplit(share).query)
    wait_ready(other)
    other.wait_for_function("() => document.body.dataset.why === 'denied'")
    assert _state(other) == before
    assert other.locator("#why-result").inner_text() == answer
    assert address(other) == wanted
    other_watch.assert_clean()
    watch.assert_clean()


def test_a_link_to_a_node_the_analysis_lacks_says_so(
    page: tuple[Any, PageWatch], server: ServerProcess, uploads: dict[str, dict[str, Any]]
) -> None:
    tab, _ = page
    open_page(tab, server, uploads["ingress"], "?node=default/Deployment/gone&view=matrix")
    notice = tab.locator('[data-testid="details"] .link-unknown').inner_text()
    assert "node=default/Deployment/gone" in notice
    assert _state(tab)["focus"] is None
    assert address(tab) == {"view": ["matrix"]}


# --- the why / why not tool -----------------------------------------------------------------

RULES = "\n---\n".join(
    [
        _deployment("default", "frontend", {"app": "frontend"}, 80),
        _deployment("default", "backend", {"app": "backend"}, 8080),
        _deployment("default", "db", {"app": "db"}, 3306),
        _policy(
            "default",
            "db-ingress",
            "{matchLabels: {app: db}}",
            "[Ingress]",
            "  ingress:\n"
            "  - from:\n    - podSelector: {matchLabels: {app: frontend}}\n"
            "    ports:\n    - {protocol: TCP, port: 80}\n"
            "  - from:\n    - podSelector: {matchLabels: {app: monitoring}}\n"
            "  - from:\n    - podSelector: {matchLabels: {app: backend}}\n"
            "    ports:\n    - {protocol: TCP, port: 3306}\n",
            "",
        ),
    ]
)


@pytest.fixture
def rules_page(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> Iterator[tuple[Any, PageWatch]]:
    tab, watch = page
    open_page(tab, server, server.post_analysis([("db.yaml", RULES.encode())]))
    yield tab, watch


def test_type_ahead_picks_a_node_and_the_deciding_rule_comes_first(
    rules_page: tuple[Any, PageWatch],
) -> None:
    tab, _ = rules_page
    # The pickers are text inputs with a suggestion list, not selects of every node.
    assert tab.locator("#why select#why-from, #why select#why-to").count() == 0
    tab.locator("#why-from").fill("back")
    suggestions = tab.locator("#why-from-list .picker-option .picker-name")
    suggestions.first.wait_for(state="visible")
    assert suggestions.all_inner_texts() == ["default/backend"]
    suggestions.first.click()
    assert tab.locator("#why-from").input_value() == "default/backend"
    assert tab.locator("#why-from").get_attribute("data-node-id") == "default/Deployment/backend"
    pick_node(tab, "#why-to", "default/db")
    tab.fill("#why-port", "3306")
    tab.click("#why-explain")
    tab.wait_for_function("() => document.body.dataset.why === 'allowed'")

    ingress = tab.locator("#why-result .why-ingress")
    first = ingress.locator(".why-rule").first
    assert "default/db-ingress · spec.ingress[2]" in first.inner_text()
    assert "matched" in (first.get_attribute("class") or "")
    # The two rules that do not match are folded away, closed.
    fold = ingress.locator("details.why-unmatched")
    assert fold.locator(":scope > summary").inner_text() == "2 more rules, which do not match"
    assert fold.get_attribute("open") is None
    assert fold.locator(".why-rule").count() == 2
    assert "spec.ingress[0]" not in ingress.inner_text()  # hidden until unfolded
    fold.locator(":scope > summary").click()
    heads = fold.locator(".rule-head").all_inner_texts()
    assert heads == ["default/db-ingress · spec.ingress[0]", "default/db-ingress · spec.ingress[1]"]


def test_a_denial_shows_the_refusing_side_first_nearest_miss_first(
    rules_page: tuple[Any, PageWatch],
) -> None:
    tab, _ = rules_page
    pick_node(tab, "#why-from", "default/frontend")
    pick_node(tab, "#why-to", "default/db")
    tab.fill("#why-port", "3306")
    tab.click("#why-explain")
    tab.wait_for_function("() => document.body.dataset.why === 'denied'")
    sides = tab.locator("#why-result .why-side")
    assert "why-ingress" in (sides.first.get_attribute("class") or "")  # it refuses: it decides
    codes = sides.first.locator(".reason-code").all_inner_texts()
    # Every rule of a refusing side decides, shown open: the one whose peer matched first.
    assert codes == ["port-not-matched", "peer-not-matched", "peer-not-matched"]
    assert sides.first.locator("details.why-unmatched").count() == 0


# --- the offline export -------------------------------------------------------------------


def test_the_offline_export_takes_deep_links_and_searches_without_a_server(
    context: Any, server: ServerProcess, uploads: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    answer = uploads["ingress"]
    with urllib.request.urlopen(f"{server.url}/api/v1/analyses/{answer['id']}/export.html") as r:
        saved = tmp_path / "export.html"
        saved.write_bytes(r.read())
    context.set_offline(True)
    try:
        tab = context.new_page()
        watch = PageWatch(tab, saved.as_uri())
        tab.goto(saved.as_uri() + f"?node={MYSQL}")
        wait_ready(tab)
        mysql = vis_id(tab, MYSQL)
        assert _state(tab)["focus"] == mysql and panel_title(tab) == "mysql"
        search = tab.locator('[data-testid="search"]')
        search.fill("role=backend")
        search.press("Enter")
        assert panel_title(tab) == "backend"
        assert tab.locator("#why").count() == 0  # no API to ask offline
        assert watch.csp_violations() == [] and watch.console_errors == []
        assert watch.page_errors == []
        assert [url for url in watch.requests if not url.startswith(saved.as_uri())] == []
    finally:
        context.set_offline(False)


def test_to_takes_an_ip_address_as_typed_and_enter_asks(
    rules_page: tuple[Any, PageWatch],
) -> None:
    tab, _ = rules_page
    pick_node(tab, "#why-from", "default/backend")
    to = tab.locator("#why-to")
    to.fill("203.0.113.9")
    count = tab.locator("#why-to-list").locator("xpath=..").locator(".picker-count")
    count.wait_for(state="visible")
    assert count.inner_text() == "no node matches: an IP address or CIDR is asked as typed"
    to.press("Enter")  # nothing to pick: Enter submits the form
    tab.wait_for_function("() => document.body.dataset.why === 'allowed'")
    assert "Ingress to any external address" in tab.locator("#why-result").inner_text()
    assert address(tab)["to"] == ["203.0.113.9"]
