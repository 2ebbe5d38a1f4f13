"""Journeys through the web pages in real headless Chromium against a real server process.

The server is `netpol-viz serve` on a loopback port with its own SQLite
file (see browserfixtures.ServerProcess); the browser is Debian's Chromium
driven by Playwright. Every page is watched for dialogs, CSP violations,
console errors and requests that leave the app's origin (PageWatch).
Without /usr/bin/chromium these tests skip locally and fail under CI=true.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from browserfixtures import (
    BIDI,
    HOSTILE_ANNOTATION,
    HOSTILE_FILE_NAME,
    HOSTILE_HTML,
    HOSTILE_MANIFESTS,
    HOSTILE_SCRIPT,
    PageWatch,
    ServerProcess,
    hostile_document,
    large_manifests,
    running_server,
    wait_ready,
)

from webapp.core import analyze
from webapp.core.input.raw import SourceText
from webapp.outputs.offline import DIAGRAM_SCRIPTS, standalone_html

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample-manifests"
SHOP = "10-online-shop"
ARTICLE = "01-db-ingress-from-backend-with-app"


def sample_files(slug: str) -> list[Path]:
    """The manifests of a sample: *.yaml, *.yml and *.json files in its folder, README aside."""
    files = sorted(
        path
        for path in (SAMPLES / slug).rglob("*")
        if path.suffix in (".yaml", ".yml", ".json") and path.name != "scenario.yaml"
    )
    assert files, slug
    return files


def expected_nodes(files: list[Path]) -> int:
    """What the core makes of the files: the number of nodes the diagram must show."""
    sources = [SourceText(name=path.name, data=path.read_bytes()) for path in files]
    return len(analyze(sources).document["nodes"])


# --- fixtures -------------------------------------------------------------------





@pytest.fixture
def page(context: Any, server: ServerProcess) -> tuple[Any, PageWatch]:
    page = context.new_page()
    return page, PageWatch(page, server.url)


def node_count(page: Any) -> int:
    return int(page.evaluate("window.netpolViz.nodes.length"))


def click_canvas(page: Any, point: dict[str, float], *, double: bool = False) -> None:
    """Click at a point given in the network canvas's own coordinates."""
    box = page.locator("#network canvas").bounding_box()
    x, y = box["x"] + point["x"], box["y"] + point["y"]
    if double:
        page.mouse.dblclick(x, y)
    else:
        page.mouse.click(x, y)


def panel_text(page: Any) -> str:
    return str(page.locator("#details").inner_text())


def open_sample(page: Any, server: ServerProcess, slug: str) -> dict[str, Any]:
    """Upload a sample through the API and open its share link; the API's answer."""
    files = sample_files(slug)
    answer = server.post_analysis([(path.name, path.read_bytes()) for path in files])
    page.goto(server.url + answer["url"])
    wait_ready(page)
    return answer


def upload_through_page(page: Any, server: ServerProcess, files: list[Any]) -> None:
    page.goto(server.url + "/")
    page.set_input_files("#manifests", files)
    page.click("#analyse")
    page.wait_for_url(re.compile(r".*/a/[A-Za-z0-9_-]{22,}$"))
    wait_ready(page)


# --- journeys -------------------------------------------------------------------


