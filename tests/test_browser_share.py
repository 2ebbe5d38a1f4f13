"""Sharing what you see, in real headless Chromium against a real server process: the
PNG and SVG export of the current view, the delete token shown once after an upload
(and deleting with a pasted token from another browser), and the findings panel
grouped by severity.
"""

from __future__ import annotations

import base64
import re
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from browserfixtures import (
    BIDI,
    HOSTILE_FILE_NAME,
    HOSTILE_HTML,
    HOSTILE_MANIFESTS,
    PageWatch,
    ServerProcess,
    wait_ready,
)

from webapp.core import analyze
from webapp.core.raw import SourceText
from webapp.outputs.offline import standalone_html

pytestmark = pytest.mark.browser

SAMPLES = Path(__file__).resolve().parent.parent / "sample-manifests"
SHOP = "10-online-shop"
SVG = "{http://www.w3.org/2000/svg}"
SHARE_PATH = re.compile(r".*/a/[A-Za-z0-9_-]{22,}$")


def sample_files(slug: str) -> list[Path]:
    files = sorted(
        path
        for path in (SAMPLES / slug).rglob("*")
        if path.suffix in (".yaml", ".yml", ".json") and path.name != "scenario.yaml"
    )
    assert files, slug
    return files


@pytest.fixture
def page(context: Any, server: ServerProcess) -> tuple[Any, PageWatch]:
    tab = context.new_page()
    return tab, PageWatch(tab, server.url)


def open_sample(tab: Any, server: ServerProcess, slug: str) -> dict[str, Any]:
    answer = server.post_analysis([(p.name, p.read_bytes()) for p in sample_files(slug)])
    tab.goto(server.url + answer["url"])
    wait_ready(tab)
    return answer


def upload_through_page(tab: Any, server: ServerProcess, files: list[Any]) -> dict[str, Any]:
    """Upload with the page's form (as a user would); the API's answer that the page got."""
    answers: list[dict[str, Any]] = []

    def keep(route: Any) -> None:  # passed through unchanged; its body read on the way
        response = route.fetch()
        answers.append(response.json())
        route.fulfill(response=response)

    tab.route("**/api/v1/analyses", keep)
    tab.goto(server.url + "/")
    tab.set_input_files("#manifests", files)
    tab.click("#analyse")
    tab.wait_for_url(SHARE_PATH)
    wait_ready(tab)
    tab.unroute("**/api/v1/analyses", keep)
    assert len(answers) == 1 and answers[0]["url"] in tab.url
    return answers[0]


def download(tab: Any, selector: str, tmp_path: Path) -> tuple[str, bytes]:
    with tab.expect_download() as started:
        tab.click(selector)
    saved = tmp_path / started.value.suggested_filename
    started.value.save_as(saved)
    return started.value.suggested_filename, saved.read_bytes()


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def svg_texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(SVG + "text")]


# --- PNG and SVG ---------------------------------------------------------------------------

# Decodes the downloaded PNG in the page and compares it with the vis canvas at each
# drawn node's centre: the diagram must sit, unscaled, at the sheet's diagram offset.
COMPARE_PNG = """async ([data, points]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const image = await createImageBitmap(new Blob([bytes], {type: "image/png"}));
  const copy = document.createElement("canvas");
  copy.width = image.width;
  copy.height = image.height;
  const ctx = copy.getContext("2d");
  ctx.drawImage(image, 0, 0);
  const source = document.querySelector("#network canvas");
  const ratio = source.width / source.clientWidth;
  const sheet = window.netpolViz.exportSheet();
  const visCtx = source.getContext("2d");
  const pixel = (c, x, y) => Array.from(c.getImageData(Math.round(x), Math.round(y), 1, 1).data);
  const header = ctx.getImageData(0, 0, image.width, Math.floor(sheet.diagram.y * ratio)).data;
  let inked = 0;
  for (let i = 0; i < header.length; i += 4) if (header[i] < 128) inked += 1;
  return {
    width: image.width,
    height: image.height,
    expected: [Math.round(sheet.width * ratio), Math.round(sheet.height * ratio)],
    canvas: [source.width, source.height],
    diagramY: sheet.diagram.y * ratio,
    pairs: points.map((p) => [pixel(visCtx, p.x * ratio, p.y * ratio),
                              pixel(ctx, p.x * ratio, p.y * ratio + sheet.diagram.y * ratio)]),
    inkedHeader: inked,
  };
}"""


