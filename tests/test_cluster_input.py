"""Cluster-wide policies read as their CRDs validate them, and converted into one model.

ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2, network-policy-api v0.2.0)
and AdminNetworkPolicy / BaselineAdminNetworkPolicy (v1alpha1, v0.1.7); the
rules are those of ../shared/docs/cluster-network-policy.md §2, §4 and §5.
Objects are plain dicts with made-up distinct lines (tests/rawbuild.py), read
by `build_inventory`, the entry point tests/test_validation.py uses.
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import pytest
import rawbuild
from clirun import cli

from webapp.core import SourceText, analyze, analyze_stored
from webapp.core.input.inventory import build_inventory
from webapp.core.input.raw import PosDict, PosList, RawObject
from webapp.core.model import (
    Action,
    ClusterNode,
    ClusterPolicy,
    Direction,
    DomainPeer,
    Inventory,
    NetworksPeer,
    NodesPeer,
    PodPeer,
    PortSpec,
    Problem,
    Protocol,
    Severity,
    Tier,
)
from webapp.core.selectors import Selector

V2 = "policy.networking.k8s.io/v1alpha2"
V1 = "policy.networking.k8s.io/v1alpha1"
TENANT = {"matchLabels": {"tenant": "a"}}

# --- Building objects ----------------------------------------------------------


def _spec(base: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """`base` with `fields` over it; a field given as None is left out."""
    spec = {**base, **fields}
    return {k: v for k, v in spec.items() if v is not None}


def cnp(name: str = "p", **spec: Any) -> dict[str, Any]:
    base = {"tier": "Admin", "priority": 10, "subject": {"namespaces": {}}}
    return {"apiVersion": V2, "kind": "ClusterNetworkPolicy", "metadata": {"name": name},
            "spec": _spec(base, spec)}  # fmt: skip


def anp(name: str = "a", **spec: Any) -> dict[str, Any]:
    base = {"priority": 10, "subject": {"namespaces": {}}}
    return {"apiVersion": V1, "kind": "AdminNetworkPolicy", "metadata": {"name": name},
            "spec": _spec(base, spec)}  # fmt: skip


def banp(name: str = "default", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": V1, "kind": "BaselineAdminNetworkPolicy", "metadata": {"name": name},
            "spec": _spec({"subject": {"namespaces": {}}}, spec)}  # fmt: skip


def egress(action: str = "Accept", *peers: Any, **fields: Any) -> dict[str, Any]:
    """`spec.egress` with one rule; peers default to every namespace."""
    return {"egress": [{"action": action, "to": list(peers) or [{"namespaces": {}}], **fields}]}


def ingress(action: str = "Accept", *peers: Any, **fields: Any) -> dict[str, Any]:
    return {"ingress": [{"action": action, "from": list(peers) or [{"namespaces": {}}], **fields}]}


def tcp(number: int) -> dict[str, Any]:
    return {"tcp": {"destinationPort": {"number": number}}}


def prange(start: int, end: int, protocol: str = "tcp") -> dict[str, Any]:
    """A v1alpha2 protocols entry with a port range."""
    return {protocol: {"destinationPort": {"range": {"start": start, "end": end}}}}


def v1range(start: int, end: int, **fields: Any) -> dict[str, Any]:
    """A v1alpha1 ports entry with a portRange."""
    return {"portRange": {**fields, "start": start, "end": end}}


def raw(obj: dict[str, Any], document: int = 0) -> RawObject:
    return rawbuild.raw(obj, document=document, lines_per_document=1000)


def inventory(*objs: dict[str, Any]) -> Inventory:
    return build_inventory([raw(o, i) for i, o in enumerate(objs)])


def line_at(obj: RawObject, path: str) -> int:
    """The line a field path points at: the deepest part of it that is written."""
    value: Any = obj.body
    line = obj.line
    for name, index in re.findall(r"([^.\[\]]+)|\[([^\]]*)\]", path):
        key: Any = name or index
        if isinstance(value, PosList) and key.isdigit() and int(key) < len(value):
            line, value = value.line_of(int(key)), value[int(key)]
        elif isinstance(value, PosDict) and key in value:
            line, value = value.line_of(key), value[key]
        else:
            break
    return line


def only(obj: dict[str, Any]) -> tuple[ClusterPolicy, list[Problem]]:
    inv = inventory(obj)
    assert len(inv.cluster_policies) == 1, inv.problems
    return inv.cluster_policies[0], list(inv.problems)


# --- Errors: the object is left out, each problem with its path and line --------

LONG = "x" * 101
LONG_CIDR = "2001:0db8:0000:0000:0000:0000:0000:0000/0128"  # 44 characters
NAMED_HTTP = {"destinationNamedPort": "http"}
APP = {"app": "web"}
NO_START = {"range": {"end": 9}}
ERRORS = [
    # 1. Required fields
    pytest.param(cnp(tier=None), "spec.tier", ["tier is required"], id="tier-required"),
    pytest.param(cnp(priority=None), "spec.priority", ["priority is required"],
                 id="priority-required"),
    pytest.param(anp(priority=None), "spec.priority", ["priority is required"],
                 id="anp-priority-required"),
    pytest.param(cnp(subject=None), "spec.subject", ["subject is required"],
                 id="subject-required"),
    pytest.param(cnp(subject={"pods": {"namespaceSelector": {}}}), "spec.subject.pods.podSelector",
                 ["podSelector is required"], id="pods-podselector-required"),
    pytest.param(anp(subject={"pods": {"podSelector": {}}}), "spec.subject.pods.namespaceSelector",
                 ["namespaceSelector is required in AdminNetworkPolicy (v1alpha1)"],
                 id="v1alpha1-pods-namespaceselector-required"),
    pytest.param(cnp(egress=[{"to": [{"namespaces": {}}]}]), "spec.egress[0].action",
                 ["action is required"], id="action-required"),
    pytest.param(cnp(ingress=[{"action": "Deny"}]), "spec.ingress[0].from",
                 ["from is required"], id="from-required"),
    pytest.param(cnp(egress=[{"action": "Deny"}]), "spec.egress[0].to",
                 ["to is required"], id="to-required"),
    pytest.param(cnp(**egress("Deny", protocols=[{"tcp": {"destinationPort": NO_START}}])),
                 "spec.egress[0].protocols[0].tcp.destinationPort.range.start",
                 ["start is required"], id="range-start-required"),
    pytest.param(cnp(spec=None) | {"spec": None}, "spec", ["spec is required"],
                 id="spec-required"),
    # 2. Enums, case-sensitive, with hints for the draft and v1alpha1 spellings
    pytest.param(cnp(tier="admin"), "spec.tier",
                 ["unsupported tier 'admin'", "did you mean 'Admin'?", "NPEP-285 draft"],
                 id="tier-lowercase-draft-spelling"),
    pytest.param(cnp(tier="NetworkPolicy"), "spec.tier", ["use Admin or Baseline"],
                 id="tier-unknown"),
    pytest.param(cnp(**egress("Allow")), "spec.egress[0].action",
                 ["unsupported action 'Allow'", "v1alpha2 renamed Allow to Accept"],
                 id="cnp-action-allow-renamed-accept"),
    pytest.param(cnp(**egress("deny")), "spec.egress[0].action",
                 ["did you mean 'Deny'?", "case-sensitive"], id="cnp-action-case"),
    pytest.param(anp(**egress("Accept")), "spec.egress[0].action",
                 ["use Allow, Deny or Pass", "v1alpha1 spells it Allow"],
                 id="anp-action-accept-is-v1alpha2"),
    pytest.param(banp(**ingress("Pass")), "spec.ingress[0].action",
                 ["use Allow or Deny", "cannot pass"], id="banp-has-no-pass"),
    # 3. Exactly one of
    pytest.param(cnp(subject={}), "spec.subject", ["exactly one of namespaces, pods"],
                 id="subject-none-of"),
    pytest.param(cnp(subject={"namespaces": {}, "pods": {"podSelector": {}}}), "spec.subject",
                 ["exactly one of namespaces, pods; got namespaces, pods"], id="subject-both"),
    pytest.param(cnp(**egress("Deny", {})), "spec.egress[0].to[0]",
                 ["exactly one of namespaces, pods, nodes, networks, domainNames"],
                 id="egress-peer-none-of"),
    pytest.param(cnp(**egress("Deny", {"namespaces": {}, "networks": ["10.0.0.0/8"]})),
                 "spec.egress[0].to[0]", ["got namespaces, networks"], id="egress-peer-two"),
    pytest.param(cnp(**ingress("Deny", {"namespaces": {}, "pods": {"podSelector": {}}})),
                 "spec.ingress[0].from[0]", ["exactly one of namespaces, pods"],
                 id="ingress-peer-two"),
    pytest.param(cnp(**egress("Deny", protocols=[{**tcp(80), **prange(5, 9, "udp")}])),
                 "spec.egress[0].protocols[0]", ["got tcp, udp"], id="protocol-entry-two"),
    pytest.param(cnp(**egress("Deny", protocols=[{}])), "spec.egress[0].protocols[0]",
                 ["exactly one of tcp, udp, sctp, destinationNamedPort"], id="protocol-entry-none"),
    pytest.param(cnp(**egress("Deny", protocols=[{"tcp": {}}])),
                 "spec.egress[0].protocols[0].tcp.destinationPort",
                 ["destinationPort is required"], id="tcp-needs-destination-port"),
    pytest.param(cnp(**egress("Deny", protocols=[{"sctp": {"destinationPort": {}}}])),
                 "spec.egress[0].protocols[0].sctp.destinationPort",
                 ["exactly one of number, range"], id="port-none-of"),
    pytest.param(cnp(**egress("Deny", protocols=[{"tcp": {"destinationPort": {
                 "number": 80, "range": {"start": 1, "end": 2}}}}])),
                 "spec.egress[0].protocols[0].tcp.destinationPort", ["got number, range"],
                 id="port-number-and-range"),
    pytest.param(anp(**egress("Deny", ports=[{"portNumber": {"port": 80}, "namedPort": "web"}])),
                 "spec.egress[0].ports[0]", ["exactly one of portNumber, portRange, namedPort"],
                 id="v1alpha1-port-two"),
    # 4. Numeric ranges
    pytest.param(cnp(priority=1001), "spec.priority",
                 ["priority 1001 is out of range: use 0 to 1000"],
                 id="priority-above-1000"),
    pytest.param(cnp(priority=-1), "spec.priority", ["out of range"], id="priority-negative"),
    pytest.param(cnp(priority="10"), "spec.priority", ["must be a number, not the string '10'"],
                 id="priority-quoted"),
    pytest.param(cnp(**egress("Deny", protocols=[tcp(0)])),
                 "spec.egress[0].protocols[0].tcp.destinationPort.number",
                 ["number 0 is out of range: use 1 to 65535"], id="port-number-zero"),
    pytest.param(cnp(**egress("Deny", protocols=[prange(1, 65536, "udp")])),
                 "spec.egress[0].protocols[0].udp.destinationPort.range.end",
                 ["end 65536 is out of range"], id="range-end-above-65535"),
    pytest.param(anp(**egress("Deny", ports=[{"portNumber": {"port": 70000}}])),
                 "spec.egress[0].ports[0].portNumber.port", ["port 70000 is out of range"],
                 id="v1alpha1-port-number-range"),
    # 5. List sizes (v1alpha2 25, v1alpha1 100; networks and domainNames 25 in both)
    pytest.param(cnp(egress=[{"action": "Deny", "to": [{"namespaces": {}}]}] * 26), "spec.egress",
                 ["egress has 26 items; at most 25"], id="rules-at-most-25"),
    pytest.param(anp(egress=[{"action": "Deny", "to": [{"namespaces": {}}]}] * 101), "spec.egress",
                 ["at most 100"], id="v1alpha1-rules-at-most-100"),
    pytest.param(cnp(**ingress("Deny", *[{"namespaces": {}}] * 26)), "spec.ingress[0].from",
                 ["from has 26 items; at most 25"], id="peers-at-most-25"),
    pytest.param(cnp(ingress=[{"action": "Deny", "from": []}]), "spec.ingress[0].from",
                 ["at least 1 item"], id="from-at-least-one"),
    pytest.param(cnp(**egress("Deny", protocols=[])), "spec.egress[0].protocols",
                 ["at least 1 item", "leave it out to match all traffic"], id="protocols-empty"),
    pytest.param(cnp(**egress("Deny", protocols=[tcp(p) for p in range(1, 27)])),
                 "spec.egress[0].protocols", ["protocols has 26 items"], id="protocols-at-most-25"),
    pytest.param(anp(**egress("Deny", ports=[{"portNumber": {"port": p}} for p in range(1, 102)])),
                 "spec.egress[0].ports", ["ports has 101 items; at most 100"],
                 id="v1alpha1-ports-at-most-100"),
    pytest.param(cnp(**egress("Deny", {"networks": []})), "spec.egress[0].to[0].networks",
                 ["networks must have at least 1 item"], id="networks-at-least-one"),
    pytest.param(cnp(**egress("Deny", {"networks": [f"10.0.{i}.0/24" for i in range(26)]})),
                 "spec.egress[0].to[0].networks", ["networks has 26 items; at most 25"],
                 id="networks-at-most-25"),
    pytest.param(anp(**egress("Deny", {"networks": [f"10.0.{i}.0/24" for i in range(26)]})),
                 "spec.egress[0].to[0].networks", ["at most 25"],
                 id="v1alpha1-networks-at-most-25"),
    pytest.param(cnp(**egress("Accept", {"domainNames": [f"h{i}.example.com" for i in range(26)]})),
                 "spec.egress[0].to[0].domainNames", ["domainNames has 26 items"],
                 id="domain-names-at-most-25"),
    pytest.param(cnp(**egress("Deny", {"networks": ["10.0.0.0/8", "10.0.0.0/8"]})),
                 "spec.egress[0].to[0].networks[1]", ["duplicate entry '10.0.0.0/8'", "a set"],
                 id="networks-is-a-set"),
    pytest.param(cnp(**egress("Accept", {"domainNames": ["a.example.com", "a.example.com"]})),
                 "spec.egress[0].to[0].domainNames[1]", ["duplicate entry"],
                 id="domain-names-is-a-set"),
    # 6. Strings
    pytest.param(cnp(**egress("Deny", name=LONG)), "spec.egress[0].name",
                 ["name is 101 characters long; at most 100"], id="rule-name-at-most-100"),
    pytest.param(cnp(**egress("Deny", {"networks": [LONG_CIDR]})),
                 "spec.egress[0].to[0].networks[0]", ["longer than 43 characters"],
                 id="cidr-at-most-43-characters"),
    pytest.param(cnp(**egress("Deny", {"networks": ["10.0.0.0"]})),
                 "spec.egress[0].to[0].networks[0]",
                 ["invalid CIDR '10.0.0.0'"], id="cidr-iscidr-bare-address"),
    pytest.param(cnp(**egress("Deny", {"networks": ["10.0.0.0/33"]})),
                 "spec.egress[0].to[0].networks[0]", ["invalid CIDR"], id="cidr-iscidr-prefix"),
    pytest.param(cnp(**egress("Deny", {"networks": ["010.0.0.0/8"]})),
                 "spec.egress[0].to[0].networks[0]", ["leading zeros are not allowed"],
                 id="cidr-iscidr-leading-zeros"),
    pytest.param(cnp(**egress("Deny", {"networks": [10]})), "spec.egress[0].to[0].networks[0]",
                 ["networks entries are strings"], id="cidr-must-be-a-string"),
    pytest.param(cnp(**egress("Accept", {"domainNames": ["*.*.example.com"]})),
                 "spec.egress[0].to[0].domainNames[0]", ["invalid domain name '*.*.example.com'"],
                 id="domain-name-wildcard-only-first-label"),
    pytest.param(cnp(**egress("Accept", {"domainNames": ["example com"]})),
                 "spec.egress[0].to[0].domainNames[0]", ["invalid domain name"],
                 id="domain-name-pattern"),
    pytest.param(cnp() | {"metadata": {"name": "Bad_Name"}},
                 "metadata.name", ["invalid name 'Bad_Name'"], id="name-dns-subdomain"),
    # 7. CEL rules
    pytest.param(cnp(**egress("Deny", protocols=[prange(80, 80)])),
                 "spec.egress[0].protocols[0].tcp.destinationPort.range.end",
                 ["start (80) must be less than end (80)"], id="range-start-less-than-end"),
    pytest.param(anp(**egress("Deny", ports=[{"portRange": {"start": 90, "end": 80}}])),
                 "spec.egress[0].ports[0].portRange.end", ["start (90) must be less than end (80)"],
                 id="v1alpha1-range-reversed"),
    pytest.param(cnp(**egress("Accept", {"nodes": {}}, protocols=[NAMED_HTTP])),
                 "spec.egress[0].protocols[0].destinationNamedPort",
                 ["destinationNamedPort may not be used with nodes peers"],
                 id="named-port-with-nodes-experimental-cel"),
    pytest.param(cnp(**egress("Accept", {"domainNames": ["a.example.com"]},
                              protocols=[{"destinationNamedPort": "http"}])),
                 "spec.egress[0].protocols[0].destinationNamedPort", ["with domainNames peers"],
                 id="named-port-with-domain-names-experimental-cel"),
    pytest.param(anp(**egress("Allow", {"networks": ["10.0.0.0/8"]},
                              ports=[{"namedPort": "http"}])),
                 "spec.egress[0].ports[0].namedPort", ["namedPort may not be used with networks"],
                 id="v1alpha1-named-port-with-networks-cel"),
    pytest.param(banp("tenants"), "metadata.name",
                 ["must be named 'default'", "not 'tenants'"], id="banp-name-is-default"),
    # Strict decoding: unknown fields are errors (never dropped), with hints
    pytest.param(cnp(prioirty=5), "spec.prioirty", ["did you mean 'priority'?"],
                 id="unknown-field-misspelled"),
    pytest.param(cnp(**egress("Deny", ports=[{"port": 80}])), "spec.egress[0].ports",
                 ["v1alpha2 replaced 'ports' with 'protocols'"], id="cnp-ports-is-v1alpha1"),
    pytest.param(anp(**egress("Deny", protocols=[tcp(80)])), "spec.egress[0].protocols",
                 ["v1alpha1 rules take 'ports'"], id="anp-protocols-is-v1alpha2"),
    pytest.param(cnp(**ingress("Deny", {"networks": ["10.0.0.0/8"]})),
                 "spec.ingress[0].from[0].networks", ["only egress rules have this peer"],
                 id="ingress-has-no-networks-peer"),
    pytest.param(cnp(**ingress("Deny", to=[])), "spec.ingress[0].to", ["ingress rules use 'from'"],
                 id="to-in-an-ingress-rule"),
    pytest.param(banp(**egress("Allow", {"domainNames": ["a.example.com"]})),
                 "spec.egress[0].to[0].domainNames", ["has no domainNames peer"],
                 id="banp-has-no-domain-names"),
    pytest.param(banp(priority=3), "spec.priority",
                 ["a BaselineAdminNetworkPolicy has no priority"],
                 id="banp-has-no-priority"),
    pytest.param(anp(tier="Admin"), "spec.tier", ["AdminNetworkPolicy has no tier"],
                 id="anp-has-no-tier"),
    pytest.param(cnp(**egress("Deny", {"newPeerKind": {}})), "spec.egress[0].to[0].newPeerKind",
                 ["unknown field 'newPeerKind'"], id="unknown-peer-field-fail-closed"),
    pytest.param(cnp(**egress("Deny", {"networks": ["10.0.0.0/8"]}, protocols=[{"icmp": {}}])),
                 "spec.egress[0].protocols[0].icmp", ["unknown field 'icmp'"],
                 id="unknown-protocol-field"),
    pytest.param(cnp(subject={"pods": {"podSelector": {}, "namespaces": {}}}),
                 "spec.subject.pods.namespaces", ["pods take a 'namespaceSelector'"],
                 id="pods-namespaces-is-old-spelling"),
    pytest.param(cnp(**egress("Deny", {"namespaces": {"matchLabel": {"a": "b"}}})),
                 "spec.egress[0].to[0].namespaces.matchLabel", ["did you mean 'matchLabels'?"],
                 id="namespaces-is-a-label-selector"),
    # Removed tenancy fields
    pytest.param(anp(**ingress("Allow", {"namespaces": {"sameLabels": ["tenant"]}})),
                 "spec.ingress[0].from[0].namespaces.sameLabels",
                 ["sameLabels was removed", "v0.1.7"], id="v1alpha1-same-labels-refused"),
    pytest.param(anp(**ingress("Deny", {"pods": {"namespaceSelector": {"notSameLabels": ["t"]},
                                                  "podSelector": {}}})),
                 "spec.ingress[0].from[0].pods.namespaceSelector.notSameLabels",
                 ["notSameLabels was removed"], id="v1alpha1-not-same-labels-refused"),
    # Group versions
    pytest.param(cnp() | {"apiVersion": V1}, "apiVersion",
                 ["has no kind ClusterNetworkPolicy; use policy.networking.k8s.io/v1alpha2"],
                 id="cnp-is-v1alpha2"),
    pytest.param(anp() | {"apiVersion": V2}, "apiVersion",
                 ["has no kind AdminNetworkPolicy; use policy.networking.k8s.io/v1alpha1"],
                 id="anp-is-v1alpha1"),
]  # fmt: skip


@pytest.mark.parametrize(("obj", "path", "fragments"), ERRORS)
def test_invalid_object_is_left_out_with_the_path_and_line(
    obj: dict[str, Any], path: str, fragments: list[str]
) -> None:
    item = raw(obj)
    inv = build_inventory([item])
    assert inv.cluster_policies == ()
    errors = [p for p in inv.problems if p.severity is Severity.ERROR and p.path == path]
    assert errors, [(p.path, p.message) for p in inv.problems]
    problem = errors[0]
    for fragment in fragments:
        assert fragment in problem.message
    assert problem.message.endswith(f"{obj['kind']} left out")
    assert (problem.file, problem.document, problem.kind) == ("up.yaml", 0, obj["kind"])
    assert problem.name == obj["metadata"]["name"]
    assert problem.line == line_at(item, path)


# --- Warnings: the object is kept ------------------------------------------------

WARNINGS = [
    pytest.param(cnp(**egress("Deny", {"domainNames": ["a.example.com"]})),
                 "spec.egress[0].to[0].domainNames", ["only supported in Accept rules"],
                 id="domain-names-on-deny"),
    pytest.param(cnp(**egress("Pass", {"domainNames": ["a.example.com"]})),
                 "spec.egress[0].to[0].domainNames", ["a Pass of a domain name"],
                 id="domain-names-on-pass"),
    pytest.param(cnp(**egress("Accept", {"networks": ["10.0.0.0/8"]},
                              protocols=[{"destinationNamedPort": "http"}])),
                 "spec.egress[0].protocols[0].destinationNamedPort",
                 ["rejected by the experimental CRD", "never matches"],
                 id="named-port-with-networks-standard-channel"),
    pytest.param(anp(**egress("Allow", ports=[v1range(53, 53, protocol="UDP")])),
                 "spec.egress[0].ports[0].portRange.end",
                 ["range of one port (53) is read as the port number 53"],
                 id="v1alpha1-range-of-one-port"),
    pytest.param(cnp(**egress("Deny", {"networks": ["10.1.2.3/8"]})),
                 "spec.egress[0].to[0].networks[0]", ["host bits are set; the network 10.0.0.0/8"],
                 id="cidr-host-bits"),
    pytest.param(cnp(**egress("Accept", protocols=[{"destinationNamedPort": "no_such"}])),
                 "spec.egress[0].protocols[0].destinationNamedPort", ["it matches nothing"],
                 id="named-port-not-a-port-name"),
]  # fmt: skip


@pytest.mark.parametrize(("obj", "path", "fragments"), WARNINGS)
def test_warning_keeps_the_object(obj: dict[str, Any], path: str, fragments: list[str]) -> None:
    item = raw(obj)
    inv = build_inventory([item])
    assert len(inv.cluster_policies) == 1
    assert [p.severity for p in inv.problems] == [Severity.WARNING], inv.problems
    problem = inv.problems[0]
    assert problem.path == path
    for fragment in fragments:
        assert fragment in problem.message
    assert problem.line == line_at(item, path)


# --- Conversion into the model ---------------------------------------------------

ALL_NS = PodPeer(Selector(), Selector())
TENANT_NS = PodPeer(Selector(), Selector.of({"tenant": "a"}))
WEB = Selector.of({"app": "web"})


def named(name: str) -> tuple[PortSpec, ...]:
    return tuple(PortSpec(p, name) for p in (Protocol.TCP, Protocol.UDP, Protocol.SCTP))


def first_rule_ports(obj: dict[str, Any]) -> tuple[PortSpec, ...]:
    policy, _ = only(obj)
    return policy.egress[0].ports


def first_rule_peers(obj: dict[str, Any]) -> tuple[object, ...]:
    policy, _ = only(obj)
    return policy.egress[0].peers


PORTS = [
    pytest.param(cnp(**egress()), (), id="protocols-unset-is-all-traffic"),
    pytest.param(cnp(**egress(protocols=[tcp(443)])), (PortSpec(Protocol.TCP, 443),),
                 id="tcp-number"),
    pytest.param(cnp(**egress(protocols=[prange(1000, 2000, "udp")])),
                 (PortSpec(Protocol.UDP, 1000, 2000),), id="udp-range"),
    pytest.param(cnp(**egress(protocols=[{"sctp": {"destinationPort": {"number": 9003}}}])),
                 (PortSpec(Protocol.SCTP, 9003),), id="sctp-number"),
    pytest.param(cnp(**egress(protocols=[{"destinationNamedPort": "web"}])), named("web"),
                 id="destination-named-port-is-three-protocols"),
    pytest.param(cnp(**egress(protocols=[tcp(80), tcp(8080)])),
                 (PortSpec(Protocol.TCP, 80), PortSpec(Protocol.TCP, 8080)), id="protocols-ored"),
    pytest.param(anp(**egress("Allow", ports=[{"portNumber": {"port": 80}}])),
                 (PortSpec(Protocol.TCP, 80),), id="v1alpha1-port-number-defaults-to-tcp"),
    pytest.param(anp(**egress("Allow", ports=[{"portNumber": {"protocol": "SCTP", "port": 80}}])),
                 (PortSpec(Protocol.SCTP, 80),), id="v1alpha1-port-number-protocol"),
    pytest.param(anp(**egress("Allow", ports=[v1range(5, 9, protocol="UDP")])),
                 (PortSpec(Protocol.UDP, 5, 9),), id="v1alpha1-port-range"),
    pytest.param(anp(**egress("Allow", ports=[{"portRange": {"start": 53, "end": 53}}])),
                 (PortSpec(Protocol.TCP, 53),), id="v1alpha1-range-of-one-port-is-a-number"),
    pytest.param(anp(**egress("Allow", ports=[{"namedPort": "dns"}])), named("dns"),
                 id="v1alpha1-named-port-is-three-protocols"),
    pytest.param(banp(**egress("Allow", ports=[])), (), id="v1alpha1-ports-empty-is-all-traffic"),
]  # fmt: skip


@pytest.mark.parametrize(("obj", "expected"), PORTS)
def test_ports_are_converted_to_port_specs(
    obj: dict[str, Any], expected: tuple[PortSpec, ...]
) -> None:
    assert first_rule_ports(obj) == expected


def network(*cidrs: str) -> NetworksPeer:
    return NetworksPeer(tuple(ipaddress.ip_network(c) for c in cidrs))


PEERS = [
    pytest.param({"namespaces": TENANT}, TENANT_NS, id="namespaces-is-every-pod-of-the-namespaces"),
    pytest.param({"namespaces": {}}, ALL_NS, id="namespaces-empty-is-every-pod"),
    pytest.param({"pods": {"podSelector": {"matchLabels": {"app": "web"}}}},
                 PodPeer(WEB, Selector()), id="pods-without-namespace-selector-is-every-namespace"),
    pytest.param({"pods": {"namespaceSelector": TENANT, "podSelector": {"matchLabels": APP}}},
                 PodPeer(WEB, Selector.of({"tenant": "a"})), id="pods-is-namespaces-and-pods"),
    pytest.param({"networks": ["10.0.0.0/8", "2001:db8::/32"]},
                 network("10.0.0.0/8", "2001:db8::/32"),
                 id="networks"),
    pytest.param({"networks": ["10.1.0.0/8", "10.0.0.0/8"]}, network("10.0.0.0/8"),
                 id="networks-host-bits-masked-and-merged"),
    pytest.param({"nodes": {"matchLabels": {"zone": "a"}}}, NodesPeer(Selector.of({"zone": "a"})),
                 id="nodes"),
    pytest.param({"nodes": {}}, NodesPeer(Selector()), id="nodes-empty-is-every-node"),
]  # fmt: skip


@pytest.mark.parametrize(("peer", "expected"), PEERS)
def test_peers_are_converted(peer: dict[str, Any], expected: object) -> None:
    assert first_rule_peers(cnp(**egress("Deny", peer))) == (expected,)


def test_domain_names_are_one_symbolic_peer_each() -> None:
    peers = first_rule_peers(cnp(**egress("Accept", {"domainNames": ["*.example.com", "k8s.io"]})))
    assert peers == (DomainPeer("*.example.com"), DomainPeer("k8s.io"))


SUBJECTS = [
    pytest.param({"namespaces": TENANT}, TENANT_NS, id="subject-namespaces"),
    pytest.param({"pods": {"podSelector": {"matchLabels": {"app": "web"}}}},
                 PodPeer(WEB, Selector()), id="subject-pods-without-namespace-selector"),
    pytest.param({"pods": {"namespaceSelector": TENANT, "podSelector": {}}},
                 PodPeer(Selector(), Selector.of({"tenant": "a"})), id="subject-pods"),
]  # fmt: skip


@pytest.mark.parametrize(("subject", "expected"), SUBJECTS)
def test_subject_is_a_pod_peer(subject: dict[str, Any], expected: PodPeer) -> None:
    policy, _ = only(cnp(subject=subject))
    assert policy.subject == expected


KINDS = [
    pytest.param(cnp(tier="Baseline", priority=7, **egress("Pass")), ("ClusterNetworkPolicy",
                 Tier.BASELINE, 7, Action.PASS), id="cnp-tier-and-priority-as-written"),
    pytest.param(anp(priority=3, **egress("Allow")), ("AdminNetworkPolicy", Tier.ADMIN, 3,
                 Action.ACCEPT), id="anp-is-admin-tier-allow-is-accept"),
    pytest.param(anp(**egress("Pass")), ("AdminNetworkPolicy", Tier.ADMIN, 10, Action.PASS),
                 id="anp-pass"),
    pytest.param(banp(**egress("Allow")), ("BaselineAdminNetworkPolicy", Tier.BASELINE, 0,
                 Action.ACCEPT), id="banp-is-baseline-tier-priority-0"),
    pytest.param(banp(**egress("Deny")), ("BaselineAdminNetworkPolicy", Tier.BASELINE, 0,
                 Action.DENY), id="banp-deny"),
    pytest.param(cnp(priority=0, **egress("Deny")), ("ClusterNetworkPolicy", Tier.ADMIN, 0,
                 Action.DENY), id="priority-0-is-valid"),
    pytest.param(cnp(priority=1000, **egress("Accept")), ("ClusterNetworkPolicy", Tier.ADMIN, 1000,
                 Action.ACCEPT), id="priority-1000-is-valid"),
]  # fmt: skip


@pytest.mark.parametrize(("obj", "expected"), KINDS)
def test_kind_tier_priority_and_action(obj: dict[str, Any], expected: tuple[object, ...]) -> None:
    policy, problems = only(obj)
    assert (policy.kind, policy.tier, policy.priority, policy.egress[0].action) == expected
    assert problems == []


def test_rules_keep_order_index_name_and_source() -> None:
    obj = cnp(
        ingress=[
            {"name": "pass-monitoring", "action": "Pass", "from": [{"namespaces": TENANT}]},
            {"action": "Deny", "from": [{"namespaces": {}}]},
        ]
    )
    item = raw(obj)
    policy = build_inventory([item]).cluster_policies[0]
    assert [(r.index, r.name, r.action) for r in policy.ingress] == [
        (0, "pass-monitoring", Action.PASS),
        (1, None, Action.DENY),
    ]
    assert all(r.direction is Direction.INGRESS for r in policy.ingress)
    assert policy.egress == ()
    assert policy.ingress[1].source.line == line_at(item, "spec.ingress[1]")
    assert policy.source.file == "up.yaml" and policy.id == "ClusterNetworkPolicy/p"


def test_limits_of_v1alpha1_are_100_not_25() -> None:
    policy, problems = only(anp(egress=[{"action": "Deny", "to": [{"namespaces": {}}] * 26}] * 26))
    assert len(policy.egress) == 26 and problems == []


def test_metadata_namespace_of_a_cluster_scoped_policy_is_ignored() -> None:
    policy, problems = only(cnp() | {"metadata": {"name": "p", "namespace": "prod"}})
    assert policy.name == "p" and problems == []


# --- Nodes, the upload, duplicates -------------------------------------------------


def node(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": {"podCIDR": "10.244.0.0/24", "taints": [{"key": "x", "effect": "NoSchedule"}]},
        "status": {"addresses": [{"type": "InternalIP", "address": "192.168.0.10"}]},
    }


def test_nodes_are_read_for_name_and_labels_without_problems() -> None:
    inv = inventory(node("worker-b", zone="b"), node("worker-a", zone="a"))
    assert [(n.name, n.labels) for n in inv.cluster_nodes] == [
        ("worker-a", (("zone", "a"),)),
        ("worker-b", (("zone", "b"),)),
    ]
    assert isinstance(inv.cluster_nodes[0], ClusterNode)
    assert inv.problems == ()


def test_policies_in_upload_order_invalid_one_left_out_rest_used() -> None:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tenant-a"}}
    inv = inventory(cnp("zeta"), cnp("bad", tier="admin"), banp(), anp("alpha"), ns)
    assert [p.id for p in inv.cluster_policies] == [
        "ClusterNetworkPolicy/zeta",
        "BaselineAdminNetworkPolicy/default",
        "AdminNetworkPolicy/alpha",
    ]
    assert [n.name for n in inv.namespaces] == ["tenant-a"]
    assert [(p.name, p.document) for p in inv.problems] == [("bad", 1)]


def test_later_duplicate_replaces_earlier_of_the_same_kind_only() -> None:
    inv = inventory(cnp("same", priority=1), cnp("same", priority=2), anp("same"))
    assert [(p.kind, p.priority) for p in inv.cluster_policies] == [
        ("ClusterNetworkPolicy", 2),
        ("AdminNetworkPolicy", 10),
    ]
    assert [(d.kind, d.name, d.dropped.document) for d in inv.duplicates] == [
        ("ClusterNetworkPolicy", "same", 0)
    ]
    assert [p.severity for p in inv.problems] == [Severity.WARNING]
    assert "is also defined at" in inv.problems[0].message


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param(cnp(), id="cluster-network-policy"),
        pytest.param(anp(), id="admin-network-policy"),
        pytest.param(banp(), id="baseline-admin-network-policy"),
        pytest.param(node("n"), id="node"),
    ],
)
def test_cluster_kinds_are_no_longer_skipped(obj: dict[str, Any]) -> None:
    """Before, these kinds were "not used by the analysis; skipped" (an info note)."""
    assert inventory(obj).problems == ()


YAML = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: tenant-isolation
spec:
  tier: Admin
  priority: 10
  subject:
    namespaces: {}
  egress:
  - name: web-only
    action: Accept
    to:
    - networks: ["10.0.0.0/8"]
    protocols:
    - tcp:
        destinationPort:
          range: {start: 443, end: 443}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata:
  name: default
spec:
  subject:
    namespaces: {}
  ingress:
  - action: Deny
    from:
    - namespaces: {}
---
apiVersion: v1
kind: Namespace
metadata:
  name: tenant-a
"""


