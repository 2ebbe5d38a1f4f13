"""Findings: what a security reviewer should look at in an upload (CONTRACT §3 Finding).

Each check is registered once in CHECKS (stable kebab-case id, severity, one
line) so the CLI, SARIF output and docs list the same rules. The checks read
the evaluated Analysis and name Kubernetes behaviour from
https://kubernetes.io/docs/concepts/services-networking/network-policies/:
- a pod selected for Egress by any policy is denied everything its rules do
  not allow, DNS included ("Default deny all egress traffic" and the DNS note
  of the seed article);
- pods no policy selects are non-isolated: all traffic is allowed;
- `from`/`to` items are ORed, while namespaceSelector and podSelector in one
  item are ANDed ("Behavior of to and from selectors");
- a named port resolves on the destination pod's container ports;
- NetworkPolicies need a network plugin that enforces them ("Prerequisites").

In a namespace where the upload describes no pods (policies-only mode) the
endpoints are inferred from the selectors themselves, so checks about which
pods exist would fire or stay quiet by construction; they report an `info`
finding "could not be checked" instead.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from webapp.core.evaluate import Evaluation, Evaluator
from webapp.core.model import (
    NAME_LABEL,
    AnyPeer,
    ContainerPort,
    Direction,
    IPBlockPeer,
    NodeType,
    PodPeer,
    Policy,
    Problem,
    Protocol,
    Rule,
    Source,
)
from webapp.core.portset import NO_PORTS, PortSet, resolve_ports
from webapp.core.scene import Endpoint
from webapp.core.selectors import Operator, Selector
from webapp.core.text import shorten

if TYPE_CHECKING:
    from webapp.core import Analysis

IN = Direction.INGRESS
EG = Direction.EGRESS

DNS_NAMESPACE = "kube-system"
DNS_LABEL = ("k8s-app", "kube-dns")
DNS_PORT = 53
BUILTIN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
"""Namespaces every cluster has, so an upload need not define them."""


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
class Check:
    """One registered finding rule."""

    id: str
    severity: Level
    summary: str
    needs_workloads: bool = False
    """Reports "could not be checked" where the upload describes no pods."""


CHECKS: tuple[Check, ...] = (
    Check(
        "egress-blocks-dns",
        Level.HIGH,
        "An egress-isolated workload cannot reach cluster DNS (kube-dns) on UDP and TCP 53, "
        "so it cannot resolve names (medium when only TCP 53 is blocked).",
    ),
    Check(
        "not-isolated",
        Level.MEDIUM,
        "A workload that no policy isolates in either direction: open to and from everything.",
        needs_workloads=True,
    ),
    Check(
        "peers-or-likely-and",
        Level.MEDIUM,
        "A rule lists a namespaceSelector-only peer and a podSelector-only peer (OR) where one "
        "peer with both selectors (AND) was likely meant.",
    ),
    Check(
        "peer-matches-nothing",
        Level.MEDIUM,
        "A peer selector matches no uploaded workload or namespace (often a label typo).",
        needs_workloads=True,
    ),
    Check(
        "policy-selects-nothing",
        Level.MEDIUM,
        "A policy whose podSelector selects no uploaded workload, so it protects nothing.",
        needs_workloads=True,
    ),
    Check(
        "named-port-undefined",
        Level.MEDIUM,
        "A rule names a port that no destination it applies to defines, so that entry allows "
        "nothing.",
        needs_workloads=True,
    ),
    Check(
        "internet-open",
        Level.MEDIUM,
        "A rule open to the whole internet (ipBlock 0.0.0.0/0 or ::/0).",
    ),
    Check(
        "any-namespace",
        Level.LOW,
        "A rule open to every namespace (namespaceSelector: {}).",
    ),
    Check(
        "ingress-not-isolated",
        Level.LOW,
        "A workload isolated for egress but not for ingress: any pod or address may connect to it.",
        needs_workloads=True,
    ),
    Check(
        "namespace-not-defined",
        Level.LOW,
        "A policy in a namespace that the upload (which defines namespaces) does not define.",
    ),
    Check(
        "duplicate-policy",
        Level.LOW,
        "Two NetworkPolicies with the same namespace and name: only the later one is used.",
    ),
    Check(
        "cni-enforcement",
        Level.INFO,
        "NetworkPolicies are only enforced by network plugins (CNIs) that implement them.",
    ),
)
CHECK_BY_ID: dict[str, Check] = {c.id: c for c in CHECKS}

CNI_NOTE = (
    "NetworkPolicies do nothing unless the cluster's network plugin (CNI) enforces them: "
    "kindnet (the kind and minikube default) and Flannel do not, while Calico, Cilium, "
    "kube-router, Weave Net and Romana do"
)


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    severity: Level
    message: str
    nodes: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()
    source: Source | None = None

    def sort_key(self) -> tuple[int, str, str, str]:
        return (self.severity.rank, self.check, self.nodes[0] if self.nodes else "", self.message)


def finding_json(f: Finding) -> dict[str, Any]:
    """CONTRACT §3 Finding, plus the `source` {file, line} of the rule or object concerned."""
    return {
        "rule": f.check,
        "severity": str(f.severity),
        "message": f.message,
        "nodes": list(f.nodes),
        "policies": list(f.policies),
        "source": {"file": f.source.file, "line": f.source.line} if f.source else None,
    }


def find(analysis: Analysis) -> list[dict[str, Any]]:
    """Every finding of an analysis, most severe first (then by rule id and first node)."""
    found = run_checks(analysis.evaluation, analysis.evaluator, analysis.problems)
    return [finding_json(f) for f in found]


def run_checks(
    evaluation: Evaluation,
    evaluator: Evaluator,
    problems: Sequence[Problem] = (),
) -> list[Finding]:
    """Run every check; `problems` are the upload's, for the duplicate-policy check."""
    upload = _Upload(evaluation, evaluator)
    found: list[Finding] = []
    for check in _CHECK_FUNCTIONS:
        found.extend(check(upload))
    found.extend(_duplicate_policy(upload, problems))
    found.extend(upload.unchecked())
    unique = {(f.check, f.severity, f.message, f.nodes): f for f in found}
    return sorted(unique.values(), key=Finding.sort_key)


