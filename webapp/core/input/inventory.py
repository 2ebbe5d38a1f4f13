"""Decoded objects into the evaluator's Inventory (the last input stage).

For each RawObject of `sources` (or of a stored input, `stored.restore`):
is it a kind and group version the analysis reads, then the kind's reader
(`policies`, `namespaces`, `workloads`) validates and defaults it as the API
server would before storing it. An object with an error is left out with
every one of its errors reported; the rest of the upload is still used.
Then what `kubectl apply` would leave in a cluster: of objects with the same
kind, namespace and name the later one wins, and pods already described by
an uploaded workload are counted once (CONTRACT §3). Hands an Inventory to
`webapp.core.evaluate`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from webapp.core.input.cluster_policies import read_cluster_policy, read_node
from webapp.core.input.fields import _At, _Report
from webapp.core.input.namespaces import NAMESPACE_API_VERSION, _read_namespace
from webapp.core.input.policies import POLICY_API_VERSION, _read_policy
from webapp.core.input.raw import RawObject
from webapp.core.input.workloads import WORKLOAD_API_VERSIONS, _Pods, _read_pods
from webapp.core.model import (
    ClusterNode,
    ClusterPolicy,
    Duplicate,
    Inventory,
    Labels,
    Namespace,
    Policy,
    Problem,
    Source,
    Workload,
)
from webapp.core.text import escape, shorten

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
    # Cluster-wide policies and Nodes: webapp.core.input.cluster_policies.
    "ClusterNetworkPolicy": "policy.networking.k8s.io/v1alpha2",
    "AdminNetworkPolicy": "policy.networking.k8s.io/v1alpha1",
    "BaselineAdminNetworkPolicy": "policy.networking.k8s.io/v1alpha1",
    "Node": "v1",
}
"""The group version that serves each kind the analysis reads today."""
_CLUSTER_KINDS = frozenset(
    {"ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "Node"}
)

HOST_NETWORK_WARNING = (
    "hostNetwork pods are not selected by NetworkPolicies; their traffic comes from "
    "the node's address"
)
_TEMPLATE_HASH_LABEL = "pod-template-hash"


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
