"""Validation as the API server does it: exact field paths, lines and messages.

Objects are built as Python values (so `True` stands for an unquoted `yes`
and `1.1` for an unquoted `1.10`, as the loader resolves them) and given
distinct fake line numbers, so every problem's line can be checked against
the field its path names.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest
import rawbuild
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp.core.input.inventory import build_inventory
from webapp.core.input.raw import PosDict, PosList, RawObject
from webapp.core.input.sanitize import sanitize
from webapp.core.input.validation import (
    check_dns1123_label,
    check_dns1123_subdomain,
    check_except,
    check_label_value,
    check_port_name,
    check_port_number,
    check_qualified_name,
    parse_cidr,
)
from webapp.core.model import IPBlockPeer, Problem, Severity

# --- Building objects with line numbers --------------------------------------


def raw(
    obj: dict[str, Any], *, path: str = "", file: str = "up.yaml", document: int = 0
) -> RawObject:
    return rawbuild.raw(obj, path=path, file=file, document=document, lines_per_document=10)


def line_at(obj: RawObject, path: str) -> int:
    """The line a field path points at: the deepest part of it that is written."""
    value: Any = obj.body
    line = obj.line
    relative = path.removeprefix(obj.path).removeprefix(".")
    for name, index in re.findall(r"([^.\[\]]+)|\[([^\]]*)\]", relative):
        key: Any = name or index
        if isinstance(value, PosList) and key.isdigit() and int(key) < len(value):
            line, value = value.line_of(int(key)), value[int(key)]
        elif isinstance(value, PosDict) and key in value:
            line, value = value.line_of(key), value[key]
        else:
            break
    return line


def policy(
    spec: Any = None, *, metadata: dict[str, Any] | None = None, **top: Any
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata if metadata is not None else {"name": "np", "namespace": "prod"},
        "spec": spec if spec is not None else {"podSelector": {}},
    }
    obj.update(top)
    return obj


def ingress_from(*peers: Any) -> dict[str, Any]:
    return {"podSelector": {}, "ingress": [{"from": list(peers)}]}


def ingress_ports(*ports: Any) -> dict[str, Any]:
    return {"podSelector": {}, "ingress": [{"ports": list(ports)}]}


def selector(**fields: Any) -> dict[str, Any]:
    return {"podSelector": fields}


def expression(**fields: Any) -> dict[str, Any]:
    return selector(matchExpressions=[fields])


def ipblock(cidr: Any, *excepts: Any) -> dict[str, Any]:
    block: dict[str, Any] = {"cidr": cidr}
    if excepts:
        block["except"] = list(excepts)
    return ingress_from({"ipBlock": block})


def workload(kind: str = "Deployment", **spec: Any) -> dict[str, Any]:
    """A Pod, or an apps/v1 workload whose selector (unless given) selects its template."""
    template = spec.get("template")
    if kind != "Pod" and "selector" not in spec and isinstance(template, dict):
        labels = template.get("metadata", {}).get("labels")
        spec = {"selector": {"matchLabels": labels if isinstance(labels, dict) else {}}, **spec}
    return {
        "apiVersion": "v1" if kind == "Pod" else "apps/v1",
        "kind": kind,
        "metadata": {"name": "web", "namespace": "prod"},
        "spec": spec,
    }


def template(labels: Any = None, **pod_spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"labels": labels if labels is not None else {"app": "web"}},
        "spec": pod_spec,
    }


def container(*ports: Any, **fields: Any) -> dict[str, Any]:
    return {"name": "main", "image": "example", "ports": list(ports), **fields}


def problems_of(obj: RawObject, severity: Severity) -> list[Problem]:
    return [p for p in build_inventory([obj]).problems if p.severity is severity]


# --- NetworkPolicy errors: the policy is left out ------------------------------

POLICY_ERRORS = [
    # Strict decoding: unknown fields are errors, with a hint for near misses.
    pytest.param(
        policy({"podSelector": {}, "ingress": [{"form": [{"podSelector": {}}]}]}),
        "spec.ingress[0].form",
        ["unknown field 'form'", "did you mean 'from'?"],
        id="unknown-field-form-instead-of-from",
    ),
    pytest.param(
        policy({"podselector": {}}),
        "spec.podselector",
        ["unknown field 'podselector'", "did you mean 'podSelector'?"],
        id="unknown-field-podselector-lowercase",
    ),
    pytest.param(
        policy(specs={}),
        "specs",
        ["unknown field 'specs'", "did you mean 'spec'?"],
        id="unknown-top-level-field",
    ),
    pytest.param(
        policy(metadata={"name": "np", "labls": {"a": "b"}}),
        "metadata.labls",
        ["did you mean 'labels'?"],
        id="unknown-metadata-field",
    ),
    pytest.param(
        policy({"podSelector": {}, "ingress": [{"to": [{"podSelector": {}}]}]}),
        "spec.ingress[0].to",
        ["unknown field 'to'", "ingress rules use 'from'"],
        id="to-in-an-ingress-rule",
    ),
    pytest.param(
        policy({"podSelector": {}, "egress": [{"from": [{"podSelector": {}}]}]}),
        "spec.egress[0].from",
        ["egress rules use 'to'"],
        id="from-in-an-egress-rule",
    ),
    pytest.param(
        policy({"podSelector": {}, "ingress": [{"podSelector": {}}]}),
        "spec.ingress[0].podSelector",
        ["unknown field 'podSelector'", "peers go in a list under 'from'"],
        id="peer-written-directly-in-the-rule",
    ),
    pytest.param(
        policy(ingress_from({"podSelector": {}, "ports": [{"port": 80}]})),
        "spec.ingress[0].from[0].ports",
        ["'ports' belongs to the rule"],
        id="ports-indented-into-the-peer",
    ),
    pytest.param(
        policy({"podSelector": {}, "from": []}),
        "spec.from",
        ["'from' belongs in an item of 'ingress'"],
        id="from-directly-under-spec",
    ),
    pytest.param(
        policy(ingress_from({"ipBlock": {"cidr": "10.0.0.0/8", "exception": []}})),
        "spec.ingress[0].from[0].ipBlock.exception",
        ["did you mean 'except'?"],
        id="unknown-field-in-ipblock",
    ),
    pytest.param(
        policy(ingress_ports({"port": 80, "protocl": "TCP"})),
        "spec.ingress[0].ports[0].protocl",
        ["did you mean 'protocol'?"],
        id="unknown-field-in-port",
    ),
    pytest.param(
        policy(selector(matchLabel={"app": "db"})),
        "spec.podSelector.matchLabel",
        ["did you mean 'matchLabels'?"],
        id="unknown-field-in-selector",
    ),
    pytest.param(
        policy(expression(key="app", operator="In", value=["db"])),
        "spec.podSelector.matchExpressions[0].value",
        ["did you mean 'values'?"],
        id="unknown-field-in-requirement",
    ),
    # Wrong types.
    pytest.param(
        policy({"podSelector": {}, "ingress": {"from": []}}),
        "spec.ingress",
        ["expected a list, got a mapping"],
        id="ingress-is-a-mapping",
    ),
    pytest.param(
        policy({"podSelector": {}, "ingress": [{"from": {"podSelector": {}}}]}),
        "spec.ingress[0].from",
        ["expected a list, got a mapping"],
        id="from-is-a-mapping",
    ),
    pytest.param(
        policy(selector(matchLabels=["app"])),
        "spec.podSelector.matchLabels",
        ["expected a mapping, got a list"],
        id="match-labels-is-a-list",
    ),
    pytest.param(policy([]), "spec", ["expected a mapping, got a list"], id="spec-is-a-list"),
    pytest.param(
        policy({"podSelector": {}, "policyTypes": "Ingress"}),
        "spec.policyTypes",
        ["expected a list, got the string 'Ingress'"],
        id="policy-types-is-a-string",
    ),
    pytest.param(
        policy(metadata={"name": "np", "annotations": {"reviewed": True}}),
        "metadata.annotations[reviewed]",
        ["annotation values are strings", "quote"],
        id="annotation-value-is-bool",
    ),
    # Names.
    pytest.param(
        policy(metadata={"namespace": "prod"}),
        "metadata.name",
        ["metadata.name is required"],
        id="name-missing",
    ),
    pytest.param(policy(metadata={"name": ""}), "metadata.name", ["is required"], id="name-empty"),
    pytest.param(
        policy(metadata={"name": "Allow-DB"}),
        "metadata.name",
        ["invalid name 'Allow-DB'", "RFC 1123 subdomain"],
        id="name-uppercase",
    ),
    pytest.param(
        policy(metadata={"name": "a" * 254}),
        "metadata.name",
        ["must be no more than 253 characters"],
        id="name-too-long",
    ),
    pytest.param(
        policy(metadata={"name": 123}),
        "metadata.name",
        ["name must be a string", 'quote it: "123"'],
        id="name-is-a-number",
    ),
    pytest.param(
        policy(metadata={"name": "np", "namespace": "team.a"}),
        "metadata.namespace",
        ["invalid namespace 'team.a'", "must not contain dots"],
        id="namespace-with-dots",
    ),
    pytest.param(
        policy(metadata={"name": "np", "namespace": "Prod"}),
        "metadata.namespace",
        ["RFC 1123 label"],
        id="namespace-uppercase",
    ),
    # Labels: keys are qualified names, values are strings of at most 63 characters.
    pytest.param(
        policy(selector(matchLabels={"app": True})),
        "spec.podSelector.matchLabels[app]",
        ["label values are strings", "yes/no/on/off/true/false", "quote the value"],
        id="label-value-yes-is-bool",
    ),
    pytest.param(
        policy(selector(matchLabels={"version": 1.1})),
        "spec.podSelector.matchLabels[version]",
        ["label values are strings", "the number 1.1", "quote the value as written"],
        id="label-value-1-10-is-a-float",
    ),
    pytest.param(
        policy(selector(matchLabels={"tier": 2})),
        "spec.podSelector.matchLabels[tier]",
        ['quote it: "2"'],
        id="label-value-2-is-an-int",
    ),
    pytest.param(
        policy(selector(matchLabels={"app": "a" * 64})),
        "spec.podSelector.matchLabels[app]",
        ["must be no more than 63 characters"],
        id="label-value-too-long",
    ),
    pytest.param(
        policy(selector(matchLabels={"app": "my app"})),
        "spec.podSelector.matchLabels[app]",
        ["invalid label value 'my app'", "alphanumeric"],
        id="label-value-with-space",
    ),
    pytest.param(
        policy(selector(matchLabels={"app": "web-"})),
        "spec.podSelector.matchLabels[app]",
        ["invalid label value 'web-'"],
        id="label-value-ends-with-dash",
    ),
    pytest.param(
        policy(selector(matchLabels={"-app": "web"})),
        "spec.podSelector.matchLabels[-app]",
        ["invalid label key '-app'", "name part must consist of"],
        id="label-key-starts-with-dash",
    ),
    pytest.param(
        policy(selector(matchLabels={"Example.com/app": "web"})),
        "spec.podSelector.matchLabels[Example.com/app]",
        ["prefix part a lowercase RFC 1123 subdomain"],
        id="label-key-prefix-uppercase",
    ),
    pytest.param(
        policy(selector(matchLabels={"a/b/c": "web"})),
        "spec.podSelector.matchLabels[a/b/c]",
        ["a qualified name must consist of"],
        id="label-key-two-slashes",
    ),
    pytest.param(
        policy(selector(matchLabels={"example.com/": "web"})),
        "spec.podSelector.matchLabels[example.com/]",
        ["name part must be non-empty"],
        id="label-key-empty-name",
    ),
    pytest.param(
        policy(selector(matchLabels={"/app": "web"})),
        "spec.podSelector.matchLabels[/app]",
        ["prefix part must be non-empty"],
        id="label-key-empty-prefix",
    ),
    pytest.param(
        policy(selector(matchLabels={"k" * 64: "web"})),
        f"spec.podSelector.matchLabels[{'k' * 64}]",
        ["name part must be no more than 63 characters"],
        id="label-key-name-too-long",
    ),
    pytest.param(
        policy(metadata={"name": "np", "labels": {"team": False}}),
        "metadata.labels[team]",
        ["label values are strings"],
        id="policy-own-label-is-bool",
    ),
    # Selector requirements.
    pytest.param(
        policy(expression(key="app", operator="in", values=["db"])),
        "spec.podSelector.matchExpressions[0].operator",
        ["invalid operator 'in'", "not a valid selector operator", "did you mean 'In'?"],
        id="operator-lowercase",
    ),
    pytest.param(
        policy(expression(key="app", operator="Equals", values=["db"])),
        "spec.podSelector.matchExpressions[0].operator",
        ["invalid operator 'Equals'"],
        id="operator-unknown",
    ),
    pytest.param(
        policy(expression(key="app", operator="In")),
        "spec.podSelector.matchExpressions[0].values",
        ["values must be specified when `operator` is 'In'"],
        id="in-without-values",
    ),
    pytest.param(
        policy(expression(key="app", operator="NotIn", values=[])),
        "spec.podSelector.matchExpressions[0].values",
        ["must be specified when `operator` is 'NotIn'"],
        id="notin-with-empty-values",
    ),
    pytest.param(
        policy(expression(key="app", operator="Exists", values=["db"])),
        "spec.podSelector.matchExpressions[0].values",
        ["values may not be specified when `operator` is 'Exists'"],
        id="exists-with-values",
    ),
    pytest.param(
        policy(expression(key="app", operator="DoesNotExist", values=["x"])),
        "spec.podSelector.matchExpressions[0].values",
        ["may not be specified when `operator` is 'DoesNotExist'"],
        id="doesnotexist-with-values",
    ),
    pytest.param(
        policy(expression(key="app", operator="In", values=["ok", "not ok"])),
        "spec.podSelector.matchExpressions[0].values[1]",
        ["invalid label value 'not ok'"],
        id="expression-value-invalid",
    ),
    pytest.param(
        policy(expression(key="enabled", operator="In", values=[True])),
        "spec.podSelector.matchExpressions[0].values[0]",
        ["values are strings", "quote the value"],
        id="expression-value-yes-is-bool",
    ),
    pytest.param(
        policy(expression(key="bad key", operator="Exists")),
        "spec.podSelector.matchExpressions[0].key",
        ["invalid label key 'bad key'"],
        id="expression-key-invalid",
    ),
    pytest.param(
        policy(expression(operator="Exists")),
        "spec.podSelector.matchExpressions[0].key",
        ["invalid label key ''", "name part must be non-empty"],
        id="expression-key-missing",
    ),
    pytest.param(
        policy(ingress_from({"namespaceSelector": {"matchLabels": {"team": "a b"}}})),
        "spec.ingress[0].from[0].namespaceSelector.matchLabels[team]",
        ["invalid label value 'a b'"],
        id="namespace-selector-value-invalid",
    ),
    # policyTypes.
    pytest.param(
        policy({"podSelector": {}, "policyTypes": ["ingress"]}),
        "spec.policyTypes[0]",
        ["unsupported policy type 'ingress'", "did you mean 'Ingress'?"],
        id="policy-type-lowercase",
    ),
    pytest.param(
        policy({"podSelector": {}, "policyTypes": ["All"]}),
        "spec.policyTypes[0]",
        ["unsupported policy type 'All'", "use Ingress or Egress"],
        id="policy-type-unknown",
    ),
    pytest.param(
        policy({"podSelector": {}, "policyTypes": ["Ingress", "Egress", "Ingress"]}),
        "spec.policyTypes",
        ["may not specify more than two policyTypes"],
        id="policy-types-three",
    ),
    # Ports.
    pytest.param(
        policy(ingress_ports({"protocol": "tcp", "port": 80})),
        "spec.ingress[0].ports[0].protocol",
        ["unsupported protocol 'tcp'", "did you mean 'TCP'?"],
        id="protocol-lowercase",
    ),
    pytest.param(
        policy(ingress_ports({"protocol": "ICMP"})),
        "spec.ingress[0].ports[0].protocol",
        ["use TCP, UDP or SCTP"],
        id="protocol-icmp",
    ),
    pytest.param(
        policy(ingress_ports({"port": 0})),
        "spec.ingress[0].ports[0].port",
        ["invalid port 0", "between 1 and 65535"],
        id="port-zero",
    ),
    pytest.param(
        policy(ingress_ports({"port": 65536})),
        "spec.ingress[0].ports[0].port",
        ["between 1 and 65535"],
        id="port-too-big",
    ),
    pytest.param(
        policy(ingress_ports({"port": "1:20"})),
        "spec.ingress[0].ports[0].port",
        ["invalid port name '1:20'", "port: 1 with endPort: 20"],
        id="port-1-20-is-a-bad-name",
    ),
    pytest.param(
        policy(ingress_ports({"port": "8080"})),
        "spec.ingress[0].ports[0].port",
        ["'8080' is a string", "write 8080 without quotes for a port number"],
        id="quoted-8080-is-a-name",
    ),
    pytest.param(
        policy(ingress_ports({"port": "metrics-exporter"})),
        "spec.ingress[0].ports[0].port",
        ["must be no more than 15 characters"],
        id="port-name-too-long",
    ),
    pytest.param(
        policy(ingress_ports({"port": "HTTP"})),
        "spec.ingress[0].ports[0].port",
        ["invalid port name 'HTTP'", "only alpha-numeric characters (a-z, 0-9)"],
        id="port-name-uppercase",
    ),
    pytest.param(
        policy(ingress_ports({"port": "my--port"})),
        "spec.ingress[0].ports[0].port",
        ["must not contain consecutive hyphens"],
        id="port-name-double-hyphen",
    ),
    pytest.param(
        policy(ingress_ports({"port": "-http"})),
        "spec.ingress[0].ports[0].port",
        ["must not begin or end with a hyphen"],
        id="port-name-leading-hyphen",
    ),
    pytest.param(
        policy(ingress_ports({"port": True})),
        "spec.ingress[0].ports[0].port",
        ["port must be an integer, got the boolean true"],
        id="port-is-bool",
    ),
    pytest.param(
        policy(ingress_ports({"port": 80.5})),
        "spec.ingress[0].ports[0].port",
        ["got the number 80.5"],
        id="port-is-a-fraction",
    ),
    pytest.param(
        policy(ingress_ports({"port": "http", "endPort": 90})),
        "spec.ingress[0].ports[0].endPort",
        ["endPort requires a numeric port", "port name 'http'"],
        id="endport-with-named-port",
    ),
    pytest.param(
        policy(ingress_ports({"endPort": 90})),
        "spec.ingress[0].ports[0].endPort",
        ["endPort requires a numeric port; port is not specified"],
        id="endport-without-port",
    ),
    pytest.param(
        policy(ingress_ports({"port": 90, "endPort": 80})),
        "spec.ingress[0].ports[0].endPort",
        ["endPort 80 must be greater than or equal to port 90"],
        id="endport-below-port",
    ),
    pytest.param(
        policy(ingress_ports({"port": 90, "endPort": 70000})),
        "spec.ingress[0].ports[0].endPort",
        ["invalid endPort 70000", "between 1 and 65535"],
        id="endport-too-big",
    ),
    pytest.param(
        policy(ingress_ports({"port": 80, "endPort": "90"})),
        "spec.ingress[0].ports[0].endPort",
        ["endPort must be a number, not the string '90'"],
        id="endport-is-a-string",
    ),
    # Peers.
    pytest.param(
        policy(ingress_from({})),
        "spec.ingress[0].from[0]",
        ["must specify a peer"],
        id="empty-peer",
    ),
    pytest.param(
        policy(ingress_from({"podSelector": None})),
        "spec.ingress[0].from[0]",
        ["must specify a peer"],
        id="peer-with-only-a-null-selector",
    ),
    pytest.param(
        policy(ingress_from(None)),
        "spec.ingress[0].from[0]",
        ["must specify a peer"],
        id="null-peer",
    ),
    pytest.param(
        policy(ingress_from({"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}})),
        "spec.ingress[0].from[0]",
        ["may not specify both ipBlock and another peer"],
        id="ipblock-with-podselector",
    ),
    pytest.param(
        policy(ingress_from({"ipBlock": {"cidr": "10.0.0.0/8"}, "namespaceSelector": {}})),
        "spec.ingress[0].from[0]",
        ["may not specify both ipBlock and another peer"],
        id="ipblock-with-namespaceselector",
    ),
    pytest.param(
        policy(ingress_from({"ipBlock": {}})),
        "spec.ingress[0].from[0].ipBlock.cidr",
        ["ipBlock.cidr is required"],
        id="ipblock-without-cidr",
    ),
    pytest.param(
        policy(ipblock("")),
        "spec.ingress[0].from[0].ipBlock.cidr",
        ["ipBlock.cidr is required"],
        id="ipblock-empty-cidr",
    ),
    pytest.param(
        policy(ipblock("10.0.0.0")),
        "spec.ingress[0].from[0].ipBlock.cidr",
        ["invalid CIDR '10.0.0.0'", "must be a valid CIDR value"],
        id="cidr-without-prefix",
    ),
    pytest.param(
        policy(ipblock("10.0.0.0/33")),
        "spec.ingress[0].from[0].ipBlock.cidr",
        ["must be a valid CIDR value"],
        id="cidr-prefix-too-long",
    ),
    pytest.param(
        policy(ipblock("10.0.0.0/255.0.0.0")),
        "spec.ingress[0].from[0].ipBlock.cidr",
        ["must be a valid CIDR value"],
        id="cidr-with-a-netmask",
    ),
    pytest.param(
        policy(ipblock("ten/8")),
        "spec.ingress[0].from[0].ipBlock.cidr",
        ["must be a valid CIDR value"],
        id="cidr-not-an-address",
    ),
    pytest.param(
        policy(ipblock("2001:db8::/129")),
        "spec.ingress[0].from[0].ipBlock.cidr",
        ["must be a valid CIDR value"],
        id="cidr-ipv6-prefix-too-long",
    ),
    pytest.param(
        policy(ipblock(10)),
        "spec.ingress[0].from[0].ipBlock.cidr",
        ["cidr must be a string"],
        id="cidr-is-a-number",
    ),
    pytest.param(
        policy(ipblock("10.0.0.0/16", "10.1.0.0/24")),
        "spec.ingress[0].from[0].ipBlock.except[0]",
        ["except '10.1.0.0/24' is not inside cidr 10.0.0.0/16", "strict subset"],
        id="except-outside-cidr",
    ),
    pytest.param(
        policy(ipblock("10.0.0.0/16", "10.0.1.0/24", "10.0.0.0/16")),
        "spec.ingress[0].from[0].ipBlock.except[1]",
        ["strict subset"],
        id="except-equal-to-cidr",
    ),
    pytest.param(
        policy(ipblock("10.0.0.0/16", "10.0.0.0/8")),
        "spec.ingress[0].from[0].ipBlock.except[0]",
        ["strict subset"],
        id="except-wider-than-cidr",
    ),
    pytest.param(
        policy(ipblock("10.0.0.0/8", "2001:db8::/64")),
        "spec.ingress[0].from[0].ipBlock.except[0]",
        ["strict subset"],
        id="except-of-the-other-family",
    ),
    pytest.param(
        policy(ipblock("10.0.0.0/8", "10.0.0.0/40")),
        "spec.ingress[0].from[0].ipBlock.except[0]",
        ["invalid CIDR '10.0.0.0/40'"],
        id="except-invalid",
    ),
    pytest.param(
        policy(ingress_from({"ipBlock": {"cidr": "10.0.0.0/8", "except": "10.1.0.0/16"}})),
        "spec.ingress[0].from[0].ipBlock.except",
        ["expected a list, got the string '10.1.0.0/16'"],
        id="except-is-a-string",
    ),
]


@pytest.mark.parametrize(("obj", "path", "fragments"), POLICY_ERRORS)
def test_invalid_policy_is_left_out_with_an_error_at_the_field(
    obj: dict[str, Any], path: str, fragments: list[str]
) -> None:
    upload = raw(obj, file="policies.yaml", document=3)
    inventory = build_inventory([upload])
    assert inventory.policies == ()
    errors = [p for p in inventory.problems if p.severity is Severity.ERROR]
    at_path = [p for p in errors if p.path == path]
    assert at_path, f"no error at {path}: {errors}"
    problem = at_path[0]
    for fragment in fragments:
        assert fragment in problem.message
    assert re.search(r"[;?] NetworkPolicy left out$", problem.message), problem.message
    assert problem.line == line_at(upload, path)
    assert (problem.file, problem.document, problem.kind) == ("policies.yaml", 3, "NetworkPolicy")


def test_problem_paths_of_list_items_start_with_the_item_path() -> None:
    upload = raw(policy(ipblock("10.0.0.0/16", "10.1.0.0/24")), path="items[2]")
    (problem,) = problems_of(upload, Severity.ERROR)
    assert problem.path == "items[2].spec.ingress[0].from[0].ipBlock.except[0]"
    assert problem.line == line_at(upload, problem.path)


def test_problem_names_the_policy() -> None:
    (problem,) = problems_of(raw(policy(ingress_from({}))), Severity.ERROR)
    assert (problem.kind, problem.name) == ("NetworkPolicy", "np")


def test_every_error_of_one_policy_is_reported() -> None:
    spec = {
        "podSelector": {"matchLabels": {"app": True}},
        "policyTypes": ["ingress"],
        "ingress": [
            {
                "form": [],
                "from": [{}, {"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.9.0.0/24"]}}],
                "ports": [{"port": "8080"}, {"port": 80, "endPort": 79}],
            }
        ],
    }
    errors = problems_of(raw(policy(spec)), Severity.ERROR)
    assert sorted(p.path or "" for p in errors) == [
        "spec.ingress[0].form",
        "spec.ingress[0].from[0]",
        "spec.ingress[0].from[1].ipBlock.except[0]",
        "spec.ingress[0].ports[0].port",
        "spec.ingress[0].ports[1].endPort",
        "spec.podSelector.matchLabels[app]",
        "spec.policyTypes[0]",
    ]


def test_a_broken_policy_leaves_the_rest_of_the_upload_analysed() -> None:
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}},
        policy({"podSelector": {}, "ingress": [{"form": [{"podSelector": {}}]}]}),
        policy(metadata={"name": "good", "namespace": "prod"}),
        workload(template=template(containers=[container()])),
    ]
    inventory = build_inventory([raw(o, document=i) for i, o in enumerate(objects)])
    assert [p.name for p in inventory.policies] == ["good"]
    assert [n.name for n in inventory.namespaces] == ["prod"]
    assert [w.name for w in inventory.workloads] == ["web"]
    (error,) = [p for p in inventory.problems if p.severity is Severity.ERROR]
    assert (error.document, error.path) == (1, "spec.ingress[0].form")


def test_kind_and_api_version_are_required() -> None:
    no_version = policy()
    del no_version["apiVersion"]
    no_kind = policy()
    del no_kind["kind"]
    inventory = build_inventory([raw(no_version), raw(no_kind, document=1)])
    messages = [(p.severity, p.path, p.message) for p in inventory.problems]
    assert messages == [
        (
            Severity.ERROR,
            "apiVersion",
            "apiVersion is missing or not a string; NetworkPolicy left out",
        ),
        (Severity.ERROR, "kind", "kind is missing or not a string; object left out"),
    ]


def test_every_part_of_a_peer_with_ipblock_and_selector_is_checked() -> None:
    peer = {"ipBlock": {"cidr": "10.0.0.0/40"}, "podSelector": {"matchLabels": {"a": "b c"}}}
    errors = problems_of(raw(policy(ingress_from(peer))), Severity.ERROR)
    assert sorted(p.path or "" for p in errors) == [
        "spec.ingress[0].from[0]",
        "spec.ingress[0].from[0].ipBlock.cidr",
        "spec.ingress[0].from[0].podSelector.matchLabels[a]",
    ]


def test_excepts_of_both_families_are_each_reported() -> None:
    spec = ipblock("10.0.0.0/8", "2001:db8::/64", "10.1.0.0/16", "::/0")
    errors = problems_of(raw(policy(spec)), Severity.ERROR)
    assert [p.path for p in errors] == [
        "spec.ingress[0].from[0].ipBlock.except[0]",
        "spec.ingress[0].from[0].ipBlock.except[2]",
    ]


def test_hidden_characters_are_escaped_in_paths_and_messages() -> None:
    key = "fr\u202eom"
    (problem,) = problems_of(
        raw(policy({"podSelector": {}, "ingress": [{key: []}]})), Severity.ERROR
    )
    assert "\u202e" not in (problem.path or "") + problem.message
    assert problem.path == "spec.ingress[0].fr\\u202eom"
    assert "unknown field 'fr\\u202eom'" in problem.message


def test_non_numeric_string_count_is_not_told_to_unquote() -> None:
    deployment = workload(replicas="many", template=template(containers=[container()]))
    (problem,) = problems_of(raw(deployment), Severity.ERROR)
    assert problem.message == (
        "replicas must be an integer, got the string 'many'; Deployment left out"
    )


# --- NetworkPolicy warnings: the policy is kept --------------------------------

POLICY_WARNINGS = [
    pytest.param(
        policy({}),
        "spec.podSelector",
        ["spec.podSelector is missing; read as {}"],
        id="podselector-missing-reads-as-empty",
    ),
    pytest.param(
        policy({"podSelector": None}),
        "spec.podSelector",
        ["read as {}"],
        id="podselector-null-reads-as-empty",
    ),
    pytest.param(
        policy(ipblock("10.0.0.1/24")),
        "spec.ingress[0].from[0].ipBlock.cidr",
        ["host bits are set; the network 10.0.0.0/24 is used"],
        id="cidr-host-bits-set",
    ),
    pytest.param(
        policy(ipblock("10.0.0.0/16", "10.0.1.1/24")),
        "spec.ingress[0].from[0].ipBlock.except[0]",
        ["host bits are set; the network 10.0.1.0/24 is used"],
        id="except-host-bits-set",
    ),
    pytest.param(
        policy(ipblock("010.000.0.0/8")),
        "spec.ingress[0].from[0].ipBlock.cidr",
        ["leading zeros are read as decimal: 10.0.0.0/8"],
        id="cidr-leading-zeros",
    ),
    pytest.param(
        policy({"podSelector": {}, "policyTypes": ["Ingress"], "egress": [{}]}),
        "spec.egress",
        ["spec.egress has rules but policyTypes does not list Egress; they have no effect"],
        id="egress-rules-without-egress-type",
    ),
    pytest.param(
        policy({"podSelector": {}, "policyTypes": ["Egress"], "ingress": [{}]}),
        "spec.ingress",
        ["policyTypes does not list Ingress"],
        id="ingress-rules-without-ingress-type",
    ),
    pytest.param(
        policy({"podSelector": {}, "policyTypes": ["Egress", "Egress"]}),
        "spec.policyTypes[1]",
        ["policy type 'Egress' is listed twice"],
        id="policy-type-listed-twice",
    ),
    pytest.param(
        policy({"podSelector": {}, "egress": []}),
        "spec.egress",
        ["'egress: []' without policyTypes does not isolate egress"],
        id="empty-egress-without-policy-types",
    ),
    pytest.param(
        policy(selector(matchLabels={"app": None})),
        "spec.podSelector.matchLabels[app]",
        ["label 'app' has no value; read as \"\""],
        id="label-value-null-reads-as-empty",
    ),
]


@pytest.mark.parametrize(("obj", "path", "fragments"), POLICY_WARNINGS)
def test_questionable_policy_is_kept_with_a_warning_at_the_field(
    obj: dict[str, Any], path: str, fragments: list[str]
) -> None:
    upload = raw(obj)
    inventory = build_inventory([upload])
    assert len(inventory.policies) == 1
    assert [p for p in inventory.problems if p.severity is Severity.ERROR] == []
    (problem,) = [p for p in inventory.problems if p.path == path]
    assert problem.severity is Severity.WARNING
    for fragment in fragments:
        assert fragment in problem.message
    assert problem.line == line_at(upload, path)


def test_host_bits_are_masked_off() -> None:
    (policy_,) = build_inventory([raw(policy(ipblock("10.0.0.1/24", "10.0.0.129/25")))]).policies
    (peer,) = policy_.ingress[0].peers
    assert peer == IPBlockPeer(
        ipaddress.ip_network("10.0.0.0/24"), (ipaddress.ip_network("10.0.0.128/25"),)
    )


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(ingress_ports({}), id="port-entry-empty-is-every-tcp-port"),
        pytest.param(ingress_ports({"port": 80, "endPort": 80}), id="endport-equal-to-port"),
        pytest.param(ingress_ports({"port": "http", "protocol": "SCTP"}), id="named-sctp-port"),
        pytest.param(ingress_ports({"port": 53.0, "protocol": "UDP"}), id="integral-float-port"),
        pytest.param(ipblock("2001:db8::/32", "2001:db8:1::/48"), id="ipv6-block-with-except"),
        pytest.param(ingress_from({"namespaceSelector": {}}), id="empty-namespace-selector"),
        pytest.param(
            selector(matchLabels={"app.kubernetes.io/name": "db", "v": ""}),
            id="prefixed-key-empty-value",
        ),
        pytest.param(
            expression(key="app", operator="DoesNotExist"), id="doesnotexist-without-values"
        ),
        pytest.param({"podSelector": {}, "ingress": [None]}, id="null-rule-reads-as-empty-rule"),
    ],
)
def test_valid_policy_has_no_problems(spec: dict[str, Any]) -> None:
    inventory = build_inventory([raw(policy(spec))])
    assert len(inventory.policies) == 1
    assert inventory.problems == ()


def test_status_and_metadata_of_an_export_are_accepted() -> None:
    exported = policy(
        metadata={
            "name": "np",
            "namespace": "prod",
            "uid": "0b5e",
            "resourceVersion": "123",
            "generation": 2,
            "creationTimestamp": "2024-01-01T00:00:00Z",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
            "managedFields": [{"manager": "kubectl"}],
        },
        status={},
    )
    inventory = build_inventory([raw(exported)])
    assert len(inventory.policies) == 1
    assert inventory.problems == ()


# --- Namespaces, Pods and workloads: only the fields the analysis uses ----------

OBJECT_ERRORS = [
    pytest.param(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team.a"}},
        "metadata.name",
        ["must not contain dots"],
        id="namespace-name-is-a-label",
    ),
    pytest.param(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "a", "labels": {"pci": True}},
        },
        "metadata.labels[pci]",
        ["label values are strings"],
        id="namespace-label-yes-is-bool",
    ),
    pytest.param(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"v": 1.1}}},
        "metadata.labels[v]",
        ["label values are strings", "1.1"],
        id="pod-label-value-is-float",
    ),
    pytest.param(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": {"app": "x"}}},
        "metadata.name",
        ["metadata.name is required"],
        id="pod-without-name",
    ),
    pytest.param(
        workload(template=template({"bad key": "x"})),
        "spec.template.metadata.labels[bad key]",
        ["invalid label key 'bad key'"],
        id="template-label-key-invalid",
    ),
    pytest.param(
        workload(template=template(containers=[container({"containerPort": "80"})])),
        "spec.template.spec.containers[0].ports[0].containerPort",
        ["containerPort must be a number, not the string '80'"],
        id="container-port-quoted",
    ),
    pytest.param(
        workload(template=template(containers=[container({"containerPort": 0})])),
        "spec.template.spec.containers[0].ports[0].containerPort",
        ["invalid containerPort 0"],
        id="container-port-zero",
    ),
    pytest.param(
        workload(template=template(containers=[container({"name": "http"})])),
        "spec.template.spec.containers[0].ports[0].containerPort",
        ["containerPort is required"],
        id="container-port-missing",
    ),
    pytest.param(
        workload(
            template=template(containers=[container({"containerPort": 80, "name": "Web_UI"})])
        ),
        "spec.template.spec.containers[0].ports[0].name",
        ["invalid port name 'Web_UI'"],
        id="container-port-name-invalid",
    ),
    pytest.param(
        workload(
            template=template(
                containers=[
                    container(
                        {"containerPort": 80, "name": "http"}, {"containerPort": 81, "name": "http"}
                    )
                ]
            )
        ),
        "spec.template.spec.containers[0].ports[1].name",
        ["duplicate port name 'http'"],
        id="container-port-name-twice",
    ),
    pytest.param(
        workload(
            template=template(containers=[container({"containerPort": 53, "protocol": "udp"})])
        ),
        "spec.template.spec.containers[0].ports[0].protocol",
        ["unsupported protocol 'udp'"],
        id="container-port-protocol-lowercase",
    ),
    pytest.param(
        workload(
            template=template(
                initContainers=[container({"containerPort": -1}, restartPolicy="Always")]
            )
        ),
        "spec.template.spec.initContainers[0].ports[0].containerPort",
        ["invalid containerPort -1"],
        id="sidecar-port-invalid",
    ),
    pytest.param(
        workload(template=template(hostNetwork="yes")),
        "spec.template.spec.hostNetwork",
        ["hostNetwork must be true or false, got the string 'yes'"],
        id="host-network-is-a-string",
    ),
    pytest.param(
        workload(replicas="3", template=template()),
        "spec.replicas",
        ["replicas must be a number, not the string '3'"],
        id="replicas-quoted",
    ),
    pytest.param(
        workload(replicas=-1, template=template()),
        "spec.replicas",
        ["replicas must be greater than or equal to 0"],
        id="replicas-negative",
    ),
    pytest.param(
        workload(replicas=2),
        "spec.template",
        ["spec.template is required"],
        id="deployment-without-template",
    ),
    pytest.param(
        {**workload("Job", template=template()), "apiVersion": "batch/v1"}
        | {"spec": {"parallelism": True, "template": template()}},
        "spec.parallelism",
        ["parallelism must be an integer, got the boolean true"],
        id="job-parallelism-is-bool",
    ),
    pytest.param(
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "c"},
            "spec": {"jobTemplate": {}},
        },
        "spec.jobTemplate.spec",
        ["spec.jobTemplate.spec is required"],
        id="cronjob-without-job-spec",
    ),
    pytest.param(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "ownerReferences": [{"kind": "ReplicaSet"}]},
        },
        "metadata.ownerReferences[0]",
        ["name is required in an owner reference"],
        id="owner-reference-without-name",
    ),
    pytest.param(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "Prod"}},
        "metadata.namespace",
        ["invalid namespace 'Prod'"],
        id="pod-namespace-uppercase",
    ),
]


@pytest.mark.parametrize(("obj", "path", "fragments"), OBJECT_ERRORS)
def test_invalid_workload_or_namespace_is_left_out(
    obj: dict[str, Any], path: str, fragments: list[str]
) -> None:
    upload = raw(obj)
    inventory = build_inventory([upload])
    assert inventory.workloads == () and inventory.namespaces == ()
    (problem,) = [p for p in inventory.problems if p.path == path]
    assert problem.severity is Severity.ERROR
    for fragment in fragments:
        assert fragment in problem.message
    assert re.search(f"[;?] {obj['kind']} left out$", problem.message), problem.message
    assert problem.line == line_at(upload, path)


def test_unused_pod_fields_are_not_checked() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "containers": [container({"containerPort": 80}, env=[{"name": "A", "value": 1}])],
            "initContainers": [{"name": "init", "ports": [{"containerPort": "not checked"}]}],
            "someFutureField": {"anything": True},
        },
    }
    inventory = build_inventory([raw(pod)])
    assert len(inventory.workloads) == 1
    assert inventory.problems == ()


# --- The checks themselves ------------------------------------------------------

CHECKS = [
    pytest.param(check_dns1123_label, "my-name", [], id="label-ok"),
    pytest.param(check_dns1123_label, "123-abc", [], id="label-may-start-with-digit"),
    pytest.param(check_dns1123_label, "a" * 63, [], id="label-63-chars-ok"),
    pytest.param(check_dns1123_label, "a" * 64, ["no more than 63"], id="label-64-chars"),
    pytest.param(check_dns1123_label, "a.b", ["must not contain dots"], id="label-with-dot"),
    pytest.param(check_dns1123_label, "-a", ["RFC 1123 label"], id="label-leading-dash"),
    pytest.param(check_dns1123_label, "", ["RFC 1123 label"], id="label-empty"),
    pytest.param(check_dns1123_label, "a\n", ["RFC 1123 label"], id="label-trailing-newline"),
    pytest.param(check_dns1123_subdomain, "example.com", [], id="subdomain-ok"),
    pytest.param(
        check_dns1123_subdomain, "a..b", ["RFC 1123 subdomain"], id="subdomain-double-dot"
    ),
    pytest.param(check_dns1123_subdomain, "a_b", ["RFC 1123 subdomain"], id="subdomain-underscore"),
    pytest.param(
        check_dns1123_subdomain,
        ".".join(["a" * 63] * 4),
        ["no more than 253"],
        id="subdomain-too-long",
    ),
    pytest.param(check_qualified_name, "app", [], id="key-plain"),
    pytest.param(check_qualified_name, "My_Key.x", [], id="key-mixed-case-underscore-dot"),
    pytest.param(check_qualified_name, "kubernetes.io/metadata.name", [], id="key-prefixed"),
    pytest.param(
        check_qualified_name, "app_", ["name part must consist"], id="key-trailing-underscore"
    ),
    pytest.param(
        check_qualified_name,
        "",
        ["name part must be non-empty", "name part must consist"],
        id="key-empty-gives-both-messages",
    ),
    pytest.param(check_qualified_name, "a/b/c", ["a qualified name"], id="key-two-slashes"),
    pytest.param(
        check_qualified_name,
        "a_b/c",
        ["prefix part a lowercase RFC 1123"],
        id="key-prefix-underscore",
    ),
    pytest.param(check_label_value, "", [], id="value-empty-ok"),
    pytest.param(check_label_value, "1.10", [], id="value-quoted-version-ok"),
    pytest.param(check_label_value, "a" * 64, ["no more than 63"], id="value-too-long"),
    pytest.param(check_label_value, "a/b", ["a valid label must be"], id="value-with-slash"),
    pytest.param(check_label_value, "é", ["a valid label must be"], id="value-non-ascii"),
    pytest.param(check_port_name, "http", [], id="port-name-ok"),
    pytest.param(check_port_name, "h2c-8080", [], id="port-name-digits-and-hyphen"),
    pytest.param(check_port_name, "a" * 15, [], id="port-name-15-chars"),
    pytest.param(check_port_name, "a" * 16, ["no more than 15"], id="port-name-16-chars"),
    pytest.param(check_port_name, "8080", ["at least one letter"], id="port-name-all-digits"),
    pytest.param(
        check_port_name,
        "1:20",
        ["only alpha-numeric", "at least one letter"],
        id="port-name-with-colon",
    ),
    pytest.param(
        check_port_name, "web-", ["begin or end with a hyphen"], id="port-name-trailing-hyphen"
    ),
    pytest.param(check_port_name, "Http", ["only alpha-numeric"], id="port-name-capital"),
]


@pytest.mark.parametrize(("check", "value", "fragments"), CHECKS)
def test_name_checks(check: Any, value: str, fragments: list[str]) -> None:
    messages = check(value)
    assert len(messages) == len(fragments), messages
    for message, fragment in zip(messages, fragments, strict=True):
        assert fragment in message


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        pytest.param(1, True, id="port-1"),
        pytest.param(65535, True, id="port-65535"),
        pytest.param(0, False, id="port-0"),
        pytest.param(65536, False, id="port-65536"),
        pytest.param(-80, False, id="port-negative"),
    ],
)
def test_port_numbers(number: int, valid: bool) -> None:
    assert (check_port_number(number) == []) is valid


@pytest.mark.parametrize(
    ("text", "network", "warnings"),
    [
        pytest.param("10.0.0.0/8", "10.0.0.0/8", 0, id="ipv4"),
        pytest.param("0.0.0.0/0", "0.0.0.0/0", 0, id="ipv4-everything"),
        pytest.param("10.1.2.3/32", "10.1.2.3/32", 0, id="ipv4-host"),
        pytest.param("10.1.2.3/8", "10.0.0.0/8", 1, id="ipv4-host-bits"),
        pytest.param("2001:DB8::/32", "2001:db8::/32", 0, id="ipv6-upper-case"),
        pytest.param("::/0", "::/0", 0, id="ipv6-everything"),
        pytest.param("2001:db8::1/64", "2001:db8::/64", 1, id="ipv6-host-bits"),
        pytest.param("010.1.0.0/16", "10.1.0.0/16", 1, id="ipv4-leading-zero"),
        pytest.param("10.0.0.0/08", "10.0.0.0/8", 0, id="prefix-leading-zero"),
        pytest.param("10.0.0.0", None, 0, id="no-prefix"),
        pytest.param("10.0.0.0/", None, 0, id="empty-prefix"),
        pytest.param("10.0.0.0/+8", None, 0, id="signed-prefix"),
        pytest.param("10.0.0.0/ 8", None, 0, id="space-in-prefix"),
        pytest.param(" 10.0.0.0/8", None, 0, id="leading-space"),
        pytest.param("10.0.0/8", None, 0, id="three-octets"),
        pytest.param("256.0.0.0/8", None, 0, id="octet-too-big"),
        pytest.param("fe80::1%eth0/64", None, 0, id="ipv6-zone"),
        pytest.param("10.0.0.0/255.0.0.0", None, 0, id="netmask"),
    ],
)
def test_parse_cidr(text: str, network: str | None, warnings: int) -> None:
    parsed = parse_cidr(text)
    if network is None:
        assert parsed.network is None
        assert parsed.error is not None and "must be a valid CIDR value" in parsed.error
    else:
        assert parsed.network == ipaddress.ip_network(network)
        assert parsed.error is None
    assert len(parsed.warnings) == warnings


@pytest.mark.parametrize(
    ("cidr", "excepted", "valid"),
    [
        pytest.param("10.0.0.0/8", "10.1.0.0/16", True, id="inside"),
        pytest.param("10.0.0.0/8", "10.0.0.0/9", True, id="first-half"),
        pytest.param("10.0.0.0/8", "10.0.0.0/8", False, id="equal"),
        pytest.param("10.0.0.0/8", "11.0.0.0/16", False, id="outside"),
        pytest.param("10.0.0.0/16", "10.0.0.0/8", False, id="wider"),
        pytest.param("::/0", "10.0.0.0/8", False, id="other-family"),
    ],
)
def test_except_must_be_a_strict_subset(cidr: str, excepted: str, valid: bool) -> None:
    messages = check_except(ipaddress.ip_network(cidr), ipaddress.ip_network(excepted))
    assert (messages == []) is valid


# --- Whatever the input, a result and never a traceback ---------------------------

_FIELD_NAMES = [
    "name", "namespace", "labels", "annotations", "ownerReferences", "kind", "controller",
    "podSelector", "namespaceSelector", "ipBlock", "cidr", "except", "policyTypes", "ingress",
    "egress", "from", "to", "ports", "port", "endPort", "protocol", "matchLabels",
    "matchExpressions", "key", "operator", "values", "template", "jobTemplate", "spec",
    "metadata", "containers", "initContainers", "containerPort", "restartPolicy", "hostNetwork",
    "replicas", "parallelism", "app",
]  # fmt: skip
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-70000, 70000),
    st.floats(allow_nan=True),
    st.sampled_from(["", "In", "Always", "TCP", "http", "10.0.0.0/8", "::/0", "1:20", "8080"]),
    st.text(max_size=8),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(_FIELD_NAMES) | st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=25,
)
_KINDS = [
    ("networking.k8s.io/v1", "NetworkPolicy"), ("v1", "Namespace"), ("v1", "Pod"),
    ("apps/v1", "Deployment"), ("batch/v1", "CronJob"), ("batch/v1", "Job"), ("v1", "Service"),
]  # fmt: skip


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(kind=st.sampled_from(_KINDS), metadata=_VALUES, spec=_VALUES)
def test_any_shape_gives_problems_not_exceptions(
    kind: tuple[str, str], metadata: Any, spec: Any
) -> None:
    obj = {"apiVersion": kind[0], "kind": kind[1], "metadata": metadata, "spec": spec}
    upload = [raw(obj), raw(obj, document=1)]
    inventory = build_inventory(upload)
    for problem in inventory.problems:
        assert problem.file == "up.yaml" and problem.message
    again = build_inventory([raw(o) for o in sanitize(upload)])
    # Sanitising drops a policy's annotations, so an error in them goes with them.
    assert len(again.policies) >= len(inventory.policies)
    assert len(again.workloads) == len(inventory.workloads)
    assert len(again.namespaces) == len(inventory.namespaces)
