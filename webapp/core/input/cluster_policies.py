"""Cluster-wide policies read and validated as their CRDs do, into ClusterPolicy.

ClusterNetworkPolicy `policy.networking.k8s.io/v1alpha2` (network-policy-api
v0.2.0), and AdminNetworkPolicy / BaselineAdminNetworkPolicy `v1alpha1`
(v0.1.7), converted into the same model (../shared/docs/cluster-network-policy.md
§2, §4): Allow -> Accept, `ports` -> the PortSpecs `protocols` give, a BANP is
the Baseline tier at priority 0. Validation follows the CRD schemas (§5):
required fields, case-sensitive enums, exactly-one-of structs, ranges, list
sizes, the CEL rules. Decoding is strict: an unknown field is an error, never
dropped, since a peer the reader does not know could be a deny.

Nodes (`v1`) are read for their name and labels only: what `nodes` peers select.

Reference: https://network-policy-api.sigs.k8s.io/reference/spec/
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from webapp.core.input.fields import (
    _At,
    _check_fields,
    _integer,
    _list,
    _mapping,
    _read_protocol,
    _read_selector,
    _Report,
    _string,
)
from webapp.core.input.metadata import _read_meta
from webapp.core.input.policies import _end_line
from webapp.core.input.raw import RawObject
from webapp.core.input.validation import check_dns1123_subdomain, check_port_name, parse_cidr
from webapp.core.model import (
    Action,
    ClusterNode,
    ClusterPeer,
    ClusterPolicy,
    ClusterRule,
    Direction,
    DomainPeer,
    IPNetwork,
    NetworksPeer,
    NodesPeer,
    PodPeer,
    PortSpec,
    Protocol,
    Source,
    Tier,
    labels_of,
)
from webapp.core.selectors import Selector
from webapp.core.text import shorten

V1ALPHA2 = "policy.networking.k8s.io/v1alpha2"
V1ALPHA1 = "policy.networking.k8s.io/v1alpha1"
CLUSTER_API_VERSIONS: dict[str, str] = {
    "ClusterNetworkPolicy": V1ALPHA2,
    "AdminNetworkPolicy": V1ALPHA1,
    "BaselineAdminNetworkPolicy": V1ALPHA1,
}
"""The group version that serves each cluster-wide policy kind."""
NODE_API_VERSION = "v1"

BANP_NAME = "default"
MAX_CIDR_LENGTH = 43
MAX_RULE_NAME = 100
MAX_SET_ITEMS = 25
"""networks and domainNames, in both generations."""
# The DomainName pattern of the CRD, as written (its `A-z` also admits [\]^_`).
_DOMAIN_NAME = re.compile(
    r"(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?"
)
_PORT_PROTOCOLS = {"tcp": Protocol.TCP, "udp": Protocol.UDP, "sctp": Protocol.SCTP}
_REMOVED_TENANCY = ("sameLabels", "notSameLabels")


@dataclass(frozen=True, slots=True)
class _Dialect:
    """What differs between the three kinds: fields, actions, limits."""

    kind: str
    tier: Tier | None
    """None: read from spec.tier (ClusterNetworkPolicy)."""
    actions: Mapping[str, Action]
    max_items: int
    """Rules per direction, peers per rule, ports per rule."""
    ports_key: str
    egress_peers: tuple[str, ...]
    pods_need_namespace_selector: bool

    @property
    def spec_fields(self) -> tuple[str, ...]:
        head = {None: ("tier", "priority"), Tier.ADMIN: ("priority",), Tier.BASELINE: ()}
        return (*head[self.tier], "subject", "ingress", "egress")


_CNP = _Dialect(
    "ClusterNetworkPolicy",
    None,
    {"Accept": Action.ACCEPT, "Deny": Action.DENY, "Pass": Action.PASS},
    25,
    "protocols",
    ("namespaces", "pods", "nodes", "networks", "domainNames"),
    False,
)
_ANP = _Dialect(
    "AdminNetworkPolicy",
    Tier.ADMIN,
    {"Allow": Action.ACCEPT, "Deny": Action.DENY, "Pass": Action.PASS},
    100,
    "ports",
    ("namespaces", "pods", "nodes", "networks", "domainNames"),
    True,
)
_BANP = _Dialect(
    "BaselineAdminNetworkPolicy",
    Tier.BASELINE,
    {"Allow": Action.ACCEPT, "Deny": Action.DENY},
    100,
    "ports",
    ("namespaces", "pods", "nodes", "networks"),
    True,
)
_DIALECTS = {d.kind: d for d in (_CNP, _ANP, _BANP)}

_TOP_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")
_SUBJECT_FIELDS = ("namespaces", "pods")
_NAMESPACED_POD_FIELDS = ("namespaceSelector", "podSelector")
_PROTOCOL_FIELDS = ("tcp", "udp", "sctp", "destinationNamedPort")
_PROTOCOL_PORT_FIELDS = ("destinationPort",)
_PORT_FIELDS = ("number", "range")
_RANGE_FIELDS = ("start", "end")
_V1ALPHA1_PORT_FIELDS = ("portNumber", "portRange", "namedPort")
_PORT_NUMBER_FIELDS = ("protocol", "port")
_PORT_RANGE_FIELDS = ("protocol", "start", "end")
_POD_HINTS = {"namespaces": "pods take a 'namespaceSelector' (a label selector)"}


def read_cluster_policy(raw: RawObject, report: _Report) -> ClusterPolicy | None:
    """A ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy; None if invalid."""
    d = _DIALECTS[raw.kind]
    body = raw.body
    root = _At.root(raw)
    _check_fields(body, _TOP_FIELDS, root, report)
    meta = _read_meta(
        body, root, report, check_name=check_dns1123_subdomain, namespaced=False, strict=True
    )
    if d is _BANP and meta.name and meta.name != BANP_NAME:
        name_at = root.field(body, "metadata").field(body.get("metadata"), "name")
        report.error(
            name_at,
            f"a BaselineAdminNetworkPolicy must be named 'default' (there is only one), "
            f"not {shorten(meta.name)}",
        )
    _mapping(body.get("status"), root.field(body, "status"), report)
    spec_at = root.field(body, "spec")
    spec = _mapping(body.get("spec"), spec_at, report)
    if spec is None:  # nothing more to read: say only that
        if body.get("spec") is None:
            report.error(spec_at, "spec is required")
        return None
    hints = {"tier": f"{d.kind} has no tier; it is the {d.tier} tier"} if d.tier else {}
    if d is _BANP:
        hints["priority"] = "a BaselineAdminNetworkPolicy has no priority"
    meant = _check_fields(spec, d.spec_fields, spec_at, report, hints)
    tier = d.tier or _read_tier(spec, spec_at, report, meant)
    priority = 0 if d is _BANP else _read_priority(spec, spec_at, report, meant)
    subject = _read_subject(spec, spec_at, report, d, meant)
    rules: dict[Direction, tuple[ClusterRule, ...]] = {}
    for direction in Direction:
        key = str(direction)
        rules_at = spec_at.field(spec, key)
        items = _list(spec.get(key), rules_at, report)
        if len(items) > d.max_items:
            report.error(rules_at, _too_many(key, len(items), d.max_items))
        rules[direction] = tuple(
            rule
            for i, item in enumerate(items)
            if (rule := _read_rule(item, rules_at.item(items, i), report, d, direction, i))
        )
    if report.failed or tier is None or priority is None or subject is None:
        return None
    return ClusterPolicy(
        kind=d.kind,
        name=meta.name,
        tier=tier,
        priority=priority,
        subject=subject,
        ingress=rules[Direction.INGRESS],
        egress=rules[Direction.EGRESS],
        source=Source(raw.file, raw.document, raw.line),
    )


def read_node(raw: RawObject, report: _Report) -> ClusterNode | None:
    """A Node's name and labels; its spec and status are not read (nor checked)."""
    meta = _read_meta(
        raw.body, _At.root(raw), report, check_name=check_dns1123_subdomain, namespaced=False
    )
    if report.failed:
        return None
    return ClusterNode(meta.name, labels_of(meta.labels), Source(raw.file, raw.document, raw.line))


