"""Every output that shows uploaded text hides the same characters: one rule, several notations."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import escape as html_escape

from webapp import data_dir
from webapp.core.text import escape, is_hidden
from webapp.outputs import install
from webapp.outputs.wording import marked, visible
from webapp.render import visible_text
from webapp.web.security import loggable


def macro_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(data_dir("templates")), autoescape=select_autoescape(default=True)
    )
    install(env)
    return env


def page_macro(text: str) -> str:
    """The pages' `visible` macro of templates/_macros.html, as the pages call it."""
    template = macro_environment().from_string(
        '{% from "_macros.html" import visible %}{{ visible(text) }}'
    )
    return template.render(text=text)


RENDERINGS: list[Callable[[str], str]] = [escape, visible, marked, visible_text, loggable,
                                          page_macro]

HIDDEN = [
    pytest.param("\u202e", id="bidi-override"),
    pytest.param("\u2066", id="bidi-isolate"),
    pytest.param("\u200b", id="zero-width-space"),
    pytest.param("\u00ad", id="soft-hyphen"),
    pytest.param("\U000e0041", id="tag-character-ascii-smuggling"),
    pytest.param("\ue000", id="private-use"),
    pytest.param("\u2028", id="line-separator"),
    pytest.param("\x1b", id="escape-control"),
    pytest.param("\n", id="newline"),
]
SHOWN = [
    pytest.param("a", id="letter"),
    pytest.param(" ", id="space"),
    pytest.param("\u00a0", id="no-break-space"),
    pytest.param("é", id="accented"),
    pytest.param("支", id="cjk"),
]


@pytest.mark.parametrize("char", HIDDEN)
@pytest.mark.parametrize("render", RENDERINGS, ids=lambda f: f.__name__)
def test_hidden_characters_never_reach_an_output(render: Callable[[str], str], char: str) -> None:
    assert is_hidden(char)
    out = render(f"db{char}x")
    assert char not in out
    assert out.startswith("db") and out.endswith("x")


@pytest.mark.parametrize("char", SHOWN)
@pytest.mark.parametrize("render", RENDERINGS, ids=lambda f: f.__name__)
def test_visible_characters_are_shown_as_they_are(render: Callable[[str], str], char: str) -> None:
    assert not is_hidden(char)
    assert render(f"db{char}x") == f"db{char}x"


def test_page_macro_hides_exactly_what_is_hidden_hides() -> None:
    """Every code point (surrogates aside, which no decoded upload holds), in one render."""
    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    text = "".join(chars)
    expected = "".join(f"<U+{ord(c):04X}>" if is_hidden(c) else c for c in chars)
    assert page_macro(text) == str(html_escape(expected))


def test_page_macro_shows_nothing_for_none() -> None:
    assert page_macro(None) == ""  # type: ignore[arg-type]
