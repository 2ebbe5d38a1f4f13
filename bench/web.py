"""The web app's figures on a generated cluster, against a real `netpol-viz serve`.

    python bench/web.py                      # 5,000 pods / 1,000 policies
    python bench/web.py --pods 1000 --policies 200 --repeat 3
    python bench/web.py --quick              # 1,000 pods / 200 policies

Prints, each the median of `--repeat` runs:

- web upload vs CLI on the same input: `POST /api/v1/analyses` (raw body,
  the server warm) against `netpol-viz analyze FILE --format json --output F`
  end to end, interleaved, and their ratio (target: at most 1.2);
- a why / why not question on the stored analysis: the first (which
  re-analyses the stored input) and the later ones (answered from the warm
  analysis; target: under 100 ms);
- the report page and each export: the first and the later requests.

The machine is shared: figures are wall-clock times with whatever else runs.
The server and the CLI run with the environment of `run.py`'s children (this
checkout, its bytecode cached), so neither compiles the package on every start.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from run import child_env  # noqa: E402

EXPORTS = ("json", "csv", "md", "dot", "html", "review.md")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server(folder: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (folder / "server.log").open("ab")
    command = [sys.executable, "-m", "webapp", "serve", "--port", str(port), "--database",
               str(folder / "bench.sqlite3")]
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               env=child_env(), start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def fetch(url: str, data: bytes | None = None) -> bytes:
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=600) as response:
        return response.read()  # type: ignore[no-any-return]


def cli_analyze(manifests: Path, output: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "webapp", "analyze", str(manifests), "--format", "json",
         "--output", str(output)],
        cwd=ROOT, env=child_env(), check=True, capture_output=True,
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--policies", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1,000 pods / 200 policies")
    args = parser.parse_args(argv)
    if args.quick:
        args.pods, args.policies = 1000, 200
    folder = Path(tempfile.mkdtemp(prefix="netpol-bench-web-"))
    manifests = folder / "cluster.yaml"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate.py"), "--pods", str(args.pods),
         "--policies", str(args.policies), "-o", str(manifests)],
        check=True,
    )
    body = manifests.read_bytes()
    print(f"{args.pods:,} pods / {args.policies:,} policies: {len(body) / 2**20:.1f} MiB")
    with server(folder) as url:
        fetch(url + "/api/v1/analyses", b"kind: Namespace\napiVersion: v1\nmetadata: {name: x}\n")
        uploads, clis, created = [], [], None
        for _ in range(args.repeat):  # interleaved: both see the same load
            seconds, answer = timed(lambda: fetch(url + "/api/v1/analyses", body))
            uploads.append(seconds)
            created = json.loads(answer)
            clis.append(timed(lambda: cli_analyze(manifests, folder / "cli.json"))[0])
        upload, cli = statistics.median(uploads), statistics.median(clis)
        print(f"web upload {ms(upload)}, CLI {ms(cli)}: {upload / cli:.2f}x (target <= 1.2x)")

        assert created is not None
        document = created["analysis"]
        workloads = [n["id"] for n in document["nodes"] if n["type"] == "workload"]
        analysis_url = f"{url}/api/v1/analyses/{created['id']}"
        questions = [
            f"{analysis_url}/query?from={workloads[i]}&to={workloads[-1 - i]}"
            for i in range(args.repeat + 1)
        ]
        first = timed(lambda: fetch(questions[0]))[0]
        later = statistics.median(timed(lambda q=q: fetch(q))[0] for q in questions[1:])
        verdict = "PASS" if later < 0.1 else "FAIL"
        print(f"why / why not: first {ms(first)}, later {ms(later)} (target < 100 ms: {verdict})")

        pages = {"report": f"{url}/a/{created['id']}/report"}
        pages.update({f"export.{fmt}": f"{analysis_url}/export.{fmt}" for fmt in EXPORTS})
        for name, page in pages.items():
            try:
                first = timed(lambda p=page: fetch(p))[0]
                later = statistics.median(
                    timed(lambda p=page: fetch(p))[0] for _ in range(args.repeat)
                )
            except urllib.error.HTTPError as error:
                print(f"{name}: HTTP {error.code}")
                continue
            print(f"{name}: first {ms(first)}, later {ms(later)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
