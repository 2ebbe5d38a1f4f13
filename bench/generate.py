"""Deterministic synthetic clusters for benchmarking `netpol-viz analyze`.

Writes one multi-document YAML file shaped like a `kubectl get -o yaml`
export of a real cluster: Namespaces with team/env labels, Pods listed one
by one with ownerReferences to their ReplicaSet (or StatefulSet) so they
group back into workloads, and exactly the requested number of
NetworkPolicies.

The policy mix follows what real clusters do, because that is what keeps
the number of allowed flows proportional to the cluster rather than
quadratic: almost every app namespace is default-deny (ingress and egress),
about half of them also allow DNS to kube-dns, and the rest of the budget
goes to narrow allow rules (same-namespace, namespace+pod peers, ipBlock
with except, endPort, every selector operator). A handful of "legacy"
namespaces stay open, as in real clusters.

    python bench/generate.py --pods 5000 --policies 1000 --seed 1 -o /tmp/c5k.yaml

The same arguments always give the same text (one seeded `random.Random`,
no clock, no uuid4).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

Doc = dict[str, Any]

NAME_LABEL = "kubernetes.io/metadata.name"
HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet kube-controller-manager uses
ENVS = ("prod", "staging", "dev")
ENV_WEIGHTS = (5, 3, 2)
PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
# A small fixed pool: real clusters name a few SaaS providers many times, and
# every distinct CIDR adds external nodes to the analysis.
PROVIDER_CIDRS = ["203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/25", "100.64.0.0/10"]

DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
INFRA_PODS = 3  # coredns x2 in kube-system, prometheus-0 in monitoring


@dataclass(frozen=True)
class Role:
    """What a workload of one kind looks like: its tier and the ports it names."""

    tier: str
    http_ports: tuple[int, ...]
    extra_ports: tuple[tuple[str, int], ...] = ()


ROLES: dict[str, Role] = {
    # The same port name means different numbers on different workloads, so
    # a policy naming `http` must be resolved per destination.
    "web": Role("frontend", (8080, 3000)),
    "api": Role("api", (9090, 8000, 8443)),
    "worker": Role("worker", (8081, 9000)),
    "cache": Role("cache", (8080,), (("redis", 6379),)),
}
# Every namespace serves something (a web front first); what follows varies.
LATER_ROLES = ("api", "api", "worker", "cache")


@dataclass
class Workload:
    kind: str  # Deployment, StatefulSet or Pod (bare)
    name: str
    labels: dict[str, str]
    ports: list[dict[str, Any]]
    replicas: int


@dataclass
class AppNamespace:
    name: str
    team: str
    env: str
    workloads: list[Workload] = field(default_factory=list)

    def has_tier(self, tier: str) -> bool:
        return any(w.labels.get("tier") == tier for w in self.workloads)


class Generator:
    """Builds one synthetic cluster; every random choice comes from `self.rng`."""

    def __init__(self, pods: int, policies: int, seed: int) -> None:
        if pods < INFRA_PODS:
            raise ValueError(f"--pods must be at least {INFRA_PODS}")
        if policies < 0:
            raise ValueError("--policies must not be negative")
        self.pods = pods
        self.policies = policies
        self.rng = random.Random(seed)

    # --- small deterministic helpers -------------------------------------

    def _uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _hash(self, length: int) -> str:
        return "".join(self.rng.choice(HASH_ALPHABET) for _ in range(length))

    # --- the cluster's shape ---------------------------------------------

    def plan_namespaces(self) -> list[AppNamespace]:
        total_namespaces = max(3, round(self.pods / 10))
        count = max(1, total_namespaces - 2)  # kube-system and monitoring are the other two
        teams = [f"team-{i}" for i in range(max(2, count // 5))]
        namespaces = []
        for i in range(count):
            team = self.rng.choice(teams)
            env = self.rng.choices(ENVS, ENV_WEIGHTS)[0]
            namespaces.append(AppNamespace(f"{team}-{env}-{i}", team, env))
        app_pods = self.pods - INFRA_PODS
        for i, ns in enumerate(namespaces):
            share = app_pods // count + (1 if i < app_pods % count else 0)
            ns.workloads = self.plan_workloads(share)
        return namespaces

    def plan_workloads(self, pods: int) -> list[Workload]:
        workloads: list[Workload] = []
        used: dict[str, int] = {}

        def unique(base: str) -> str:
            used[base] = used.get(base, 0) + 1
            return base if used[base] == 1 else f"{base}-{used[base]}"

        remaining = pods
        if remaining >= 3 and self.rng.random() < 0.2:
            replicas = self.rng.randint(1, 3)
            engine, port = self.rng.choice([("postgres", 5432), ("mysql", 3306)])
            workloads.append(Workload(
                "StatefulSet", unique("db"),
                {"app": "db", "tier": "db", "engine": engine},
                [{"name": engine, "containerPort": port},
                 {"name": "metrics", "containerPort": 9187}],
                replicas,
            ))
            remaining -= replicas
        if remaining >= 2 and self.rng.random() < 0.04:
            workloads.append(Workload("Pod", "debug-" + self._hash(5), {"run": "debug"}, [], 1))
            remaining -= 1
        step = 0
        while remaining > 0:
            role_name = "web" if step == 0 else self.rng.choice(LATER_ROLES)
            role = ROLES[role_name]
            replicas = min(remaining, self.rng.randint(3, 7))
            name = unique(role_name)
            ports = [{"name": "http", "containerPort": self.rng.choice(role.http_ports)}]
            ports += [{"name": n, "containerPort": p} for n, p in role.extra_ports]
            ports.append({"name": "metrics", "containerPort": 9100 + self.rng.randint(1, 98)})
            workloads.append(Workload(
                "Deployment", name, {"app": name, "tier": role.tier}, ports, replicas,
            ))
            remaining -= replicas
            step += 1
        return workloads

    # --- documents ---------------------------------------------------------

    def namespace_doc(self, name: str, labels: dict[str, str]) -> Doc:
        return {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
                "labels": {NAME_LABEL: name, **labels},
                "uid": self._uid(),
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }

    def pod_docs(self, namespace: str, workload: Workload, image: str) -> Iterator[Doc]:
        container: Doc = {"name": workload.name, "image": image}
        owner: dict[str, str] | None
        if workload.ports:
            container["ports"] = workload.ports
        if workload.kind == "Deployment":
            pod_hash = self._hash(10)
            owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                     "name": f"{workload.name}-{pod_hash}"}
            extra = {"pod-template-hash": pod_hash}
            names = [f"{workload.name}-{pod_hash}-{self._hash(5)}"
                     for _ in range(workload.replicas)]
        elif workload.kind == "StatefulSet":
            owner = {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": workload.name}
            extra = {"controller-revision-hash": f"{workload.name}-{self._hash(10)}"}
            names = [f"{workload.name}-{i}" for i in range(workload.replicas)]
        else:
            owner, extra, names = None, {}, [workload.name]
        owner_uid = self._uid()
        for name in names:
            metadata: Doc = {
                "name": name,
                "namespace": namespace,
                "labels": {**workload.labels, **extra},
            }
            if owner is not None:
                metadata["ownerReferences"] = [
                    {**owner, "uid": owner_uid, "controller": True},
                ]
            yield {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": metadata,
                "spec": {"containers": [container]},
            }

    @staticmethod
    def policy_doc(namespace: str, name: str, spec: Doc) -> Doc:
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }

    # --- policies ------------------------------------------------------------

    def feature_specs(
        self, teams: list[str],
    ) -> list[tuple[str, Callable[[AppNamespace], bool], Callable[[AppNamespace], Doc]]]:
        """Narrow allow rules, in the order they are handed out (so every kind appears)."""
        rng = self.rng

        def same_namespace(ns: AppNamespace) -> Doc:
            return {
                "podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": {"matchExpressions": [
                    {"key": "quarantine", "operator": "DoesNotExist"},
                ]}}]}],
                "egress": [{"to": [{"podSelector": {}}]}],
            }

        def api_from_team_frontends(ns: AppNamespace) -> Doc:
            # Namespace AND pod in one peer; `http` resolves per destination.
            return {
                "podSelector": {"matchLabels": {"tier": "api"}},
                "policyTypes": ["Ingress"],
                "ingress": [{
                    "from": [{
                        "namespaceSelector": {"matchLabels": {"team": rng.choice(teams)}},
                        "podSelector": {"matchLabels": {"tier": "frontend"}},
                    }],
                    "ports": [{"protocol": "TCP", "port": "http"}],
                }],
            }

        def frontend_to_apis(ns: AppNamespace) -> Doc:
            return {
                "podSelector": {"matchLabels": {"tier": "frontend"}},
                "policyTypes": ["Egress"],
                "egress": [{
                    "to": [{
                        "namespaceSelector": {"matchExpressions": [
                            {"key": "env", "operator": "In", "values": [ns.env]},
                        ]},
                        "podSelector": {"matchExpressions": [
                            {"key": "tier", "operator": "In", "values": ["api"]},
                        ]},
                    }],
                    "ports": [{"protocol": "TCP", "port": "http"}],
                }],
            }

        def db_from_apps(ns: AppNamespace) -> Doc:
            return {
                "podSelector": {"matchLabels": {"tier": "db"}},
                "policyTypes": ["Ingress"],
                "ingress": [{
                    "from": [{"podSelector": {"matchExpressions": [
                        {"key": "tier", "operator": "In", "values": ["api", "worker"]},
                        {"key": "run", "operator": "NotIn", "values": ["debug"]},
                    ]}}],
                    "ports": [{"protocol": "TCP", "port": "postgres"},
                              {"protocol": "TCP", "port": "mysql"}],
                }],
            }

        def egress_internet(ns: AppNamespace) -> Doc:
            return {
                "podSelector": {"matchLabels": {"tier": "worker"}},
                "policyTypes": ["Egress"],
                "egress": [
                    {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_RANGES}}],
                     "ports": [{"protocol": "TCP", "port": 443}]},
                    {"to": [{"ipBlock": {"cidr": rng.choice(PROVIDER_CIDRS)}}],
                     "ports": [{"protocol": "TCP", "port": 8443}]},
                ],
            }

        def prometheus_scrape(ns: AppNamespace) -> Doc:
            return {
                "podSelector": {"matchExpressions": [
                    {"key": "tier", "operator": "Exists"},
                ]},
                "policyTypes": ["Ingress"],
                "ingress": [{
                    "from": [{
                        "namespaceSelector": {"matchLabels": {"team": "platform"}},
                        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
                    }],
                    "ports": [{"protocol": "TCP", "port": 9100, "endPort": 9199}],
                }],
            }

        def cache_from_unquarantined(ns: AppNamespace) -> Doc:
            return {
                "podSelector": {"matchLabels": {"tier": "cache"}},
                "policyTypes": ["Ingress"],
                "ingress": [{
                    "from": [{"podSelector": {"matchExpressions": [
                        {"key": "quarantine", "operator": "DoesNotExist"},
                    ]}}],
                    "ports": [{"protocol": "TCP", "port": "redis"}],
                }],
            }

        def always(ns: AppNamespace) -> bool:
            return True

        return [
            ("allow-same-namespace", always, same_namespace),
            ("allow-api-from-frontends", lambda ns: ns.has_tier("api"), api_from_team_frontends),
            ("allow-frontend-to-apis", lambda ns: ns.has_tier("frontend"), frontend_to_apis),
            ("allow-db-from-apps", lambda ns: ns.has_tier("db"), db_from_apps),
            ("allow-egress-internet", lambda ns: ns.has_tier("worker"), egress_internet),
            ("allow-prometheus-scrape", always, prometheus_scrape),
            ("allow-cache-from-unquarantined", lambda ns: ns.has_tier("cache"),
             cache_from_unquarantined),
        ]

    def policy_docs(self, namespaces: list[AppNamespace]) -> list[Doc]:
        budget = self.policies
        # A few legacy namespaces stay open, as in real clusters; the rest deny.
        # Open namespaces reach each other (and are reached by every open
        # egress), so their number grows as a square root to keep flows linear.
        open_count = math.isqrt(len(namespaces)) // 3
        order = namespaces[:]
        self.rng.shuffle(order)
        denying = order[open_count:][:budget]
        docs = [
            self.policy_doc(ns.name, "default-deny",
                            {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
            for ns in denying
        ]
        budget -= len(docs)
        if not denying:
            denying = order  # too few namespaces to deny: allow rules go anywhere
        dns_count = min(len(denying), (budget + 1) // 2)
        for ns in self.rng.sample(denying, dns_count):
            docs.append(self.policy_doc(ns.name, "allow-dns", {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [{
                    "to": [{
                        "namespaceSelector": {"matchLabels": {NAME_LABEL: "kube-system"}},
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                    }],
                    "ports": DNS_PORTS,
                }],
            }))
        budget -= dns_count
        features = self.feature_specs(sorted({ns.team for ns in namespaces}))
        names_used: dict[tuple[str, str], int] = {}
        step = turn = 0
        while budget > 0:
            ns = denying[step % len(denying)]
            # The next kind in turn that fits this namespace's workloads.
            turn = next(
                t for t in range(turn, turn + len(features))
                if features[t % len(features)][1](ns)
            )
            base, _, build = features[turn % len(features)]
            turn += 1
            count = names_used[(ns.name, base)] = names_used.get((ns.name, base), 0) + 1
            name = base if count == 1 else f"{base}-{count}"
            docs.append(self.policy_doc(ns.name, name, build(ns)))
            budget -= 1
            step += 1
        return docs

    # --- the whole file ------------------------------------------------------

    def documents(self) -> list[Doc]:
        namespaces = self.plan_namespaces()
        docs: list[Doc] = [
            self.namespace_doc("kube-system", {"team": "platform", "env": "system"}),
            self.namespace_doc("monitoring", {"team": "platform", "env": "prod"}),
        ]
        docs += [self.namespace_doc(ns.name, {"team": ns.team, "env": ns.env})
                 for ns in namespaces]
        coredns = Workload(
            "Deployment", "coredns", {"k8s-app": "kube-dns"},
            [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
             {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
             {"name": "metrics", "containerPort": 9153, "protocol": "TCP"}],
            2,
        )
        docs += self.pod_docs("kube-system", coredns, "registry.k8s.io/coredns/coredns:v1.11.3")
        prometheus = Workload(
            "StatefulSet", "prometheus-k8s", {"app.kubernetes.io/name": "prometheus"},
            [{"name": "web", "containerPort": 9090}], 1,
        )
        docs += self.pod_docs("monitoring", prometheus, "quay.io/prometheus/prometheus:v2.54.1")
        for ns in namespaces:
            for workload in ns.workloads:
                tag = f"1.{self.rng.randint(0, 20)}"
                image = f"registry.example.com/{ns.team}/{workload.name}:{tag}"
                docs += self.pod_docs(ns.name, workload, image)
        docs += self.policy_docs(namespaces)
        return docs


class ExportDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """kubectl never prints anchors; shared dicts (one container per workload) must not get them."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def generate(pods: int, policies: int, seed: int = 1) -> str:
    """The cluster as one multi-document YAML text."""
    docs = Generator(pods, policies, seed).documents()
    return yaml.dump_all(docs, Dumper=ExportDumper, sort_keys=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
