"""The review features of the web app through Flask's test client: the why / why not API,
the diff API and pages, the printable review report and its Markdown export, and the
view data behind the findings panel and the diff diagram.
"""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from browserfixtures import (
    BIDI,
    HOSTILE_HTML,
    HOSTILE_SCRIPT,
    article_document,
    flow,
    hostile_document,
    rule_ref,
    tcp,
    workload,
)
from flask import Flask, template_rendered
from flask.testing import FlaskClient
from webfixtures import ARTICLE, POLICY_ONLY, SHARE_ID, make_app, upload

from webapp import render
from webapp.core import analyze
from webapp.core.diff import diff_documents
from webapp.core.explain import explain
from webapp.core.input.raw import SourceText
from webapp.core.model import Protocol
from webapp.outputs.offline import DIAGRAM_SCRIPTS
from webapp.render import DIFF_COLORS, diff_view_data, view_data
from webapp.review import explanation_json, resolve_node, review_markdown
from webapp.web.errors import NOT_FOUND
from webapp.web.security import CONTENT_SECURITY_POLICY

BACKEND = "default/Deployment/backend"
MYSQL = "default/Deployment/mysql"
RULE_LINE = next(n for n, line in enumerate(ARTICLE.splitlines(), 1) if line == "  - from:")
"""The line of db-backend's ingress rule in ARTICLE: what every answer must point to."""

ARTICLE_3307 = ARTICLE.replace("port: 3306", "port: 3307")
WEB = """\
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
"""
CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"





def store(app: Flask, document: dict[str, Any], stored_input: str = "[]") -> str:
    """Save a hand-made document directly (the core would refuse its hostile names)."""
    saved = app.extensions["netpol_storage"].save(json.dumps(document), stored_input, "0.1.0")
    return saved.id


def delete(client: FlaskClient, created: dict[str, Any]) -> None:
    response = client.delete(
        f"/api/v1/analyses/{created['id']}", headers={"X-Delete-Token": created["deleteToken"]}
    )
    assert response.status_code == 204


def assert_headers(response: Any) -> None:
    """The security headers, and those of private pages: not indexed, not cached."""
    headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Robots-Tag"] == "noindex"
    assert headers["Cache-Control"] == "no-store"


def rendered_context(app: Flask, client: FlaskClient, path: str) -> tuple[Any, dict[str, Any]]:
    """GET `path`; the response and the context of the first template rendered."""
    seen: list[dict[str, Any]] = []

    def record(_sender: Flask, template: Any, context: dict[str, Any], **_: Any) -> None:
        seen.append(context)

    template_rendered.connect(record, app)
    try:
        response = client.get(path)
    finally:
        template_rendered.disconnect(record, app)
    return response, seen[0]


def cli_answer(text: str, source: str, target: str, **question: Any) -> dict[str, Any]:
    """What `netpol-viz query --format json` answers for ARTICLE-like text."""
    analysis = analyze([SourceText("article.yaml", text.encode())])
    protocol = question.get("protocol")
    explanation = explain(
        analysis.evaluator,
        resolve_node(analysis, source),
        resolve_node(analysis, target),
        Protocol(protocol) if protocol else None,
        question.get("port"),
    )
    return explanation_json(explanation, analysis)


def query(client: FlaskClient, analysis_id: str, **params: Any) -> Any:
    return client.get(f"/api/v1/analyses/{analysis_id}/query", query_string=params)


# --- why / why not: GET /api/v1/analyses/<id>/query -----------------------------------


