"""A harder synthetic cluster for `netpol-viz analyze`: broad selectors, many flows.

Written independently of bench/generate.py (issue 8 asks for a second
opinion on what a demanding cluster is). At the same --pods/--policies it
allows many times more flows, because its policies look like those of
teams that open their namespaces to each other rather than like narrow
allow-lists:

- the objects of a `kubectl get all -o yaml` export, one document each:
  Namespaces labelled team/env/tier (some also `compliance`), Deployments
  with their current ReplicaSet, StatefulSets, a DaemonSet, and every Pod
  with ownerReferences (ReplicaSet names carry the pod-template-hash), plus
  a few bare Pods;
- container ports whose names (`http`, `grpc`, `db`, `cache`, `metrics`)
  stand for different numbers on different pods, and sidecars;
- per namespace, one broad "baseline" policy with several ingress and
  egress rules (the whole team's namespaces, a partner team's fronts and
  APIs, every API of the same environment, Prometheus on a port range,
  DNS to kube-system, the internet by ipBlock with except in IPv4 and IPv6);
  some namespaces default-deny first and allow after, some isolate ingress
  only, and a few (a square root of them, so open-to-open traffic stays
  linear) have no policy at all;
- the rest of the --policies budget handed out round-robin: ingress
  controller, databases, scraping, SaaS egress, then endless partner-team
  variants with selector operators In, NotIn, Exists and DoesNotExist and
  endPort ranges.

    python bench/generate_hard.py --pods 5000 --policies 1000 --seed 1 -o /tmp/hard5k.yaml

Deterministic: one seeded `random.Random`, no clock, no uuid4.
"""

from __future__ import annotations

import argparse
import ipaddress
import itertools
import math
import random
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

Doc = dict[str, Any]
Spec = dict[str, Any]

METADATA_NAME = "kubernetes.io/metadata.name"
# kube-controller-manager's alphabet for generated name suffixes (no vowels, no 0/1/3).
SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
EPOCH = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)

ENVIRONMENTS = ("prod", "staging", "dev")
NAMESPACE_TIERS = ("edge", "services", "data")
PROFILES = ("baseline", "deny-first", "ingress-only")
PROFILE_WEIGHTS = (75, 15, 10)