# --- what the checks share ----------------------------------------------------


@dataclass(slots=True)
class _Skipped:
    namespaces: set[str] = field(default_factory=set)
    nodes: dict[str, None] = field(default_factory=dict)
    policies: dict[str, None] = field(default_factory=dict)
    namespace_labels: bool = False
    """A namespaceSelector could not be checked: the upload defines no Namespace."""


class _Upload:
    """The analysis as the checks read it, with lookups computed once."""

    def __init__(self, evaluation: Evaluation, evaluator: Evaluator) -> None:
        self.evaluation = evaluation
        self.ev = evaluator
        self.scene = evaluation.scene
        self.policies = evaluator.inventory.policies
        self.defined_namespaces = {ns.name: ns for ns in evaluator.inventory.namespaces}
        self.workloads_in: dict[str, list[Endpoint]] = defaultdict(list)
        for e in self.scene.endpoints:
            if e.type is NodeType.WORKLOAD and e.namespace is not None:
                self.workloads_in[e.namespace].append(e)
        self._skipped: dict[str, _Skipped] = defaultdict(_Skipped)

    def has_workloads(self, namespace: str) -> bool:
        return bool(self.workloads_in.get(namespace))

    def endpoints_of(self, ids: Iterable[str]) -> list[Endpoint]:
        return [self.ev.endpoint[i] for i in ids]

    def peer_endpoints(self, rule: Rule) -> list[Endpoint]:
        """Every endpoint a rule's peers match, in scene order."""
        matched = {m for peer in rule.peers for c in self.ev.peer_classes(peer) for m in c.members}
        return [e for e in self.scene.endpoints if e.id in matched]

    def skip(
        self,
        check: str,
        namespaces: Iterable[str] = (),
        nodes: Iterable[str] = (),
        policies: Iterable[str] = (),
        namespace_labels: bool = False,
    ) -> None:
        """Note that `check` could not look at part of the upload (policies-only mode)."""
        assert CHECK_BY_ID[check].needs_workloads, check
        s = self._skipped[check]
        s.namespaces.update(namespaces)
        s.nodes.update(dict.fromkeys(nodes))
        s.policies.update(dict.fromkeys(policies))
        s.namespace_labels |= namespace_labels

    def unchecked(self) -> Iterator[Finding]:
        """One info finding per check that had to skip part of the upload."""
        for check_id, s in self._skipped.items():
            reasons = []
            if s.namespaces:
                names = _names(sorted(s.namespaces))
                plural = "s" if len(s.namespaces) > 1 else ""
                reasons.append(
                    f"in namespace{plural} {names}: no workloads uploaded there "
                    "(their pods are inferred from the policies)"
                )
            if s.namespace_labels:
                reasons.append(
                    "for namespaceSelectors: no Namespace objects uploaded, so namespace "
                    "labels are unknown"
                )
            yield Finding(
                check_id,
                Level.INFO,
                f"could not be checked {'; '.join(reasons)}",
                tuple(s.nodes),
                tuple(s.policies),
            )