# --- spec ------------------------------------------------------------------


def _too_many(what: str, count: int, limit: int) -> str:
    return f"{what} has {count} items; at most {limit} are allowed"


def _required(
    mapping: Mapping[str, Any], key: str, at: _At, report: _Report, meant: set[str]
) -> bool:
    """Whether `key` is present (null counts as absent); if not, report it unless misspelled."""
    if mapping.get(key) is not None:
        return True
    if key not in meant:
        report.error(at.field(mapping, key), f"{key} is required")
    return False


def _read_enum(
    value: object, at: _At, report: _Report, what: str, allowed: Mapping[str, Any], hint: str
) -> Any:
    """A case-sensitive enum value; a case slip gets a 'did you mean'."""
    text = _string(value, at, report, what)
    if text is None:
        return None
    if text in allowed:
        return allowed[text]
    near = next((a for a in allowed if a.lower() == text.lower()), None)
    case = f"did you mean '{near}'? values are case-sensitive" if near else ""
    hints = [h for h in (case, hint) if h]
    extra = f" ({'; '.join(hints)})" if hints else ""
    report.error(at, f"unsupported {what} {shorten(text)}: use {_choices(list(allowed))}{extra}")
    return None


def _choices(values: list[str]) -> str:
    return f"{', '.join(values[:-1])} or {values[-1]}" if len(values) > 1 else values[0]