@pytest.mark.parametrize(
    ("params", "question"),
    [
        pytest.param(
            {"from": BACKEND, "to": MYSQL, "port": "3306", "protocol": "TCP"},
            {"port": 3306, "protocol": "TCP"},
            id="node-ids-port-and-protocol",
        ),
        pytest.param(
            {"from": "default/backend", "to": "default/mysql"}, {}, id="ns-slash-name-any-port"
        ),
        pytest.param(
            {"from": "default/backend", "to": "default/mysql", "port": "80"},
            {"port": 80},
            id="denied-port-not-matched",
        ),
        pytest.param(
            {"from": "203.0.113.7", "to": "default/mysql", "protocol": "udp"},
            {"protocol": "UDP"},
            id="external-ip-lower-case-protocol",
        ),
        pytest.param(
            {"from": "default/mysql", "to": "10.0.0.0/8", "protocol": "any"},
            {},
            id="cidr-target-any-protocol",
        ),
    ],
)
def test_query_answers_like_the_cli(
    client: FlaskClient, created: dict, params: dict[str, str], question: dict[str, Any]
) -> None:
    response = query(client, created["id"], **params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert_headers(response)
    assert response.get_json() == cli_answer(ARTICLE, params["from"], params["to"], **question)


def test_query_allowed_names_the_rule_with_the_uploads_file_and_line(
    client: FlaskClient, created: dict
) -> None:
    answer = query(
        client, created["id"], **{"from": "default/backend", "to": "default/mysql", "port": 3306}
    ).get_json()
    assert answer["allowed"] is True
    assert answer["portsText"] == "TCP 3306"
    ingress = answer["ingress"]
    assert ingress["isolated"] is True and ingress["policies"] == ["default/db-backend"]
    [rule] = ingress["rules"]
    assert rule["reason"] == "matched"
    assert rule["source"] == {"file": "article.yaml", "line": RULE_LINE}
    assert answer["egress"]["reason"] == "not-isolated"


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        pytest.param({"from": "0.0.0.0/0", "port": "3306"}, "peer-not-matched", id="peer"),
        pytest.param({"from": "default/backend", "port": "22"}, "port-not-matched", id="port"),
    ],
)
def test_query_denied_says_why_each_rule_did_not_match(
    client: FlaskClient, created: dict, params: dict[str, str], reason: str
) -> None:
    answer = query(client, created["id"], to="default/mysql", **params).get_json()
    assert answer["allowed"] is False
    assert "is denied" in answer["sentence"]
    [rule] = answer["ingress"]["rules"]
    assert rule["reason"] == reason
    assert rule["reasonText"] and rule["source"]["line"] == RULE_LINE


@pytest.mark.parametrize(
    ("params", "parameter", "message"),
    [
        pytest.param({"to": MYSQL}, "from", "'from' is missing", id="missing-from"),
        pytest.param({"from": BACKEND}, "to", "'to' is missing", id="missing-to"),
        pytest.param({"from": " ", "to": MYSQL}, "from", "'from' is missing", id="blank-from"),
        pytest.param(
            {"from": "x" * 1001, "to": MYSQL}, "from", "longer than 1000", id="from-too-long"
        ),
        pytest.param(
            {"from": BACKEND, "to": MYSQL, "port": "0"}, "port", "1 to 65535", id="port-0"
        ),
        pytest.param(
            {"from": BACKEND, "to": MYSQL, "port": "65536"}, "port", "1 to 65535", id="port-65536"
        ),
        pytest.param(
            {"from": BACKEND, "to": MYSQL, "port": "-1"}, "port", "1 to 65535", id="port-neg"
        ),
        pytest.param(
            {"from": BACKEND, "to": MYSQL, "port": "http"}, "port", "1 to 65535", id="port-named"
        ),
        pytest.param(
            {"from": BACKEND, "to": MYSQL, "protocol": "ICMP"},
            "protocol",
            "TCP, UDP or SCTP",
            id="protocol-icmp",
        ),
    ],
)
def test_query_bad_parameters_are_400_json(
    client: FlaskClient, created: dict, params: dict[str, str], parameter: str, message: str
) -> None:
    response = query(client, created["id"], **params)
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == parameter
    assert message in body["error"]
    assert body["problems"] == []
    assert_headers(response)


@pytest.mark.parametrize(
    ("params", "parameter", "candidate"),
    [
        pytest.param({"from": "default/backnd", "to": MYSQL}, "from", "default/backend", id="typo"),
        pytest.param({"from": BACKEND, "to": "defualt/mysql"}, "to", "default/mysql", id="to-typo"),
    ],
)
def test_query_unknown_node_is_400_with_close_matches(
    client: FlaskClient, created: dict, params: dict[str, str], parameter: str, candidate: str
) -> None:
    response = query(client, created["id"], **params)
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == parameter
    assert candidate in body["candidates"]
    assert body["error"].startswith(f"{parameter}: ") and "matches no node" in body["error"]


