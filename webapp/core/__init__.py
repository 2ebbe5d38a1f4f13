"""The evaluation core: manifests text in, an immutable Analysis out.

`analyze(sources)` is the one call that pages, API, CLI and exports use.
Pure Python: no Flask, pyvis or networkx, no files, no clock, no globals.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from webapp.core.document import DocumentJSON, FindingJSON
from webapp.core.evaluate import Evaluation, Evaluator, evaluate
from webapp.core.input.raw import DEFAULT_LIMITS, Limits, RawObject, SourceText, UnusableInput
from webapp.core.model import POLICY_KINDS, Inventory, Problem, Severity

__all__ = [
    "Analysis",
    "Limits",
    "SourceText",
    "UnusableInput",
    "analyze",
    "analyze_objects",
    "analyze_stored",
]


class Analysis:
    """The result of one upload: inventory, evaluation, problems, and the contract document."""

    def __init__(
        self,
        inventory: Inventory,
        evaluation: Evaluation,
        evaluator: Evaluator,
        problems: tuple[Problem, ...],
        texts: dict[str, str],
        objects: Sequence[RawObject],
    ) -> None:
        self.inventory = inventory
        self.evaluation = evaluation
        self.evaluator = evaluator
        self.problems = problems
        self.texts = texts
        self._objects = objects

    @cached_property
    def sanitized(self) -> list[dict[str, Any]]:
        """The stored form of the input (webapp.core.input.stored): sanitized, with positions."""
        from webapp.core.input.stored import dump

        return dump(self._objects, self.problems)

    @cached_property
    def findings(self) -> list[FindingJSON]:
        from webapp.core.findings import find

        return find(self)

    @cached_property
    def document(self) -> DocumentJSON:
        from webapp.core.document import build_document

        return build_document(
            self.evaluation,
            self.inventory.policies,
            self.problems,
            self.texts,
            self.findings,
            self.inventory.cluster_policies,
        )


def analyze(sources: Sequence[SourceText], limits: Limits = DEFAULT_LIMITS) -> Analysis:
    """Load, validate and evaluate an upload.

    Raises UnusableInput when nothing in it can be analysed; per-document
    problems are reported in the result instead.
    """
    from webapp.core.input.sources import decode, load_sources

    objects, load_problems = load_sources(sources, limits)
    # Rule excerpts need the text of policy files only (pod exports can be large).
    policy_files = {o.file for o in objects if o.kind in POLICY_KINDS}
    texts = {s.name: decode(s) for s in sources if s.name in policy_files}
    return analyze_objects(objects, tuple(load_problems), texts)


def analyze_objects(
    objects: Sequence[RawObject],
    problems: tuple[Problem, ...] = (),
    texts: dict[str, str] | None = None,
) -> Analysis:
    """Validate and evaluate objects already loaded (an upload, or a stored one)."""
    from webapp.core.input.inventory import build_inventory

    inventory = build_inventory(objects)
    evaluation, evaluator = evaluate(inventory)
    problems = problems + inventory.problems + evaluation.scene.problems
    if not (
        inventory.policies
        or inventory.cluster_policies
        or inventory.workloads
        or inventory.namespaces
    ):
        errors = [p for p in problems if p.severity is Severity.ERROR]
        reason = "no NetworkPolicy, cluster-wide policy, Namespace, Pod or workload could be used"
        if errors:
            reason += f" ({len(errors)} error{'s' if len(errors) != 1 else ''})"
        raise UnusableInput(f"nothing to analyse: {reason}", problems=problems)
    return Analysis(inventory, evaluation, evaluator, problems, texts or {}, objects)


def analyze_stored(stored: Sequence[dict[str, Any]]) -> Analysis:
    """Re-evaluate the stored input of an earlier analysis (`Analysis.sanitized`).

    Files, documents and lines are those of the original upload, and so are
    the problems, which are stored with the input (webapp.core.input.stored).
    """
    from webapp.core.input.stored import restore, restore_problems

    objects = restore(stored)
    analysis = analyze_objects(objects)
    problems = restore_problems(stored)
    if problems is None:  # stored before problems were kept with the input
        return analysis
    return Analysis(
        analysis.inventory, analysis.evaluation, analysis.evaluator, problems, {}, objects
    )
