"""A bounded load test of the documented gunicorn deployment, on the loopback interface.

    python bench/load.py                                  # small and medium uploads
    python bench/load.py --sizes 100:20,1000:200,5000:1000 --concurrency 32 --requests 64

It starts gunicorn as the README documents it (`-c python:webapp.web.gunicorn_conf`,
threaded workers, a SQLite file in a temporary folder) on 127.0.0.1, opens
idle connections and slowloris-style ones (a request line and part of a
header, then a byte every few seconds), and then, for each size, sends
`--requests` uploads of a cluster from bench/generate.py from `--concurrency`
clients at once. A client answered 503 waits for Retry-After and tries again
(at most `--retries` times), as a well-behaved client does. Meanwhile a probe
loads the upload page once a second.

It prints, per size, throughput (analyses stored per second), latency
percentiles of the final answers (first attempt to last answer), answers by
status (first attempts and final), and the probe's worst latency. Everything
is bounded: the request count, each request's timeout and `--time-limit` for
the whole run; it stops the server and exits by itself.
"""

from __future__ import annotations

import argparse
import contextlib
import select
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from generate import generate  # noqa: E402
from loadfixtures import Server, idle_connection, request, running, slow_connection, upload  # noqa: E402


@dataclass(frozen=True)
class Outcome:
    first: int
    """Status of the first attempt (0: no answer: connection error or timeout)."""
    final: int
    attempts: int
    seconds: float


def attempt(port: int, files: list[tuple[str, bytes]], timeout: float) -> tuple[int, float]:
    """Status and Retry-After of one upload (status 0 when there was no answer)."""
    try:
        status, headers, _ = upload(port, files, timeout=timeout)
    except OSError:
        return 0, 0.0
    return status, float(headers.get("retry-after", "0") or 0)


def client(
    port: int, files: list[tuple[str, bytes]], retries: int, deadline: float
) -> Outcome | None:
    """One upload, retried after Retry-After on 503; None when the run's time is up first."""
    if time.monotonic() >= deadline:
        return None
    started = time.monotonic()
    first = status = 0
    attempts = 0
    while True:
        remaining = deadline - time.monotonic()
        status, retry_after = attempt(port, files, timeout=max(1.0, min(120.0, remaining)))
        attempts += 1
        first = first or status
        if status != 503 or attempts > retries or time.monotonic() + retry_after >= deadline:
            break
        time.sleep(retry_after)
    return Outcome(first, status, attempts, time.monotonic() - started)


class SlowClients:
    """Idle connections and slowloris ones (partial headers, one more byte now and then)."""

    def __init__(self, port: int, idle: int, slow: int) -> None:
        self.idle = [idle_connection(port) for _ in range(idle)]
        self.slow = [slow_connection(port) for _ in range(slow)]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        while not self._stop.wait(3.0):
            for sock in self.slow:
                with contextlib.suppress(OSError):
                    sock.sendall(b"x")

    def closed_by_server(self) -> tuple[int, int]:
        """How many idle and slow connections the server has closed."""
        return sum(map(hung_up, self.idle)), sum(map(hung_up, self.slow))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self.idle + self.slow:
            sock.close()


def hung_up(sock: socket.socket) -> bool:
    if not select.select([sock], [], [], 0)[0]:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class Probe:
    """GET / once a second; keeps the worst latency (or a failure)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.worst = 0.0
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            started = time.monotonic()
            try:
                ok = request(self.port, "GET", "/", timeout=30)[0] == 200
            except OSError:
                ok = False
            self.worst = max(self.worst, time.monotonic() - started)
            self.failures += not ok

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


def by_status(counts: Counter[int]) -> str:
    return " ".join(f"{status or 'none'}:{count}" for status, count in sorted(counts.items()))


def run_size(
    port: int, pods: int, policies: int, args: argparse.Namespace, deadline: float
) -> list[str]:
    text = generate(pods, policies, seed=1).encode()
    files = [(f"cluster-{pods}.yaml", text)]
    probe = Probe(port)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        futures = [
            pool.submit(client, port, files, args.retries, deadline)
            for _ in range(args.requests)
        ]
        outcomes = [o for o in (f.result() for f in futures) if o is not None]
    seconds = time.monotonic() - started
    probe.close()
    stored = [o for o in outcomes if o.final == 201]
    latencies = [o.seconds for o in outcomes]
    return [
        f"{pods}:{policies}",
        f"{len(text) / 2**20:.2f}",
        f"{len(outcomes)}/{args.requests}",
        f"{seconds:.1f}",
        f"{len(stored) / seconds:.2f}",
        f"{percentile(latencies, 0.50):.2f}",
        f"{percentile(latencies, 0.95):.2f}",
        f"{percentile(latencies, 0.99):.2f}",
        by_status(Counter(o.first for o in outcomes)),
        by_status(Counter(o.final for o in outcomes)),
        str(sum(o.attempts - 1 for o in outcomes)),
        f"{probe.worst:.2f}" + (f" ({probe.failures} failed)" if probe.failures else ""),
    ]


HEADER = [
    "pods:policies", "MiB", "done", "wall s", "stored/s", "p50 s", "p95 s", "p99 s",
    "first answers", "final answers", "retries", "page probe max s",
]  # fmt: skip


def table(rows: list[list[str]]) -> str:
    lines = [HEADER, *rows]
    widths = [max(len(row[i]) for row in lines) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in lines
    )


def parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for item in text.split(","):
        pods, _, policies = item.strip().partition(":")
        if not policies:
            raise argparse.ArgumentTypeError(f"expected PODS:POLICIES, got {item!r}")
        sizes.append((int(pods), int(policies)))
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("100:20,1000:200"))
    parser.add_argument("--requests", type=int, default=64, help="uploads per size")
    parser.add_argument("--concurrency", type=int, default=32, help="clients at once")
    parser.add_argument("--retries", type=int, default=30, help="retries of a 503, at most")
    parser.add_argument("--idle", type=int, default=6, help="idle connections held open")
    parser.add_argument("--slow", type=int, default=6, help="slowloris connections held open")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn -w (default: conf)")
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds for the run")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.time_limit
    with tempfile.TemporaryDirectory(prefix="netpol-load-") as directory:
        server = Server(Path(directory), workers=args.workers)
        with running(server):
            slow = SlowClients(server.port, args.idle, args.slow)
            try:
                rows = [run_size(server.port, *size, args, deadline) for size in args.sizes]
                idle_closed, slow_closed = slow.closed_by_server()
            finally:
                slow.close()
        log = server.tail(1_000_000)
    print(table(rows))
    print(
        f"{args.idle} idle connections ({idle_closed} closed by the server), "
        f"{args.slow} slowloris connections ({slow_closed} closed by the server), "
        f"{args.concurrency} clients at once; server log: {log.count('Traceback')} tracebacks"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
