"""Normalisation: defaults, peer structure, ownership, duplicates, skipped kinds, sanitising."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest
from rawbuild import raw

from webapp.core.input.inventory import build_inventory
from webapp.core.input.raw import SourceText
from webapp.core.input.sanitize import sanitize
from webapp.core.input.sources import load_sources
from webapp.core.model import (
    NAME_LABEL,
    AnyPeer,
    ContainerPort,
    Direction,
    Inventory,
    IPBlockPeer,
    PodPeer,
    Policy,
    PortSpec,
    Protocol,
    Severity,
    Source,
    Workload,
)
from webapp.core.selectors import Operator, Requirement, Selector

# --- Builders ----------------------------------------------------------------------


def inventory(*objects: dict[str, Any], file: str = "up.yaml") -> Inventory:
    return build_inventory([raw(o, file=file, document=i) for i, o in enumerate(objects)])


def policy(
    spec: dict[str, Any], name: str = "np", namespace: str | None = "prod"
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata,
        "spec": {"podSelector": {}, **spec},
    }


def only_policy(spec: dict[str, Any]) -> Policy:
    (result,) = inventory(policy(spec)).policies
    return result


def meta(
    name: str, namespace: str = "prod", owner: tuple[str, str] | None = None, **labels: str
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = dict(labels)
    if owner:
        metadata["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": owner[0],
                "name": owner[1],
                "uid": "u",
                "controller": True,
            }
        ]
    return metadata


def pod_spec(*ports: int | tuple[str, int], **fields: Any) -> dict[str, Any]:
    entries = [
        {"name": p[0], "containerPort": p[1]} if isinstance(p, tuple) else {"containerPort": p}
        for p in ports
    ]
    return {"containers": [{"name": "main", "image": "example", "ports": entries}], **fields}


def pod(
    name: str,
    owner: tuple[str, str] | None = None,
    ports: tuple[int, ...] = (80,),
    labels: dict[str, str] | None = None,
    **more_labels: str,
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta(name, owner=owner, **(labels or {}), **more_labels),
        "spec": pod_spec(*ports),
    }


def deployment(
    name: str = "web", kind: str = "Deployment", owner: tuple[str, str] | None = None, **spec: Any
) -> dict[str, Any]:
    spec.setdefault("template", {"metadata": {"labels": {"app": name}}, "spec": pod_spec(80)})
    version = {"Job": "batch/v1", "CronJob": "batch/v1", "ReplicationController": "v1"}.get(
        kind, "apps/v1"
    )
    if version == "apps/v1" and "selector" not in spec:
        # apps/v1 requires a selector; select exactly the template's pods.
        labels = (spec["template"].get("metadata") or {}).get("labels") or {}
        spec["selector"] = {"matchLabels": dict(labels)}
    return {"apiVersion": version, "kind": kind, "metadata": meta(name, owner=owner), "spec": spec}


def workload_summary(inv: Inventory) -> list[tuple[str, str, str, int]]:
    return [(w.namespace, w.kind, w.name, w.pods) for w in inv.workloads]


# --- Defaults ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({"ingress": [{}]}, {Direction.INGRESS}, id="omitted-means-ingress"),
        pytest.param({}, {Direction.INGRESS}, id="omitted-without-rules-means-ingress"),
        pytest.param(
            {"egress": [{}]},
            {Direction.INGRESS, Direction.EGRESS},
            id="omitted-with-egress-rules-adds-egress",
        ),
        pytest.param(
            {"egress": []},
            {Direction.INGRESS},
            id="omitted-with-empty-egress-is-ingress-only-as-setdefaults-does",
        ),
        pytest.param(
            {"policyTypes": [], "egress": [{}]},
            {Direction.INGRESS, Direction.EGRESS},
            id="empty-list-is-defaulted",
        ),
        pytest.param({"policyTypes": ["Egress"]}, {Direction.EGRESS}, id="egress-only-as-written"),
        pytest.param(
            {"policyTypes": ["Egress", "Ingress"]},
            {Direction.INGRESS, Direction.EGRESS},
            id="both-as-written",
        ),
    ],
)
def test_policy_types(spec: dict[str, Any], expected: set[Direction]) -> None:
    assert only_policy(spec).policy_types == frozenset(expected)


def test_rules_of_a_direction_not_in_policy_types_are_ignored() -> None:
    result = only_policy({"policyTypes": ["Egress"], "ingress": [{}], "egress": [{}]})
    assert (len(result.ingress), len(result.egress)) == (0, 1)


def test_namespace_defaults_to_default() -> None:
    (result,) = inventory(
        policy({"ingress": [{"from": [{"podSelector": {}}]}]}, namespace=None)
    ).policies
    assert result.namespace == "default"
    assert result.ingress[0].peers == (
        PodPeer(Selector(), Selector.of({NAME_LABEL: "default"}), True),
    )


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        pytest.param({"port": 80}, PortSpec(Protocol.TCP, 80), id="protocol-defaults-to-tcp"),
        pytest.param({}, PortSpec(Protocol.TCP), id="empty-entry-is-every-tcp-port"),
        pytest.param(
            {"protocol": "UDP"}, PortSpec(Protocol.UDP), id="protocol-alone-is-every-port-of-it"
        ),
        pytest.param(
            {"port": "dns", "protocol": "UDP"},
            PortSpec(Protocol.UDP, "dns"),
            id="named-port-kept-as-name",
        ),
        pytest.param(
            {"port": 32000, "endPort": 32768}, PortSpec(Protocol.TCP, 32000, 32768), id="port-range"
        ),
        pytest.param({"protocol": "SCTP", "port": 3868}, PortSpec(Protocol.SCTP, 3868), id="sctp"),
        pytest.param({"port": None}, PortSpec(Protocol.TCP), id="null-port-is-every-port"),
    ],
)
def test_ports(port: dict[str, Any], expected: PortSpec) -> None:
    assert only_policy({"ingress": [{"ports": [port]}]}).ingress[0].ports == (expected,)


# --- Rules and peers ----------------------------------------------------------------

APP_DB = Selector.of({"app": "db"})
TEAM_A = Selector.of({"team": "a"})
PROD = Selector.of({NAME_LABEL: "prod"})


@pytest.mark.parametrize(
    ("ingress", "expected"),
    [
        pytest.param([], [], id="empty-ingress-list-has-no-rules"),
        pytest.param(None, [], id="null-ingress-has-no-rules"),
        pytest.param([{}], [((AnyPeer(),), ())], id="rule-without-from-or-ports-allows-everything"),
        pytest.param([{"from": []}], [((AnyPeer(),), ())], id="empty-from-is-any-peer"),
        pytest.param(
            [{"from": None, "ports": None}], [((AnyPeer(),), ())], id="null-from-and-ports"
        ),
        pytest.param(
            [{"from": [{"podSelector": {"matchLabels": {"app": "db"}}}]}],
            [((PodPeer(APP_DB, PROD, same_namespace=True),), ())],
            id="pod-selector-alone-means-the-policy-namespace",
        ),
        pytest.param(
            [{"from": [{"namespaceSelector": {"matchLabels": {"team": "a"}}}]}],
            [((PodPeer(Selector(), TEAM_A),), ())],
            id="namespace-selector-alone-means-every-pod-there",
        ),
        pytest.param(
            [{"from": [{"namespaceSelector": {}}]}],
            [((PodPeer(Selector(), Selector()),), ())],
            id="empty-namespace-selector-means-every-namespace",
        ),
        pytest.param(
            [
                {
                    "from": [
                        {
                            "namespaceSelector": {"matchLabels": {"team": "a"}},
                            "podSelector": {"matchLabels": {"app": "db"}},
                        }
                    ]
                }
            ],
            [((PodPeer(APP_DB, TEAM_A),), ())],
            id="ns-and-pod-selector-in-one-peer-means-and",
        ),
        pytest.param(
            [
                {
                    "from": [
                        {"namespaceSelector": {"matchLabels": {"team": "a"}}},
                        {"podSelector": {"matchLabels": {"app": "db"}}},
                    ]
                }
            ],
            [((PodPeer(Selector(), TEAM_A), PodPeer(APP_DB, PROD, True)), ())],
            id="ns-and-pod-selector-in-two-peers-means-or",
        ),
        pytest.param(
            [
                {
                    "from": [
                        {
                            "ipBlock": {
                                "cidr": "10.0.0.0/8",
                                "except": ["10.2.0.0/16", "10.1.0.0/16"],
                            }
                        }
                    ]
                }
            ],
            [
                (
                    (
                        IPBlockPeer(
                            ipaddress.ip_network("10.0.0.0/8"),
                            (
                                ipaddress.ip_network("10.1.0.0/16"),
                                ipaddress.ip_network("10.2.0.0/16"),
                            ),
                        ),
                    ),
                    (),
                )
            ],
            id="ipblock-with-excepts-sorted",
        ),
        pytest.param(
            [{"ports": [{"port": 80}]}, {"from": [{"podSelector": {}}]}],
            [
                ((AnyPeer(),), (PortSpec(Protocol.TCP, 80),)),
                ((PodPeer(Selector(), PROD, True),), ()),
            ],
            id="two-rules-kept-in-order",
        ),
    ],
)
def test_ingress_rules(ingress: Any, expected: list[tuple[Any, Any]]) -> None:
    result = only_policy({"ingress": ingress})
    assert [(r.peers, r.ports) for r in result.ingress] == expected
    assert [r.index for r in result.ingress] == list(range(len(expected)))


def test_egress_rules_use_to() -> None:
    result = only_policy(
        {
            "egress": [
                {"to": [{"ipBlock": {"cidr": "::/0"}}], "ports": [{"port": 53, "protocol": "UDP"}]}
            ]
        }
    )
    (rule,) = result.egress
    assert rule.direction is Direction.EGRESS
    assert rule.peers == (IPBlockPeer(ipaddress.ip_network("::/0")),)
    assert rule.ports == (PortSpec(Protocol.UDP, 53),)


def test_selector_requirements() -> None:
    spec = {
        "podSelector": {
            "matchLabels": {"app": "db"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["b", "a", "b"]},
                {"key": "env", "operator": "NotIn", "values": ["dev"]},
                {"key": "owner", "operator": "Exists"},
                {"key": "legacy", "operator": "DoesNotExist", "values": []},
            ],
        }
    }
    assert only_policy(spec).pod_selector == Selector.of(
        {"app": "db"},
        (
            Requirement("tier", Operator.IN, ("a", "b")),
            Requirement("env", Operator.NOT_IN, ("dev",)),
            Requirement("owner", Operator.EXISTS),
            Requirement("legacy", Operator.DOES_NOT_EXIST),
        ),
    )


def test_sources_point_at_the_object_and_each_rule() -> None:
    upload = raw(
        policy({"ingress": [{}, {"from": [{"podSelector": {}}]}]}), file="np.yaml", document=2
    )
    (result,) = build_inventory([upload]).policies
    assert result.source == Source("np.yaml", 2, upload.line)
    items = upload.body["spec"]["ingress"]
    assert [r.source for r in result.ingress] == [
        Source("np.yaml", 2, items.line_of(i), items[i].end_line) for i in (0, 1)
    ]


# --- Workloads --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "pods"),
    [
        pytest.param(deployment(), 1, id="deployment-replicas-default-1"),
        pytest.param(deployment(replicas=0), 0, id="deployment-replicas-0"),
        pytest.param(deployment(replicas=5), 5, id="deployment-replicas-5"),
        pytest.param(deployment(kind="StatefulSet", replicas=3), 3, id="statefulset-replicas"),
        pytest.param(deployment(kind="ReplicaSet", replicas=2), 2, id="replicaset-replicas"),
        pytest.param(
            deployment(kind="ReplicationController", replicas=4),
            4,
            id="replicationcontroller-replicas",
        ),
        pytest.param(deployment(kind="DaemonSet"), 1, id="daemonset-counts-1"),
        pytest.param(deployment(kind="Job"), 1, id="job-parallelism-default-1"),
        pytest.param(deployment(kind="Job", parallelism=3), 3, id="job-parallelism"),
        pytest.param(pod("solo"), 1, id="pod-counts-1"),
    ],
)
def test_pod_counts(obj: dict[str, Any], pods: int) -> None:
    (w,) = inventory(obj).workloads
    assert (w.kind, w.pods) == (obj["kind"], pods)


def test_cronjob_template_is_under_job_template() -> None:
    template = {"metadata": {"labels": {"app": "report"}}, "spec": pod_spec(("metrics", 9090))}
    cronjob = deployment(
        "report", kind="CronJob", schedule="@daily", jobTemplate={"spec": {"template": template}}
    )
    del cronjob["spec"]["template"]
    (w,) = inventory(cronjob).workloads
    assert (w.kind, w.labels, w.ports, w.pods) == (
        "CronJob",
        (("app", "report"),),
        (ContainerPort("metrics", 9090),),
        1,
    )


def test_workload_reads_template_labels_and_ports() -> None:
    template = {
        "metadata": {"labels": {"app": "web", "tier": "front"}},
        "spec": {
            "containers": [
                {
                    "name": "a",
                    "ports": [
                        {"name": "http", "containerPort": 8080},
                        {"containerPort": 53, "protocol": "UDP"},
                    ],
                },
                {
                    "name": "b",
                    "ports": [{"name": "admin", "containerPort": 9000, "protocol": "SCTP"}],
                },
            ],
            "initContainers": [
                {"name": "setup", "ports": [{"containerPort": 1111}]},
                {
                    "name": "proxy",
                    "restartPolicy": "Always",
                    "ports": [{"name": "proxy", "containerPort": 15001}],
                },
            ],
        },
    }
    obj = deployment(template=template)
    obj["metadata"]["labels"] = {"owner-label": "not-the-pods"}
    (w,) = inventory(obj).workloads
    assert w.labels == (("app", "web"), ("tier", "front"))
    assert w.ports == (
        ContainerPort("http", 8080),
        ContainerPort(None, 53, Protocol.UDP),
        ContainerPort("admin", 9000, Protocol.SCTP),
        ContainerPort("proxy", 15001),
    )
    assert w.source == Source("up.yaml", 0, 1)


def test_deployment_its_replicaset_and_pods_uploaded_together_are_one_workload() -> None:
    hashed = {"app": "web", "pod-template-hash": "5d8f9"}
    rs_template = {"metadata": {"labels": hashed}, "spec": pod_spec(80)}
    objects = [
        deployment(replicas=3),
        deployment(
            "web-5d8f9",
            kind="ReplicaSet",
            owner=("Deployment", "web"),
            replicas=3,
            template=rs_template,
        ),
        *(
            pod(f"web-5d8f9-{i}", owner=("ReplicaSet", "web-5d8f9"), labels=hashed)
            for i in range(3)
        ),
    ]
    assert workload_summary(inventory(*objects)) == [("prod", "Deployment", "web", 3)]


@pytest.mark.parametrize(
    ("uploaded", "owner"),
    [
        pytest.param(
            deployment("db", kind="StatefulSet", replicas=2),
            ("StatefulSet", "db"),
            id="pods-of-an-uploaded-statefulset",
        ),
        pytest.param(
            deployment("agent", kind="DaemonSet"),
            ("DaemonSet", "agent"),
            id="pods-of-an-uploaded-daemonset",
        ),
        pytest.param(
            deployment("web-abc", kind="ReplicaSet"),
            ("ReplicaSet", "web-abc"),
            id="pods-of-an-uploaded-replicaset",
        ),
        pytest.param(
            deployment("web"),
            ("ReplicaSet", "web-abc"),
            id="pods-of-a-missing-replicaset-of-an-uploaded-deployment",
        ),
    ],
)
def test_pods_of_an_uploaded_workload_are_not_counted_again(
    uploaded: dict[str, Any], owner: tuple[str, str]
) -> None:
    pods = [pod(f"p{i}", owner=owner, labels={"pod-template-hash": "abc"}) for i in range(2)]
    assert workload_summary(inventory(uploaded, *pods)) == [
        (
            "prod",
            uploaded["kind"],
            uploaded["metadata"]["name"],
            uploaded["spec"].get("replicas", 1),
        )
    ]


def test_job_of_an_uploaded_cronjob_is_not_counted_again() -> None:
    template = {"metadata": {"labels": {"app": "r"}}, "spec": pod_spec(80)}
    cronjob = deployment("report", kind="CronJob", jobTemplate={"spec": {"template": template}})
    job = deployment("report-28000000", kind="Job", owner=("CronJob", "report"), template=template)
    job_pod = pod("report-28000000-x", owner=("Job", "report-28000000"), app="r")
    assert workload_summary(inventory(cronjob, job, job_pod)) == [("prod", "CronJob", "report", 1)]


def test_replicaset_without_its_deployment_stays_a_replicaset() -> None:
    rs = deployment("web-abc", kind="ReplicaSet", owner=("Deployment", "web"), replicas=2)
    assert workload_summary(inventory(rs)) == [("prod", "ReplicaSet", "web-abc", 2)]


@pytest.mark.parametrize(
    ("pods", "expected"),
    [
        pytest.param(
            [
                pod(
                    f"web-5d8f9-{i}",
                    owner=("ReplicaSet", "web-5d8f9"),
                    app="web",
                    labels={"pod-template-hash": "5d8f9"},
                )
                for i in "abc"
            ],
            [("prod", "Deployment", "web", 3)],
            id="pod-template-hash-names-the-deployment",
        ),
        pytest.param(
            [
                pod(
                    f"x-{i}",
                    owner=("ReplicaSet", "custom-rs"),
                    app="x",
                    labels={"pod-template-hash": "5d8f9"},
                )
                for i in "ab"
            ],
            [("prod", "ReplicaSet", "custom-rs", 2)],
            id="replicaset-name-without-the-hash-stays-replicaset",
        ),
        pytest.param(
            [pod(f"x-{i}", owner=("ReplicaSet", "x-5d8f9"), app="x") for i in "ab"],
            [("prod", "ReplicaSet", "x-5d8f9", 2)],
            id="replicaset-pods-without-hash-label-stay-replicaset",
        ),
        pytest.param(
            [pod(f"migrate-{i}", owner=("Job", "migrate"), app="m") for i in "ab"],
            [("prod", "Job", "migrate", 2)],
            id="job-pods-stay-a-job",
        ),
        pytest.param(
            [
                pod("agent-1", owner=("DaemonSet", "agent"), app="a"),
                pod("agent-2", owner=("DaemonSet", "agent"), app="a"),
            ],
            [("prod", "DaemonSet", "agent", 2)],
            id="daemonset-pods-grouped",
        ),
        pytest.param(
            [pod("solo", app="solo")],
            [("prod", "Pod", "solo", 1)],
            id="pod-without-owner-is-its-own-workload",
        ),
        pytest.param(
            [
                pod("etcd-node1", owner=("Node", "node1"), component="etcd"),
                pod("apiserver-node1", owner=("Node", "node1"), component="api"),
            ],
            [("prod", "Pod", "apiserver-node1", 1), ("prod", "Pod", "etcd-node1", 1)],
            id="static-pods-owned-by-a-node-are-their-own-workloads",
        ),
        pytest.param(
            [
                pod("a-1", owner=("DaemonSet", "a"), ports=(80,), app="a"),
                pod("a-2", owner=("DaemonSet", "a"), ports=(81,), app="a"),
            ],
            [("prod", "DaemonSet", "a", 1), ("prod", "DaemonSet", "a", 1)],
            id="different-ports-are-different-groups",
        ),
    ],
)
def test_exported_pods_are_grouped_by_owner(
    pods: list[dict[str, Any]], expected: list[tuple[str, str, str, int]]
) -> None:
    assert workload_summary(inventory(*pods)) == expected


def test_statefulset_pods_with_per_pod_labels_stay_distinct_in_upload_order() -> None:
    pods = [
        pod(
            f"db-{i}",
            owner=("StatefulSet", "db"),
            app="db",
            labels={"statefulset.kubernetes.io/pod-name": f"db-{i}"},
        )
        for i in (1, 0)
    ]
    result = inventory(*pods).workloads
    assert [(w.kind, w.name, w.pods) for w in result] == [("StatefulSet", "db", 1)] * 2
    assert [dict(w.labels)["statefulset.kubernetes.io/pod-name"] for w in result] == [
        "db-1",
        "db-0",
    ]


def test_controller_reference_is_the_owner() -> None:
    exported = pod("p", app="p")
    exported["metadata"]["ownerReferences"] = [
        {"kind": "Rollout", "name": "other"},
        {"kind": "Job", "name": "batch", "controller": True},
    ]
    assert workload_summary(inventory(exported)) == [("prod", "Job", "batch", 1)]


def test_grouped_pods_keep_the_first_pod_as_source() -> None:
    pods = [
        pod(f"web-{i}", owner=("ReplicaSet", "web-h"), app="web", labels={"pod-template-hash": "h"})
        for i in "ab"
    ]
    (w,) = build_inventory([raw(pods[0], file="a.yaml"), raw(pods[1], file="b.yaml")]).workloads
    assert w == Workload(
        "Deployment",
        "prod",
        "web",
        (("app", "web"), ("pod-template-hash", "h")),
        (ContainerPort(None, 80),),
        2,
        False,
        Source("a.yaml", 0, 1),
    )


def test_host_network_pods_are_kept_with_a_warning() -> None:
    obj = deployment(
        template={
            "metadata": {"labels": {"app": "agent"}},
            "spec": pod_spec(9100, hostNetwork=True),
        }
    )
    inv = inventory(obj)
    (w,) = inv.workloads
    assert w.host_network
    (problem,) = inv.problems
    assert problem.severity is Severity.WARNING
    assert problem.path == "spec.template.spec.hostNetwork"
    assert "hostNetwork pods are not selected by NetworkPolicies" in problem.message
    assert "the node's address" in problem.message


def test_exported_host_network_pods_warn_once_per_workload() -> None:
    pods = [pod(f"n-{i}", owner=("DaemonSet", "n"), app="n") for i in range(3)]
    for p in pods:
        p["spec"]["hostNetwork"] = True
    inv = inventory(*pods)
    assert workload_summary(inv) == [("prod", "DaemonSet", "n", 3)]
    assert [(p.path, p.document) for p in inv.problems] == [("spec.hostNetwork", 0)]


# --- Duplicates, skipped kinds, namespaces, order -------------------------------------


def test_later_duplicate_wins_with_a_warning_naming_the_earlier() -> None:
    first = policy({"ingress": [{}]})
    second = policy({"ingress": []})
    upload = [raw(first, file="a.yaml"), raw(second, file="b.yaml", document=1)]
    inv = build_inventory(upload)
    (result,) = inv.policies
    assert result.ingress == () and result.source.file == "b.yaml"
    (problem,) = inv.problems
    assert (problem.severity, problem.file, problem.document, problem.path) == (
        Severity.WARNING,
        "b.yaml",
        1,
        "metadata.name",
    )
    assert f"is also defined at a.yaml:{upload[0].line}" in problem.message
    assert "the later definition is used" in problem.message


def test_same_name_in_other_namespace_or_kind_is_not_a_duplicate() -> None:
    inv = inventory(
        policy({}, namespace="a"), policy({}, namespace="b"), pod("np", app="x"), deployment("np")
    )
    assert len(inv.policies) == 2 and len(inv.workloads) == 2
    assert inv.problems == ()


def test_later_invalid_duplicate_does_not_replace_the_earlier() -> None:
    inv = inventory(policy({"ingress": [{}]}), policy({"ingress": [{"form": []}]}))
    assert len(inv.policies) == 1 and len(inv.policies[0].ingress) == 1
    assert [p.severity for p in inv.problems] == [Severity.ERROR]


@pytest.mark.parametrize(
    ("api_version", "kind", "message"),
    [
        pytest.param(
            "projectcalico.org/v3",
            "NetworkPolicy",
            "projectcalico.org/v3 NetworkPolicy is not a Kubernetes NetworkPolicy; skipped",
            id="calico-networkpolicy",
        ),
        pytest.param(
            "crd.projectcalico.org/v1",
            "NetworkPolicy",
            "crd.projectcalico.org/v1 NetworkPolicy is not a Kubernetes NetworkPolicy; skipped",
            id="calico-crd-networkpolicy",
        ),
        pytest.param(
            "extensions/v1beta1",
            "NetworkPolicy",
            "apiVersion extensions/v1beta1 is no longer served for NetworkPolicy; "
            "use networking.k8s.io/v1; skipped",
            id="extensions-networkpolicy",
        ),
        pytest.param(
            "cilium.io/v2",
            "CiliumNetworkPolicy",
            "CiliumNetworkPolicy (cilium.io/v2) is not used by the analysis; skipped",
            id="cilium",
        ),
        pytest.param(
            "v1", "Service", "Service (v1) is not used by the analysis; skipped", id="service"
        ),
        pytest.param(
            "v1", "Secret", "Secret (v1) is not used by the analysis; skipped", id="secret"
        ),
        pytest.param(
            "v1", "ConfigMap", "ConfigMap (v1) is not used by the analysis; skipped", id="configmap"
        ),
        pytest.param(
            "apps.openshift.io/v1",
            "Deployment",
            "Deployment (apps.openshift.io/v1) is not used by the analysis; skipped",
            id="deployment-of-another-group",
        ),
    ],
)
def test_other_kinds_are_skipped_with_a_note(api_version: str, kind: str, message: str) -> None:
    obj = {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "x"},
        "spec": {"form": "not read"},
    }
    inv = inventory(obj)
    assert (inv.policies, inv.workloads, inv.namespaces) == ((), (), ())
    (problem,) = inv.problems
    assert (problem.severity, problem.message, problem.kind, problem.name) == (
        Severity.INFO,
        message,
        kind,
        "x",
    )


def test_namespace_gets_its_name_label() -> None:
    ns = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "payments", "labels": {"team": "pay"}},
        "spec": {"finalizers": ["kubernetes"]},
    }
    inv = inventory(ns)
    (result,) = inv.namespaces
    assert result.labels == ((NAME_LABEL, "payments"), ("team", "pay"))
    assert result.source == Source("up.yaml", 0, 1)
    assert inv.problems == ()


def test_conflicting_name_label_is_overwritten_with_a_warning() -> None:
    ns = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "payments", "labels": {NAME_LABEL: "prod"}},
    }
    inv = inventory(ns)
    assert inv.namespaces[0].labels == ((NAME_LABEL, "payments"),)
    (problem,) = inv.problems
    assert problem.severity is Severity.WARNING
    assert problem.path == f"metadata.labels[{NAME_LABEL}]"
    assert "'prod' replaced by 'payments'" in problem.message


def test_output_is_sorted_by_namespace_kind_and_name() -> None:
    inv = inventory(
        policy({}, name="z", namespace="a"),
        policy({}, name="b", namespace="b"),
        policy({}, name="a", namespace="b"),
        deployment("web"),
        pod("web", app="web"),
        {**deployment("api"), "metadata": meta("api", namespace="a")},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b"}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
    )
    assert [p.id for p in inv.policies] == ["a/z", "b/a", "b/b"]
    assert [(w.namespace, w.kind, w.name) for w in inv.workloads] == [
        ("a", "Deployment", "api"),
        ("prod", "Deployment", "web"),
        ("prod", "Pod", "web"),
    ]
    assert [n.name for n in inv.namespaces] == ["a", "b"]


def test_problems_follow_upload_order() -> None:
    inv = inventory(
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}},
        policy({"ingress": [{}]}, name="BAD"),
        policy({"ingress": [{"from": [{}]}]}),
    )
    assert [(p.document, p.severity) for p in inv.problems] == [
        (0, Severity.INFO),
        (1, Severity.ERROR),
        (2, Severity.ERROR),
    ]


# --- From YAML text, through the loader -----------------------------------------------

YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db
  namespace: prod
spec:
  podSelector:
    matchLabels:
      app: yes
  ingress:
  - form:
    - podSelector: {}
    ports:
    - port: 1:20
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: web
    labels:
      version: 1.10
  spec:
    containers: [{name: main}]
"""