def test_query_of_unknown_malformed_and_deleted_ids_is_the_same_404(
    client: FlaskClient, created: dict
) -> None:
    other = upload(client, ("a.yaml", ARTICLE)).get_json()
    delete(client, other)
    bodies = set()
    for analysis_id in (other["id"], "A" * 32, "x", "..%2Fetc"):
        response = query(client, analysis_id, **{"from": BACKEND, "to": MYSQL})
        assert response.status_code == 404, analysis_id
        assert_headers(response)
        bodies.add(response.get_data())
    assert len(bodies) == 1
    assert json.loads(bodies.pop()) == {"error": NOT_FOUND, "problems": []}


def test_query_of_an_analysis_stored_without_input_is_400(app: Flask, client: FlaskClient) -> None:
    analysis_id = store(app, article_document(), stored_input="")
    response = query(client, analysis_id, **{"from": "a", "to": "b"})
    assert response.status_code == 400
    assert "without its input" in response.get_json()["error"]


# --- diff: GET /api/v1/diff/<old>/<new> ---------------------------------------------------


@pytest.fixture
def pair(client: FlaskClient) -> tuple[dict[str, Any], dict[str, Any]]:
    before = upload(client, ("article.yaml", ARTICLE)).get_json()
    after = upload(client, ("article.yaml", ARTICLE_3307 + WEB)).get_json()
    return before, after


def test_diff_api_is_the_diff_of_the_stored_documents(client: FlaskClient, pair: tuple) -> None:
    before, after = pair
    response = client.get(f"/api/v1/diff/{before['id']}/{after['id']}")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert_headers(response)
    answer = response.get_json()
    # The stored documents' diff, and the YAML of the policies from the stored inputs.
    diffs = answer.pop("policyDiffs")
    assert answer == diff_documents(before["analysis"], after["analysis"])
    assert [(d["policy"], d["change"]) for d in diffs] == [("default/db-backend", "changed")]
    assert answer["changed"] is True
    assert [n["name"] for n in answer["nodes"]["added"]] == ["web"]
    assert answer["policies"]["changed"] == ["default/db-backend"]
    [changed] = [c for c in answer["flows"]["changed"] if MYSQL in c["targets"]]
    assert (changed["beforeText"], changed["afterText"]) == ("TCP 3306", "TCP 3307")


def test_diff_of_an_analysis_with_itself_has_no_change(client: FlaskClient, created: dict) -> None:
    answer = client.get(f"/api/v1/diff/{created['id']}/{created['id']}").get_json()
    assert answer["changed"] is False
    assert not any(answer["summary"].values())


@pytest.mark.parametrize("side", ["old", "new"])
def test_diff_with_an_unknown_malformed_or_deleted_id_is_the_same_404(
    client: FlaskClient, created: dict, side: str
) -> None:
    gone = upload(client, ("a.yaml", POLICY_ONLY)).get_json()
    delete(client, gone)
    bodies, pages = set(), set()
    for bad in (gone["id"], "B" * 40, "nope", "%2e%2e"):
        ids = (bad, created["id"]) if side == "old" else (created["id"], bad)
        response = client.get("/api/v1/diff/{}/{}".format(*ids))
        assert response.status_code == 404
        bodies.add(response.get_data())
        page = client.get("/diff/{}/{}".format(*ids))
        assert page.status_code == 404 and page.mimetype == "text/html"
        assert_headers(page)
        pages.add(page.get_data())
    assert len(bodies) == 1 and json.loads(bodies.pop()) == {"error": NOT_FOUND, "problems": []}
    assert len(pages) == 1 and NOT_FOUND.encode() in pages.pop().replace(b"&#39;", b"'")


# --- diff: the form and POST /diff --------------------------------------------------------


def files(field: str, *items: tuple[str, str]) -> dict[str, Any]:
    return {field: [(io.BytesIO(content.encode()), name) for name, content in items]}


def analysis_count(app: Flask) -> int:
    from sqlalchemy import func, select

    from webapp.web.storage import analyses

    with app.extensions["netpol_storage"].engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(analyses)).scalar_one())


