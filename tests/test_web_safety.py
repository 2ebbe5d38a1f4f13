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
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from browserfixtures import REPO, ServerProcess, free_port, running_server
from flask.testing import FlaskClient
from webfixtures import ARTICLE, POLICY_ONLY, make_app, upload

import webapp
from webapp.web import analysis as runner
from webapp.web.samples import list_samples

WELL_FORMED = "A" * 32
"""A well-formed share id that no database holds."""
OTHER = "B" * 32
SAMPLE = list_samples(webapp.data_dir("sample-manifests"))[0].slug
BOUNDARY = "netpol-viz-safety-boundary"


# --- raw HTTP against a real server --------------------------------------------------


def multipart(
    fields: Mapping[str, str], files: Mapping[str, tuple[str, str]] | None = None
) -> bytes:
    """A multipart/form-data body: text `fields`, and `files` as field -> (file name, content)."""
    body = b""
    for name, value in fields.items():
        body += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    for name, (filename, content) in (files or {}).items():
        body += (
            f"--{BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: application/yaml\r\n\r\n{content}\r\n"
        ).encode()
    return body + f"--{BOUNDARY}--\r\n".encode()


FORM = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def call(
    port: int, method: str, path: str, body: bytes = b"", headers: Mapping[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One raw HTTP request: status, headers (lower-case names), body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body or None, headers=dict(headers or {}))
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


# --- 2. a page of another site creates and deletes nothing ------------------------------


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real server for raw HTTP (the `server` fixture skips without Chromium)."""
    with running_server(tmp_path_factory.mktemp("app-server")) as running:
        yield running


def cross_site_cases(port: int) -> list[Any]:
    own = f"http://127.0.0.1:{port}"
    return [
        ({}, 201, "no-fetch-metadata-no-origin-like-curl"),
        ({"Sec-Fetch-Site": "same-origin"}, 201, "fetch-site-same-origin"),
        ({"Sec-Fetch-Site": "none"}, 201, "fetch-site-none-typed-by-the-user"),
        ({"Sec-Fetch-Site": "same-site"}, 403, "fetch-site-same-site-another-port"),
        ({"Sec-Fetch-Site": "cross-site"}, 403, "fetch-site-cross-site"),
        ({"Sec-Fetch-Site": "cross-site", "Origin": own}, 403, "fetch-site-wins-over-origin"),
        ({"Origin": own}, 201, "origin-own"),
        ({"Origin": f"http://127.0.0.1:{port}/"}, 201, "origin-own-with-slash"),
        ({"Origin": f"http://localhost:{port}"}, 403, "origin-other-host-same-port"),
        ({"Origin": f"http://127.0.0.1:{port + 1}"}, 403, "origin-other-port"),
        ({"Origin": f"https://127.0.0.1:{port}"}, 403, "origin-other-scheme"),
        ({"Origin": "https://evil.example"}, 403, "origin-other-site"),
        ({"Origin": "null"}, 403, "origin-null-sandboxed-page"),
    ]


def test_state_changing_requests_from_another_site_are_refused(
    app_server: ServerProcess,
) -> None:
    """Raw HTTP with the headers a browser sends; every refusal leaves the database as it was."""
    server = app_server
    port = server.port
    for headers, expected, case in cross_site_cases(port):
        before = stored_count(server.database)
        requests = [
            ("POST", "/api/v1/analyses", multipart({}, ARTICLE_FILE), FORM, True),
            ("POST", "/api/v1/analyses", ARTICLE.encode(), {}, True),
            ("POST", "/upload", multipart({"text": ARTICLE}), FORM, False),
            ("POST", "/diff", multipart({"before_text": ARTICLE, "after_text": POLICY_ONLY}),
             FORM, False),
        ]
        for method, path, body, content_type, as_json in requests:
            status, _, answer = call(port, method, path, body, {**content_type, **headers})
            if expected == 403:
                assert status == 403, (case, path, answer[:300])
                if as_json:
                    assert "another site" in json.loads(answer)["error"], case
                else:
                    assert "another site" in answer.decode(), case
            else:
                assert status in (201, 303), (case, path, status, answer[:300])
        created = 0 if expected == 403 else 5  # create twice, upload once, diff twice
        assert stored_count(server.database) == before + created, case


def test_a_cross_site_delete_keeps_the_analysis(app_server: ServerProcess) -> None:
    server = app_server
    created = server.post_analysis([("a.yaml", POLICY_ONLY.encode())])
    path = f"/api/v1/analyses/{created['id']}"
    token = {"X-Delete-Token": created["deleteToken"]}
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
        status, _, answer = call(server.port, "DELETE", path, headers={**token, **headers})
        assert status == 403 and "another site" in json.loads(answer)["error"]
        assert call(server.port, "GET", path)[0] == 200
    assert call(server.port, "DELETE", path, headers=token)[0] == 204
    assert call(server.port, "GET", path)[0] == 404


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        pytest.param("https://netpol.example.org", 201, id="base-url-origin"),
        pytest.param("https://NETPOL.example.org:443", 201, id="base-url-origin-default-port"),
        pytest.param("http://localhost", 403, id="the-host-header-origin-is-not-base-url"),
        pytest.param("https://netpol.example.org.evil.example", 403, id="suffix-trick"),
    ],
)
def test_origin_is_compared_with_base_url_when_set(
    tmp_path: Path, origin: str, expected: int
) -> None:
    client = make_app(tmp_path, {"BASE_URL": "https://netpol.example.org/tools/"}).test_client()
    response = upload(client, ("a.yaml", POLICY_ONLY), headers={"Origin": origin})
    assert response.status_code == expected


def test_reading_is_never_refused_for_its_origin(client: FlaskClient, created: dict) -> None:
    """Links from a ticket (another site) to a share page must open."""
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://tickets.example"}):
        for path in (f"/a/{created['id']}", f"/api/v1/analyses/{created['id']}", "/"):
            assert client.get(path, headers=headers).status_code == 200


class AttackerPage(http.server.BaseHTTPRequestHandler):
    """Pages of another origin that make the browser post to the app."""

    target = ""

    def do_GET(self) -> None:
        api, upload_url = f"{self.target}/api/v1/analyses", f"{self.target}/upload"
        article = json.dumps(ARTICLE)
        pages = {
            "/form": (
                f'<form id="f" method="post" action="{upload_url}" enctype="multipart/form-data">'
                f'<textarea name="text">{ARTICLE}</textarea></form>'
                "<script>document.getElementById('f').submit()</script>"
            ),
            "/api-form": (
                f'<form id="f" method="post" action="{api}">'
                f'<textarea name="text">{ARTICLE}</textarea></form>'
                "<script>document.getElementById('f').submit()</script>"
            ),
            "/fetch": (
                "<script>const body = new FormData();"
                f"body.append('manifests', new Blob([{article}]), 'a.yaml');"
                f"fetch('{api}', {{method: 'POST', mode: 'no-cors', body}})"
                ".then(() => { document.title = 'sent'; }, () => { document.title = 'failed'; });"
                "</script>"
            ),
        }
        page = pages.get(self.path)
        self.send_response(200 if page else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(f"<!doctype html><title>attacker</title>{page or ''}".encode())

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def attacker_site(target: str) -> Iterator[int]:
    handler = type("Handler", (AttackerPage,), {"target": target})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.browser
@pytest.mark.parametrize(
    "attacker_host",
    [
        pytest.param("localhost", id="cross-site"),
        pytest.param("127.0.0.1", id="same-site-other-port"),
    ],
)
def test_a_page_of_another_site_cannot_upload_in_chromium(
    context: Any, server: ServerProcess, attacker_host: str
) -> None:
    before = stored_count(server.database)
    page = context.new_page()
    with attacker_site(server.url) as port:
        attacker = f"http://{attacker_host}:{port}"
        for path, landing in (("/form", "/upload"), ("/api-form", "/api/v1/analyses")):
            with page.expect_navigation(url=server.url + landing) as navigation:
                page.goto(attacker + path)
            response = navigation.value
            assert response.status == 403
            assert "another site" in page.content()
        page.goto(attacker + "/fetch")
        page.wait_for_function("() => document.title !== 'attacker'")
        assert page.title() == "sent"  # the request left the browser; the server refused it
    assert stored_count(server.database) == before
    # Control: the same fetch from the app's own page stores an analysis.
    page.goto(server.url + "/")
    page.evaluate(
        """async (article) => {
             const body = new FormData();
             body.append('manifests', new Blob([article]), 'a.yaml');
             const response = await fetch('/api/v1/analyses', {method: 'POST', body});
             if (response.status !== 201) throw new Error('status ' + response.status);
           }""",
        ARTICLE,
    )
    assert stored_count(server.database) == before + 1
    page.close()


# --- 4. no Location built from Host; the parts limit named -------------------------------


def test_no_location_names_a_forged_host(app: Any, client: FlaskClient) -> None:
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    answers = {
        "upload-redirect": client.post("/upload", data={"text": ARTICLE}, headers=forged),
        "sample-redirect": client.get("/samples/article", headers=forged),
        "diff-redirect": client.post(
            "/diff", data={"before_text": ARTICLE, "after_text": POLICY_ONLY}, headers=forged
        ),
        "api-create-location": client.post("/api/v1/analyses", data=ARTICLE, headers=forged),
        "merged-slashes": client.get("/a//" + WELL_FORMED, headers=forged),
        "merged-slashes-static": client.get("/static//style.css", headers=forged),
        "merged-slashes-with-query": client.get(f"/a//{WELL_FORMED}?view=matrix", headers=forged),
    }
    for case, response in answers.items():
        location = response.headers.get("Location")
        assert location, (case, response.status_code)
        assert "evil" not in location, (case, location)
        assert location.startswith("/") and not location.startswith("//"), (case, location)
    assert answers["merged-slashes"].headers["Location"] == f"/a/{WELL_FORMED}"
    assert answers["merged-slashes-with-query"].headers["Location"] == (
        f"/a/{WELL_FORMED}?view=matrix"
    )


def test_too_many_form_parts_names_the_parts_limit(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"MAX_DOCUMENTS": 10})
    limit = app.config["MAX_FORM_PARTS"]
    client = app.test_client()
    files = [(f"p{i}.yaml", POLICY_ONLY.replace("deny-all", f"p{i}")) for i in range(limit + 1)]
    response = upload(client, *files)
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert f"more than {limit:,} form parts" in error and "MiB" not in error
    page = client.post("/upload", data={"manifests": [
        (__import__("io").BytesIO(content.encode()), name) for name, content in files
    ]})
    assert page.status_code == 413
    assert f"more than {limit:,} form parts" in page.get_data(as_text=True)


# --- 3. limits that take a 20,000-pod export --------------------------------------------


def test_default_limits_take_an_export_the_size_of_20000_pods(tmp_path: Path) -> None:
    """25,001 documents, 18.7 MiB: more than the old 16 MiB and 20,000 documents.

    ConfigMaps (dropped after reading) stand in for the pods, so the test
    measures the limits, not the evaluation of 20,000 pods.
    """
    app = make_app(tmp_path, {"ANALYSIS_CPU_LIMIT": 0})
    assert app.config["MAX_UPLOAD_BYTES"] == 128 * 1024 * 1024
    assert app.config["MAX_DOCUMENTS"] == 200_000
    padding = "# " + "x" * 700 + "\n"
    export = POLICY_ONLY + "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: default}}\n"
        + padding
        for i in range(25_000)
    )
    assert len(export) > 18 * 1024 * 1024
    response = upload(app.test_client(), ("export.yaml", export))
    assert response.status_code == 201, response.get_json()["error"]
    assert [p["id"] for p in response.get_json()["analysis"]["policies"]] == ["default/deny-all"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("134217728", 134217728, id="bytes"),
        pytest.param("256MiB", 256 * 1024 * 1024, id="mib"),
        pytest.param("512 KiB", 512 * 1024, id="kib-with-space"),
        pytest.param("1GiB", 1024**3, id="gib"),
        pytest.param("12B", 12, id="b"),
    ],
)
def test_max_upload_bytes_from_the_environment(text: str, expected: int) -> None:
    from webapp.web import config_from_env

    assert config_from_env({"NETPOL_MAX_UPLOAD_BYTES": text}) == {"MAX_UPLOAD_BYTES": expected}


@pytest.mark.parametrize("text", ["0", "-5", "lots", "1.5MiB", "10MB", "10 mib"])
def test_a_bad_max_upload_bytes_is_refused_naming_the_variable(text: str) -> None:
    from webapp.web import config_from_env

    with pytest.raises(ValueError, match="NETPOL_MAX_UPLOAD_BYTES"):
        config_from_env({"NETPOL_MAX_UPLOAD_BYTES": text})


# --- 5. `netpol-viz serve`: where the database is, and the environment ---------------------


@dataclass
class ServeCommand(ServerProcess):
    """`python -m webapp serve` in an environment of the test's own (through env(1))."""

    env: dict[str, str] = field(default_factory=dict)
    arguments: tuple[str, ...] = ()

    def command(self) -> list[str]:
        unset = [f"--unset={name}" for name in os.environ if name.startswith(("XDG_", "NETPOL_"))]
        assigned = [f"{name}={value}" for name, value in self.env.items()]
        serve = ["-m", "webapp", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        return ["env", *unset, *assigned, sys.executable, *serve, *self.arguments]


@contextlib.contextmanager
def serve_process(
    tmp_path: Path, env: Mapping[str, str], *arguments: str
) -> Iterator[tuple[int, Path]]:
    """`netpol-viz serve` with HOME in `tmp_path`, no XDG_ or NETPOL_ variable but `env`."""
    log = tmp_path / "serve.log"
    server = ServeCommand(
        database=Path("unused"),
        log=log,
        env={"HOME": str(tmp_path / "home"), **env},
        arguments=arguments,
    )
    server.start()
    try:
        yield server.port, log
    finally:
        server.stop()


SERVE_CASES = [
    pytest.param({"XDG_DATA_HOME": "{tmp}/xdg"}, (), "xdg/netpol-viz/netpol-viz.sqlite3",
                 id="xdg-data-home"),
    pytest.param({}, (), "home/.local/share/netpol-viz/netpol-viz.sqlite3", id="home-fallback"),
    pytest.param({"NETPOL_DATABASE": "{tmp}/env.sqlite3"}, (), "env.sqlite3",
                 id="netpol-database-overrides-the-default"),
    pytest.param({"NETPOL_DATABASE": "{tmp}/env.sqlite3"}, ("--database", "{tmp}/flag.sqlite3"),
                 "flag.sqlite3", id="database-option-overrides-netpol-database"),
]


@pytest.mark.parametrize(("env", "arguments", "expected"), SERVE_CASES)
def test_serve_prints_its_url_and_database_and_creates_it_there(
    tmp_path: Path, env: dict[str, str], arguments: tuple[str, ...], expected: str
) -> None:
    env = {k: v.replace("{tmp}", str(tmp_path)) for k, v in env.items()}
    arguments = tuple(a.replace("{tmp}", str(tmp_path)) for a in arguments)
    with serve_process(tmp_path, env, *arguments) as (port, log):
        status, _, body = call(port, "POST", "/api/v1/analyses", ARTICLE.encode())
        assert status == 201, body[:300]
        printed = log.read_text()
    database = tmp_path / expected
    assert f"http://127.0.0.1:{port}/" in printed
    assert f"analyses are stored in {database}" in printed
    assert stored_count(database) == 1
    assert [p.name for p in tmp_path.rglob("*.sqlite3")] == [database.name]


def test_serve_reads_the_upload_limit_from_the_environment(tmp_path: Path) -> None:
    with serve_process(tmp_path, {"NETPOL_MAX_UPLOAD_BYTES": "1KiB"}) as (port, _):
        status, _, body = call(port, "POST", "/api/v1/analyses", (POLICY_ONLY * 20).encode())
    assert status == 413
    assert "the limit is 1 KiB" in json.loads(body)["error"]


def test_serve_refuses_a_bad_upload_limit_with_exit_2(tmp_path: Path) -> None:
    environ = {**os.environ, "HOME": str(tmp_path), "NETPOL_MAX_UPLOAD_BYTES": "lots"}
    result = subprocess.run(
        [sys.executable, "-m", "webapp", "serve", "--port", str(free_port())],
        cwd=REPO, env=environ, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "NETPOL_MAX_UPLOAD_BYTES" in result.stderr and "Traceback" not in result.stderr