# Addresses outside the cluster; a fixed pool, since each distinct block is an
# external node of the analysis. Every `except` lies strictly inside its cidr.
PUBLIC_V4 = {"cidr": "0.0.0.0/0",
             "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]}
PUBLIC_V6 = {"cidr": "::/0", "except": ["fc00::/7", "fe80::/10"]}
SAAS_BLOCKS = (
    {"cidr": "203.0.113.0/24", "except": ["203.0.113.128/27"]},
    {"cidr": "198.51.100.0/24"},
    {"cidr": "2001:db8:a::/48", "except": ["2001:db8:a:ff::/64"]},
    {"cidr": "2001:db8:b::/48"},
)
POD_NETWORK = ipaddress.ip_network("10.244.0.0/14")
DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
METRICS_RANGE = {"protocol": "TCP", "port": 9100, "endPort": 9199}
HTTP_AND_GRPC = [{"protocol": "TCP", "port": "http"}, {"protocol": "TCP", "port": "grpc"}]
MONITORING = {"matchLabels": {METADATA_NAME: "monitoring"}}
PROMETHEUS = {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}
IDENTITY_LABELS = ("app", "k8s-app", "app.kubernetes.io/name")


@dataclass(frozen=True)
class Port:
    name: str
    number: int
    protocol: str = "TCP"

    def doc(self) -> Doc:
        return {"name": self.name, "containerPort": self.number, "protocol": self.protocol}


@dataclass(frozen=True)
class Container:
    name: str
    image: str
    ports: tuple[Port, ...]


@dataclass
class App:
    """One workload: what its pods carry and how many there are."""

    kind: str  # Deployment, StatefulSet, DaemonSet or Pod (bare)
    name: str
    labels: dict[str, str]
    containers: tuple[Container, ...]
    replicas: int

    @property
    def tier(self) -> str:
        return self.labels.get("tier", "")

    @property
    def selector(self) -> dict[str, str]:
        """The label that names the workload, which its controller selects by."""
        return {k: v for k, v in self.labels.items() if k in IDENTITY_LABELS}


@dataclass
class Space:
    """An application namespace and the policy profile its team chose."""

    name: str
    team: str
    partner: str
    env: str
    tier: str
    profile: str  # one of PROFILES, or "open"
    compliance: bool
    apps: list[App] = field(default_factory=list)

    def tiers(self) -> list[str]:
        return sorted({app.tier for app in self.apps if app.tier})

    def labels(self) -> dict[str, str]:
        labels = {"team": self.team, "env": self.env, "tier": self.tier}
        if self.compliance:
            labels["compliance"] = "pci"
        return labels


# What each application tier runs: its image, and for each named port the
# numbers it may stand for (so `http` is 8080 on one pod and 3000 on another).
ROLE_PORTS: dict[str, tuple[tuple[str, tuple[int, ...], str], ...]] = {
    "frontend": (("http", (8080, 3000, 80), "TCP"),),
    "api": (("http", (8000, 8080, 9090), "TCP"), ("grpc", (50051, 9000), "TCP")),
    "worker": (("http", (8081,), "TCP"), ("statsd", (8125,), "UDP")),
    "cache": (("cache", (6379, 11211), "TCP"),),
    "db": (("db", (5432, 3306, 27017), "TCP"),),
}
TIER_ROLES: dict[str, tuple[str, ...]] = {
    "edge": ("frontend", "frontend", "api"),
    "services": ("api", "api", "worker"),
    "data": ("api", "cache", "worker"),
}


class HardGenerator:
    """One cluster; every random choice comes from `self.rng`, in a fixed order."""

    def __init__(self, pods: int, policies: int, seed: int) -> None:
        self.nodes = max(2, pods // 100)
        self.infra_pods = 2 + 1 + 2 + self.nodes  # coredns, prometheus, ingress-nginx, fluent-bit
        if pods < self.infra_pods + 2:
            raise ValueError(f"--pods must be at least {self.infra_pods + 2}")
        if policies < 0:
            raise ValueError("--policies must not be negative")
        self.pods = pods
        self.policies = policies
        self.rng = random.Random(seed)
        self.pod_index = 0
        self.clock = EPOCH
        self.version = 4000
        self.spaces: list[Space] = []
        self.served: set[tuple[str, str]] = set()  # (env, namespace tier) pairs that exist

    # --- deterministic identities -----------------------------------------

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def suffix(self, length: int) -> str:
        return "".join(self.rng.choices(SUFFIX_ALPHABET, k=length))

    def timestamp(self) -> str:
        self.clock += timedelta(seconds=self.rng.randint(1, 90))
        return self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")

    def resource_version(self) -> str:
        self.version += self.rng.randint(1, 50)
        return str(self.version)

    def meta(self, name: str, namespace: str | None, labels: dict[str, str] | None) -> Doc:
        meta: Doc = {"name": name}
        if namespace is not None:
            meta["namespace"] = namespace
        if labels:
            meta["labels"] = dict(labels)
        meta["uid"] = self.uid()
        meta["resourceVersion"] = self.resource_version()
        meta["creationTimestamp"] = self.timestamp()
        return meta

    # --- the cluster's shape ----------------------------------------------

    def plan(self) -> list[Space]:
        count = max(2, round(self.pods / 10) - 4)  # four infrastructure namespaces
        teams = [f"team-{i}" for i in range(max(2, count // 6))]
        open_count = math.isqrt(count) // 2
        spaces = []
        for i in range(count):
            team = self.rng.choice(teams)
            partner = teams[(teams.index(team) + 1) % len(teams)]
            env = self.rng.choices(ENVIRONMENTS, (5, 3, 2))[0]
            tier = NAMESPACE_TIERS[i % len(NAMESPACE_TIERS)]
            profile = self.rng.choices(PROFILES, PROFILE_WEIGHTS)[0]
            spaces.append(Space(f"{team}-{env}-{i}", team, partner, env, tier, profile,
                                self.rng.random() < 0.2))
        self.spaces = spaces
        self.served = {(space.env, space.tier) for space in spaces}
        for space in self.rng.sample(spaces, open_count):
            space.profile = "open"
        app_pods = self.pods - self.infra_pods
        for i, space in enumerate(spaces):
            share = app_pods // count + (1 if i < app_pods % count else 0)
            space.apps = self.plan_apps(space, share)
        return spaces

    def plan_apps(self, space: Space, pods: int) -> list[App]:
        apps: list[App] = []
        taken: dict[str, int] = {}

        def fresh(base: str) -> str:
            taken[base] = taken.get(base, 0) + 1
            return base if taken[base] == 1 else f"{base}-{taken[base]}"

        left = pods
        if space.tier == "data" and left >= 4:
            replicas = self.rng.randint(1, 3)
            engine = self.rng.choice(ROLE_PORTS["db"][0][1])
            apps.append(App("StatefulSet", fresh("db"), {"app": "db", "tier": "db"},
                            (self.container("db", space.team, {"db": engine}),), replicas))
            left -= replicas
        if left >= 3 and self.rng.random() < 0.05:
            apps.append(App("Pod", f"debug-{self.suffix(5)}",
                            {"run": "debug", "quarantine": "true"},
                            (Container("debug", "busybox:1.36", ()),), 1))
            left -= 1
        roles = TIER_ROLES[space.tier]
        for step in itertools.count():
            if left <= 0:
                break
            role = roles[0] if step == 0 else self.rng.choice(roles)
            replicas = min(left, self.rng.randint(3, 6))
            name = fresh(role if role != "frontend" else "web")
            labels = {"app": name, "tier": role, "version": self.rng.choice(("v1", "v2"))}
            containers = [self.container(role, space.team)]
            if role == "api" and self.rng.random() < 0.3:
                containers.append(Container("envoy", "envoyproxy/envoy:v1.31.2",
                                            (Port("envoy-admin", 15000), Port("proxy", 15001))))
            apps.append(App("Deployment", name, labels, tuple(containers), replicas))
            left -= replicas
        return apps

    def container(self, role: str, team: str, fixed: dict[str, int] | None = None) -> Container:
        ports = [
            Port(name, (fixed or {}).get(name) or self.rng.choice(numbers), protocol)
            for name, numbers, protocol in ROLE_PORTS[role]
        ]
        ports.append(Port("metrics", 9100 + self.rng.randint(1, 98)))
        image = f"registry.example.com/{team}/{role}:1.{self.rng.randint(0, 30)}"
        return Container(role, image, tuple(ports))

    # --- workload documents -------------------------------------------------

    def pod_spec(self, app: App) -> Doc:
        containers = []
        for c in app.containers:
            container: Doc = {"name": c.name, "image": c.image, "imagePullPolicy": "IfNotPresent"}
            if c.ports:
                container["ports"] = [p.doc() for p in c.ports]
            container["resources"] = {"requests": {"cpu": "100m", "memory": "128Mi"}}
            containers.append(container)
        return {"containers": containers, "restartPolicy": "Always",
                "serviceAccountName": "default"}

    def template(self, labels: dict[str, str], app: App) -> Doc:
        return {"metadata": {"labels": dict(labels)}, "spec": self.pod_spec(app)}

    @staticmethod
    def owner(api_version: str, kind: str, meta: Doc) -> list[Doc]:
        return [{"apiVersion": api_version, "kind": kind, "name": meta["name"],
                 "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}]

    def pod(self, namespace: str, name: str, labels: dict[str, str], app: App,
            owner: list[Doc] | None, node: int | None = None) -> Doc:
        meta = self.meta(name, namespace, labels)
        if owner:
            meta["ownerReferences"] = owner
        address = str(POD_NETWORK[2 + self.pod_index])
        self.pod_index += 1
        spec = self.pod_spec(app)
        spec["nodeName"] = f"node-{self.rng.randrange(self.nodes) if node is None else node}"
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
                "status": {"phase": "Running", "podIP": address, "podIPs": [{"ip": address}]}}

    def app_docs(self, namespace: str, app: App) -> Iterator[Doc]:
        selector = {"matchLabels": app.selector}
        if app.kind == "Pod":
            yield self.pod(namespace, app.name, app.labels, app, None)
        elif app.kind == "Deployment":
            deployment = self.meta(app.name, namespace, app.selector)
            deployment["generation"] = 1
            deployment["annotations"] = {"deployment.kubernetes.io/revision": "1"}
            yield {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": deployment,
                   "spec": {"replicas": app.replicas, "selector": selector,
                            "template": self.template(app.labels, app)},
                   "status": {"replicas": app.replicas, "readyReplicas": app.replicas}}
            template_hash = self.suffix(self.rng.choice((9, 10)))
            labels = {**app.labels, "pod-template-hash": template_hash}
            replica_set = self.meta(f"{app.name}-{template_hash}", namespace, labels)
            replica_set["ownerReferences"] = self.owner("apps/v1", "Deployment", deployment)
            rs_selector = {"matchLabels": {**selector["matchLabels"],
                                           "pod-template-hash": template_hash}}
            yield {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": replica_set,
                   "spec": {"replicas": app.replicas, "selector": rs_selector,
                            "template": self.template(labels, app)},
                   "status": {"replicas": app.replicas}}
            owner = self.owner("apps/v1", "ReplicaSet", replica_set)
            for _ in range(app.replicas):
                yield self.pod(namespace, f"{replica_set['name']}-{self.suffix(5)}",
                               labels, app, owner)
        else:  # StatefulSet or DaemonSet
            meta = self.meta(app.name, namespace, dict(selector["matchLabels"]))
            spec: Doc = {"selector": selector, "template": self.template(app.labels, app)}
            if app.kind == "StatefulSet":
                spec = {"replicas": app.replicas, "serviceName": app.name, **spec}
            yield {"apiVersion": "apps/v1", "kind": app.kind, "metadata": meta, "spec": spec}
            revision = f"{app.name}-{self.suffix(10)}"
            owner = self.owner("apps/v1", app.kind, meta)
            for i in range(app.replicas):
                name = (f"{app.name}-{i}" if app.kind == "StatefulSet"
                        else f"{app.name}-{self.suffix(5)}")
                labels = {**app.labels, "controller-revision-hash": revision}
                if app.kind == "StatefulSet":
                    labels["statefulset.kubernetes.io/pod-name"] = name
                    yield self.pod(namespace, name, labels, app, owner)
                else:  # a DaemonSet runs one pod on each node
                    labels["pod-template-generation"] = "1"
                    yield self.pod(namespace, name, labels, app, owner, node=i)

    def namespace_doc(self, name: str, labels: dict[str, str]) -> Doc:
        return {"apiVersion": "v1", "kind": "Namespace",
                "metadata": self.meta(name, None, {METADATA_NAME: name, **labels}),
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}

    def policy_doc(self, namespace: str, name: str, spec: Spec) -> Doc:
        meta = self.meta(name, namespace, None)
        meta["generation"] = 1
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": meta, "spec": spec}

    # --- infrastructure -------------------------------------------------------

    def infrastructure(self) -> list[tuple[str, dict[str, str], list[App]]]:
        """The platform namespaces every cluster has, with their labels and workloads."""
        coredns = Container("coredns", "registry.k8s.io/coredns/coredns:v1.11.3", (
            Port("dns", 53, "UDP"), Port("dns-tcp", 53), Port("metrics", 9153)))
        prometheus = Container("prometheus", "quay.io/prometheus/prometheus:v2.54.1",
                               (Port("web", 9090),))
        controller = Container("controller", "registry.k8s.io/ingress-nginx/controller:v1.11.2",
                               (Port("http", 80), Port("https", 443), Port("metrics", 10254)))
        fluent_bit = Container("fluent-bit", "cr.fluentbit.io/fluent/fluent-bit:3.1.9",
                               (Port("http", 2020),))
        platform = {"team": "platform", "env": "prod", "tier": "infra"}
        return [
            ("kube-system", {**platform, "env": "system"}, [
                App("Deployment", "coredns", {"k8s-app": "kube-dns"}, (coredns,), 2)]),
            ("monitoring", platform, [
                App("StatefulSet", "prometheus-k8s", {"app.kubernetes.io/name": "prometheus"},
                    (prometheus,), 1)]),
            ("ingress-nginx", {**platform, "tier": "edge"}, [
                App("Deployment", "ingress-nginx-controller",
                    {"app.kubernetes.io/name": "ingress-nginx", "tier": "gateway"},
                    (controller,), 2)]),
            ("logging", platform, [
                App("DaemonSet", "fluent-bit", {"app": "fluent-bit", "tier": "agent"},
                    (fluent_bit,), self.nodes)]),
        ]

    def infrastructure_policies(self) -> list[tuple[str, str, Spec]]:
        return [
            ("kube-system", "allow-dns-from-cluster", {
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {"from": [{"namespaceSelector": {}}], "ports": DNS_PORTS},
                    {"from": [{"namespaceSelector": MONITORING}],
                     "ports": [{"protocol": "TCP", "port": "metrics"}]},
                ],
            }),
            ("ingress-nginx", "controller", {
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"ipBlock": PUBLIC_V4}, {"ipBlock": PUBLIC_V6}],
                             "ports": [{"protocol": "TCP", "port": "http"},
                                       {"protocol": "TCP", "port": "https"}]}],
                "egress": [
                    {"to": [{"namespaceSelector": {"matchLabels": {"tier": "edge"}},
                             "podSelector": {"matchLabels": {"tier": "frontend"}}}],
                     "ports": [{"protocol": "TCP", "port": "http"}]},
                    self.dns_rule(),
                ],
            }),
            ("monitoring", "prometheus-scrape", {
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
                "policyTypes": ["Egress"],
                "egress": [{"to": [{"namespaceSelector": {}, "podSelector": {}}],
                            "ports": [METRICS_RANGE, {"protocol": "TCP", "port": "metrics"}]},
                           self.dns_rule()],
            }),
        ]

    # --- application policies ------------------------------------------------

    @staticmethod
    def same_team(space: Space) -> Doc:
        return {"namespaceSelector": {"matchLabels": {"team": space.team}}}

    @staticmethod
    def dns_rule() -> Doc:
        return {"to": [{"namespaceSelector": {"matchLabels": {METADATA_NAME: "kube-system"}},
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                "ports": DNS_PORTS}

    @staticmethod
    def scrape_rule() -> Doc:
        return {"from": [{"namespaceSelector": MONITORING, "podSelector": PROMETHEUS}],
                "ports": [METRICS_RANGE, {"protocol": "TCP", "port": "metrics"}]}

    def baseline(self, space: Space) -> Spec:
        """The whole team in and out, partners' fronts and APIs in, DNS, APIs and internet out."""
        # APIs live in services and data namespaces; name only those this environment has.
        serving = [t for t in ("services", "data") if (space.env, t) in self.served]
        serving = serving or [space.tier]
        return {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {"from": [self.same_team(space)]},
                self.scrape_rule(),
                {"from": [
                    {"namespaceSelector": {"matchExpressions": [
                        {"key": "team", "operator": "In", "values": [space.team, space.partner]},
                        # Not the far environment, so the own namespace always matches.
                        {"key": "env", "operator": "NotIn",
                         "values": ["prod" if space.env == "dev" else "dev"]},
                    ]},
                     "podSelector": {"matchExpressions": [
                         {"key": "tier", "operator": "In", "values": ["frontend", "api"]},
                     ]}},
                    {"podSelector": {}},
                ], "ports": HTTP_AND_GRPC},
            ],
            "egress": [
                {"to": [self.same_team(space)]},
                self.dns_rule(),
                {"to": [{"namespaceSelector": {"matchExpressions": [
                    {"key": "env", "operator": "In", "values": [space.env]},
                    {"key": "tier", "operator": "In", "values": serving},
                ]},
                         "podSelector": {"matchExpressions": [
                             {"key": "tier", "operator": "In", "values": ["api"]},
                             {"key": "quarantine", "operator": "DoesNotExist"},
                         ]}}],
                 "ports": HTTP_AND_GRPC},
                {"to": [{"ipBlock": PUBLIC_V4}, {"ipBlock": PUBLIC_V6}],
                 "ports": [{"protocol": "TCP", "port": 443},
                           {"protocol": "TCP", "port": 8443, "endPort": 8449}]},
            ],
        }

    def allow_team(self, space: Space) -> Spec:
        """After a default-deny: the team's namespaces (any environment) both ways, and DNS."""
        team_expression = {"namespaceSelector": {"matchExpressions": [
            {"key": "team", "operator": "In", "values": [space.team]},
            {"key": "env", "operator": "Exists"},
        ]}, "podSelector": {}}
        return {"podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [team_expression]}, self.scrape_rule()],
                "egress": [{"to": [team_expression]}, self.dns_rule()]}

    def ingress_only(self, space: Space) -> Spec:
        """Ingress isolated, egress open: the team, its partner and the ingress controller in."""
        return {
            "podSelector": {},
            "policyTypes": ["Ingress"],
            "ingress": [
                {"from": [{"namespaceSelector": {"matchExpressions": [
                    {"key": "team", "operator": "In", "values": [space.team, space.partner]},
                ]}, "podSelector": {}}]},
                {"from": [{"namespaceSelector": {"matchLabels": {METADATA_NAME: "ingress-nginx"}}}],
                 "ports": [{"protocol": "TCP", "port": "http"}]},
                self.scrape_rule(),
            ],
        }

    def extras(self, space: Space, teams: dict[str, list[str]]) -> Iterator[tuple[str, Spec]]:
        """Narrower policies in turn, then partner-team variants without end.

        `teams` lists per environment the teams with a namespace there, so that
        every peer matches some namespace (no policy-only guesswork, no
        `peer-matches-nothing`).
        """
        tiers = space.tiers()
        if "frontend" in tiers:
            yield "allow-ingress-controller", {
                "podSelector": {"matchLabels": {"tier": "frontend"}},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{
                    "namespaceSelector": {"matchLabels": {METADATA_NAME: "ingress-nginx"}},
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
                }], "ports": [{"protocol": "TCP", "port": "http"}]}],
            }
        if {"db", "cache"} & set(tiers):
            policy: Spec = {
                "podSelector": {"matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["db", "cache"]}]},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {"from": [{"podSelector": {"matchExpressions": [
                        {"key": "tier", "operator": "In", "values": ["api", "worker"]},
                        {"key": "run", "operator": "NotIn", "values": ["debug"]},
                    ]}}], "ports": [{"protocol": "TCP", "port": "db"},
                                    {"protocol": "TCP", "port": "cache"}]},
                ],
            }
            compliant = sorted({s.env for s in self.spaces if s.compliance})
            if compliant:  # APIs of PCI namespaces, of this environment where there are any
                envs = [space.env] if space.env in compliant else compliant
                policy["ingress"].append(
                    {"from": [{"namespaceSelector": {"matchExpressions": [
                        {"key": "compliance", "operator": "Exists"},
                        {"key": "env", "operator": "In", "values": envs},
                    ]}, "podSelector": {"matchLabels": {"tier": "api"}}}],
                     "ports": [{"protocol": "TCP", "port": "db"}]})
            yield "allow-data-from-apps", policy
        yield "allow-scrape", {
            "podSelector": {"matchExpressions": [{"key": "tier", "operator": "Exists"}]},
            "policyTypes": ["Ingress"],
            "ingress": [self.scrape_rule()],
        }
        if "api" in tiers or "worker" in tiers:
            yield "allow-egress-saas", {
                "podSelector": {"matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["api", "worker"]}]},
                "policyTypes": ["Egress"],
                "egress": [
                    {"to": [{"ipBlock": block} for block in SAAS_BLOCKS],
                     "ports": [{"protocol": "TCP", "port": 443},
                               {"protocol": "TCP", "port": 5432},
                               {"protocol": "UDP", "port": 4500, "endPort": 4510}]},
                    {"to": [{"namespaceSelector": {"matchExpressions": [
                        {"key": "team", "operator": "In", "values": [space.team, space.partner]},
                        # Namespaces as compliant as this one (which always matches).
                        {"key": "compliance",
                         "operator": "Exists" if space.compliance else "DoesNotExist"},
                    ]}}], "ports": [{"protocol": "TCP", "port": "http"},
                                     {"protocol": "UDP", "port": "statsd"}]},
                    self.dns_rule(),
                ],
            }
        if any("quarantine" in app.labels for app in space.apps):
            yield "quarantine", {
                "podSelector": {"matchLabels": {"quarantine": "true"}},
                "policyTypes": ["Ingress", "Egress"],
            }
        for n in itertools.count(1):
            tier = tiers[n % len(tiers)] if tiers else "api"
            other = self.rng.choice(teams[space.env])
            low = self.rng.randrange(8000, 8900, 10)
            if n % 2:
                yield f"allow-from-{other}-{n}", {
                    "podSelector": {"matchLabels": {"tier": tier}},
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": [{
                        "namespaceSelector": {"matchExpressions": [
                            {"key": "team", "operator": "In", "values": [other, space.partner]},
                            {"key": "env", "operator": "In", "values": [space.env]},
                        ]},
                        "podSelector": {"matchExpressions": [
                            {"key": "tier", "operator": "NotIn", "values": ["db"]}]},
                    }], "ports": [{"protocol": "TCP", "port": "http"},
                                  {"protocol": "TCP", "port": low, "endPort": low + 9}]}],
                }
            else:
                yield f"allow-to-{other}-{n}", {
                    "podSelector": {"matchLabels": {"tier": tier}},
                    "policyTypes": ["Egress"],
                    "egress": [{"to": [
                        {"namespaceSelector": {"matchLabels": {"team": other}},
                         "podSelector": {}},
                        {"ipBlock": self.rng.choice(SAAS_BLOCKS)},
                    ], "ports": [*HTTP_AND_GRPC,
                                 {"protocol": "TCP", "port": low, "endPort": low + 9}]},
                        self.dns_rule()],
                }

    def kit(self, space: Space, teams: dict[str, list[str]]) -> Iterator[tuple[str, Spec]]:
        """The policies of one namespace, most important first."""
        if space.profile == "baseline":
            yield "baseline", self.baseline(space)
        elif space.profile == "deny-first":
            yield "default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
            yield "allow-team", self.allow_team(space)
        else:
            yield "ingress-baseline", self.ingress_only(space)
        yield from self.extras(space, teams)

    def policy_docs(self, spaces: list[Space]) -> list[Doc]:
        budget = self.policies
        infra = self.infrastructure_policies()[:budget]
        docs = [self.policy_doc(ns, name, spec) for ns, name, spec in infra]
        budget -= len(docs)
        governed = [s for s in spaces if s.profile != "open"]
        self.rng.shuffle(governed)
        teams = {env: sorted({s.team for s in spaces if s.env == env}) for env in ENVIRONMENTS}
        kits = [(space, self.kit(space, teams)) for space in governed]
        # Round-robin, so every namespace has its first policy before any has a second.
        while budget > 0 and kits:
            for space, policies in kits[:budget]:
                name, spec = next(policies)
                docs.append(self.policy_doc(space.name, name, spec))
            budget -= min(budget, len(kits))
        return docs

    # --- the whole export -------------------------------------------------------

    def documents(self) -> list[Doc]:
        spaces = self.plan()
        infrastructure = self.infrastructure()
        docs = [self.namespace_doc(name, labels) for name, labels, _ in infrastructure]
        docs += [self.namespace_doc(space.name, space.labels()) for space in spaces]
        for name, _, apps in infrastructure:
            for app in apps:
                docs += self.app_docs(name, app)
        for space in spaces:
            for app in space.apps:
                docs += self.app_docs(space.name, app)
        docs += self.policy_docs(spaces)
        return docs


class NoAliasDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """kubectl prints no anchors, and shared sub-dicts (ipBlocks, ports) would get them."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def documents(pods: int, policies: int, seed: int = 1) -> list[Doc]:
    """The cluster's objects, in export order."""
    return HardGenerator(pods, policies, seed).documents()


def to_yaml(docs: list[Doc]) -> str:
    """Multi-document YAML, one object per document."""
    return yaml.dump_all(docs, Dumper=NoAliasDumper, sort_keys=False)


def generate(pods: int, policies: int, seed: int = 1) -> str:
    """The cluster as one multi-document YAML text."""
    return to_yaml(documents(pods, policies, seed))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--policies", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    try:
        text = generate(args.pods, args.policies, args.seed)
    except ValueError as err:
        parser.error(str(err))
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
