"""Shared helpers for the graph, render and browser tests and for bench/browser_bench.py.

- Hand-made analysis documents (CONTRACT §3 plus the core's extra keys), so
  the front end can be tested without the core.
- Manifest generators: hostile names and a large synthetic cluster, as YAML.
- A real server process (`netpol-viz serve`, or `create_app` + werkzeug when
  the CLI has no `serve`) on a free loopback port with a given database.
- Headless Chromium (Debian's /usr/bin/chromium through Playwright) and a
  `PageWatch` that records dialogs, CSP violations, console errors and every
  request a page makes.

Fixtures themselves live in the test modules; this file only has functions
and classes, so it can be imported from tests and from the benchmark alike.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

HOSTILE_HTML = "<img src=x onerror=alert(1)>"
HOSTILE_SCRIPT = "</script><script>alert(1)</script>"
BIDI = "\u202e"
HOSTILE_STRINGS = (HOSTILE_HTML, HOSTILE_SCRIPT, BIDI)


# --- A real server process ----------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process_group(process: subprocess.Popen[bytes] | None, grace: float) -> None:
    """SIGTERM a server's process group, SIGKILL it after `grace` seconds."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@dataclass
class ServerProcess:
    """`netpol-viz serve` on a loopback port, as a subprocess in its own process group.

    The same port and database survive `restart()`, so a share link made
    before a restart can be opened after it.
    """

    database: Path
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "webapp",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--database",
            str(self.database),
        ]

    def start(self, timeout: float = 30.0) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its analysis children go down with it
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.tail()}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer within {timeout} s: {self.tail()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_process_group(process, grace=10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def tail(self, size: int = 3000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-size:]
        except OSError:
            return ""

    def post_analysis(self, files: list[tuple[str, bytes]]) -> dict[str, Any]:
        """POST files to the API as multipart `manifests`; the 201 answer."""
        boundary = "netpol-viz-test-boundary"
        body = b""
        for name, data in files:
            body += (
                (
                    f"--{boundary}\r\n"
                    f'Content-Disposition: form-data; name="manifests"; filename="{name}"\r\n'
                    "Content-Type: application/yaml\r\n\r\n"
                ).encode()
                + data
                + b"\r\n"
            )
        body += f"--{boundary}--\r\n".encode()
        request = urllib.request.Request(
            self.url + "/api/v1/analyses",
            data=body,
            method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            assert response.status == 201, response.status
            return json.loads(response.read())


@contextlib.contextmanager
def running_server(directory: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(database=directory / "netpol-viz.sqlite3", log=directory / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- Headless Chromium -----------------------------------------------------------


def require_chromium() -> str:
    """The Chromium binary; skips without it, fails without it under CI."""
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return CHROMIUM
    message = f"{CHROMIUM} is missing (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message + ": under CI the browser tests must run")
    pytest.skip(message)


def launch_chromium(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)


CSP_LISTENER = """
window.__netpolCsp = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__netpolCsp.push(event.violatedDirective + " " + event.blockedURI);
});
"""


class PageWatch:
    """Everything a page did that a test may object to.

    Registered before the first navigation: dialogs (dismissed), CSP
    violations (an init script, so every document gets the listener, and
    Chromium's console report), console errors, uncaught errors and the URL
    of every request.
    """

    def __init__(self, page: Any, origin: str) -> None:
        self.page = page
        self.origin = origin
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        page.add_init_script(CSP_LISTENER)
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def csp_violations(self) -> list[str]:
        return list(self.page.evaluate("window.__netpolCsp || []"))

    def foreign_requests(self) -> list[str]:
        """Requests that left the app's origin (blob: and data: of the page itself are local)."""
        local = (self.origin + "/", "blob:" + self.origin + "/", "data:")
        return [url for url in self.requests if not url.startswith(local)]

    def assert_clean(self) -> None:
        assert self.dialogs == [], self.dialogs
        assert self.csp_violations() == []
        assert self.console_errors == [], self.console_errors
        assert self.page_errors == [], self.page_errors
        assert self.foreign_requests() == [], self.foreign_requests()


def wait_ready(page: Any, timeout: float = 10_000) -> None:
    """Until the page's scripts have drawn the network once (body[data-ready=1])."""
    # A function, not an expression: Playwright evaluates expressions with eval,
    # which the page's CSP rightly refuses.
    page.wait_for_function("() => document.body.dataset.ready === '1'", timeout=timeout)


def pick_node(page: Any, selector: str, name: str) -> None:
    """Type `name` into a type-ahead picker (#search, #why-from, #why-to) and click
    the suggestion that shows exactly that name, as a user would."""
    field = page.locator(selector)
    field.fill(name)
    options = page.locator(f"{selector}-list .picker-option")
    options.first.wait_for(state="visible")
    exact = page.locator(".picker-name", has_text=re.compile(f"^{re.escape(name)}$"))
    options.filter(has=exact).click()


# --- Hand-made documents ------------------------------------------------------


def workload(
    namespace: str,
    name: str,
    labels: dict[str, str],
    *,
    pods: int = 1,
    ingress: list[str] | None = None,
    egress: list[str] | None = None,
    kind: str = "Deployment",
    ports: list[dict[str, Any]] | None = None,
    file: str = "app.yaml",
    line: int = 1,
) -> dict[str, Any]:
    """A workload node; `ingress`/`egress` list the policies isolating it."""
    return {
        "id": f"{namespace}/{kind}/{name}",
        "type": "workload",
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "labels": labels,
        "pods": pods,
        "isolated": {"ingress": bool(ingress), "egress": bool(egress)},
        "ports": ports or [],
        "policies": {"ingress": ingress or [], "egress": egress or []},
        "source": {"file": file, "document": 0, "line": line},
    }


def ipblock(cidrs: list[str], name: str | None = None) -> dict[str, Any]:
    return {
        "id": "ipblock:" + ",".join(cidrs),
        "type": "ipblock",
        "kind": None,
        "namespace": None,
        "name": name or ", ".join(cidrs),
        "labels": {},
        "cidrs": cidrs,
        "isolated": {"ingress": False, "egress": False},
        "source": None,
    }


def inferred(namespace: str | None, selector: str) -> dict[str, Any]:
    return {
        "id": f"inferred:{namespace or '*'}:{selector}",
        "type": "inferred",
        "kind": None,
        "namespace": namespace,
        "name": selector,
        "labels": {},
        "isolated": {"ingress": False, "egress": False},
        "policies": {"ingress": [], "egress": []},
        "selector": selector,
        "source": None,
    }


def tcp(port: int, end: int | None = None) -> dict[str, Any]:
    return {"protocol": "TCP", "from": port, "to": end or port}


ALL_PORTS = [{"protocol": p, "from": 1, "to": 65535} for p in ("TCP", "UDP", "SCTP")]


def flow(
    source: dict[str, Any],
    target: dict[str, Any],
    ports: list[dict[str, Any]] | None = None,
    *,
    egress: list[dict[str, Any]] | None = None,
    ingress: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A flow; open by default when neither side has a rule reference."""
    return {
        "source": source["id"],
        "target": target["id"],
        "ports": ports or ALL_PORTS,
        "allTraffic": ports is None,
        "egress": egress or [],
        "ingress": ingress or [],
        "defaultAllow": not egress and not ingress,
    }


def rule_ref(policy: str, direction: str, rule: int, file: str, line: int) -> dict[str, Any]:
    return {
        "policy": policy,
        "direction": direction,
        "rule": rule,
        "source": {"file": file, "line": line},
    }


DB_RULE_TEXT = """- from:
    - podSelector:
        matchLabels:
          role: backend
  ports:
    - port: 3306
"""


def article_document() -> dict[str, Any]:
    """The article's db-backend policy over its small app, as the core would report it."""
    frontend = workload("default", "frontend", {"app": "shop", "role": "frontend"}, pods=2)
    backend = workload("default", "backend", {"role": "backend"}, pods=2)
    mysql = workload(
        "default",
        "mysql",
        {"name": "mysql"},
        ingress=["default/db-backend"],
        ports=[{"name": "mysql", "port": 3306, "protocol": "TCP"}],
    )
    payments = workload("payments", "payments-api", {"app": "payments-api"}, pods=2)
    dns = workload("kube-system", "coredns", {"k8s-app": "kube-dns"}, pods=2)
    world = ipblock(["0.0.0.0/0", "::/0"], "every other address")
    nodes = [frontend, backend, mysql, payments, dns, world]
    pods = [frontend, backend, mysql, payments, dns]
    flows = []
    for source in pods:
        for target in pods:
            if source is target or target is mysql:
                continue
            flows.append(flow(source, target))
        flows.append(flow(source, world))
    flows.append(
        flow(
            backend,
            mysql,
            [tcp(3306)],
            ingress=[rule_ref("default/db-backend", "ingress", 0, "db-backend.yaml", 9)],
        )
    )
    return {
        "version": 1,
        "nodes": nodes,
        "flows": flows,
        "policies": [
            {
                "id": "default/db-backend",
                "namespace": "default",
                "name": "db-backend",
                "policyTypes": ["Ingress"],
                "selects": [mysql["id"]],
                "source": {"file": "db-backend.yaml", "document": 0, "line": 1},
                "rules": [
                    {
                        "direction": "ingress",
                        "rule": 0,
                        "line": 9,
                        "endLine": 15,
                        "text": DB_RULE_TEXT,
                    }
                ],
            }
        ],
        "findings": [
            {
                "rule": "unisolated-workload",
                "severity": "medium",
                "message": "4 workloads are not isolated for ingress.",
                "nodes": [frontend["id"]],
                "policies": [],
            }
        ],
        "problems": [
            {
                "severity": "warning",
                "file": "app.yaml",
                "document": 3,
                "line": 40,
                "kind": "Deployment",
                "name": "broken",
                "path": "spec.template.spec.containers[0].ports[0].containerPort",
                "message": "containerPort is not a number; the port was left out",
            }
        ],
        "notes": [],
        "summary": {
            "workloads": 5,
            "pods": 8,
            "policies": 1,
            "isolatedIngress": 1,
            "isolatedEgress": 0,
            "flows": len(flows),
            "problems": 1,
        },
    }


def hostile_document() -> dict[str, Any]:
    """Every uploaded string that reaches the page carries markup and a bidi override."""
    evil = f"{HOSTILE_HTML}{HOSTILE_SCRIPT}{BIDI}evil"
    one = workload(evil, evil, {evil: evil}, ingress=[f"{evil}/{evil}"], file=evil)
    two = workload("default", "plain", {"app": "plain"}, file=evil)
    policy_id = f"{evil}/{evil}"
    document = {
        "version": 1,
        "nodes": [one, two, inferred(evil, evil)],
        "flows": [
            flow(two, one, [tcp(80)], ingress=[rule_ref(policy_id, "ingress", 0, evil, 3)]),
        ],
        "policies": [
            {
                "id": policy_id,
                "namespace": evil,
                "name": evil,
                "policyTypes": ["Ingress"],
                "selects": [one["id"]],
                "source": {"file": evil, "document": 0, "line": 1},
                "rules": [
                    {
                        "direction": "ingress",
                        "rule": 0,
                        "line": 3,
                        "endLine": 4,
                        "text": f"- from: []  # {evil}\n",
                    }
                ],
            }
        ],
        "findings": [
            {"rule": "x", "severity": "high", "message": evil, "nodes": [], "policies": []}
        ],
        "problems": [
            {
                "severity": "error",
                "file": evil,
                "document": 0,
                "line": 1,
                "kind": evil,
                "name": evil,
                "path": evil,
                "message": evil,
            }
        ],
    }
    return document


def synthetic_document(workloads: int, namespaces: int = 20) -> dict[str, Any]:
    """A large cluster: each namespace a chain of services behind default-deny.

    Every workload is isolated both ways; workload i sends to workload i+1 of
    its namespace on TCP 8080 and every workload sends DNS to coredns.
    """
    dns = workload("kube-system", "coredns", {"k8s-app": "kube-dns"}, pods=2)
    nodes = [dns]
    flows = []
    per_namespace: dict[int, list[dict[str, Any]]] = {}
    for index in range(workloads - 1):
        ns = index % namespaces
        namespace = f"team-{ns:02d}"
        policy = f"{namespace}/default-deny"
        node = workload(
            namespace,
            f"service-{index:04d}",
            {"app": f"service-{index:04d}"},
            pods=1 + index % 3,
            ingress=[policy],
            egress=[policy],
        )
        nodes.append(node)
        chain = per_namespace.setdefault(ns, [])
        if chain:
            flows.append(
                flow(
                    chain[-1],
                    node,
                    [tcp(8080)],
                    egress=[rule_ref(policy, "egress", 0, f"{namespace}.yaml", 20)],
                    ingress=[rule_ref(policy, "ingress", 0, f"{namespace}.yaml", 12)],
                )
            )
        chain.append(node)
        flows.append(
            flow(
                node,
                dns,
                [{"protocol": "UDP", "from": 53, "to": 53}, tcp(53)],
                egress=[rule_ref(policy, "egress", 1, f"{namespace}.yaml", 26)],
            )
        )
    policies = [
        {
            "id": f"team-{ns:02d}/default-deny",
            "namespace": f"team-{ns:02d}",
            "name": "default-deny",
            "policyTypes": ["Ingress", "Egress"],
            "selects": [n["id"] for n in per_namespace.get(ns, [])],
            "source": {"file": f"team-{ns:02d}.yaml", "document": 0, "line": 1},
            "rules": [
                {
                    "direction": "ingress",
                    "rule": 0,
                    "line": 12,
                    "endLine": 15,
                    "text": "- from:\n  - podSelector: {}\n",
                },
                {
                    "direction": "egress",
                    "rule": 0,
                    "line": 20,
                    "endLine": 25,
                    "text": "- to:\n  - podSelector: {}\n",
                },
                {
                    "direction": "egress",
                    "rule": 1,
                    "line": 26,
                    "endLine": 30,
                    "text": "- ports:\n  - port: 53\n",
                },
            ],
        }
        for ns in range(namespaces)
    ]
    return {
        "version": 1,
        "nodes": nodes,
        "flows": flows,
        "policies": policies,
        "findings": [],
        "problems": [],
    }


# --- Manifests to upload ---------------------------------------------------------

HOSTILE_FILE_NAME = f"{HOSTILE_HTML}{BIDI}lmay.yaml"
"""Slashes are not allowed in a browser's file name, so the script string goes elsewhere."""
HOSTILE_ANNOTATION = "annotation-must-be-dropped-<img src=x onerror=alert(2)>"

HOSTILE_MANIFESTS = f"""\
apiVersion: v1
kind: Namespace
metadata:
  name: "{HOSTILE_HTML}"
  labels:
    "{HOSTILE_SCRIPT}": "{BIDI}evil"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: "{HOSTILE_SCRIPT}"
  namespace: "{HOSTILE_HTML}"
  annotations:
    note: "{HOSTILE_ANNOTATION}"
spec:
  template:
    metadata:
      labels:
        app: "{HOSTILE_HTML}"
        role: "{BIDI}evil"
    spec:
      containers:
      - name: x
        image: x
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: plain
  namespace: default
  annotations:
    note: "{HOSTILE_ANNOTATION}"
    kubectl.kubernetes.io/last-applied-configuration: '{{"secret": "{HOSTILE_ANNOTATION}"}}'
spec:
  selector:
    matchLabels:
      app: plain
  template:
    metadata:
      labels:
        app: plain
    spec:
      containers:
      - name: x
        image: x
        env:
        - name: PASSWORD
          value: "{HOSTILE_ANNOTATION}"
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: "{HOSTILE_HTML}"
  namespace: default
spec:
  podSelector:
    matchLabels:
      app: plain
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          "{HOSTILE_SCRIPT}": "{BIDI}evil"
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: plain-ingress
  namespace: default
spec:
  podSelector:
    matchLabels:
      app: plain
  ingress:
  - from:
    - podSelector: {{}}
"""
"""Hostile strings in a Namespace, a Deployment, labels, annotations and a policy.

The core validates names and labels as the API server does, so those
objects become problems whose messages quote the strings; the file name
and the `plain` Deployment reach the diagram.
"""


def large_manifests(workloads: int, namespaces: int) -> str:
    """`workloads` Deployments (web, api, db tiers) across `namespaces`, each behind default-deny.

    In every namespace web may reach api on 8080 and api may reach db on
    5432, and everything may resolve DNS in kube-system: a few flows per
    workload, like a real cluster, not the all-to-all of no policy at all.
    """
    docs = [
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kube-system\n",
        _deployment("kube-system", "coredns", {"k8s-app": "kube-dns"}, 53, replicas=2),
    ]
    tiers = ("web", "api", "db")
    for ns in range(namespaces):
        namespace = f"team-{ns:03d}"
        docs.append(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n")
        docs.append(_policy(namespace, "default-deny", "{}", "[Ingress, Egress]", "", ""))
        docs.append(
            _policy(
                namespace,
                "allow-dns",
                "{}",
                "[Egress]",
                "",
                "  egress:\n  - to:\n    - namespaceSelector:\n        matchLabels:\n"
                "          kubernetes.io/metadata.name: kube-system\n"
                "    ports:\n    - {protocol: UDP, port: 53}\n    - {protocol: TCP, port: 53}\n",
            )
        )
        for source, target, port in (("web", "api", 8080), ("api", "db", 5432)):
            docs.append(
                _policy(
                    namespace,
                    f"{source}-to-{target}",
                    f"{{matchLabels: {{tier: {target}}}}}",
                    "[Ingress]",
                    "  ingress:\n  - from:\n"
                    f"    - podSelector: {{matchLabels: {{tier: {source}}}}}\n"
                    f"    ports:\n    - {{protocol: TCP, port: {port}}}\n",
                    "",
                )
            )
            docs.append(
                _policy(
                    namespace,
                    f"{source}-egress-{target}",
                    f"{{matchLabels: {{tier: {source}}}}}",
                    "[Egress]",
                    "",
                    f"  egress:\n  - to:\n    - podSelector: {{matchLabels: {{tier: {target}}}}}\n"
                    f"    ports:\n    - {{protocol: TCP, port: {port}}}\n",
                )
            )
    for index in range(workloads - 1):
        namespace = f"team-{index % namespaces:03d}"
        tier = tiers[(index // namespaces) % 3]
        port = {"web": 8080, "api": 8080, "db": 5432}[tier]
        docs.append(_deployment(namespace, f"{tier}-{index:04d}", {"tier": tier}, port))
    return "---\n".join(docs)


def _deployment(
    namespace: str, name: str, labels: dict[str, str], port: int, replicas: int = 1
) -> str:
    label_text = ", ".join(f"{k}: {v}" for k, v in labels.items())
    return (
        "apiVersion: apps/v1\nkind: Deployment\n"
        f"metadata:\n  name: {name}\n  namespace: {namespace}\n"
        f"spec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{{label_text}}}\n"
        f"  template:\n    metadata:\n      labels: {{{label_text}}}\n"
        f"    spec:\n      containers:\n      - name: main\n        image: example\n"
        f"        ports:\n        - containerPort: {port}\n"
    )


def _policy(namespace: str, name: str, selector: str, types: str, ingress: str, egress: str) -> str:
    return (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        f"metadata:\n  name: {name}\n  namespace: {namespace}\n"
        f"spec:\n  podSelector: {selector}\n  policyTypes: {types}\n{ingress}{egress}"
    )


def team_tiers(workloads: int, namespaces: int, isolate_every: int = 1) -> str:
    """web, api and db Deployments across namespaces `team-NN`; in every
    `isolate_every`-th namespace only api may reach db (TCP 5432).

    Nothing else is isolated, so most pairs are open by default: far more
    pairs than the page draws, and far more arrows among a db's neighbours
    than the db's own flows.
    """
    docs = []
    for ns in range(namespaces):
        namespace = f"team-{ns:02d}"
        docs.append(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n")
        if ns % isolate_every == 0:
            docs.append(
                _policy(
                    namespace,
                    "db-from-api",
                    "{matchLabels: {tier: db}}",
                    "[Ingress]",
                    "  ingress:\n  - from:\n    - podSelector: {matchLabels: {tier: api}}\n"
                    "    ports:\n    - {protocol: TCP, port: 5432}\n",
                    "",
                )
            )
    for index in range(workloads):
        namespace = f"team-{index % namespaces:02d}"
        tier = ("web", "api", "db")[(index // namespaces) % 3]
        docs.append(_deployment(namespace, f"{tier}-{index:04d}", {"tier": tier}, 5432))
    return "---\n".join(docs)


def bare_pods(count: int, namespaces: int = 4) -> bytes:
    """`count` Pods with no owner and no policy: each its own node, all in one group."""
    items = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"pod-{i:04d}", "namespace": f"ns-{i % namespaces}"},
            "spec": {"containers": [{"name": "main", "image": "example"}]},
        }
        for i in range(count)
    ]
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items}).encode()
