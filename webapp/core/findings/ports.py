"""named-port-undefined: a named port that no destination of its rule defines.

A named port in a rule is looked up in each destination pod's container
ports with the rule's protocol (NetworkPolicyPort, https://kubernetes.io/docs/
reference/kubernetes-api/policy-resources/network-policy-v1/); a destination
without that name gets nothing from that entry, and external addresses have
no named ports at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from webapp.core.findings.registry import Hit, Level, Result, Unchecked, check
from webapp.core.findings.upload import Upload
from webapp.core.findings.wording import names, rule_path
from webapp.core.model import Direction, NodeType, PortSpec
from webapp.core.scene import Endpoint
from webapp.core.text import shorten


@check(
    id="named-port-undefined",
    severity=Level.MEDIUM,
    summary="A rule names a port that no destination it applies to defines, so that entry "
    "allows nothing.",
    needs_workloads=True,
)
def named_port_undefined(u: Upload) -> Iterator[Result]:
    """A named port resolves on each destination pod's container ports, or allows nothing."""
    for policy, rule in u.rules():
        named = [(j, s) for j, s in enumerate(rule.ports) if isinstance(s.port, str)]
        if not named:
            continue
        if rule.direction is Direction.INGRESS:
            destinations = u.endpoints_of(u.selected(policy))
        else:
            destinations = u.peer_endpoints(rule)
        pods = [d for d in destinations if d.type is not NodeType.IPBLOCK]
        external = len(pods) < len(destinations)
        if not pods and not external:
            continue  # the rule reaches nothing at all: other checks say why
        for j, spec in named:
            if _defines(pods, spec):
                continue
            inferred = [d for d in pods if d.type is NodeType.INFERRED]
            if inferred:
                yield Unchecked(
                    namespaces=tuple(sorted({d.namespace or "" for d in inferred})),
                    policies=(policy.id,),
                )
                continue
            yield Hit(
                f"{rule_path(rule)}.ports[{j}] of {shorten(policy.id)} names port "
                f"{shorten(spec.port)} ({spec.protocol}), which no destination of the "
                f"rule defines{_why(pods, spec, external)}: this entry allows nothing",
                tuple(d.id for d in pods),
                (policy.id,),
                rule.source,
            )


def _defines(pods: Sequence[Endpoint], spec: PortSpec) -> bool:
    return any(
        cp.name == spec.port and cp.protocol is spec.protocol for d in pods for cp in d.ports
    )


def _why(pods: Sequence[Endpoint], spec: PortSpec, external: bool) -> str:
    """Which destinations were looked at, or which define the name for another protocol."""
    other_protocol = [
        f"{d.namespace}/{d.name}" for d in pods if any(cp.name == spec.port for cp in d.ports)
    ]
    if other_protocol:
        hint = f"; {names(other_protocol)} define it for another protocol"
    elif pods:
        hint = f" ({names(f'{d.namespace}/{d.name}' for d in pods)})"
    else:
        hint = ""
    if external:
        hint += "; external addresses have no named ports"
    return hint
