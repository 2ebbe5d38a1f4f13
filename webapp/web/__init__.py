"""The web app: an upload page, the diagram page behind each share link, and the JSON API.

`create_app` follows flaskr: defaults, then the instance folder's
`config.py` if there is one, then the mapping given (tests). Configuration:

- DATABASE: SQLAlchemy URL or SQLite file path; default `netpol-viz.sqlite3`
  in the instance folder. The schema is created at start if missing.
- BASE_URL: public origin (and path prefix) for the share URLs the API
  returns; unset, they are relative (`/a/<id>`). Never taken from Host.
- MAX_UPLOAD_BYTES (16 MiB), MAX_DOCUMENTS (20,000), ANALYSIS_CPU_LIMIT
  (20 s of CPU time, 0 for none and inline): the limits of one upload,
  answered with 413. ANALYSIS_WALL_LIMIT (120 s): a backstop for an analysis
  that hangs, answered with 503.
- MAX_CONCURRENT_ANALYSES: analyses (and re-evaluations, diffs, exports) at
  once in this process; default: the CPUs it may use. One more gets 503.
- SAMPLES_DIR: the sample scenarios (default: the packaged sample-manifests).
- INSTANCE_PATH (only in the mapping given): the instance folder.

`serve()` is what `netpol-viz serve` runs; `webapp.web.wsgi:app` is the
entry point for gunicorn.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

import webapp
from webapp.web import analysis, errors, security
from webapp.web.storage import Storage, database_url

log = logging.getLogger(__name__)

MIB = 1024 * 1024
MULTIPART_OVERHEAD = 256 * 1024
"""Room for multipart boundaries and headers above MAX_UPLOAD_BYTES of content."""

DEFAULTS: dict[str, Any] = {
    "DATABASE": None,
    "BASE_URL": None,
    "MAX_UPLOAD_BYTES": 16 * MIB,
    "MAX_DOCUMENTS": 20_000,
    "ANALYSIS_CPU_LIMIT": 20,
    "ANALYSIS_WALL_LIMIT": 120,
    "MAX_CONCURRENT_ANALYSES": None,
    "SAMPLES_DIR": None,
    "JSON_SORT_KEYS": False,
}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The Flask app, configured from defaults, instance/config.py and then `config`."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=(config or {}).get("INSTANCE_PATH"),
        template_folder=str(webapp.data_dir("templates")),
        static_folder=str(webapp.data_dir("static")),
    )
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    if config is not None:
        app.config.from_mapping(config)
    app.json.sort_keys = False  # type: ignore[attr-defined]

    max_bytes = int(app.config["MAX_UPLOAD_BYTES"])
    # A pasted text may be as large as a file: Flask's form-field limit is 500 KB by default.
    app.config["MAX_CONTENT_LENGTH"] = max_bytes + MULTIPART_OVERHEAD
    app.config["MAX_FORM_MEMORY_SIZE"] = max_bytes
    # Werkzeug refuses more than 1,000 parts by default; a folder of manifests can have more.
    app.config["MAX_FORM_PARTS"] = max(1000, int(app.config["MAX_DOCUMENTS"]) + 1)
    if not app.config["SAMPLES_DIR"]:
        app.config["SAMPLES_DIR"] = str(webapp.data_dir("sample-manifests"))

    database = app.config["DATABASE"]
    if not database:
        os.makedirs(app.instance_path, exist_ok=True)
        database = os.path.join(app.instance_path, "netpol-viz.sqlite3")
        app.config["DATABASE"] = database
    app.extensions["netpol_storage"] = Storage(database)
    slots = app.config["MAX_CONCURRENT_ANALYSES"] or analysis.usable_cpus()
    app.extensions["netpol_analysis_slots"] = analysis.Slots(int(slots))

    from webapp.web import api, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    errors.install(app)
    security.install(app)
    return app


def warm_up(app: Flask) -> None:
    """Start the analysis forkserver and import the diagram code before the first request.

    Both take a second or two; a server pays it at start rather than on a
    user's first upload and first diagram.
    """
    if app.config["ANALYSIS_CPU_LIMIT"]:
        analysis.start()
    try:
        import webapp.render  # noqa: F401
    except ImportError:  # the pages answer 500 then; the API keeps working
        log.exception("the diagram code cannot be imported")


def serve(host: str, port: int, database: str | None) -> None:
    """Run the app with Werkzeug's threaded server (`netpol-viz serve`)."""
    from werkzeug.serving import run_simple

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app({"DATABASE": database} if database else None)
    warm_up(app)
    url = database_url(app.config["DATABASE"])
    log.info("storing analyses in %s", url.split("@")[-1])  # no password in the log
    run_simple(host, port, app, threaded=True)
