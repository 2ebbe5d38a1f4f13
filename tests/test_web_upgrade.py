"""Share links made before document version 2 keep working, and questions on a stored
analysis are answered from its warm re-analysis (webapp.web.reanalysis).

The version-1 document is real: `tests/data/v1-03-db-ingress-and-egress-with-app.json`
is the golden file of that sample as the version-1 builder wrote it (commit 2977e00).
"""

from __future__ import annotations

import json
import logging
import time
import tracemalloc
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browserfixtures import ServerProcess, running_server
from flask import Flask
from flask.testing import FlaskClient
from webfixtures import ARTICLE, make_app, upload

from webapp.core import analyze
from webapp.core.document import VERSION
from webapp.core.input.raw import SourceText
from webapp.outputs.jsonout import document_bytes
from webapp.web import reanalysis
from webapp.web.analysis import to_json
from webapp.web.reanalysis import Warm
from webapp.web.storage import Storage

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = "03-db-ingress-and-egress-with-app"
V1_DOCUMENT = Path(__file__).resolve().parent / "data" / f"v1-{SCENARIO}.json"
UPGRADED = "upgraded from document version 1 to 2"
REANALYSED = "re-analysed from its stored input"
BACKEND = "default/Deployment/backend"
MYSQL = "default/Deployment/mysql"


def sample_sources() -> list[SourceText]:
    """Named as the CLI named them when the golden was written (paths from the repository)."""
    folder = ROOT / "sample-manifests" / SCENARIO
    return [
        SourceText(f"sample-manifests/{SCENARIO}/{path.name}", path.read_bytes())
        for path in sorted(folder.glob("*.yaml"))
    ]


@pytest.fixture(scope="module")
def sample() -> tuple[str, dict[str, Any]]:
    """The sample's stored input, and the version-2 document a fresh upload of it gets."""
    analysis = analyze(sample_sources())
    return to_json(analysis.sanitized), json.loads(to_json(analysis.document))


def store_v1(database: str | Path, stored_input: str) -> str:
    """A row as a server before version 2 wrote it: the version-1 document and its input."""
    storage = Storage(database)
    try:
        return storage.save(V1_DOCUMENT.read_text(encoding="utf-8"), stored_input, "0.9.0").id
    finally:
        storage.close()


def stored_document(database: str | Path, analysis_id: str) -> dict[str, Any]:
    storage = Storage(database)
    try:
        stored = storage.load(analysis_id)
    finally:
        storage.close()
    assert stored is not None
    return json.loads(stored.document)  # type: ignore[no-any-return]


