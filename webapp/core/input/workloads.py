"""Pods and workloads into their pod templates (`_Pods`): labels, ports, hostNetwork, count.

Pods and the controllers that make them (Deployment, StatefulSet, DaemonSet,
ReplicaSet, ReplicationController, Job, CronJob) are read only as far as the
analysis needs them: the template's labels and annotations, container ports
(validateContainerPorts), hostNetwork, the number of pods, the owner, and
that the controller's selector matches its template labels, as the API
server validates it. Hands `_Pods` to `inventory`, which counts each pod
once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from webapp.core.input.fields import (
    _At,
    _boolean,
    _errors,
    _integer,
    _list,
    _mapping,
    _misspelled,
    _read_label_map,
    _read_protocol,
    _read_selector,
    _Report,
    _string,
)
from webapp.core.input.metadata import _Meta, _read_annotations, _read_meta
from webapp.core.input.raw import RawObject
from webapp.core.input.validation import check_dns1123_subdomain, check_port_name, check_port_number
from webapp.core.model import ContainerPort, Labels, labels_of
from webapp.core.selectors import Selector
from webapp.core.text import shorten

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
POD_COUNT_FIELDS: dict[str, str] = {
    "Deployment": "replicas",
    "StatefulSet": "replicas",
    "ReplicaSet": "replicas",
    "ReplicationController": "replicas",
    "Job": "parallelism",
}
"""spec field giving the number of pods (default 1); other kinds count as 1."""


# Real pod-spec fields that look like a misspelling of `containers`.
_POD_SPEC_CONTAINER_LISTS = frozenset({"initContainers", "ephemeralContainers"})


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
    """A controller selects its own pods: spec.selector must match the template labels."""
    selector = _controller_selector(kind, version, spec, spec_at, labels, report)
    if selector is None:
        return
    if unmet := [str(r) for r in selector.requirements if not r.matches(labels)]:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "none"
        report.error(
            labels_at,
            "`selector` does not match template `labels`: spec.selector requires "
            f"{shorten(', '.join(unmet))}, the template labels are {shorten(shown)}",
        )


def _controller_selector(
    kind: str,
    version: str,
    spec: Mapping[str, Any],
    spec_at: _At,
    labels: Mapping[str, str],
    report: _Report,
) -> Selector | None:
    """spec.selector as validated and defaulted; None when there is none to match (or it is wrong).

    ValidateReplicationControllerSpec (a missing selector defaults to the
    template labels), ValidateJobSpec (the selector is generated unless
    manualSelector is true) and ValidateJobTemplateSpec (a CronJob's job
    selector is always generated, so none may be written); the other
    controllers in _required_selector.
    """
    selector_at = spec_at.field(spec, "selector")
    value = spec.get("selector")
    if value is not None and _mapping(value, selector_at, report) is None:
        return None  # not a mapping: reported
    if kind == "CronJob":
        if value is not None:
            report.error(
                selector_at, "`selector` will be auto-generated for the CronJob's jobs; remove it"
            )
        return None
    if kind == "ReplicationController":
        written = _read_label_map(value, selector_at, report)
        if not written and not labels:
            report.error(selector_at, "spec.selector is required (or template labels to copy)")
            return None
        return Selector.of(written or labels)
    if kind == "Job":
        manual_at = spec_at.field(spec, "manualSelector")
        manual = _boolean(spec.get("manualSelector"), manual_at, report, "manualSelector")
        if value is None:
            if manual:
                report.error(selector_at, "spec.selector is required when manualSelector is true")
            return None
        return _read_selector(value, selector_at, report)
    return _required_selector(kind, version, spec, spec_at, labels, report)


def _required_selector(
    kind: str,
    version: str,
    spec: Mapping[str, Any],
    spec_at: _At,
    labels: Mapping[str, str],
    report: _Report,
) -> Selector | None:
    """ValidateDeploymentSpec, ValidateReplicaSetSpec, ValidateStatefulSetSpec and
    ValidateDaemonSetSpec: a selector is required and not empty."""
    selector_at = spec_at.field(spec, "selector")
    value = spec.get("selector")
    if value is None:
        if version in _SELECTOR_DEFAULTED_VERSIONS and labels:
            return None  # defaulted to the template labels, which it then matches
        if not _misspelled(spec, "selector", spec_at, report):
            report.error(selector_at, f"spec.selector is required for {version} {kind}")
        return None
    selector = _read_selector(value, selector_at, report)
    if selector.is_empty:
        report.error(
            selector_at,
            f"empty selector is invalid for {kind.lower()}; "
            "write the template's labels under matchLabels",
        )
        return None
    return selector


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
