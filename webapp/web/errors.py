"""Typed errors of the web app, rendered as JSON under /api and as a page elsewhere.

Bad input is answered with 400 or 413 and a message that says what to do;
an unknown, malformed and deleted analysis id all get the one NOT_FOUND
answer, so a response never tells whether an id ever existed. A bug is a
500 with a generic message; the traceback goes to the log only.
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

log = logging.getLogger(__name__)

NOT_FOUND = "Not found: this address is wrong, or the analysis was deleted."
INTERNAL = "Internal error: the server could not handle this request. It has been logged."


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
        limit = current_app.config["MAX_UPLOAD_BYTES"]
        return f"The upload is too large: the limit is {describe_bytes(limit)}."
    if error.code == 405:
        return f"Method {request.method} is not allowed here."
    return error.description or error.name


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
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