def test_diff_form_has_before_and_after_with_files_paste_and_share_link(
    client: FlaskClient,
) -> None:
    response = client.get("/diff")
    assert response.status_code == 200
    assert_headers(response)  # private: it may carry a share id, or pasted manifests
    html = response.get_data(as_text=True)
    for side in ("before", "after"):
        for field in (f"{side}_manifests", f"{side}_text", f"{side}_id"):
            assert f'name="{field}"' in html
    assert 'enctype="multipart/form-data"' in html and 'action="/diff"' in html


def test_diff_form_prefills_ids_as_escaped_values(client: FlaskClient) -> None:
    html = client.get("/diff", query_string={"before": '"><script>alert(1)</script>'}).get_data(
        as_text=True
    )
    assert "<script>alert(1)" not in html
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html


def test_post_diff_with_files_stores_both_and_redirects_to_the_diff_page(
    app: Flask, client: FlaskClient
) -> None:
    data = {
        **files("before_manifests", ("before.yaml", ARTICLE)),
        **files("after_manifests", ("after.yaml", ARTICLE_3307), ("web.yaml", WEB)),
    }
    response = client.post("/diff", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    match = re.fullmatch(r"/diff/([A-Za-z0-9_-]+)/([A-Za-z0-9_-]+)", response.headers["Location"])
    assert match, response.headers["Location"]
    old_id, new_id = match.groups()
    assert SHARE_ID.fullmatch(old_id) and SHARE_ID.fullmatch(new_id) and old_id != new_id
    old = client.get(f"/api/v1/analyses/{old_id}").get_json()
    new = client.get(f"/api/v1/analyses/{new_id}").get_json()
    assert {p["source"]["file"] for p in old["policies"]} == {"before.yaml"}
    assert {p["source"]["file"] for p in new["policies"]} == {"after.yaml"}
    assert client.get(response.headers["Location"]).status_code == 200


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param("{id}", id="bare-id"),
        pytest.param("/a/{id}", id="share-path"),
        pytest.param("  https://netpol.example.org/a/{id}?x=1#top ", id="full-url"),
    ],
)
def test_post_diff_with_a_share_link_and_pasted_text(
    app: Flask, client: FlaskClient, created: dict, spelling: str
) -> None:
    before = analysis_count(app)
    data = {"before_id": spelling.format(id=created["id"]), "after_text": ARTICLE_3307}
    response = client.post("/diff", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    old_id, new_id = response.headers["Location"].split("/")[2:]
    assert old_id == created["id"]
    assert analysis_count(app) == before + 1  # only the pasted version is new
    new = client.get(f"/api/v1/analyses/{new_id}").get_json()
    assert {p["source"]["file"] for p in new["policies"]} == {"pasted.yaml"}


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        pytest.param({"after_text": ARTICLE}, 400, "Before: nothing to compare", id="before-empty"),
        pytest.param({"before_text": ARTICLE}, 400, "After: nothing to compare", id="after-empty"),
        pytest.param(
            {"before_text": ARTICLE, "before_id": "x" * 40, "after_text": ARTICLE},
            400,
            "Before: give files, pasted text or a share link, not both",
            id="before-both",
        ),
        pytest.param(
            {"before_text": ARTICLE, "after_text": CONFIG_MAP},
            400,
            "After: nothing to analyse",
            id="after-unusable",
        ),
        pytest.param(
            {"before_id": "B" * 40, "after_text": ARTICLE},
            404,
            "Before: no analysis has this share link",
            id="before-unknown-id",
        ),
        pytest.param(
            {"before_text": ARTICLE, "after_id": "../../etc/passwd"},
            404,
            "After: no analysis has this share link",
            id="after-malformed-id",
        ),
    ],
)
def test_post_diff_errors_rerender_the_form_and_store_nothing(
    app: Flask, client: FlaskClient, data: dict[str, str], status: int, message: str
) -> None:
    before = analysis_count(app)
    response = client.post("/diff", data=data, content_type="multipart/form-data")
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert_headers(response)
    html = response.get_data(as_text=True)
    assert message in html.replace("&#39;", "'")
    assert 'id="diff-form"' in html
    assert analysis_count(app) == before


