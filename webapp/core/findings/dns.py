"""egress-blocks-dns: a pod isolated for egress is denied DNS unless a rule allows it.

"Default deny all egress traffic" (https://kubernetes.io/docs/concepts/
services-networking/network-policies/#default-deny-all-egress-traffic): an
egress-isolated pod may connect only where its rules allow, and cluster DNS
(kube-dns pods in kube-system, UDP and TCP 53) is no exception.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from webapp.core.findings.registry import Hit, Level, Result, check
from webapp.core.findings.upload import Upload
from webapp.core.findings.wording import names, node_text
from webapp.core.model import (
    NAME_LABEL,
    AnyPeer,
    ContainerPort,
    Direction,
    IPBlockPeer,
    NodeType,
    PodPeer,
    Policy,
    Protocol,
)
from webapp.core.portset import NO_PORTS, PortSet, resolve_ports
from webapp.core.scene import Endpoint

DNS_NAMESPACE = "kube-system"
DNS_LABEL = ("k8s-app", "kube-dns")
DNS_PORT = 53


@check(
    id="egress-blocks-dns",
    severity=Level.HIGH,
    summary="An egress-isolated workload cannot reach cluster DNS (kube-dns) on UDP and TCP 53, "
    "so it cannot resolve names (medium when only TCP 53 is blocked).",
)
def egress_blocks_dns(u: Upload) -> Iterator[Result]:
    """Default deny egress cuts DNS too: an egress-isolated pod must be allowed port 53."""
    dns = [e for e in u.scene.endpoints if _is_dns(e)]
    reach = u.ports_into({d.id for d in dns})
    for e in u.scene.endpoints:
        policies = _egress_isolating(u, e)
        if not policies or _is_dns(e):
            continue
        if dns:
            allowed = reach.get(e.id, NO_PORTS)
            target = f"DNS ({names(d.name for d in dns)} in {DNS_NAMESPACE})"
        else:
            allowed = _dns_ports_without_pods(u, policies)
            target = f"DNS (k8s-app=kube-dns pods in {DNS_NAMESPACE}, none uploaded)"
        missing = [p for p in (Protocol.UDP, Protocol.TCP) if (p, DNS_PORT) not in allowed]
        if not missing:
            continue
        blocked = " and ".join(f"{p} {DNS_PORT}" for p in missing)
        # UDP carries every DNS query; TCP only the answers too large for UDP.
        consequence = (
            "it cannot resolve names"
            if Protocol.UDP in missing
            else "large DNS answers, which fall back to TCP, fail"
        )
        yield Hit(
            f"{node_text(e)} is isolated for egress by {names(p.id for p in policies)} "
            f"and cannot reach {target} on {blocked}: {consequence}; allow egress to "
            f"k8s-app=kube-dns pods in {DNS_NAMESPACE} on UDP and TCP {DNS_PORT}",
            (e.id, *(d.id for d in dns)),
            tuple(p.id for p in policies),
            policies[0].source,
            severity=Level.HIGH if Protocol.UDP in missing else Level.MEDIUM,
        )


def _egress_isolating(u: Upload, e: Endpoint) -> tuple[Policy, ...]:
    if e.type is NodeType.IPBLOCK:
        return ()
    return u.evaluation.isolation[e.id][Direction.EGRESS]


def _is_dns(e: Endpoint) -> bool:
    return (
        e.type is not NodeType.IPBLOCK
        and e.namespace == DNS_NAMESPACE
        and dict(e.labels).get(DNS_LABEL[0]) == DNS_LABEL[1]
    )


def _dns_ports_without_pods(u: Upload, policies: Sequence[Policy]) -> PortSet:
    """Port 53 allowed by egress rules that could reach DNS, when no DNS pod is known.

    A stand-in kube-dns pod (kube-system, k8s-app=kube-dns, ports `dns`/UDP
    and `dns-tcp`/TCP 53 as kubeadm names them) is matched against the peers.
    An ipBlock counts only with an explicit port, since DNS may be addressed
    by a node-local or service address while "all ports to a range" is not DNS.
    """
    ns = u.scene.namespaces.get(DNS_NAMESPACE)
    ns_labels = dict(ns.labels) if ns else {NAME_LABEL: DNS_NAMESPACE}
    pod_labels = dict([DNS_LABEL])
    ports = (
        ContainerPort("dns", DNS_PORT, Protocol.UDP),
        ContainerPort("dns-tcp", DNS_PORT, Protocol.TCP),
    )
    allowed = NO_PORTS
    for policy in policies:
        for rule in policy.egress:
            reaches = any(
                isinstance(peer, AnyPeer)
                or (isinstance(peer, IPBlockPeer) and bool(rule.ports))
                or (
                    isinstance(peer, PodPeer)
                    and peer.namespace_selector.matches(ns_labels)
                    and peer.pod_selector.matches(pod_labels)
                )
                for peer in rule.peers
            )
            if reaches:
                allowed = allowed | resolve_ports(rule.ports, ports)
    return allowed
