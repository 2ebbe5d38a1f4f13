"""The JSON API (CONTRACT §4): create, read, export and revoke analyses; ask why one
node can or cannot reach another; compare two analyses.

There is deliberately no route that lists analyses: a share id is the only
way to reach one. Documents are served as the JSON text that was stored,
upgraded once to version 2 when they were stored before it
(webapp.web.reanalysis). A why / why not question is answered from the
re-analysis of the stored input, kept warm per process (`reanalysis.Warm`).
Uploads, re-analyses, diffs and exports each hold one of the process's
analysis slots (`uploads.analysis_slot`): at capacity they are answered 503
with Retry-After at once, an upload before its body is read.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for

import webapp
from webapp import outputs
from webapp.core import UnusableInput
from webapp.core.document import VERSION
from webapp.web import analysis as runner
from webapp.web import reanalysis
from webapp.web.errors import BadRequest, Forbidden, NotFound
from webapp.web.storage import Deletion, StoredAnalysis
from webapp.web.uploads import analysis_slot, publish, sources_from_request, storage

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")

JSON = "application/json"


def share_url(analysis_id: str) -> str:
    """`/a/<id>`, under BASE_URL when configured; never built from the request's Host."""
    base = current_app.config.get("BASE_URL")
    if base:
        return str(base).rstrip("/") + "/a/" + analysis_id
    return url_for("pages.analysis", analysis_id=analysis_id)


def warm() -> reanalysis.Warm:
    return current_app.extensions["netpol_warm"]  # type: ignore[no-any-return]


def load_or_404(analysis_id: str) -> StoredAnalysis:
    """The stored analysis, its document in version 2 (upgraded once if stored before)."""
    stored = storage().load(analysis_id)
    if stored is None:
        raise NotFound()
    if reanalysis.document_version(stored.document) != VERSION:
        with analysis_slot():
            stored = reanalysis.upgraded(stored, storage(), warm(), webapp.__version__)
    return stored


@bp.post("/analyses")
@analysis_slot()
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
    warm().discard(analysis_id)
    return Response(status=204)


def _exporters() -> dict[str, outputs.Format]:
    """The formats of the registry that `export.<name>` serves."""
    return {f.name: f for f in outputs.offered_by(outputs.EXPORT)}


# Every page shows uploaded text through the `visible` macro, whose filter is the one
# rule of webapp.core.text.is_hidden; the download links come from the registry.
bp.record_once(lambda state: outputs.install(state.app.jinja_env))


@bp.get("/analyses/<analysis_id>/export.<fmt>")
def export(analysis_id: str, fmt: str) -> Response:
    chosen = _exporters().get(fmt)
    if chosen is None:
        raise NotFound()
    stored = load_or_404(analysis_id)
    with analysis_slot():
        body = chosen.write(json.loads(stored.document))
    response = Response(body, content_type=chosen.media_type)
    filename = f"netpol-{analysis_id[:8]}.{chosen.extension}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- why / why not ---------------------------------------------------------------------

PROTOCOLS = ("TCP", "UDP", "SCTP")
NAME_LIMIT = 1000
"""Longest `from`/`to` accepted: a node id, NS/NAME or an address is far shorter."""
PORT = re.compile(r"[0-9]{1,5}")


def _query_end(parameter: str) -> str:
    text = request.args.get(parameter, "").strip()
    if not text:
        raise BadRequest(
            f"The parameter '{parameter}' is missing: give a node id, NS/NAME, "
            "an inferred node's name, or an IP address or CIDR.",
            details={"parameter": parameter, "candidates": []},
        )
    if len(text) > NAME_LIMIT:
        raise BadRequest(
            f"The parameter '{parameter}' is longer than {NAME_LIMIT} characters.",
            details={"parameter": parameter, "candidates": []},
        )
    return text


def _query_port() -> int | None:
    text = request.args.get("port", "").strip()
    if not text:
        return None
    number = int(text) if PORT.fullmatch(text) else 0
    if not 1 <= number <= 65535:
        raise BadRequest(
            "The parameter 'port' must be a number from 1 to 65535.",
            details={"parameter": "port"},
        )
    return number


def _query_protocol() -> str | None:
    text = request.args.get("protocol", "").strip().upper()
    if not text or text == "ANY":
        return None
    if text not in PROTOCOLS:
        raise BadRequest(
            "The parameter 'protocol' must be TCP, UDP or SCTP (or left out for any protocol).",
            details={"parameter": "protocol"},
        )
    return text


@bp.get("/analyses/<analysis_id>/query")
def query(analysis_id: str) -> Response:
    """Why can (or can't) `from` reach `to`: the JSON of `netpol-viz query --format json`."""
    if not storage().exists(analysis_id):
        raise NotFound()
    source, target = _query_end("from"), _query_end("to")
    port, protocol = _query_port(), _query_protocol()

    def stored_input() -> str:
        stored = storage().load(analysis_id)
        if stored is None:
            raise NotFound()
        if not stored.input:
            raise BadRequest(
                "This analysis was stored without its input, so it cannot be asked why: "
                "upload the manifests again."
            )
        return stored.input

    analysis = warm().peek(analysis_id)
    try:
        if analysis is None:  # a re-analysis costs CPU: it needs a slot, a warm answer does not
            with analysis_slot():
                analysis = warm().analysis(analysis_id, stored_input)
    except UnusableInput as error:
        unusable = runner.Unusable.of(error)
        raise BadRequest(unusable.message, unusable.problems) from None
    answer = reanalysis.explain_pair(analysis, source, target, protocol, port)
    if answer.json is None:
        raise BadRequest(
            f"{answer.unknown}: {answer.message}",
            details={"parameter": answer.unknown, "candidates": list(answer.candidates)},
        )
    return Response(answer.json, mimetype=JSON)


# --- diff ------------------------------------------------------------------------------


def diff_pair(old_id: str, new_id: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Both stored documents and their diff, with the policies' YAML when both inputs were
    stored (rows stored before inputs were kept have none); 404 when either is unknown."""
    from webapp.core.diff import diff_documents

    old, new = load_or_404(old_id), load_or_404(new_id)
    documents = json.loads(old.document), json.loads(new.document)
    with analysis_slot():
        inputs = (json.loads(old.input), json.loads(new.input)) if old.input and new.input else None
        return (*documents, diff_documents(*documents, inputs))


DIFF_FORMATS = {"md": ("text/markdown", "md"), "csv": ("text/csv", "csv")}
"""`?format=` of the diff route besides json: media type and file extension."""


@bp.get("/diff/<old_id>/<new_id>")
def diff(old_id: str, new_id: str) -> Response:
    """What changes from one stored analysis to another (as `netpol-viz diff --format json`);
    `?format=md` or `csv` is the `diff` command's Markdown or CSV, as a download."""
    from webapp.review import diff_csv, diff_markdown

    fmt = request.args.get("format", "json")
    if fmt != "json" and fmt not in DIFF_FORMATS:
        raise BadRequest(
            "The parameter 'format' must be json, md or csv.", details={"parameter": "format"}
        )
    old, new, changes = diff_pair(old_id, new_id)
    if fmt == "json":
        return Response(runner.to_json(changes), mimetype=JSON)
    media_type, extension = DIFF_FORMATS[fmt]
    body = (diff_markdown if fmt == "md" else diff_csv)(changes, old, new)
    response = Response(body, content_type=f"{media_type}; charset=utf-8")
    filename = f"netpol-diff-{old_id[:8]}-{new_id[:8]}.{extension}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
