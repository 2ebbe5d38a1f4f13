"""Response headers every page, API result and static file carries, and log-safe text.

The Content-Security-Policy allows scripts, styles and connections from the
app itself only: no inline script, no eval, no other host. Share pages and
API results also stay out of search engines and caches, because an
analysis describes someone's cluster.
"""

from __future__ import annotations

from flask import Flask, Response, request

from webapp.core.text import is_hidden

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
    path = request.path
    if path.startswith(PRIVATE_PREFIXES) or path in PRIVATE_PATHS:
        for name, value in PRIVATE_HEADERS.items():
            response.headers[name] = value
    return response


def install(app: Flask) -> None:
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
