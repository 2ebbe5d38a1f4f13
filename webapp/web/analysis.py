"""Runs the core's `analyze` on an upload with a wall-clock limit, in a child process.

Why a process and not a worker thread: a thread cannot be stopped, so an
upload that takes minutes would keep a CPU and the GIL after its request
gave up, and each retry would add one more. A child process is killed when
its time is up, and the server's threads never wait on its GIL. Children are
forked from a `forkserver` that is started once with the core imported, so
a child costs a few milliseconds and inherits none of the server's threads
or open connections. The result comes back as JSON text, the form in which
it is stored and served.

As with every multiprocessing start method but fork, each child imports
the main script again under the name `__mp_main__`: entry points must keep
their work under `if __name__ == "__main__"`, as console scripts (the
`netpol-viz` command, gunicorn, flask) do.

A timeout of 0 runs the analysis inline, without a limit (for debugging).
"""

from __future__ import annotations

import gc
import json
import logging
import math
import multiprocessing
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import Any

from webapp.core.raw import Limits, SourceText, UnusableInput

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Result:
    """An analysis as JSON texts: the document (CONTRACT §3) and the sanitized input."""

    document: str
    sanitized: str


class AnalysisFailed(Exception):
    """A bug in the analysis (not bad input): the child's traceback is in the message."""


class Unusable(Exception):
    """The core's UnusableInput, with its problems as contract dicts (they cross a process)."""

    def __init__(self, message: str, too_large: bool, problems: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.message = message
        self.too_large = too_large
        self.problems = problems

    @classmethod
    def of(cls, error: UnusableInput) -> Unusable:
        from webapp.core.document import problem_json

        problems = [problem_json(p) for p in getattr(error, "problems", ())]
        return cls(error.message, error.too_large, problems)


class AnalysisTimeout(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"analysis took longer than {seconds:g} s")
        self.seconds = seconds


def to_json(value: Any) -> str:
    """JSON text that a browser's JSON.parse and PostgreSQL's text type both accept.

    ASCII only (no raw NUL, which PostgreSQL text refuses) and no NaN or
    Infinity, which an uploaded YAML float could carry into the input.
    """
    try:
        return json.dumps(value, ensure_ascii=True, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(value), ensure_ascii=True, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def analyze_to_json(sources: Sequence[SourceText], limits: Limits) -> Result:
    """The core's analysis as JSON texts; raises Unusable where `analyze` raises UnusableInput."""
    from webapp.core import analyze  # the core, not this module, is the heavy import

    try:
        analysis = analyze(list(sources), limits=limits)
    except UnusableInput as error:
        raise Unusable.of(error) from None
    return Result(to_json(analysis.document), to_json(analysis.sanitized))


Work = Callable[[Sequence[SourceText], Limits], Result]


@dataclass(frozen=True)
class Answer:
    """A why / why not answer as JSON text, or which end of the question names no node."""

    json: str | None = None
    unknown: str | None = None
    """"from" or "to" when that end names no node (or several)."""
    message: str = ""
    candidates: tuple[str, ...] = ()


def explain_stored(
    stored_input: str, source: str, target: str, protocol: str | None, port: int | None
) -> Answer:
    """Re-evaluate a stored input and explain traffic from `source` to `target` (as the CLI's
    `query` names them); the answer is the JSON of `netpol-viz query --format json`.
    """
    from webapp.core import analyze_stored
    from webapp.core.explain import explain
    from webapp.core.model import Protocol
    from webapp.review import UnknownNode, explanation_json, resolve_node

    try:
        analysis = analyze_stored(json.loads(stored_input))
    except UnusableInput as error:
        raise Unusable.of(error) from None
    ids = []
    for end, text in (("from", source), ("to", target)):
        try:
            ids.append(resolve_node(analysis, text))
        except UnknownNode as error:
            return Answer(unknown=end, message=str(error), candidates=error.candidates)
    proto = Protocol(protocol) if protocol else None
    explanation = explain(analysis.evaluator, ids[0], ids[1], proto, port)
    return Answer(json=to_json(explanation_json(explanation, analysis)))


def _child(function: Callable[..., Any], args: tuple[Any, ...], connection: Connection) -> None:
    # The child lives for one call: the cyclic collector would only rescan the
    # millions of young objects that loading creates (about 3x slower on big uploads).
    gc.disable()
    try:
        message: tuple[str, Any] = ("ok", function(*args))
    except Unusable as error:
        message = ("unusable", (error.message, error.too_large, error.problems))
    except BaseException:  # a bug: report it, the parent logs it
        message = ("failed", traceback.format_exc())
    connection.send(message)
    connection.close()


def _analyze_result(work: Work, sources: list[SourceText], limits: Limits) -> tuple[str, str]:
    result = work(sources, limits)
    return (result.document, result.sanitized)


_context_lock = threading.Lock()
_context: BaseContext | None = None


def _process_context() -> BaseContext:
    global _context
    with _context_lock:
        if _context is None:
            if "forkserver" in multiprocessing.get_all_start_methods():
                forkserver = multiprocessing.get_context("forkserver")
                forkserver.set_forkserver_preload([__name__, "webapp.web.preload"])
                _context = forkserver
            else:  # Windows
                _context = multiprocessing.get_context("spawn")
        return _context


def start() -> None:
    """Start the forkserver now, so that the first upload does not wait for it."""
    context = _process_context()
    if context.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def run(
    sources: Sequence[SourceText],
    limits: Limits,
    timeout: float,
    work: Work = analyze_to_json,
) -> Result:
    """Analyse `sources` within `timeout` seconds (`work` is the analysis, a module-level function).

    Raises Unusable (nothing usable, or over `limits`), AnalysisTimeout,
    or AnalysisFailed (a bug; the child's traceback is in the message).
    """
    if timeout <= 0:
        return work(sources, limits)
    return Result(*call(_analyze_result, (work, list(sources), limits), timeout))


def call(function: Callable[..., Any], args: tuple[Any, ...], timeout: float) -> Any:
    """`function(*args)` in a child process killed after `timeout` seconds (0: run it inline).

    `function` is a module-level function and its arguments and result are
    picklable (JSON texts, in practice). Raises what `run` raises.
    """
    if timeout <= 0:
        return function(*args)
    context = _process_context()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(  # type: ignore[attr-defined]
        target=_child, args=(function, args, sender), daemon=True
    )
    started = time.monotonic()
    child.start()
    sender.close()  # so a child that dies without answering shows up as EOF
    try:
        if not receiver.poll(timeout):
            raise AnalysisTimeout(timeout)
        try:
            status, payload = receiver.recv()
        except EOFError:
            raise AnalysisFailed(f"analysis process ended with code {child.exitcode}") from None
    finally:
        receiver.close()
        _finish(child, started + timeout)
    if status == "ok":
        return payload
    if status == "unusable":
        raise Unusable(*payload)
    raise AnalysisFailed(payload)


def _finish(child: Any, deadline: float) -> None:
    child.join(max(0.0, min(1.0, deadline - time.monotonic())))
    if child.is_alive():
        child.kill()
        child.join()
    child.close()