def test_upload_sample_with_file_picker_draws_every_node(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    files = sample_files(SHOP)
    upload_through_page(tab, server, [str(path) for path in files])

    assert node_count(tab) == expected_nodes(files)
    assert tab.locator("body").get_attribute("data-node-count") == str(expected_nodes(files))
    assert int(tab.evaluate("window.netpolViz.edges.length")) > 0
    assert tab.locator(".summary").inner_text().count("workloads") == 1
    assert tab.locator(".problems h2").inner_text() == "Problems"
    watch.assert_clean()


def test_gallery_sample_opens_with_one_click_and_an_edge_shows_its_rule(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    tab.goto(server.url + "/")
    tab.locator(f'.gallery a[href$="/samples/{ARTICLE}"]').click()
    tab.wait_for_url(re.compile(r".*/a/[A-Za-z0-9_-]{22,}$"))
    wait_ready(tab)

    edge_id = tab.evaluate(
        """() => {
          const v = window.netpolViz.view;
          const id = (name) => v.nodeDetails.findIndex((d) => d.name === name);
          return v.edges.find((e) => e.from === id("backend") && e.to === id("mysql")).id;
        }"""
    )
    point = tab.evaluate(f"window.netpolViz.domPointOfEdge({edge_id})")
    click_canvas(tab, point)
    tab.wait_for_function("() => document.querySelector('#details .rule') !== null")

    policy = (SAMPLES / ARTICLE / "db-backend.yaml").read_text().splitlines()
    rule_line = next(n for n, text in enumerate(policy, 1) if text.strip() == "- from:")
    text = panel_text(tab)
    assert "default/backend → default/mysql" in text
    assert "TCP 3306" in text
    assert "default/db-backend · spec.ingress[0]" in text
    assert f"db-backend.yaml:{rule_line}" in text
    assert "role: backend" in tab.locator("#details pre.yaml").inner_text()
    assert tab.evaluate("window.netpolViz.network.getSelectedEdges()") == [edge_id]
    watch.assert_clean()


def test_node_click_lists_policies_and_both_directions(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    open_sample(tab, server, ARTICLE)
    mysql = tab.evaluate("window.netpolViz.view.nodeDetails.findIndex((d) => d.name === 'mysql')")
    click_canvas(tab, tab.evaluate(f"window.netpolViz.domPointOfNode({mysql})"))
    tab.wait_for_function(
        "() => document.querySelector('#details .panel-title').textContent === 'mysql'"
    )

    text = panel_text(tab)
    assert "Namespace\ndefault" in text
    assert "name=mysql" in text
    assert "isolated by default/db-backend" in text
    assert "Can reach (" in text and "Can be reached by (1)" in text
    assert "default/backend" in tab.locator("#details .peers").last.inner_text()
    watch.assert_clean()


def test_share_link_opens_in_a_fresh_context_after_a_restart(browser: Any, tmp_path: Path) -> None:
    files = sample_files(SHOP)
    with running_server(tmp_path) as server:
        answer = server.post_analysis([(path.name, path.read_bytes()) for path in files])
        assert re.fullmatch(r"/a/[A-Za-z0-9_-]{22,}", answer["url"]), answer["url"]
        server.restart()

        context = browser.new_context()
        try:
            tab = context.new_page()
            watch = PageWatch(tab, server.url)
            tab.goto(server.url + answer["url"])
            wait_ready(tab)
            # A smaller screen may open at the namespace level: every node is behind a box.
            tab.click("#expand-all")
            assert node_count(tab) == len(answer["analysis"]["nodes"])
            assert tab.locator("#share-url").input_value() == answer["url"]
            watch.assert_clean()
        finally:
            context.close()


def test_hostile_upload_shows_strings_as_text(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    upload_through_page(
        tab,
        server,
        [
            {
                "name": HOSTILE_FILE_NAME,
                "mimeType": "application/yaml",
                "buffer": HOSTILE_MANIFESTS.encode(),
            }
        ],
    )
    nodes = tab.evaluate("window.netpolViz.nodes.getIds()")
    assert nodes, "the plain workload and the external addresses are drawn"
    for node in nodes:
        point = tab.evaluate(f"window.netpolViz.domPointOfNode({json.dumps(node)})")
        box = tab.locator("#network canvas").bounding_box()
        tab.mouse.move(box["x"] + point["x"], box["y"] + point["y"])
        tab.wait_for_function(
            "() => document.querySelector('.vis-tooltip') && "
            "document.querySelector('.vis-tooltip').style.visibility !== 'hidden'"
        )
        # vis shows a string title with innerText: the text comes back verbatim,
        # and the only elements in the tooltip are the <br>s of its line breaks.
        title = tab.evaluate(f"window.netpolViz.nodes.get({json.dumps(node)}).title")
        shown = tab.evaluate(
            """() => {
              const tip = document.querySelector('.vis-tooltip');
              return [tip.innerText, [...tip.querySelectorAll('*')].map((e) => e.tagName)];
            }"""
        )
        assert shown[0] == title
        assert set(shown[1]) <= {"BR"}
        click_canvas(tab, point)
        tab.wait_for_timeout(50)
    tab.mouse.move(1, 1)

    plain = tab.evaluate("window.netpolViz.view.nodeDetails.findIndex((d) => d.name === 'plain')")
    tab.evaluate(f"window.netpolViz.reveal({plain})")
    shown_file = "<img src=x onerror=alert(1)><U+202E>lmay.yaml"
    assert shown_file in panel_text(tab)
    tooltip = tab.evaluate(f"window.netpolViz.view.nodes[{plain}].title")
    assert HOSTILE_HTML in tooltip and BIDI not in tooltip  # vis shows titles via innerText

    problems = tab.locator(".problems").inner_text()
    assert HOSTILE_HTML in problems
    assert HOSTILE_SCRIPT in problems
    assert "<U+202E>lmay.yaml" in problems  # the file name's override, shown as a mark
    assert BIDI not in problems
    body = tab.locator("body").inner_text()
    assert BIDI not in body
    html = tab.content()
    assert HOSTILE_ANNOTATION not in html and "alert(2)" not in html  # annotations and env dropped
    assert tab.locator("img").count() == 0
    assert tab.locator("script").count() == 1 + len(DIAGRAM_SCRIPTS)  # and the data island
    watch.assert_clean()


def test_hostile_standalone_export_in_the_browser(context: Any, tmp_path: Path) -> None:
    """The offline file of a hand-made hostile document: names and labels reach the diagram."""
    path = tmp_path / "hostile.html"
    path.write_text(standalone_html(hostile_document()), encoding="utf-8")
    tab = context.new_page()
    watch = PageWatch(tab, path.as_uri())
    tab.goto(path.as_uri())
    wait_ready(tab)
    for node in range(int(tab.evaluate("window.netpolViz.view.nodes.length"))):
        tab.evaluate(f"window.netpolViz.reveal({node})")
        text = panel_text(tab)
        assert HOSTILE_HTML in text
        assert BIDI not in text
    tab.evaluate("window.netpolViz.reveal(0)")
    assert f"{HOSTILE_HTML}{HOSTILE_SCRIPT}<U+202E>evil" in panel_text(tab)
    tab.locator("#details .why").first.click()
    assert HOSTILE_SCRIPT in tab.locator("#details pre.yaml").inner_text()
    assert tab.locator("img").count() == 0
    assert watch.dialogs == [] and watch.page_errors == [] and watch.console_errors == []
    assert watch.csp_violations() == []
    assert [url for url in watch.requests if url != path.as_uri()] == []


def test_standalone_export_from_the_server_works_offline(
    context: Any, server: ServerProcess, tmp_path: Path
) -> None:
    tab = context.new_page()
    answer = open_sample(tab, server, SHOP)
    with tab.expect_download() as download:
        tab.click("text=HTML (offline)")
    saved = tmp_path / "export.html"
    download.value.save_as(saved)

    context.set_offline(True)
    try:
        offline = context.new_page()
        watch = PageWatch(offline, saved.as_uri())
        offline.goto(saved.as_uri())
        wait_ready(offline)
        assert node_count(offline) == len(answer["analysis"]["nodes"])
        assert watch.csp_violations() == [] and watch.console_errors == []
        assert [url for url in watch.requests if url != saved.as_uri()] == []
    finally:
        context.set_offline(False)


def test_filters_search_namespace_focus_and_default_allow(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    open_sample(tab, server, SHOP)
    total = node_count(tab)
    edges = int(tab.evaluate("window.netpolViz.edges.length"))
    open_by_default = int(tab.evaluate("window.netpolViz.view.counts.defaultAllow"))
    assert open_by_default > 0

    # Open-by-default pairs are not arrows; "show open traffic" adds them by namespace.
    tab.check("#show-open")
    assert int(tab.evaluate("window.netpolViz.edges.length")) > edges
    tab.uncheck("#show-open")
    assert int(tab.evaluate("window.netpolViz.edges.length")) == edges

    tab.fill("#search", "storefront")
    tab.wait_for_function(f"() => window.netpolViz.nodes.length < {total}")
    assert tab.evaluate("window.netpolViz.nodes.get().map((n) => n.label.split('\\n')[0])") == [
        "storefront"
    ]
    tab.fill("#search", "")
    tab.wait_for_function(f"() => window.netpolViz.nodes.length === {total}")

    tab.select_option("#namespace-filter", label="shop-data")
    shown = tab.evaluate("window.netpolViz.nodes.getIds()")
    namespaces = tab.evaluate(
        f"{json.dumps(shown)}.map((id) => window.netpolViz.view.nodeDetails[id].namespace)"
    )
    assert "shop-data" in namespaces and len(shown) < total
    tab.select_option("#namespace-filter", value="")

    redis = tab.evaluate("window.netpolViz.view.nodeDetails.findIndex((d) => d.name === 'redis')")
    tab.evaluate(f"window.netpolViz.reveal({redis})")
    tab.click("text=Focus on its neighbourhood")
    assert tab.locator("#focus-status").is_visible()
    focused = node_count(tab)
    assert 1 < focused < total
    tab.click("#clear-focus")
    assert node_count(tab) == total
    watch.assert_clean()


def test_copy_link_and_png_download(
    context: Any, page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    open_sample(tab, server, ARTICLE)
    tab.click("#copy-link")
    tab.wait_for_function("() => document.querySelector('#copy-status').textContent === 'copied'")
    copied = tab.evaluate("navigator.clipboard.readText()")
    assert re.fullmatch(re.escape(server.url) + r"/a/[A-Za-z0-9_-]{22,}", copied)
    assert tab.url == copied

    with tab.expect_download() as download:
        tab.click("#download-png")
    assert download.value.suggested_filename == "netpol-viz.png"
    assert Path(download.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    watch.assert_clean()


def test_paste_box_and_drag_and_drop(page: tuple[Any, PageWatch], server: ServerProcess) -> None:
    tab, watch = page
    tab.goto(server.url + "/")
    policy, app = (SAMPLES / ARTICLE / "db-backend.yaml"), (SAMPLES / ARTICLE / "app.yaml")
    dropped = tab.evaluate_handle(
        """(text) => {
          const files = new DataTransfer();
          files.items.add(new File([text], "app.yaml", {type: "application/yaml"}));
          return files;
        }""",
        app.read_text(),
    )
    tab.dispatch_event("#drop-zone", "drop", {"dataTransfer": dropped})
    assert tab.locator("#file-list").inner_text().startswith("app.yaml")
    tab.fill("#text", policy.read_text())
    tab.click("#analyse")
    tab.wait_for_url(re.compile(r".*/a/[A-Za-z0-9_-]{22,}$"))
    wait_ready(tab)
    assert node_count(tab) == expected_nodes([policy, app])
    assert "pasted.yaml" in tab.evaluate(
        "JSON.stringify(window.netpolViz.view.policies.map((p) => p.file))"
    )
    watch.assert_clean()


def test_upload_without_javascript_posts_the_form(browser: Any, server: ServerProcess) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto(server.url + "/")
        tab.set_input_files("#manifests", [str(path) for path in sample_files(ARTICLE)])
        tab.click("#analyse")
        tab.wait_for_url(re.compile(r".*/a/[A-Za-z0-9_-]{22,}$"))
        assert "workloads" in tab.locator(".summary").inner_text()
        assert tab.locator("noscript").count() == 1
    finally:
        context.close()


def test_upload_error_is_shown_on_the_page(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    tab.goto(server.url + "/")
    tab.fill("#text", "kind: ConfigMap\napiVersion: v1\nmetadata: {name: x}\n")
    tab.click("#analyse")
    tab.wait_for_selector("#upload-error:not([hidden])")
    assert tab.url == server.url + "/"
    assert "nothing to analyse" in tab.locator("#upload-error").inner_text()
    # The API's 400 is reported by Chromium as a failed resource; that is the expected answer.
    watch.console_errors = [e for e in watch.console_errors if "400" not in e]
    watch.assert_clean()


@pytest.mark.slow
def test_thousand_workload_upload_opens_collapsed_within_target(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    text = large_manifests(workloads=1000, namespaces=100).encode()
    answer = server.post_analysis([("cluster.yaml", text)])
    nodes = answer["analysis"]["nodes"]
    assert len(nodes) == 1001  # 1,000 workloads and the external addresses

    started = time.monotonic()
    tab.goto(server.url + answer["url"])
    wait_ready(tab, timeout=10_000)
    elapsed = time.monotonic() - started
    assert elapsed < 5.0, f"opened in {elapsed:.2f} s"

    clusters = tab.evaluate("window.netpolViz.view.clusters")
    # Every namespace collapsed, and as many as stay readable drawn as boxes: the rest in one.
    ids = tab.evaluate("window.netpolViz.nodes.getIds()")
    boxes = [i for i in ids if str(i).startswith("cluster:")]
    assert set(ids) == {*boxes, "more"}
    held = re.search(r"holds (\d+) namespaces", tab.inner_text("#status-line"))
    assert held and len(boxes) + int(held.group(1)) == len(clusters)
    assert tab.evaluate("window.netpolViz.network.physics.options.enabled") is False

    team = next(c for c in clusters if c["title"] == "team-000")
    point = tab.evaluate(f"window.netpolViz.domPointOfNode({json.dumps(team['id'])})")
    assert team["id"] in boxes
    click_canvas(tab, point, double=True)
    tab.wait_for_function(
        f"() => window.netpolViz.nodes.length === {len(ids) - 1 + len(team['members'])}"
    )
    watch.assert_clean()
