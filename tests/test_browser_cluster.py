"""Cluster-wide policy tiers on the diagram page and the matrix (issue 10), in real Chromium
against a real server process, on sample-manifests/cluster-multi-tenant.

What the page must tell apart: a pair denied by an Admin or Baseline rule of a
cluster-wide policy (its own kind of arrow, whose panel names the deny rule
with file:line) from one that no NetworkPolicy allows; a flow allowed through
a Pass (its chain); cells of the matrix that the Admin tier decides; the
cluster-wide policies that select a node; the symbolic destinations `domain`
and `node`. Every expectation is read from the API's document, never typed in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from browserfixtures import PageWatch, ServerProcess, wait_ready
from clirun import cli

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample-manifests" / "cluster-multi-tenant"
DETAILS = '[data-testid="details"]'


def sample_files() -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(SAMPLE.iterdir()) if p.suffix == ".yaml"]


@pytest.fixture(scope="module")
def tenants(server: ServerProcess) -> dict[str, Any]:
    """The sample, uploaded once: the API's answer (id, url, analysis)."""
    return server.post_analysis(sample_files())


@pytest.fixture
def page(context: Any, server: ServerProcess) -> tuple[Any, PageWatch]:
    tab = context.new_page()
    return tab, PageWatch(tab, server.url)


def node_id(document: dict[str, Any], namespace: str, name: str) -> str:
    return next(
        n["id"] for n in document["nodes"] if (n["namespace"], n["name"]) == (namespace, name)
    )


def group_of(document: dict[str, Any], node: str) -> str:
    return next(n["group"] for n in document["nodes"] if n["id"] == node)


def where(ref: dict[str, Any]) -> str:
    return f"{ref['source']['file']}:{ref['source']['line']}"


def chain_words(ref: dict[str, Any]) -> str:
    """A rule reference as the query API words a step of a chain."""
    if "tier" not in ref:
        return f"NetworkPolicy {ref['policy']} {ref['direction']}[{ref['rule']}] Accept"
    rule = f"{ref['direction']}[{ref['rule']}] '{ref['name']}' {ref['action']}"
    return f"{ref['tier']} {ref['policy']} priority {ref['priority']} {rule}"


def open_page(tab: Any, server: ServerProcess, url: str, query: str = "") -> None:
    tab.goto(server.url + url + query)
    wait_ready(tab, timeout=60_000)


def vis_id(tab: Any, node: str) -> int:
    return int(tab.evaluate("(id) => window.NetpolViz.visIdOf.get(id)", node))


def click_edge(tab: Any, edge: Any) -> None:
    point = tab.evaluate("(id) => window.netpolViz.domPointOfEdge(id)", edge)
    box = tab.locator("#network").bounding_box()
    tab.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def drawn_denials(tab: Any) -> list[dict[str, Any]]:
    return list(tab.evaluate("window.NetpolViz.cluster.drawn()"))


def test_admin_denied_edge_between_tenants_is_drawn_and_names_its_rule(
    page: tuple[Any, PageWatch], server: ServerProcess, tenants: dict[str, Any]
) -> None:
    tab, watch = page
    document = tenants["analysis"]
    a_web, b_web = node_id(document, "tenant-a", "web"), node_id(document, "tenant-b", "web")
    (denial,) = [
        d
        for d in document["denials"]
        if d["source"] == group_of(document, a_web) and d["target"] == group_of(document, b_web)
    ]
    rule = denial["rule"]
    assert (rule["tier"], rule["action"]) == ("Admin", "Deny")  # what the sample is about

    open_page(tab, server, tenants["url"])
    source, target = vis_id(tab, a_web), vis_id(tab, b_web)
    arrows = [d for d in drawn_denials(tab) if (d["from"], d["to"]) == (source, target)]
    assert [a["tier"] for a in arrows] == ["Admin"]
    edge = tab.evaluate("(id) => window.netpolViz.edges.get(id)", arrows[0]["id"])
    assert edge["label"] == "✕ Admin deny"
    allowed = tab.evaluate("window.netpolViz.edges.get().filter(e => typeof e.id === 'number')[0]")
    assert edge["color"]["color"] != allowed.get("color", {}).get("color")  # its own style
    assert tab.locator(".legend .sym-admin-deny").count() == 1
    assert "denied by an Admin rule" in tab.inner_text(".legend")

    click_edge(tab, arrows[0]["id"])
    panel = tab.locator(DETAILS)
    assert (
        panel.locator('[data-testid="tier-verdict"]')
        .inner_text()
        .startswith("Denied by the Admin tier")
    )
    block = panel.locator('[data-testid="deny-rule"]')
    assert block.count() == 1
    head = block.locator(".rule-head").inner_text()
    for part in (
        "Admin",
        rule["policy"],
        f"priority {rule['priority']}",
        f"spec.{rule['direction']}[{rule['rule']}]",
        f"'{rule['name']}'",
        rule["action"],
    ):
        assert part in head
    assert block.locator(".rule-where").inner_text().startswith(where(rule))
    assert f"name: {rule['name']}" in block.locator("pre.yaml").inner_text()

    # The toolbar hides and shows them; allowed arrows stay.
    count = len(tab.evaluate("window.netpolViz.edges.getIds()"))
    denial_arrows = len(drawn_denials(tab))
    tab.uncheck('[data-testid="show-denials"]')
    assert drawn_denials(tab) == []
    ids = tab.evaluate("window.netpolViz.edges.getIds()")
    assert not [i for i in ids if str(i).startswith("cnp:")]
    assert len(ids) == count - denial_arrows
    tab.check('[data-testid="show-denials"]')
    assert len(tab.evaluate("window.netpolViz.edges.getIds()")) == count
    watch.assert_clean()