def _read_tier(spec: Mapping[str, Any], at: _At, report: _Report, meant: set[str]) -> Tier | None:
    if not _required(spec, "tier", at, report, meant):
        return None
    value = spec["tier"]
    hint = ""
    if isinstance(value, str) and value in ("admin", "baseline"):
        hint = "the NPEP-285 draft spelled tiers in lower case; the API has Admin and Baseline"
    tiers = {str(t): t for t in Tier}
    found: Tier | None = _read_enum(value, at.field(spec, "tier"), report, "tier", tiers, hint)
    return found


def _read_priority(
    spec: Mapping[str, Any], at: _At, report: _Report, meant: set[str]
) -> int | None:
    if not _required(spec, "priority", at, report, meant):
        return None
    priority_at = at.field(spec, "priority")
    priority = _integer(spec["priority"], priority_at, report, "priority")
    if priority is not None and not 0 <= priority <= 1000:
        report.error(
            priority_at, f"priority {priority} is out of range: use 0 to 1000 (lower wins)"
        )
        return None
    return priority


def _one_of(
    mapping: Mapping[str, Any], fields: tuple[str, ...], at: _At, report: _Report, meant: set[str]
) -> str | None:
    """Exactly one of `fields` (MinProperties=1, MaxProperties=1); null counts as absent."""
    given = [key for key in fields if mapping.get(key) is not None]
    if len(given) == 1:
        return given[0]
    if len(given) > 1:
        report.error(at, f"must specify exactly one of {', '.join(fields)}; got {', '.join(given)}")
    elif not meant:
        report.error(at, f"must specify exactly one of {', '.join(fields)}")
    return None


def _read_subject(
    spec: Mapping[str, Any], at: _At, report: _Report, d: _Dialect, meant: set[str]
) -> PodPeer | None:
    if not _required(spec, "subject", at, report, meant):
        return None
    subject_at = at.field(spec, "subject")
    subject = _mapping(spec["subject"], subject_at, report)
    if subject is None:
        return None
    sub_meant = _check_fields(subject, _SUBJECT_FIELDS, subject_at, report)
    key = _one_of(subject, _SUBJECT_FIELDS, subject_at, report, sub_meant)
    if key is None:
        return None
    return _read_pod_peer(subject[key], subject_at.field(subject, key), report, d, key)