def test_post_diff_unknown_and_deleted_ids_get_the_same_answer(
    client: FlaskClient, created: dict
) -> None:
    delete(client, created)
    answers = set()
    for bad in (created["id"], "C" * 40):
        response = client.post(
            "/diff", data={"before_id": bad, "after_id": bad}, content_type="multipart/form-data"
        )
        assert response.status_code == 404
        answers.add(response.get_data().replace(bad.encode(), b"ID"))
    assert len(answers) == 1


def test_post_diff_over_the_size_limit_is_413(tmp_path: Path) -> None:
    client = make_app(tmp_path, {"MAX_UPLOAD_BYTES": 2000}).test_client()
    data = {"before_text": ARTICLE, "after_text": ARTICLE + "#" * 5000}
    response = client.post("/diff", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


# --- diff: the page ------------------------------------------------------------------------


def test_diff_page_draws_both_versions_and_lists_the_changes(
    app: Flask, client: FlaskClient, pair: tuple
) -> None:
    before, after = pair
    response, context = rendered_context(app, client, f"/diff/{before['id']}/{after['id']}")
    assert response.status_code == 200
    assert_headers(response)
    view, tables = context["view"], context["tables"]
    assert view["mode"] == "diff"
    assert context["urls"]["share"] == f"/diff/{before['id']}/{after['id']}"
    assert context["urls"]["api"] == f"/api/v1/diff/{before['id']}/{after['id']}"
    changes = {d["change"] for d in view["edgeDetails"]}
    assert {"added", "changed", "unchanged"} <= changes
    assert [n["name"] for n in tables["nodesAdded"]] == ["default/web"]
    assert tables["flowsChanged"][0]["before"] == "TCP 3306"
    assert tables["flowsChanged"][0]["after"] == "TCP 3307"
    html = response.get_data(as_text=True)
    assert 'id="flow-changes"' in html and "default/web" in html
    assert html.count("<script") == 1 + len(DIAGRAM_SCRIPTS)  # and the data island


def test_diff_page_uses_base_url_for_its_share_link(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"BASE_URL": "https://netpol.example.org/tools/"})
    client = app.test_client()
    ids = [upload(client, ("a.yaml", ARTICLE)).get_json()["id"] for _ in range(2)]
    _, context = rendered_context(app, client, "/diff/{}/{}".format(*ids))
    assert context["urls"]["share"] == "https://netpol.example.org/tools/diff/{}/{}".format(*ids)


def hostile_pair(app: Flask) -> tuple[str, str]:
    """Two stored hand-made documents whose every string carries markup and a bidi override."""
    old = hostile_document()
    new = copy.deepcopy(old)
    evil = f"{HOSTILE_HTML}{HOSTILE_SCRIPT}{BIDI}new"
    added = workload(evil, evil, {evil: evil}, file=evil)
    new["nodes"].append(added)
    new["flows"].append(
        flow(new["nodes"][1], added, [tcp(443)], ingress=[rule_ref(evil, "ingress", 0, evil, 9)])
    )
    new["flows"][0]["ports"] = [tcp(80), tcp(8080)]
    new["policies"][0]["rules"][0]["text"] += f"# {evil}\n"
    old["flows"].append(flow(old["nodes"][0], old["nodes"][1], [tcp(1)]))
    return store(app, old), store(app, new)


def assert_escaped(html: str) -> None:
    assert HOSTILE_HTML not in html
    assert "<script>alert" not in html
    assert BIDI not in html
    assert html.count("<script") == html.count("</script>")
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;U+202E&gt;" in html  # the override, shown as a visible mark


