"""WSGI entry point for production servers: `gunicorn -c webapp/web/gunicorn_conf.py`.

Configuration comes from the environment: NETPOL_DATABASE (SQLAlchemy URL
or SQLite path; give every worker the same one, e.g. a PostgreSQL URL when
instances run behind a load balancer), NETPOL_BASE_URL (public origin for
share URLs), and the numbers NETPOL_MAX_CONCURRENT_ANALYSES (per worker
process; the gunicorn config divides the CPUs among its workers),
NETPOL_ANALYSIS_CPU_LIMIT and NETPOL_ANALYSIS_WALL_LIMIT (seconds). Unset,
the SQLite file in the instance folder and the app's defaults are used.
"""

from __future__ import annotations

import os
from typing import Any

from webapp.web import create_app, warm_up

NUMBERS = ("MAX_CONCURRENT_ANALYSES", "ANALYSIS_CPU_LIMIT", "ANALYSIS_WALL_LIMIT")


def config_from_env(environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = dict(os.environ) if environ is None else environ
    config: dict[str, Any] = {}
    if environ.get("NETPOL_DATABASE"):
        config["DATABASE"] = environ["NETPOL_DATABASE"]
    if environ.get("NETPOL_BASE_URL"):
        config["BASE_URL"] = environ["NETPOL_BASE_URL"]
    for key in NUMBERS:
        text = environ.get("NETPOL_" + key, "").strip()
        if text:
            try:
                config[key] = float(text) if "." in text else int(text)
            except ValueError:
                raise SystemExit(f"NETPOL_{key} must be a number, not {text!r}") from None
    return config


app = create_app(config_from_env())
warm_up(app)
