"""The JSON API (CONTRACT §4): create, read, export and revoke analyses.

There is deliberately no route that lists analyses: a share id is the only
way to reach one. Documents are served as the JSON text that was stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for

from webapp.web.errors import Forbidden, NotFound
from webapp.web.storage import Deletion, StoredAnalysis
from webapp.web.uploads import publish, sources_from_request, storage

bp = Blueprint("api", __name__, url_prefix="/api/v1")

JSON = "application/json"


def share_url(analysis_id: str) -> str:
    """`/a/<id>`, under BASE_URL when configured; never built from the request's Host."""
    base = current_app.config.get("BASE_URL")
    if base:
        return str(base).rstrip("/") + "/a/" + analysis_id
    return url_for("pages.analysis", analysis_id=analysis_id)


def load_or_404(analysis_id: str) -> StoredAnalysis:
    stored = storage().load(analysis_id)
    if stored is None:
        raise NotFound()
    return stored


@bp.post("/analyses")
def create() -> Response:
    published = publish(sources_from_request(request))
    head = json.dumps(
        {"id": published.id, "url": share_url(published.id), "deleteToken": published.delete_token}
    )
    # The document is spliced in as stored rather than parsed and dumped again: it can be large.
    body = head[:-1] + ', "analysis": ' + published.document + "}"
    response = Response(body, status=201, mimetype=JSON)
    response.headers["Location"] = url_for("api.read", analysis_id=published.id)
    return response


@bp.get("/analyses/<analysis_id>")
def read(analysis_id: str) -> Response:
    return Response(load_or_404(analysis_id).document, mimetype=JSON)


@bp.delete("/analyses/<analysis_id>")
def delete(analysis_id: str) -> Response:
    token = request.headers.get("X-Delete-Token")
    if token is None and request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict) and isinstance(body.get("deleteToken"), str):
            token = body["deleteToken"]
    outcome = storage().delete(analysis_id, token or "")
    if outcome is Deletion.NOT_FOUND:
        raise NotFound()
    if outcome is Deletion.WRONG_TOKEN:
        raise Forbidden("The delete token is missing or wrong.")
    return Response(status=204)


def _exporters() -> dict[str, tuple[str, Callable[[dict[str, Any]], str | bytes]]]:
    # Imported here so the API keeps working while an exporter is being built.
    from webapp import exports, render

    return {
        "json": ("application/json", exports.to_json),
        "csv": ("text/csv; charset=utf-8", exports.to_csv),
        "md": ("text/markdown; charset=utf-8", exports.to_markdown),
        "dot": ("text/vnd.graphviz; charset=utf-8", exports.to_dot),
        "html": ("text/html; charset=utf-8", render.standalone_html),
    }


EXPORT_FORMATS = ("json", "csv", "md", "dot", "html")


@bp.get("/analyses/<analysis_id>/export.<fmt>")
def export(analysis_id: str, fmt: str) -> Response:
    if fmt not in EXPORT_FORMATS:
        raise NotFound()
    stored = load_or_404(analysis_id)
    content_type, build = _exporters()[fmt]
    response = Response(build(json.loads(stored.document)), content_type=content_type)
    filename = f"netpol-{analysis_id[:8]}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