def get(server: ServerProcess, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(server.url + path, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def log_count(server: ServerProcess, text: str) -> int:
    return server.log.read_text(encoding="utf-8", errors="replace").count(text)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("upgrade-server")) as running:
        yield running


def test_the_version_1_document_is_real() -> None:
    document = json.loads(V1_DOCUMENT.read_text(encoding="utf-8"))
    assert document["version"] == 1 and "groups" not in document
    assert len(document["flows"]) == document["summary"]["flows"] == 22


ROUTES = {
    "api-read": "/api/v1/analyses/{id}",
    "page": "/a/{id}",
    "report": "/a/{id}/report",
    "export-json": "/api/v1/analyses/{id}/export.json",
    "export-csv": "/api/v1/analyses/{id}/export.csv",
    "export-md": "/api/v1/analyses/{id}/export.md",
    "export-dot": "/api/v1/analyses/{id}/export.dot",
    "export-html": "/api/v1/analyses/{id}/export.html",
    "export-review-md": "/api/v1/analyses/{id}/export.review.md",
}


DRAWN_BY_OTHER_BRANCHES = {"/a/{id}", "/api/v1/analyses/{id}/export.html"}
"""Routes whose version-2 drawing (webapp.render, the diagram helper's branch) may still
fail on a fresh upload too: there the link must answer as a fresh upload does."""


@pytest.fixture(scope="module")
def fresh_id(server: ServerProcess) -> str:
    files = sorted((ROOT / "sample-manifests" / SCENARIO).glob("*.yaml"))
    return str(server.post_analysis([(f.name, f.read_bytes()) for f in files])["id"])


@pytest.mark.parametrize("route", ROUTES.values(), ids=ROUTES.keys())
def test_a_version_1_share_link_opens_as_version_2_and_is_upgraded_once(
    server: ServerProcess, sample: tuple[str, dict[str, Any]], fresh_id: str, route: str
) -> None:
    stored_input, fresh = sample
    analysis_id = store_v1(server.database, stored_input)
    before = log_count(server, UPGRADED)

    status, body = get(server, route.format(id=analysis_id))
    if route in DRAWN_BY_OTHER_BRANCHES:
        assert status == get(server, route.format(id=fresh_id))[0]
    else:
        assert status == 200
    upgraded = stored_document(server.database, analysis_id)
    # Written back as a fresh upload of the same manifests would have it, rule excerpts too.
    assert upgraded["version"] == VERSION
    assert upgraded == fresh
    if route.endswith(("/analyses/{id}", "export.json")):
        assert json.loads(body) == fresh

    # Done once: reading it again serves the stored version 2 as it is, in the one written form.
    assert get(server, f"/api/v1/analyses/{analysis_id}") == (200, document_bytes(fresh))
    get(server, route.format(id=analysis_id))
    assert log_count(server, UPGRADED) == before + 1


def test_a_version_1_share_link_answers_why_from_its_stored_input(
    server: ServerProcess, sample: tuple[str, dict[str, Any]]
) -> None:
    analysis_id = store_v1(server.database, sample[0])
    status, body = get(
        server, f"/api/v1/analyses/{analysis_id}/query?from={BACKEND}&to={MYSQL}&port=3306"
    )
    assert status == 200
    assert json.loads(body)["allowed"] is True


def test_a_second_question_is_answered_without_re_analysing(server: ServerProcess) -> None:
    created = server.post_analysis([("article.yaml", ARTICLE.encode())])
    before = log_count(server, REANALYSED)
    answers = set()
    for port in (3306, 3306, 80):
        status, body = get(
            server,
            f"/api/v1/analyses/{created['id']}/query?from={BACKEND}&to={MYSQL}&port={port}",
        )
        assert status == 200
        answers.add(json.loads(body)["allowed"])
    assert answers == {True, False}
    assert log_count(server, REANALYSED) == before + 1


# --- the same through the Flask app: counts, delete, bounds -------------------------------


def query(client: FlaskClient, analysis_id: str, **params: Any) -> Any:
    return client.get(f"/api/v1/analyses/{analysis_id}/query", query_string=params)


def warm(app: Flask) -> Warm:
    return app.extensions["netpol_warm"]  # type: ignore[no-any-return]


def test_questions_re_analyse_once_and_a_delete_forgets_the_analysis(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="webapp.web.reanalysis")
    created = upload(client, ("article.yaml", ARTICLE)).get_json()
    for _ in range(3):
        assert query(client, created["id"], **{"from": BACKEND, "to": MYSQL}).status_code == 200
    assert warm(app).analyses == 1
    assert caplog.text.count(REANALYSED) == 1

    response = client.delete(
        f"/api/v1/analyses/{created['id']}", headers={"X-Delete-Token": created["deleteToken"]}
    )
    assert response.status_code == 204
    assert warm(app).peek(created["id"]) is None
    assert query(client, created["id"], **{"from": BACKEND, "to": MYSQL}).status_code == 404


def test_an_analysis_deleted_through_another_process_is_not_answered_from_memory(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    created = upload(client, ("article.yaml", ARTICLE)).get_json()
    assert query(client, created["id"], **{"from": BACKEND, "to": MYSQL}).status_code == 200
    other = make_app(tmp_path, {"DATABASE": app.config["DATABASE"]}).test_client()
    response = other.delete(
        f"/api/v1/analyses/{created['id']}", headers={"X-Delete-Token": created["deleteToken"]}
    )
    assert response.status_code == 204
    assert warm(app).peek(created["id"]) is not None  # still warm here, yet:
    assert query(client, created["id"], **{"from": BACKEND, "to": MYSQL}).status_code == 404


@pytest.mark.parametrize(
    ("entries", "max_bytes", "kept"),
    [
        pytest.param(2, 10**9, ["a", "c"], id="by-count-least-recently-used-out"),
        pytest.param(10, 2 * len("[]") * reanalysis.BYTES_PER_INPUT_BYTE, ["a", "c"],
                     id="by-size-least-recently-used-out"),
        pytest.param(10, 1, [], id="too-large-to-keep-is-still-answered"),
    ],
)
def test_warm_analyses_are_bounded(
    monkeypatch: pytest.MonkeyPatch, entries: int, max_bytes: int, kept: list[str]
) -> None:
    built: list[str] = []

    def analyze_stored(stored: Any) -> str:
        built.append("x")
        return f"analysis {len(built)}"

    monkeypatch.setattr(reanalysis, "analyze_stored", analyze_stored)
    cache = Warm(entries, max_bytes)
    for key in ("a", "b", "a", "c"):
        cache.analysis(key, lambda: "[]")
    assert [key for key in "abc" if cache.peek(key) is not None] == kept
    assert cache.analyses == len(built) == 3 + (kept == [])


def test_a_failing_re_analysis_is_a_500_that_shows_no_internals(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = upload(client, ("article.yaml", ARTICLE)).get_json()

    def fail(_stored: Any) -> None:
        raise RuntimeError("Traceback (most recent call last): secret")

    monkeypatch.setattr(reanalysis, "analyze_stored", fail)
    response = query(client, created["id"], **{"from": BACKEND, "to": MYSQL})
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret" not in body and "Traceback" not in body


# --- rows that cannot be re-analysed are migrated as they stand ---------------------------


@pytest.mark.parametrize(
    "stored_input",
    [pytest.param("", id="stored-without-input"), pytest.param("[]", id="input-now-unusable")],
)
def test_a_version_1_row_without_a_usable_input_is_migrated_as_it_stands(
    app: Flask, client: FlaskClient, stored_input: str
) -> None:
    analysis_id = store_v1(app.config["DATABASE"], stored_input)
    old = json.loads(V1_DOCUMENT.read_text(encoding="utf-8"))

    response = client.get(f"/api/v1/analyses/{analysis_id}")
    assert response.status_code == 200
    document = response.get_json()
    assert document["version"] == VERSION
    assert [g["nodes"] for g in document["groups"]] == [[n["id"]] for n in old["nodes"]]
    assert [n["group"] for n in document["nodes"]] == [n["id"] for n in old["nodes"]]
    assert [(f["source"], f["target"], f["pairs"]) for f in document["flows"]] == [
        (f["source"], f["target"], 1) for f in old["flows"]
    ]
    assert document["summary"]["pairs"] == document["summary"]["flows"] == 22
    assert document["policies"] == old["policies"]
    assert stored_document(app.config["DATABASE"], analysis_id) == document
    for path in (f"/a/{analysis_id}", f"/a/{analysis_id}/report"):
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize(
    ("text", "version"),
    [
        pytest.param('{"version": 2, "nodes": []}', 2, id="leading"),
        pytest.param('{"nodes": [], "version": 1}', 1, id="not-leading"),
        pytest.param("{}", None, id="none"),
        pytest.param("[1]", None, id="not-an-object"),
    ],
)
def test_document_version(text: str, version: int | None) -> None:
    assert reanalysis.document_version(text) == version


# --- at scale: answers from groups, not from node pairs -----------------------------------


def bare_pods(count: int) -> str:
    return "".join(
        f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: default}}\n"
        "spec: {containers: [{name: c, image: i}]}\n"
        for i in range(count)
    )


def test_2000_bare_pods_are_served_and_asked_from_groups(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"ANALYSIS_CPU_LIMIT": 0})  # inline, so tracemalloc sees it all
    client = app.test_client()
    created = upload(client, ("pods.yaml", bare_pods(2000))).get_json()
    tracemalloc.start()
    try:
        started = time.monotonic()
        document = client.get(f"/api/v1/analyses/{created['id']}").get_json()
        answers = [
            query(client, created["id"], **{"from": f"default/p{a}", "to": f"default/p{b}"})
            for a, b in ((0, 1999), (1234, 17), (5, 6))
        ]
        elapsed = time.monotonic() - started
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    workloads = sum(1 for n in document["nodes"] if n["type"] == "workload")
    assert workloads == 2000
    assert len(document["flows"]) <= 3
    assert document["summary"]["pairs"] >= 2000 * 1999
    assert all(a.status_code == 200 and a.get_json()["allowed"] for a in answers)
    assert warm(app).analyses == 1
    # 4 million pairs would be gigabytes and minutes; from groups it is a re-analysis.
    assert peak < 200 * 2**20, peak
    assert elapsed < 60, elapsed


def test_the_report_is_built_once_per_analysis_and_forgotten_on_delete(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webapp.web import report

    built: list[str] = []
    real = report.report_data

    def counted(document: Any) -> Any:
        built.append(document["version"])
        return real(document)

    monkeypatch.setattr(report, "report_data", counted)
    created = upload(client, ("article.yaml", ARTICLE)).get_json()
    pages = [client.get(f"/a/{created['id']}/report") for _ in range(3)]
    assert [p.status_code for p in pages] == [200] * 3
    assert len({p.get_data() for p in pages}) == 1
    assert built == [VERSION]
    response = client.delete(
        f"/api/v1/analyses/{created['id']}", headers={"X-Delete-Token": created["deleteToken"]}
    )
    assert response.status_code == 204
    assert client.get(f"/a/{created['id']}/report").status_code == 404
    assert built == [VERSION]
