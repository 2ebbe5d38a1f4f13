"""Why traffic between two endpoints is allowed or denied, rule by rule.

The same matching as the evaluator (`Evaluator.peer_matches`, `rule_ports`)
is asked per direction: which policies isolate the side, and for each of
their rules whether its peers match the other side and whether its ports
cover the traffic. A denial is named by a reason code and one shared sentence.
Reference: https://kubernetes.io/docs/concepts/services-networking/network-policies/

With cluster-wide policies each side is also decided through the tiers
(`Evaluator.side`): the answer keeps, per side, the chains that decided the
asked ports (an Admin Pass, then NetworkPolicy; an Admin or Baseline Accept
or Deny; the default), and a denial by a Deny rule is said as such, apart
from "no NetworkPolicy rule allows it".

A node asked about itself: a node that is one pod is always allowed ("a pod
cannot block access to itself"); a node that stands for several pods is asked
about two of them, exactly as the evaluator treats two distinct members of
one class. NetworkPolicies "apply to a connection with a pod on one or both
ends", so traffic between external addresses is not analysed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum

from webapp.core.evaluate import Chain, ClusterGrant, Evaluator, Outcome
from webapp.core.model import Direction, NodeType, Policy, PortSpec, Protocol, Rule
from webapp.core.portset import ALL_PORTS, NO_PORTS, PortSet
from webapp.core.scene import Endpoint


class Reason(StrEnum):
    """Why one side lets traffic through or not; the values are stable API strings."""

    MATCHED = "matched"
    NOT_ISOLATED = "not-isolated"
    EXTERNAL = "external"
    HOST_NETWORK = "host-network"
    PEER_NOT_MATCHED = "peer-not-matched"
    PORT_NOT_MATCHED = "port-not-matched"
    NAMED_PORT_MISSING = "named-port-missing"
    NO_RULES = "no-rules"
    SAME_POD = "same-pod"
    CLUSTER_ACCEPT = "cluster-accept"
    CLUSTER_DENY = "cluster-deny"


REASON_TEXT: dict[Reason, str] = {
    Reason.MATCHED: "the rule matches",
    Reason.NOT_ISOLATED: "no policy selects it for this direction, so everything is allowed",
    Reason.EXTERNAL: "external addresses are not subject to NetworkPolicies",
    Reason.HOST_NETWORK: "hostNetwork pods are not selected by NetworkPolicies",
    Reason.PEER_NOT_MATCHED: "none of the rule's peers matches the other side",
    Reason.PORT_NOT_MATCHED: "the rule's ports do not include the requested port",
    Reason.NAMED_PORT_MISSING: "the rule names a port the destination does not define",
    Reason.NO_RULES: "the policy has no rules for this direction: it only isolates",
    Reason.SAME_POD: "a pod's traffic to itself is always allowed; no policy decides it",
    Reason.CLUSTER_ACCEPT: "an Admin or Baseline Accept rule of a cluster-wide policy allows it",
    Reason.CLUSTER_DENY: "a Deny rule of a cluster-wide policy drops it",
}


def rule_words(
    policy: str,
    direction: str,
    index: int,
    tier: str | None = None,
    priority: int | None = None,
    name: str | None = None,
    action: str | None = None,
) -> str:
    """One rule in words, the one spelling every answer and output uses (outputs through
    webapp.outputs.wording): "Admin ClusterNetworkPolicy/tenants priority 10 ingress[0]
    'pass-monitoring' Pass" for a cluster rule, "NetworkPolicy ns/p ingress[1]" otherwise."""
    if tier is None:
        return f"NetworkPolicy {policy} {direction}[{index}]"
    named = f" '{name}'" if name else ""
    return f"{tier} {policy} priority {priority} {direction}[{index}]{named} {action}"


def cluster_rule_text(g: ClusterGrant) -> str:
    """e.g. "Admin ClusterNetworkPolicy/tenants priority 10 ingress[0] 'pass-monitoring' Pass"."""
    rule = g.rule
    return rule_words(
        g.policy.id,
        str(rule.direction),
        rule.index,
        str(g.policy.tier),
        g.policy.priority,
        rule.name,
        str(rule.action),
    )


def chain_text(chain: Chain, policies: tuple[str, ...] = ()) -> str:
    """The decisions of one direction for some ports, joined by arrows where a Pass hands over."""
    parts = [cluster_rule_text(g) for g in chain.steps]
    if chain.outcome is Outcome.ALLOW:
        rules = ", ".join(f"{g.policy.id} {g.rule.direction}[{g.rule.index}]" for g in chain.grants)
        parts.append(f"NetworkPolicy {rules} allow{'s' if len(chain.grants) == 1 else ''}")
    elif chain.outcome is Outcome.ISOLATED:
        by = f" ({', '.join(policies)})" if policies else ""
        parts.append(f"NetworkPolicy isolates it{by} and no rule allows it")
    elif chain.outcome is Outcome.DEFAULT:
        parts.append("allowed by default" if parts else "no rule decides: allowed by default")
    return " → ".join(parts)


