"""The `netpol-viz` command line: analyze, serve (and the review commands).

A thin adapter: it reads files, calls `webapp.core.analyze` and writes one of
the exports. Exit status: 0 done, 1 a check or query said no, 2 nothing could
be analysed or the arguments are wrong, 3 internal error (a bug; no traceback
is shown unless NETPOL_VIZ_DEBUG is set).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

from webapp import __version__

EXIT_OK, EXIT_NO, EXIT_UNUSABLE, EXIT_BUG = 0, 1, 2, 3
FORMATS = ("json", "csv", "md", "dot", "html")


def _fail(message: str, problems: Sequence[Any] = ()) -> None:
    for p in problems:
        click.echo(format_problem(p), err=True)
    click.echo(f"netpol-viz: {message}", err=True)
    sys.exit(EXIT_UNUSABLE)


def format_problem(p: Any) -> str:
    """`file:line: severity: message [kind/name] (path)` — one line, like a compiler."""
    where = p.file or "<upload>"
    if p.line:
        where += f":{p.line}"
    what = f" [{p.kind}/{p.name}]" if p.kind and p.name else ""
    path = f" ({p.path})" if p.path else ""
    return f"{where}: {p.severity}: {p.message}{what}{path}"


def load_analysis(paths: Sequence[str]) -> Any:
    """Read PATHs and analyse them; exits 2 with a message when nothing is usable."""
    from webapp.core import analyze
    from webapp.core.raw import UnusableInput
    from webapp.inputs import InputError, read_paths

    try:
        sources = read_paths(paths, stdin=sys.stdin.buffer)
    except InputError as e:
        _fail(str(e))
    try:
        return analyze(sources)
    except UnusableInput as e:
        _fail(e.message, e.problems)


def write_output(text: str, output: str | None) -> None:
    if output:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    else:
        click.echo(text, nl=not text.endswith("\n"))


def render(document: dict[str, Any], fmt: str) -> str:
    from webapp import exports

    if fmt == "html":
        from webapp.render import standalone_html

        return standalone_html(document)
    writers: dict[str, Callable[[dict[str, Any]], str]] = {
        "json": exports.to_json,
        "csv": exports.to_csv,
        "md": exports.to_markdown,
        "dot": exports.to_dot,
    }
    return writers[fmt](document)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="netpol-viz")
def cli() -> None:
    """Kubernetes NetworkPolicy visualizer: who can talk to whom, and why."""


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write to FILE instead of standard output.",
)
def analyze(paths: tuple[str, ...], fmt: str, output: str | None) -> None:
    """Analyse manifests (files, folders, or - for standard input).

    Problems with single documents go to standard error; the rest of the
    upload is still analysed (exit 0).
    """
    analysis = load_analysis(paths)
    for p in analysis.problems:
        if str(p.severity) != "info":
            click.echo(format_problem(p), err=True)
    write_output(render(analysis.document, fmt), output)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--database",
    default=None,
    help="SQLite file path or SQLAlchemy URL (postgresql+psycopg://...).",
)
def serve(host: str, port: int, database: str | None) -> None:
    """Run the web app (SQLite file in the instance folder by default)."""
    from webapp.web import serve as run

    run(host=host, port=port, database=database)


def main(argv: Sequence[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="netpol-viz")
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # a bug: say so briefly instead of a traceback
        if os.environ.get("NETPOL_VIZ_DEBUG"):
            raise
        click.echo(f"netpol-viz: internal error: {type(e).__name__}: {e}", err=True)
        sys.exit(EXIT_BUG)
