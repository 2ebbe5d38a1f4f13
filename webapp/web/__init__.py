"""The web app: an upload page, the diagram page behind each share link, and the JSON API.

`create_app` follows flaskr: defaults, then the instance folder's
`config.py` if there is one, then the mapping given (tests). Configuration:

- DATABASE: SQLAlchemy URL or SQLite file path; default `netpol-viz.sqlite3`
  in the per-user data folder (`default_database`), which survives
  reinstalling the app. The schema is created at start if missing (or on
  first contact, when the database is not up yet).
- BASE_URL: public origin (and path prefix) for the share URLs the API
  returns; unset, they are relative (`/a/<id>`). Never taken from Host.
  Also the origin that state-changing browser requests must come from.
- MAX_UPLOAD_BYTES (128 MiB), MAX_DOCUMENTS (200,000), ANALYSIS_CPU_LIMIT
  (20 s of CPU time, 0 for none and inline): the limits of one upload,
  answered with 413. A 20,000-pod `kubectl get pods -o yaml` export (one
  document per pod) fits. ANALYSIS_WALL_LIMIT (120 s): a backstop for an
  analysis that hangs, answered with 503.
- MAX_CONCURRENT_ANALYSES: analyses (and re-evaluations, diffs, exports) at
  once in this process; default: the CPUs it may use. One more gets 503.
- ANALYSIS_CACHE_ENTRIES (16), ANALYSIS_CACHE_BYTES (256 MiB): how many re-analysed
  stored inputs each process keeps warm for why / why not questions, and about how
  much memory they may hold (webapp.web.reanalysis).
- SAMPLES_DIR: the sample scenarios (default: the packaged sample-manifests).
- INSTANCE_PATH (only in the mapping given): the instance folder.
- COMPRESS_*: flask-compress's settings. Pages, JSON, scripts and styles go out
  compressed to a client that accepts it (the diagram page of 5,000 pods is 3.2 MB,
  0.24 MB compressed); a streamed response stays a stream, a byte range as it is.

`serve()` is what `netpol-viz serve` runs; `webapp.web.wsgi:app` is the
entry point for gunicorn. Both read NETPOL_DATABASE, NETPOL_BASE_URL and
NETPOL_MAX_UPLOAD_BYTES from the environment (`config_from_env`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response
from flask_compress import Compress

import webapp
from webapp.web import analysis, errors, reanalysis, security
from webapp.web.storage import Storage, describe

log = logging.getLogger(__name__)

MIB = 1024 * 1024
MULTIPART_OVERHEAD = 256 * 1024
"""Room for multipart boundaries and headers above MAX_UPLOAD_BYTES of content."""

DEFAULTS: dict[str, Any] = {
    "DATABASE": None,
    "BASE_URL": None,
    "MAX_UPLOAD_BYTES": 128 * MIB,
    "MAX_DOCUMENTS": 200_000,
    "ANALYSIS_CPU_LIMIT": 20,
    "ANALYSIS_WALL_LIMIT": 120,
    "MAX_CONCURRENT_ANALYSES": None,
    "ANALYSIS_CACHE_ENTRIES": 16,
    "ANALYSIS_CACHE_BYTES": 256 * MIB,
    "SAMPLES_DIR": None,
    "JSON_SORT_KEYS": False,
}

APP_NAME = "netpol-viz"
DATABASE_FILE = "netpol-viz.sqlite3"


def default_database() -> Path:
    """The SQLite file used when none is configured, in the per-user data folder.

    `$XDG_DATA_HOME/netpol-viz` (else `~/.local/share/netpol-viz`) on Linux,
    the platform's equivalent elsewhere; not the instance folder inside the
    virtualenv, where recreating the venv would break every share link.
    """
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / DATABASE_FILE


SIZE = re.compile(r"\s*([0-9]+)\s*(|B|KiB|MiB|GiB)\s*")
UNITS = {"": 1, "B": 1, "KiB": 1024, "MiB": MIB, "GiB": 1024 * MIB}


def parse_bytes(text: str) -> int:
    """`134217728`, `128MiB` or `512 KiB` as a number of bytes; ValueError otherwise."""
    match = SIZE.fullmatch(text)
    if match is None or int(match[1]) == 0:
        raise ValueError(
            f"{text!r} is not a size: give a positive number of bytes, or a number with "
            "KiB, MiB or GiB (e.g. 128MiB)"
        )
    return int(match[1]) * UNITS[match[2]]


def config_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings given as NETPOL_* environment variables (ValueError for a bad value)."""
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    if environ.get("NETPOL_DATABASE"):
        config["DATABASE"] = environ["NETPOL_DATABASE"]
    if environ.get("NETPOL_BASE_URL"):
        config["BASE_URL"] = environ["NETPOL_BASE_URL"]
    if environ.get("NETPOL_MAX_UPLOAD_BYTES"):
        try:
            config["MAX_UPLOAD_BYTES"] = parse_bytes(environ["NETPOL_MAX_UPLOAD_BYTES"])
        except ValueError as error:
            raise ValueError(f"NETPOL_MAX_UPLOAD_BYTES: {error}") from None
    config.update(capacity_from_env(environ))
    return config


