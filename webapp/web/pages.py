"""The HTML pages: upload, sample gallery, the diagram page `/a/<id>` (the share link),
its printable review report `/a/<id>/report`, and the diff of two analyses
(`/diff` to upload or name both, `/diff/<old-id>/<new-id>` to share).

Errors of an upload re-render the upload (or diff) page with the message
(never a JSON body in the browser); an unknown analysis is the error page's 404.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug import Response

from webapp import outputs
from webapp.web.api import diff_pair, load_or_404, share_url, warm
from webapp.web.errors import NotFound, NothingUsable, WebError
from webapp.web.samples import find_sample, list_samples, sample_sources
from webapp.web.storage import ID_PATTERN, StoredAnalysis
from webapp.web.uploads import (
    Analysed,
    analyse,
    analysis_slot,
    form_sources,
    publish,
    reading_body,
    sources_from_request,
    storage,
    store,
)

bp = Blueprint("pages", __name__)

EXPORTS = tuple(f.name for f in outputs.offered_by(outputs.EXPORT))


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
            "analysis_cpu": config["ANALYSIS_CPU_LIMIT"],
        },
        error=error,
        problems=list(problems),
    )
    return html, status


@bp.get("/")
def index() -> tuple[str, int]:
    return render_upload_page()


@bp.post("/upload")
@analysis_slot()
def upload() -> Response | tuple[str, int]:
    try:
        published = publish(sources_from_request(request))
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
            with analysis_slot():
                analysis_id = publish(sample_sources(found)).id
            cache[slug] = analysis_id
    return redirect(url_for("pages.analysis", analysis_id=analysis_id), 303)


def derived(stored: StoredAnalysis, name: str, build: Callable[[], Any]) -> Any:
    """What a page derives from a stored document, kept warm: a stored document never
    changes (once upgraded), so the second view of a large analysis is not rebuilt.
    The size of data is taken to be the document's, a generous guess."""

    def sized() -> tuple[Any, int]:
        value = build()
        return value, len(value) if isinstance(value, str) else len(stored.document)

    return warm().get(stored.id, name, sized)


@bp.get("/a/<analysis_id>")
def analysis(analysis_id: str) -> str:
    stored = load_or_404(analysis_id)
    from webapp.render import view_data  # lazily: the API must not depend on the diagram code

    document = json.loads(stored.document)
    view = derived(stored, "view", lambda: view_data(document))
    urls = {
        "share": share_url(analysis_id),
        "delete": url_for("api.delete", analysis_id=analysis_id),
        "api": url_for("api.read", analysis_id=analysis_id),
        "query": url_for("api.query", analysis_id=analysis_id),
        "report": url_for("pages.report", analysis_id=analysis_id),
        "reviewMd": url_for("api.export", analysis_id=analysis_id, fmt="review.md"),
        "compare": url_for("pages.diff_form", before=analysis_id),
    }
    for fmt in EXPORTS:
        urls[fmt] = url_for("api.export", analysis_id=analysis_id, fmt=fmt)
    return render_template(
        "analysis.html",
        analysis_id=analysis_id,
        document=document,
        view=view,
        urls=urls,
        meta={
            "createdAt": stored.created_at.isoformat(timespec="seconds"),
            "version": stored.netpol_viz_version,
        },
    )


@bp.get("/a/<analysis_id>/report")
def report(analysis_id: str) -> str:
    """The printable review report: summary, coverage, findings, flows, namespace matrix."""
    from webapp.web.report import report_data

    stored = load_or_404(analysis_id)

    def page() -> str:
        # The whole page is kept: everything on it is fixed for the stored analysis, and
        # rendering a large report costs more than computing its data.
        return render_template(
            "report.html",
            report=report_data(json.loads(stored.document)),
            urls={
                "analysis": url_for("pages.analysis", analysis_id=analysis_id),
                "reviewMd": url_for("api.export", analysis_id=analysis_id, fmt="review.md"),
            },
            meta={
                "createdAt": stored.created_at.isoformat(timespec="seconds"),
                "version": stored.netpol_viz_version,
            },
        )

    return str(derived(stored, "report", page))


# --- diff -------------------------------------------------------------------------------

SIDES = ("before", "after")


def share_id(text: str) -> str:
    """The id in what was typed in a diff form's share-link box: an id, `/a/<id>` or a URL."""
    text = text.strip()
    tail = text.rsplit("/a/", 1)[-1] if "/a/" in text else text
    return tail.split("?", 1)[0].split("#", 1)[0].strip("/")


