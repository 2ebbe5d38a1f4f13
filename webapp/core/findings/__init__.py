"""Findings: what a security reviewer should look at in an upload (CONTRACT §3 Finding).

Each check lives in the module of its family and registers itself with its
stable kebab-case id, severity and one-sentence summary (registry.check);
CHECKS, the CLI's SARIF rules, the README's Findings table and its docs test
all read that registry. The checks read the evaluated analysis and name the
Kubernetes behaviour they rely on from
https://kubernetes.io/docs/concepts/services-networking/network-policies/.

In a namespace where the upload describes no pods (policies-only mode) the
endpoints are inferred from the selectors themselves, so checks about which
pods exist would fire or stay quiet by construction; they report an `info`
finding "could not be checked" instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

# Importing the check modules registers their checks, in this order: the registry's
# order within a severity (the README table and SARIF rules list them so).
# isort: off
from webapp.core.findings import dns, isolation, selectors, ports, open_peers  # noqa: F401
from webapp.core.findings import namespaces, duplicates, cni  # noqa: F401
from webapp.core.findings import cluster, cluster_flows  # noqa: F401
# isort: on
from webapp.core.document import FindingJSON
from webapp.core.findings.registry import LEVELS, Check, Hit, Level, Unchecked, registered
from webapp.core.findings.upload import Upload
from webapp.core.findings.wording import names
from webapp.core.model import Source

if TYPE_CHECKING:
    from webapp.core import Analysis
    from webapp.core.evaluate import Evaluation, Evaluator

__all__ = [
    "CHECKS",
    "CHECK_BY_ID",
    "LEVELS",
    "Check",
    "Finding",
    "Level",
    "find",
    "finding_json",
    "run_checks",
]

CHECKS: tuple[Check, ...] = registered()
CHECK_BY_ID: dict[str, Check] = {c.id: c for c in CHECKS}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing found by the check `check`; `finding_json` is its contract form."""

    check: str
    severity: Level
    message: str
    nodes: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()
    source: Source | None = None

    def sort_key(self) -> tuple[int, str, str, str]:
        return (self.severity.rank, self.check, self.nodes[0] if self.nodes else "", self.message)


def finding_json(f: Finding) -> FindingJSON:
    """CONTRACT §3 Finding, plus the `source` {file, line} of the rule or object concerned."""
    return {
        "rule": f.check,
        "severity": str(f.severity),
        "message": f.message,
        "nodes": list(f.nodes),
        "policies": list(f.policies),
        "source": {"file": f.source.file, "line": f.source.line} if f.source else None,
    }


def find(analysis: Analysis) -> list[FindingJSON]:
    """Every finding of an analysis, most severe first (then by rule id and first node)."""
    return [finding_json(f) for f in run_checks(analysis.evaluation, analysis.evaluator)]


def run_checks(evaluation: Evaluation, evaluator: Evaluator) -> list[Finding]:
    """Run every registered check; equal findings (rule, severity, message, nodes) once."""
    upload = Upload(evaluation, evaluator)
    found: list[Finding] = []
    for c in CHECKS:
        found.extend(_findings(c, c.run(upload)))
    unique = {(f.check, f.severity, f.message, f.nodes): f for f in found}
    return sorted(unique.values(), key=Finding.sort_key)


def _findings(c: Check, results: Iterable[Hit | Unchecked]) -> Iterator[Finding]:
    """A check's hits as Findings, then its "could not be checked" note, if any."""
    skipped: _Skipped | None = None
    for r in results:
        if isinstance(r, Hit):
            yield Finding(c.id, r.severity or c.severity, r.message, r.nodes, r.policies, r.source)
        elif c.needs_workloads:
            skipped = skipped or _Skipped()
            skipped.add(r)
        else:
            raise ValueError(f"{c.id} is not registered with needs_workloads=True")
    if skipped:
        yield Finding(
            c.id, Level.INFO, skipped.message(), tuple(skipped.nodes), tuple(skipped.policies)
        )


@dataclass(slots=True)
class _Skipped:
    """What one check could not look at, gathered from its Unchecked results."""

    namespaces: set[str] = field(default_factory=set)
    nodes: dict[str, None] = field(default_factory=dict)
    policies: dict[str, None] = field(default_factory=dict)
    namespace_labels: bool = False

    def add(self, r: Unchecked) -> None:
        self.namespaces.update(r.namespaces)
        self.nodes.update(dict.fromkeys(r.nodes))  # a dict keeps the order they came in
        self.policies.update(dict.fromkeys(r.policies))
        self.namespace_labels |= r.namespace_labels

    def message(self) -> str:
        reasons = []
        if self.namespaces:
            plural = "s" if len(self.namespaces) > 1 else ""
            reasons.append(
                f"in namespace{plural} {names(sorted(self.namespaces))}: no workloads uploaded "
                "there (their pods are inferred from the policies)"
            )
        if self.namespace_labels:
            reasons.append(
                "for namespaceSelectors: no Namespace objects uploaded, so namespace "
                "labels are unknown"
            )
        return f"could not be checked {'; '.join(reasons)}"