def _node_text(e: Endpoint) -> str:
    if e.type is NodeType.WORKLOAD:
        return f"{e.kind} {shorten(f'{e.namespace}/{e.name}')}"
    if e.type is NodeType.INFERRED:
        return f"inferred node {shorten(e.name)}"
    return f"addresses {shorten(e.name)}"


def _names(items: Iterable[str], limit: int = 5) -> str:
    listed = list(items)
    more = f" and {len(listed) - limit} more" if len(listed) > limit else ""
    return ", ".join(shorten(i) for i in listed[:limit]) + more


def _rule_path(rule: Rule) -> str:
    return f"spec.{rule.direction}[{rule.index}]"


def _peer_path(rule: Rule, index: int) -> str:
    return f"{_rule_path(rule)}.{'from' if rule.direction is IN else 'to'}[{index}]"


def _selector_text(selector: Selector) -> str:
    return shorten(str(selector), 80)


def _label_terms(selector: Selector) -> list[str]:
    """The `key=value` (or bare key) terms a selector requires, for typo suggestions."""
    terms: list[str] = []
    for r in selector.requirements:
        if r.operator is Operator.IN:
            terms.extend(f"{r.key}={v}" for v in r.values)
        elif r.operator is Operator.EXISTS:
            terms.append(r.key)
    return terms


def _suggestion(selector: Selector, label_sets: Iterable[Mapping[str, str]]) -> str:
    """`; did you mean app=postgres?` when an existing label is close to a required one."""
    existing: set[str] = set()
    for labels in label_sets:
        for k, v in labels.items():
            if k != NAME_LABEL:
                existing.update((f"{k}={v}", k))
    for term in _label_terms(selector):
        if term in existing:
            continue
        close = difflib.get_close_matches(term, sorted(existing), n=1, cutoff=0.75)
        if close:
            return f"; did you mean {shorten(close[0])} instead of {shorten(term)}?"
    return ""


def _union(ports: Iterable[PortSet]) -> PortSet:
    out = NO_PORTS
    for p in ports:
        out = out | p
    return out


# --- the checks ---------------------------------------------------------------


def _cni_enforcement(u: _Upload) -> Iterator[Finding]:
    """Prerequisites: policies need a network plugin that enforces them; said once."""
    if u.policies:
        yield Finding("cni-enforcement", Level.INFO, CNI_NOTE)


def _isolation(u: _Upload) -> Iterator[Finding]:
    """Pods no policy selects for a direction are non-isolated: everything is allowed."""
    for e in u.scene.endpoints:
        if e.type is NodeType.IPBLOCK:
            continue
        iso = u.evaluation.isolation[e.id]
        check = ""
        if not iso[IN] and not iso[EG]:
            check = "not-isolated"
        elif not iso[IN]:
            check = "ingress-not-isolated"
        if not check:
            continue
        if e.type is NodeType.INFERRED:
            u.skip(check, [e.namespace or ""], [e.id], (p.id for p in iso[EG]))
            continue
        why = " (hostNetwork: policies never select it)" if e.host_network else ""
        if check == "not-isolated":
            message = (
                f"{_node_text(e)} is isolated in neither direction{why}: every pod and address "
                "may connect to it, and it may connect to anything"
            )
        else:
            message = (
                f"{_node_text(e)} is isolated for egress but not for ingress: every pod and "
                "address may connect to it"
            )
        yield Finding(
            check,
            CHECK_BY_ID[check].severity,
            message,
            (e.id,),
            tuple(p.id for p in iso[EG]),
            e.source,
        )


