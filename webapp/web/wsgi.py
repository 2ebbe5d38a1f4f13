"""WSGI entry point for production servers: `gunicorn -w 4 'webapp.web.wsgi:app'`.

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


app = create_app(config_from_env())
warm_up(app)
