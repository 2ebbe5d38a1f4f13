"""A real gunicorn (or Werkzeug) server with a scripted analysis, and raw HTTP clients.

Shared by tests/test_web_capacity.py and bench/load.py; functions and classes
only. The scripted analysis stands in for a slow or pathological upload,
deterministically: an upload whose first file starts with `#!script` is not
analysed; each of its lines tells the analysis child what to do,

    pid FILE    write the child's pid to FILE (so a test can watch it)
    sleep S     wait S seconds of wall-clock time, using no CPU
    burn        use CPU until stopped

and then the rest of the upload (or a one-policy upload) is analysed as usual.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from browserfixtures import free_port, stop_process_group

from webapp.core.input.raw import Limits, SourceText
from webapp.web import analysis

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
GUNICORN_CONF = "python:webapp.web.gunicorn_conf"
SCRIPT = b"#!script"
ONE_POLICY = b"""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: default}
spec: {podSelector: {}, policyTypes: [Ingress]}
"""


# --- the scripted analysis (runs in the analysis child) -------------------------------

analyze_to_json = analysis.analyze_to_json
"""The real analysis, kept before a test or `scripted_app` puts the scripted one in its place."""


def scripted_analysis(sources: Sequence[SourceText], limits: Limits) -> analysis.Result:
    """`analysis.analyze_to_json`, after the script of the first file if it has one."""
    if sources and sources[0].data.startswith(SCRIPT):
        for line in sources[0].data.decode().splitlines()[1:]:
            verb, _, argument = line.strip().partition(" ")
            if verb == "pid":
                Path(argument).write_text(str(os.getpid()))
            elif verb == "sleep":
                time.sleep(float(argument))
            elif verb == "burn":
                while True:
                    pass
        sources = list(sources[1:]) or [SourceText("policy.yaml", ONE_POLICY)]
    return analyze_to_json(sources, limits)


def script(*lines: str) -> bytes:
    return b"\n".join([SCRIPT, *(line.encode() for line in lines)]) + b"\n"


def scripted_app() -> Any:
    """The production app (`webapp.web.wsgi`) with the scripted analysis.

    gunicorn's application argument: `'loadfixtures:scripted_app()'`.
    """
    analysis.analyze_to_json = scripted_analysis  # run() looks it up on each call
    from webapp.web import wsgi

    return wsgi.app


def serve_scripted(port: int) -> None:
    """The scripted app under Werkzeug's threaded server, as `netpol-viz serve` runs it."""
    from werkzeug.serving import run_simple

    run_simple("127.0.0.1", port, scripted_app(), threaded=True)


# --- a server process --------------------------------------------------------------------


@dataclass
class Server:
    """gunicorn as the README documents it (`-c python:webapp.web.gunicorn_conf`), or
    Werkzeug (`kind="werkzeug"`), on a loopback port, in its own process group."""

    directory: Path
    app: str = "webapp.web.wsgi:app"
    kind: str = "gunicorn"
    workers: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def database(self) -> Path:
        return self.directory / "netpol-viz.sqlite3"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    def command(self) -> list[str]:
        if self.kind == "werkzeug":
            code = f"import loadfixtures; loadfixtures.serve_scripted({self.port})"
            return [sys.executable, "-c", code]
        workers = ["-w", str(self.workers)] if self.workers else []
        return [
            sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONF,
            "-b", f"127.0.0.1:{self.port}", "--no-control-socket", *workers, self.app,
        ]  # fmt: skip

    def start(self, timeout: float = 60.0) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO), str(TESTS)]),
            "NETPOL_DATABASE": str(self.database),
            **self.env,
        }
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=self.directory, env=env, stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.tail()}")
            with contextlib.suppress(OSError):
                if request(self.port, "GET", "/", timeout=5)[0] == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not answer within {timeout} s: {self.tail()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_process_group(process, grace=40)  # gunicorn's graceful timeout is 30 s

    def tail(self, size: int = 4000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-size:]
        except OSError:
            return ""

    def stored(self) -> int:
        """How many analyses the server's database holds."""
        with contextlib.closing(sqlite3.connect(self.database)) as db:
            return int(db.execute("SELECT count(*) FROM analyses").fetchone()[0])


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- clients ---------------------------------------------------------------------------

BOUNDARY = "netpol-viz-load-boundary"


def multipart(files: Sequence[tuple[str, bytes]]) -> bytes:
    body = b""
    for name, data in files:
        body += (
            f"--{BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="manifests"; filename="{name}"\r\n'
            "Content-Type: application/yaml\r\n\r\n"
        ).encode() + data + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> tuple[int, dict[str, str], bytes]:
    """One request on its own connection: status, headers (lower-case names), body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def upload(
    port: int, files: Sequence[tuple[str, bytes]], timeout: float = 60.0
) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": MULTIPART}
    return request(port, "POST", "/api/v1/analyses", multipart(files), headers, timeout)


def send_upload(port: int, files: Sequence[tuple[str, bytes]]) -> socket.socket:
    """A whole upload sent on a socket whose answer is not read (close it to hang up)."""
    body = multipart(files)
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(
        (
            "POST /api/v1/analyses HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: {MULTIPART}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
    )
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP/1.1 response from `sock` (its timeout bounds the wait)."""
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def idle_connection(port: int) -> socket.socket:
    """A connection that sends nothing."""
    return socket.create_connection(("127.0.0.1", port), timeout=30)


def slow_connection(port: int) -> socket.socket:
    """A slowloris-style connection: a request line and part of the headers, then nothing."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    return sock


def wait_for(condition: Any, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, already dead but not reaped, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def pid_in(path: Path) -> int | None:
    try:
        return int(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