def _read_pod_peer(
    value: object, at: _At, report: _Report, d: _Dialect, key: str
) -> PodPeer | None:
    """`namespaces: S` is every pod of the namespaces S selects; `pods` is
    podSelector AND namespaceSelector (absent: every namespace, v1alpha2 only)."""
    mapping = _mapping(value, at, report)
    if mapping is None:
        return None
    if key == "namespaces":
        if not _tenancy_refused(mapping, at, report):
            return None
        return PodPeer(Selector(), _read_selector(mapping, at, report))
    meant = _check_fields(mapping, _NAMESPACED_POD_FIELDS, at, report, _POD_HINTS)
    pods: Selector | None = None
    if _required(mapping, "podSelector", at, report, meant):
        pods = _read_selector(mapping["podSelector"], at.field(mapping, "podSelector"), report)
    namespaces = Selector()
    ns_at = at.field(mapping, "namespaceSelector")
    if mapping.get("namespaceSelector") is not None:
        ns_value = _mapping(mapping["namespaceSelector"], ns_at, report)
        if ns_value is not None and _tenancy_refused(ns_value, ns_at, report):
            namespaces = _read_selector(ns_value, ns_at, report)
    elif d.pods_need_namespace_selector and "namespaceSelector" not in meant:
        report.error(ns_at, f"namespaceSelector is required in {d.kind} (v1alpha1) pods")
    return PodPeer(pods, namespaces) if pods is not None else None


def _tenancy_refused(mapping: Mapping[str, Any], at: _At, report: _Report) -> bool:
    """False, with an error, for the tenancy fields removed in network-policy-api v0.1.7."""
    removed = [key for key in _REMOVED_TENANCY if key in mapping]
    for key in removed:
        report.error(
            at.field(mapping, key),
            f"{key} was removed from the API in network-policy-api v0.1.7 and is not "
            "supported; express tenancy with one policy per tenant",
        )
    return not removed


# --- rules -----------------------------------------------------------------


def _read_rule(
    value: object, at: _At, report: _Report, d: _Dialect, direction: Direction, index: int
) -> ClusterRule | None:
    mapping = _mapping(value, at, report)
    if mapping is None:
        return None
    peer_key = "from" if direction is Direction.INGRESS else "to"
    other = "to" if peer_key == "from" else "from"
    hints = {other: f"{direction} rules use '{peer_key}'"}
    if d.ports_key == "protocols":
        hints["ports"] = "v1alpha2 replaced 'ports' with 'protocols'"
    else:
        hints["protocols"] = "v1alpha1 rules take 'ports'"
    meant = _check_fields(mapping, ("name", "action", peer_key, d.ports_key), at, report, hints)
    name_at = at.field(mapping, "name")
    name = _string(mapping.get("name"), name_at, report, "name")
    if name is not None and len(name) > MAX_RULE_NAME:
        report.error(
            name_at, f"name is {len(name)} characters long; at most {MAX_RULE_NAME} are allowed"
        )
    action: Action | None = None
    if _required(mapping, "action", at, report, meant):
        action = _read_enum(
            mapping["action"],
            at.field(mapping, "action"),
            report,
            "action",
            d.actions,
            _action_hint(mapping["action"], d),
        )
    peers, kinds = _read_peers(mapping, peer_key, at, report, d, direction, meant)
    ports_at = at.field(mapping, d.ports_key)
    if d.ports_key == "protocols":
        ports, named_at = _read_protocols(mapping, ports_at, report, d)
    else:
        ports, named_at = _read_v1alpha1_ports(mapping, ports_at, report, d)
    _check_named_port_peers(named_at, kinds, report, d)
    domain_names = [i for i, k in enumerate(kinds) if k == "domainNames"]
    if action in (Action.DENY, Action.PASS) and domain_names:
        peer_at = at.field(mapping, peer_key).item(mapping[peer_key], domain_names[0])
        report.warning(
            peer_at.field(mapping[peer_key][domain_names[0]], "domainNames"),
            f"domainNames are only supported in Accept rules (the API documentation); "
            f"a {action} of a domain name depends on what the implementation resolved",
        )
    if action is None:
        return None
    return ClusterRule(
        direction=direction,
        index=index,
        name=name or None,
        action=action,
        peers=tuple(peers),
        ports=tuple(ports),
        source=Source(report.raw.file, report.raw.document, at.line, _end_line(value, at)),
    )


