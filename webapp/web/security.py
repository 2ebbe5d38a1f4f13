"""Response headers every page, API result and static file carries, the refusal of
cross-site requests that change state, and log-safe text.

The Content-Security-Policy allows scripts, styles and connections from the
app itself only: no inline script, no eval, no other host. Share pages and
API results also stay out of search engines and caches, because an
analysis describes someone's cluster.

Redirects carry relative locations: none names the request's Host header,
which the client chooses.

A page of another site can make a browser POST a form (or a no-cors fetch)
here without any preflight, so every state-changing request that a browser
marks as coming from elsewhere is refused with 403 (see `cross_site`).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, request

from webapp.core.text import is_hidden

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

PRIVATE_PREFIXES = ("/a/", "/diff/", "/api/")
"""Paths whose responses describe one uploaded cluster: never indexed, never cached."""
PRIVATE_PATHS = ("/api", "/diff")
"""Also private: the diff form carries share ids (`?before=<id>`) and, after an error,
the pasted manifests."""

PRIVATE_HEADERS = {"X-Robots-Tag": "noindex", "Cache-Control": "no-store"}


def add_headers(response: Response) -> Response:
    """after_request hook: set the security headers (error and static responses included)."""
    for name, value in HEADERS.items():
        response.headers[name] = value
    location = response.headers.get("Location")
    if location is not None:
        response.headers["Location"] = relative_location(location)
    path = request.path
    if path.startswith(PRIVATE_PREFIXES) or path in PRIVATE_PATHS:
        for name, value in PRIVATE_HEADERS.items():
            response.headers[name] = value
    return response


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SAME_ORIGIN_FETCH_SITES = frozenset({"same-origin", "none"})
"""Sec-Fetch-Site values of a request the app's own pages (or the user, typing) made.
`same-site` is refused too: another port or subdomain is another application."""

CROSS_SITE = (
    "Refused: this request to create or delete an analysis came from a page of another "
    "site. Open netpol-viz itself to upload or delete."
)
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> str | None:
    """The origin `scheme://host[:port]` of `url`, normalised (lower case, no default port)."""
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not host:
        return None  # "null" (a sandboxed or file: page) and the like match nothing
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def own_origin() -> str | None:
    """This app's origin: BASE_URL's when it is set, else the one the request was sent to."""
    base = current_app.config.get("BASE_URL")
    return origin(str(base) if base else f"{request.scheme}://{request.host}")


def cross_site() -> bool:
    """Whether a state-changing request comes from another site's page.

    Fetch Metadata first (every current browser sends Sec-Fetch-Site); else
    the Origin header, which browsers send on cross-origin POSTs. A request
    with neither (curl, CI scripts) is not from a browser page and passes.
    """
    if request.method in SAFE_METHODS:
        return False
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site.strip().lower() not in SAME_ORIGIN_FETCH_SITES
    sent = request.headers.get("Origin")
    if sent is None:
        return False
    expected = own_origin()
    return expected is None or origin(sent) != expected


def refuse_cross_site() -> None:
    """before_request hook: 403 before anything is read, analysed, stored or deleted."""
    if cross_site():
        log.info(
            "refused cross-site %s %s (Sec-Fetch-Site %s, Origin %s)",
            request.method,
            loggable(request.path),
            loggable(request.headers.get("Sec-Fetch-Site", "-"), 40),
            loggable(request.headers.get("Origin", "-"), 100),
        )
        abort(403, description=CROSS_SITE)


def relative_location(location: str) -> str:
    """`location` without the scheme and host when they are the request's own.

    Werkzeug's routing redirects (`/a//x` -> `/a/x`) are built from the Host
    header; a relative location sends the browser to the same place.
    """
    parts = urlsplit(location)
    if not parts.netloc or parts.netloc.lower() != request.host.lower():
        return location  # already relative, or BASE_URL's
    path = "/" + parts.path.lstrip("/")  # never `//host`, which a browser reads as a host
    return path + (f"?{parts.query}" if parts.query else "")


def install(app: Flask) -> None:
    app.before_request(refuse_cross_site)
    app.after_request(add_headers)


def loggable(text: object, limit: int = 200) -> str:
    """`text` for one log line: control, format (bidi) and separator characters escaped, bounded.

    Uploaded file names reach the log; a newline or an ANSI escape in one
    must not forge a log line or repaint a terminal.
    """
    value = str(text)
    if len(value) > limit:
        value = value[:limit] + "…"
    out = []
    for char in value:
        if char == "\\":
            out.append("\\\\")
        elif is_hidden(char):
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)