def test_yaml_traps_are_reported_at_their_lines() -> None:
    objects, _ = load_sources([SourceText("up.yaml", YAML.encode())])
    inv = build_inventory(objects)
    assert (inv.policies, inv.workloads) == ((), ())
    found = [(p.document, p.line, p.path) for p in inv.problems]
    assert found == [
        (0, 9, "spec.podSelector.matchLabels[app]"),
        (0, 11, "spec.ingress[0].form"),
        (0, 14, "spec.ingress[0].ports[0].port"),
        (1, 24, "items[0].metadata.labels[version]"),
    ]


# --- Sanitising for storage ------------------------------------------------------------

SECRET = "s3cr3t-value"


def _upload() -> list[dict[str, Any]]:
    full_pod = pod(
        "web-1", owner=("ReplicaSet", "web-h"), app="web", labels={"pod-template-hash": "h"}
    )
    full_pod["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": SECRET
    }
    full_pod["metadata"]["ownerReferences"][0]["uid"] = SECRET
    full_pod["spec"]["containers"][0].update(
        env=[{"name": "PASSWORD", "value": SECRET}], command=[SECRET], image=SECRET
    )
    full_pod["spec"]["containers"][0]["ports"][0].update(hostIP=SECRET, hostPort=8080)
    full_pod["spec"]["volumes"] = [{"name": "creds", "secret": {"secretName": SECRET}}]
    full_pod["spec"]["initContainers"] = [
        {"name": "init", "image": SECRET, "ports": [{"containerPort": 1}]},
        {
            "name": "proxy",
            "image": SECRET,
            "restartPolicy": "Always",
            "ports": [{"containerPort": 15001}],
        },
    ]
    full_pod["spec"]["hostNetwork"] = False
    full_pod["status"] = {"podIP": SECRET}
    dep = deployment(
        replicas=2, selector={"matchLabels": {"app": "web"}}, strategy={"type": SECRET}
    )
    dep["spec"]["template"]["metadata"]["annotations"] = {"x": SECRET}
    dep["spec"]["template"]["spec"]["serviceAccountName"] = SECRET
    np = policy(
        {"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 5432}]}]}
    )
    np["metadata"].update(
        annotations={"kubectl.kubernetes.io/last-applied-configuration": SECRET},
        managedFields=[{"manager": SECRET}],
        uid="1234",
    )
    np["status"] = {"conditions": [{"message": SECRET}]}
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "prod", "labels": {"team": "a"}, "annotations": {"owner": SECRET}},
        "spec": {"finalizers": ["kubernetes"]},
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "creds"},
            "data": {"password": SECRET},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cfg"},
            "data": {"k": SECRET},
        },
        {
            "apiVersion": "projectcalico.org/v3",
            "kind": "NetworkPolicy",
            "metadata": {"name": SECRET},
            "spec": {},
        },
        full_pod,
        dep,
        np,
        namespace,
    ]


