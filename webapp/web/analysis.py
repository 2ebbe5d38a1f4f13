"""Runs the core's `analyze` on an upload in a child process, within a CPU-time budget.

Why a process and not a worker thread: a thread cannot be stopped, so an
upload that takes minutes would keep a CPU and the GIL after its request
gave up, and each retry would add one more. A child process is stopped when
it is over its budget, and the server's threads never wait on its GIL.
Children are forked from a `forkserver` that is started once with the core
imported, so a child costs a few milliseconds and inherits none of the
server's threads or open connections. The result comes back as JSON text,
the form in which it is stored and served.

What an analysis may use (`Budget`):

- CPU time, not wall-clock time: `RLIMIT_CPU` in the child (SIGXCPU at the
  limit), so an upload that a quiet machine analyses in 3 s is not refused
  because twenty others share the CPUs. Over it, the input is at fault (413).
- A generous wall-clock backstop for a child that sleeps or hangs.
- Its client: a request whose client hangs up stops its child (`has_hung_up`).

A child exits quietly when its parent (a gunicorn worker) dies: it watches
its end of the result pipe for EOF. `Slots` bounds the analyses that run at
once in one process; one more is refused at once (503), never queued.

As with every multiprocessing start method but fork, each child imports
the main script again under the name `__mp_main__`: entry points must keep
their work under `if __name__ == "__main__"`, as console scripts (the
`netpol-viz` command, gunicorn, flask) do.

A CPU budget of 0 runs the analysis inline, without limits (for debugging).
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import math
import multiprocessing
import os
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from typing import Any

from webapp.core.input.raw import Limits, SourceText, UnusableInput

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

        problems = [dict(problem_json(p)) for p in getattr(error, "problems", ())]
        return cls(error.message, error.too_large, problems)


CPU_GRACE = 5
"""CPU seconds between SIGXCPU and RLIMIT_CPU's SIGKILL, for a long C call to return."""


@dataclass(frozen=True, slots=True)
class Budget:
    """What one analysis may use: `cpu` seconds of CPU time (0: inline, no limit) and
    `wall` seconds of wall-clock time, a backstop for a child that sleeps or hangs."""

    cpu: float
    wall: float

    @property
    def cpu_seconds(self) -> int:
        """The CPU limit as enforced: RLIMIT_CPU counts whole seconds."""
        return max(1, math.ceil(self.cpu))


class OverCpu(Exception):
    """The analysis needed more CPU time than its budget: the input's fault."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"the analysis needed more than {seconds} s of CPU time")
        self.seconds = seconds


class AnalysisTimeout(Exception):
    """The wall-clock backstop: the child slept, hung, or the machine is swamped."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the analysis did not finish within {seconds:g} s")
        self.seconds = seconds


class ClientGone(Exception):
    """The client closed its connection while its analysis ran; the child was stopped."""


class AtCapacity(Exception):
    """As many analyses as this process allows are running already."""

    def __init__(self, slots: int) -> None:
        super().__init__(f"{slots} analyses are running already")
        self.slots = slots


class Slots:
    """At most `size` analyses at once in this process; one more is refused at once.

    Not queued: a queued request would hold a server thread, and its upload
    in memory, while its client waits without an answer. `AtCapacity` is
    answered 503 with Retry-After, and the client comes back.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"at least one analysis must be allowed at once, not {size}")
        self.size = size
        self._free = threading.BoundedSemaphore(size)

    @contextlib.contextmanager
    def take(self) -> Iterator[None]:
        """Hold a slot for the block; raises AtCapacity when none is free."""
        if not self._free.acquire(blocking=False):
            raise AtCapacity(self.size)
        try:
            yield
        finally:
            self._free.release()


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, as a container's cpuset sets it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on macOS or Windows
        return os.cpu_count() or 1


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
    """The core's analysis as JSON texts; raises Unusable where `analyze` raises UnusableInput.

    The document in its one written form (the CLI's bytes), the input as `to_json`."""
    from webapp.core import analyze  # the core, not this module, is the heavy import
    from webapp.outputs.jsonout import document_text

    try:
        analysis = analyze(list(sources), limits=limits)
    except UnusableInput as error:
        raise Unusable.of(error) from None
    return Result(document_text(analysis.document), to_json(analysis.sanitized))


Work = Callable[[Sequence[SourceText], Limits], Result]


class _OverCpu(BaseException):
    """Raised in the child by SIGXCPU; a BaseException, so no `except Exception` of the work
    can swallow it."""


def _raise_over_cpu(_signal: int, _frame: object) -> None:
    raise _OverCpu()


def _limit_cpu(seconds: int) -> None:
    """SIGXCPU after `seconds` of CPU time, SIGKILL CPU_GRACE s later (RLIMIT_CPU counts the
    process's own CPU time, so a busy machine slows the analysis but never refuses it)."""
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    limits = (seconds, seconds + CPU_GRACE)
    if hard != resource.RLIM_INFINITY:
        limits = (min(seconds, hard), min(seconds + CPU_GRACE, hard))
    signal.signal(signal.SIGXCPU, _raise_over_cpu)
    resource.setrlimit(resource.RLIMIT_CPU, limits)


def _exit_with_parent(connection: Connection) -> None:
    """Exit quietly when the parent's end of `connection` closes: the parent died (a killed
    worker) or gave up (client gone, backstop); nobody is left to read the answer."""

    def watch() -> None:
        with contextlib.suppress(OSError, EOFError):
            connection.poll(None)  # the parent never writes: readable means EOF
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _child(
    function: Callable[..., Any], args: tuple[Any, ...], connection: Connection, cpu_seconds: int
) -> None:
    # Ctrl-C reaches the server's whole process group: the parent decides when a child stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent(connection)
    limited = hasattr(signal, "SIGXCPU")  # not on Windows: there only the backstop holds
    if limited:
        _limit_cpu(cpu_seconds)
    # The child lives for one call: the cyclic collector would only rescan the
    # millions of young objects that loading creates (about 3x slower on big uploads).
    gc.disable()
    try:
        message = _outcome(function, args)
    except _OverCpu:  # raised by the work, or just after it
        message = ("cpu", None)
    if limited:
        signal.signal(signal.SIGXCPU, signal.SIG_IGN)  # the answer is ready: send it whole
    with contextlib.suppress(OSError):  # the parent went away meanwhile: nobody to tell
        connection.send(message)
        connection.close()


def _outcome(function: Callable[..., Any], args: tuple[Any, ...]) -> tuple[str, Any]:
    try:
        return ("ok", function(*args))
    except _OverCpu:
        raise
    except Unusable as error:
        return ("unusable", (error.message, error.too_large, error.problems))
    except BaseException:  # a bug: report it, the parent logs it
        return ("failed", traceback.format_exc())


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
    budget: Budget,
    work: Work | None = None,
    client: socket.socket | None = None,
) -> Result:
    """Analyse `sources` within `budget` (`work`, a module-level function, is the analysis).

    Raises Unusable (nothing usable, or over `limits`), OverCpu, AnalysisTimeout,
    ClientGone or AnalysisFailed (a bug; the child's traceback is in the message).
    """
    work = work or analyze_to_json  # looked up now, so a test server can put its own in
    if budget.cpu <= 0:
        return work(sources, limits)
    return Result(*call(_analyze_result, (work, list(sources), limits), budget, client))