def _is_dns(e: Endpoint) -> bool:
    return (
        e.type is not NodeType.IPBLOCK
        and e.namespace == DNS_NAMESPACE
        and dict(e.labels).get(DNS_LABEL[0]) == DNS_LABEL[1]
    )


def _dns_ports_without_pods(u: _Upload, policies: Sequence[Policy]) -> PortSet:
    """Port 53 allowed by egress rules that could reach DNS, when no DNS pod is known.

    A stand-in kube-dns pod (kube-system, k8s-app=kube-dns, ports `dns`/UDP
    and `dns-tcp`/TCP 53 as kubeadm names them) is matched against the peers.
    An ipBlock counts only with an explicit port, since DNS may be addressed
    by a node-local or service address while "all ports to a range" is not DNS.
    """
    ns = u.scene.namespaces.get(DNS_NAMESPACE)
    ns_labels = dict(ns.labels) if ns else {NAME_LABEL: DNS_NAMESPACE}
    pod_labels = dict([DNS_LABEL])
    ports = (
        ContainerPort("dns", DNS_PORT, Protocol.UDP),
        ContainerPort("dns-tcp", DNS_PORT, Protocol.TCP),
    )
    allowed = NO_PORTS
    for policy in policies:
        for rule in policy.egress:
            reaches = any(
                isinstance(peer, AnyPeer)
                or (isinstance(peer, IPBlockPeer) and bool(rule.ports))
                or (
                    isinstance(peer, PodPeer)
                    and peer.namespace_selector.matches(ns_labels)
                    and peer.pod_selector.matches(pod_labels)
                )
                for peer in rule.peers
            )
            if reaches:
                allowed = allowed | resolve_ports(rule.ports, ports)
    return allowed


def _matching_elsewhere(u: _Upload, selector: Selector, here: set[str]) -> list[Endpoint]:
    """Uploaded workloads outside `here` that `selector` matches: the hint for a selector
    that matches nothing where it looks (a missing or wrong namespaceSelector)."""
    return [
        w
        for ns, ws in u.workloads_in.items()
        if ns not in here
        for w in ws
        if selector.matches(dict(w.labels))
    ]


def _egress_blocks_dns(u: _Upload) -> Iterator[Finding]:
    """Default deny egress cuts DNS too: an egress-isolated pod must be allowed port 53."""
    dns = [e for e in u.scene.endpoints if _is_dns(e)]
    dns_ids = {d.id for d in dns}
    reach: dict[tuple[str, str], PortSet] = {
        (f.source, f.target): f.verdict.ports for f in u.evaluation.flows if f.target in dns_ids
    }
    for e in u.scene.endpoints:
        policies = u.evaluation.isolation[e.id][EG] if e.type is not NodeType.IPBLOCK else ()
        if not policies or _is_dns(e):
            continue
        if dns:
            allowed = _union(reach.get((e.id, d.id), NO_PORTS) for d in dns)
            target = f"DNS ({_names(d.name for d in dns)} in {DNS_NAMESPACE})"
        else:
            allowed = _dns_ports_without_pods(u, policies)
            target = f"DNS (k8s-app=kube-dns pods in {DNS_NAMESPACE}, none uploaded)"
        missing = [p for p in (Protocol.UDP, Protocol.TCP) if (p, DNS_PORT) not in allowed]
        if not missing:
            continue
        blocked = " and ".join(f"{p} {DNS_PORT}" for p in missing)
        consequence = (
            "it cannot resolve names"
            if Protocol.UDP in missing
            else "large DNS answers, which fall back to TCP, fail"
        )
        yield Finding(
            "egress-blocks-dns",
            Level.HIGH if Protocol.UDP in missing else Level.MEDIUM,
            f"{_node_text(e)} is isolated for egress by {_names(p.id for p in policies)} "
            f"and cannot reach {target} on {blocked}: {consequence}; allow egress to "
            f"k8s-app=kube-dns pods in {DNS_NAMESPACE} on UDP and TCP {DNS_PORT}",
            (e.id, *(d.id for d in dns)),
            tuple(p.id for p in policies),
            policies[0].source,
        )


