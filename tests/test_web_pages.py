"""The HTML pages through Flask's test client: upload, samples, the share page, errors, headers."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, template_rendered
from flask.testing import FlaskClient
from jinja2 import Template
from webfixtures import ARTICLE, POLICY_ONLY, SHARE_ID, make_app, upload

import webapp
from webapp.web.errors import NOT_FOUND
from webapp.web.security import CONTENT_SECURITY_POLICY

TEMPLATES = webapp.data_dir("templates")

pytestmark = pytest.mark.skipif(
    not all((TEMPLATES / name).is_file() for name in ("index.html", "analysis.html", "error.html")),
    reason="the page templates (templates/index.html, analysis.html, error.html) are not there",
)

Rendered = list[tuple[str, dict[str, Any]]]




@contextmanager
def rendered(app: Flask) -> Iterator[Rendered]:
    """The templates rendered inside the block, with their contexts."""
    seen: Rendered = []

    def record(_sender: Flask, template: Template, context: dict[str, Any], **_: Any) -> None:
        seen.append((template.name or "", context))

    template_rendered.connect(record, app)
    try:
        yield seen
    finally:
        template_rendered.disconnect(record, app)


def files(*items: tuple[str, str | bytes]) -> dict[str, Any]:
    return {
        "manifests": [
            (io.BytesIO(c.encode() if isinstance(c, str) else c), name) for name, c in items
        ]
    }


def assert_security_headers(response: Any, private: bool) -> None:
    headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    if private:
        assert headers["X-Robots-Tag"] == "noindex"
        assert headers["Cache-Control"] == "no-store"
    else:
        assert "X-Robots-Tag" not in headers


# --- upload page ------------------------------------------------------------------


def test_upload_page_lists_samples_and_limits(app: Flask, client: FlaskClient) -> None:
    with rendered(app) as seen:
        response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    name, context = seen[0]
    assert name == "index.html"
    assert context["samples"] == [
        {"slug": "article", "title": "Article: backend to database",
         "description": "Only the backend may reach MySQL."}
    ]
    assert context["limits"]["max_bytes"] == 128 * 1024 * 1024
    assert context["limits"]["max_documents"] == 200_000
    assert context["error"] is None
    html = response.get_data(as_text=True)
    assert "Article: backend to database" in html
    assert "128.0 MiB in total" in html and "200,000 documents per upload" in html
    assert_security_headers(response, private=False)


def test_packaged_samples_all_have_a_title(tmp_path: Path) -> None:
    from webapp.web.samples import list_samples

    root = webapp.data_dir("sample-manifests")
    folders = [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
    samples = list_samples(root)
    assert [s.slug for s in samples] == sorted(p.name for p in folders)
    assert all(s.title != s.slug for s in samples)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(files(("article.yaml", ARTICLE)), id="files"),
        pytest.param({"text": ARTICLE}, id="paste"),
        pytest.param({**files(("", b"")), "text": ARTICLE}, id="paste-with-empty-file-input"),
        pytest.param({**files(("a.yaml", ARTICLE)), "text": POLICY_ONLY}, id="files-and-paste"),
    ],
)
def test_upload_redirects_to_the_share_page(
    app: Flask, client: FlaskClient, data: dict[str, Any]
) -> None:
    response = client.post("/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/a/")
    assert SHARE_ID.fullmatch(location.removeprefix("/a/"))
    with rendered(app) as seen:
        page = client.get(location)
    assert page.status_code == 200
    assert seen[0][0] == "analysis.html"


@pytest.mark.parametrize(
    ("config", "data", "status", "message"),
    [
        pytest.param({}, {"text": ""}, 400, "Nothing to analyse", id="nothing"),
        pytest.param({}, files(("cat.png", b"\x89PNG\r\n\x1a\n\x00\x00")), 400, "", id="binary"),
        pytest.param({"MAX_UPLOAD_BYTES": 1024}, files(("big.yaml", "#" * 4096)), 413, "1 KiB",
                     id="file-too-large"),
        pytest.param({"MAX_UPLOAD_BYTES": 1024}, files(("big.yaml", "#" * 600_000)), 413,
                     "1 KiB", id="request-over-max-content-length"),
        pytest.param({"MAX_UPLOAD_BYTES": 1024}, {"text": "#" * 4096}, 413, "1 KiB",
                     id="paste-too-large"),
        pytest.param({"MAX_DOCUMENTS": 1}, files(("a.yaml", ARTICLE)), 413, "1",
                     id="too-many-documents"),
    ],
)
def test_upload_errors_rerender_the_upload_page(
    tmp_path: Path, config: dict[str, Any], data: dict[str, Any], status: int, message: str
) -> None:
    app = make_app(tmp_path, config)
    with rendered(app) as seen:
        response = app.test_client().post(
            "/upload", data=data, content_type="multipart/form-data"
        )
    assert response.status_code == status
    assert response.mimetype == "text/html"
    name, context = seen[0]
    assert name == "index.html"
    assert context["error"] and message in context["error"]
    assert context["samples"]
    assert_security_headers(response, private=False)


def test_upload_error_shows_problems_as_text(app: Flask, client: FlaskClient) -> None:
    evil = "<img src=x onerror=alert(1)>.yaml"
    with rendered(app) as seen:
        response = client.post(
            "/upload", data=files((evil, "kind: [\n")), content_type="multipart/form-data"
        )
    assert response.status_code == 400
    assert [p["file"] for p in seen[0][1]["problems"]] and seen[0][1]["problems"][0]["file"] == evil
    html = response.get_data(as_text=True)
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.yaml" in html


# --- samples ----------------------------------------------------------------------


def test_sample_is_analysed_once_and_shared(app: Flask, client: FlaskClient) -> None:
    first = client.get("/samples/article")
    assert first.status_code == 303
    assert first.headers["Location"].startswith("/a/")
    assert client.get("/samples/article").headers["Location"] == first.headers["Location"]
    with rendered(app) as seen:
        page = client.get(first.headers["Location"])
    assert page.status_code == 200
    document = seen[0][1]["document"]
    assert {p["source"]["file"] for p in document["policies"]} == {"k8s/article.yaml"}


@pytest.mark.parametrize(
    "slug",
    [
        pytest.param("no-such-sample", id="unknown"),
        pytest.param("no-scenario", id="folder-without-readme"),
        pytest.param("..", id="parent"),
        pytest.param("%2e%2e%2fsamples", id="encoded-traversal"),
    ],
)
def test_unknown_sample_is_404_page(client: FlaskClient, slug: str) -> None:
    response = client.get(f"/samples/{slug}")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


# --- the share page ---------------------------------------------------------------


def test_share_page_renders_the_stored_analysis(app: Flask, client: FlaskClient) -> None:
    created = upload(client, ("article.yaml", ARTICLE)).get_json()
    analysis_id = created["id"]
    with rendered(app) as seen:
        response = client.get(f"/a/{analysis_id}")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    name, context = seen[0]
    assert name == "analysis.html"
    assert context["analysis_id"] == analysis_id
    assert context["document"] == created["analysis"]
    assert {"nodes", "edges"} <= set(context["view"])
    api = f"/api/v1/analyses/{analysis_id}"
    assert context["urls"] == {
        "share": f"/a/{analysis_id}",
        "api": api,
        "delete": api,
        "json": f"{api}/export.json",
        "csv": f"{api}/export.csv",
        "md": f"{api}/export.md",
        "dot": f"{api}/export.dot",
        "html": f"{api}/export.html",
        "reviewMd": f"{api}/export.review.md",
        "review.md": f"{api}/export.review.md",  # every registry format, by name
        "query": f"{api}/query",
        "report": f"/a/{analysis_id}/report",
        "compare": f"/diff?before={analysis_id}",
    }
    assert_security_headers(response, private=True)
    for url in context["urls"].values():
        if "export" in url:
            assert client.get(url).status_code == 200, url


def test_share_page_uses_base_url_for_the_share_link(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"BASE_URL": "https://netpol.example.org"})
    client = app.test_client()
    analysis_id = upload(client, ("a.yaml", POLICY_ONLY)).get_json()["id"]
    with rendered(app) as seen:
        client.get(f"/a/{analysis_id}", headers={"Host": "evil.example"})
    assert seen[0][1]["urls"]["share"] == f"https://netpol.example.org/a/{analysis_id}"


def test_unknown_malformed_and_deleted_share_pages_are_the_same_404(
    app: Flask, client: FlaskClient
) -> None:
    created = upload(client, ("a.yaml", POLICY_ONLY)).get_json()
    client.delete(
        f"/api/v1/analyses/{created['id']}", headers={"X-Delete-Token": created["deleteToken"]}
    )
    bodies = set()
    for analysis_id in (created["id"], "Z" * 32, "x", "%3Cscript%3E"):
        with rendered(app) as seen:
            response = client.get(f"/a/{analysis_id}")
        assert response.status_code == 404
        assert response.mimetype == "text/html"
        assert seen[0][0] == "error.html"
        assert seen[0][1]["message"] == NOT_FOUND
        assert_security_headers(response, private=True)
        bodies.add(response.get_data())
    assert len(bodies) == 1


# --- errors and headers elsewhere -------------------------------------------------


def test_page_errors_are_html_pages_without_internals(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"PROPAGATE_EXCEPTIONS": False})

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    client = app.test_client()
    for path, status in (("/boom", 500), ("/nowhere", 404), ("/upload", 405)):
        with rendered(app) as seen:
            response = client.get(path)
        assert response.status_code == status, path
        assert response.mimetype == "text/html"
        assert seen[0][0] == "error.html"
        assert seen[0][1]["status"] == status
        assert "secret" not in response.get_data(as_text=True)
        assert "Traceback" not in response.get_data(as_text=True)
        assert_security_headers(response, private=False)


def test_static_files_carry_the_security_headers(app: Flask, tmp_path: Path) -> None:
    static = tmp_path / "static"
    static.mkdir()
    (static / "app.js").write_text("console.log(1);\n")
    app.static_folder = str(static)
    response = app.test_client().get("/static/app.js")
    assert response.status_code == 200
    assert_security_headers(response, private=False)


def test_packaged_static_files_carry_the_security_headers(client: FlaskClient) -> None:
    static = webapp.data_dir("static")
    names = sorted(p.relative_to(static).as_posix() for p in static.rglob("*") if p.is_file())
    if not names:
        pytest.skip("static/ is empty")
    for name in names[:5]:
        response = client.get(f"/static/{name}")
        assert response.status_code == 200, name
        assert_security_headers(response, private=False)


def test_the_app_finds_templates_and_static_in_the_data_folders(app: Flask) -> None:
    assert Path(app.template_folder or "") == webapp.data_dir("templates")
    assert Path(app.static_folder or "") == webapp.data_dir("static")


def test_policies_only_summary_counts_inferred_pod_groups(client: FlaskClient) -> None:
    response = upload(client, ("policy.yaml", POLICY_ONLY))
    page = client.get(response.get_json()["url"]).get_data(as_text=True)
    inferred = response.get_json()["analysis"]["summary"]["inferred"]
    assert inferred == 1  # deny-all selects every pod of default: "default: any pod"
    assert f"<strong>{inferred}</strong> inferred pod group</li>" in page  # one: singular
    # Isolation counts every node that stands for pods, so it agrees with the nodes.
    isolated = sum(1 for n in response.get_json()["analysis"]["nodes"] if n["isolated"]["ingress"])
    assert isolated > 0
    assert f"<strong>{isolated}</strong> isolated for ingress" in page