def _action_hint(value: object, d: _Dialect) -> str:
    spelled = value.lower() if isinstance(value, str) else ""
    if spelled == "allow" and d is _CNP:
        return "v1alpha2 renamed Allow to Accept"
    if spelled == "accept" and d is not _CNP:
        return "v1alpha1 spells it Allow"
    if spelled == "pass" and d is _BANP:
        return "a BaselineAdminNetworkPolicy cannot pass: there is no tier below it"
    return ""


def _read_peers(
    rule: Mapping[str, Any],
    key: str,
    at: _At,
    report: _Report,
    d: _Dialect,
    direction: Direction,
    meant: set[str],
) -> tuple[list[ClusterPeer], list[str]]:
    """The peers of `from`/`to` (1 to max items), and which field each item used."""
    if not _required(rule, key, at, report, meant):
        return [], []
    peers_at = at.field(rule, key)
    items = _list(rule[key], peers_at, report)
    if not items:
        report.error(peers_at, f"{key} must have at least 1 item")
    elif len(items) > d.max_items:
        report.error(peers_at, _too_many(key, len(items), d.max_items))
    fields = d.egress_peers if direction is Direction.EGRESS else _SUBJECT_FIELDS
    peers: list[ClusterPeer] = []
    kinds: list[str] = []
    for i, item in enumerate(items):
        item_at = peers_at.item(items, i)
        mapping = _mapping(item, item_at, report)
        if mapping is None:
            kinds.append("")
            continue
        hints = _peer_hints(d, direction)
        peer_meant = _check_fields(mapping, fields, item_at, report, hints)
        field = _one_of(mapping, fields, item_at, report, peer_meant)
        kinds.append(field or "")
        if field is not None:
            peers += _read_peer(mapping[field], item_at.field(mapping, field), report, d, field)
    return peers, kinds


def _peer_hints(d: _Dialect, direction: Direction) -> dict[str, str]:
    if direction is Direction.INGRESS:
        return {f: "only egress rules have this peer" for f in ("nodes", "networks", "domainNames")}
    if d is _BANP:
        return {"domainNames": "a BaselineAdminNetworkPolicy has no domainNames peer"}
    return {}


def _read_peer(
    value: object, at: _At, report: _Report, d: _Dialect, field: str
) -> list[ClusterPeer]:
    if field in ("namespaces", "pods"):
        peer = _read_pod_peer(value, at, report, d, field)
        return [peer] if peer is not None else []
    if field == "nodes":
        mapping = _mapping(value, at, report)
        return [NodesPeer(_read_selector(mapping, at, report))] if mapping is not None else []
    items = _list(value, at, report)
    if not items:
        report.error(at, f"{field} must have at least 1 item")
    elif len(items) > MAX_SET_ITEMS:
        report.error(at, _too_many(field, len(items), MAX_SET_ITEMS))
    seen: set[str] = set()
    texts: list[tuple[str, _At]] = []
    for i, item in enumerate(items):
        item_at = at.item(items, i)
        text = _string(item, item_at, report, f"{field} entries")
        if text is None:
            continue
        if text in seen:
            report.error(item_at, f"duplicate entry {shorten(text)}: {field} is a set")
        seen.add(text)
        texts.append((text, item_at))
    if field == "networks":
        cidrs = [c for text, item_at in texts if (c := _read_network(text, item_at, report))]
        return [NetworksPeer(tuple(dict.fromkeys(cidrs)))] if cidrs else []
    for text, item_at in texts:
        if not _DOMAIN_NAME.fullmatch(text):
            report.error(
                item_at,
                f"invalid domain name {shorten(text)}: labels of letters, digits, '-' and '_', "
                "with '*.' allowed only as a whole first label",
            )
    return [DomainPeer(text) for text, _ in texts]


