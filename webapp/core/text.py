"""Uploaded text echoed in messages: escaped and shortened.

Messages quote values from the upload (keys, labels, tags, file names). Those
may hold control characters or Unicode bidirectional overrides that make a
message read differently from what it says ("Trojan Source"), or be very
long. Everything that echoes uploaded text goes through `shorten` (or
`escape` where no quotes are wanted), so every output shows such characters
as visible escapes such as `\\u202e`.
"""

from __future__ import annotations

import json
import unicodedata

ELLIPSIS = "…"

_SIMPLE_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}



def is_hidden(char: str) -> bool:
    """Whether a character is invisible or can reorder or break the text around it.

    Control (Cc), format (Cf: bidi overrides, zero-width and tag characters),
    surrogate, private-use and unassigned (Cs, Co, Cn) characters and line or
    paragraph separators (Zl, Zp); spaces (Zs) are shown as they are. Every
    output that shows uploaded text (messages, exports, pages, logs) asks this
    one question, each in its own notation.
    """
    return not char.isprintable() and unicodedata.category(char) != "Zs"


def _escape_char(char: str, quote: str) -> str:
    if char in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[char]
    if char == quote:
        return "\\" + char
    if is_hidden(char):
        code = ord(char)
        if code <= 0xFF:
            return f"\\x{code:02x}"
        if code <= 0xFFFF:
            return f"\\u{code:04x}"
        return f"\\U{code:08x}"
    return char


def _escaped(text: str, limit: int | None, quote: str = "") -> str:
    # Every piece is at least one character long, so only the first `limit`
    # characters can show; a huge value costs no more than a short one.
    head = text if limit is None else text[: limit + 1]
    # Backslashes are escaped only inside quotes, where escapes are expected.
    specials = "\\" + quote if quote else ""
    pieces = [
        char if char.isprintable() and char not in specials else _escape_char(char, quote)
        for char in head
    ]
    shown = "".join(pieces)
    if limit is None or (len(text) <= limit and len(shown) <= limit):
        return shown
    kept: list[str] = []
    used = 0
    for piece in pieces:
        if used + len(piece) > limit - 1:
            break
        kept.append(piece)
        used += len(piece)
    return "".join(kept) + ELLIPSIS


def escape(text: str) -> str:
    """`text` with control, format and bidi characters shown as escapes; never shortened."""
    return _escaped(text, None)


def shorten(value: object, limit: int = 60) -> str:
    """A short, safe rendering of `value` for a message.

    Strings come back single-quoted and escaped (`'app\\u202eexe'`), cut to
    about `limit` characters with `…`; null, booleans and numbers as YAML
    writes them (`null`, `true`, `80`); mappings and lists as compact JSON.
    """
    if isinstance(value, str):
        return f"'{_escaped(value, limit, quote=chr(39))}'"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _escaped(repr(value), limit)
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return _escaped(text, limit)
