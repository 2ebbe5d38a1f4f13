"""cni-enforcement: policies only work where the network plugin enforces them.

"Prerequisites" (https://kubernetes.io/docs/concepts/services-networking/
network-policies/#prerequisites): NetworkPolicies are implemented by the
network plugin; creating one without a plugin that supports it has no effect.
"""

from __future__ import annotations

from collections.abc import Iterator

from webapp.core.findings.registry import Hit, Level, Result, check
from webapp.core.findings.upload import Upload

CNI_NOTE = (
    "NetworkPolicies do nothing unless the cluster's network plugin (CNI) enforces them: "
    "kindnet (the kind and minikube default) and Flannel do not, while Calico, Cilium, "
    "kube-router, Weave Net and Romana do"
)


@check(
    id="cni-enforcement",
    severity=Level.INFO,
    summary="NetworkPolicies are only enforced by network plugins (CNIs) that implement them.",
)
def cni_enforcement(u: Upload) -> Iterator[Result]:
    """Said once, for any upload with policies."""
    if u.policies:
        yield Hit(CNI_NOTE)