def test_diff_page_escapes_uploaded_strings(app: Flask, client: FlaskClient) -> None:
    old_id, new_id = hostile_pair(app)
    response = client.get(f"/diff/{old_id}/{new_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert_escaped(html)
    island = re.search(r'<script type="application/json" id="view-data">(.*?)</script>', html, re.S)
    assert island is not None
    view = json.loads(island.group(1))
    assert any(d.get("change") == "added" for d in view["nodeDetails"])
    assert any(HOSTILE_SCRIPT in (d.get("namespace") or "") for d in view["nodeDetails"])


# --- the review report ------------------------------------------------------------------


def test_report_page_has_every_section_and_agrees_with_the_markdown(
    app: Flask, client: FlaskClient, created: dict
) -> None:
    response, context = rendered_context(app, client, f"/a/{created['id']}/report")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert_headers(response)
    html = response.get_data(as_text=True)
    for section in ("summary", "coverage", "findings", "flows", "matrix"):
        assert f'id="{section}"' in html
    markdown = review_markdown(created["analysis"])
    report = context["report"]
    for direction in ("ingress", "egress", "both"):
        text = report["coverage"][direction]["text"]
        assert text in html and text in markdown
    assert report["coverage"]["ingress"]["text"] == "1 of 2 (50%)"
    rules = {f["rule"] for f in created["analysis"]["findings"]}
    assert rules and {f["rule"] for f in report["findings"]} == rules
    assert "default → default" in html
    assert f"article.yaml:{RULE_LINE}" in html  # the rule that allows backend → mysql
    matrix = report["matrix"]
    assert matrix["names"][-1] == "(external)"
    cell = matrix["rows"][0]["cells"][0]
    assert (cell["allowed"], cell["possible"]) == (2, 2) and cell["level"] == "all"
    assert (
        'media="print"' not in html
        and "@media print" in (Path(app.static_folder or "") / "style.css").read_text()
    )


def test_report_page_of_a_policies_only_upload(client: FlaskClient) -> None:
    created = upload(client, ("p.yaml", POLICY_ONLY)).get_json()
    html = client.get(f"/a/{created['id']}/report").get_data(as_text=True)
    assert "No workloads uploaded" in html


def test_report_page_escapes_uploaded_strings(app: Flask, client: FlaskClient) -> None:
    analysis_id = store(app, hostile_document())
    response = client.get(f"/a/{analysis_id}/report")
    assert response.status_code == 200
    assert_escaped(response.get_data(as_text=True))


def test_report_of_unknown_malformed_and_deleted_ids_is_the_same_404(
    client: FlaskClient, created: dict
) -> None:
    delete(client, created)
    bodies = set()
    for analysis_id in (created["id"], "D" * 40, "nope"):
        response = client.get(f"/a/{analysis_id}/report")
        assert response.status_code == 404
        bodies.add(response.get_data())
    assert len(bodies) == 1


def test_review_markdown_export_is_an_attachment_of_the_review(
    client: FlaskClient, created: dict
) -> None:
    response = client.get(f"/api/v1/analyses/{created['id']}/export.review.md")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="netpol-{created["id"][:8]}.review.md"'
    )
    assert_headers(response)
    assert response.get_data(as_text=True) == review_markdown(created["analysis"])


def test_review_markdown_export_escapes_markup(app: Flask, client: FlaskClient) -> None:
    analysis_id = store(app, hostile_document())
    text = client.get(f"/api/v1/analyses/{analysis_id}/export.review.md").get_data(as_text=True)
    assert HOSTILE_HTML not in text and "<script>" not in text


def test_analysis_page_links_the_report_the_review_export_and_the_diff_form(
    client: FlaskClient, created: dict
) -> None:
    html = client.get(f"/a/{created['id']}").get_data(as_text=True)
    analysis_id = created["id"]
    assert f'href="/a/{analysis_id}/report"' in html
    assert f'href="/api/v1/analyses/{analysis_id}/export.review.md"' in html
    assert f'href="/diff?before={analysis_id}"' in html
    assert f'data-query-url="/api/v1/analyses/{analysis_id}/query"' in html
    assert 'id="why"' in html


# --- the findings panel ---------------------------------------------------------------------


def finding_groups(html: str) -> list[tuple[str, int, list[int]]]:
    """The findings panel as (severity, its count, the document indexes of its findings)."""
    groups = []
    for part in html.split('<section class="finding-group')[1:]:
        head = re.search(r'data-severity="(\w+)" data-count="(\d+)"', part)
        assert head, part[:200]
        body = part.split("</section>", 1)[0]
        indexes = [int(i) for i in re.findall(r'class="finding-toggle" data-finding="(\d+)"', body)]
        groups.append((head.group(1), int(head.group(2)), indexes))
    return groups


