"""The HTML pages: upload, sample gallery, and the diagram page `/a/<id>` (the share link).

Errors of an upload re-render the upload page with the message (never a
JSON body in the browser); an unknown analysis is the error page's 404.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug import Response
from werkzeug.exceptions import RequestEntityTooLarge

from webapp.web.api import share_url
from webapp.web.errors import NotFound, TooLarge, WebError, describe_bytes
from webapp.web.samples import find_sample, list_samples, sample_sources
from webapp.web.uploads import publish, sources_from_request, storage

bp = Blueprint("pages", __name__)

EXPORTS = ("json", "csv", "md", "html", "dot")


def samples_root() -> Path:
    return Path(current_app.config["SAMPLES_DIR"])


def render_upload_page(
    status: int = 200, error: str | None = None, problems: Sequence[dict[str, Any]] = ()
) -> tuple[str, int]:
    config = current_app.config
    html = render_template(
        "index.html",
        samples=[sample.as_context() for sample in list_samples(samples_root())],
        limits={
            "max_bytes": config["MAX_UPLOAD_BYTES"],
            "max_documents": config["MAX_DOCUMENTS"],
            "analysis_timeout": config["ANALYSIS_TIMEOUT"],
        },
        error=error,
        problems=list(problems),
    )
    return html, status


@bp.get("/")
def index() -> tuple[str, int]:
    return render_upload_page()


@bp.post("/upload")
def upload() -> Response | tuple[str, int]:
    try:
        try:
            sources = sources_from_request(request)
        except RequestEntityTooLarge:
            limit = describe_bytes(current_app.config["MAX_UPLOAD_BYTES"])
            raise TooLarge(f"The upload is too large: the limit is {limit}.") from None
        published = publish(sources)
    except WebError as error:
        if error.status not in (400, 413):
            raise
        return render_upload_page(error.status, error.message, error.problems)
    return redirect(url_for("pages.analysis", analysis_id=published.id), 303)


_sample_lock = threading.Lock()


@bp.get("/samples/<slug>")
def sample(slug: str) -> Response:
    """Analyse a sample once per process and send everyone to the same stored analysis.

    Samples are public, so sharing their analysis costs nothing, and a crawler
    following the gallery links does not fill the database.
    """
    found = find_sample(samples_root(), slug)
    if found is None:
        raise NotFound()
    cache: dict[str, str] = current_app.extensions.setdefault("netpol_sample_ids", {})
    with _sample_lock:
        analysis_id = cache.get(slug)
        if analysis_id is None or not storage().exists(analysis_id):
            analysis_id = publish(sample_sources(found)).id
            cache[slug] = analysis_id
    return redirect(url_for("pages.analysis", analysis_id=analysis_id), 303)


@bp.get("/a/<analysis_id>")
def analysis(analysis_id: str) -> str:
    stored = storage().load(analysis_id)
    if stored is None:
        raise NotFound()
    from webapp.render import view_data  # lazily: the API must not depend on the diagram code

    document = json.loads(stored.document)
    urls = {
        "share": share_url(analysis_id),
        "delete": url_for("api.delete", analysis_id=analysis_id),
        "api": url_for("api.read", analysis_id=analysis_id),
    }
    for fmt in EXPORTS:
        urls[fmt] = url_for("api.export", analysis_id=analysis_id, fmt=fmt)
    return render_template(
        "analysis.html",
        analysis_id=analysis_id,
        document=document,
        view=view_data(document),
        urls=urls,
        meta={
            "createdAt": stored.created_at.isoformat(timespec="seconds"),
            "version": stored.netpol_viz_version,
        },
    )