def _policy_selects_nothing(u: _Upload) -> Iterator[Finding]:
    """spec.podSelector chooses the pods of the policy's namespace that it applies to."""
    for p in u.policies:
        if not u.has_workloads(p.namespace):
            u.skip("policy-selects-nothing", [p.namespace], policies=[p.id])
            continue
        if u.evaluation.selects[p.id]:
            continue
        here = u.workloads_in[p.namespace]
        hint = _suggestion(p.pod_selector, (dict(w.labels) for w in here))
        elsewhere = _matching_elsewhere(u, p.pod_selector, {p.namespace})
        if elsewhere and not hint:
            hint = (
                f"; it would select {_names(f'{w.namespace}/{w.name}' for w in elsewhere)}: "
                "is metadata.namespace right?"
            )
        if any(w.host_network for w in here) and not hint:
            hint = "; hostNetwork pods are never selected"
        yield Finding(
            "policy-selects-nothing",
            CHECK_BY_ID["policy-selects-nothing"].severity,
            f"NetworkPolicy {shorten(p.id)} selects no uploaded workload: spec.podSelector "
            f"({_selector_text(p.pod_selector)}) matches no pod in {shorten(p.namespace)}"
            f"{hint}",
            (),
            (p.id,),
            p.source,
        )


def _peer_matches_nothing(u: _Upload) -> Iterator[Finding]:
    """A peer matches by namespace labels AND pod labels; if nothing matches, it allows nothing."""
    check = "peer-matches-nothing"
    severity = CHECK_BY_ID[check].severity
    for policy in u.policies:
        for rule in policy.ingress + policy.egress:
            for i, peer in enumerate(rule.peers):
                if not isinstance(peer, PodPeer):
                    continue
                path = _peer_path(rule, i)
                if peer.same_namespace:
                    namespaces = [policy.namespace]
                else:
                    namespaces = [
                        name
                        for name in u.ev.namespaces_matching(peer.namespace_selector)
                        if not u.scene.namespaces[name].inferred
                    ]
                    if not namespaces:
                        if not u.defined_namespaces:
                            u.skip(check, policies=[policy.id], namespace_labels=True)
                            continue
                        hint = _suggestion(
                            peer.namespace_selector,
                            (dict(ns.labels) for ns in u.defined_namespaces.values()),
                        )
                        yield Finding(
                            check,
                            severity,
                            f"{path}.namespaceSelector "
                            f"({_selector_text(peer.namespace_selector)}) of "
                            f"{shorten(policy.id)} matches no uploaded namespace{hint}",
                            tuple(u.evaluation.selects[policy.id]),
                            (policy.id,),
                            rule.source,
                        )
                        continue
                if peer.pod_selector.is_empty:
                    continue  # every pod of those namespaces: nothing to mistype
                if any(
                    u.ev.endpoint[m].type is NodeType.WORKLOAD
                    for c in u.ev.peer_classes(peer)
                    for m in c.members
                ):
                    continue
                candidates = [w for n in namespaces for w in u.workloads_in.get(n, [])]
                unknown = [n for n in namespaces if not u.has_workloads(n)]
                if unknown:
                    u.skip(check, unknown, policies=[policy.id])
                    continue
                hint = _suggestion(peer.pod_selector, (dict(w.labels) for w in candidates))
                elsewhere = _matching_elsewhere(u, peer.pod_selector, set(namespaces))
                if elsewhere and not hint:
                    hint = (
                        f"; it would match {_names(f'{w.namespace}/{w.name}' for w in elsewhere)}"
                        ": is a namespaceSelector missing from this peer?"
                    )
                yield Finding(
                    check,
                    severity,
                    f"{path}.podSelector ({_selector_text(peer.pod_selector)}) of "
                    f"{shorten(policy.id)} matches no uploaded workload in "
                    f"{_names(namespaces)}{hint}",
                    tuple(u.evaluation.selects[policy.id]),
                    (policy.id,),
                    rule.source,
                )


