"""duplicate-policy: two NetworkPolicies with the same namespace and name.

Objects are identified by kind, namespace and name; applying the upload as
`kubectl apply` does leaves the later definition, so normalisation keeps it
and records the replacement (model.Duplicate), which this check reads.
"""

from __future__ import annotations

from collections.abc import Iterator

from webapp.core.findings.registry import Hit, Level, Result, check
from webapp.core.findings.upload import Upload


@check(
    id="duplicate-policy",
    severity=Level.LOW,
    summary="Two NetworkPolicies with the same namespace and name: only the later one is used.",
)
def duplicate_policy(u: Upload) -> Iterator[Result]:
    """The earlier of two same-named policies is ignored: say which one is used."""
    for duplicate in u.inventory.duplicates:
        if duplicate.kind != "NetworkPolicy":
            continue
        yield Hit(
            duplicate.message,
            u.evaluation.selects[duplicate.id],
            (duplicate.id,),
            duplicate.kept,
        )