def test_findings_panel_groups_by_severity_and_every_finding_is_a_button(
    app: Flask, client: FlaskClient
) -> None:
    document = article_document()  # its one finding: medium, about frontend
    document["findings"] += [
        {"rule": "policy-only", "severity": "low", "message": "m", "nodes": [],
         "policies": ["default/db-backend"]},
        {"rule": "cni-enforcement", "severity": "info", "message": "n", "nodes": [],
         "policies": []},
        {"rule": "egress-blocks-dns", "severity": "high", "message": "o", "nodes": [MYSQL],
         "policies": []},
        {"rule": "from-elsewhere", "severity": "unheard-of", "message": "p", "nodes": [],
         "policies": []},
    ]
    analysis_id = store(app, document)
    response, context = rendered_context(app, client, f"/a/{analysis_id}")
    html = response.get_data(as_text=True)
    assert [f["nodes"] for f in context["view"]["findings"]] == [[0], [2], [], [2], []]
    # Highest severity first, each with its count; a severity the page does not know
    # counts as info; data-finding stays the document index, which the view is indexed by.
    assert finding_groups(html) == [
        ("high", 1, [3]),
        ("medium", 1, [0]),
        ("low", 1, [1]),
        ("info", 2, [2, 4]),
    ]
    assert 'id="finding-severity"' in html


@pytest.mark.parametrize(
    ("finding", "expected"),
    [
        pytest.param({"nodes": ["default/Deployment/mysql"]}, [2], id="own-nodes"),
        pytest.param({"nodes": [], "policies": ["default/db-backend"]}, [2], id="policy-selects"),
        pytest.param({"nodes": ["nope", "default/Deployment/backend"]}, [1], id="unknown-dropped"),
        pytest.param({"nodes": []}, [], id="upload-wide"),
    ],
)
def test_view_findings_name_the_nodes_a_click_highlights(
    finding: dict[str, Any], expected: list[int]
) -> None:
    document = article_document()
    document["findings"] = [{"rule": "r", "severity": "low", "message": "m", **finding}]
    assert [f["nodes"] for f in view_data(document)["findings"]] == [expected]


def test_view_findings_carry_what_the_details_panel_shows() -> None:
    document = article_document()
    source = {"file": "db-backend.yaml", "line": 7}
    document["findings"] = [
        {"rule": "r", "severity": "low", "message": "m", "nodes": [MYSQL],
         "policies": ["default/db-backend"], "source": source}
    ]
    assert view_data(document)["findings"] == [
        {"rule": "r", "severity": "low", "message": "m", "nodes": [2],
         "policies": ["default/db-backend"], "source": source}
    ]


# --- the diff view (render.diff_view_data) ----------------------------------------------


def diff_pair() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """article_document, then a version where frontend may reach mysql, backend→mysql is
    widened, a new workload appears and payments-api is gone."""
    old = article_document()
    new = copy.deepcopy(old)
    nodes = {n["name"]: n for n in new["nodes"]}
    extra = workload("default", "web", {"app": "web"})
    new["nodes"] = [n for n in new["nodes"] if n["name"] != "payments-api"] + [extra]
    new["flows"] = [f for f in new["flows"] if "payments-api" not in f["source"] + f["target"]]
    for f in new["flows"]:
        if f["source"] == nodes["backend"]["id"] and f["target"] == nodes["mysql"]["id"]:
            f["ports"] = [tcp(3306), tcp(33060)]
    new["flows"].append(
        flow(
            nodes["frontend"],
            nodes["mysql"],
            [tcp(3306)],
            ingress=[rule_ref("default/db-backend", "ingress", 0, "db-backend.yaml", 9)],
        )
    )
    new["policies"][0]["rules"][0]["text"] = "- from: []\n"
    return old, new, diff_documents(old, new)


def edge_of(view: dict[str, Any], source: str, target: str) -> tuple[dict, dict]:
    names = [d["name"] for d in view["nodeDetails"]]
    for edge, detail in zip(view["edges"], view["edgeDetails"], strict=True):
        if names[edge["from"]] == source and names[edge["to"]] == target:
            return edge, detail
    raise AssertionError(f"no edge {source} -> {target}")


