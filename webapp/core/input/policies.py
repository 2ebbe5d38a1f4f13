"""NetworkPolicy objects into `Policy` (the validation and defaulting of one kind).

Strict decoding (an unknown field is an error, since ignoring `form:` would
turn a rule into "allow all"), ValidateNetworkPolicySpec
(k8s.io/kubernetes/pkg/apis/networking/validation) and defaulting
(pkg/apis/networking/v1/defaults.go: protocol TCP, policyTypes). Peers are
built here as the closed set of `webapp.core.model` (pods in namespaces,
ipBlock, anything), so the evaluator never sees null versus empty
selectors. Hands a Policy, or None and the Report's errors, to `inventory`.

Reference: https://kubernetes.io/docs/concepts/services-networking/network-policies/
and https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webapp.core.input.fields import (
    _At,
    _check_fields,
    _list,
    _mapping,
    _not_a_string,
    _read_cidr,
    _read_port,
    _read_selector,
    _Report,
    _string,
    _suggestion,
)
from webapp.core.input.metadata import _read_meta
from webapp.core.input.raw import PosDict, PosList, RawObject
from webapp.core.input.validation import check_dns1123_subdomain, check_except
from webapp.core.model import (
    NAME_LABEL,
    AnyPeer,
    Direction,
    IPBlockPeer,
    IPNetwork,
    Peer,
    PodPeer,
    Policy,
    Rule,
    Source,
)
from webapp.core.selectors import Selector
from webapp.core.text import shorten

POLICY_API_VERSION = "networking.k8s.io/v1"

# Fields of the NetworkPolicy schema, for strict decoding (unknown field = error).
_POLICY_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")
_SPEC_FIELDS = ("podSelector", "policyTypes", "ingress", "egress")
_INGRESS_RULE_FIELDS = ("from", "ports")
_EGRESS_RULE_FIELDS = ("to", "ports")
_PEER_FIELDS = ("podSelector", "namespaceSelector", "ipBlock")
_IP_BLOCK_FIELDS = ("cidr", "except")


_PEER_HINT = "peers go in a list under 'from' (ingress) or 'to' (egress)"
_RULE_HINTS = {
    "from": "egress rules use 'to'",
    "to": "ingress rules use 'from'",
    "podSelector": _PEER_HINT,
    "namespaceSelector": _PEER_HINT,
    "ipBlock": _PEER_HINT,
}
_PEER_HINTS = {
    "ports": "'ports' belongs to the rule, beside 'from'/'to'",
    "cidr": "'cidr' belongs under 'ipBlock'",
    "matchLabels": "'matchLabels' belongs under 'podSelector' or 'namespaceSelector'",
    "matchExpressions": "'matchExpressions' belongs under 'podSelector' or 'namespaceSelector'",
}
_SPEC_HINTS = {
    "from": "'from' belongs in an item of 'ingress'",
    "to": "'to' belongs in an item of 'egress'",
}


def _read_ip_block(value: Mapping[str, Any], at: _At, report: _Report) -> IPBlockPeer | None:
    """ValidateIPBlock: a CIDR, and excepts strictly inside it, of the same family."""
    misspelled = _check_fields(value, _IP_BLOCK_FIELDS, at, report)
    cidr_at = at.field(value, "cidr")
    text = _string(value.get("cidr"), cidr_at, report, "cidr")
    if (value.get("cidr") is None or text == "") and "cidr" not in misspelled:
        report.error(cidr_at, "ipBlock.cidr is required")
    if not text:
        return None
    cidr = _read_cidr(text, cidr_at, report)
    excepts_at = at.field(value, "except")
    items = _list(value.get("except"), excepts_at, report)
    excepts: list[IPNetwork] = []
    for i, item in enumerate(items):
        item_at = excepts_at.item(items, i)
        if not isinstance(item, str):
            report.error(item_at, _not_a_string("except entries", item))
            continue
        excepted = _read_cidr(item, item_at, report)
        if cidr is None or excepted is None:
            continue
        if messages := check_except(cidr, excepted):
            report.error(
                item_at, f"except {shorten(item)} is not inside cidr {cidr}: {'; '.join(messages)}"
            )
        else:
            excepts.append(excepted)
    if cidr is None:
        return None
    # Valid excepts share the cidr's family, so their addresses compare.
    unique = sorted(set(excepts), key=lambda n: (int(n.network_address), n.prefixlen))
    return IPBlockPeer(cidr, tuple(unique))


def _read_peer(value: object, at: _At, report: _Report, namespace: str) -> Peer | None:
    """ValidateNetworkPolicyPeer; podSelector alone means pods of the policy's namespace."""
    mapping = _mapping(value, at, report) or {}
    misspelled = _check_fields(mapping, _PEER_FIELDS, at, report, _PEER_HINTS)
    # null counts as absent: Go decodes it into a nil pointer.
    given = [key for key in _PEER_FIELDS if mapping.get(key) is not None]
    selectors = {
        key: _read_selector(mapping[key], at.field(mapping, key), report)
        for key in given
        if key != "ipBlock"
    }
    block: IPBlockPeer | None = None
    if "ipBlock" in given:
        block_at = at.field(mapping, "ipBlock")
        block_value = _mapping(mapping["ipBlock"], block_at, report)
        block = _read_ip_block(block_value, block_at, report) if block_value is not None else None
    if not given and not misspelled:
        report.error(at, "must specify a peer (podSelector, namespaceSelector or ipBlock)")
    elif "ipBlock" in given and selectors:
        report.error(at, "may not specify both ipBlock and another peer")
    if selectors:
        pods = selectors.get("podSelector", Selector())
        if "namespaceSelector" in selectors:
            return PodPeer(pods, selectors["namespaceSelector"])
        return PodPeer(pods, Selector.of({NAME_LABEL: namespace}), same_namespace=True)
    return block


