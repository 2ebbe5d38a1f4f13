"""The JSON API (CONTRACT §4) through Flask's test client: create, read, export, revoke, errors."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webfixtures import ARTICLE, CONTRACT_KEYS, POLICY_ONLY, SHARE_ID, make_app, upload

from webapp.core.input.raw import Limits, SourceText
from webapp.web import analysis as runner
from webapp.web.errors import INTERNAL, NOT_FOUND
from webapp.web.security import CONTENT_SECURITY_POLICY, loggable

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"





def files_of(document: dict[str, Any]) -> set[str]:
    """Every file name the document mentions (policies, rules, problems)."""
    names = {p["source"]["file"] for p in document["policies"] if p.get("source")}
    names |= {p["file"] for p in document["problems"]}
    return names


# --- create -----------------------------------------------------------------------


def test_create_answers_201_with_id_url_token_and_the_contract_document(
    client: FlaskClient,
) -> None:
    response = upload(client, ("article.yaml", ARTICLE))
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"id", "url", "deleteToken", "analysis"}
    assert SHARE_ID.fullmatch(body["id"])
    assert body["url"] == f"/a/{body['id']}"
    assert len(body["deleteToken"]) >= 32 and body["deleteToken"] != body["id"]
    assert response.headers["Location"] == f"/api/v1/analyses/{body['id']}"
    document = body["analysis"]
    assert set(document) >= CONTRACT_KEYS
    assert document["version"] == 2
    assert {p["id"] for p in document["policies"]} == {"default/db-backend"}
    assert {n["name"] for n in document["nodes"] if n["type"] == "workload"} >= {"mysql", "backend"}


@pytest.mark.parametrize(
    ("kwargs", "expected_file"),
    [
        pytest.param(
            {"data": ARTICLE, "content_type": "application/yaml"}, "upload.yaml", id="raw-yaml"
        ),
        pytest.param(
            {"data": ARTICLE, "content_type": "application/x-www-form-urlencoded"},
            "upload.yaml",
            id="raw-body-sent-as-form-like-curl-data-binary",
        ),
        pytest.param({"data": ARTICLE, "content_type": None}, "upload.yaml", id="raw-no-type"),
        pytest.param({"data": {"text": ARTICLE}}, "pasted.yaml", id="form-text-field"),
        pytest.param(
            {"data": {"text": ARTICLE}, "content_type": "multipart/form-data"},
            "pasted.yaml",
            id="multipart-text-field",
        ),
    ],
)
def test_create_accepts_raw_bodies_and_the_paste_field(
    client: FlaskClient, kwargs: dict[str, Any], expected_file: str
) -> None:
    response = client.post("/api/v1/analyses", **kwargs)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert files_of(response.get_json()["analysis"]) == {expected_file}


def test_create_accepts_raw_json_body(client: FlaskClient) -> None:
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "deny-all", "namespace": "default"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }
    response = client.post("/api/v1/analyses", json=policy)
    assert response.status_code == 201
    assert [p["id"] for p in response.get_json()["analysis"]["policies"]] == ["default/deny-all"]


def test_create_keeps_file_names_as_uploaded_across_several_files(client: FlaskClient) -> None:
    name = "team a/policies ü.yaml"
    response = upload(client, ("workloads.yaml", ARTICLE), (name, POLICY_ONLY))
    assert response.status_code == 201
    policies = {p["id"]: p["source"]["file"] for p in response.get_json()["analysis"]["policies"]}
    assert policies == {"default/db-backend": "workloads.yaml", "default/deny-all": name}


def test_share_ids_are_random_not_derived_from_the_content(client: FlaskClient) -> None:
    ids = {upload(client, ("a.yaml", POLICY_ONLY)).get_json()["id"] for _ in range(3)}
    assert len(ids) == 3


def test_stored_document_is_served_as_created(client: FlaskClient, created: dict) -> None:
    response = client.get(f"/api/v1/analyses/{created['id']}")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == created["analysis"]


def test_read_serves_the_stored_document_without_recomputing(app: Flask) -> None:
    document = {"version": 2, "nodes": [], "groups": [], "flows": [], "policies": [],
                "findings": [], "problems": [], "marker": "stored, not recomputed"}
    saved = app.extensions["netpol_storage"].save(json.dumps(document), "[]", "0.0.1")
    response = app.test_client().get(f"/api/v1/analyses/{saved.id}")
    assert response.get_json() == document


def test_sanitized_input_is_stored_without_secrets(app: Flask, created: dict) -> None:
    stored = app.extensions["netpol_storage"].load(created["id"])
    assert stored is not None
    assert "hunter2" not in stored.input and "MYSQL_ROOT_PASSWORD" not in stored.input
    assert "hunter2" not in stored.document
    assert "mysql" in stored.input


# --- URLs never come from the Host header ----------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        pytest.param(None, "/a/{id}", id="relative-by-default"),
        pytest.param("https://netpol.example.org", "https://netpol.example.org/a/{id}",
                     id="configured-base"),
        pytest.param("https://example.org/tools/", "https://example.org/tools/a/{id}",
                     id="configured-base-with-prefix-and-slash"),
    ],
)
def test_url_is_relative_or_from_base_url_never_from_host(
    tmp_path: Path, base_url: str | None, expected: str
) -> None:
    client = make_app(tmp_path, {"BASE_URL": base_url}).test_client()
    response = upload(
        client,
        ("a.yaml", POLICY_ONLY),
        headers={"Host": "evil.example:666", "X-Forwarded-Host": "evil.example"},
    )
    body = response.get_json()
    assert body["url"] == expected.format(id=body["id"])
    assert "evil" not in response.get_data(as_text=True)


# --- 400: nothing usable --------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"data": b""}, id="empty-body"),
        pytest.param({"data": b"  \n\t\n"}, id="whitespace-body"),
        pytest.param({"data": {"text": "   "}}, id="blank-paste"),
        pytest.param(
            {"data": {"manifests": [(io.BytesIO(b""), "")]}, "content_type": "multipart/form-data"},
            id="file-input-left-empty",
        ),
        pytest.param(
            {"data": {"other": [(io.BytesIO(ARTICLE.encode()), "a.yaml")]}},
            id="file-in-wrong-field",
        ),
        pytest.param({"data": {"manifests": [(io.BytesIO(PNG), "cat.png")]}}, id="binary-file"),
        pytest.param({"data": PNG, "content_type": "image/png"}, id="binary-body"),
        pytest.param({"data": b"hello: world\n"}, id="yaml-without-kubernetes-objects"),
        pytest.param({"data": b"key: [unclosed\n"}, id="broken-yaml"),
    ],
)
def test_nothing_usable_is_400_json_with_a_message(
    client: FlaskClient, kwargs: dict[str, Any]
) -> None:
    response = client.post("/api/v1/analyses", **kwargs)
    assert response.status_code == 400
    body = response.get_json()
    assert set(body) == {"error", "problems"}
    assert body["error"]
    assert isinstance(body["problems"], list)


def test_400_lists_the_problems_with_file_and_line(client: FlaskClient) -> None:
    response = upload(client, ("broken.yaml", "kind: NetworkPolicy\nspec: [\n"))
    assert response.status_code == 400
    problems = response.get_json()["problems"]
    assert problems and all(p["file"] == "broken.yaml" for p in problems)
    assert all(set(p) >= {"severity", "line", "path", "message"} for p in problems)


# --- 404: malformed, unknown and deleted ids are indistinguishable ----------------


def test_malformed_unknown_and_deleted_ids_get_the_same_404(
    client: FlaskClient, created: dict
) -> None:
    deleted = created["id"]
    response = client.delete(
        f"/api/v1/analyses/{deleted}", headers={"X-Delete-Token": created["deleteToken"]}
    )
    assert response.status_code == 204
    unknown = "A" * len(deleted)
    paths = [
        f"/api/v1/analyses/{deleted}",
        f"/api/v1/analyses/{unknown}",
        "/api/v1/analyses/x",
        "/api/v1/analyses/" + "a" * 300,
        "/api/v1/analyses/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/analyses/%00",
        "/api/v1/analyses/'%20OR%201=1--",
        f"/api/v1/analyses/{deleted}/export.csv",
        f"/api/v1/analyses/{unknown}/export.json",
        f"/api/v1/analyses/{created['id']}/export.exe",
        "/api/v1/no-such-route",
    ]
    bodies = set()
    for path in paths:
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.mimetype == "application/json", path
        bodies.add(response.get_data())
    assert len(bodies) == 1
    assert json.loads(bodies.pop()) == {"error": NOT_FOUND, "problems": []}


def test_there_is_no_listing_route(client: FlaskClient, created: dict) -> None:
    for path in ("/api/v1/analyses", "/api/v1/analyses/", "/api/v1", "/api", "/a/"):
        response = client.get(path)
        assert response.status_code in (404, 405), path
        assert created["id"] not in response.get_data(as_text=True)


# --- 413: limits ------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("multipart", id="file-over-limit"),
        pytest.param("body", id="raw-body-over-limit"),
        pytest.param("paste", id="paste-over-limit"),
        pytest.param("many-small-files", id="files-adding-up-over-limit"),
        pytest.param("huge-body", id="body-over-max-content-length"),
    ],
)
def test_too_large_upload_is_413_with_the_limit(tmp_path: Path, kind: str) -> None:
    client = make_app(tmp_path, {"MAX_UPLOAD_BYTES": 4096}).test_client()
    big = POLICY_ONLY + "#" * 8000 + "\n"
    if kind == "multipart":
        response = upload(client, ("big.yaml", big))
    elif kind == "body":
        response = client.post("/api/v1/analyses", data=big)
    elif kind == "paste":
        response = client.post("/api/v1/analyses", data={"text": big})
    elif kind == "huge-body":
        response = client.post("/api/v1/analyses", data=big * 100)
    else:
        padded = POLICY_ONLY + "#" * 1500 + "\n"
        response = upload(client, *[(f"{i}.yaml", padded) for i in range(4)])
    assert response.status_code == 413
    body = response.get_json()
    assert set(body) == {"error", "problems"}
    assert "4 KiB" in body["error"]


def test_too_many_documents_is_413_naming_the_limit(tmp_path: Path) -> None:
    client = make_app(tmp_path, {"MAX_DOCUMENTS": 2}).test_client()
    response = upload(client, ("article.yaml", ARTICLE))  # three documents
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert "2" in error and "document" in error


def burn(_sources: Sequence[SourceText], _limits: Limits) -> runner.Result:
    """An analysis that needs more CPU time than any budget."""
    while True:
        pass


def test_analysis_over_the_cpu_limit_is_413_saying_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_app(tmp_path, {"ANALYSIS_CPU_LIMIT": 1}).test_client()
    monkeypatch.setattr(runner, "analyze_to_json", burn)
    response = upload(client, ("article.yaml", ARTICLE))
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert "needed more than 1 s of CPU time" in error
    assert "split" not in error  # splitting is advice about size only


def test_more_files_than_werkzeugs_default_part_limit_are_accepted(client: FlaskClient) -> None:
    response = upload(client, *[(f"p{i}.yaml", POLICY_ONLY.replace("deny-all", f"p{i}"))
                                for i in range(1100)])
    assert response.status_code == 201
    assert len(response.get_json()["analysis"]["policies"]) == 1100


def test_a_paste_as_large_as_a_file_is_accepted(client: FlaskClient) -> None:
    # Flask's default form-field limit is 500 KB; the paste box must take what a file can.
    comment = "# " + "x" * 98 + "\n"
    text = ARTICLE + comment * 30_000  # 3 MB
    for content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        response = client.post(
            "/api/v1/analyses", data={"text": text}, content_type=content_type
        )
        assert response.status_code == 201, (content_type, response.get_data(as_text=True)[:200])


# --- the time limit runs in a process that is killed --------------------------------


def sleep_forever(sources: Sequence[SourceText], _limits: Limits) -> runner.Result:
    """A pathological analysis: leaves its pid where the test can see it, then never ends."""
    Path(sources[0].name).write_text(str(os.getpid()))
    time.sleep(120)
    raise AssertionError("not killed")


def crash(_sources: Sequence[SourceText], _limits: Limits) -> runner.Result:
    os._exit(3)


def test_runner_kills_an_analysis_that_runs_past_the_wall_clock_backstop(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    started = time.monotonic()
    with pytest.raises(runner.AnalysisTimeout, match="did not finish within 1 s"):
        budget = runner.Budget(cpu=30, wall=1)
        runner.run([SourceText(str(pid_file), b"")], Limits(), budget, work=sleep_forever)
    assert time.monotonic() - started < 10
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_runner_reports_a_crashed_analysis_as_failed() -> None:
    with pytest.raises(runner.AnalysisFailed):
        runner.run([SourceText("a.yaml", b"")], Limits(), runner.Budget(30, 30), work=crash)


def test_runner_answers_other_requests_while_one_analysis_hangs(tmp_path: Path) -> None:
    outcome: list[BaseException] = []

    def hang() -> None:
        try:
            budget = runner.Budget(cpu=30, wall=2)
            runner.run([SourceText(str(tmp_path / "pid"), b"")], Limits(), budget, sleep_forever)
        except runner.AnalysisTimeout as error:
            outcome.append(error)

    hanging = threading.Thread(target=hang)
    hanging.start()
    started = time.monotonic()
    result = runner.run([SourceText("a.yaml", ARTICLE.encode())], Limits(), runner.Budget(30, 60))
    assert time.monotonic() - started < 4
    assert set(json.loads(result.document)) >= CONTRACT_KEYS
    hanging.join()
    assert len(outcome) == 1


def test_runner_returns_json_texts_of_the_document_and_sanitized_input() -> None:
    result = runner.run([SourceText("a.yaml", ARTICLE.encode())], Limits(), runner.Budget(30, 60))
    assert set(json.loads(result.document)) >= CONTRACT_KEYS
    assert isinstance(json.loads(result.sanitized), list)
    assert result.document.isascii() and result.sanitized.isascii()


def test_to_json_never_writes_nan_or_raw_control_characters() -> None:
    text = runner.to_json({"a": float("nan"), "b": [float("inf")], "c": "\x00é\u202e"})
    assert json.loads(text) == {"a": "nan", "b": ["inf"], "c": "\x00é\u202e"}
    assert text.isascii()


# --- other errors -----------------------------------------------------------------


def test_wrong_method_is_405_json_with_allow(client: FlaskClient, created: dict) -> None:
    response = client.put(f"/api/v1/analyses/{created['id']}")
    assert response.status_code == 405
    assert set(response.get_json()) == {"error", "problems"}
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "DELETE"}


def test_a_bug_is_a_generic_500_without_traceback(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"PROPAGATE_EXCEPTIONS": False})

    @app.get("/api/v1/boom")
    def boom() -> str:
        raise RuntimeError("secret internals /etc/passwd")

    response = app.test_client().get("/api/v1/boom")
    assert response.status_code == 500
    assert response.get_json() == {"error": INTERNAL, "problems": []}
    assert b"Traceback" not in response.data and b"secret" not in response.data


def test_a_failing_analysis_is_a_500_that_shows_no_internals(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_args: object) -> None:
        raise runner.AnalysisFailed("Traceback (most recent call last): secret")

    monkeypatch.setattr(runner, "run", fail)
    response = upload(client, ("a.yaml", POLICY_ONLY))
    assert response.status_code == 500
    assert "secret" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


# --- revocation -------------------------------------------------------------------


def test_delete_with_wrong_or_missing_token_is_403_and_keeps_the_analysis(
    client: FlaskClient, created: dict
) -> None:
    url = f"/api/v1/analyses/{created['id']}"
    for headers in ({"X-Delete-Token": "wrong"}, {}, {"X-Delete-Token": created["id"]}):
        response = client.delete(url, headers=headers)
        assert response.status_code == 403
        assert set(response.get_json()) == {"error", "problems"}
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("how", ["header", "json-body"])
def test_delete_with_the_token_revokes_the_link(
    client: FlaskClient, created: dict, how: str
) -> None:
    url = f"/api/v1/analyses/{created['id']}"
    token = created["deleteToken"]
    if how == "header":
        response = client.delete(url, headers={"X-Delete-Token": token})
    else:
        response = client.delete(url, json={"deleteToken": token})
    assert response.status_code == 204
    assert response.data == b""
    assert client.get(url).status_code == 404
    assert client.get(f"{url}/export.json").status_code == 404
    assert client.get(f"/a/{created['id']}").status_code == 404
    assert client.delete(url, headers={"X-Delete-Token": token}).status_code == 404


def test_delete_of_unknown_id_is_the_same_404(client: FlaskClient) -> None:
    response = client.delete("/api/v1/analyses/" + "B" * 32, headers={"X-Delete-Token": "x"})
    assert response.status_code == 404
    assert response.get_json() == {"error": NOT_FOUND, "problems": []}


# --- exports ----------------------------------------------------------------------

EXPORTS = [
    pytest.param("json", "application/json", id="json"),
    pytest.param("csv", "text/csv", id="csv"),
    pytest.param("md", "text/markdown", id="md"),
    pytest.param("dot", "text/vnd.graphviz", id="dot"),
    pytest.param("html", "text/html", id="html"),
    pytest.param("review.md", "text/markdown", id="review-md"),
]


@pytest.mark.parametrize(("fmt", "mimetype"), EXPORTS)
def test_exports_are_attachments_with_their_type(
    client: FlaskClient, created: dict, fmt: str, mimetype: str
) -> None:
    response = client.get(f"/api/v1/analyses/{created['id']}/export.{fmt}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == mimetype
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="netpol-{created["id"][:8]}.{fmt}"'
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "mysql" in response.get_data(as_text=True)


def test_json_export_is_the_stored_document(client: FlaskClient, created: dict) -> None:
    response = client.get(f"/api/v1/analyses/{created['id']}/export.json")
    assert json.loads(response.get_data(as_text=True)) == created["analysis"]


def test_csv_export_neutralises_formulas(app: Flask) -> None:
    # Stored directly: the core refuses such names, but a stored document is served as it is.
    nodes = [
        {"id": "=HYPERLINK(1)", "type": "workload", "kind": "Pod", "namespace": "+ns",
         "name": "@SUM(2)", "labels": {}, "pods": 1,
         "isolated": {"ingress": False, "egress": False}},
        {"id": "-3+4", "type": "workload", "kind": "Pod", "namespace": "default",
         "name": "-3+4", "labels": {}, "pods": 1,
         "isolated": {"ingress": False, "egress": False}},
    ]
    flow = {"source": "=HYPERLINK(1)", "target": "-3+4", "ports": [], "allTraffic": True,
            "egress": [], "ingress": []}
    document = {"version": 1, "nodes": nodes, "flows": [flow], "policies": [], "findings": [],
                "problems": []}
    saved = app.extensions["netpol_storage"].save(json.dumps(document), "[]", "0.1.0")
    response = app.test_client().get(f"/api/v1/analyses/{saved.id}/export.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    cells = [cell for row in rows[1:] for cell in row]
    # group CSV: ids and member names (`ns/name`) are the cells
    assert "'=HYPERLINK(1)" in cells and "'+ns/@SUM(2)" in cells and "'-3+4" in cells
    assert not any(cell[:1] in ("=", "+", "-", "@") for cell in cells if cell)


# --- headers ----------------------------------------------------------------------


def test_every_api_answer_carries_the_security_and_privacy_headers(
    tmp_path: Path, created: dict, client: FlaskClient
) -> None:
    small = make_app(tmp_path / "small", {"MAX_UPLOAD_BYTES": 10}).test_client()
    responses = {
        "201": upload(client, ("a.yaml", POLICY_ONLY)),
        "200": client.get(f"/api/v1/analyses/{created['id']}"),
        "export": client.get(f"/api/v1/analyses/{created['id']}/export.csv"),
        "400": client.post("/api/v1/analyses", data=b""),
        "403": client.delete(f"/api/v1/analyses/{created['id']}"),
        "404": client.get("/api/v1/analyses/nope"),
        "405": client.get("/api/v1/analyses"),
        "413": small.post("/api/v1/analyses", data=b"x" * 100),
    }
    for name, response in responses.items():
        headers = response.headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["Referrer-Policy"] == "no-referrer", name
        assert headers["X-Frame-Options"] == "DENY", name
        assert headers["X-Robots-Tag"] == "noindex", name
        assert headers["Cache-Control"] == "no-store", name


def test_csp_allows_only_the_app_itself() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


# --- logs -------------------------------------------------------------------------


def test_logs_escape_control_characters_from_uploaded_names(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="webapp.web")
    # A raw newline cannot survive in a multipart header; the terminal escape and bidi can.
    name = "evil\x1b[31m\u202e\tFAKE.yaml"
    assert upload(client, (name, ARTICLE)).status_code == 201
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("webapp.web")]
    stored = [m for m in messages if "stored" in m]
    assert stored, messages
    assert "\x1b" not in stored[0] and "\u202e" not in stored[0] and "\t" not in stored[0]
    assert "evil\\x1b[31m\\u202e\\x09FAKE.yaml" in stored[0]
    # An analysis is logged by a prefix of its id: reading logs must not open share links.
    assert SHARE_ID.search(stored[0]) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a.yaml", "a.yaml", id="plain"),
        pytest.param("a\nINFO forged", "a\\x0aINFO forged", id="newline"),
        pytest.param("a\r\x00\x7f", "a\\x0d\\x00\\x7f", id="cr-nul-del"),
        pytest.param("\u202eevil\u200b", "\\u202eevil\\u200b", id="bidi-and-zero-width"),
        pytest.param("a\u2028b", "a\\u2028b", id="line-separator"),
        pytest.param("back\\slash", "back\\\\slash", id="backslash-doubled"),
        pytest.param("ü名", "ü名", id="printable-unicode-kept"),
        pytest.param("x" * 300, "x" * 200 + "…", id="bounded"),
    ],
)
def test_loggable(text: str, expected: str) -> None:
    assert loggable(text) == expected


# --- entry points -----------------------------------------------------------------


def test_serve_runs_the_app_threaded_on_the_given_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import werkzeug.serving

    from webapp.web import serve

    calls: list[tuple[str, int, Flask, dict[str, Any]]] = []
    monkeypatch.setattr(
        werkzeug.serving, "run_simple", lambda h, p, a, **kw: calls.append((h, p, a, kw))
    )
    serve("127.0.0.1", 8123, str(tmp_path / "served.sqlite3"))
    [(host, port, app, options)] = calls
    assert (host, port, options.get("threaded")) == ("127.0.0.1", 8123, True)
    assert app.config["DATABASE"] == str(tmp_path / "served.sqlite3")
    assert (tmp_path / "served.sqlite3").is_file()


def test_wsgi_entry_reads_its_configuration_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib
    import sys

    monkeypatch.setenv("NETPOL_DATABASE", str(tmp_path / "wsgi.sqlite3"))
    monkeypatch.setenv("NETPOL_BASE_URL", "https://netpol.example.org")
    monkeypatch.setenv("NETPOL_MAX_UPLOAD_BYTES", "256MiB")
    monkeypatch.delitem(sys.modules, "webapp.web.wsgi", raising=False)
    wsgi = importlib.import_module("webapp.web.wsgi")
    assert wsgi.app.config["DATABASE"] == str(tmp_path / "wsgi.sqlite3")
    assert wsgi.app.config["BASE_URL"] == "https://netpol.example.org"
    assert wsgi.app.config["MAX_UPLOAD_BYTES"] == 256 * 1024 * 1024
    body = upload(wsgi.app.test_client(), ("a.yaml", POLICY_ONLY)).get_json()
    assert body["url"].startswith("https://netpol.example.org/a/")
    assert wsgi.config_from_env({}) == {}