def test_png_export_decodes_at_the_sheet_size_with_the_diagram_in_place(
    page: tuple[Any, PageWatch], server: ServerProcess, tmp_path: Path
) -> None:
    tab, watch = page
    open_sample(tab, server, SHOP)
    tab.mouse.move(1, 1)  # no hover: the canvas must not redraw between download and compare
    name, data = download(tab, "#download-png", tmp_path)
    assert name == "netpol-viz.png"
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    points = tab.evaluate(
        "window.netpolViz.nodes.getIds().map((id) => window.netpolViz.domPointOfNode(id))"
    )
    assert points
    result = tab.evaluate(COMPARE_PNG, [base64.b64encode(data).decode(), points])
    assert [result["width"], result["height"]] == result["expected"]
    # As wide as the canvas, taller by the header, legend and footer.
    assert result["width"] == result["canvas"][0]
    assert result["height"] > result["canvas"][1] + 100
    for on_canvas, in_png in result["pairs"]:
        assert in_png == on_canvas
    assert result["inkedHeader"] > 500  # the title and the analysis line are drawn
    watch.assert_clean()


def test_svg_export_parses_and_names_the_upload_the_link_and_the_date_as_text(
    page: tuple[Any, PageWatch], server: ServerProcess, tmp_path: Path, context: Any
) -> None:
    tab, watch = page
    upload_through_page(
        tab,
        server,
        [{"name": HOSTILE_FILE_NAME, "mimeType": "application/yaml",
          "buffer": HOSTILE_MANIFESTS.encode()}],
    )
    name, data = download(tab, "#download-svg", tmp_path)
    assert name == "netpol-viz.svg"
    text = data.decode("utf-8")
    root = ET.fromstring(data)  # well-formed XML
    assert root.tag == SVG + "svg"

    # The uploaded file name is in the title as text: escaped, its bidi override a mark.
    shown_name = HOSTILE_FILE_NAME.replace(BIDI, "<U+202E>")
    title = root.find(SVG + "title")
    assert title is not None and title.text == f"Allowed flows: {shown_name}"
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert HOSTILE_HTML not in text and BIDI not in text
    assert not [e.tag for e in root.iter() if not e.tag.startswith(SVG)]  # no HTML, no img

    texts = svg_texts(root)
    assert f"Allowed flows: {shown_name}" in texts
    share = tab.evaluate("new URL(document.querySelector('#share-url').value, location.href).href")
    assert f"Share link: {share}" in texts
    assert any(re.fullmatch(r"Exported \d{4}-\d\d-\d\d \d\d:\d\d UTC", t) for t in texts)
    assert any(t.startswith("analysis ") for t in texts)

    # The diagram: every drawn node and arrow, each node with its label.
    drawn_nodes = tab.evaluate("window.netpolViz.nodes.length")
    drawn_edges = tab.evaluate("window.netpolViz.edges.length")
    nodes = [g for g in root.iter(SVG + "g") if g.get("class") == "node"]
    edges = [g for g in root.iter(SVG + "g") if g.get("class") == "edge"]
    assert len(nodes) == drawn_nodes and len(edges) == drawn_edges
    labels = {"".join(n.itertext()) for n in nodes}
    assert any(label.startswith("plain") for label in labels)

    # It opens in the browser as an image of its own.
    saved = tmp_path / "view.svg"
    saved.write_bytes(data)
    viewer = context.new_page()
    viewer.goto(saved.as_uri())
    assert viewer.evaluate("document.documentElement.localName") == "svg"
    assert viewer.evaluate("document.querySelectorAll('g.node').length") == drawn_nodes
    watch.assert_clean()


def test_png_and_svg_export_work_in_the_offline_copy(context: Any, tmp_path: Path) -> None:
    sources = [SourceText(name=p.name, data=p.read_bytes()) for p in sample_files(SHOP)]
    path = tmp_path / "offline.html"
    path.write_text(standalone_html(analyze(sources).document), encoding="utf-8")
    context.set_offline(True)
    try:
        tab = context.new_page()
        watch = PageWatch(tab, path.as_uri())
        tab.goto(path.as_uri())
        wait_ready(tab)
        _, png = download(tab, "#download-png", tmp_path)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        _, svg = download(tab, "#download-svg", tmp_path)
        texts = svg_texts(ET.fromstring(svg))
        assert "No share link: this is an offline copy." in texts
        assert any("offline copy" in t for t in texts)
        assert watch.csp_violations() == [] and watch.console_errors == []
        assert watch.page_errors == []
        assert [url for url in watch.requests if url != path.as_uri()] == []
    finally:
        context.set_offline(False)


# --- the delete token ----------------------------------------------------------------------