CAPACITY = ("MAX_CONCURRENT_ANALYSES", "ANALYSIS_CPU_LIMIT", "ANALYSIS_WALL_LIMIT")


def capacity_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """NETPOL_MAX_CONCURRENT_ANALYSES (per worker process; the gunicorn config gives each
    worker its share of the CPUs), NETPOL_ANALYSIS_CPU_LIMIT, NETPOL_ANALYSIS_WALL_LIMIT (s)."""
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    for key in CAPACITY:
        text = environ.get("NETPOL_" + key, "").strip()
        if text:
            try:
                config[key] = float(text) if "." in text else int(text)
            except ValueError:
                raise ValueError(f"NETPOL_{key} must be a number, not {text!r}") from None
    return config


class WholeBodyCompress(Compress):
    """flask-compress, except for a 206: a static file's byte range is of the file as
    stored, and compressed its Content-Range would no longer describe the body."""

    def after_request(self, response: Response | None) -> Response:
        if response is not None and response.status_code == 206:
            return response
        return super().after_request(response)


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
    # First of the app's after_request hooks, so it runs last and compresses the final body.
    WholeBodyCompress(app)

    max_bytes = int(app.config["MAX_UPLOAD_BYTES"])
    app.config["MAX_CONTENT_LENGTH"] = max_bytes + MULTIPART_OVERHEAD
    # A pasted text may be as large as a file (Flask's form-field limit is 500 KB by
    # default); never below the body limit, so a 413 within it means "too many parts".
    app.config["MAX_FORM_MEMORY_SIZE"] = app.config["MAX_CONTENT_LENGTH"]
    # Werkzeug refuses more than 1,000 parts by default; a folder of manifests can have more.
    app.config["MAX_FORM_PARTS"] = max(1000, int(app.config["MAX_DOCUMENTS"]) + 1)
    if not app.config["SAMPLES_DIR"]:
        app.config["SAMPLES_DIR"] = str(webapp.data_dir("sample-manifests"))

    if not app.config["DATABASE"]:
        app.config["DATABASE"] = str(default_database())
    app.extensions["netpol_storage"] = Storage(app.config["DATABASE"])
    slots = app.config["MAX_CONCURRENT_ANALYSES"] or analysis.usable_cpus()
    app.extensions["netpol_analysis_slots"] = analysis.Slots(int(slots))
    app.extensions["netpol_warm"] = reanalysis.Warm(
        int(app.config["ANALYSIS_CACHE_ENTRIES"]), int(app.config["ANALYSIS_CACHE_BYTES"])
    )

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
    """Run the app with Werkzeug's threaded server (`netpol-viz serve`).

    `database` (--database) overrides NETPOL_DATABASE; a bad NETPOL_ value
    raises ValueError before anything starts.
    """
    from werkzeug.serving import run_simple

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = config_from_env()
    if database:
        config["DATABASE"] = database
    app = create_app(config)
    warm_up(app)
    shown_host = f"[{host}]" if ":" in host else host
    # Printed, not logged: the first thing a person starting the server needs to see.
    print(f"netpol-viz {webapp.__version__}: http://{shown_host}:{port}/", flush=True)
    print(f"analyses are stored in {describe(app.config['DATABASE'])}", flush=True)
    run_simple(host, port, app, threaded=True)
