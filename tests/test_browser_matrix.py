"""The matrix view (static/matrix.js) in real Chromium against a real server process (issue 9).

Namespace × namespace cells count pairs of nodes allowed by policy, open by
default and denied. The page counts them by arithmetic over groups; the
expected counts here come from walking every pair of every flow of the
document, so the two ways must agree. Then sorting, filtering, the
drill-down to workload pairs and to the rules of one flow (file:line), the
`?view=` / `&cell=` / `&pair=` address bar, and paging of big namespace pairs.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from browserfixtures import (
    BIDI,
    HOSTILE_FILE_NAME,
    HOSTILE_HTML,
    PageWatch,
    ServerProcess,
    _deployment,
    _policy,
    wait_ready,
)
from clirun import cli

from webapp.graph import EXTERNAL_CLUSTER, NAMESPACE_PREFIX, cluster_of

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample-manifests"
ARTICLE = SAMPLES / "01-db-ingress-from-backend-with-app"
MATRIX = '[data-testid="matrix"]'

Cells = dict[tuple[str, str], dict[str, Any]]


# --- expected, from the document ------------------------------------------------------------


def token(cluster: str) -> str:
    """The page's name for a cluster in `cell=` and `data-from`: namespace, or "(external)"."""
    if cluster.startswith(NAMESPACE_PREFIX):
        return cluster[len(NAMESPACE_PREFIX) :]
    return f"({cluster})"


def expected_cells(document: dict[str, Any]) -> Cells:
    """Per (row, column): pairs allowed by policy, open by default, denied, in all, and status,
    by walking every pair (a, b), a != b, of every flow."""
    nodes = {n["id"]: n for n in document["nodes"]}
    where = {node_id: cluster_of(node) for node_id, node in nodes.items()}
    members = {g["id"]: g["nodes"] for g in document["groups"]}
    keys = [(f["source"], f["target"]) for f in document["flows"]]
    assert len(keys) == len(set(keys)), "one flow per pair of groups"
    allowed: Counter[tuple[str, str, str]] = Counter()
    for flow in document["flows"]:
        kind = "open" if flow.get("defaultAllow") else "policy"
        for a in members[flow["source"]]:
            for b in members[flow["target"]]:
                if a != b:
                    allowed[where[a], where[b], kind] += 1
    size = Counter(where.values())
    cells: Cells = {}
    for row in size:
        for col in size:
            total = size[row] * size[col] - (size[row] if row == col else 0)
            policy, open_ = allowed[row, col, "policy"], allowed[row, col, "open"]
            denied = total - policy - open_
            if total == 0:
                status = "none"
            elif row == col == EXTERNAL_CLUSTER:
                status = "na"  # external addresses to external addresses are not analysed
            elif denied == total:
                status = "denied"
            elif policy == total:
                status = "policy"
            elif open_ == total:
                status = "open"
            else:
                status = "partly"
            cells[token(row), token(col)] = {
                "policy": policy,
                "open": open_,
                "denied": denied,
                "total": total,
                "status": status,
            }
    return cells


# --- what the page shows ---------------------------------------------------------------------

READ_CELLS = """() => Array.from(document.querySelectorAll('[data-testid="matrix"] td[data-from]'))
  .map(td => ({from: td.dataset.from, to: td.dataset.to, status: td.dataset.status,
               policy: +td.dataset.policy, open: +td.dataset.open, denied: +td.dataset.denied,
               total: +td.dataset.total, text: td.innerText}))"""
READ_ROWS = """() => Array.from(document.querySelectorAll(
  '[data-testid="matrix"] tbody th[data-cluster]')).map(th => th.dataset.cluster)"""
READ_COLUMNS = """() => Array.from(document.querySelectorAll(
  '[data-testid="matrix"] thead th[data-cluster]')).map(th => th.dataset.cluster)"""


def shown_cells(tab: Any) -> Cells:
    cells: Cells = {}
    for cell in tab.evaluate(READ_CELLS):
        key = (cell.pop("from"), cell.pop("to"))
        text = cell.pop("text")
        if cell["total"] and cell["status"] != "na":
            # The counts are on screen, not only in attributes.
            assert f"{cell['policy']:,} · {cell['open']:,} · {cell['denied']:,}" in text, text
            assert f"of {cell['total']:,}" in text, text
        cells[key] = cell
    return cells


def rows(tab: Any) -> list[str]:
    return list(tab.evaluate(READ_ROWS))


def query(tab: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(tab.url).query)


