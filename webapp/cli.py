"""The `netpol-viz` command line: analyze, serve (and the review commands).

A thin adapter: it reads files, calls `webapp.core.analyze` and writes one of
the exports. Exit status: 0 done, 1 a check or query said no, 2 nothing could
be analysed or the arguments are wrong, 3 internal error (a bug; no traceback
is shown unless NETPOL_VIZ_DEBUG is set).
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click

from webapp import __version__

EXIT_OK, EXIT_NO, EXIT_UNUSABLE, EXIT_BUG = 0, 1, 2, 3


output_option = click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write to FILE instead of standard output.",
)


def format_option(*choices: str) -> Callable[[Any], Any]:
    """--format with `choices`, the first being the default."""
    return click.option(
        "--format", "fmt", type=click.Choice(choices), default=choices[0], show_default=True
    )


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
    from webapp.core.input.raw import UnusableInput
    from webapp.inputs import InputError, read_paths

    try:
        sources = read_paths(paths, stdin=sys.stdin.buffer)
    except InputError as e:
        _fail(str(e))
    # A short-lived process: the cyclic collector would only rescan the millions of
    # young objects that loading creates (about 3x slower on big uploads).
    gc.disable()
    try:
        return analyze(sources)
    except UnusableInput as e:
        _fail(e.message, e.problems)


def write_output(text: str | bytes, output: str | None) -> None:
    write_chunks([text.encode("utf-8") if isinstance(text, str) else text], output)


def write_chunks(chunks: Iterable[bytes], output: str | None) -> None:
    """Each chunk to FILE or standard output as it comes: a stream stays a stream."""
    if output:
        with open(output, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        return
    out = sys.stdout.buffer
    last = b""
    for chunk in chunks:
        if chunk:
            out.write(chunk)
            last = chunk
    if not last.endswith(b"\n"):
        out.write(b"\n")
    out.flush()


def render(document: dict[str, Any], fmt: str) -> str | bytes:
    """The document in one format of the registry (`webapp.outputs`)."""
    from webapp import outputs

    return outputs.get(fmt).write(document)


def _analyze_formats() -> list[str]:
    from webapp import outputs

    return [f.name for f in outputs.offered_by(outputs.ANALYZE)]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="netpol-viz")
def cli() -> None:
    """Kubernetes NetworkPolicy visualizer: who can talk to whom, and why."""


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@format_option(*_analyze_formats())
@click.option(
    "--pairs",
    is_flag=True,
    help="List one flow per pair of nodes instead of per pair of groups (json, csv), "
    "written as a stream.",
)
@output_option
def analyze(paths: tuple[str, ...], fmt: str, pairs: bool, output: str | None) -> None:
    """Analyse manifests (files, folders, or - for standard input).

    Problems with single documents go to standard error; the rest of the
    upload is still analysed (exit 0).
    """
    from webapp import outputs

    chosen = outputs.get(fmt)
    if pairs and not chosen.pairs:
        offered = ", ".join(f.name for f in outputs.FORMATS if f.pairs)
        _fail(f"--pairs works with --format {offered}, not {fmt}")
    analysis = load_analysis(paths)
    _report_problems(analysis)
    if pairs:
        write_chunks(chosen.write_pairs(analysis.document), output)
    else:
        write_output(chosen.write(analysis.document), output)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--database",
    default=None,
    help="SQLite file path or SQLAlchemy URL (postgresql+psycopg://...); "
    "overrides NETPOL_DATABASE.",
)
def serve(host: str, port: int, database: str | None) -> None:
    """Run the web app; prints its URL and where analyses are stored.

    The default database is a SQLite file in the per-user data folder
    ($XDG_DATA_HOME/netpol-viz, else ~/.local/share/netpol-viz). Also read
    from the environment: NETPOL_DATABASE, NETPOL_BASE_URL (the public
    origin), NETPOL_MAX_UPLOAD_BYTES (e.g. 256MiB; default 128MiB).
    """
    from webapp.web import config_from_env
    from webapp.web import serve as run

    try:
        config_from_env()
    except ValueError as e:
        _fail(str(e))
    run(host=host, port=port, database=database)


# --- security review: query, diff, check ---------------------------------------------


def _report_problems(analysis: Any) -> None:
    for p in analysis.problems:
        if str(p.severity) != "info":
            click.echo(format_problem(p), err=True)


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option(
    "--from",
    "source",
    required=True,
    metavar="NS/NAME",
    help="Source: NS/NAME of a workload or inferred node, a node id, or an IP address/CIDR.",
)
@click.option(
    "--to",
    "target",
    required=True,
    metavar="NS/NAME|CIDR",
    help="Target: NS/NAME, a node id, or an IP address/CIDR (the external block holding it).",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Destination port (on any protocol unless --protocol is given).",
)
@click.option(
    "--protocol",
    type=click.Choice(["TCP", "UDP", "SCTP"], case_sensitive=False),
    default=None,
    help="Protocol (any protocol when omitted).",
)
@format_option("text", "json")
def query(
    paths: tuple[str, ...],
    source: str,
    target: str,
    port: int | None,
    protocol: str | None,
    fmt: str,
) -> None:
    """Why can (or can't) --from reach --to? Exit 0 allowed, 1 denied.

    Prints the verdict and, per direction, the policies that isolate, the
    rules that allow (file:line) or why each rule did not match.
    """
    from webapp.core.explain import explain
    from webapp.core.model import Protocol
    from webapp.outputs import jsonout, wording
    from webapp.review import UnknownNode, explanation_json, explanation_text, resolve_node

    analysis = load_analysis(paths)
    _report_problems(analysis)
    try:
        source_id = resolve_node(analysis, source)
        target_id = resolve_node(analysis, target)
    except UnknownNode as e:
        _fail(f"--from/--to: {e}")
    proto = Protocol(protocol.upper()) if protocol else None
    explanation = explain(analysis.evaluator, source_id, target_id, proto, port)
    answer = explanation_json(explanation, analysis)
    if fmt == "json":
        click.echo(jsonout.to_json(answer), nl=False)
    else:
        for given, node in ((source, answer["source"]), (target, answer["target"])):
            if node["type"] == "ipblock" and given != node["id"]:
                note = f"{given} is in the external block {node['id']} ({node['name']})"
                click.echo(wording.one_line(note))
        click.echo(explanation_text(answer), nl=False)
    sys.exit(EXIT_OK if explanation.allowed else EXIT_NO)


Side = tuple[dict[str, Any], list[dict[str, Any]] | None]
"""One side of a diff: its analysis document, and its stored input when it is known."""


def _stored_document(reference: str, database: str | None) -> Side | None:
    """The document and input of a share id or link (`/a/<id>`) in the web app's database."""
    import json

    from webapp.web import create_app
    from webapp.web.storage import Storage, Unreachable, is_well_formed

    analysis_id = reference.rstrip("/").rsplit("/", 1)[-1]
    if not is_well_formed(analysis_id):
        return None
    app = create_app({"DATABASE": database} if database else None)
    storage: Storage = app.extensions["netpol_storage"]  # the app's own, schema ready
    try:
        stored = storage.load(analysis_id)
    except Unreachable as error:
        _fail(f"the database of share ids cannot be reached ({error}); try again later")
    if stored is None:
        return None
    document: dict[str, Any] = json.loads(stored.document)
    return document, json.loads(stored.input) if stored.input else None


def _load_document(path: str, database: str | None = None) -> Side:
    """An analysis document: a saved `analyze --format json` file (which holds no input),
    a share id of the web app's database, or manifests to analyse."""
    import json

    if path != "-" and not os.path.exists(path):
        stored = _stored_document(path, database)
        if stored is not None:
            return stored
        _fail(f"{path} is neither a file or folder nor a stored analysis (share id)")

    if path != "-" and path.endswith(".json") and os.path.isfile(path):
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict) and {"version", "nodes", "flows"} <= data.keys():
            return data, None
    analysis = load_analysis([path])
    _report_problems(analysis)
    document: dict[str, Any] = analysis.document
    return document, analysis.sanitized