def test_denials_are_summed_by_namespace_when_collapsed(
    page: tuple[Any, PageWatch], server: ServerProcess, tenants: dict[str, Any]
) -> None:
    """Like the allowed arrows: one arrow per pair of collapsed namespaces, in pairs of nodes,
    each pair of nodes once even when both sides deny it."""
    tab, watch = page
    document = tenants["analysis"]
    members = {g["id"]: g["nodes"] for g in document["groups"]}
    namespace = {n["id"]: n["namespace"] for n in document["nodes"]}
    admin_pairs = {
        (a, b)
        for d in document["denials"]
        if d["rule"]["tier"] == "Admin"
        for a in members[d["source"]]
        for b in members[d["target"]]
        if a != b and (namespace[a], namespace[b]) == ("tenant-a", "tenant-b")
    }
    assert len(admin_pairs) == 4

    open_page(tab, server, tenants["url"])
    tab.click("#collapse-all")
    clusters = tab.evaluate("window.NetpolViz.clusters.map(c => [c.title, c.id])")
    ids = dict(clusters)
    arrows = [
        d for d in drawn_denials(tab) if (d["from"], d["to"]) == (ids["tenant-a"], ids["tenant-b"])
    ]
    assert [(a["tier"], a["pairs"]) for a in arrows] == [("Admin", len(admin_pairs))]
    edge = tab.evaluate("(id) => window.netpolViz.edges.get(id)", arrows[0]["id"])
    assert edge["label"] == "✕ Admin deny · 4 pairs"
    watch.assert_clean()


def test_the_monitoring_flow_shows_the_pass_chain(
    page: tuple[Any, PageWatch], server: ServerProcess, tenants: dict[str, Any]
) -> None:
    tab, watch = page
    document = tenants["analysis"]
    prometheus = node_id(document, "monitoring", "prometheus")
    a_web = node_id(document, "tenant-a", "web")
    (flow,) = [
        f
        for f in document["flows"]
        if (f["source"], f["target"]) == (group_of(document, prometheus), group_of(document, a_web))
    ]
    assert [r.get("action") for r in flow["ingress"]] == ["Pass", None]
    chain = " → ".join(chain_words(ref) for ref in flow["ingress"])

    open_page(tab, server, tenants["url"])
    source, target = vis_id(tab, prometheus), vis_id(tab, a_web)
    (edge,) = tab.evaluate(
        "([a, b]) => window.netpolViz.edges.get().filter(e => e.from === a && e.to === b"
        " && typeof e.id === 'number').map(e => e.id)",
        [source, target],
    )
    click_edge(tab, edge)
    panel = tab.locator(DETAILS)
    assert panel.locator('[data-testid="tier-chain"]').inner_text() == "Decided by: " + chain
    heads = panel.locator(".rule-head").all_inner_texts()
    assert heads[0].startswith("Admin · ClusterNetworkPolicy/delegate-monitoring · priority 10")
    assert heads[1] == "tenant-a/allow-scrape · spec.ingress[0]"
    assert where(flow["ingress"][0]) in panel.inner_text()

    # The why tool asked about the same pair tells the same chain, with file:line.
    tab.click("text=Why / why not, for one port")
    tab.click("#why-explain")
    tab.wait_for_selector('body[data-why="allowed"]')
    chains = tab.locator('#why-result .why-ingress [data-testid="why-chains"] li')
    texts = chains.all_inner_texts()
    assert any(chain.replace(" Accept", " allows") in text for text in texts), texts
    watch.assert_clean()