def test_stored_analysis_keeps_cluster_policies() -> None:
    """The sanitized, stored input (share links) reads back to the same cluster policies."""
    fixed = YAML.replace("start: 443, end: 443", "start: 443, end: 444")
    analysis = analyze([SourceText("up.yaml", fixed.encode())])
    again = analyze_stored(analysis.sanitized)
    assert [p.id for p in again.inventory.cluster_policies] == [
        "ClusterNetworkPolicy/tenant-isolation",
        "BaselineAdminNetworkPolicy/default",
    ]

    def meaning(inv: Inventory) -> list[object]:  # sources aside: stored lines may differ
        return [
            (p.tier, p.priority, p.subject, [(r.action, r.peers, r.ports) for r in p.ingress])
            for p in inv.cluster_policies
        ]

    assert meaning(again.inventory) == meaning(analysis.inventory)


def test_cli_reports_the_problem_with_its_path_in_json(tmp_path: Path) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text(YAML, encoding="utf-8")
    result = cli("analyze", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    problems = json.loads(result.stdout)["problems"]
    assert [
        (p["severity"], p["kind"], p["name"], p["document"], p["line"], p["path"]) for p in problems
    ] == [
        (
            "error",
            "ClusterNetworkPolicy",
            "tenant-isolation",
            0,
            18,
            "spec.egress[0].protocols[0].tcp.destinationPort.range.end",
        )
    ]
    assert "start (443) must be less than end (443)" in problems[0]["message"]
    assert problems[0]["file"] == str(path)


def test_a_json_list_gives_each_field_of_a_cluster_policy_its_line() -> None:
    """`kubectl get -o json`: the problem points at the CIDR's own line, not the item's."""
    bad = cnp(**egress("Deny", {"networks": ["10.0.0.0/33"]}))
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": [namespace, bad]}, indent=2)
    analysis = analyze([SourceText("list.json", text.encode())])
    (problem,) = analysis.problems
    assert problem.path == "items[1].spec.egress[0].to[0].networks[0]"
    assert text.splitlines()[problem.line - 1].strip() == '"10.0.0.0/33"'


def test_spec_that_is_not_a_mapping_is_reported_once() -> None:
    problems = inventory(cnp() | {"spec": ["tier"]}).problems
    assert [(p.path, p.message) for p in problems] == [
        ("spec", "expected a mapping, got a list; ClusterNetworkPolicy left out")
    ]
