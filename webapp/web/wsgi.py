"""WSGI entry point for production servers: `gunicorn -c python:webapp.web.gunicorn_conf`.

Configuration comes from the environment: NETPOL_DATABASE (SQLAlchemy URL
or SQLite path; give every worker the same one, e.g. a PostgreSQL URL when
instances run behind a load balancer), NETPOL_BASE_URL (public origin for
share URLs), NETPOL_MAX_UPLOAD_BYTES (e.g. 256MiB). Unset, the SQLite file in the
per-user data folder is used.
"""

from __future__ import annotations

from webapp.web import capacity_from_env, config_from_env, create_app, warm_up

__all__ = ["app", "capacity_from_env", "config_from_env"]

app = create_app(config_from_env())
warm_up(app)