@pytest.mark.parametrize(
    ("source", "target", "change", "color", "label"),
    [
        pytest.param("frontend", "mysql", "added", DIFF_COLORS["added"], "+ TCP 3306", id="added"),
        pytest.param(
            "payments-api", "frontend", "removed", DIFF_COLORS["removed"], "− all", id="removed"
        ),
        pytest.param(
            "backend",
            "mysql",
            "widened",
            DIFF_COLORS["changed"],
            "TCP 3306 → TCP 3306, 33060",
            id="widened",
        ),
        pytest.param(
            "frontend", "backend", "unchanged", DIFF_COLORS["unchanged"], "all", id="unchanged"
        ),
    ],
)
def test_diff_view_colours_each_edge_by_its_change(
    source: str, target: str, change: str, color: str, label: str
) -> None:
    old, new, diff = diff_pair()
    view = diff_view_data(old, new, diff)
    edge, detail = edge_of(view, source, target)
    assert detail["change"] == change
    assert edge["color"]["color"] == color
    assert edge["label"] == label
    assert edge["title"].startswith(change)
    if change == "unchanged":
        assert edge["color"]["opacity"] < 1 and edge["width"] == 1
    else:
        assert edge["width"] == 3


def test_diff_view_draws_the_union_of_nodes_with_added_and_removed_marked() -> None:
    old, new, diff = diff_pair()
    view = diff_view_data(old, new, diff)
    by_name = {d["name"]: (i, d) for i, d in enumerate(view["nodeDetails"])}
    assert set(by_name) == {n["name"] for n in old["nodes"]} | {"web"}
    for name, change in (("web", "added"), ("payments-api", "removed")):
        index, detail = by_name[name]
        node = view["nodes"][index]
        assert detail["change"] == change
        assert node["color"]["border"] == DIFF_COLORS[change]
        assert node["label"].startswith(f"({change})")
    assert "change" not in by_name["mysql"][1]
    assert view["diff"]["summary"] == diff["summary"]


def test_a_removed_flow_shows_the_old_text_of_a_changed_policy() -> None:
    old, new, diff = diff_pair()
    old["flows"].append(
        flow(
            old["nodes"][3],
            old["nodes"][2],
            [tcp(3306)],
            ingress=[rule_ref("default/db-backend", "ingress", 0, "db-backend.yaml", 9)],
        )
    )
    diff = diff_documents(old, new)
    view = diff_view_data(old, new, diff)
    _, detail = edge_of(view, "payments-api", "mysql")
    assert detail["change"] == "removed"
    [[policy_index, rule, _line]] = detail["ingress"]
    policy = view["policies"][policy_index]
    assert policy["id"] == "default/db-backend (before)"
    assert "role: backend" in policy["rules"]["ingress"][rule]["text"]
    current = next(p for p in view["policies"] if p["id"] == "default/db-backend")
    assert current["rules"]["ingress"][0]["text"] == "- from: []\n"


def test_diff_view_draws_changes_first_when_over_the_edge_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(render, "EDGE_BUDGET", 3)
    old, new, diff = diff_pair()
    view = diff_view_data(old, new, diff)
    assert len(view["edges"]) == 3
    assert all(d["change"] != "unchanged" for d in view["edgeDetails"])
    # payments-api's external flows are gone with it: drawn as removed, counted by address
    blocks = {n["id"] for n in old["nodes"] if n["type"] == "ipblock"}
    gone = {n["id"] for n in diff["nodes"]["removed"]}
    external = [f for f in old["flows"] if {f["source"], f["target"]} & blocks and
                {f["source"], f["target"]} & gone]  # fmt: skip
    assert external and diff["external"]
    # omitted counts node pairs with a flow in either version, not drawn ones
    pairs = diff["summary"]["pairsRemoved"] + len(external) + len(new["flows"])
    assert view["omitted"]["flows"] == pairs - 3


def test_diff_view_styles_collapsed_namespace_edges_by_change() -> None:
    old, new, diff = diff_pair()
    styles = diff_view_data(old, new, diff)["edgeStyles"]
    for status, color in DIFF_COLORS.items():
        assert styles[f"diff-{status}"]["color"]["color"] == color
