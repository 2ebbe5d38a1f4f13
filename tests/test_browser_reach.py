"""The diagram page counts reach over the whole analysis, from groups, at scale (issue 8).

Only a budget of pairs is drawn as arrows; the details panel's reach-in and
reach-out (CONTRACT §5 hooks) must still count every node that has a flow to
or from the selected one. Expected counts are computed here from the
document's groups by arithmetic, and for a small sample by walking
`pair_flows` as well.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from browserfixtures import (
    PageWatch,
    ServerProcess,
    bare_pods,
    team_tiers,
    wait_ready,
)

from webapp.core.document import pair_flows

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def group_reach(document: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """Node id -> (reach-out, reach-in), by arithmetic over groups: no pair is listed."""
    size = {g["id"]: len(g["nodes"]) for g in document["groups"]}
    out: Counter[str] = Counter()
    into: Counter[str] = Counter()
    for flow in document["flows"]:
        self_pair = 1 if flow["source"] == flow["target"] else 0
        out[flow["source"]] += size[flow["target"]] - self_pair
        into[flow["target"]] += size[flow["source"]] - self_pair
    return {n["id"]: (out[n["group"]], into[n["group"]]) for n in document["nodes"]}


def shown_reach(tab: Any, node: dict[str, Any]) -> tuple[int, int]:
    """Search the node as the contract says (ns/name, Enter) and read the panel's counts."""
    query = f"{node['namespace']}/{node['name']}" if node["type"] == "workload" else node["name"]
    search = tab.locator('[data-testid="search"]')
    search.fill(query)
    search.press("Enter")
    tab.wait_for_function(
        """name => {
          const panel = document.querySelector('[data-testid="details"]');
          const title = panel && panel.querySelector('.panel-title');
          return title && title.textContent === name &&
            panel.querySelector('[data-testid="reach-out"][data-count]') &&
            panel.querySelector('[data-testid="reach-in"][data-count]');
        }""",
        arg=node["name"],
    )
    panel = tab.locator('[data-testid="details"]')
    out = panel.locator('[data-testid="reach-out"]').get_attribute("data-count")
    into = panel.locator('[data-testid="reach-in"]').get_attribute("data-count")
    return int(out or -1), int(into or -1)


@pytest.fixture
def page(context: Any, server: ServerProcess) -> tuple[Any, PageWatch]:
    tab = context.new_page()
    return tab, PageWatch(tab, server.url)


def test_reach_counts_of_a_thousand_workloads_cover_every_flow_not_only_the_drawn(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    text = team_tiers(workloads=1000, namespaces=10, isolate_every=2).encode()
    answer = server.post_analysis([("cluster.yaml", text)])
    document = answer["analysis"]
    assert document["version"] == 2
    expected = group_reach(document)

    tab.goto(server.url + answer["url"])
    wait_ready(tab, timeout=30_000)
    view = tab.evaluate("window.netpolViz.view")
    drawn = len(view["edges"])
    assert drawn < document["summary"]["pairs"], "the upload must allow more pairs than are drawn"
    # Open-by-default pairs are never arrows (the nodes say it); rule-allowed ones over budget.
    open_pairs = sum(f["pairs"] for f in document["flows"] if f["defaultAllow"])
    omitted = document["summary"]["pairs"] - open_pairs - drawn
    status = tab.inner_text("#status-line")
    assert f"{open_pairs} pairs open by default" in status
    assert f"{omitted} more flows between pairs of nodes" in status

    nodes = {n["id"]: n for n in document["nodes"]}
    by_name = {n["name"]: n for n in nodes.values()}
    sample = [
        by_name["db-0020"],  # team-00: isolated, only api of team-00 may reach it
        by_name["db-0021"],  # team-01: open to everyone
        by_name["web-0005"],
        next(n for n in nodes.values() if n["type"] == "ipblock"),
        nodes[max(expected, key=lambda i: (expected[i][1], i))],
    ]
    for node in sample:
        assert shown_reach(tab, node) == expected[node["id"]], node["name"]

    # For two of them, the same counts from one walk over every pair.
    walked = {by_name["db-0020"]["id"]: [0, 0], by_name["db-0021"]["id"]: [0, 0]}
    for flow in pair_flows(document):
        if flow["source"] in walked:
            walked[flow["source"]][0] += 1
        if flow["target"] in walked:
            walked[flow["target"]][1] += 1
    for node_id, (out, into) in walked.items():
        assert expected[node_id] == (out, into)
    # db-0020 is reached by the api workloads of team-00 only; db-0021 by every other node.
    assert expected[by_name["db-0020"]["id"]][1] == sum(
        1 for n in nodes.values() if n["namespace"] == "team-00" and n["labels"] == {"tier": "api"}
    )
    assert expected[by_name["db-0021"]["id"]][1] == len(nodes) - 1
    watch.assert_clean()


def test_two_thousand_bare_pods_open_and_each_reaches_every_other(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    answer = server.post_analysis([("pods.json", bare_pods(2000))])
    document = answer["analysis"]
    assert len(document["flows"]) <= 3  # pods to pods, to and from the external addresses
    assert document["summary"]["pairs"] >= 2000 * 1999

    started = time.monotonic()
    tab.goto(server.url + answer["url"])
    wait_ready(tab, timeout=60_000)
    elapsed = time.monotonic() - started
    assert elapsed < 30.0, f"opened in {elapsed:.1f} s"
    page_bytes = len(tab.content().encode())
    assert page_bytes < 8_000_000, page_bytes

    pod = next(n for n in document["nodes"] if n["name"] == "pod-1234")
    external = sum(1 for n in document["nodes"] if n["type"] == "ipblock")
    out, into = shown_reach(tab, pod)
    # 1,999 other pods, and the external addresses (no policy isolates anything).
    assert (out, into) == (1999 + external, 1999 + external)
    assert (out, into) == group_reach(document)[pod["id"]]
    assert "Can reach (" + str(out) + ")" in tab.inner_text('[data-testid="details"]')
    watch.assert_clean()
