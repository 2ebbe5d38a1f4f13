"""The web app under load, against real server processes (issue 7).

- Analyses at once are bounded per process; one more is answered 503 with
  Retry-After at once, before its body is read: a capacity problem is never
  a client error.
- An analysis is limited by its CPU time, so waiting on a busy machine is
  not refused; over its CPU budget it is 413, saying so.
- A client that hangs up stops its analysis, and nothing is stored.
- A killed worker's analysis child exits quietly.
- The documented gunicorn deployment answers with idle and slow clients open.

The slow analyses are scripted (tests/loadfixtures.py): they sleep or burn
CPU on purpose, so no outcome depends on how busy the machine is.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loadfixtures import (
    MULTIPART,
    ONE_POLICY,
    REPO,
    Server,
    alive,
    idle_connection,
    pid_in,
    read_response,
    request,
    running,
    script,
    scripted_analysis,
    send_upload,
    slow_connection,
    upload,
    wait_for,
)
from webfixtures import make_app

from webapp.web import analysis as runner

pytestmark = pytest.mark.slow

SCRIPTED = "loadfixtures:scripted_app()"
BUDGET = {"NETPOL_ANALYSIS_CPU_LIMIT": "1", "NETPOL_ANALYSIS_WALL_LIMIT": "60"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One worker, two analyses at once, 1 s of CPU per analysis, a 60 s backstop."""
    directory = tmp_path_factory.mktemp("capacity")
    env = {"NETPOL_MAX_CONCURRENT_ANALYSES": "2", **BUDGET}
    with running(Server(directory, app=SCRIPTED, workers=1, env=env)) as started:
        yield started


def assert_gone(pid: int, within: float) -> None:
    assert wait_for(lambda: not alive(pid), within), f"analysis child {pid} still runs"


@contextlib.contextmanager
def held_slots(server: Server, tmp_path: Path, count: int) -> Iterator[list[int]]:
    """`count` uploads whose analyses sleep until their clients hang up (at the block's end)."""
    sockets, pids = [], []
    try:
        for index in range(count):
            pid_file = tmp_path / f"holder-{index}.pid"
            files = [("hold.yaml", script(f"pid {pid_file}", "sleep 120"))]
            sockets.append(send_upload(server.port, files))
            assert wait_for(lambda f=pid_file: pid_in(f) is not None, 30), server.tail()
            pids.append(pid_in(pid_file) or 0)
        yield pids
    finally:
        for sock in sockets:
            sock.close()
    for pid in pids:
        assert_gone(pid, 10)


