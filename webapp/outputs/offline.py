"""The diagram as one HTML file that works offline (`--format html`, `export.html`).

vis-network, our stylesheet and scripts are inlined; the page data is the same
JSON data island as the web page's (`webapp.render.view_data`, the diagram's
own code), and a CSP allows exactly the inline blocks, by hash.

`DIAGRAM_SCRIPTS` is the one list of the diagram's scripts, in load order: the
served pages (analysis.html, diff.html, through the `diagram_scripts` template
global) load them by URL, this file inlines them.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from webapp import __version__, data_dir
from webapp.outputs import install

STANDALONE_STYLES = ("vendor/vis-network.min.css", "style.css", "matrix.css")
DIAGRAM_SCRIPTS = (
    "vendor/vis-network.min.js",
    # static/js/: classic scripts sharing window.NetpolViz; core.js first, main.js last.
    "js/core.js",
    "js/search.js",  # before why.js, which makes its pickers with it
    "js/draw.js",
    "js/panel.js",
    "js/filters.js",
    "js/legend.js",
    "js/share.js",
    "js/export.js",
    "js/findings.js",
    "js/why.js",
    "js/open.js",
    "js/denied.js",
    "js/address.js",
    "js/cluster.js",  # cluster-wide policies: tier denials, chains, subjects
    "matrix.js",  # the matrix view: reads the data island itself
    "js/main.js",
)


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(data_dir("templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    # `tojson` escapes < > & ' and, with ensure_ascii, U+2028/2029: safe in a
    # <script type="application/json"> data island.
    env.policies["json.dumps_kwargs"] = {
        "sort_keys": True,
        "ensure_ascii": True,
        "separators": (",", ":"),
    }
    install(env)
    return env


@cache
def _static_text(name: str) -> str:
    return (data_dir("static") / name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def standalone_html(document: Mapping[str, Any]) -> str:
    """One self-contained, offline HTML file of the diagram."""
    from webapp.render import view_data  # the diagram's code: pyvis, networkx

    styles = [_static_text(name) for name in STANDALONE_STYLES]
    scripts = [_static_text(name) for name in DIAGRAM_SCRIPTS]
    for text in styles + scripts:
        # An asset that closed its own element would turn the rest into markup.
        if re.search(r"</(script|style)", text, re.IGNORECASE):
            raise ValueError("a static asset contains a closing script/style tag")
    csp = "; ".join(
        (
            "default-src 'none'",
            "script-src " + " ".join(_csp_hash(text) for text in scripts),
            "style-src " + " ".join(_csp_hash(text) for text in styles),
            "img-src 'self' data: blob:",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )
    body = (
        environment()
        .get_template("standalone.html")
        .render(document=document, view=view_data(document), version=__version__)
    )
    head = "".join(f"<style>{text}</style>" for text in styles)
    tail = "".join(f"<script>{text}</script>" for text in scripts)
    # The template leaves three markers: where the CSP, the styles and the scripts go.
    return (
        body.replace(
            "<!--netpol-viz:csp-->",
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
            1,
        )
        .replace("<!--netpol-viz:styles-->", head, 1)
        .replace("<!--netpol-viz:scripts-->", tail, 1)
    )
