"""The analysis as the checks read it, with the lookups they share computed once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cached_property

from webapp.core.evaluate import Evaluation, Evaluator
from webapp.core.model import Direction, NodeType, Policy, Rule
from webapp.core.portset import PortSet
from webapp.core.scene import Endpoint
from webapp.core.selectors import Selector


class Upload:
    """One evaluated upload: scene, policies, namespaces and workloads by namespace."""

    def __init__(self, evaluation: Evaluation, evaluator: Evaluator) -> None:
        self.evaluation = evaluation
        self.ev = evaluator
        self.scene = evaluation.scene
        self.inventory = evaluator.inventory
        self.policies = evaluator.inventory.policies
        self.defined_namespaces = {ns.name: ns for ns in evaluator.inventory.namespaces}
        self.workloads_in: dict[str, list[Endpoint]] = {}
        for e in self.scene.endpoints:
            if e.type is NodeType.WORKLOAD and e.namespace is not None:
                self.workloads_in.setdefault(e.namespace, []).append(e)

    @cached_property
    def cluster_denied(self) -> dict[tuple[str, Direction], tuple[str, ...]]:
        """(endpoint id, direction) -> the cluster-wide policies whose Deny rules drop some of
        that side's traffic (its ingress as target, its egress as source): an Admin or
        Baseline tier decides it there, whatever NetworkPolicy isolates."""
        grouped = self.evaluation.grouped
        by_group: dict[tuple[str, Direction], dict[str, None]] = {}
        for d in grouped.denials:  # per group first: denials grow with groups², not pods
            end = d.target if d.direction is Direction.INGRESS else d.source
            by_group.setdefault((end, d.direction), {})[d.rule.policy.id] = None
        members = {g.id: g.members for g in grouped.groups}
        return {
            (e, direction): tuple(ids)
            for (group, direction), ids in by_group.items()
            for e in members[group]
        }

    def has_workloads(self, namespace: str) -> bool:
        return bool(self.workloads_in.get(namespace))

    def rules(self) -> Iterator[tuple[Policy, Rule]]:
        """Every rule of every policy: a policy's ingress rules, then its egress rules."""
        for policy in self.policies:
            for rule in policy.ingress + policy.egress:
                yield policy, rule

    def selected(self, policy: Policy) -> tuple[str, ...]:
        """The endpoint ids a policy's podSelector selects."""
        return self.evaluation.selects[policy.id]

    def endpoints_of(self, ids: Iterable[str]) -> list[Endpoint]:
        return [self.ev.endpoint[i] for i in ids]

    def peer_endpoints(self, rule: Rule) -> list[Endpoint]:
        """Every endpoint a rule's peers match, in scene order."""
        matched = {m for peer in rule.peers for c in self.ev.peer_classes(peer) for m in c.members}
        return [e for e in self.scene.endpoints if e.id in matched]

    def workloads_matching(self, selector: Selector, outside: set[str]) -> list[Endpoint]:
        """Uploaded workloads in namespaces not in `outside` whose labels `selector` matches:
        the hint for a selector that matches nothing where it looks."""
        return [
            w
            for namespace, workloads in self.workloads_in.items()
            if namespace not in outside
            for w in workloads
            if selector.matches(dict(w.labels))
        ]

    def ports_into(self, targets: set[str]) -> dict[str, PortSet]:
        """Endpoint id -> the ports it may use to reach some other endpoint in `targets`
        (the union over those targets); endpoints with no such flow are left out.

        The one place the checks read flows. It reads the flows between groups
        (CONTRACT §3: a flow from G to H holds, with its ports, for every a in G
        and b in H, a != b), so the work grows with groups and members, never
        with pairs of endpoints.
        """
        grouped = self.evaluation.grouped
        into: dict[str, list[str]] = {}  # group id -> its members in `targets`
        for t in targets:
            into.setdefault(grouped.group_of[t], []).append(t)
        members = {g.id: g.members for g in grouped.groups}
        out: dict[str, PortSet] = {}
        for f in grouped.flows:
            reached = into.get(f.target)
            if not reached:
                continue
            for source in members[f.source]:
                # A pod's traffic to itself is never a flow: it needs another target.
                if reached == [source]:
                    continue
                known = out.get(source)
                out[source] = f.verdict.ports if known is None else known | f.verdict.ports
        return out
