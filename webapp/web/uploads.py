"""From a request to a stored analysis: read the upload, analyse it within the limits, save it.

Shared by the API and the upload page so both accept the same input and
answer the same errors. Accepted forms of upload:

- multipart files in the field `manifests` (repeatable; names kept as uploaded),
- a form field `text` (the paste box), alongside files or alone,
- a raw YAML or JSON body (named `upload.yaml`), whatever its Content-Type,
  so `curl --data-binary @policy.yaml` works although curl calls it a form.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Request, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

import webapp
from webapp.core.input.raw import Limits, SourceText
from webapp.web import analysis
from webapp.web.errors import (
    NothingUsable,
    TooLarge,
    Unavailable,
    WebError,
    describe_bytes,
    too_large_message,
)
from webapp.web.security import loggable
from webapp.web.storage import Storage

log = logging.getLogger(__name__)

FILE_FIELD = "manifests"
TEXT_FIELD = "text"
TEXT_NAME = "pasted.yaml"
BODY_NAME = "upload.yaml"

NOTHING_UPLOADED = (
    f"Nothing to analyse: upload manifest files (form field '{FILE_FIELD}'), "
    f"paste YAML (form field '{TEXT_FIELD}') or send YAML or JSON as the request body."
)


class Busy(Unavailable):
    """The server is at its capacity (not the request's fault): come back later."""

    def __init__(self, message: str) -> None:
        # Seconds: an analysis slot frees within seconds, typically.
        super().__init__(message, retry_after=2)
        # The request's body, if any, was left unread: do not keep the connection for more.
        self.headers["Connection"] = "close"


class ClientGone(WebError):
    """The client hung up while its upload was analysed: nobody reads this answer."""

    status = 499  # nginx's "client closed request", for the access log

    def __init__(self) -> None:
        super().__init__("The connection was closed before the analysis finished.")


@dataclass(frozen=True, slots=True)
class Published:
    id: str
    delete_token: str
    document: str
    """The analysis document as JSON text."""


@contextmanager
def reading_body() -> Iterator[None]:
    """Werkzeug's 413 while reading the body, as a TooLarge naming the limit that was hit."""
    try:
        yield
    except RequestEntityTooLarge:
        raise TooLarge(too_large_message()) from None


def sources_from_request(request: Request) -> list[SourceText]:
    """The uploaded files, the pasted text or the raw body; empty parts are left out."""
    with reading_body():
        if request.mimetype == "multipart/form-data":
            return _form_sources(request)
        if request.mimetype == "application/x-www-form-urlencoded":
            raw = request.get_data(cache=True)  # kept, so the form can still be parsed below
            if TEXT_FIELD in request.form:
                return _form_sources(request)
            return [SourceText(BODY_NAME, raw)] if raw.strip() else []
        raw = request.get_data(cache=False)
        return [SourceText(BODY_NAME, raw)] if raw.strip() else []


def _form_sources(request: Request) -> list[SourceText]:
    return form_sources(request, FILE_FIELD, TEXT_FIELD)


def form_sources(request: Request, file_field: str, text_field: str) -> list[SourceText]:
    """The files of `file_field` and the text of `text_field` of a posted form."""
    sources = []
    with reading_body():
        uploads = request.files.getlist(file_field)
        text = request.form.get(text_field, "")
    for upload in uploads:
        data = upload.read()
        # A file input left empty still sends a part with no name and no bytes.
        if upload.filename or data:
            sources.append(SourceText(upload.filename or "upload.yaml", data))
    if text.strip():
        sources.append(SourceText(TEXT_NAME, text.encode("utf-8")))
    return sources


def limits() -> Limits:
    config = current_app.config
    return Limits(max_bytes=config["MAX_UPLOAD_BYTES"], max_documents=config["MAX_DOCUMENTS"])


def budget() -> analysis.Budget:
    config = current_app.config
    return analysis.Budget(
        cpu=float(config["ANALYSIS_CPU_LIMIT"]), wall=float(config["ANALYSIS_WALL_LIMIT"])
    )


@contextmanager
def analysis_slot() -> Iterator[None]:
    """Hold one of this process's analysis slots for the block, or answer 503 at once.

    Taken before an upload's body is read (as a decorator of the view), so a
    server at capacity neither reads nor keeps in memory uploads it cannot
    analyse now.
    """
    slots: analysis.Slots = current_app.extensions["netpol_analysis_slots"]
    try:
        with slots.take():
            yield
    except analysis.AtCapacity:
        log.warning("busy: %d analyses running, %s refused", slots.size, request.path)
        raise Busy(
            "The server is busy: it is analysing as many uploads as it can at once. "
            "Try again in a few seconds."
        ) from None


def client_socket() -> socket.socket | None:
    """The request's connection (gunicorn or Werkzeug), to notice a client that hangs up."""
    for key in ("gunicorn.socket", "werkzeug.socket"):
        connection = request.environ.get(key)
        if isinstance(connection, socket.socket):
            return connection
    return None


def overdue(error: analysis.AnalysisTimeout) -> Busy:
    """The wall-clock backstop: a swamped machine (or a hung child), not the input's fault."""
    return Busy(
        f"The analysis did not finish within {error.seconds:g} s (the server may be "
        "overloaded). Try again later."
    )


def over_cpu(error: analysis.OverCpu) -> TooLarge:
    return TooLarge(
        f"The analysis needed more than {error.seconds} s of CPU time, the limit of this "
        "server. `netpol-viz analyze` on your machine has no such limit."
    )


def publish(sources: Sequence[SourceText]) -> Published:
    """Analyse and store an upload; raises WebError for anything but success."""
    return store(analyse(sources))


@dataclass(frozen=True, slots=True)
class Analysed:
    """An upload analysed but not yet stored (so that a diff stores both sides or neither)."""

    result: analysis.Result
    names: str
    """The first file names, for the log."""
    size: int
    files: int
    started: float


def analyse(sources: Sequence[SourceText]) -> Analysed:
    """Analyse an upload within the limits; raises WebError for anything but success."""
    if not sources:
        raise NothingUsable(NOTHING_UPLOADED)
    bounds = limits()
    size = sum(len(source.data) for source in sources)
    if size > bounds.max_bytes:
        raise TooLarge(f"The upload is too large: the limit is {describe_bytes(bounds.max_bytes)}.")
    # Before the analysis: an upload must not spend CPU only to fail to be stored.
    storage().check()
    started = time.monotonic()
    names = ", ".join(loggable(source.name, 80) for source in sources[:10])
    try:
        result = analysis.run(sources, bounds, budget(), client=client_socket())
    except analysis.Unusable as error:
        log.info("upload refused (%s): %s", names, loggable(error.message))
        refusal = TooLarge if error.too_large else NothingUsable
        raise refusal(error.message, error.problems) from None
    except analysis.OverCpu as error:
        log.warning("analysis over %d s of CPU: %d files (%s)", error.seconds, len(sources), names)
        raise over_cpu(error) from None
    except analysis.AnalysisTimeout as error:
        log.warning("analysis not done in %g s: %d files (%s)", error.seconds, len(sources), names)
        raise overdue(error) from None
    except analysis.ClientGone:
        log.info("client gone, analysis stopped: %d files (%s)", len(sources), names)
        raise ClientGone() from None
    except analysis.AnalysisFailed as error:
        # The child's traceback, one escaped log line per line: it may quote the upload.
        trace = "\n".join(loggable(line, 1000) for line in str(error).splitlines())
        log.error("analysis failed for %d files (%s):\n%s", len(sources), names, trace)
        raise WebError("Internal error: the analysis failed. It has been logged.") from None
    return Analysed(result, names, size, len(sources), started)


def store(analysed: Analysed) -> Published:
    """Save an analysed upload under a new share id."""
    result = analysed.result
    saved = storage().save(result.document, result.sanitized, webapp.__version__)
    log.info(
        "analysis %s… stored: %d files (%s), %d bytes, %.2f s",
        saved.id[:8],
        analysed.files,
        analysed.names,
        analysed.size,
        time.monotonic() - analysed.started,
    )
    return Published(saved.id, saved.delete_token, result.document)


def storage() -> Storage:
    return current_app.extensions["netpol_storage"]  # type: ignore[no-any-return]