def test_sanitize_keeps_only_what_the_analysis_reads() -> None:
    kept = sanitize([raw(o) for o in _upload()])
    assert SECRET not in json.dumps(kept)
    assert [o["kind"] for o in kept] == ["Pod", "Deployment", "NetworkPolicy", "Namespace"]
    pod_, dep, np, namespace = kept
    assert pod_ == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-1",
            "namespace": "prod",
            "labels": {"app": "web", "pod-template-hash": "h"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "web-h", "controller": True}],
        },
        "spec": {
            "containers": [{"name": "main", "ports": [{"containerPort": 80}]}],
            # A plain init container keeps only its name, so positions stay aligned.
            "initContainers": [
                {"name": "init"},
                {"name": "proxy", "ports": [{"containerPort": 15001}], "restartPolicy": "Always"},
            ],
            "hostNetwork": False,
        },
    }
    assert dep == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "prod"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "main", "ports": [{"containerPort": 80}]}]},
            },
            "replicas": 2,
            # Labels only, and checked against the template's.
            "selector": {"matchLabels": {"app": "web"}},
        },
    }
    assert np["metadata"] == {"name": "np", "namespace": "prod", "uid": "1234"}
    assert "status" not in np and np["spec"]["ingress"][0]["ports"] == [{"port": 5432}]
    assert namespace == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "prod", "labels": {"team": "a"}},
    }