def test_deep_link_why_answer_shows_the_admin_deny(
    page: tuple[Any, PageWatch], server: ServerProcess, tenants: dict[str, Any]
) -> None:
    tab, watch = page
    document = tenants["analysis"]
    a_web, b_web = node_id(document, "tenant-a", "web"), node_id(document, "tenant-b", "web")
    (denial,) = [
        d
        for d in document["denials"]
        if d["source"] == group_of(document, a_web) and d["target"] == group_of(document, b_web)
    ]
    open_page(tab, server, tenants["url"], f"?from={a_web}&to={b_web}")
    tab.wait_for_selector('body[data-why="denied"]')
    result = tab.locator("#why-result")
    assert chain_words(denial["rule"]) in result.locator(".why-verdict").inner_text()
    ingress = result.locator(".why-ingress")
    assert "denies" in (ingress.get_attribute("class") or "")  # not "allows": a tier denies
    chain = ingress.locator('[data-testid="why-chains"] li')
    assert chain.get_attribute("data-outcome") == "deny"
    assert chain_words(denial["rule"]) in chain.inner_text()
    assert chain.locator(".rule-where").inner_text() == where(denial["rule"])
    # The refusing side comes first, and the denied pair drawn says who refuses.
    assert (
        result.locator(".why-side").first.get_attribute("class").startswith("why-side why-ingress")
    )
    picked = tab.evaluate("window.NetpolViz.denied.current()")
    assert picked["label"] == "✕ denied: tenant-b/web refuses ingress"
    watch.assert_clean()


def test_matrix_marks_cells_the_admin_tier_decides(
    page: tuple[Any, PageWatch], server: ServerProcess, tenants: dict[str, Any]
) -> None:
    tab, watch = page
    document = tenants["analysis"]
    open_page(tab, server, tenants["url"], "?view=matrix")
    tab.wait_for_selector('[data-testid="matrix"]')
    cases = {
        # (from, to): (data-tier, admin deny, admin accept, baseline deny)
        ("tenant-a", "tenant-b"): ("admin-deny", 4, 0, 0),
        ("tenant-b", "tenant-a"): ("admin-deny", 4, 0, 0),
        ("kube-system", "tenant-a"): ("admin-deny", 2, 0, 0),
        ("monitoring", "kube-system"): ("admin-accept", 0, 1, 0),
        ("tenant-a", "tenant-a"): (None, 0, 0, 1),
        ("monitoring", "tenant-a"): (None, 0, 0, 1),
    }
    for (row, col), (tier, deny, accept, baseline) in cases.items():
        cell = tab.locator(f'td[data-from="{row}"][data-to="{col}"]')
        got = (
            cell.get_attribute("data-tier"),
            int(cell.get_attribute("data-admin-deny")),
            int(cell.get_attribute("data-admin-accept")),
            int(cell.get_attribute("data-baseline-deny")),
        )
        assert got == (tier, deny, accept, baseline), (row, col)
    cell = tab.locator('td[data-from="tenant-a"][data-to="tenant-b"]')
    assert "nm-tier-admin-deny" in (cell.get_attribute("class") or "")
    text = cell.inner_text()
    assert text.startswith("denied by Admin") and "Admin ✕ 4" in text
    assert "Admin ✕" in tab.inner_text(".nm-legend")

    # Drill down to a pair: it names the deny rule with file:line.
    a_web, b_web = node_id(document, "tenant-a", "web"), node_id(document, "tenant-b", "web")
    (denial,) = [
        d
        for d in document["denials"]
        if d["source"] == group_of(document, a_web) and d["target"] == group_of(document, b_web)
    ]
    cell.locator("a").click()
    pair = tab.locator(f'td[data-source="{a_web}"][data-target="{b_web}"]')
    assert pair.get_attribute("data-tier") == "admin-deny"
    assert "Admin deny" in pair.inner_text()
    pair.locator("a").click()
    box = tab.locator('[data-testid="matrix-pair"]')
    assert "Denied by a cluster-wide policy" in box.inner_text()
    rule = box.locator('[data-testid="matrix-rule"]')
    assert "priority 20" in rule.locator(".rule-head").inner_text()
    assert "'deny-other-namespaces' · Deny" in rule.locator(".rule-head").inner_text()
    assert (
        rule.locator('[data-testid="matrix-rule-where"]')
        .inner_text()
        .startswith(where(denial["rule"]))
    )
    watch.assert_clean()