@cli.command()
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@format_option("text", "json", "csv", "md")
@output_option
@click.option(
    "--database",
    default=None,
    help="The web app's database, for share ids (SQLite file path or SQLAlchemy URL).",
)
def diff(old: str, new: str, fmt: str, output: str | None, database: str | None) -> None:
    """What changes from OLD to NEW: flows added, removed, widened or narrowed,
    external addresses gained or lost (per workload and port, as CIDRs),
    nodes and policies added or removed, findings fixed and introduced, and
    the YAML diff of each policy added, removed or changed (when neither side
    is a saved document, which holds no input). Exit 0 no change, 1 changed.

    Changes are said per set of nodes that changed alike, with how many node
    pairs they stand for. OLD and NEW are each a file or folder of manifests,
    a saved `analyze --format json` document (version 1 or 2), or a share id
    (or /a/<id> link) stored
    in the web app's database (--database, default: the one `serve` uses).
    """
    from webapp.core.diff import diff_documents
    from webapp.outputs import jsonout
    from webapp.review import diff_csv, diff_markdown, diff_text

    before, old_input = _load_document(old, database)
    after, new_input = _load_document(new, database)
    # The YAML of the policies is compared only when both inputs are known.
    inputs = (old_input, new_input) if old_input is not None and new_input is not None else None
    result = diff_documents(before, after, inputs)
    if fmt == "json":
        text = jsonout.to_json(result)
    else:
        writer = {"text": diff_text, "csv": diff_csv, "md": diff_markdown}[fmt]
        text = writer(result, before, after)
    write_output(text, output)
    sys.exit(EXIT_NO if result["changed"] else EXIT_OK)


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option(
    "--fail-on",
    type=click.Choice(("high", "medium", "low")),
    default="high",
    show_default=True,
    help="Exit 1 when a finding has this severity or a higher one.",
)
@format_option("text", "json", "md", "sarif")
@output_option
def check(paths: tuple[str, ...], fail_on: str, fmt: str, output: str | None) -> None:
    """Report findings for a CI gate: exit 1 when any reaches --fail-on.

    --format sarif writes SARIF 2.1.0 for code-scanning UIs; md is the
    review report.
    """
    from webapp.outputs import jsonout
    from webapp.review import (
        failing,
        findings_json,
        findings_sarif,
        findings_text,
        review_markdown,
    )

    analysis = load_analysis(paths)
    _report_problems(analysis)
    document = analysis.document
    if fmt == "json":
        text = jsonout.to_json(findings_json(document, fail_on))
    elif fmt == "sarif":
        text = jsonout.to_json(findings_sarif(document, __version__))
    elif fmt == "md":
        text = review_markdown(document)
    else:
        text = findings_text(document, fail_on)
    write_output(text, output)
    sys.exit(EXIT_NO if failing(document["findings"], fail_on) else EXIT_OK)


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
