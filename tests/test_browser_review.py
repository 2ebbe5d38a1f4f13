"""Review journeys in real headless Chromium against a real server process: a finding
click highlights the diagram, the why / why not tool explains a denial with file:line,
the diff page colours added and removed flows, and the review report opens.

Same set-up as test_browser.py: `netpol-viz serve` on a loopback port with its own
SQLite file, Debian's Chromium through Playwright, and every page watched for dialogs,
CSP violations, console errors and requests that leave the app's origin.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from browserfixtures import (
    PageWatch,
    ServerProcess,
    pick_node,
    wait_ready,
)

from webapp.render import DIFF_COLORS

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample-manifests"
SHOP = "10-online-shop"
INGRESS = "01-db-ingress-from-backend-with-app"
EGRESS = "02-db-egress-to-backend-with-app"
HIGHLIGHT = "#1565c0"  # blue like the selection: red means removed and denied


def sample_files(slug: str) -> list[Path]:
    files = sorted(p for p in (SAMPLES / slug).rglob("*") if p.suffix in (".yaml", ".json"))
    assert files, slug
    return files


def rule_line(slug: str, file: str) -> int:
    """The line of the first `- from:` rule in a sample file."""
    lines = (SAMPLES / slug / file).read_text().splitlines()
    return next(n for n, text in enumerate(lines, 1) if text.strip() == "- from:")


# --- fixtures (as in test_browser.py) -------------------------------------------------------





@pytest.fixture
def page(context: Any, server: ServerProcess) -> tuple[Any, PageWatch]:
    tab = context.new_page()
    return tab, PageWatch(tab, server.url)


def open_sample(tab: Any, server: ServerProcess, slug: str) -> dict[str, Any]:
    answer = server.post_analysis([(p.name, p.read_bytes()) for p in sample_files(slug)])
    tab.goto(server.url + answer["url"])
    wait_ready(tab)
    return answer


def vis_id(tab: Any, name: str) -> int:
    return int(
        tab.evaluate(
            "(name) => window.netpolViz.view.nodeDetails.findIndex((d) => d.name === name)", name
        )
    )


def click_node(tab: Any, node: int, *, shift: bool = False) -> None:
    point = tab.evaluate(f"window.netpolViz.domPointOfNode({node})")
    box = tab.locator("#network canvas").bounding_box()
    if shift:
        tab.keyboard.down("Shift")
    tab.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    if shift:
        tab.keyboard.up("Shift")


DRAWN = """() => {
  const v = window.netpolViz;
  return {
    nodes: v.nodes.get().map((n) => ({id: n.id, opacity: n.opacity,
                                      glow: !!(n.shadow && n.shadow.enabled)})),
    edges: v.edges.get().map((e) => ({id: e.id, color: e.color || {}, width: e.width})),
  };
}"""


# --- findings --------------------------------------------------------------------------------


def test_finding_click_highlights_its_nodes_and_the_flows_between_them(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    answer = open_sample(tab, server, SHOP)
    findings = answer["analysis"]["findings"]
    index = next(i for i, f in enumerate(findings) if f["rule"] == "peers-or-likely-and")
    view = tab.evaluate("window.netpolViz.view")
    ids = [n["id"] for n in answer["analysis"]["nodes"]]
    members = {ids.index(node) for node in findings[index]["nodes"]}
    between = {e["id"] for e in view["edges"] if e["from"] in members and e["to"] in members}
    assert len(members) > 2 and between

    toggle = tab.locator(f'.finding-toggle[data-finding="{index}"]')
    toggle.click()
    lit = tab.evaluate("window.netpolViz.highlighted()")
    assert lit["finding"] == index
    assert set(lit["nodes"]) == members and set(lit["edges"]) == between
    assert toggle.get_attribute("aria-pressed") == "true"
    assert tab.locator("#clear-highlight").is_visible()

    drawn = tab.evaluate(DRAWN)
    assert {n["id"] for n in drawn["nodes"]} >= members
    for node in drawn["nodes"]:
        if node["id"] in members:
            assert (node["opacity"], node["glow"]) == (1, True), node
        else:
            assert (node["opacity"], node["glow"]) == (0.2, False), node
    for edge in drawn["edges"]:
        if edge["id"] in between:
            assert (edge["color"].get("color"), edge["width"]) == (HIGHLIGHT, 4), edge
        else:
            assert edge["color"].get("opacity") == 0.2, edge
    assert {e["id"] for e in drawn["edges"] if e["width"] == 4} == between

    toggle.click()  # again: back to normal
    assert tab.evaluate("window.netpolViz.highlighted()") is None
    drawn = tab.evaluate(DRAWN)
    assert all(n["opacity"] == 1 and not n["glow"] for n in drawn["nodes"])
    assert all("opacity" not in e["color"] for e in drawn["edges"])
    assert toggle.get_attribute("aria-pressed") == "false"

    other = next(i for i, f in enumerate(findings) if f["nodes"] and i != index)
    tab.locator(f'.finding-toggle[data-finding="{other}"]').click()
    assert tab.evaluate("window.netpolViz.highlighted()")["finding"] == other
    tab.click("#clear-highlight")
    assert tab.evaluate("window.netpolViz.highlighted()") is None
    assert not tab.locator("#clear-highlight").is_visible()
    watch.assert_clean()


# --- why / why not -----------------------------------------------------------------------


def test_why_tool_shows_a_denial_reason_with_file_and_line(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    open_sample(tab, server, INGRESS)
    assert tab.locator("#why").is_visible()
    pick_node(tab, "#why-from", "default/frontend")
    pick_node(tab, "#why-to", "default/mysql")
    tab.fill("#why-port", "3306")
    tab.click("#why-explain")
    tab.wait_for_function("() => document.body.dataset.why === 'denied'")

    text = tab.locator("#why-result").inner_text()
    assert text.startswith("Denied")
    assert "Egress from default/frontend" in text
    assert "No policy selects it for this direction, so everything is allowed." in text
    assert "Ingress to default/mysql" in text
    assert "default/db-backend · spec.ingress[0]" in text
    assert f"db-backend.yaml:{rule_line(INGRESS, 'db-backend.yaml')}" in text
    assert "None of the rule's peers matches the other side." in text
    assert tab.locator("#why-result .reason-code").inner_text() == "peer-not-matched"
    selected = tab.evaluate("window.netpolViz.network.getSelectedNodes()")
    assert sorted(selected) == sorted([vis_id(tab, "frontend"), vis_id(tab, "mysql")])

    tab.fill("#why-port", "22")
    pick_node(tab, "#why-from", "default/backend")
    tab.click("#why-explain")
    tab.wait_for_function(
        "() => document.querySelector('#why-result .reason-code')"
        " && document.querySelector('#why-result .reason-code').textContent === 'port-not-matched'"
    )
    text = tab.locator("#why-result").inner_text()
    assert "The rule's ports do not include the requested port. It allows TCP 3306." in text
    watch.assert_clean()


def test_why_tool_with_shift_click_on_two_nodes(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    open_sample(tab, server, INGRESS)
    click_node(tab, vis_id(tab, "backend"), shift=True)
    assert "Now shift-click the To node." in tab.locator("#why-result").inner_text()
    click_node(tab, vis_id(tab, "mysql"), shift=True)
    tab.wait_for_function("() => document.body.dataset.why === 'allowed'")
    assert tab.locator("#why-from").get_attribute("data-node-id") == "default/Deployment/backend"
    assert tab.locator("#why-to").get_attribute("data-node-id") == "default/Deployment/mysql"
    text = tab.locator("#why-result").inner_text()
    assert text.startswith("Allowed")
    assert "Allows TCP 3306." in text
    assert f"db-backend.yaml:{rule_line(INGRESS, 'db-backend.yaml')}" in text
    watch.assert_clean()


def test_why_tool_shows_the_apis_refusal(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    open_sample(tab, server, INGRESS)
    pick_node(tab, "#why-from", "default/frontend")
    pick_node(tab, "#why-to", "default/mysql")
    # The number input's min/max would stop the browser's own validation; a script can
    # still ask for port 70000, and the API's 400 must be shown as text.
    tab.evaluate("document.querySelector('#why-port').value = '70000'")
    tab.evaluate("window.netpolViz.why.ask()")
    tab.wait_for_function("() => document.body.dataset.why === 'error'")
    assert "must be a number from 1 to 65535" in tab.locator("#why-result").inner_text()
    watch.console_errors = [e for e in watch.console_errors if "400" not in e]
    watch.assert_clean()


# --- diff --------------------------------------------------------------------------------------


def api_json(server: ServerProcess, path: str) -> Any:
    with urllib.request.urlopen(server.url + path, timeout=30) as response:
        return json.loads(response.read())


EDGE_CHANGES = """() => {
  const v = window.netpolViz;
  return v.edges.get().filter((e) => typeof e.id === "number").map((e) => ({
    change: v.view.edgeDetails[e.id].change, color: e.color.color, opacity: e.color.opacity,
    external: (v.view.edgeDetails[e.id].external || []).length,
  }));
}"""


def test_diff_page_shows_added_and_removed_edges_in_their_colours(
    browser: Any, page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    before = server.post_analysis([(p.name, p.read_bytes()) for p in sample_files(INGRESS)])
    # The form that the analysis page's "Compare with another version" link opens (the
    # analysis page has its own journeys in test_browser.py).
    tab.goto(server.url + "/diff?before=" + before["id"])
    assert tab.locator("#before-id").input_value() == before["id"]
    tab.set_input_files("#after-manifests", [str(p) for p in sample_files(EGRESS)])
    tab.click("#compare")
    tab.wait_for_url(re.compile(r".*/diff/[A-Za-z0-9_-]{22,}/[A-Za-z0-9_-]{22,}$"))
    wait_ready(tab)
    old_id, new_id = tab.url.split("/")[-2:]
    assert old_id == before["id"]

    diff = api_json(server, f"/api/v1/diff/{old_id}/{new_id}")
    assert diff["flows"]["added"] and diff["flows"]["removed"]
    drawn = tab.evaluate(EDGE_CHANGES)
    changes = {edge["change"] for edge in drawn}
    assert {"added", "removed", "unchanged"} <= changes
    for edge in drawn:
        status = (
            "changed" if edge["change"] in ("widened", "narrowed", "changed") else edge["change"]
        )
        assert edge["color"] == DIFF_COLORS[status], edge
        assert (edge["opacity"] == 0.5) == (status == "unchanged"), edge
    # Edges to or from address blocks show the diff's `external` changes, not `flows`.
    internal = [e for e in drawn if not e["external"]]
    counts = {c: sum(1 for e in internal if e["change"] == c) for c in ("added", "removed")}
    # One edge per node pair of the diff's entries (this diff is within the edge budget).
    assert counts == {
        "added": diff["summary"]["pairsAdded"],
        "removed": diff["summary"]["pairsRemoved"],
    }

    table = tab.locator("#flow-changes")
    assert table.locator("tr.change-added").count() == diff["summary"]["flowsAdded"]
    assert table.locator("tr.change-removed").count() == diff["summary"]["flowsRemoved"]
    assert table.locator("tr.change-changed").count() == diff["summary"]["flowsChanged"]
    summary = tab.locator(".diff-counts").inner_text()
    assert f"{diff['summary']['flowsAdded']} flows added" in summary
    assert f"{diff['summary']['flowsRemoved']} flows removed" in summary

    tab.check("#hide-unchanged")
    assert all(e["change"] != "unchanged" for e in tab.evaluate(EDGE_CHANGES))
    tab.uncheck("#hide-unchanged")

    # A removed edge whose middle is not nearer to another edge (the layout may cross them).
    removed = tab.evaluate(
        """() => { const v = window.netpolViz;
          return v.edges.getIds().find((id) => {
            const d = v.view.edgeDetails[id];
            return d.change === "removed" && !d.external &&
              v.network.getEdgeAt(v.domPointOfEdge(id)) === id; }); }"""
    )
    assert removed is not None
    tab.locator("#network").scroll_into_view_if_needed()
    point = tab.evaluate(f"window.netpolViz.domPointOfEdge({removed})")
    box = tab.locator("#network canvas").bounding_box()
    assert 0 <= box["y"] + point["y"] <= tab.viewport_size["height"], (box, point)
    tab.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    tab.wait_for_function("() => document.querySelector('#details .diff-note') !== null")
    assert tab.locator("#details .diff-note").inner_text().startswith("Removed")
    assert tab.evaluate("window.netpolViz.network.getSelectedEdges()") == [removed]

    # mysql is egress-isolated after: the page lists what it lost, and so do its external edges.
    listed = tab.locator("#external-changes li").all_inner_texts()
    assert "default/mysql lost access to 0.0.0.0/0, ::/0 on TCP all ports" in listed
    # An edge to or from an address block; a node drawn over its middle is moved aside
    # first, as a user would drag it (the two directions of one pair may be drawn over each
    # other: the one under the point is the one clicked).
    hit = tab.evaluate(
        """() => { const v = window.netpolViz;
          const external = (id) => ((v.view.edgeDetails[id] || {}).external || []).length > 0;
          const id = v.edges.getIds().find(external);
          const covering = v.network.getNodeAt(v.domPointOfEdge(id));
          if (covering !== undefined) {
            const at = v.network.getPosition(covering);
            v.network.moveNode(covering, at.x + 400, at.y + 400);
          }
          const point = v.domPointOfEdge(id);
          const edge = v.network.getEdgeAt(point);
          const lines = (v.view.edgeDetails[edge] || {}).external;
          return { edge: edge, point: point, lines: lines }; }"""
    )
    assert hit["lines"], hit
    tab.mouse.click(box["x"] + hit["point"]["x"], box["y"] + hit["point"]["y"])
    tab.wait_for_function(
        "() => /External access/.test((document.querySelector('#details .diff-note') || {})"
        ".textContent)"
    )
    note = tab.locator("#details .diff-note").inner_text()
    assert tab.evaluate("window.netpolViz.network.getSelectedEdges()") == [hit["edge"]]
    assert all(line in note for line in hit["lines"])
    assert any("access" in line and "0.0.0.0/0, ::/0" in line for line in hit["lines"])
    watch.assert_clean()

    # The diff is a share link: a fresh browser opens the same page.
    fresh = browser.new_context()
    try:
        other = fresh.new_page()
        other_watch = PageWatch(other, server.url)
        other.goto(tab.url)
        wait_ready(other)
        assert other.evaluate(EDGE_CHANGES) == tab.evaluate(EDGE_CHANGES)
        assert other.locator("#share-url").input_value() == f"/diff/{old_id}/{new_id}"
        other_watch.assert_clean()
    finally:
        fresh.close()


def test_diff_page_says_which_findings_changed_offers_md_and_csv_and_shows_the_yaml(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    old = server.post_analysis([(p.name, p.read_bytes()) for p in sample_files(INGRESS)])
    new = server.post_analysis([(p.name, p.read_bytes()) for p in sample_files(EGRESS)])
    tab.goto(f"{server.url}/diff/{old['id']}/{new['id']}")
    wait_ready(tab)
    diff = api_json(server, f"/api/v1/diff/{old['id']}/{new['id']}")

    # Findings: the counts by severity and one row per finding fixed or introduced.
    assert diff["findings"]["introduced"], diff["findings"]
    section = tab.locator("#finding-changes")
    for change in ("fixed", "introduced"):
        found = diff["findings"][change]
        counts = section.locator(f'.finding-counts[data-change="{change}"]')
        assert counts.get_attribute("data-count") == str(len(found))
        for severity in ("high", "medium", "low", "info"):
            expected = sum(1 for f in found if f["severity"] == severity)
            badge = counts.locator(f'[data-severity="{severity}"]')
            assert (badge.inner_text() if expected else "") == (
                f"{expected} {severity}" if expected else ""
            ), (change, severity)
        rows = section.locator(f'tr.finding[data-change="{change}"]')
        assert rows.count() == len(found)
        assert sorted(rows.locator("code").all_inner_texts()) == sorted(f["rule"] for f in found)
    assert (
        f"{len(diff['findings']['introduced'])} findings introduced"
        in tab.locator(".diff-counts").inner_text()
    )

    # The downloads: what the diff command writes as Markdown and as CSV.
    texts = {}
    for link, first in (("#download-md", "# NetworkPolicy diff"), ("#download-csv", "change,")):
        with tab.expect_download() as info:
            tab.click(link)
        texts[link] = Path(info.value.path()).read_text(encoding="utf-8")
        assert texts[link].startswith(first), (link, texts[link][:200])
        assert diff["findings"]["introduced"][0]["rule"] in texts[link]
    assert "## Policy YAML" in texts["#download-md"]
    assert "\n+  - Egress\n" in texts["#download-md"]

    # The YAML diff of the changed policy: the changed lines, coloured, in a monospace block.
    [entry] = diff["policyDiffs"]
    block = tab.locator(f'details.policy-diff[data-policy="{entry["policy"]}"]')
    assert block.get_attribute("open") is not None  # short: open
    removed = block.locator(".line-del", has_text=re.compile(r"^-  - Ingress$"))
    assert removed.is_visible()
    added = block.locator(".line-add", has_text=re.compile(r"^\+  - Egress$"))
    assert added.is_visible()
    style = added.evaluate(
        "(el) => { const s = getComputedStyle(el); return [s.backgroundColor, s.fontFamily]; }"
    )
    assert style[0] == "rgb(232, 245, 233)" and "monospace" in style[1], style
    assert removed.evaluate("(el) => getComputedStyle(el).backgroundColor") == "rgb(255, 235, 238)"
    # Folding: the summary line closes and opens it.
    block.locator("summary").click()
    assert not added.is_visible()
    watch.assert_clean()


# --- the review report ------------------------------------------------------------------


def test_review_report_opens_from_the_diagram_and_prints_without_chrome(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    open_sample(tab, server, SHOP)
    tab.click("text=Printable review report")
    tab.wait_for_url(re.compile(r".*/a/[A-Za-z0-9_-]{22,}/report$"))
    for heading in (
        "Summary",
        "Isolation coverage",
        "Findings",
        "Flows by namespace pair",
        "Namespace matrix",
    ):
        assert tab.locator("h2", has_text=heading).count() == 1
    assert "peers-or-likely-and" in tab.locator("#findings").inner_text()
    assert tab.locator("header.site").is_visible()
    tab.emulate_media(media="print")
    assert not tab.locator("header.site").is_visible()
    assert not tab.locator(".report-actions").is_visible()
    watch.assert_clean()