def diff_url(old_id: str, new_id: str) -> str:
    """`/diff/<old>/<new>`, under BASE_URL when configured; never built from the request's Host."""
    path = url_for("pages.diff", old_id=old_id, new_id=new_id)
    base = current_app.config.get("BASE_URL")
    if base:
        return str(base).rstrip("/") + path[len(request.script_root) :]
    return path


def render_diff_form(
    status: int = 200,
    error: str | None = None,
    problems: Sequence[dict[str, Any]] = (),
    values: dict[str, str] | None = None,
) -> tuple[str, int]:
    config = current_app.config
    html = render_template(
        "diff_form.html",
        sides=SIDES,
        values=values or {},
        limits={
            "max_bytes": config["MAX_UPLOAD_BYTES"],
            "max_documents": config["MAX_DOCUMENTS"],
            "analysis_cpu": config["ANALYSIS_CPU_LIMIT"],
        },
        error=error,
        problems=list(problems),
    )
    return html, status


@bp.get("/diff")
def diff_form() -> tuple[str, int]:
    values = {f"{side}_id": request.args.get(side, "")[:200] for side in SIDES}
    return render_diff_form(values=values)


@dataclass(frozen=True, slots=True)
class _Side:
    """One side of a posted diff: an existing analysis, or an upload analysed but not stored."""

    existing: str = ""
    analysed: Analysed | None = None


class UnknownSide(WebError):
    """A side of a posted diff names no stored analysis (the same answer for any reason)."""

    status = 404


def _side(side: str) -> _Side:
    """Read and analyse one side of the posted form; errors name the side."""
    label = side.capitalize()
    sources = form_sources(request, f"{side}_manifests", f"{side}_text")
    given_id = request.form.get(f"{side}_id", "").strip()
    if sources and given_id:
        raise NothingUsable(f"{label}: give files, pasted text or a share link, not both.")
    if given_id:
        analysis_id = share_id(given_id)
        if not (ID_PATTERN.fullmatch(analysis_id) and storage().exists(analysis_id)):
            raise UnknownSide(
                f"{label}: no analysis has this share link (it is wrong, or it was deleted)."
            )
        return _Side(existing=analysis_id)
    if not sources:
        raise NothingUsable(
            f"{label}: nothing to compare: choose files, paste manifests or give a share link."
        )
    try:
        return _Side(analysed=analyse(sources))
    except WebError as error:
        error.message = f"{label}: {error.message}"
        raise


@bp.post("/diff")
@analysis_slot()  # both sides are analysed one after the other: one slot
def diff_upload() -> Response | tuple[str, int]:
    """Analyse (or look up) both sides, store the uploads, and open the diff page."""
    values: dict[str, str] = {}
    try:
        with reading_body():
            values = {
                key: request.form.get(key, "")
                for side in SIDES
                for key in (f"{side}_id", f"{side}_text")
            }
        sides = [_side(side) for side in SIDES]
    except WebError as error:
        if error.status not in (400, 404, 413):
            raise
        return render_diff_form(error.status, error.message, error.problems, values)
    # Stored only once both sides are analysed, so a refused side leaves nothing behind.
    ids = [store(side.analysed).id if side.analysed else side.existing for side in sides]
    return redirect(url_for("pages.diff", old_id=ids[0], new_id=ids[1]), 303)


@bp.get("/diff/<old_id>/<new_id>")
def diff(old_id: str, new_id: str) -> str:
    """The shareable diff page: one diagram of both analyses, and the tables of changes."""
    from webapp.render import diff_view_data
    from webapp.web.report import diff_tables

    old, new, changes = diff_pair(old_id, new_id)
    return render_template(
        "diff.html",
        view=diff_view_data(old, new, changes),
        tables=diff_tables(changes, old, new),
        urls={
            "share": diff_url(old_id, new_id),
            "before": url_for("pages.analysis", analysis_id=old_id),
            "after": url_for("pages.analysis", analysis_id=new_id),
            "api": url_for("api.diff", old_id=old_id, new_id=new_id),
            "md": url_for("api.diff", old_id=old_id, new_id=new_id, format="md"),
            "csv": url_for("api.diff", old_id=old_id, new_id=new_id, format="csv"),
            "form": url_for("pages.diff_form", before=old_id, after=new_id),
        },
    )
