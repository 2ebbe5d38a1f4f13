"""Faults and safety of the web app (issue 7), as a user or another site sees them.

- A database that cannot be reached: 503 with Retry-After for every route that
  needs it, decided before an upload is analysed; never a 500.
- A browser request from another site never creates or deletes anything (403).
- Redirects never name the Host the request claimed.
- The too-many-parts refusal names the number of parts the server accepts.

Real server processes (`python -m webapp serve`) answer raw HTTP (http.client);
the cross-site journeys run in headless Chromium from a page of another origin.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import os
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from browserfixtures import REPO, ServerProcess, free_port
from flask.testing import FlaskClient
from webfixtures import ARTICLE, POLICY_ONLY, make_app, postgres_url, upload

import webapp
from webapp.web import analysis as runner
from webapp.web.samples import list_samples

WELL_FORMED = "A" * 32
"""A well-formed share id that no database holds."""
OTHER = "B" * 32
SAMPLE = list_samples(webapp.data_dir("sample-manifests"))[0].slug
BOUNDARY = "netpol-viz-safety-boundary"


# --- raw HTTP against a real server --------------------------------------------------


def multipart(fields: Mapping[str, str], files: Mapping[str, tuple[str, str]] = {}) -> bytes:  # noqa: B006
    """A multipart/form-data body: text `fields`, and `files` as field -> (file name, content)."""
    body = b""
    for name, value in fields.items():
        body += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    for name, (filename, content) in files.items():
        body += (
            f"--{BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: application/yaml\r\n\r\n{content}\r\n"
        ).encode()
    return body + f"--{BOUNDARY}--\r\n".encode()


FORM = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def call(
    port: int, method: str, path: str, body: bytes = b"", headers: Mapping[str, str] = {}  # noqa: B006
) -> tuple[int, dict[str, str], bytes]:
    """One raw HTTP request: status, headers (lower-case names), body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body or None, headers=dict(headers))
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@contextlib.contextmanager
def serving(directory: Path, database: str) -> Iterator[ServerProcess]:
    """`netpol-viz serve` on `database` (a path or URL), whatever state that database is in."""
    directory.mkdir(parents=True, exist_ok=True)
    server = ServerProcess(database=database, log=directory / "server.log")  # type: ignore[arg-type]
    server.start()
    try:
        yield server
    finally:
        server.stop()


def stored_count(database: Path) -> int:
    with contextlib.closing(sqlite3.connect(database)) as connection:
        return int(connection.execute("SELECT COUNT(*) FROM analyses").fetchone()[0])


# --- 1. the database cannot be reached ---------------------------------------------------

ARTICLE_FILE = {"manifests": ("article.yaml", ARTICLE)}

# (id, method, path, body, headers, answered as JSON?)
NEEDS_THE_DATABASE = [
    pytest.param("POST", "/api/v1/analyses", multipart({}, ARTICLE_FILE), FORM, True,
                 id="api-create"),
    pytest.param("POST", "/api/v1/analyses", ARTICLE.encode(), {}, True, id="api-create-raw"),
    pytest.param("GET", f"/api/v1/analyses/{WELL_FORMED}", b"", {}, True, id="api-read"),
    pytest.param("DELETE", f"/api/v1/analyses/{WELL_FORMED}", b"",
                 {"X-Delete-Token": "x" * 43}, True, id="api-delete"),
    pytest.param("GET", f"/api/v1/analyses/{WELL_FORMED}/export.json", b"", {}, True,
                 id="api-export"),
    pytest.param("GET", f"/api/v1/analyses/{WELL_FORMED}/query?from=a&to=b", b"", {}, True,
                 id="api-query"),
    pytest.param("GET", f"/api/v1/diff/{WELL_FORMED}/{OTHER}", b"", {}, True, id="api-diff"),
    pytest.param("GET", f"/a/{WELL_FORMED}", b"", {}, False, id="share-page"),
    pytest.param("GET", f"/a/{WELL_FORMED}/report", b"", {}, False, id="report-page"),
    pytest.param("GET", f"/diff/{WELL_FORMED}/{OTHER}", b"", {}, False, id="diff-page"),
    pytest.param("POST", "/upload", multipart({"text": ARTICLE}), FORM, False, id="upload-form"),
    pytest.param("POST", "/diff", multipart({"before_text": ARTICLE, "after_text": POLICY_ONLY}),
                 FORM, False, id="diff-form"),
    pytest.param("GET", f"/samples/{SAMPLE}", b"", {}, False, id="sample"),
]


def assert_unavailable(status: int, headers: dict[str, str], body: bytes, as_json: bool) -> None:
    assert status == 503, body[:500]
    assert int(headers["retry-after"]) > 0
    text = body.decode("utf-8")
    assert "Traceback" not in text and "sqlalchemy" not in text.lower()
    if as_json:
        assert headers["content-type"].startswith("application/json")
        answer = json.loads(text)
        assert set(answer) == {"error", "problems"}
        assert "database" in answer["error"] and "try again" in answer["error"]
    else:
        assert headers["content-type"].startswith("text/html")
        assert "<h1>503</h1>" in text and "try again" in text