def _read_network(text: str, at: _At, report: _Report) -> IPNetwork | None:
    """CIDR: at most 43 characters and CEL isCIDR (Go netip.ParsePrefix: host bits
    allowed and masked off when matching, leading zeros not)."""
    if len(text) > MAX_CIDR_LENGTH:
        report.error(at, f"CIDR {shorten(text)} is longer than {MAX_CIDR_LENGTH} characters")
        return None
    parsed = parse_cidr(text)
    if parsed.error:
        report.error(at, f"invalid CIDR {shorten(text)}: {parsed.error}")
        return None
    for warning in parsed.warnings:
        if warning.startswith("leading zeros"):
            report.error(at, f"invalid CIDR {shorten(text)}: leading zeros are not allowed")
            return None
        report.warning(at, f"CIDR {shorten(text)}: {warning}")
    return parsed.network


# --- ports -------------------------------------------------------------------


def _port_number(value: object, at: _At, report: _Report, what: str) -> int | None:
    number = _integer(value, at, report, what)
    if number is not None and not 1 <= number <= 65535:
        report.error(at, f"{what} {number} is out of range: use 1 to 65535")
        return None
    return number


def _named(name: str, at: _At, report: _Report) -> list[PortSpec]:
    """A named port of the destination pod: the container port decides the protocol."""
    if messages := check_port_name(name):
        report.warning(
            at,
            f"no container port can be named {shorten(name)} ({'; '.join(messages)}): "
            "it matches nothing",
        )
    return [PortSpec(p, name) for p in Protocol]


def _read_protocols(
    rule: Mapping[str, Any], at: _At, report: _Report, d: _Dialect
) -> tuple[list[PortSpec], _At | None]:
    """v1alpha2 `protocols`: 1 to 25 entries, each exactly one of tcp, udp, sctp,
    destinationNamedPort; absent means every protocol and port."""
    if rule.get("protocols") is None:
        return [], None
    items = _list(rule["protocols"], at, report)
    if not items:
        report.error(at, "protocols must have at least 1 item (leave it out to match all traffic)")
    elif len(items) > d.max_items:
        report.error(at, _too_many("protocols", len(items), d.max_items))
    return _port_entries(items, at, report, _PROTOCOL_FIELDS, "destinationNamedPort", _protocol)


def _protocol(field: str, inner: Mapping[str, Any], at: _At, report: _Report) -> PortSpec | None:
    """One of tcp, udp, sctp: {destinationPort}."""
    meant = _check_fields(inner, _PROTOCOL_PORT_FIELDS, at, report)
    if not _required(inner, "destinationPort", at, report, meant):
        return None
    port_at = at.field(inner, "destinationPort")
    return _read_port(inner["destinationPort"], port_at, report, _PORT_PROTOCOLS[field])


_ReadEntry = Callable[[str, Mapping[str, Any], _At, _Report], PortSpec | None]


def _port_entries(
    items: list[Any],
    at: _At,
    report: _Report,
    fields: tuple[str, ...],
    named_field: str,
    read: _ReadEntry,
) -> tuple[list[PortSpec], _At | None]:
    """Entries of `protocols` (v1alpha2) or `ports` (v1alpha1): each exactly one of
    `fields`, `named_field` being a named port and the others a mapping `read` reads.
    Also returns where the first named port is, for the named-port CEL rule."""
    ports: list[PortSpec] = []
    named_at: _At | None = None
    for i, item in enumerate(items):
        item_at = at.item(items, i)
        mapping = _mapping(item, item_at, report)
        if mapping is None:
            continue
        meant = _check_fields(mapping, fields, item_at, report)
        field = _one_of(mapping, fields, item_at, report, meant)
        if field is None:
            continue
        field_at = item_at.field(mapping, field)
        if field == named_field:
            name = _string(mapping[field], field_at, report, field)
            if name is not None:
                ports += _named(name, field_at, report)
                named_at = named_at or field_at
            continue
        inner = _mapping(mapping[field], field_at, report)
        if inner is not None and (spec := read(field, inner, field_at, report)):
            ports.append(spec)
    return ports, named_at


