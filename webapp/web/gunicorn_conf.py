"""gunicorn settings for netpol-viz: `gunicorn -c python:webapp.web.gunicorn_conf`.

Threaded workers (gthread): a worker's main loop holds idle and kept-alive
connections without a thread, so idle clients cannot stop it answering, as
they stop gunicorn's default sync workers (one connection per worker at a
time). A client that sends its headers slowly does hold a thread until they
are complete: put a buffering proxy (nginx) in front on the internet.

Analyses run in child processes (webapp.web.analysis) and are bounded per
worker by MAX_CONCURRENT_ANALYSES; unless NETPOL_MAX_CONCURRENT_ANALYSES is
set, each worker gets its share of the CPUs. Command-line options (`-w 4`,
`-b 0.0.0.0:8000`) override these values; NETPOL_* variables configure the
app (webapp/web/wsgi.py).
"""

from __future__ import annotations

import os
from typing import Any

wsgi_app = "webapp.web.wsgi:app"
bind = ["127.0.0.1:8000"]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = 16
"""Threads per worker: requests in progress (uploads being read, pages, API reads)."""
keepalive = 5
"""Seconds an idle kept-alive connection stays open."""
timeout = 60
"""A worker silent this long is restarted (gthread's main loop reports every second, so
only a stuck worker is; analyses are bounded by their own CPU budget and backstop)."""
graceful_timeout = 30
"""On stop or reload, seconds for requests in progress before a worker is killed."""


def post_fork(server: Any, _worker: Any) -> None:
    """Give each worker its share of the CPUs for analyses (before the app is loaded)."""
    from webapp.web.analysis import usable_cpus

    share = max(1, usable_cpus() // max(1, int(server.cfg.workers)))
    os.environ.setdefault("NETPOL_MAX_CONCURRENT_ANALYSES", str(share))
