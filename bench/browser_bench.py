"""How fast the diagram page opens for big uploads, in real headless Chromium.

Starts `netpol-viz serve` on a free loopback port with a throw-away SQLite
file (no CPU limit on the analysis: the 20,000-pod clusters take longer than
the default 20 s), uploads generated clusters through the API, then opens
each share link `--runs` times, each in a fresh browser context (nothing
cached), and takes the median of each figure. All times are milliseconds
from navigation start (performance.timeOrigin), "page loading":

- byte: the first byte of the HTML (navigation responseStart; the server
  builds the whole page before it answers, so this is mostly its time),
- html: the page's HTML received (navigation responseEnd),
- parsed: the document parsed, its scripts run (domInteractive),
- ready: the first usable view, body[data-ready="1"]: the network drawn once
  with nothing simulating (body[data-ready-ms], from performance.now()),
- painted: the frame after ready has been painted (two animation frames
  after the data-ready attribute changed: an upper bound of the first paint
  of the network),
- weight: bytes transferred for the page and everything it loads (with
  Chromium's Accept-Encoding, so compressed when the server compresses),
- view: the decoded size of the view's JSON island, how long `JSON.parse`
  of it takes in the page, and its biggest top-level keys,
- what was drawn: vis nodes and edges.

Targets (issue 9): 1,000 workloads / 5,000 pods: ready <= 2 s, weight <=
1.5 MB; 4,000 workloads / 20,000 pods: ready <= 5 s. The clusters are
`bench/generate.py` (reference; `--generator hard` for generate_hard.py) at
5,000 pods / 1,000 policies (1,291 nodes) and 20,000 / 4,000 (5,176 nodes),
seed 1. Exit status 1 when a target is missed. `--sizes N ...` instead runs
issue 3's old cases: N web/api/db Deployments behind default-deny
(tests/browserfixtures.large_manifests), 500: weight <= 2 MB and ready <=
3 s, 1,000: ready <= 5 s.

    python bench/browser_bench.py                       # issue 9: 5,000 and 20,000 pods, 3 runs
    python bench/browser_bench.py --cases 5k --runs 5 --generator hard
    python bench/browser_bench.py --sizes 100 500 1000  # issue 3's cases
    python bench/browser_bench.py --screenshots docs/   # the README's pictures

With --screenshots DIR it instead takes the README's pictures from the
samples (see `screenshots`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from browserfixtures import (  # noqa: E402
    PageWatch,
    ServerProcess,
    large_manifests,
    launch_chromium,
    running_server,
    wait_ready,
)

MB = 1024 * 1024
READY_TIMEOUT_MS = 180_000


@dataclass(frozen=True)
class Case:
    name: str
    label: str
    make: Callable[[str], bytes]
    """The cluster's YAML, given the generator's name."""
    ready_ms: float | None = None
    weight: int | None = None


def generated(pods: int, policies: int) -> Callable[[str], bytes]:
    def make(generator: str) -> bytes:
        name = "generate.py" if generator == "reference" else "generate_hard.py"
        script = REPO / "bench" / name
        command = [sys.executable, str(script), "--pods", str(pods), "--policies", str(policies)]
        return subprocess.run([*command, "--seed", "1"], check=True, capture_output=True).stdout

    return make


def fixture(workloads: int) -> Callable[[str], bytes]:
    return lambda _generator: large_manifests(workloads, max(1, workloads // 10)).encode()


CASES = {
    "5k": Case("5k", "1,000 workloads / 5,000 pods", generated(5000, 1000), 2000, 1.5 * MB),
    "20k": Case("20k", "4,000 workloads / 20,000 pods", generated(20000, 4000), 5000),
}
OLD_TARGETS: dict[int, dict[str, Any]] = {
    500: {"ready_ms": 3000, "weight": 2 * MB},
    1000: {"ready_ms": 5000},
}

# Before any page script: when data-ready changes, wait two frames (the one that
# paints the drawn network, and the next) and note the time.
PAINT_WATCH = """
new MutationObserver((changes, observer) => {
  if (document.body.dataset.ready !== "1") return;
  observer.disconnect();
  requestAnimationFrame(() => requestAnimationFrame(() => {
    window.__netpolPainted = performance.now();
  }));
}).observe(document, {attributes: true, subtree: true, attributeFilter: ["data-ready"]});
"""

MEASURE = """() => {
  const navigation = performance.getEntriesByType("navigation")[0];
  const entries = [navigation].concat(performance.getEntriesByType("resource"));
  const island = document.getElementById("view-data");
  const started = performance.now();
  const view = JSON.parse(island.textContent);
  const parse = performance.now() - started;
  const parts = Object.keys(view).map((key) => [key, JSON.stringify(view[key]).length]);
  return {
    first_byte_ms: navigation.responseStart,
    html_ms: navigation.responseEnd,
    parsed_ms: navigation.domInteractive,
    ready_ms: Number(document.body.dataset.readyMs),
    painted_ms: window.__netpolPainted,
    weight: entries.reduce((sum, e) => sum + e.transferSize, 0),
    html: navigation.transferSize,
    html_decoded: navigation.decodedBodySize,
    view_bytes: new TextEncoder().encode(island.textContent).length,
    parse_ms: parse,
    view_parts: parts.sort((a, b) => b[1] - a[1]).slice(0, 6),
    drawn_nodes: window.netpolViz.nodes.length,
    drawn_edges: window.netpolViz.edges.length,
    nodes: window.netpolViz.view.nodeDetails.length,
  };
}"""


IDENTITY: dict[str, str] = {}
"""Extra request headers of every page load (`--identity`: no compression asked)."""


def measure(browser: Any, server: ServerProcess, url: str) -> dict[str, Any]:
    """One page load in a fresh context: the figures of MEASURE."""
    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, extra_http_headers=IDENTITY
    )
    try:
        page = context.new_page()
        watch = PageWatch(page, server.url)
        page.add_init_script(PAINT_WATCH)
        page.goto(server.url + url, timeout=READY_TIMEOUT_MS)
        wait_ready(page, timeout=READY_TIMEOUT_MS)
        page.wait_for_function("() => window.__netpolPainted !== undefined")
        result: dict[str, Any] = page.evaluate(MEASURE)
        watch.assert_clean()
        return result
    finally:
        context.close()


HEADER = (
    f"{'case':<44} {'nodes':>6} {'upload s':>8} {'byte':>6} {'html':>6} {'parsed':>6} {'ready':>6} "
    f"{'painted':>7} {'weight MB':>9} {'view MB':>7} {'parse':>5} {'drawn':>11}  verdict"
)


def bench_case(
    browser: Any, server: ServerProcess, label: str, text: bytes, runs: int, target: dict[str, Any]
) -> list[str]:
    """Upload `text`, open its page `runs` times, print a row; the targets missed."""
    started = time.monotonic()
    answer = server.post_analysis([("cluster.yaml", text)])
    upload = time.monotonic() - started
    results = [measure(browser, server, answer["url"]) for _ in range(runs)]

    def median(key: str) -> float:
        return float(statistics.median(r[key] for r in results))

    ready, weight = median("ready_ms"), median("weight")
    missed = []
    if target.get("ready_ms") is not None and ready > target["ready_ms"]:
        missed.append(f"ready {ready:.0f} ms > {target['ready_ms']} ms")
    if target.get("weight") is not None and weight > target["weight"]:
        missed.append(f"weight {weight / MB:.2f} MB > {target['weight'] / MB:.2f} MB")
    first = results[0]
    print(
        f"{label:<44} {first['nodes']:>6} {upload:>8.1f} {median('first_byte_ms'):>6.0f} "
        f"{median('html_ms'):>6.0f} "
        f"{median('parsed_ms'):>6.0f} {ready:>6.0f} {median('painted_ms'):>7.0f} "
        f"{weight / MB:>9.2f} {first['view_bytes'] / MB:>7.2f} {median('parse_ms'):>5.0f} "
        f"{first['drawn_nodes']:>5}n {first['drawn_edges']:>4}e  "
        + ("FAIL: " + "; ".join(missed) if missed else "PASS"),
        flush=True,
    )
    each = ", ".join(f"{r['first_byte_ms']:.0f}/{r['ready_ms']:.0f}" for r in results)
    print(f"{'':<44} byte/ready of each run: {each} ms", flush=True)
    parts = ", ".join(f"{key} {size / MB:.2f}" for key, size in first["view_parts"])
    print(f"{'':<44} biggest parts of the view (MB): {parts}", flush=True)
    return [f"{label}: {line}" for line in missed]


def run(cases: list[tuple[str, bytes, dict[str, Any]]], runs: int) -> int:
    from playwright.sync_api import sync_playwright

    os.environ["NETPOL_ANALYSIS_CPU_LIMIT"] = "0"  # the server process inherits it
    missed: list[str] = []
    with (
        tempfile.TemporaryDirectory() as directory,
        running_server(Path(directory)) as server,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        print(f"ms from navigation start, median of {runs}; load {os.getloadavg()[0]:.1f}")
        print(HEADER, flush=True)
        for label, text, target in cases:
            missed += bench_case(browser, server, label, text, runs, target)
        browser.close()
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    for line in missed:
        print("MISSED", line, file=sys.stderr)
    return 1 if missed else 0


# --- the README's screenshots ---------------------------------------------------------

VIEWPORT = {"width": 1440, "height": 900}


def _click_canvas(page: Any, point_of: str) -> None:
    """Click the diagram where the expression `point_of` says (canvas coordinates).

    The pointer goes there first: hovering shows a tooltip, which may scroll the
    page, so the point is measured again before the click.
    """
    for _ in range(2):
        point = page.evaluate(point_of)
        box = page.locator("#network canvas").bounding_box()
        page.mouse.move(box["x"] + point["x"], box["y"] + point["y"])
        page.wait_for_timeout(300)
    page.mouse.down()
    page.mouse.up()


def _click_edge(page: Any, source: str, target: str) -> None:
    """Click the drawn arrow from `source` to `target` (workload names) and wait for its rules."""
    edge = page.evaluate(
        """([source, target]) => {
          const v = window.netpolViz.view;
          const id = (name) => v.nodeDetails.findIndex((d) => d.name === name);
          const found = window.netpolViz.edges.get({
            filter: (e) => e.from === id(source) && e.to === id(target),
          });
          return found.length ? found[0].id : null;
        }""",
        [source, target],
    )
    if edge is None:
        raise RuntimeError(f"no drawn arrow from {source} to {target}")
    _click_canvas(page, f"window.netpolViz.domPointOfEdge({json.dumps(edge)})")
    page.wait_for_function("() => document.querySelector('#details .rule') !== null")


def _click_node(page: Any, name: str) -> None:
    node = page.evaluate(
        "(name) => window.netpolViz.view.nodeDetails.findIndex((d) => d.name === name)", name
    )
    if node < 0:
        raise RuntimeError(f"no node named {name}")
    _click_canvas(page, f"window.netpolViz.domPointOfNode({node})")
    page.wait_for_function(
        "(name) => document.querySelector('#details')?.textContent.includes(name)", arg=name
    )


def _open(page: Any, url: str) -> None:
    page.goto(url)
    wait_ready(page, timeout=60_000)


def _shot(page: Any, directory: Path, view: str, written: list[Path]) -> None:
    # No hover tooltip in the picture: the pointer to an empty corner of the diagram
    # (vis hides its tooltip on a move over the canvas), the page back to its top.
    canvas = page.locator("#network canvas")
    box = canvas.bounding_box() if canvas.count() else None  # None when hidden (matrix)
    if box:
        page.mouse.move(box["x"] + box["width"] - 3, box["y"] + box["height"] - 3)
    else:
        page.mouse.move(0, 0)
    page.wait_for_timeout(400)  # the selection's redraw, the tooltip's fading
    page.evaluate("() => window.scrollTo(0, 0)")
    path = directory / f"screenshot-{view}.png"
    page.screenshot(path=str(path))
    written.append(path)
    print(f"wrote {path}", flush=True)


def _sample_files(slug: str) -> list[tuple[str, bytes]]:
    folder = REPO / "sample-manifests" / slug
    files = sorted(p for p in folder.iterdir() if p.suffix in {".yaml", ".yml", ".json"})
    return [(p.name, p.read_bytes()) for p in files]


def screenshots(directory: Path) -> int:
    """The README's pictures, 1440×900, from the samples, as docs/screenshot-<view>.png.

    diagram (10-online-shop, an arrow's rules in the details panel; also
    docs/screenshot.png), node (the same sample, a node selected), matrix
    (`?view=matrix`), matrix-cell (a cell drilled down), why (`?from=&to=`),
    diff (two samples uploaded through the API), multi-tenant (the
    cluster-multi-tenant sample).
    """
    from playwright.sync_api import sync_playwright

    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with (
        tempfile.TemporaryDirectory() as temporary,
        running_server(Path(temporary)) as server,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(server.url + "/samples/10-online-shop")
        wait_ready(page, timeout=60_000)
        shop = page.url.split("?")[0]

        _click_edge(page, "storefront", "cart")
        _shot(page, directory, "diagram", written)

        _open(page, shop)
        _click_node(page, "cart")
        _shot(page, directory, "node", written)

        _open(page, shop + "?view=matrix")
        page.wait_for_selector('[data-testid="matrix"][data-level="namespaces"] td.nm-cell')
        _shot(page, directory, "matrix", written)
        # The backend's APIs to the data stores: several workloads on each side.
        page.locator('td.nm-cell[data-from="shop-backend"][data-to="shop-data"] a.nm-go').click()
        page.wait_for_selector('[data-testid="matrix"][data-level="workloads"] td')
        _shot(page, directory, "matrix-cell", written)

        # A "why not": the storefront may not reach the database.
        _open(page, shop + "?from=shop-frontend/storefront&to=shop-data/postgres")
        page.wait_for_selector("#why-result .why-verdict", timeout=30_000)
        page.locator("#why").scroll_into_view_if_needed()
        _shot(page, directory, "why", written)

        old = server.post_analysis(_sample_files("02-db-egress-to-backend-with-app"))["id"]
        new = server.post_analysis(_sample_files("03-db-ingress-and-egress-with-app"))["id"]
        page.goto(f"{server.url}/diff/{old}/{new}")
        wait_ready(page, timeout=60_000)
        _shot(page, directory, "diff", written)

        page.goto(server.url + "/samples/cluster-multi-tenant")
        wait_ready(page, timeout=60_000)
        _shot(page, directory, "multi-tenant", written)
        browser.close()
    main_picture = directory / "screenshot.png"
    main_picture.write_bytes(written[0].read_bytes())
    print(f"wrote {main_picture} (= {written[0].name})")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--generator", choices=["reference", "hard"], default="reference")
    parser.add_argument("--sizes", type=int, nargs="+", help="issue 3's cases: N workloads")
    parser.add_argument("--runs", type=int, default=3, help="page loads per case (median)")
    parser.add_argument(
        "--identity", action="store_true", help="ask for uncompressed responses (a comparison)"
    )
    parser.add_argument("--screenshots", type=Path, metavar="DIR", help="write the README pictures")
    args = parser.parse_args()
    if args.screenshots:
        return screenshots(args.screenshots)
    if args.identity:
        IDENTITY["Accept-Encoding"] = "identity"
    if args.sizes:
        cases = [
            (f"{size:,} workloads (issue 3)", fixture(size)(""), OLD_TARGETS.get(size, {}))
            for size in args.sizes
        ]
    else:
        cases = []
        for name in args.cases:
            case = CASES[name]
            target = {"ready_ms": case.ready_ms, "weight": case.weight}
            label = f"{case.label} ({args.generator})"
            cases.append((label, case.make(args.generator), target))
    return run(cases, args.runs)


if __name__ == "__main__":
    sys.exit(main())
