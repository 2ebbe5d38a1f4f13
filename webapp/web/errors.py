"""Typed errors of the web app, rendered as JSON under /api and as a page elsewhere.

Bad input is answered with 400 or 413 and a message that says what to do;
an unknown, malformed and deleted analysis id all get the one NOT_FOUND
answer, so a response never tells whether an id ever existed. The server's
own lack of capacity (its database unreachable) is a 503 with Retry-After,
never a client error. A bug is a 500 with a generic message; the traceback
goes to the log only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from jinja2 import TemplateNotFound
from markupsafe import escape
from werkzeug import Response
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from webapp.web.security import loggable
from webapp.web.storage import Unreachable

log = logging.getLogger(__name__)

NOT_FOUND = "Not found: this address is wrong, or the analysis was deleted."
INTERNAL = "Internal error: the server could not handle this request. It has been logged."
DATABASE_UNREACHABLE = (
    "The server cannot reach its database right now (nothing was stored or changed): "
    "try again in a minute."
)
RETRY_AFTER = 30
"""Seconds a client is asked to wait after a 503 (a database restart takes about that)."""


class WebError(Exception):
    """An answer other than success, with the HTTP status it maps to."""

    status = 500

    def __init__(
        self,
        message: str,
        problems: Sequence[dict[str, Any]] = (),
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems)
        self.details = dict(details or {})
        """More keys of the JSON answer (e.g. `candidates` of a query naming no node)."""
        self.headers: dict[str, str] = {}
        """More headers of the answer (e.g. Retry-After)."""


class NothingUsable(WebError):
    """The upload holds nothing that can be analysed (empty, binary, no manifests)."""

    status = 400


class BadRequest(WebError):
    """A question the API cannot answer as asked (a missing parameter, a bad port)."""

    status = 400


class TooLarge(WebError):
    """Over a limit of the upload itself: bytes, documents, or the CPU time it needs."""

    status = 413


class NotFound(WebError):
    status = 404

    def __init__(self) -> None:
        super().__init__(NOT_FOUND)


class Forbidden(WebError):
    status = 403


class Unavailable(WebError):
    """The server cannot serve this now (its database is unreachable, or it is busy): retry."""

    status = 503

    def __init__(self, message: str, retry_after: int = RETRY_AFTER) -> None:
        super().__init__(message)
        self.headers["Retry-After"] = str(retry_after)


def wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def error_response(
    status: int,
    message: str,
    problems: Sequence[dict[str, Any]] = (),
    details: Mapping[str, Any] | None = None,
) -> Response:
    """The error as JSON `{"error", "problems", ...details}` under /api, else the error page."""
    if wants_json():
        response = jsonify({"error": message, "problems": list(problems), **(details or {})})
        response.status_code = status
        return response
    try:
        html = render_template("error.html", status=status, message=message)
    except TemplateNotFound:
        # The page must still answer if the templates are missing from an install.
        html = f"<!doctype html><title>{status}</title><h1>{status}</h1><p>{escape(message)}</p>"
    return Response(html, status=status, mimetype="text/html")


def _http_message(error: HTTPException) -> str:
    if error.code == 404:
        return NOT_FOUND
    if error.code == 413:
        return too_large_message()
    if error.code == 405:
        return f"Method {request.method} is not allowed here."
    return error.description or error.name


def too_large_message() -> str:
    """Why Werkzeug refused to read this request's body (413): its bytes, or its form parts.

    MAX_FORM_MEMORY_SIZE is never below MAX_CONTENT_LENGTH (see create_app), so a
    multipart body within the byte limit was refused for its number of parts.
    """
    config = current_app.config
    length = request.content_length
    if (
        request.mimetype == "multipart/form-data"
        and length is not None
        and length <= config["MAX_CONTENT_LENGTH"]
    ):
        return (
            f"The upload has more than {config['MAX_FORM_PARTS']:,} form parts (files and "
            "fields), the limit of this server: send fewer, larger files (one file can hold "
            "many documents, as `kubectl get -o yaml` writes them)."
        )
    return f"The upload is too large: the limit is {describe_bytes(config['MAX_UPLOAD_BYTES'])}."


def describe_bytes(count: int) -> str:
    if count >= 1024 * 1024 and count % (1024 * 1024) == 0:
        return f"{count // (1024 * 1024)} MiB"
    if count >= 1024 and count % 1024 == 0:
        return f"{count // 1024} KiB"
    return f"{count} bytes"


def handle_web_error(error: WebError) -> Response:
    response = error_response(error.status, error.message, error.problems, error.details)
    response.headers.update(error.headers)
    return response


def handle_unreachable(error: Unreachable) -> Response:
    log.warning(
        "database unreachable on %s %s: %s", request.method, loggable(request.path), error
    )
    return handle_web_error(Unavailable(DATABASE_UNREACHABLE))


def handle_http_exception(error: HTTPException) -> Response:
    if error.code is None or error.code < 400:
        return error.get_response()
    response = error_response(error.code, _http_message(error))
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, loggable(request.path))
    return error_response(500, INTERNAL)


def install(app: Flask) -> None:
    app.register_error_handler(WebError, handle_web_error)
    app.register_error_handler(Unreachable, handle_unreachable)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