def test_delete_token_is_shown_once_and_a_pasted_token_deletes_from_another_browser(
    browser: Any, context: Any, page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    answer = upload_through_page(
        tab,
        server,
        # As buffers: Playwright's route.fetch drops the content of files given by path.
        [{"name": p.name, "mimeType": "application/yaml", "buffer": p.read_bytes()}
         for p in sample_files(SHOP)],
    )
    token, share = answer["deleteToken"], server.url + answer["url"]
    api = f"{server.url}/api/v1/analyses/{answer['id']}"

    box = tab.locator('[data-testid="token-box"]')
    assert box.is_visible()
    assert tab.locator('[data-testid="delete-token"]').inner_text() == token
    assert tab.locator("#delete-command").inner_text() == (
        f"curl -X DELETE -H 'X-Delete-Token: {token}' '{api}'"
    )
    tab.click("#copy-token")
    tab.wait_for_function("() => document.querySelector('#token-status').textContent === 'copied'")
    assert tab.evaluate("navigator.clipboard.readText()") == token
    tab.click("#dismiss-token")
    assert not box.is_visible()

    tab.reload()
    wait_ready(tab)
    assert not box.is_visible()
    assert token not in tab.locator("body").inner_text()

    fresh = browser.new_context()
    try:
        other = fresh.new_page()
        other_watch = PageWatch(other, server.url)
        other.goto(share)
        wait_ready(other)
        assert not other.locator('[data-testid="token-box"]').is_visible()
        assert not other.locator("#delete-analysis").is_visible()  # this browser has no token
        other.fill('[data-testid="delete-token-input"]', token[::-1])
        other.click("#delete-form button[type=submit]")
        other.wait_for_function(
            "() => document.querySelector('#delete-status').textContent.includes('does not delete')"
        )
        assert status(share) == 200

        other.fill('[data-testid="delete-token-input"]', token)
        other.click("#delete-form button[type=submit]")
        other.wait_for_url(server.url + "/")
        assert status(share) == 404
        assert status(api) == 404
        # The API's 403 to the wrong token is reported by Chromium as a failed resource.
        other_watch.console_errors = [e for e in other_watch.console_errors if "403" not in e]
        other_watch.assert_clean()
    finally:
        fresh.close()
    watch.assert_clean()


# --- the findings panel --------------------------------------------------------------------


def test_findings_are_grouped_by_severity_filtered_and_a_click_fills_the_details(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    answer = open_sample(tab, server, SHOP)
    document = answer["analysis"]
    findings = document["findings"]
    counts = Counter(f["severity"] for f in findings)
    assert len(counts) > 1, "the sample has findings of several severities"

    groups = tab.locator(".finding-group")
    shown = [
        (g.get_attribute("data-severity"), int(g.get_attribute("data-count")),
         g.locator(".finding-toggle").count())
        for g in groups.all()
    ]
    order = [s for s in ("high", "medium", "low", "info") if s in counts]
    assert shown == [(s, counts[s], counts[s]) for s in order]
    options = tab.locator("#finding-severity option").all_inner_texts()
    assert options == ["every severity"] + [f"{s} ({counts[s]})" for s in order]

    chosen = order[1]
    tab.select_option("#finding-severity", chosen)
    visible = [g.get_attribute("data-severity") for g in groups.all() if g.is_visible()]
    assert visible == [chosen]
    assert tab.locator(".finding-toggle:visible").count() == counts[chosen]
    tab.select_option("#finding-severity", "")
    assert tab.locator(".finding-toggle:visible").count() == len(findings)

    # A finding with nodes and policies: its details, and its nodes lit.
    index = next(i for i, f in enumerate(findings) if f["nodes"] and f["policies"])
    finding = findings[index]
    tab.locator(f'.finding-toggle[data-finding="{index}"]').click()
    card = tab.locator('[data-testid="details"]')
    assert card.locator('[data-testid="finding-details"]').get_attribute("data-finding") == str(
        index
    )
    text = card.inner_text()
    assert finding["message"] in text and finding["rule"] in text and finding["severity"] in text
    names = {n["id"]: n for n in document["nodes"]}
    for node_id in finding["nodes"]:
        node = names[node_id]
        name = f"{node['namespace']}/{node['name']}" if node["type"] == "workload" else node["name"]
        assert name in text
    policies = {p["id"]: p for p in document["policies"]}
    for policy_id in finding["policies"]:
        source = policies[policy_id]["source"]
        assert f"{policy_id} ({source['file']}:{source['line']})" in text
    lit = tab.evaluate("window.netpolViz.highlighted()")
    assert lit["finding"] == index and lit["nodes"]

    # One about the upload as a whole: shown, and nothing stays lit.
    whole = next(i for i, f in enumerate(findings) if not f["nodes"] and not f["policies"])
    tab.locator(f'.finding-toggle[data-finding="{whole}"]').click()
    assert findings[whole]["message"] in card.inner_text()
    assert "about the upload as a whole" in card.inner_text()
    assert tab.evaluate("window.netpolViz.highlighted()") is None
    watch.assert_clean()