def _peers_or_likely_and(u: _Upload) -> Iterator[Finding]:
    """Separate from/to items are ORed; one item with both selectors is their AND."""
    for policy in u.policies:
        for rule in policy.ingress + policy.egress:
            ns_only = [
                (i, p)
                for i, p in enumerate(rule.peers)
                if isinstance(p, PodPeer)
                and not p.same_namespace
                and p.pod_selector.is_empty
                and not p.namespace_selector.is_empty
            ]
            pod_only = [
                (i, p)
                for i, p in enumerate(rule.peers)
                if isinstance(p, PodPeer) and p.same_namespace and not p.pod_selector.is_empty
            ]
            if not (ns_only and pod_only):
                continue
            (ni, np), (pi, pp) = ns_only[0], pod_only[0]
            key = "from" if rule.direction is IN else "to"
            widened = {m for _, p in ns_only for c in u.ev.peer_classes(p) for m in c.members}
            nodes = dict.fromkeys(
                [
                    *u.evaluation.selects[policy.id],
                    *(e.id for e in u.scene.endpoints if e.id in widened),
                ]
            )
            yield Finding(
                "peers-or-likely-and",
                CHECK_BY_ID["peers-or-likely-and"].severity,
                f"{_rule_path(rule)}.{key} of {shorten(policy.id)} lists namespaceSelector "
                f"({_selector_text(np.namespace_selector)}) as {key}[{ni}] and podSelector "
                f"({_selector_text(pp.pod_selector)}) as {key}[{pi}]: separate peers are ORed, "
                "so every pod of those namespaces is allowed, and the podSelector looks only "
                f"in {shorten(policy.namespace)}; if pods matching both were meant, put both "
                "selectors in one peer",
                tuple(nodes),
                (policy.id,),
                rule.source,
            )


def _named_port_undefined(u: _Upload) -> Iterator[Finding]:
    """A named port resolves on each destination pod's container ports, or allows nothing."""
    check = "named-port-undefined"
    for policy in u.policies:
        for rule in policy.ingress + policy.egress:
            named = [(j, s) for j, s in enumerate(rule.ports) if isinstance(s.port, str)]
            if not named:
                continue
            if rule.direction is IN:
                destinations = u.endpoints_of(u.evaluation.selects[policy.id])
            else:
                destinations = u.peer_endpoints(rule)
            pods = [d for d in destinations if d.type is not NodeType.IPBLOCK]
            external = len(pods) < len(destinations)
            if not pods and not external:
                continue  # the rule reaches nothing at all: other checks say why
            for j, spec in named:
                if any(
                    cp.name == spec.port and cp.protocol is spec.protocol
                    for d in pods
                    for cp in d.ports
                ):
                    continue
                inferred = [d for d in pods if d.type is NodeType.INFERRED]
                if inferred:
                    u.skip(check, {d.namespace or "" for d in inferred}, policies=[policy.id])
                    continue
                other_protocol = [
                    f"{d.namespace}/{d.name}"
                    for d in pods
                    if any(cp.name == spec.port for cp in d.ports)
                ]
                if other_protocol:
                    hint = f"; {_names(other_protocol)} define it for another protocol"
                elif pods:
                    hint = f" ({_names(f'{d.namespace}/{d.name}' for d in pods)})"
                else:
                    hint = ""
                if external:
                    hint += "; external addresses have no named ports"
                yield Finding(
                    check,
                    CHECK_BY_ID[check].severity,
                    f"{_rule_path(rule)}.ports[{j}] of {shorten(policy.id)} names port "
                    f"{shorten(spec.port)} ({spec.protocol}), which no destination of the "
                    f"rule defines{hint}: this entry allows nothing",
                    tuple(d.id for d in pods),
                    (policy.id,),
                    rule.source,
                )


