"""not-isolated and ingress-not-isolated: pods that some direction leaves open.

"The two sorts of pod isolation" (https://kubernetes.io/docs/concepts/
services-networking/network-policies/#the-two-sorts-of-pod-isolation): a pod
is isolated for a direction only when a policy selecting it lists that
direction in policyTypes; otherwise all traffic in that direction is allowed.
hostNetwork pods are never selected (see the README's assumptions).

A cluster-wide policy makes no pod isolated (doc §3.2: no implicit isolation),
but where its Deny rules drop some of a side's traffic an Admin or Baseline
tier decides that side: the side is not "open to everything", and the
message names the policies (their denials are in the document).
"""

from __future__ import annotations

from collections.abc import Iterator

from webapp.core.findings.registry import Hit, Level, Result, Unchecked, check
from webapp.core.findings.upload import Upload
from webapp.core.findings.wording import names, node_text
from webapp.core.model import Direction, NodeType, Policy
from webapp.core.scene import Endpoint


def _pods(u: Upload) -> Iterator[tuple[Endpoint, dict[Direction, tuple[Policy, ...]]]]:
    """Every pod endpoint (workload or inferred) with the policies isolating it."""
    for e in u.scene.endpoints:
        if e.type is not NodeType.IPBLOCK:
            yield e, u.evaluation.isolation[e.id]


@check(
    id="not-isolated",
    severity=Level.MEDIUM,
    summary="A workload that no policy isolates in either direction: "
    "open to and from everything.",
    needs_workloads=True,
)
def not_isolated(u: Upload) -> Iterator[Result]:
    """A pod no policy selects is non-isolated both ways: everything is allowed, unless a
    cluster-wide Deny decides a side."""
    for e, isolating in _pods(u):
        if isolating[Direction.INGRESS] or isolating[Direction.EGRESS]:
            continue
        if e.type is NodeType.INFERRED:
            yield Unchecked(namespaces=(e.namespace or "",), nodes=(e.id,))
            continue
        denied = {d: u.cluster_denied.get((e.id, d), ()) for d in Direction}
        if all(denied.values()):
            continue  # both sides decided by the Admin or Baseline tier
        why = " (hostNetwork: policies never select it)" if e.host_network else ""
        if denied[Direction.INGRESS] or denied[Direction.EGRESS]:
            d = Direction.INGRESS if denied[Direction.INGRESS] else Direction.EGRESS
            open_side = (
                "it may connect to anything"
                if d is Direction.INGRESS
                else "every pod and address may connect to it"
            )
            yield Hit(
                f"{node_text(e)} is isolated by no NetworkPolicy{why}; cluster-wide policies "
                f"{names(denied[d])} decide only its {d} (their Deny rules drop some of it), "
                f"so {open_side}",
                (e.id,),
                denied[d],
                e.source,
            )
            continue
        yield Hit(
            f"{node_text(e)} is isolated in neither direction{why}: every pod and address "
            "may connect to it, and it may connect to anything",
            (e.id,),
            source=e.source,
        )


@check(
    id="ingress-not-isolated",
    severity=Level.LOW,
    summary="A workload isolated for egress but not for ingress: "
    "any pod or address may connect to it.",
    needs_workloads=True,
)
def ingress_not_isolated(u: Upload) -> Iterator[Result]:
    """Isolation is per direction: egress policies leave ingress open."""
    for e, isolating in _pods(u):
        egress = tuple(p.id for p in isolating[Direction.EGRESS])
        if isolating[Direction.INGRESS] or not egress:
            continue
        if u.cluster_denied.get((e.id, Direction.INGRESS)):
            continue  # an Admin or Baseline Deny decides its ingress
        if e.type is NodeType.INFERRED:
            yield Unchecked(namespaces=(e.namespace or "",), nodes=(e.id,), policies=egress)
            continue
        yield Hit(
            f"{node_text(e)} is isolated for egress but not for ingress: every pod and "
            "address may connect to it",
            (e.id,),
            egress,
            e.source,
        )