def headers_only(server: Server, path: str, content_type: str) -> socket.socket:
    """A POST that announces a 100 kB body and sends none of it."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=15)
    sock.sendall(
        (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Origin: http://127.0.0.1:{server.port}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: 100000\r\n\r\n"
        ).encode()
    )
    return sock


# --- the bound ---------------------------------------------------------------------------


def test_beyond_the_bound_an_upload_is_503_with_retry_after_before_its_body_is_read(
    server: Server, tmp_path: Path
) -> None:
    status, _, body = upload(server.port, [("policy.yaml", ONE_POLICY)])
    assert status == 201
    analysis_id = json.loads(body)["id"]
    with held_slots(server, tmp_path, 2):
        for path, content_type, expected in (
            ("/api/v1/analyses", MULTIPART, "application/json"),
            ("/upload", MULTIPART, "text/html"),
        ):
            with contextlib.closing(headers_only(server, path, content_type)) as sock:
                status, headers, answer = read_response(sock)  # no body sent: 503 or timeout
            assert status == 503, (path, answer[:300])
            assert int(headers["retry-after"]) > 0
            assert headers["content-type"].startswith(expected)
            if expected == "application/json":
                assert json.loads(answer)["problems"] == []
                assert "busy" in json.loads(answer)["error"]
            else:
                assert b"busy" in answer
        for path in (
            f"/api/v1/analyses/{analysis_id}/query?from=default/a&to=10.0.0.1",
            f"/api/v1/analyses/{analysis_id}/export.html",
            f"/api/v1/diff/{analysis_id}/{analysis_id}",
        ):
            status, headers, _ = request(server.port, "GET", path, timeout=15)
            assert status == 503 and "retry-after" in headers, path
    # The holders hung up: their slots are free again (once their threads have ended).
    files = [("policy.yaml", ONE_POLICY)]
    assert wait_for(lambda: upload(server.port, files)[0] == 201, 15, step=0.2)


# --- CPU time, not wall-clock time ---------------------------------------------------------


def test_an_analysis_that_waits_without_using_cpu_is_not_refused(server: Server) -> None:
    # 3 s of wall-clock time, as on a busy machine, with a 1 s CPU budget.
    status, _, body = upload(server.port, [("slow.yaml", script("sleep 3"))])
    assert status == 201, body[:300]
    assert json.loads(body)["analysis"]["policies"][0]["name"] == "deny-all"


def test_an_analysis_over_its_cpu_budget_is_413_saying_so_and_is_stopped(
    server: Server, tmp_path: Path
) -> None:
    pid_file = tmp_path / "burn.pid"
    before = server.stored()
    status, _, body = upload(server.port, [("burn.yaml", script(f"pid {pid_file}", "burn"))])
    assert status == 413, body[:300]
    message = json.loads(body)["error"]
    assert "needed more than 1 s of CPU time" in message
    assert "split" not in message
    assert_gone(pid_in(pid_file) or 0, 10)
    assert server.stored() == before


def test_an_analysis_past_the_wall_clock_backstop_is_503_not_a_client_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_app(tmp_path, {"ANALYSIS_CPU_LIMIT": 5, "ANALYSIS_WALL_LIMIT": 1}).test_client()
    monkeypatch.setattr(runner, "analyze_to_json", scripted_analysis)
    data = {"manifests": [(io.BytesIO(script("sleep 30")), "hang.yaml")]}
    response = client.post("/api/v1/analyses", data=data)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    error = response.get_json()["error"]
    assert "did not finish within 1 s" in error and "split" not in error


# --- a client that hangs up ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["gunicorn", "werkzeug"])
def test_a_client_that_hangs_up_stops_its_analysis_and_nothing_is_stored(
    server: Server, tmp_path: Path, kind: str
) -> None:
    target = server
    if kind == "werkzeug":  # as `netpol-viz serve` runs the app
        target = Server(tmp_path, app=SCRIPTED, kind="werkzeug", env=BUDGET)
    with running(target) if kind == "werkzeug" else contextlib.nullcontext(target):
        before = target.stored()
        pid_file = tmp_path / "gone.pid"
        sock = send_upload(target.port, [("gone.yaml", script(f"pid {pid_file}", "sleep 50"))])
        assert wait_for(lambda: pid_in(pid_file) is not None, 30), target.tail()
        sock.close()
        assert_gone(pid_in(pid_file) or 0, 10)
        assert target.stored() == before


# --- a killed worker -------------------------------------------------------------------------


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def test_a_killed_workers_analysis_child_exits_quietly(tmp_path: Path) -> None:
    with running(Server(tmp_path, app=SCRIPTED, workers=1, env=BUDGET)) as server:
        pid_file = tmp_path / "orphan.pid"
        files = [("orphan.yaml", script(f"pid {pid_file}", "sleep 8"))]
        outcome: list[object] = []
        client = threading.Thread(
            target=lambda: outcome.append(_upload_or_error(server.port, files)), daemon=True
        )
        client.start()
        assert wait_for(lambda: pid_in(pid_file) is not None, 30), server.tail()
        child = pid_in(pid_file) or 0
        worker = parent_of(parent_of(child))  # child <- forkserver <- worker
        os.kill(worker, signal.SIGKILL)
        assert_gone(child, 5)  # it would sleep 8 s, then fail to answer a dead worker
        client.join(30)
        assert wait_for(lambda: request(server.port, "GET", "/", timeout=5)[0] == 200, 30)
        log = server.tail(100_000)
    assert "Traceback" not in log, log
    assert outcome and outcome[0] != 201


def _upload_or_error(port: int, files: list[tuple[str, bytes]]) -> object:
    try:
        return upload(port, files, timeout=30)[0]
    except (OSError, ConnectionError) as error:
        return error


# --- the documented deployment ---------------------------------------------------------------


def test_gunicorn_as_documented_answers_with_idle_and_slow_clients_open(tmp_path: Path) -> None:
    with running(Server(tmp_path)) as server:  # webapp.web.wsgi:app, the config's workers
        clients = [idle_connection(server.port) for _ in range(8)]
        clients += [slow_connection(server.port) for _ in range(2)]
        try:
            status, _, _ = request(server.port, "GET", "/", timeout=15)
            assert status == 200
            status, _, body = upload(server.port, [("policy.yaml", ONE_POLICY)], timeout=30)
            assert status == 201, body[:300]
        finally:
            for sock in clients:
                sock.close()


# --- settings from the environment (the gunicorn deployment) -----------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({}, {}, id="unset-is-the-apps-defaults"),
        pytest.param(
            {"NETPOL_MAX_CONCURRENT_ANALYSES": "3", "NETPOL_ANALYSIS_CPU_LIMIT": "7.5"},
            {"MAX_CONCURRENT_ANALYSES": 3, "ANALYSIS_CPU_LIMIT": 7.5},
            id="integers-and-decimals",
        ),
        pytest.param(
            {"NETPOL_ANALYSIS_WALL_LIMIT": " 60 "}, {"ANALYSIS_WALL_LIMIT": 60}, id="spaces"
        ),
    ],
)
def test_capacity_settings_come_from_the_environment(
    wsgi: Any, environ: dict[str, str], expected: dict[str, object]
) -> None:
    assert wsgi.capacity_from_env(environ) == expected


def test_a_capacity_setting_that_is_not_a_number_names_the_variable(wsgi: Any) -> None:
    with pytest.raises(ValueError, match="NETPOL_ANALYSIS_CPU_LIMIT must be a number"):
        wsgi.capacity_from_env({"NETPOL_ANALYSIS_CPU_LIMIT": "twenty"})


@pytest.fixture
def wsgi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """webapp.web.wsgi, imported (it creates its app) with its database in `tmp_path`."""
    monkeypatch.setenv("NETPOL_DATABASE", str(tmp_path / "wsgi.sqlite3"))
    monkeypatch.delitem(sys.modules, "webapp.web.wsgi", raising=False)
    return importlib.import_module("webapp.web.wsgi")


def test_the_load_benchmark_runs_bounded_and_stops_by_itself() -> None:
    command = [
        sys.executable, str(REPO / "bench" / "load.py"), "--sizes", "20:4", "--requests", "4",
        "--concurrency", "2", "--idle", "1", "--slow", "1", "--time-limit", "60",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    row = done.stdout.splitlines()[1].split()
    assert row[0] == "20:4" and row[2] == "4/4"
    assert "201:4" in row  # every upload stored, after its retries
    assert "0 tracebacks" in done.stdout
