"""The finding registry: each check registers itself, with its metadata, by a decorator.

    @check(id="namespace-not-defined", severity=Level.LOW, summary="A policy in ...")
    def namespace_not_defined(u: Upload) -> Iterator[Result]:
        yield Hit("NetworkPolicy ... is in namespace ...", policies=(p.id,), source=p.source)

A check reads the Upload and yields a Hit for each thing it finds, or an
Unchecked for part of the upload it could not look at (policies-only mode;
only checks registered with `needs_workloads=True` may). The runner
(webapp.core.findings) turns both into Findings of that check, so a check
never spells its own id or severity. Registration happens when the check
modules are imported, once; the registry is read-only afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, TypeAlias

from webapp.core.model import Source

if TYPE_CHECKING:
    from webapp.core.findings.upload import Upload


class Level(StrEnum):
    """Finding severities; the values are the contract strings, most severe first."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return LEVELS.index(self)


LEVELS: tuple[Level, ...] = (Level.HIGH, Level.MEDIUM, Level.LOW, Level.INFO)


@dataclass(frozen=True, slots=True)
class Hit:
    """One thing a check found; it becomes a Finding of that check."""

    message: str
    nodes: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()
    source: Source | None = None
    severity: Level | None = None
    """Only where one check has two severities (egress-blocks-dns); else the check's."""


@dataclass(frozen=True, slots=True)
class Unchecked:
    """Part of the upload a check could not look at: said once per check, as `info`."""

    namespaces: tuple[str, ...] = ()
    """Namespaces without uploaded workloads, whose pods are inferred from the policies."""
    nodes: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()
    namespace_labels: bool = False
    """A namespaceSelector could not be checked: the upload defines no Namespace."""


Result: TypeAlias = Hit | Unchecked
CheckFunction: TypeAlias = Callable[["Upload"], Iterable[Result]]

_ID = re.compile(r"[a-z]+(-[a-z0-9]+)+")


@dataclass(frozen=True, slots=True)
class Check:
    """One registered finding rule: its stable id is a public API (SARIF rule ids too)."""

    id: str
    severity: Level
    summary: str
    """One sentence for the README's Findings table and SARIF's shortDescription."""
    run: CheckFunction = field(compare=False, repr=False)
    needs_workloads: bool = False
    """Reports "could not be checked" where the upload describes no pods."""


_registered: list[Check] = []


def check(
    *, id: str, severity: Level, summary: str, needs_workloads: bool = False
) -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as the check `id`."""

    def register(run: CheckFunction) -> CheckFunction:
        if not _ID.fullmatch(id) or any(c.id == id for c in _registered):
            raise ValueError(f"finding id {id!r} is not kebab-case or is registered twice")
        _registered.append(Check(id, severity, summary, run, needs_workloads))
        return run

    return register


def registered() -> tuple[Check, ...]:
    """Every check, most severe first, in registration order within a severity."""
    return tuple(sorted(_registered, key=lambda c: c.severity.rank))