def _read_port(value: object, at: _At, report: _Report, protocol: Protocol) -> PortSpec | None:
    """Port: exactly one of number (1-65535) or range {start < end}."""
    mapping = _mapping(value, at, report)
    if mapping is None:
        return None
    meant = _check_fields(mapping, _PORT_FIELDS, at, report)
    field = _one_of(mapping, _PORT_FIELDS, at, report, meant)
    if field == "number":
        number = _port_number(mapping["number"], at.field(mapping, "number"), report, "number")
        return PortSpec(protocol, number) if number is not None else None
    if field == "range":
        range_at = at.field(mapping, "range")
        bounds = _mapping(mapping["range"], range_at, report)
        if bounds is None:
            return None
        return _read_range(bounds, range_at, report, protocol, strict=True)
    return None


def _read_range(
    bounds: Mapping[str, Any], at: _At, report: _Report, protocol: Protocol, *, strict: bool
) -> PortSpec | None:
    """start and end required, 1-65535; v1alpha2's CEL `self.start < self.end`.

    v1alpha1 had no such rule: there a range of one port is read as that port,
    with a warning, and a reversed range is an error (it would match nothing).
    """
    fields = _RANGE_FIELDS if strict else _PORT_RANGE_FIELDS
    meant = _check_fields(bounds, fields, at, report)
    found = {}
    for key in _RANGE_FIELDS:
        if _required(bounds, key, at, report, meant):
            found[key] = _port_number(bounds[key], at.field(bounds, key), report, key)
    start, end = found.get("start"), found.get("end")
    if start is None or end is None:
        return None
    if start == end and not strict:
        report.warning(
            at.field(bounds, "end"),
            f"a range of one port ({start}) is read as the port number {start}; "
            "v1alpha2 requires start < end, so write portNumber",
        )
        return PortSpec(protocol, start)
    if start >= end:
        report.error(at.field(bounds, "end"), f"start ({start}) must be less than end ({end})")
        return None
    return PortSpec(protocol, start, end)


def _read_v1alpha1_ports(
    rule: Mapping[str, Any], at: _At, report: _Report, d: _Dialect
) -> tuple[list[PortSpec], _At | None]:
    """v1alpha1 `ports`: each exactly one of portNumber, portRange, namedPort."""
    items = _list(rule.get("ports"), at, report)
    if len(items) > d.max_items:
        report.error(at, _too_many("ports", len(items), d.max_items))
    return _port_entries(items, at, report, _V1ALPHA1_PORT_FIELDS, "namedPort", _v1alpha1_port)


def _v1alpha1_port(
    field: str, inner: Mapping[str, Any], at: _At, report: _Report
) -> PortSpec | None:
    """portNumber {protocol, port} or portRange {protocol, start, end}."""
    protocol = _read_protocol(inner.get("protocol"), at.field(inner, "protocol"), report)
    if field == "portRange":
        return _read_range(inner, at, report, protocol, strict=False)
    meant = _check_fields(inner, _PORT_NUMBER_FIELDS, at, report)
    if not _required(inner, "port", at, report, meant):
        return None
    number = _port_number(inner["port"], at.field(inner, "port"), report, "port")
    return PortSpec(protocol, number) if number is not None else None


def _check_named_port_peers(
    named_at: _At | None, kinds: list[str], report: _Report, d: _Dialect
) -> None:
    """The experimental CRD's egress CEL: no named port with networks, nodes or
    domainNames peers (a named port is a container port of a destination pod).

    nodes and domainNames exist only in the experimental CRD, which has the rule,
    and so does v1alpha1's namedPort; v1alpha2's standard CRD accepts
    destinationNamedPort with networks, where it can never match.
    """
    if named_at is None:
        return
    used = sorted({k for k in kinds if k in ("networks", "nodes", "domainNames")})
    if not used:
        return
    field = "destinationNamedPort" if d is _CNP else "namedPort"
    message = f"{field} may not be used with {' or '.join(used)} peers"
    if d is _CNP and used == ["networks"]:
        report.warning(
            named_at,
            f"{message} (rejected by the experimental CRD); a named port never matches "
            "the addresses of a networks peer",
        )
    else:
        report.error(named_at, message)
