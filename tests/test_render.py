"""webapp.render and the page templates: vis-network data, the offline file, escaping.

Templates are rendered with a minimal Flask app (the real one is tested in
test_web_pages.py) so these tests cover only what this layer promises.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from browserfixtures import (
    ALL_PORTS,
    BIDI,
    HOSTILE_HTML,
    HOSTILE_SCRIPT,
    article_document,
    bare_pods,
    flow,
    hostile_document,
    inferred,
    ipblock,
    rule_ref,
    synthetic_document,
    tcp,
    workload,
)
from flask import Flask, render_template

from webapp import data_dir
from webapp.core import analyze
from webapp.core.input.raw import SourceText
from webapp.graph import group_members
from webapp.outputs import install
from webapp.outputs.offline import DIAGRAM_SCRIPTS, STANDALONE_STYLES, standalone_html
from webapp.render import (
    COLLAPSE_THRESHOLD,
    EDGE_BUDGET,
    EXTERNAL_COLOR,
    cluster_color,
    edge_styles,
    isolation_text,
    node_label,
    node_title,
    port_label,
    view_data,
    visible_text,
)

TEMPLATES = data_dir("templates")
STATIC = data_dir("static")


def udp(port: int) -> dict[str, Any]:
    return {"protocol": "UDP", "from": port, "to": port}


# --- text -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ports", "all_traffic", "label"),
    [
        pytest.param(ALL_PORTS, True, "all", id="all-traffic"),
        pytest.param([tcp(3306)], False, "TCP 3306", id="one-port"),
        pytest.param([tcp(8000, 8080)], False, "TCP 8000-8080", id="range"),
        pytest.param([tcp(53), udp(53)], False, "TCP 53, UDP 53", id="two-protocols"),
        pytest.param(
            [{"protocol": "UDP", "from": 1, "to": 65535}],
            False,
            "UDP all ports",
            id="every-udp-port",
        ),
        pytest.param(
            [tcp(80), tcp(443), tcp(8080), tcp(9090), udp(53)],
            False,
            "TCP 80, 443, 8080 +2",
            id="long-list-shortened",
        ),
    ],
)
def test_port_label(ports: list[dict[str, Any]], all_traffic: bool, label: str) -> None:
    assert port_label({"ports": ports, "allTraffic": all_traffic}) == label


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("mysql", "mysql", id="plain-unchanged"),
        pytest.param(f"a{BIDI}b", "a<U+202E>b", id="bidi-override"),
        pytest.param("a\u2066b\u2069", "a<U+2066>b<U+2069>", id="bidi-isolates"),
        pytest.param("line\nbreak", "line<U+000A>break", id="newline"),
        pytest.param("zero\u200bwidth", "zero<U+200B>width", id="zero-width-space"),
        pytest.param("<img>", "<img>", id="markup-is-left-to-the-escaper"),
    ],
)
def test_visible_text(text: str, shown: str) -> None:
    assert visible_text(text) == shown


@pytest.mark.parametrize(
    ("ingress", "egress", "text"),
    [
        pytest.param(
            False, False, "ingress: open to all · egress: may reach anything", id="neither"
        ),
        pytest.param(True, False, "ingress: isolated · egress: may reach anything", id="ingress"),
        pytest.param(False, True, "ingress: open to all · egress: isolated", id="egress"),
        pytest.param(True, True, "ingress: isolated · egress: isolated", id="both"),
    ],
)
def test_isolation_text(ingress: bool, egress: bool, text: str) -> None:
    assert isolation_text({"isolated": {"ingress": ingress, "egress": egress}}) == text


@pytest.mark.parametrize(
    ("node", "lines"),
    [
        pytest.param(
            workload("default", "mysql", {}, pods=3, ingress=["default/db"]),
            ["mysql", "Deployment · 3 pods", "ingress: isolated", "egress: may reach anything"],
            id="workload",
        ),
        pytest.param(
            inferred("shop", "app=db"),
            ["(inferred)", "app=db", "ingress: open to all", "egress: may reach anything"],
            id="inferred",
        ),
        pytest.param(ipblock(["10.0.0.0/8"]), ["10.0.0.0/8"], id="ipblock-named-by-cidr"),
        pytest.param(
            ipblock(["0.0.0.0/0", "::/0"], "other"), ["other", "0.0.0.0/0, ::/0"], id="ipblock"
        ),
        pytest.param(
            workload("d", "x" * 60, {}),
            [
                "x" * 27 + "…",
                "Deployment · 1 pod",
                "ingress: open to all",
                "egress: may reach anything",
            ],
            id="long-name-shortened",
        ),
        pytest.param(
            {"id": "dns:*.example.com", "type": "domain", "name": "*.example.com"},
            ["*.example.com", "domain name"],
            id="domain-no-isolation-lines",
        ),
        pytest.param(
            {"id": "node:role=cp", "type": "node", "name": "nodes: role=cp"},
            ["nodes: role=cp", "Kubernetes nodes"],
            id="node-no-isolation-lines",
        ),
    ],
)
def test_node_label(node: dict[str, Any], lines: list[str]) -> None:
    assert node_label(node).split("\n") == lines


def test_node_title_is_plain_text_with_policies_and_source() -> None:
    node = workload(
        "default", f"db{BIDI}", {"name": "mysql"}, ingress=["default/db-backend"], line=12
    )
    title = node_title(node)
    assert title.split("\n") == [
        "db<U+202E>",
        "namespace: default",
        "Deployment, 1 pod",
        "labels: name=mysql",
        "ingress: isolated by default/db-backend",
        "egress: not isolated, may reach anything",
        "from app.yaml:12",
    ]


def test_namespace_colour_comes_from_the_name_not_the_position() -> None:
    colours = {name: cluster_color(f"ns:{name}") for name in ("shop", "payments", "kube-system")}
    again = {name: cluster_color(f"ns:{name}") for name in ("kube-system", "payments", "shop")}
    assert colours == again
    assert len(set(colours.values())) == 3
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colours.values())
    assert cluster_color("external") == EXTERNAL_COLOR


# --- view_data ----------------------------------------------------------------------


def test_view_has_one_vis_node_per_document_node_with_positions() -> None:
    document = article_document()
    view = view_data(document)
    assert [node["id"] for node in view["nodes"]] == list(range(len(document["nodes"])))
    assert [d["id"] for d in view["nodeDetails"]] == [n["id"] for n in document["nodes"]]
    for node in view["nodes"]:
        assert isinstance(node["title"], str) and isinstance(node["label"], str)
        assert isinstance(node["x"], float) and isinstance(node["y"], float)
        assert node["group"] in view["options"]["groups"]
    shapes = {
        d["type"]: n["shape"] for n, d in zip(view["nodes"], view["nodeDetails"], strict=True)
    }
    assert shapes == {"workload": "box", "ipblock": "ellipse"}


def test_inferred_nodes_have_a_dashed_border_and_say_so() -> None:
    document = article_document()
    document["nodes"].append(inferred("default", "app=cache"))
    node = view_data(document)["nodes"][-1]
    assert node["shapeProperties"]["borderDashes"]
    assert node["label"].startswith("(inferred)")
    assert node["color"]["background"] == "#ffffff"


def test_view_draws_rule_allowed_flows_and_leaves_open_ones_to_the_markers() -> None:
    """Arrows are what a policy allows; open-by-default pairs are counted, not drawn."""
    document = article_document()
    view = view_data(document)
    rule_flows = [f for f in document["flows"] if not f["defaultAllow"]]
    assert 0 < len(rule_flows) < len(document["flows"])
    assert len(view["edges"]) == len(rule_flows)
    for edge, info, source in zip(view["edges"], view["edgeDetails"], rule_flows, strict=True):
        assert view["nodeDetails"][edge["from"]]["id"] == source["source"]
        assert view["nodeDetails"][edge["to"]]["id"] == source["target"]
        assert edge["arrows"] == "to"
        assert "defaultAllow" not in info and "dashes" not in edge
    assert view["openByNamespace"] is True
    open_pairs = len(document["flows"]) - len(rule_flows)
    assert view["omitted"] == {"flows": open_pairs, "defaultAllow": open_pairs, "rules": 0}
    # The diff page still draws open flows, dashed.
    assert edge_styles()["default"]["dashes"] != edge_styles()["rule"].get("dashes")


def test_edge_details_point_to_the_rule_excerpt() -> None:
    view = view_data(article_document())
    index = next(i for i, e in enumerate(view["edges"]) if e["label"] == "TCP 3306")
    info = view["edgeDetails"][index]
    assert info["egress"] == []
    [[policy, rule, line]] = info["ingress"]
    entry = view["policies"][policy]
    assert entry["id"] == "default/db-backend"
    assert entry["file"] == "db-backend.yaml"
    assert line == 9
    assert "role: backend" in entry["rules"]["ingress"][rule]["text"]
    assert "allowed by default/db-backend" in view["edges"][index]["title"]


def test_options_turn_physics_off_and_survive_pyvis_set_options() -> None:
    view = view_data(article_document())
    assert view["options"]["physics"] == {"enabled": False}
    assert view["options"]["layout"]["improvedLayout"] is False
    # pyvis's set_options strips spaces; no option value may need one.
    assert view["options"]["nodes"]["font"]["face"] == "sans-serif"
    assert view["collapsed"] is False
    assert view["options"]["edges"]["font"]["align"] == "horizontal"  # visjs/vis-network#2044


def test_clusters_carry_colour_members_and_a_collapsed_node() -> None:
    view = view_data(article_document())
    titles = [cluster["title"] for cluster in view["clusters"]]
    assert titles[-1] == "external addresses"
    assert set(titles) == {"default", "payments", "kube-system", "external addresses"}
    members = sorted(m for cluster in view["clusters"] for m in cluster["members"])
    assert members == list(range(len(view["nodes"])))
    default = view["clusters"][titles.index("default")]
    assert default["workloads"] == 3 and default["pods"] == 5
    assert default["node"]["label"].startswith("default\n3 workloads · 5 pods")
    assert len({cluster["color"] for cluster in view["clusters"]}) == len(titles)


@pytest.mark.parametrize(
    ("workloads", "collapsed"),
    [
        pytest.param(COLLAPSE_THRESHOLD, False, id="at-threshold-open"),
        pytest.param(COLLAPSE_THRESHOLD + 1, True, id="above-threshold-collapsed"),
    ],
)
def test_large_uploads_open_collapsed(workloads: int, collapsed: bool) -> None:
    view = view_data(synthetic_document(workloads))
    assert view["collapsed"] is collapsed
    assert view["options"]["interaction"]["hideEdgesOnDrag"] is collapsed


def test_edges_over_budget_are_counted_and_open_flows_never_drawn() -> None:
    document = synthetic_document(120, namespaces=2)
    nodes = document["nodes"]
    rule_flows = len(document["flows"])
    ref = rule_ref("team-00/default-deny", "ingress", 0, "team-00.yaml", 12)
    pairs = [(a, b) for a in nodes for b in nodes if a is not b]
    document["flows"] += [flow(a, b, ingress=[ref]) for a, b in pairs[:EDGE_BUDGET]]
    document["flows"] += [flow(a, b) for a, b in pairs[EDGE_BUDGET : EDGE_BUDGET + 50]]
    view = view_data(document)
    assert len(view["edges"]) == EDGE_BUDGET
    assert not any(d.get("defaultAllow") for d in view["edgeDetails"])
    assert view["omitted"] == {"flows": rule_flows + 50, "defaultAllow": 50, "rules": rule_flows}
    assert view["counts"]["flows"] == rule_flows + EDGE_BUDGET + 50


def test_page_data_of_five_hundred_nodes_stays_small() -> None:
    view = view_data(synthetic_document(500))
    assert len(json.dumps(view)) < 1_200_000


# --- templates ----------------------------------------------------------------------


@pytest.fixture
def app() -> Flask:
    flask_app = Flask(
        __name__,
        template_folder=str(TEMPLATES),
        static_folder=str(STATIC),
        static_url_path="/static",
    )
    install(flask_app.jinja_env)  # the `visible` filter and the download formats
    return flask_app


URLS = {key: f"/api/v1/analyses/abc/export.{key}" for key in ("json", "csv", "md", "html", "dot")}


def render_analysis(app: Flask, document: dict[str, Any]) -> str:
    with app.test_request_context("/a/abc"):
        return render_template(
            "analysis.html",
            analysis_id="abc",
            document=document,
            view=view_data(document),
            urls={**URLS, "share": "/a/abc"},
        )


def data_island(page: str) -> Any:
    match = re.search(r'<script type="application/json" id="view-data">(.*?)</script>', page, re.S)
    assert match
    return json.loads(match.group(1))


def test_analysis_page_puts_data_only_in_the_json_island(app: Flask) -> None:
    document = hostile_document()
    page = render_analysis(app, document)
    island = data_island(page)
    assert island == json.loads(json.dumps(view_data(document)))
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts == ['<script type="application/json" id="view-data">'] + [
        f'<script src="/static/{name}">' for name in DIAGRAM_SCRIPTS
    ]
    outside = page.replace(re.search(r'id="view-data">.*?</script>', page, re.S).group(0), "")
    assert HOSTILE_HTML not in outside and "<img" not in outside
    assert html.escape(HOSTILE_HTML, quote=False) in outside
    assert BIDI not in page
    assert "&lt;U+202E&gt;" in outside


def test_analysis_page_lists_problems_summary_and_downloads(app: Flask) -> None:
    page = render_analysis(app, article_document())
    assert "containerPort is not a number" in page
    assert "spec.template.spec.containers[0].ports[0].containerPort" in page
    assert "app.yaml:40" in page
    for url in URLS.values():
        assert f'href="{url}" download' in page
    assert "<strong>5</strong> workloads" in page
    assert 'id="download-png"' in page and 'id="copy-link"' in page


def test_upload_page_shows_samples_limits_and_what_is_stored(app: Flask) -> None:
    with app.test_request_context("/"):
        page = render_template(
            "index.html",
            samples=[{"slug": "01-x", "title": f"T {HOSTILE_HTML}", "description": "D"}],
            limits={"max_bytes": 16 * 1024 * 1024, "max_documents": 20000},
            error=f"bad {HOSTILE_SCRIPT}",
            problems=[{"severity": "error", "file": "f.yaml", "line": 3, "message": "m"}],
        )
    assert 'action="/upload"' in page and 'enctype="multipart/form-data"' in page
    assert 'name="manifests" multiple' in page and 'name="text"' in page
    assert 'href="/samples/01-x"' in page
    assert "16.0 MiB" in page and "20,000 documents" in page
    assert "Secrets" in page and "environment variables" in page and "annotations" in page
    assert HOSTILE_HTML not in page and HOSTILE_SCRIPT not in page
    assert "f.yaml:3" in page


def test_error_page(app: Flask) -> None:
    with app.test_request_context("/a/x"):
        page = render_template("error.html", status=404, message=f"Not found {BIDI}")
    assert "<h1>404</h1>" in page and "Not found &lt;U+202E&gt;" in page


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_have_no_inline_script_style_or_handlers(template: str) -> None:
    text = (TEMPLATES / template).read_text()
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler"
    assert not re.search(r"\sstyle\s*=", text), "inline style attribute"
    assert "|safe" not in text.replace(" ", "") and "Markup" not in text
    for tag in re.findall(r"<script\b[^>]*>", text):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"<style\b", text)


OUR_SCRIPTS = sorted(
    str(path.relative_to(STATIC)) for path in STATIC.rglob("*.js") if "vendor" not in path.parts
)


def test_diagram_scripts_list_every_module_core_first_main_last() -> None:
    modules = [name for name in DIAGRAM_SCRIPTS if name.startswith("js/")]
    assert sorted(modules) == sorted(p for p in OUR_SCRIPTS if p.startswith("js/"))
    assert DIAGRAM_SCRIPTS[0] == "vendor/vis-network.min.js"
    assert modules[0] == "js/core.js" and DIAGRAM_SCRIPTS[-1] == "js/main.js"
    for name in modules:
        # Each module says what it does and what it uses, and runs only when core ran.
        text = (STATIC / name).read_text()
        assert text.startswith("/*\n * netpol-viz diagram page"), name
        if name != "js/core.js":
            assert "var NV = window.NetpolViz;\n  if (!NV) return;" in text, name


@pytest.mark.parametrize("script", OUR_SCRIPTS)
def test_static_scripts_never_parse_data_as_html(script: str) -> None:
    text = (STATIC / script).read_text()
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
    ):
        assert sink not in text, sink


def test_vendored_vis_network_matches_its_readme() -> None:
    readme = (STATIC / "vendor" / "README").read_text()
    assert "vis-network 9.1.2" in readme and "Apache" in readme and "MIT" in readme
    for name in ("vis-network.min.js", "vis-network.min.css"):
        digest = hashlib.sha256((STATIC / "vendor" / name).read_bytes()).hexdigest()
        assert re.search(rf"{re.escape(name)}\s+sha256 {digest}", readme), name


# --- the offline file ---------------------------------------------------------------


def csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_standalone_html_inlines_everything_and_allows_it_by_hash() -> None:
    page = standalone_html(article_document())
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page).group(1)
    inline = re.findall(r"<script>(.*?)</script>", page, re.S)
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert inline == [(STATIC / name).read_text() for name in DIAGRAM_SCRIPTS]
    assert len(styles) == len(STANDALONE_STYLES)
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == " ".join(csp_hash(s) for s in inline)
    assert directives["style-src"] == " ".join(csp_hash(s) for s in styles)
    assert not re.search(r'\s(src|href)="(?!data:)', page), "no URL to load"
    assert data_island(page) == json.loads(json.dumps(view_data(article_document())))


def test_standalone_html_escapes_hostile_data() -> None:
    document = hostile_document()
    page = standalone_html(document)
    island = re.search(r'id="view-data">(.*?)</script>', page, re.S).group(1)
    assert "<" not in island and ">" not in island and "&" not in island
    assert "\u2028" not in island and "\u2029" not in island
    rest = page.replace(island, "")
    for inline in re.findall(r"<script>(.*?)</script>", page, re.S):
        rest = rest.replace(inline, "")
    assert rest.count("<script") == 1 + len(DIAGRAM_SCRIPTS)  # the data island and ours
    assert HOSTILE_HTML not in rest and BIDI not in page
    assert data_island(page)["nodeDetails"][0]["name"] == document["nodes"][0]["name"]


def test_standalone_html_is_the_same_for_the_same_document() -> None:
    assert standalone_html(article_document()) == standalone_html(article_document())
    assert Path(TEMPLATES / "standalone.html").exists()


# --- at scale: the page data comes from groups -------------------------------------


@pytest.fixture(scope="module")
def two_thousand_pods() -> dict[str, Any]:
    """2,000 bare pods and no policy: about 4 million pairs, in three flows between groups."""
    return dict(analyze([SourceText(name="pods.json", data=bare_pods(2000))]).document)


def test_view_of_two_thousand_bare_pods_is_built_from_groups(
    two_thousand_pods: dict[str, Any],
) -> None:
    document = two_thousand_pods
    assert len(document["flows"]) == 3
    tracemalloc.start()
    try:
        started = time.perf_counter()
        view = view_data(document)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 20.0, f"{elapsed:.1f} s"  # about 1 s on an idle machine
    assert peak < 150_000_000, f"{peak / 1e6:.0f} MB"  # about 10 MB: no pair list is built
    assert len(json.dumps(view)) < 4_000_000

    pairs = 2000 * 1999 + 2 * 2000  # pods to pods, pods to and from the external addresses
    assert view["counts"]["pairs"] == document["summary"]["pairs"] == pairs
    assert view["edges"] == []  # no policy: every pair is open by default, none drawn one by one
    assert view["omitted"]["flows"] == view["omitted"]["defaultAllow"] == pairs
    details = view["nodeDetails"]
    index = {d["name"]: i for i, d in enumerate(details)}
    # A sampled pair that no arrow draws is still allowed by a flow between their groups.
    a, b = index["pod-1999"], index["pod-0017"]
    assert not any(e["from"] == a and e["to"] == b for e in view["edges"])
    flows = [
        f for f in view["flows"] if (f["source"], f["target"]) == (details[a]["g"], details[b]["g"])
    ]
    assert [f["pairs"] for f in flows] == [2000 * 1999]
    assert {a, b} <= set(view["groups"][details[a]["g"]])
    assert flows[0]["defaultAllow"] and flows[0]["label"] == "all"


CLUSTER_SAMPLE = (
    Path(__file__).resolve().parent.parent / "sample-manifests" / "cluster-multi-tenant"
)


def _sample_document(folder: Path) -> dict[str, Any]:
    sources = [
        SourceText(p.name, p.read_bytes()) for p in sorted(folder.iterdir()) if p.suffix == ".yaml"
    ]
    return dict(analyze(sources).document)


def test_cluster_view_names_each_denial_rule_and_the_subjects_of_each_node() -> None:
    """render.cluster_view: denials between view groups, each rule a policy entry with its
    tier; flow references keep pointing at the same entries; subjects in evaluation order."""
    document = _sample_document(CLUSTER_SAMPLE)
    view = view_data(document)
    members = list(group_members(document))
    assert len(view["denials"]) == len(document["denials"])
    for shown, denial in zip(view["denials"], document["denials"], strict=True):
        assert members[shown["source"]] == denial["source"]
        assert members[shown["target"]] == denial["target"]
        policy = view["policies"][shown["rule"][0]]
        assert (policy["id"], policy["tier"]) == (denial["rule"]["policy"], denial["rule"]["tier"])
        rule = policy["rules"][denial["direction"]][denial["rule"]["rule"]]
        assert (rule["name"], rule["action"]) == (denial["rule"]["name"], "Deny")
    for detail, allowed in zip(view["flows"], document["flows"], strict=True):
        for side in ("egress", "ingress"):
            ids = [view["policies"][ref[0]]["id"] for ref in detail[side]]
            assert ids == [ref["policy"] for ref in allowed[side]]
    web = next(d for d in view["nodeDetails"] if d["id"] == "tenant-a/Deployment/web")
    names = {
        side: [view["policies"][i]["id"].split("/")[1] for i in web["clusterPolicies"][side]]
        for side in ("ingress", "egress")
    }
    assert names == {
        "ingress": ["delegate-monitoring", "isolate-tenant-a", "default-deny"],
        "egress": ["allow-dns"],
    }


def test_view_without_cluster_policies_has_no_denials() -> None:
    view = view_data(article_document())
    assert "denials" not in view
    assert not any("tier" in p for p in view["policies"])


def test_a_node_that_cluster_wide_rules_decide_is_not_drawn_open_to_all() -> None:
    """On the multi-tenant sample tenant-b/web is isolated by no NetworkPolicy, but Admin
    rules decide its ingress: "open to all" would be wrong there."""
    folder = Path(__file__).resolve().parent.parent / "sample-manifests" / "cluster-multi-tenant"
    document = analyze(
        [SourceText(p.name, p.read_bytes()) for p in sorted(folder.glob("*.yaml"))]
    ).document
    view = view_data(document)
    index = next(i for i, n in enumerate(document["nodes"]) if n["id"] == "tenant-b/Deployment/web")
    label = next(n["label"] for n in view["nodes"] if n["id"] == index)
    assert "ingress: cluster policy" in label.split("\n"), label
    plain = {**document["nodes"][index], "isolated": {"ingress": False, "egress": False}}
    assert "ingress: open to all" in node_label(plain).split("\n")