def test_node_panel_lists_the_cluster_policies_that_select_it_and_reach_ignores_denials(
    page: tuple[Any, PageWatch], server: ServerProcess, tenants: dict[str, Any]
) -> None:
    tab, watch = page
    document = tenants["analysis"]
    a_web = node_id(document, "tenant-a", "web")
    rank = {"Admin": 0, "Baseline": 1}
    expected = {}
    for direction in ("ingress", "egress"):
        selecting = [
            p
            for p in document["clusterPolicies"]
            if a_web in p["selects"] and any(r["direction"] == direction for r in p["rules"])
        ]
        selecting.sort(key=lambda p: (rank[p["tier"]], p["priority"], p["name"]))
        expected[direction] = [
            f"{p['tier']} priority {p['priority']}: {p['id']}" for p in selecting
        ]
    assert len(expected["ingress"]) == 3 and len(expected["egress"]) == 1

    open_page(tab, server, tenants["url"], f"?node={a_web}")
    panel = tab.locator(DETAILS)
    for direction in ("ingress", "egress"):
        items = panel.locator(f'[data-testid="cluster-{direction}"] li').all_inner_texts()
        assert items == expected[direction]
    # Reach counts flows only: a denial is not reach.
    members = {g["id"]: g["nodes"] for g in document["groups"]}
    group = group_of(document, a_web)
    reach_in = {a for f in document["flows"] if f["target"] == group for a in members[f["source"]]}
    reach_out = {b for f in document["flows"] if f["source"] == group for b in members[f["target"]]}
    reach_in.discard(a_web)
    reach_out.discard(a_web)
    assert int(panel.locator('[data-testid="reach-in"]').get_attribute("data-count")) == len(
        reach_in
    )
    assert int(panel.locator('[data-testid="reach-out"]').get_attribute("data-count")) == len(
        reach_out
    )
    watch.assert_clean()


DOMAIN_AND_NODES = b"""\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: egress-out
spec:
  tier: Admin
  priority: 30
  subject:
    namespaces:
      matchLabels:
        kubernetes.io/metadata.name: shop
  egress:
  - name: payments-api
    action: Accept
    to:
    - domainNames: ["*.payments.example.com"]
  - name: no-control-plane
    action: Deny
    to:
    - nodes:
        matchLabels:
          node-role.kubernetes.io/control-plane: ""
"""


@pytest.mark.parametrize(
    ("node_type", "shape", "search", "kind"),
    [
        pytest.param("domain", "hexagon", "payments.example", "domain name", id="domain"),
        pytest.param("node", "database", "control-plane", "Kubernetes nodes", id="node"),
    ],
)
def test_domain_and_node_destinations_are_drawn_and_searchable(
    page: tuple[Any, PageWatch],
    server: ServerProcess,
    node_type: str,
    shape: str,
    search: str,
    kind: str,
) -> None:
    tab, watch = page
    answer = server.post_analysis([("egress.yaml", DOMAIN_AND_NODES)])
    (node,) = [n for n in answer["analysis"]["nodes"] if n["type"] == node_type]
    open_page(tab, server, answer["url"])
    index = vis_id(tab, node["id"])
    drawn = tab.evaluate("(id) => window.netpolViz.nodes.get(id)", index)
    assert drawn["shape"] == shape
    shapes = tab.evaluate("window.netpolViz.nodes.get().map(n => n.shape)")
    assert shapes.count(shape) == 1  # no other node has it
    assert tab.evaluate("(q) => window.netpolViz.matchNodes(q)", search)[0] == index
    tab.fill('[data-testid="search"]', search)
    tab.press('[data-testid="search"]', "Enter")
    panel = tab.locator(DETAILS)
    panel.locator(".panel-title").filter(has_text=node["name"]).wait_for()
    assert panel.locator("dd").first.inner_text().startswith(kind)
    assert kind in tab.inner_text(".legend")
    watch.assert_clean()


def test_offline_export_draws_the_denials_and_names_their_rules(
    context: Any, tmp_path: Path
) -> None:
    """The HTML export inlines cluster.js (DIAGRAM_SCRIPTS): the same arrows and panels offline."""
    saved = tmp_path / "export.html"
    written = cli("analyze", str(SAMPLE), "--format", "html", "--output", str(saved))
    assert written.returncode == 0, written.stderr
    answer = cli("analyze", str(SAMPLE), "--format", "json")
    document = json.loads(answer.stdout)
    admin = {d["rule"]["policy"] for d in document["denials"] if d["rule"]["tier"] == "Admin"}
    context.set_offline(True)
    try:
        tab = context.new_page()
        watch = PageWatch(tab, saved.as_uri())
        tab.goto(saved.as_uri())
        wait_ready(tab)
        arrows = drawn_denials(tab)
        assert {a["tier"] for a in arrows} == {"Admin", "Baseline"}
        first = next(a for a in arrows if a["tier"] == "Admin")
        tab.evaluate("(id) => window.NetpolViz.showEdge(id)", first["id"])
        head = tab.locator(f'{DETAILS} [data-testid="deny-rule"] .rule-head').first.inner_text()
        assert any(policy in head for policy in admin)
        assert watch.csp_violations() == [] and watch.console_errors == []
        assert watch.page_errors == []
    finally:
        context.set_offline(False)
