"""The diagram page's why / why not for a node to itself, in headless Chromium against a
real server process: a one-pod node is always allowed, a replicated workload is answered
for two of its pods (so a default-deny policy refuses it), and a hostNetwork end carries
the node-address note.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from browserfixtures import PageWatch, ServerProcess, pick_node, wait_ready

pytestmark = pytest.mark.browser


def pods(kind: str, name: str, replicas: int, host_network: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "main", "image": "example"}]}
    if host_network:
        spec["hostNetwork"] = True
    labels = {"app": name}
    if kind == "Pod":
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "labels": labels},
            "spec": spec,
        }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
    }


MANIFESTS = yaml.safe_dump_all(
    [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
        pods("Pod", "solo", 1),
        pods("Deployment", "api", 3),
        pods("Deployment", "agent", 2, host_network=True),
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "deny-in", "namespace": "shop"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        },
    ]
).encode()


@pytest.fixture
def page(context: Any, server: ServerProcess) -> Iterator[tuple[Any, PageWatch]]:
    tab = context.new_page()
    watch = PageWatch(tab, server.url)
    answer = server.post_analysis([("shop.yaml", MANIFESTS)])
    tab.goto(server.url + answer["url"])
    wait_ready(tab)
    yield tab, watch
    watch.assert_clean()


def ask_itself(tab: Any, label: str) -> str:
    pick_node(tab, "#why-from", label)
    pick_node(tab, "#why-to", label)
    tab.evaluate("document.body.dataset.why = ''")
    tab.click("#why-explain")
    tab.wait_for_function("() => ['allowed', 'denied'].includes(document.body.dataset.why)")
    return str(tab.evaluate("document.body.dataset.why"))


def test_why_of_a_one_pod_node_to_itself_is_allowed(page: tuple[Any, PageWatch]) -> None:
    tab, _ = page
    assert ask_itself(tab, "shop/solo") == "allowed"
    text = tab.locator("#why-result").inner_text()
    assert text.startswith("Allowed")
    assert "A pod's traffic to itself is always allowed" in text
    assert tab.locator("#why-result .why-verdict").get_attribute("data-self") == "same-pod"


def test_why_of_a_replicated_workload_to_itself_is_about_two_of_its_pods(
    page: tuple[Any, PageWatch],
) -> None:
    tab, _ = page
    assert ask_itself(tab, "shop/api") == "denied"
    text = tab.locator("#why-result").inner_text()
    assert "Traffic between two pods of shop/Deployment/api is denied" in text
    assert "isolated for ingress by shop/deny-in" in text
    assert "each pod's traffic to itself is always allowed" in text
    verdict = tab.locator("#why-result .why-verdict")
    assert verdict.get_attribute("data-self") == "pods-of-one-workload"


def test_why_with_a_host_network_end_shows_the_node_address_note(
    page: tuple[Any, PageWatch],
) -> None:
    tab, _ = page
    assert ask_itself(tab, "shop/agent") == "allowed"
    note = tab.locator("#why-result .why-note")
    assert note.get_attribute("data-code") == "host-network-node-address"
    assert note.inner_text().startswith(
        "shop/agent: A hostNetwork pod's traffic uses its node's address"
    )