class SelfTraffic(StrEnum):
    """What a question from a node to itself is about; the values are stable API strings."""

    SAME_POD = "same-pod"
    """The node is one pod: its traffic to itself is always allowed."""
    PODS_OF_ONE_WORKLOAD = "pods-of-one-workload"
    """The node stands for several pods (or any number: inferred): two of them are asked about."""
    EXTERNAL = "external"
    """An external block: traffic between external addresses is not analysed."""


SELF_TEXT = "each pod's traffic to itself is always allowed"
EXTERNAL_TEXT = (
    "traffic between external addresses is not something the cluster's NetworkPolicies decide"
)
DESTINATION_ONLY_TEXT = (
    "domain names and nodes of cluster-wide policies are destinations of egress rules only"
)


class NoteCode(StrEnum):
    """A remark that holds for an answer whatever its verdict; the values are stable API strings."""

    HOST_NETWORK = "host-network-node-address"


NOTE_TEXT: dict[NoteCode, str] = {
    NoteCode.HOST_NETWORK: (
        "a hostNetwork pod's traffic uses its node's address, so ipBlock rules that cover "
        "the nodes' addresses may apply to it (this analysis matches it only by rules "
        "open to every peer)"
    ),
}


@dataclass(frozen=True, slots=True)
class Note:
    code: NoteCode
    node: str
    """The endpoint id the note is about."""

    @property
    def text(self) -> str:
        return NOTE_TEXT[self.code]


@dataclass(frozen=True, slots=True)
class RuleCheck:
    policy: str
    direction: Direction
    rule: int | None
    """None for a policy without rules in this direction."""
    file: str
    line: int | None
    reason: Reason
    ports: PortSet
    """What this rule allows towards the destination (empty when it does not apply)."""
    missing_ports: tuple[str, ...] = ()
    """Named ports of the rule that the destination lacks."""


@dataclass(frozen=True, slots=True)
class SideVerdict:
    direction: Direction
    isolated: bool
    reason: Reason
    """NOT_ISOLATED, EXTERNAL or HOST_NETWORK when open; else MATCHED or the first failure."""
    policies: tuple[str, ...]
    ports: PortSet
    checks: tuple[RuleCheck, ...]
    chains: tuple[Chain, ...] = ()
    """With cluster-wide policies, for a pod side: how each asked port was decided."""

    @property
    def allowed_rules(self) -> tuple[RuleCheck, ...]:
        return tuple(c for c in self.checks if c.reason is Reason.MATCHED)

    def chain_texts(self, outcomes: tuple[Outcome, ...]) -> list[str]:
        """The chains with these outcomes in words, with their ports when there are several."""
        mine = [c for c in self.chains if c.outcome in outcomes]
        return [
            chain_text(c, self.policies) + (f" ({c.ports})" if len(mine) > 1 else "") for c in mine
        ]

    def handed_over_by(self) -> str:
        """The Admin Pass rules that handed the refused ports to NetworkPolicy, in words."""
        steps = {
            cluster_rule_text(g): None
            for c in self.chains
            if c.outcome is Outcome.ISOLATED
            for g in c.steps
        }
        return f" (handed over by {', '.join(steps)})" if steps else ""


ALLOWING = (Outcome.ACCEPT, Outcome.ALLOW, Outcome.DEFAULT)