def _read_rule(
    value: object, at: _At, report: _Report, direction: Direction, index: int, namespace: str
) -> Rule:
    """One ingress/egress rule: no peers means every peer, no ports every port."""
    mapping = _mapping(value, at, report) or {}
    peer_key = "from" if direction is Direction.INGRESS else "to"
    allowed = _INGRESS_RULE_FIELDS if direction is Direction.INGRESS else _EGRESS_RULE_FIELDS
    _check_fields(mapping, allowed, at, report, _RULE_HINTS)
    peers_at = at.field(mapping, peer_key)
    peer_items = _list(mapping.get(peer_key), peers_at, report)
    peers = [
        _read_peer(p, peers_at.item(peer_items, i), report, namespace)
        for i, p in enumerate(peer_items)
    ]
    ports_at = at.field(mapping, "ports")
    port_items = _list(mapping.get("ports"), ports_at, report)
    ports = tuple(
        _read_port(p, ports_at.item(port_items, i), report) for i, p in enumerate(port_items)
    )
    found = tuple(p for p in peers if p is not None)
    return Rule(
        direction=direction,
        index=index,
        peers=found or (AnyPeer(),),
        ports=ports,
        source=Source(report.raw.file, report.raw.document, at.line, _end_line(value, at)),
    )


def _end_line(value: object, at: _At) -> int:
    """The last line of a rule as the loader recorded it (a scalar rule is one line)."""
    return value.end_line if isinstance(value, PosDict | PosList) else at.line


def _read_policy_types(spec: Mapping[str, Any], at: _At, report: _Report) -> frozenset[Direction]:
    """policyTypes as written; when omitted, Ingress plus Egress if there are egress rules.

    Defaulting is SetDefaults_NetworkPolicy: `len(spec.Egress) != 0`, so an
    empty `egress: []` without policyTypes does not isolate egress.
    """
    types_at = at.field(spec, "policyTypes")
    items = _list(spec.get("policyTypes"), types_at, report)
    egress = spec.get("egress")
    if not items:
        if isinstance(egress, list) and not egress:
            report.warning(
                at.field(spec, "egress"),
                "'egress: []' without policyTypes does not isolate egress (the API server "
                "defaults policyTypes to [Ingress]); add policyTypes [Ingress, Egress] to deny "
                "all egress",
            )
        if isinstance(egress, list) and egress:
            return frozenset({Direction.INGRESS, Direction.EGRESS})
        return frozenset({Direction.INGRESS})
    if len(items) > 2:
        report.error(types_at, "may not specify more than two policyTypes")
        return frozenset()
    by_name = {d.policy_type: d for d in Direction}
    types: set[Direction] = set()
    for i, item in enumerate(items):
        item_at = types_at.item(items, i)
        if not isinstance(item, str) or item not in by_name:
            near = _suggestion(str(item), list(by_name))
            hint = f" (did you mean '{near}'?)" if near else ""
            report.error(
                item_at, f"unsupported policy type {shorten(item)}: use Ingress or Egress{hint}"
            )
        elif by_name[item] in types:
            report.warning(item_at, f"policy type '{item}' is listed twice")
        else:
            types.add(by_name[item])
    return frozenset(types)


def _read_policy(raw: RawObject, report: _Report) -> Policy | None:
    body = raw.body
    root = _At.root(raw)
    _check_fields(body, _POLICY_FIELDS, root, report)
    meta = _read_meta(body, root, report, check_name=check_dns1123_subdomain, strict=True)
    _mapping(body.get("status"), root.field(body, "status"), report)
    spec_at = root.field(body, "spec")
    spec = _mapping(body.get("spec"), spec_at, report)
    if spec is None:
        spec = {}
    misspelled = _check_fields(spec, _SPEC_FIELDS, spec_at, report, _SPEC_HINTS)
    selector_at = spec_at.field(spec, "podSelector")
    if spec.get("podSelector") is None and "podSelector" not in misspelled:
        report.warning(
            selector_at,
            "spec.podSelector is missing; read as {} (every pod in the namespace), "
            "as the API server reads it",
        )
    pod_selector = _read_selector(spec.get("podSelector"), selector_at, report)
    types = _read_policy_types(spec, spec_at, report)
    rules: dict[Direction, tuple[Rule, ...]] = {}
    for direction in Direction:
        key = str(direction)
        rules_at = spec_at.field(spec, key)
        items = _list(spec.get(key), rules_at, report)
        rules[direction] = tuple(
            _read_rule(item, rules_at.item(items, i), report, direction, i, meta.namespace)
            for i, item in enumerate(items)
        )
        if items and direction not in types and "policyTypes" in spec:
            report.warning(
                rules_at,
                f"spec.{key} has rules but policyTypes does not list {direction.policy_type}; "
                "they have no effect",
            )
    if report.failed:
        return None
    return Policy(
        namespace=meta.namespace,
        name=meta.name,
        pod_selector=pod_selector,
        policy_types=types,
        ingress=rules[Direction.INGRESS] if Direction.INGRESS in types else (),
        egress=rules[Direction.EGRESS] if Direction.EGRESS in types else (),
        source=Source(raw.file, raw.document, raw.line),
    )
