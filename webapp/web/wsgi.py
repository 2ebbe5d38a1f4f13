"""WSGI entry point for production servers: `gunicorn -c python:webapp.web.gunicorn_conf`.

Configuration comes from the environment: NETPOL_DATABASE (SQLAlchemy URL
or SQLite path; give every worker the same one, e.g. a PostgreSQL URL when
instances run behind a load balancer), NETPOL_BASE_URL (public origin for
share URLs). Unset, the SQLite file in the instance folder is used.
"""

from __future__ import annotations

import os
from typing import Any

from webapp.web import create_app, warm_up


def config_from_env(environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = dict(os.environ) if environ is None else environ
    config: dict[str, Any] = {}
    if environ.get("NETPOL_DATABASE"):
        config["DATABASE"] = environ["NETPOL_DATABASE"]
    if environ.get("NETPOL_BASE_URL"):
        config["BASE_URL"] = environ["NETPOL_BASE_URL"]
    return config


CAPACITY = ("MAX_CONCURRENT_ANALYSES", "ANALYSIS_CPU_LIMIT", "ANALYSIS_WALL_LIMIT")


def capacity_from_env(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """NETPOL_MAX_CONCURRENT_ANALYSES (per worker process; the gunicorn config gives each
    worker its share of the CPUs), NETPOL_ANALYSIS_CPU_LIMIT, NETPOL_ANALYSIS_WALL_LIMIT (s)."""
    environ = dict(os.environ) if environ is None else environ
    config: dict[str, Any] = {}
    for key in CAPACITY:
        text = environ.get("NETPOL_" + key, "").strip()
        if text:
            try:
                config[key] = float(text) if "." in text else int(text)
            except ValueError:
                raise ValueError(f"NETPOL_{key} must be a number, not {text!r}") from None
    return config


app = create_app({**config_from_env(), **capacity_from_env()})
warm_up(app)