def unreachable_postgres() -> str:
    """A PostgreSQL URL on a loopback port where nothing listens."""
    return f"postgresql://netpol:secret-pw@127.0.0.1:{free_port()}/netpol"


@pytest.fixture(scope="module")
def server_without_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serving(tmp_path_factory.mktemp("no-postgres"), unreachable_postgres()) as server:
        yield server


@pytest.mark.parametrize(("method", "path", "body", "headers", "as_json"), NEEDS_THE_DATABASE)
def test_postgresql_with_nothing_listening_is_503_with_retry_after(
    server_without_postgres: ServerProcess,
    method: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
    as_json: bool,
) -> None:
    assert_unavailable(*call(server_without_postgres.port, method, path, body, headers), as_json)
    log = server_without_postgres.tail(100_000)
    assert "Traceback" not in log
    assert "secret-pw" not in log  # the URL is never logged with its password


def test_the_server_still_says_where_it_stores_without_the_password(
    server_without_postgres: ServerProcess,
) -> None:
    log = server_without_postgres.tail(100_000)
    assert "analyses are stored in postgresql+psycopg://netpol:***@127.0.0.1:" in log
    assert "unreachable at start" in log


@pytest.mark.parametrize(("method", "path", "body", "headers", "as_json"), NEEDS_THE_DATABASE)
def test_an_unreachable_database_is_found_before_any_analysis_runs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
    as_json: bool,
) -> None:
    runs: list[int] = []
    real_run = runner.run

    def counted(*args: Any, **kwargs: Any) -> runner.Result:
        runs.append(1)
        return real_run(*args, **kwargs)

    monkeypatch.setattr(runner, "run", counted)
    settings = {
        "DATABASE": unreachable_postgres(),
        "SAMPLES_DIR": str(webapp.data_dir("sample-manifests")),
    }
    client = make_app(tmp_path, settings).test_client()
    response = client.open(path, method=method, data=body, headers=headers)
    assert_unavailable(
        response.status_code,
        {k.lower(): v for k, v in response.headers.items()},
        response.get_data(),
        as_json,
    )
    assert runs == []


def test_sqlite_in_a_folder_that_cannot_exist_is_503_until_it_can(tmp_path: Path) -> None:
    """The folder of the SQLite file is a regular file: nothing can be opened (root or not)."""
    blocker = tmp_path / "data"
    blocker.write_text("not a folder\n")
    database = blocker / "netpol-viz.sqlite3"
    with serving(tmp_path / "server", str(database)) as server:
        for method, path, body, headers, as_json in (p.values for p in NEEDS_THE_DATABASE):
            assert_unavailable(*call(server.port, method, path, body, headers), as_json)
        # The folder becomes usable: the same process creates the schema and stores.
        blocker.unlink()
        blocker.mkdir()
        status, _, body = call(server.port, "POST", "/api/v1/analyses", ARTICLE.encode())
        assert status == 201, body[:500]
        created = json.loads(body)
        assert call(server.port, "GET", f"/api/v1/analyses/{created['id']}")[0] == 200
        assert "Traceback" not in server.tail(100_000)
    assert stored_count(database) == 1


def postgres_binaries() -> bool:
    return any(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))


@pytest.mark.postgres
@pytest.mark.slow
def test_stopping_postgresql_under_a_running_server_is_503_not_500(tmp_path: Path) -> None:
    """A throwaway PostgreSQL of this test's own (the shared test server is never stopped)."""
    if not postgres_binaries():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL server binaries are missing under CI")
        pytest.skip("PostgreSQL server binaries are not installed")
    started = subprocess.run(
        ["bash", str(REPO / ".ci" / "postgres.sh")],
        capture_output=True, text=True, timeout=180, check=True,
    )
    exports = dict(
        line.removeprefix("export ").split("=", 1) for line in started.stdout.splitlines()
    )
    url, directory = (exports[k].strip("'") for k in ("NETPOL_TEST_DATABASE_URL", "NETPOL_PG_DIR"))
    stopped = False
    try:
        with serving(tmp_path, url) as server:
            status, _, body = call(server.port, "POST", "/api/v1/analyses", ARTICLE.encode())
            assert status == 201, body[:500]
            analysis_id = json.loads(body)["id"]
            assert call(server.port, "GET", f"/a/{analysis_id}")[0] == 200
            subprocess.run(["bash", str(REPO / ".ci" / "postgres.sh"), "stop", directory],
                           capture_output=True, timeout=120, check=True)
            stopped = True
            for method, path, body, headers, as_json in (
                ("GET", f"/api/v1/analyses/{analysis_id}", b"", {}, True),
                ("GET", f"/a/{analysis_id}", b"", {}, False),
                ("POST", "/api/v1/analyses", ARTICLE.encode(), {}, True),
                ("DELETE", f"/api/v1/analyses/{analysis_id}", b"", {"X-Delete-Token": "x"}, True),
            ):
                assert_unavailable(*call(server.port, method, path, body, headers), as_json)
            assert "Traceback" not in server.tail(100_000)
    finally:
        if not stopped:
            subprocess.run(["bash", str(REPO / ".ci" / "postgres.sh"), "stop", directory],
                           capture_output=True, timeout=120)