@dataclass(frozen=True, slots=True)
class Explanation:
    source: str
    target: str
    protocol: Protocol | None
    port: int | None
    allowed: bool
    ports: PortSet
    egress: SideVerdict
    ingress: SideVerdict
    analysed: bool = True
    """False between external addresses: not the cluster's to decide (and not allowed)."""
    self_traffic: SelfTraffic | None = None
    """Set when source and target are the same node."""
    notes: tuple[Note, ...] = ()
    destination_only: bool = False
    """The source is a domain or node endpoint, which only egress rules name (not analysed)."""

    @property
    def sides(self) -> tuple[SideVerdict, SideVerdict]:
        return (self.egress, self.ingress)

    def sentence(self) -> str:
        """One line: the verdict and, for a denial, the side that refuses and why."""
        if self.port is not None:
            what = f"{self.protocol} {self.port}" if self.protocol else f"port {self.port}"
        else:
            what = f"{self.protocol} traffic" if self.protocol is not None else "traffic"
        if self.self_traffic is SelfTraffic.SAME_POD:
            return f"{what} from {self.source} to itself is allowed: {REASON_TEXT[Reason.SAME_POD]}"
        if self.self_traffic is SelfTraffic.PODS_OF_ONE_WORKLOAD:
            between = f"{what} between two pods of {self.source}"
            return f"{between} is {self._verdict()}; {SELF_TEXT}"
        target = "itself" if self.source == self.target else self.target
        return f"{what} from {self.source} to {target} is {self._verdict()}"

    def _verdict(self) -> str:
        if not self.analysed:
            why = DESTINATION_ONLY_TEXT if self.destination_only else EXTERNAL_TEXT
            return f"not analysed: {why}"
        if self.allowed:
            decided = [
                f"{side.direction}: {'; '.join(side.chain_texts(ALLOWING))}"
                for side in self.sides
                if side.chains
            ]
            return f"allowed ({self.ports})" + (f" — {'; '.join(decided)}" if decided else "")
        for side in self.sides:
            if side.reason is Reason.CLUSTER_DENY:
                who = self.source if side.direction is Direction.EGRESS else self.target
                why = "; ".join(side.chain_texts((Outcome.DENY,)))
                rest = side.chain_texts((Outcome.ISOLATED,))
                more = f"; other ports: {'; '.join(rest)}" if rest else ""
                return f"denied: {side.direction} of {who} is denied by {why}{more}"
        for side in self.sides:
            if side.isolated and not (side.ports and self._wanted(side.ports)):
                who = self.source if side.direction is Direction.EGRESS else self.target
                names = ", ".join(side.policies)
                return (
                    f"denied: {who} is isolated for {side.direction} by {names} and "
                    f"{REASON_TEXT[side.reason]}{side.handed_over_by()}"
                )
        return "denied: no port is allowed by both sides"

    def _wanted(self, ports: PortSet) -> bool:
        return bool(ports & wanted_ports(self.protocol, self.port))


def wanted_ports(protocol: Protocol | None, port: int | None) -> PortSet:
    if protocol is None and port is None:
        return ALL_PORTS
    protos = [protocol] if protocol is not None else list(Protocol)
    if port is None:
        return PortSet.of((p, 1, 65535) for p in protos)
    return PortSet.of((p, port, port) for p in protos)


def find_address(ev: Evaluator, address: str) -> Endpoint | None:
    """The external region holding an address or a CIDR (its first address)."""
    try:
        addr = ipaddress.ip_network(address, strict=False).network_address
    except ValueError:
        return None
    for region in ev.scene.regions:
        for cidr in region.cidrs:
            net = ipaddress.ip_network(cidr)
            if net.version == addr.version and addr in net:
                return ev.endpoint[region.id]
    return None


def _named_missing(rule: Rule, dst: Endpoint) -> tuple[str, ...]:
    names = {(cp.name, cp.protocol) for cp in dst.ports}
    return tuple(
        str(s.port)
        for s in rule.ports
        if isinstance(s.port, str) and (s.port, s.protocol) not in names
    )


def _only_named(specs: tuple[PortSpec, ...]) -> bool:
    return bool(specs) and all(isinstance(s.port, str) for s in specs)


_POD_PER_RUN_OR_NODE = frozenset({"DaemonSet", "CronJob"})
"""Kinds whose one template runs as several pods at once however the upload counts them:
a DaemonSet's pod on every node, a CronJob's overlapping runs (concurrencyPolicy Allow)."""


def self_traffic(e: Endpoint) -> SelfTraffic:
    """What traffic from a node to itself means: one pod, several pods, or external addresses."""
    if e.type.is_external:
        return SelfTraffic.EXTERNAL
    if e.type is NodeType.WORKLOAD and e.pods == 1 and e.kind not in _POD_PER_RUN_OR_NODE:
        return SelfTraffic.SAME_POD
    # More pods, none yet (replicas: 0 can scale up), a pod per node or per run, or an
    # inferred node (any number).
    return SelfTraffic.PODS_OF_ONE_WORKLOAD