def test_sanitize_returns_plain_values() -> None:
    def kinds(value: Any) -> set[type]:
        if isinstance(value, dict):
            return {type(value)} | {t for v in value.values() for t in kinds(v)}
        if isinstance(value, list):
            return {type(value)} | {t for v in value for t in kinds(v)}
        return set()

    assert kinds(sanitize([raw(o) for o in _upload()])) == {dict, list}


def test_sanitize_empties_unexpected_shapes() -> None:
    odd = pod("odd", app="odd")
    odd["spec"]["containers"] = {"env": [{"value": SECRET}]}
    odd["metadata"]["labels"] = [SECRET]
    (kept,) = sanitize([raw(odd)])
    assert kept["spec"]["containers"] == {} and kept["metadata"]["labels"] == []


def test_sanitized_upload_gives_the_same_inventory() -> None:
    objects = [
        *_upload(),
        deployment(
            "cron",
            kind="CronJob",
            jobTemplate={
                "spec": {
                    "template": {
                        "metadata": {"labels": {"app": "c"}},
                        "spec": pod_spec(("m", 9090)),
                    }
                }
            },
        ),
        deployment("batch", kind="Job", parallelism=4),
        pod("bad", app=True),  # type: ignore[arg-type]
    ]

    def essence(inv: Inventory) -> Any:
        workloads = [
            (w.kind, w.namespace, w.name, w.labels, w.ports, w.pods, w.host_network)
            for w in inv.workloads
        ]
        policies = [
            (
                p.id,
                p.pod_selector,
                p.policy_types,
                [(r.direction, r.index, r.peers, r.ports) for r in p.ingress + p.egress],
            )
            for p in inv.policies
        ]
        errors = [(p.path, p.message) for p in inv.problems if p.severity is Severity.ERROR]
        return workloads, policies, [(n.name, n.labels) for n in inv.namespaces], errors

    original = build_inventory([raw(o) for o in objects])
    again = build_inventory([raw(o) for o in sanitize([raw(o) for o in objects])])
    assert essence(again) == essence(original)
    assert len(original.workloads) == 3 and len(original.policies) == 1
