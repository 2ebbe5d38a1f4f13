"""Every output format of the analysis document, in one registry.

The CLI's `analyze --format` choices, the API's `export.<name>` route, the
diagram page's download links and the README test all read `FORMATS`. A
writer is named by its dotted path and imported on first use, so importing
this package pulls in nothing heavy (the offline HTML needs pyvis and the
templates; the review report is another module's).

Writers take the document of CONTRACT §3 (version 2, or 1 when stored
before) and work from its groups: none builds every pair of nodes. A format
with `pairs` also has a streaming writer for `--pairs` (one flow per pair of
nodes, written chunk by chunk so memory stays bounded).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment

Writer = Callable[[Mapping[str, Any]], str | bytes]
PairsWriter = Callable[[Mapping[str, Any]], Iterator[bytes]]

ANALYZE, EXPORT = "analyze", "export"


@dataclass(frozen=True)
class Format:
    name: str
    """`--format` value and the extension of `export.<name>`."""
    media_type: str
    label: str
    """The page's download link text."""
    writer: str
    """`module:function` taking a document, returning text or bytes."""
    offered_by: frozenset[str]
    """Which of `analyze` (the CLI) and `export` (the API route and page links) offer it."""
    pairs_writer: str | None = None
    """`module:function` for `--pairs`: document -> chunks of bytes."""
    description: str = ""

    @property
    def extension(self) -> str:
        return self.name

    @property
    def pairs(self) -> bool:
        return self.pairs_writer is not None

    def write(self, document: Mapping[str, Any]) -> str | bytes:
        writer: Writer = _resolve(self.writer)
        return writer(document)

    def write_pairs(self, document: Mapping[str, Any]) -> Iterator[bytes]:
        if self.pairs_writer is None:
            raise ValueError(f"{self.name} has no --pairs form")
        writer: PairsWriter = _resolve(self.pairs_writer)
        return writer(document)


def _resolve(dotted: str) -> Any:
    module, _, name = dotted.partition(":")
    return getattr(import_module(module), name)


BOTH = frozenset({ANALYZE, EXPORT})
FORMATS: tuple[Format, ...] = (
    Format(
        "json", "application/json", "JSON", "webapp.outputs.jsonout:document_bytes", BOTH,
        "webapp.outputs.jsonout:pairs_json",
        "the analysis document (below)",
    ),
    Format(
        "csv", "text/csv; charset=utf-8", "CSV", "webapp.outputs.csv:to_csv", BOTH,
        "webapp.outputs.csv:pairs_csv",
        "one row per flow between groups, with member counts and pairs",
    ),
    Format(
        "md", "text/markdown; charset=utf-8", "Markdown", "webapp.outputs.markdown:to_markdown",
        BOTH, None,
        "a readable report: nodes, isolation, flows between groups with the rules that "
        "allow them, problems",
    ),
    Format(
        "dot", "text/vnd.graphviz; charset=utf-8", "DOT", "webapp.outputs.dot:to_dot", BOTH,
        None, "Graphviz: groups as nodes, namespaces as clusters, one edge per flow",
    ),
    Format(
        "html", "text/html; charset=utf-8", "HTML (offline)",
        "webapp.outputs.offline:standalone_html", BOTH, None,
        "a standalone diagram that works offline",
    ),
    Format(
        "review.md", "text/markdown; charset=utf-8", "Review (Markdown)",
        "webapp.review:review_markdown", frozenset({EXPORT}), None,
        "the review report (as `check --format md`)",
    ),
)
BY_NAME: dict[str, Format] = {f.name: f for f in FORMATS}


def offered_by(command: str) -> tuple[Format, ...]:
    return tuple(f for f in FORMATS if command in f.offered_by)


def get(name: str) -> Format:
    return BY_NAME[name]


def install(environment: Environment) -> None:
    """What our templates need from a Jinja environment: the `visible` filter, which
    the `visible` macro of `_macros.html` applies (the characters `is_hidden` hides,
    as `<U+202E>` marks), `download_formats()` for the page's download links and
    `diagram_scripts`, the diagram's scripts in load order."""
    from webapp.outputs.offline import DIAGRAM_SCRIPTS
    from webapp.outputs.wording import marked

    environment.filters["visible"] = marked
    environment.globals["download_formats"] = lambda: offered_by(EXPORT)
    environment.globals["diagram_scripts"] = DIAGRAM_SCRIPTS
