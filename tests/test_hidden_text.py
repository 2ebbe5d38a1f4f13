"""Every output that shows uploaded text hides the same characters: one rule, four notations."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from webapp.core.text import escape, is_hidden
from webapp.exports import visible
from webapp.render import visible_text
from webapp.web.security import loggable

RENDERINGS: list[Callable[[str], str]] = [escape, visible, visible_text, loggable]

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