def _open_peers(u: _Upload) -> Iterator[Finding]:
    """`namespaceSelector: {}` matches every namespace; a /0 ipBlock every address."""
    for policy in u.policies:
        for rule in policy.ingress + policy.egress:
            ports = resolve_ports(rule.ports, ())
            on = "" if ports.is_all else f" on {ports}"
            if rule.ports and not ports:
                on = " on named ports"
            verb = "admits" if rule.direction is IN else "allows traffic to"
            selected = tuple(u.evaluation.selects[policy.id])
            for i, peer in enumerate(rule.peers):
                path = _peer_path(rule, i)
                if (
                    isinstance(peer, PodPeer)
                    and not peer.same_namespace
                    and peer.namespace_selector.is_empty
                ):
                    pods = (
                        "every pod"
                        if peer.pod_selector.is_empty
                        else f"pods matching {_selector_text(peer.pod_selector)}"
                    )
                    yield Finding(
                        "any-namespace",
                        CHECK_BY_ID["any-namespace"].severity,
                        f"{path} of {shorten(policy.id)} has namespaceSelector: {{}}: it "
                        f"{verb} {pods} in every namespace{on}",
                        selected,
                        (policy.id,),
                        rule.source,
                    )
                elif isinstance(peer, IPBlockPeer) and peer.cidr.prefixlen == 0:
                    but = (
                        f" except {', '.join(str(e) for e in peer.excepts)}" if peer.excepts else ""
                    )
                    regions = tuple(m for c in u.ev.peer_classes(peer) for m in c.members)
                    yield Finding(
                        "internet-open",
                        CHECK_BY_ID["internet-open"].severity,
                        f"{path} of {shorten(policy.id)} has ipBlock {peer.cidr}{but}: it "
                        f"{verb} every external address{on}",
                        selected + regions,
                        (policy.id,),
                        rule.source,
                    )


def _namespace_not_defined(u: _Upload) -> Iterator[Finding]:
    """A policy in a namespace the upload does not define may carry a mistyped namespace."""
    if not u.defined_namespaces:
        return  # nothing to compare with
    for p in u.policies:
        if p.namespace in u.defined_namespaces or p.namespace in BUILTIN_NAMESPACES:
            continue
        close = difflib.get_close_matches(p.namespace, sorted(u.defined_namespaces), 1, 0.75)
        hint = f"; did you mean {shorten(close[0])}?" if close else ""
        yield Finding(
            "namespace-not-defined",
            CHECK_BY_ID["namespace-not-defined"].severity,
            f"NetworkPolicy {shorten(p.id)} is in namespace {shorten(p.namespace)}, which "
            f"the upload does not define{hint}",
            tuple(u.evaluation.selects[p.id]),
            (p.id,),
            p.source,
        )


def _duplicate_policy(u: _Upload, problems: Sequence[Problem]) -> Iterator[Finding]:
    """The loader keeps the later of two same-named policies and warns; say it as a finding."""
    for problem in problems:
        if problem.kind != "NetworkPolicy" or "also defined at" not in problem.message:
            continue
        kept = next(
            (
                p
                for p in u.policies
                if p.name == problem.name
                and p.source.file == problem.file
                and p.source.document == problem.document
            ),
            None,
        )
        yield Finding(
            "duplicate-policy",
            CHECK_BY_ID["duplicate-policy"].severity,
            problem.message,
            tuple(u.evaluation.selects[kept.id]) if kept else (),
            (kept.id,) if kept else (),
            Source(problem.file, problem.document, problem.line),
        )


_CHECK_FUNCTIONS: tuple[Callable[[_Upload], Iterable[Finding]], ...] = (
    _cni_enforcement,
    _isolation,
    _egress_blocks_dns,
    _policy_selects_nothing,
    _peer_matches_nothing,
    _peers_or_likely_and,
    _named_port_undefined,
    _open_peers,
    _namespace_not_defined,
)