def call(
    function: Callable[..., Any],
    args: tuple[Any, ...],
    budget: Budget,
    client: socket.socket | None = None,
) -> Any:
    """`function(*args)` in a child process within `budget` (CPU 0: inline, without limits).

    `function` is a module-level function and its arguments and result are
    picklable (JSON texts, in practice). While it runs, `client` (the
    request's socket) is watched with the child's pipe: a client that hangs
    up stops the child at once.
    Raises what `run` raises.
    """
    if budget.cpu <= 0:
        return function(*args)
    context = _process_context()
    # Duplex, a socket pair: the child sees its parent leave as EOF on its own end.
    ours, theirs = context.Pipe()
    child = context.Process(  # type: ignore[attr-defined]
        target=_child, args=(function, args, theirs, budget.cpu_seconds), daemon=True
    )
    deadline = time.monotonic() + (budget.wall or math.inf)  # 0: no backstop
    child.start()
    theirs.close()  # so a child that dies without answering shows up as EOF
    answered = False
    try:
        status, payload = _wait(ours, child, budget, deadline, client)
        answered = True
    finally:
        ours.close()
        _finish(child, answered)
    if status == "ok":
        return payload
    if status == "cpu":
        raise OverCpu(budget.cpu_seconds)
    if status == "unusable":
        raise Unusable(*payload)
    raise AnalysisFailed(payload)


def _wait(
    ours: Connection,
    child: Any,
    budget: Budget,
    deadline: float,
    client: socket.socket | None,
) -> tuple[str, Any]:
    watched: list[Any] = [ours] if client is None else [ours, client]
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AnalysisTimeout(budget.wall)
        ready = wait(watched, None if math.isinf(remaining) else remaining)
        if ours in ready:
            break
        if client in ready:
            if has_hung_up(client):
                raise ClientGone()
            watched = [ours]  # it sent more (a pipelined request): it is still there
    try:
        return ours.recv()  # type: ignore[no-any-return]
    except EOFError:
        child.join(1.0)
        if child.exitcode == -getattr(signal, "SIGXCPU", 0):
            return ("cpu", None)
        # -9 unasked is RLIMIT_CPU's hard limit (a C call that did not return in time to
        # raise) or the kernel's OOM killer; this parent kills only after giving up.
        raise AnalysisFailed(f"analysis process ended with code {child.exitcode}") from None


def _finish(child: Any, answered: bool) -> None:
    if answered:
        child.join(1.0)  # it exits once its answer is sent
    if child.is_alive():
        child.kill()
    child.join()
    child.close()


def has_hung_up(connection: socket.socket) -> bool:
    """Whether the client of `connection`, which is readable, has closed it (EOF or reset).

    Peeks, so nothing is taken from the server's stream. A client that only
    shut down its sending side looks gone too: browsers, curl and HTTP
    libraries keep both sides open while they wait for the answer.
    """
    try:
        # socket.socket's own recv, so that a TLS socket is peeked at below its TLS layer.
        data = socket.socket.recv(connection, 1, socket.MSG_PEEK)
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True
    return data == b""
