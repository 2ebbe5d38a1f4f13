"""Validation and normalisation: decoded objects in, the evaluator's Inventory out.

Does for each uploaded object what the API server does before storing it:
strict decoding as `kubectl apply` asks for it (an unknown field or a wrong
type is an error, since ignoring `form:` would turn a rule into "allow all"),
validation (k8s.io/kubernetes/pkg/apis/networking/validation
ValidateNetworkPolicySpec, apimachinery ValidateObjectMeta and
ValidateLabelSelector), and defaulting (pkg/apis/networking/v1/defaults.go:
protocol TCP, policyTypes; namespace `default`; the Namespace name label).
An object with an error is left out with every one of its errors reported;
the rest of the upload is still used.

Pods and workloads are read only as far as the analysis needs them (names,
labels, container ports, hostNetwork, replicas), and pods already described
by an uploaded workload are counted once (CONTRACT §3).

Reference: https://kubernetes.io/docs/concepts/services-networking/network-policies/
and https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from webapp.core.model import (
    NAME_LABEL,
    AnyPeer,
    ClusterNode,
    ClusterPolicy,
    ContainerPort,
    Direction,
    Duplicate,
    Inventory,
    IPBlockPeer,
    IPNetwork,
    Labels,
    Namespace,
    Peer,
    PodPeer,
    Policy,
    PortSpec,
    Problem,
    Protocol,
    Rule,
    Severity,
    Source,
    Workload,
    labels_of,
)
from webapp.core.raw import PosDict, PosList, RawObject
from webapp.core.selectors import Operator, Requirement, Selector
from webapp.core.text import escape, shorten
from webapp.core.validation import (
    annotations_size,
    check_annotation_key,
    check_annotations_size,
    check_dns1123_label,
    check_dns1123_subdomain,
    check_except,
    check_label_value,
    check_port_name,
    check_port_number,
    check_qualified_name,
    parse_cidr,
)

POLICY_API_VERSION = "networking.k8s.io/v1"
NAMESPACE_API_VERSION = "v1"
WORKLOAD_API_VERSIONS: dict[str, frozenset[str]] = {
    "Pod": frozenset({"v1"}),
    "ReplicationController": frozenset({"v1"}),
    # Older group versions have the same pod template; exports from old clusters carry them.
    "Deployment": frozenset({"apps/v1", "apps/v1beta1", "apps/v1beta2", "extensions/v1beta1"}),
    "StatefulSet": frozenset({"apps/v1", "apps/v1beta1", "apps/v1beta2"}),
    "DaemonSet": frozenset({"apps/v1", "apps/v1beta2", "extensions/v1beta1"}),
    "ReplicaSet": frozenset({"apps/v1", "apps/v1beta2", "extensions/v1beta1"}),
    "Job": frozenset({"batch/v1"}),
    "CronJob": frozenset({"batch/v1", "batch/v1beta1", "batch/v2alpha1"}),
}
TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": (),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
"""Where each kind keeps its pod template (the object itself for a Pod)."""
SERVED_API_VERSIONS: dict[str, str] = {
    "NetworkPolicy": POLICY_API_VERSION,
    "Namespace": NAMESPACE_API_VERSION,
    "Pod": "v1",
    "ReplicationController": "v1",
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    # Cluster-wide policies and Nodes: webapp.core.clusterpolicy_input.
    "ClusterNetworkPolicy": "policy.networking.k8s.io/v1alpha2",
    "AdminNetworkPolicy": "policy.networking.k8s.io/v1alpha1",
    "BaselineAdminNetworkPolicy": "policy.networking.k8s.io/v1alpha1",
    "Node": "v1",
}
"""The group version that serves each kind the analysis reads today."""
POD_COUNT_FIELDS: dict[str, str] = {
    "Deployment": "replicas",
    "StatefulSet": "replicas",
    "ReplicaSet": "replicas",
    "ReplicationController": "replicas",
    "Job": "parallelism",
}
"""spec field giving the number of pods (default 1); other kinds count as 1."""
_CLUSTER_KINDS = frozenset(
    {"ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "Node"}
)

HOST_NETWORK_WARNING = (
    "hostNetwork pods are not selected by NetworkPolicies; their traffic comes from "
    "the node's address"
)
_TEMPLATE_HASH_LABEL = "pod-template-hash"
_PROTOCOLS = {str(p): p for p in Protocol}
_OPERATORS = {str(o): o for o in Operator}

# Fields of the NetworkPolicy schema, for strict decoding (unknown field = error).
_POLICY_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")
_OBJECT_META_FIELDS = (
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
)
_OWNER_REFERENCE_FIELDS = ("apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion")
_SPEC_FIELDS = ("podSelector", "policyTypes", "ingress", "egress")
_INGRESS_RULE_FIELDS = ("from", "ports")
_EGRESS_RULE_FIELDS = ("to", "ports")
_PEER_FIELDS = ("podSelector", "namespaceSelector", "ipBlock")
_IP_BLOCK_FIELDS = ("cidr", "except")
_PORT_FIELDS = ("protocol", "port", "endPort")
_SELECTOR_FIELDS = ("matchLabels", "matchExpressions")
_REQUIREMENT_FIELDS = ("key", "operator", "values")

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


# --- Where a field is, and the problems of one object -----------------------


class _At:
    """A field's place: its line now, its Kubernetes path when a problem needs it.

    The path (prefixed by the object's path in its List) is built only on
    demand, since almost every field read reports nothing.
    """

    __slots__ = ("key", "line", "parent", "style")

    def __init__(self, parent: _At | None, key: str, line: int, style: str = ".") -> None:
        self.parent = parent
        self.key = key
        self.line = line
        self.style = style

    @classmethod
    def root(cls, raw: RawObject) -> _At:
        return cls(None, raw.path, raw.line)

    @property
    def path(self) -> str:
        parts: list[str] = []
        at: _At | None = self
        while at is not None and at.parent is not None:
            # Keys come from the upload: no hidden characters in paths.
            key = at.key if at.key.isprintable() else escape(at.key)
            parts.append(f".{key}" if at.style == "." else f"[{key}]")
            at = at.parent
        path = "".join(reversed(parts))
        prefix = at.key if at is not None else ""
        return prefix + path if prefix else path.removeprefix(".")

    def field(self, parent: object, key: str) -> _At:
        line = parent.key_lines.get(key, self.line) if isinstance(parent, PosDict) else self.line
        return _At(self, key, line)

    def entry(self, parent: object, key: str) -> _At:
        """A map entry such as a label: `metadata.labels[app]`."""
        line = parent.key_lines.get(key, self.line) if isinstance(parent, PosDict) else self.line
        return _At(self, key, line, "[")

    def item(self, parent: object, index: int) -> _At:
        line = parent.line_of(index) if isinstance(parent, PosList) else self.line
        return _At(self, str(index), line, "[")


class _Report:
    """The problems of one object; any error leaves the object out."""

    def __init__(self, raw: RawObject, kind: str, name: str | None) -> None:
        self.raw = raw
        self.kind = kind
        self.name = name
        self.problems: list[Problem] = []
        self.failed = False

    def add(self, severity: Severity, at: _At, message: str) -> None:
        self.problems.append(
            Problem(
                severity,
                message,
                file=self.raw.file,
                document=self.raw.document,
                line=at.line,
                kind=self.kind or None,
                name=self.name,
                path=at.path or None,
            )
        )

    def error(self, at: _At, message: str) -> None:
        self.failed = True
        # After a question ("did you mean ...?") the outcome reads as a new sentence.
        joint = " " if message.endswith("?") else "; "
        self.add(Severity.ERROR, at, f"{message}{joint}{self.kind or 'object'} left out")

    def warning(self, at: _At, message: str) -> None:
        self.add(Severity.WARNING, at, message)

    def info(self, at: _At, message: str) -> None:
        self.add(Severity.INFO, at, message)


# --- Typed reading: strict decoding with readable messages ------------------


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {shorten(value)}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _quote_hint(value: object) -> str:
    """Why a scalar written without quotes is not a string, for the YAML traps."""
    if isinstance(value, bool):
        return "an unquoted yes/no/on/off/true/false is a boolean in YAML; quote the value"
    if isinstance(value, float):
        return f"YAML reads it as the number {value!r}; quote the value as written"
    return f'YAML reads it as a number; quote it: "{value}"'


def _not_a_string(what: str, value: object) -> str:
    """`what` is a field name ("protocol") or a plural ("label values")."""
    rule = f"{what} are strings" if what.endswith("s") else f"{what} must be a string"
    if isinstance(value, bool | int | float):
        return f"{rule}: {_quote_hint(value)}"
    return f"{rule}, got {_describe(value)}"


def _mapping(value: object, at: _At, report: _Report) -> dict[str, Any] | None:
    """A mapping, or None when absent or null (as Go decodes null into a struct or map)."""
    if value is None or isinstance(value, dict):
        return value
    report.error(at, f"expected a mapping, got {_describe(value)}")
    return None


def _list(value: object, at: _At, report: _Report) -> list[Any]:
    """A list; absent or null reads as empty, as Go decodes null into a slice."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    report.error(at, f"expected a list, got {_describe(value)}")
    return []


def _string(value: object, at: _At, report: _Report, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    report.error(at, _not_a_string(what, value))
    return None


def _integer(value: object, at: _At, report: _Report, what: str) -> int | None:
    """An integer; a float with no fraction counts, as YAML-to-JSON conversion makes it one."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        report.error(at, f"{what} must be a number, not the string {shorten(value)}; unquote it")
    else:
        report.error(at, f"{what} must be an integer, got {_describe(value)}")
    return None


def _boolean(value: object, at: _At, report: _Report, what: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    report.error(at, f"{what} must be true or false, got {_describe(value)}")
    return None


def _suggestion(key: str, allowed: Sequence[str], cutoff: float = 0.6) -> str | None:
    """The field of `allowed` that `key` most likely misspells (case ignored), if any."""
    by_lower = {name.lower(): name for name in allowed}
    close = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=cutoff)
    return by_lower[close[0]] if close else None


def _did_you_mean(key: str, field: str) -> str:
    return f"unknown field {shorten(key)}; did you mean {shorten(field)}?"


def _check_fields(
    mapping: Mapping[str, Any],
    allowed: Sequence[str],
    at: _At,
    report: _Report,
    hints: Mapping[str, str] | None = None,
) -> set[str]:
    """Strict decoding: every key must be a field of the schema, spelled exactly.

    Returns the absent fields that unknown keys look like misspellings of, so
    that callers do not also report those fields as missing.
    """
    meant: set[str] = set()
    for raw_key in mapping:
        key = str(raw_key)
        if key in allowed:
            continue
        key_at = at.field(mapping, key)
        if hints and key in hints:
            report.error(key_at, f"unknown field {shorten(key)}; {hints[key]}")
        elif (near := _suggestion(key, allowed)) is not None:
            report.error(key_at, _did_you_mean(key, near))
            if near not in mapping:
                meant.add(near)
        else:
            report.error(key_at, f"unknown field {shorten(key)}")
    return meant


# Real pod-spec fields that look like a misspelling of `containers`.
_POD_SPEC_CONTAINER_LISTS = frozenset({"initContainers", "ephemeralContainers"})


def _misspelled(
    mapping: Mapping[str, Any],
    field: str,
    at: _At,
    report: _Report,
    siblings: frozenset[str] = frozenset(),
) -> bool:
    """When the required `field` is absent, report a key that misspells it as an unknown field.

    For Pods and workloads, which are read only in part (not decoded
    strictly): the object is rejected either way, so only the message
    depends on it. Only a close match counts (a case slip, a letter missing
    or swapped); `siblings` are real fields that merely look alike.
    """
    if field in mapping:
        return False
    for raw_key in mapping:
        key = str(raw_key)
        if key not in siblings and _suggestion(key, [field], cutoff=0.85) == field:
            report.error(at.field(mapping, key), _did_you_mean(key, field))
            return True
    return False


def _errors(what: str, value: str, messages: list[str]) -> str:
    return f"invalid {what} {shorten(value)}: {'; '.join(messages)}"


# --- Labels and selectors ----------------------------------------------------


def _read_label_map(value: object, at: _At, report: _Report) -> dict[str, str]:
    """ValidateLabels: qualified-name keys, label values; both must be strings."""
    mapping = _mapping(value, at, report)
    if not mapping:
        return {}
    labels: dict[str, str] = {}
    for raw_key, raw_value in mapping.items():
        key = str(raw_key)
        entry_at = at.entry(mapping, key)
        if messages := check_qualified_name(key):
            report.error(entry_at, _errors("label key", key, messages))
        if raw_value is None:
            # Go decodes null into a map's string value as "".
            report.warning(entry_at, f'label {shorten(key)} has no value; read as ""')
            raw_value = ""
        if not isinstance(raw_value, str):
            report.error(entry_at, _not_a_string("label values", raw_value))
            continue
        if messages := check_label_value(raw_value):
            report.error(entry_at, _errors("label value", raw_value, messages))
        labels[key] = raw_value
    return labels


def _read_requirement(value: object, at: _At, report: _Report) -> Requirement | None:
    """ValidateLabelSelectorRequirement: operator, key, and values as the operator needs them."""
    mapping = _mapping(value, at, report) or {}
    misspelled = _check_fields(mapping, _REQUIREMENT_FIELDS, at, report)
    key_at = at.field(mapping, "key")
    key = _string(mapping.get("key"), key_at, report, "key") or ""
    if "key" not in misspelled and (messages := check_qualified_name(key)):
        report.error(key_at, _errors("label key", key, messages))
    values_at = at.field(mapping, "values")
    values: list[str] = []
    for i, item in enumerate(items := _list(mapping.get("values"), values_at, report)):
        item_at = values_at.item(items, i)
        if not isinstance(item, str):
            report.error(item_at, _not_a_string("values", item))
        elif messages := check_label_value(item):
            report.error(item_at, _errors("label value", item, messages))
        else:
            values.append(item)
    op_at = at.field(mapping, "operator")
    op_text = _string(mapping.get("operator"), op_at, report, "operator") or ""
    operator = _OPERATORS.get(op_text)
    if operator is None and "operator" in misspelled:
        return None
    if operator is None:
        near = _suggestion(op_text, list(_OPERATORS))
        hint = f" (did you mean '{near}'?)" if near else ""
        report.error(
            op_at,
            f"invalid operator {shorten(op_text)}: not a valid selector operator"
            f" (In, NotIn, Exists, DoesNotExist){hint}",
        )
        return None
    if operator in (Operator.IN, Operator.NOT_IN):
        if not items and "values" not in misspelled:
            report.error(values_at, f"values must be specified when `operator` is '{operator}'")
        return Requirement(key, operator, tuple(sorted(set(values))))
    if items:
        report.error(values_at, f"values may not be specified when `operator` is '{operator}'")
    return Requirement(key, operator)


def _read_selector(value: object, at: _At, report: _Report) -> Selector:
    """ValidateLabelSelector: matchLabels (each `k In (v)`) AND matchExpressions."""
    mapping = _mapping(value, at, report) or {}
    _check_fields(mapping, _SELECTOR_FIELDS, at, report)
    match_labels = _read_label_map(
        mapping.get("matchLabels"), at.field(mapping, "matchLabels"), report
    )
    exprs_at = at.field(mapping, "matchExpressions")
    exprs = _list(mapping.get("matchExpressions"), exprs_at, report)
    requirements = [
        _read_requirement(item, exprs_at.item(exprs, i), report) for i, item in enumerate(exprs)
    ]
    return Selector.of(match_labels, tuple(r for r in requirements if r is not None))


# --- Object metadata ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Meta:
    name: str
    namespace: str
    labels: dict[str, str]
    owner: tuple[str, str] | None


def _read_owner(value: object, at: _At, report: _Report, strict: bool) -> tuple[str, str] | None:
    """The controlling owner (kind, name): the reference with controller true, else the first."""
    refs = _list(value, at, report)
    owners: list[tuple[str, str, bool]] = []
    for i, item in enumerate(refs):
        item_at = at.item(refs, i)
        ref = _mapping(item, item_at, report) or {}
        if strict:
            misspelled = _check_fields(ref, _OWNER_REFERENCE_FIELDS, item_at, report)
        else:
            misspelled = {f for f in ("kind", "name") if _misspelled(ref, f, item_at, report)}
        kind = _string(ref.get("kind"), item_at.field(ref, "kind"), report, "kind")
        name = _string(ref.get("name"), item_at.field(ref, "name"), report, "name")
        controller = _boolean(
            ref.get("controller"), item_at.field(ref, "controller"), report, "controller"
        )
        # The analysis groups pods by owner kind and name; the API server also
        # requires apiVersion and uid, which exports always carry (the stored
        # input drops them).
        if not kind or not name:
            missing = [f for f, got in (("kind", kind), ("name", name)) if not got]
            if reported := [f for f in missing if f not in misspelled]:
                verb = "is" if len(reported) == 1 else "are"
                report.error(
                    item_at, f"{', '.join(reported)} {verb} required in an owner reference"
                )
            continue
        owners.append((kind, name, bool(controller)))
    for kind, name, controller in owners:
        if controller:
            return kind, name
    return (owners[0][0], owners[0][1]) if owners else None


def _check_meta_fields(meta: Mapping[str, Any], at: _At, report: _Report) -> None:
    """The ObjectMeta fields the analysis does not use still have to decode."""
    _check_fields(meta, _OBJECT_META_FIELDS, at, report)
    for key in ("generateName", "selfLink", "uid", "resourceVersion"):
        _string(meta.get(key), at.field(meta, key), report, key)
    for key in ("generation", "deletionGracePeriodSeconds"):
        _integer(meta.get(key), at.field(meta, key), report, key)
    finalizers_at = at.field(meta, "finalizers")
    finalizers = _list(meta.get("finalizers"), finalizers_at, report)
    for i, item in enumerate(finalizers):
        _string(item, finalizers_at.item(finalizers, i), report, "finalizers")
    _list(meta.get("managedFields"), at.field(meta, "managedFields"), report)


def _read_annotations(value: object, at: _At, report: _Report, extra_bytes: int = 0) -> None:
    """ValidateAnnotations: string values, qualified-name keys (any case), 256 KiB in all.

    `extra_bytes` are annotations the loader did not keep but the API server counts.
    """
    mapping = _mapping(value, at, report)
    if not mapping and not extra_bytes:
        return
    annotations: dict[str, str] = {}
    for raw_key, raw_value in (mapping or {}).items():
        key = str(raw_key)
        entry_at = at.entry(mapping, key)
        if messages := check_annotation_key(key):
            report.error(entry_at, _errors("annotation key", key, messages))
        text = _string(raw_value, entry_at, report, "annotation values")
        annotations[key] = text or ""
    if messages := check_annotations_size(annotations, extra_bytes):
        total = annotations_size(annotations, extra_bytes)
        report.error(at, f"{'; '.join(messages)} (these annotations take {total} bytes)")


def _dropped_bytes(raw: RawObject) -> int:
    """Bytes of annotations the loader read but did not keep (last-applied-configuration)."""
    dropped = getattr(raw, "dropped_annotation_bytes", 0)
    return dropped if isinstance(dropped, int) else 0


def _read_meta(
    body: Mapping[str, Any],
    root: _At,
    report: _Report,
    *,
    check_name: Callable[[str], list[str]],
    namespaced: bool = True,
    strict: bool = False,
) -> _Meta:
    """ValidateObjectMeta for the fields the analysis uses (name, namespace, labels,
    owner) and for annotations, which the API server limits."""
    meta_at = root.field(body, "metadata")
    meta = _mapping(body.get("metadata"), meta_at, report) or {}
    if strict:
        _check_meta_fields(meta, meta_at, report)
    _read_annotations(
        meta.get("annotations"),
        meta_at.field(meta, "annotations"),
        report,
        _dropped_bytes(report.raw),
    )
    name_at = meta_at.field(meta, "name")
    name = _string(meta.get("name"), name_at, report, "name")
    if meta.get("name") is None or name == "":
        report.error(name_at, "metadata.name is required")
    elif name and (messages := check_name(name)):
        report.error(name_at, _errors("name", name, messages))
    namespace = "default"
    ns_at = meta_at.field(meta, "namespace")
    # Cluster-scoped objects (Namespaces) ignore metadata.namespace, as the API server does.
    ns_value = _string(meta.get("namespace"), ns_at, report, "namespace") if namespaced else None
    if ns_value:
        if messages := check_dns1123_label(ns_value):
            report.error(ns_at, _errors("namespace", ns_value, messages))
        namespace = ns_value
    labels = _read_label_map(meta.get("labels"), meta_at.field(meta, "labels"), report)
    owner = _read_owner(
        meta.get("ownerReferences"), meta_at.field(meta, "ownerReferences"), report, strict
    )
    return _Meta(name or "", namespace if namespaced else "", labels, owner)


# --- NetworkPolicy -----------------------------------------------------------


def _read_protocol(value: object, at: _At, report: _Report) -> Protocol:
    """TCP, UDP or SCTP, spelled exactly; absent means TCP (SetDefaults_NetworkPolicyPort)."""
    text = _string(value, at, report, "protocol")
    if text is None:
        return Protocol.TCP
    if (protocol := _PROTOCOLS.get(text)) is not None:
        return protocol
    hint = f" (did you mean '{text.upper()}'?)" if text.upper() in _PROTOCOLS else ""
    report.error(at, f"unsupported protocol {shorten(text)}: use TCP, UDP or SCTP{hint}")
    return Protocol.TCP


def _read_port(value: object, at: _At, report: _Report) -> PortSpec:
    """ValidateNetworkPolicyPort, with protocol defaulted to TCP (`{}` is every TCP port)."""
    mapping = _mapping(value, at, report) or {}
    misspelled = _check_fields(mapping, _PORT_FIELDS, at, report)
    protocol = _read_protocol(mapping.get("protocol"), at.field(mapping, "protocol"), report)
    raw_port = mapping.get("port")
    port = _read_port_value(raw_port, at.field(mapping, "port"), report)
    end_at = at.field(mapping, "endPort")
    end_port = _integer(mapping.get("endPort"), end_at, report, "endPort")
    if end_port is not None:
        if raw_port is None and "port" not in misspelled:
            report.error(end_at, "endPort requires a numeric port; port is not specified")
        elif isinstance(raw_port, str):
            report.error(
                end_at, f"endPort requires a numeric port, not the port name {shorten(raw_port)}"
            )
        elif isinstance(port, int) and end_port < port:
            report.error(end_at, f"endPort {end_port} must be greater than or equal to port {port}")
        if messages := check_port_number(end_port):
            report.error(end_at, f"invalid endPort {end_port}: {'; '.join(messages)}")
    return PortSpec(protocol, port, end_port)


def _read_port_value(value: object, at: _At, report: _Report) -> int | str | None:
    """An IntOrString: a number is a port number, a string a port name (IANA_SVC_NAME)."""
    if value is None:
        return None
    if isinstance(value, str):
        if not (messages := check_port_name(value)):
            return value
        if value.isascii() and value.isdigit():
            report.error(
                at,
                f"{shorten(value)} is a string, so it is read as a port name, and port names "
                f"need a letter; write {value} without quotes for a port number",
            )
        elif value.count(":") == 1 and all(p.isascii() and p.isdigit() for p in value.split(":")):
            first, last = value.split(":")
            report.error(
                at,
                f"invalid port name {shorten(value)}: a port range is written "
                f"port: {first} with endPort: {last}",
            )
        else:
            report.error(at, _errors("port name", value, messages))
        return None
    number = _integer(value, at, report, "port")
    if number is not None and (messages := check_port_number(number)):
        report.error(at, f"invalid port {number}: {'; '.join(messages)}")
        return None
    return number


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


def _read_cidr(text: str, at: _At, report: _Report) -> IPNetwork | None:
    parsed = parse_cidr(text)
    if parsed.error:
        report.error(at, f"invalid CIDR {shorten(text)}: {parsed.error}")
    for warning in parsed.warnings:
        report.warning(at, f"CIDR {shorten(text)}: {warning}")
    return parsed.network


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


# --- Namespaces, Pods and workloads -----------------------------------------


def _read_namespace(raw: RawObject, report: _Report) -> Namespace | None:
    """A Namespace, labelled with its name as the API server labels it."""
    root = _At.root(raw)
    meta = _read_meta(raw.body, root, report, check_name=check_dns1123_label, namespaced=False)
    labels = dict(meta.labels)
    written = labels.get(NAME_LABEL)
    if written is not None and written != meta.name:
        meta_value = raw.body.get("metadata")
        labels_value = meta_value.get("labels") if isinstance(meta_value, dict) else None
        labels_at = root.field(raw.body, "metadata").field(meta_value, "labels")
        report.warning(
            labels_at.entry(labels_value, NAME_LABEL),
            f"label {NAME_LABEL} is set by the API server to the namespace name; "
            f"{shorten(written)} replaced by {shorten(meta.name)}",
        )
    labels[NAME_LABEL] = meta.name
    if report.failed:
        return None
    return Namespace(meta.name, labels_of(labels), Source(raw.file, raw.document, raw.line))


@dataclass(frozen=True, slots=True)
class _Pods:
    """A Pod or a workload's pod template, read."""

    labels: Labels
    ports: tuple[ContainerPort, ...]
    pods: int
    host_network: bool
    host_network_at: _At
    owner: tuple[str, str] | None


def _read_container_ports(value: object, at: _At, report: _Report) -> list[ContainerPort]:
    """validateContainerPorts: containerPort 1-65535, name IANA_SVC_NAME and unique, protocol."""
    items = _list(value, at, report)
    ports: list[ContainerPort] = []
    names: set[str] = set()
    for i, item in enumerate(items):
        item_at = at.item(items, i)
        port = _mapping(item, item_at, report) or {}
        number_at = item_at.field(port, "containerPort")
        number = _integer(port.get("containerPort"), number_at, report, "containerPort")
        if number is None:
            if port.get("containerPort") is None and not _misspelled(
                port, "containerPort", item_at, report
            ):
                report.error(number_at, "containerPort is required")
        elif messages := check_port_number(number):
            report.error(number_at, f"invalid containerPort {number}: {'; '.join(messages)}")
        name_at = item_at.field(port, "name")
        name = _string(port.get("name"), name_at, report, "port name") or None
        if name is not None:
            if messages := check_port_name(name):
                report.error(name_at, _errors("port name", name, messages))
            elif name in names:
                report.error(name_at, f"duplicate port name {shorten(name)}")
            names.add(name)
        protocol = _read_protocol(port.get("protocol"), item_at.field(port, "protocol"), report)
        if number is not None:
            ports.append(ContainerPort(name, number, protocol))
    return ports


def _read_pod_spec(
    value: object, at: _At, report: _Report
) -> tuple[list[ContainerPort], bool, _At]:
    """Container ports (of containers and of restartable init containers) and hostNetwork.

    ValidatePodSpec: `containers` is required and must not be empty.
    """
    spec = _mapping(value, at, report) or {}
    ports: list[ContainerPort] = []
    for key in ("containers", "initContainers"):
        list_at = at.field(spec, key)
        containers = _list(spec.get(key), list_at, report)
        if (
            key == "containers"
            and spec.get(key) in (None, [])
            and not _misspelled(spec, key, at, report, _POD_SPEC_CONTAINER_LISTS)
        ):
            report.error(list_at, "containers is required: a pod needs at least one container")
        for i, item in enumerate(containers):
            item_at = list_at.item(containers, i)
            container = _mapping(item, item_at, report) or {}
            # Init containers with restartPolicy Always are sidecars: they keep serving.
            if key == "initContainers" and container.get("restartPolicy") != "Always":
                continue
            ports += _read_container_ports(
                container.get("ports"), item_at.field(container, "ports"), report
            )
    host_at = at.field(spec, "hostNetwork")
    host_network = _boolean(spec.get("hostNetwork"), host_at, report, "hostNetwork")
    return ports, bool(host_network), host_at


# Group versions whose defaults copy the template's labels into a missing
# spec.selector (extensions/v1beta1 and apps/v1beta1 defaults.go); apps/v1 and
# apps/v1beta2 require it.
_SELECTOR_DEFAULTED_VERSIONS = frozenset({"extensions/v1beta1", "apps/v1beta1"})


def _check_selector(
    kind: str,
    version: str,
    spec: Mapping[str, Any],
    spec_at: _At,
    labels: Mapping[str, str],
    labels_at: _At,
    report: _Report,
) -> None:
    """A controller selects its own pods: spec.selector must match the template labels.

    ValidateDeploymentSpec, ValidateReplicaSetSpec, ValidateStatefulSetSpec and
    ValidateDaemonSetSpec (a selector is required and not empty),
    ValidateReplicationControllerSpec (a missing selector defaults to the
    template labels), ValidateJobSpec (the selector is generated unless
    manualSelector is true) and ValidateJobTemplateSpec (a CronJob's job
    selector is always generated, so none may be written).
    """
    selector_at = spec_at.field(spec, "selector")
    value = spec.get("selector")
    if value is not None and _mapping(value, selector_at, report) is None:
        return  # not a mapping: reported
    if kind == "CronJob":
        if value is not None:
            report.error(
                selector_at, "`selector` will be auto-generated for the CronJob's jobs; remove it"
            )
        return
    if kind == "ReplicationController":
        written = _read_label_map(value, selector_at, report)
        if not written and not labels:
            report.error(selector_at, "spec.selector is required (or template labels to copy)")
            return
        selector = Selector.of(written or labels)
    elif kind == "Job":
        manual_at = spec_at.field(spec, "manualSelector")
        manual = _boolean(spec.get("manualSelector"), manual_at, report, "manualSelector")
        if value is None:
            if manual:
                report.error(selector_at, "spec.selector is required when manualSelector is true")
            return
        selector = _read_selector(value, selector_at, report)
    else:
        if value is None:
            if version in _SELECTOR_DEFAULTED_VERSIONS and labels:
                return  # defaulted to the template labels, which it then matches
            if not _misspelled(spec, "selector", spec_at, report):
                report.error(selector_at, f"spec.selector is required for {version} {kind}")
            return
        selector = _read_selector(value, selector_at, report)
        if selector.is_empty:
            report.error(
                selector_at,
                f"empty selector is invalid for {kind.lower()}; "
                "write the template's labels under matchLabels",
            )
            return
    if unmet := [str(r) for r in selector.requirements if not r.matches(labels)]:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "none"
        report.error(
            labels_at,
            "`selector` does not match template `labels`: spec.selector requires "
            f"{shorten(', '.join(unmet))}, the template labels are {shorten(shown)}",
        )


def _read_pods(raw: RawObject, kind: str, report: _Report) -> tuple[_Meta, _Pods | None]:
    root = _At.root(raw)
    meta = _read_meta(raw.body, root, report, check_name=check_dns1123_subdomain)
    template: object = raw.body
    template_at = root
    parent: object = raw.body
    parent_at = root
    steps = TEMPLATE_PATHS[kind]
    for depth, key in enumerate(steps):
        parent, parent_at = template, template_at
        template_at = parent_at.field(parent, key)
        template = (
            _mapping(parent.get(key), template_at, report) if isinstance(parent, dict) else None
        )
        if template is None:
            if (
                isinstance(parent, dict)
                and parent.get(key) is None
                and not _misspelled(parent, key, parent_at, report)
            ):
                report.error(template_at, f"{'.'.join(steps[: depth + 1])} is required")
            return meta, None
    assert isinstance(template, dict)
    if kind == "Pod":
        labels = meta.labels
    else:
        tmeta_at = template_at.field(template, "metadata")
        tmeta = _mapping(template.get("metadata"), tmeta_at, report) or {}
        _read_annotations(tmeta.get("annotations"), tmeta_at.field(tmeta, "annotations"), report)
        labels_at = tmeta_at.field(tmeta, "labels")
        labels = _read_label_map(tmeta.get("labels"), labels_at, report)
        assert isinstance(parent, dict)
        _check_selector(kind, raw.api_version, parent, parent_at, labels, labels_at, report)
    ports, host_network, host_at = _read_pod_spec(
        template.get("spec"), template_at.field(template, "spec"), report
    )
    pods = 1
    if kind in POD_COUNT_FIELDS:
        spec = raw.body.get("spec")
        count_key = POD_COUNT_FIELDS[kind]
        count_at = root.field(raw.body, "spec").field(spec, count_key)
        count = (
            _integer(spec.get(count_key), count_at, report, count_key)
            if isinstance(spec, dict)
            else None
        )
        if count is not None and count < 0:
            report.error(count_at, f"{count_key} must be greater than or equal to 0")
        elif count is not None:
            pods = count
    if report.failed:
        return meta, None
    return meta, _Pods(labels_of(labels), tuple(ports), pods, host_network, host_at, meta.owner)


# --- The upload --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    """A valid object, in upload order, waiting for duplicates and ownership to be settled."""

    order: int
    raw: RawObject
    kind: str
    namespace: str
    name: str
    name_at: _At
    value: Policy | Namespace | _Pods | ClusterPolicy | ClusterNode


def _name_of(body: Mapping[str, Any]) -> str | None:
    meta = body.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else None


def _is_kubernetes_group(version: str) -> bool:
    """Whether a group version belongs to Kubernetes itself: the core group, a group
    without dots (apps, batch, extensions) or one under k8s.io."""
    group = version.rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


def _check_api_version(kind: str, version: str, root: _At, report: _Report) -> bool:
    """Whether the object is read: a kind the analysis uses, in a group version that serves it.

    A Kubernetes group version that has no such kind (`v1` NetworkPolicy) is
    an error naming the one that has; a removed one (extensions/v1beta1) that
    had it is read as it was served, with a warning; any other group (Calico's
    NetworkPolicy, an OpenShift Deployment) is another kind, skipped.
    """
    served = SERVED_API_VERSIONS.get(kind)
    if version == served:
        return True
    at = root.field(report.raw.body, "apiVersion")
    shown = escape(version[:60])
    if served is not None and version in WORKLOAD_API_VERSIONS.get(kind, ()):
        report.warning(
            at, f"apiVersion {shown} is no longer served for {kind}; use {served} (read as written)"
        )
        return True
    if kind == "NetworkPolicy" and version == "extensions/v1beta1":
        report.info(
            at,
            f"apiVersion {shown} is no longer served for NetworkPolicy; use {served}; skipped",
        )
    elif served is not None and _is_kubernetes_group(version):
        report.error(at, f"apiVersion {shown} has no kind {kind}; use {served}")
    elif kind == "NetworkPolicy":
        report.info(root, f"{shown} NetworkPolicy is not a Kubernetes NetworkPolicy; skipped")
    else:
        report.info(root, f"{escape(kind[:60])} ({shown}) is not used by the analysis; skipped")
    return False


def _read_object(raw: RawObject, order: int) -> tuple[_Entry | None, list[Problem]]:
    """Validate one object: an entry when it is used and valid, and its problems."""
    kind, version = raw.kind, raw.api_version
    report = _Report(raw, kind, _name_of(raw.body))
    root = _At.root(raw)
    if not kind:
        report.error(root.field(raw.body, "kind"), "kind is missing or not a string")
        return None, report.problems
    if not version:
        report.error(root.field(raw.body, "apiVersion"), "apiVersion is missing or not a string")
        return None, report.problems
    if not _check_api_version(kind, version, root, report):
        return None, report.problems
    value: Policy | Namespace | _Pods | ClusterPolicy | ClusterNode | None
    if kind in _CLUSTER_KINDS:
        from webapp.core.clusterpolicy_input import read_cluster_policy, read_node

        value = read_cluster_policy(raw, report) if kind != "Node" else read_node(raw, report)
        namespace = ""
    elif kind == "NetworkPolicy":
        value = _read_policy(raw, report)
        namespace = value.namespace if value else ""
    elif kind == "Namespace":
        value = _read_namespace(raw, report)
        namespace = ""
    else:
        meta, value = _read_pods(raw, kind, report)
        namespace = meta.namespace
    if value is None:
        return None, report.problems
    name = value.name if not isinstance(value, _Pods) else report.name or ""
    meta_at = root.field(raw.body, "metadata")
    name_at = meta_at.field(raw.body.get("metadata"), "name")
    return _Entry(order, raw, kind, namespace, name, name_at, value), report.problems


def _latest(
    entries: list[_Entry],
) -> tuple[list[_Entry], list[tuple[int, Problem]], list[Duplicate]]:
    """Same kind, namespace and name: the later object wins, as `kubectl apply` leaves it."""
    latest: dict[tuple[str, str, str], _Entry] = {}
    problems: list[tuple[int, Problem]] = []
    duplicates: list[Duplicate] = []
    for entry in entries:
        key = (entry.kind, entry.namespace, entry.name)
        earlier = latest.get(key)
        latest[key] = entry
        if earlier is not None:
            report = _Report(entry.raw, entry.kind, entry.name)
            where = f"{earlier.raw.file}:{earlier.raw.line}"
            if earlier.raw.path:
                where += f" ({earlier.raw.path})"
            message = (
                f"{entry.kind} {shorten(_qualified(entry))} is also defined at {where}; "
                "the later definition is used"
            )
            report.warning(entry.name_at, message)
            problems += [(entry.order, p) for p in report.problems]
            kept = Source(entry.raw.file, entry.raw.document, entry.name_at.line)
            dropped = Source(earlier.raw.file, earlier.raw.document, earlier.raw.line)
            duplicates.append(
                Duplicate(entry.kind, entry.namespace, entry.name, kept, dropped, message)
            )
    return sorted(latest.values(), key=lambda e: e.order), problems, duplicates


def _by_name(node: ClusterNode) -> str:
    return node.name


def _qualified(entry: _Entry) -> str:
    return f"{entry.namespace}/{entry.name}" if entry.namespace else entry.name


def _template_workload(entry: _Entry, pods: _Pods) -> Workload:
    return Workload(
        kind=entry.kind,
        namespace=entry.namespace,
        name=entry.name,
        labels=pods.labels,
        ports=pods.ports,
        pods=pods.pods,
        host_network=pods.host_network,
        source=Source(entry.raw.file, entry.raw.document, entry.raw.line),
    )


def _deployment_of(owner: tuple[str, str], labels: Labels) -> tuple[str, str]:
    """A ReplicaSet named `<deployment>-<pod-template-hash>` stands for its Deployment."""
    kind, name = owner
    template_hash = dict(labels).get(_TEMPLATE_HASH_LABEL)
    if kind == "ReplicaSet" and template_hash and name.endswith(f"-{template_hash}"):
        return "Deployment", name[: -len(template_hash) - 1]
    return owner


def _workloads(entries: list[_Entry]) -> list[tuple[_Entry, Workload]]:
    """One Workload per pod template, counting each pod once (CONTRACT §3).

    Objects whose controller was uploaded are described by it and left out (a
    ReplicaSet of an uploaded Deployment, the pods of either). Pods whose
    owner was not uploaded are grouped by owner, labels and ports.
    """
    uploaded = {
        (e.namespace, e.kind, e.name)
        for e in entries
        if e.kind != "Pod" and isinstance(e.value, _Pods)
    }

    def described(entry: _Entry, owner: tuple[str, str] | None) -> bool:
        return owner is not None and (entry.namespace, *owner) in uploaded

    out: list[tuple[_Entry, Workload]] = []
    groups: dict[tuple[object, ...], list[_Entry]] = {}
    for entry in entries:
        pods = entry.value
        if not isinstance(pods, _Pods) or described(entry, pods.owner):
            continue
        if entry.kind != "Pod":
            out.append((entry, _template_workload(entry, pods)))
        elif pods.owner is None or pods.owner[0] == "Node":
            # No owner, or a static (mirror) pod of a node: a workload of its own.
            out.append((entry, _template_workload(entry, pods)))
        else:
            owner = _deployment_of(pods.owner, pods.labels)
            if described(entry, owner):
                continue
            key = (entry.namespace, *owner, pods.labels, pods.ports, pods.host_network)
            groups.setdefault(key, []).append(entry)
    for members in groups.values():
        first = members[0]
        pods = first.value
        assert isinstance(pods, _Pods) and pods.owner is not None
        kind, name = _deployment_of(pods.owner, pods.labels)
        workload = Workload(
            kind=kind,
            namespace=first.namespace,
            name=name,
            labels=pods.labels,
            ports=pods.ports,
            pods=len(members),
            host_network=pods.host_network,
            source=Source(first.raw.file, first.raw.document, first.raw.line),
        )
        out.append((first, workload))
    return out


def build_inventory(objects: Sequence[RawObject]) -> Inventory:
    """Validate, default and de-duplicate an upload's objects into the evaluator's input.

    Namespaces, workloads and policies are sorted by namespace, kind and
    name; problems follow the upload order of the objects they concern.
    """
    problems: list[tuple[int, Problem]] = []
    entries: list[_Entry] = []
    for order, raw in enumerate(objects):
        entry, found = _read_object(raw, order)
        problems += [(order, p) for p in found]
        if entry is not None:
            entries.append(entry)
    entries, replaced, duplicates = _latest(entries)
    problems += replaced

    policies = sorted(
        (e.value for e in entries if isinstance(e.value, Policy)),
        key=lambda p: (p.namespace, p.name),
    )
    namespaces = sorted(
        (e.value for e in entries if isinstance(e.value, Namespace)), key=lambda n: n.name
    )
    workloads = sorted(
        _workloads(entries), key=lambda ew: (ew[1].namespace, ew[1].kind, ew[1].name, ew[0].order)
    )
    for entry, workload in workloads:
        if workload.host_network and isinstance(entry.value, _Pods):
            report = _Report(entry.raw, entry.kind, entry.name)
            report.warning(
                entry.value.host_network_at,
                f"{HOST_NETWORK_WARNING}; kept, but no policy applies to its pods",
            )
            problems += [(entry.order, p) for p in report.problems]

    problems.sort(key=lambda op: op[0])
    return Inventory(
        cluster_policies=tuple(e.value for e in entries if isinstance(e.value, ClusterPolicy)),
        cluster_nodes=tuple(
            sorted((e.value for e in entries if isinstance(e.value, ClusterNode)), key=_by_name)
        ),
        namespaces=tuple(namespaces),
        workloads=tuple(w for _, w in workloads),
        policies=tuple(policies),
        problems=tuple(p for _, p in problems),
        duplicates=tuple(duplicates),
    )