def open_matrix(tab: Any, server: ServerProcess, url: str, extra: str = "") -> None:
    tab.goto(server.url + url + "?view=matrix" + extra)
    wait_ready(tab, timeout=60_000)
    tab.wait_for_selector(MATRIX)


def sample_files(folder: Path, rename: dict[str, str] | None = None) -> list[tuple[str, bytes]]:
    names = rename or {}
    return [
        (names.get(path.name, path.name), path.read_bytes())
        for path in sorted(folder.iterdir())
        if path.suffix in (".yaml", ".yml", ".json")
    ]


@pytest.fixture
def page(context: Any, server: ServerProcess) -> tuple[Any, PageWatch]:
    tab = context.new_page()
    return tab, PageWatch(tab, server.url)


# --- a generated cluster of about 1,000 workloads -------------------------------------------

THOUSAND = 1000
NAMESPACES = 20


def mixed_manifests(workloads: int = THOUSAND, namespaces: int = NAMESPACES) -> str:
    """web, api and db Deployments in `namespaces` namespaces of four kinds, so every cell
    status occurs: team-00, 04, ... admit ingress only from their own namespace, on 8080;
    team-01, 05, ... admit db traffic only from team-00's api, on 5432 (other tiers open);
    team-03, 07, ... let web send only to their own namespace and to 10.0.0.0/8 on 443
    (a second external address block); the rest have no policy."""
    docs = []
    for ns in range(namespaces):
        namespace = f"team-{ns:02d}"
        docs.append(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n")
        kind = ns % 4
        if kind == 0:
            docs.append(
                _policy(
                    namespace,
                    "same-namespace-only",
                    "{}",
                    "[Ingress]",
                    "  ingress:\n  - from:\n    - podSelector: {}\n"
                    "    ports:\n    - {protocol: TCP, port: 8080}\n",
                    "",
                )
            )
        elif kind == 1:
            docs.append(
                _policy(
                    namespace,
                    "db-from-team-00-api",
                    "{matchLabels: {tier: db}}",
                    "[Ingress]",
                    "  ingress:\n  - from:\n    - namespaceSelector:\n        matchLabels:\n"
                    "          kubernetes.io/metadata.name: team-00\n"
                    "      podSelector: {matchLabels: {tier: api}}\n"
                    "    ports:\n    - {protocol: TCP, port: 5432}\n",
                    "",
                )
            )
        elif kind == 3:
            docs.append(
                _policy(
                    namespace,
                    "web-egress",
                    "{matchLabels: {tier: web}}",
                    "[Egress]",
                    "",
                    "  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.0/8}\n"
                    "    ports:\n    - {protocol: TCP, port: 443}\n"
                    "  - to:\n    - podSelector: {}\n",
                )
            )
    for index in range(workloads):
        namespace = f"team-{index % namespaces:02d}"
        tier = ("web", "api", "db")[(index // namespaces) % 3]
        docs.append(_deployment(namespace, f"{tier}-{index:04d}", {"tier": tier}, 8080))
    return "---\n".join(docs)


@pytest.fixture(scope="module")
def thousand(server: ServerProcess) -> dict[str, Any]:
    answer = server.post_analysis([("cluster.yaml", mixed_manifests().encode())])
    assert answer["analysis"]["version"] == 2
    return answer


# --- counts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sample",
    [
        pytest.param("01-db-ingress-from-backend-with-app", id="article-app-partly-and-open"),
        pytest.param("05-payments-namespace-to-db", id="policies-only-inferred-rows"),
        pytest.param("06-egress-with-dns-with-app", id="egress-isolated-with-dns"),
        pytest.param("10-online-shop", id="online-shop-many-namespaces"),
    ],
)
def test_sample_matrix_counts_equal_the_document(
    page: tuple[Any, PageWatch], server: ServerProcess, sample: str
) -> None:
    tab, watch = page
    answer = server.post_analysis(sample_files(SAMPLES / sample))
    open_matrix(tab, server, answer["url"])
    assert tab.locator("#network").is_hidden()
    expected = expected_cells(answer["analysis"])
    assert shown_cells(tab) == expected
    statuses = {cell["status"] for cell in expected.values()}
    assert statuses - {"none", "na"}, "the sample must have pairs"
    # A namespace of inferred pods says so in its row header.
    kinds: dict[str, set[str]] = {}
    for node in answer["analysis"]["nodes"]:
        kinds.setdefault(token(cluster_of(node)), set()).add(node["type"])
    headers = tab.evaluate(
        """() => Object.fromEntries(Array.from(document.querySelectorAll(
          '[data-testid="matrix"] tbody th[data-cluster]')).map(th => [th.dataset.cluster,
          th.firstChild.textContent]))"""
    )
    for row, types in kinds.items():
        inferred = types == {"inferred"} and not row.startswith("(")
        assert headers[row].endswith(" (inferred)") == inferred, (row, headers[row])
    watch.assert_clean()


def test_thousand_workloads_matrix_counts_equal_the_document(
    page: tuple[Any, PageWatch], server: ServerProcess, thousand: dict[str, Any]
) -> None:
    tab, watch = page
    document = thousand["analysis"]
    assert len([n for n in document["nodes"] if n["type"] == "workload"]) == THOUSAND
    open_matrix(tab, server, thousand["url"])
    expected = expected_cells(document)
    assert len(expected) == (NAMESPACES + 1) ** 2  # the namespaces and external addresses
    assert {c["status"] for c in expected.values()} == {
        "policy",
        "open",
        "partly",
        "denied",
        "na",
    }
    assert shown_cells(tab) == expected
    # Counted over the whole analysis, not over the arrows the diagram draws.
    drawn = int(tab.evaluate("window.netpolViz.view.edges.length"))
    counted = sum(c["policy"] + c["open"] for c in expected.values())
    assert counted == document["summary"]["pairs"] > drawn
    watch.assert_clean()


# --- sorting and filtering -------------------------------------------------------------------


def row_sums(expected: Cells, key: str) -> dict[str, int]:
    sums: Counter[str] = Counter()
    for (row, _), cell in expected.items():
        if cell["status"] != "na":
            sums[row] += cell[key]
    return sums


def test_sorting_and_filtering_change_the_rows(
    page: tuple[Any, PageWatch], server: ServerProcess, thousand: dict[str, Any]
) -> None:
    tab, watch = page
    expected = expected_cells(thousand["analysis"])
    open_matrix(tab, server, thousand["url"])
    namespaces = [f"team-{ns:02d}" for ns in range(NAMESPACES)]
    by_name = [*namespaces, "(external)"]
    assert rows(tab) == by_name

    denied = row_sums(expected, "denied")
    tab.select_option('[data-testid="matrix-sort"]', "denied")
    shown = rows(tab)
    assert shown != by_name
    assert sorted(shown) == sorted(by_name)
    assert [denied[r] for r in shown] == sorted((denied[r] for r in shown), reverse=True)
    assert query(tab)["msort"] == ["denied"]
    tab.reload()
    wait_ready(tab)
    assert rows(tab) == shown  # the address bar keeps the order

    totals = {r: row_sums(expected, "total")[r] for r in by_name}
    allowed = {r: row_sums(expected, "policy")[r] + row_sums(expected, "open")[r] for r in by_name}
    tab.select_option('[data-testid="matrix-sort"]', "open")
    shares = [allowed[r] / totals[r] for r in rows(tab)]
    assert shares == sorted(shares, reverse=True)

    tab.select_option('[data-testid="matrix-sort"]', "name")
    tab.fill('[data-testid="matrix-filter-from"]', "team-1")
    assert rows(tab) == [n for n in namespaces if "team-1" in n]
    assert tab.evaluate(READ_COLUMNS) == by_name  # the To filter is separate
    tab.fill('[data-testid="matrix-filter-to"]', "team-03")
    assert tab.evaluate(READ_COLUMNS) == ["team-03"]
    assert (query(tab)["mfrom"], query(tab)["mto"]) == (["team-1"], ["team-03"])
    tab.fill('[data-testid="matrix-filter-from"]', "")
    tab.fill('[data-testid="matrix-filter-to"]', "")

    # Only cells with some kind of pair: rows and columns without such a cell leave.
    tab.select_option('[data-testid="matrix-only"]', "denied")
    assert rows(tab) == [r for r in by_name if any(expected[r, c]["denied"] for c in by_name)]
    for cell in tab.evaluate(READ_CELLS):
        if cell["denied"] == 0 or cell["status"] == "na":
            assert cell["text"] == "", cell  # left out by the filter, shown empty
    tab.select_option('[data-testid="matrix-only"]', "policy")
    with_policy = [r for r in by_name if any(expected[r, c]["policy"] for c in by_name)]
    assert rows(tab) == with_policy
    assert 0 < len(with_policy) < len(by_name)  # namespaces without policy traffic leave
    tab.select_option('[data-testid="matrix-only"]', "open")
    receiving_open = [c for c in by_name if any(expected[r, c]["open"] for r in by_name)]
    assert tab.evaluate(READ_COLUMNS) == receiving_open
    assert "team-00" not in receiving_open  # isolated for ingress: nothing open reaches it
    watch.assert_clean()


# --- drill-down ------------------------------------------------------------------------------


def test_drill_down_reaches_the_rules_of_a_flow_with_file_and_line(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    answer = server.post_analysis(sample_files(ARTICLE))
    document = answer["analysis"]
    nodes = {n["name"]: n for n in document["nodes"]}
    backend, mysql, frontend = nodes["backend"], nodes["mysql"], nodes["frontend"]
    flows = {(f["source"], f["target"]): f for f in document["flows"]}
    (ref,) = flows[backend["group"], mysql["group"]]["ingress"]
    policy = next(p for p in document["policies"] if p["id"] == ref["policy"])
    rules = {(r["direction"], r["rule"]): r for r in policy["rules"]}
    rule = rules["ingress", ref["rule"]]
    where = f"{ref['source']['file']}:{ref['source']['line']}-{rule['endLine']}"

    open_matrix(tab, server, answer["url"], "&keep=1")
    tab.click('td[data-from="default"][data-to="default"] a')
    table = tab.locator(MATRIX)
    assert table.get_attribute("data-level") == "workloads"
    assert query(tab)["cell"] == ["default|default"]
    assert query(tab)["keep"] == ["1"]
    cell = f'td[data-source="{backend["id"]}"][data-target="{mysql["id"]}"]'
    assert tab.get_attribute(cell, "data-status") == "policy"
    assert "TCP 3306" in tab.inner_text(cell)
    denied = f'td[data-source="{frontend["id"]}"][data-target="{mysql["id"]}"]'
    assert tab.get_attribute(denied, "data-status") == "denied"

    tab.click(cell + " a")
    pair = tab.locator('[data-testid="matrix-pair"]')
    assert pair.get_attribute("data-status") == "policy"
    text = pair.inner_text()
    assert "default/backend → default/mysql" in text
    assert "TCP 3306" in text
    assert "default/db-backend · spec.ingress[0]" in text
    assert pair.locator('[data-testid="matrix-rule-where"]').all_inner_texts() == [where]
    assert "role: backend" in pair.locator("pre.yaml").inner_text()
    assert "default/backend is not isolated for egress" in text  # no egress rule: open
    assert query(tab)["pair"] == [f"{backend['id']}|{mysql['id']}"]

    # The address bar restores the same drill-down.
    link = tab.url
    tab.goto(link)
    wait_ready(tab)
    assert tab.locator('[data-testid="matrix-rule-where"]').all_inner_texts() == [where]

    tab.click(denied + " a")
    text = tab.inner_text('[data-testid="matrix-pair"]')
    assert "denied" in text and "isolated for ingress by default/db-backend" in text

    # Back, by the breadcrumb.
    crumbs = tab.locator('[data-testid="matrix-breadcrumb"]')
    crumbs.get_by_role("button", name="default → default").click()
    assert tab.locator('[data-testid="matrix-pair"]').count() == 0
    assert "pair" not in query(tab)
    crumbs.get_by_role("button", name="All namespaces").click()
    assert table.get_attribute("data-level") == "namespaces"
    assert "cell" not in query(tab) and query(tab)["keep"] == ["1"]
    watch.assert_clean()


def test_big_namespace_pair_is_paged_and_says_what_is_left_out(
    page: tuple[Any, PageWatch], server: ServerProcess, thousand: dict[str, Any]
) -> None:
    tab, watch = page
    per_namespace = THOUSAND // NAMESPACES  # 50, more than the 40 rows shown at once
    open_matrix(tab, server, thousand["url"], "&cell=team-00|team-01")
    assert tab.get_attribute(MATRIX, "data-level") == "workloads"
    pages = tab.inner_text('[data-testid="matrix-pages"]')
    assert f"rows 1–40 of {per_namespace} ({per_namespace - 40} not shown)" in pages
    assert f"columns 1–40 of {per_namespace} ({per_namespace - 40} not shown)" in pages
    assert tab.locator(f"{MATRIX} tbody tr").count() == 40
    tab.locator('[data-testid="matrix-pages"] button', has_text="next").first.click()
    assert tab.locator(f"{MATRIX} tbody tr").count() == per_namespace - 40
    assert f"rows 41–{per_namespace} of {per_namespace}" in tab.inner_text(
        '[data-testid="matrix-pages"]'
    )
    # team-01's db admits only team-00's api; every other pair of these two is open.
    document = thousand["analysis"]
    nodes = {n["id"]: n for n in document["nodes"]}
    for cell in tab.evaluate(
        """() => Array.from(document.querySelectorAll('[data-testid="matrix"] td[data-source]'))
          .map(td => [td.dataset.source, td.dataset.target, td.dataset.status])"""
    ):
        source, target, status = nodes[cell[0]], nodes[cell[1]], cell[2]
        if target["labels"]["tier"] != "db":
            assert status == "open", cell
        else:
            assert status == ("policy" if source["labels"]["tier"] == "api" else "denied"), cell

    # A pair on the second page of rows: its link opens that page with the pair's rules.
    last = tab.locator(f"{MATRIX} td[data-source][data-status=open]").last
    source, target = last.get_attribute("data-source"), last.get_attribute("data-target")
    last.locator("a").click()
    assert query(tab)["pair"] == [f"{source}|{target}"]
    tab.reload()
    wait_ready(tab)
    assert f"rows 41–{per_namespace} of" in tab.inner_text('[data-testid="matrix-pages"]')
    assert tab.get_attribute('[data-testid="matrix-pair"]', "data-status") == "open"
    selected = f'{MATRIX} td.nm-selected[data-source="{source}"][data-target="{target}"]'
    assert tab.locator(selected).count() == 1
    watch.assert_clean()


# --- the address bar -------------------------------------------------------------------------


def test_view_parameter_opens_the_matrix_and_switching_keeps_other_parameters(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    answer = server.post_analysis(sample_files(ARTICLE))
    url = server.url + answer["url"]

    tab.goto(url)
    wait_ready(tab)
    assert tab.locator(MATRIX).count() == 0 and tab.locator("#network").is_visible()

    open_matrix(tab, server, answer["url"], "&keep=a%7Cb&other=2")
    assert tab.locator("#network").is_hidden() and tab.locator(MATRIX).is_visible()
    assert tab.get_attribute('[data-testid="view-matrix"]', "aria-pressed") == "true"

    tab.click('[data-testid="view-graph"]')
    assert tab.locator(MATRIX).count() == 0
    assert tab.locator("#network").is_visible()
    assert query(tab) == {"view": ["graph"], "keep": ["a|b"], "other": ["2"]}

    tab.click('[data-testid="view-matrix"]')
    assert tab.locator(MATRIX).is_visible()
    assert query(tab) == {"view": ["matrix"], "keep": ["a|b"], "other": ["2"]}

    tab.goto(url + "?view=graph")
    wait_ready(tab)
    assert tab.locator(MATRIX).count() == 0 and tab.locator("#network").is_visible()
    watch.assert_clean()


# --- uploaded strings ------------------------------------------------------------------------


def test_uploaded_file_names_in_the_rules_are_text(
    page: tuple[Any, PageWatch], server: ServerProcess
) -> None:
    tab, watch = page
    answer = server.post_analysis(sample_files(ARTICLE, {"db-backend.yaml": HOSTILE_FILE_NAME}))
    nodes = {n["name"]: n for n in answer["analysis"]["nodes"]}
    pair = f"{nodes['backend']['id']}|{nodes['mysql']['id']}"
    open_matrix(tab, server, answer["url"], "&cell=default|default&pair=" + pair)
    where = tab.inner_text('[data-testid="matrix-rule-where"]')
    assert where.startswith(HOSTILE_HTML + "<U+202E>lmay.yaml:")
    assert BIDI not in tab.inner_text("#matrix-view")
    assert tab.locator("#matrix-view img").count() == 0
    watch.assert_clean()


# --- the offline export ----------------------------------------------------------------------


def test_offline_export_has_the_matrix(context: Any, tmp_path: Path) -> None:
    saved = tmp_path / "export.html"
    assert cli("analyze", str(ARTICLE), "--format", "html", "--output", str(saved)).returncode == 0
    answer = cli("analyze", str(ARTICLE), "--format", "json")
    assert answer.returncode == 0, answer.stderr
    expected = expected_cells(json.loads(answer.stdout))
    context.set_offline(True)
    try:
        tab = context.new_page()
        watch = PageWatch(tab, saved.as_uri())
        tab.goto(saved.as_uri() + "?view=matrix")
        wait_ready(tab)
        assert shown_cells(tab) == expected
        assert watch.csp_violations() == [] and watch.console_errors == []
        assert watch.page_errors == []
    finally:
        context.set_offline(False)