def _side(
    ev: Evaluator,
    direction: Direction,
    me: Endpoint,
    other: Endpoint,
    dst: Endpoint,
    wanted: PortSet,
) -> SideVerdict:
    if me.type.is_external:
        return SideVerdict(direction, False, Reason.EXTERNAL, (), ALL_PORTS, ())
    if me.host_network:
        return SideVerdict(direction, False, Reason.HOST_NETWORK, (), ALL_PORTS, ())
    policies = ev.class_of[me.id].isolated[direction]
    np_side = _np_side(ev, direction, policies, other, dst, wanted)
    if not ev.tiers:
        return np_side
    chains = tuple(
        Chain(c.ports & wanted, c.outcome, c.steps, c.grants)
        for c in ev.side(direction, ev.class_of[me.id], ev.class_of[other.id], ev.class_of[dst.id])
        if c.ports & wanted
    )
    allowed = NO_PORTS
    for c in chains:
        if c.outcome.allows:
            allowed = allowed | c.ports
    reason = np_side.reason
    if not allowed and any(c.outcome is Outcome.DENY for c in chains):
        reason = Reason.CLUSTER_DENY
    elif allowed and any(c.outcome is Outcome.ACCEPT for c in chains):
        reason = Reason.CLUSTER_ACCEPT
    elif allowed and np_side.isolated:
        reason = Reason.MATCHED
    return SideVerdict(
        direction, np_side.isolated, reason, np_side.policies, allowed, np_side.checks, chains
    )


def _np_side(
    ev: Evaluator,
    direction: Direction,
    policies: list[Policy],
    other: Endpoint,
    dst: Endpoint,
    wanted: PortSet,
) -> SideVerdict:
    """What the NetworkPolicies isolating one side say, rule by rule."""
    if not policies:
        return SideVerdict(direction, False, Reason.NOT_ISOLATED, (), ALL_PORTS, ())
    other_class = ev.class_of[other.id]
    dst_class = ev.class_of[dst.id]
    checks: list[RuleCheck] = []
    allowed = NO_PORTS
    for policy in policies:
        rules = policy.rules(direction)
        if not rules:
            checks.append(
                RuleCheck(
                    policy.id,
                    direction,
                    None,
                    policy.source.file,
                    policy.source.line,
                    Reason.NO_RULES,
                    NO_PORTS,
                )
            )
        for rule in rules:
            src = rule.source
            missing: tuple[str, ...] = ()
            if not any(ev.peer_matches(p, other_class) for p in rule.peers):
                reason, ports = Reason.PEER_NOT_MATCHED, NO_PORTS
            else:
                ports = ev.rule_ports(rule, dst_class)
                missing = _named_missing(rule, dst)
                if not ports & wanted:
                    reason = (
                        Reason.NAMED_PORT_MISSING
                        if missing and (not ports or _only_named(rule.ports))
                        else Reason.PORT_NOT_MATCHED
                    )
                else:
                    reason = Reason.MATCHED
                    allowed = allowed | ports
            checks.append(
                RuleCheck(
                    policy.id, direction, rule.index, src.file, src.line, reason, ports, missing
                )
            )
    reason = Reason.MATCHED
    if not allowed & wanted:
        failures = [c.reason for c in checks]
        for r in (Reason.PORT_NOT_MATCHED, Reason.NAMED_PORT_MISSING, Reason.PEER_NOT_MATCHED):
            if r in failures:
                reason = r
                break
        else:
            reason = Reason.NO_RULES
    return SideVerdict(
        direction, True, reason, tuple(p.id for p in policies), allowed, tuple(checks)
    )


def explain(
    ev: Evaluator,
    source: str,
    target: str,
    protocol: Protocol | None = None,
    port: int | None = None,
) -> Explanation:
    """Explain traffic from endpoint `source` to endpoint `target` (ids), optionally one port.

    With a port but no protocol, any protocol on that port counts.
    """
    src, dst = ev.endpoint[source], ev.endpoint[target]
    wanted = wanted_ports(protocol, port)
    itself = self_traffic(src) if source == target else None
    notes = tuple(
        Note(NoteCode.HOST_NETWORK, e.id) for e in dict.fromkeys((src, dst)) if e.host_network
    )
    if itself is SelfTraffic.SAME_POD:
        egress = SideVerdict(Direction.EGRESS, False, Reason.SAME_POD, (), ALL_PORTS, ())
        ingress = SideVerdict(Direction.INGRESS, False, Reason.SAME_POD, (), ALL_PORTS, ())
        ports = wanted
    else:
        # Two pods of one node are matched as two members of one evaluator class.
        egress = _side(ev, Direction.EGRESS, src, dst, dst, wanted)
        ingress = _side(ev, Direction.INGRESS, dst, src, dst, wanted)
        ports = egress.ports & ingress.ports & wanted
    destination_only = src.type in (NodeType.DOMAIN, NodeType.NODE)
    analysed = not ((src.type.is_external and dst.type.is_external) or destination_only)
    if not analysed:
        ports = NO_PORTS
    return Explanation(
        source,
        target,
        protocol,
        port,
        bool(ports),
        ports,
        egress,
        ingress,
        analysed=analysed,
        self_traffic=itself,
        notes=notes,
        destination_only=destination_only,
    )
