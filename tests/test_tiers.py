"""Named table cases, one per rule of the tier algorithm for cluster-wide policies
(../shared/docs/cluster-network-policy.md §3.2; the API types' doc comments are the authority).

Per direction: the Admin tier by (priority, name), each policy's rules in written
order, first match wins (Accept, Deny final; Pass skips the rest of the Admin
tier); then NetworkPolicy where it isolates that direction; then the Baseline
tier (Pass -> default); then allow. A connection needs egress and ingress.

The ClusterNetworkPolicy YAML reader is built separately, so each case builds the
model objects (tests/cnpbuild.py) and reads what a user gets: the group flows and
denials expanded to node pairs, and the explanation of the pair and port.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import pytest
from cnpbuild import (
    accept,
    cnp,
    deny,
    domain,
    in_namespace,
    inventory,
    named,
    namespace,
    namespaces,
    netpol,
    networks,
    node,
    nodes,
    pass_,
    pods,
    tcp,
    workload,
)

from webapp.core import Analysis
from webapp.core.document import build_document
from webapp.core.evaluate import evaluate
from webapp.core.explain import chain_text, explain, find_address
from webapp.core.groups import expand_pairs
from webapp.core.model import NAME_LABEL, Inventory, IPBlockPeer, Protocol, Tier
from webapp.review import explanation_json, explanation_text

TCP, UDP = Protocol.TCP, Protocol.UDP

NAMESPACES = [
    namespace("t1", tenant="one"),
    namespace("t2", tenant="two"),
    namespace("mon", tenant="ops"),
]
WORKLOADS = [
    workload("t1", "web", {"app": "web"}),
    workload("t2", "db", {"app": "db"}, [("http", 8080, TCP), ("dns", 53, UDP)]),
    workload("mon", "prom", {"app": "prom"}),
]
WEB, DB, PROM = "t1/Deployment/web", "t2/Deployment/db", "mon/Deployment/prom"
ALL = namespaces()
DB_SUBJECT = pods({"app": "db"})
WEB_SUBJECT = pods({"app": "web"})


def cluster(*policies: Any, netpols: Any = (), extra: Any = (), nodes_: Any = ()) -> Inventory:
    return inventory(NAMESPACES, [*WORKLOADS, *extra], list(netpols), list(policies), list(nodes_))


@dataclass(frozen=True)
class Seen:
    """What a user gets for one pair and port."""

    allowed: bool
    egress: str
    """The chain that decided egress, in words ("-" for an external end)."""
    ingress: str
    denials: tuple[str, ...]
    """`direction policy rule-index` of each Deny rule listed for this pair and port."""


def seen(inv: Inventory, src: str, dst: str, proto: Protocol = TCP, port: int = 80) -> Seen:
    evaluation, ev = evaluate(inv)
    grouped = evaluation.grouped
    flows = {(f.source, f.target): f.verdict for f in expand_pairs(grouped)}
    verdict = flows.get((src, dst))
    allowed = verdict is not None and (proto, port) in verdict.ports
    why = explain(ev, src, dst, proto, port)
    assert why.allowed == allowed, why.sentence()

    def side(s: Any) -> str:
        return "; ".join(chain_text(c, s.policies) for c in s.chains) or "-"

    members = {g.id: g.members for g in grouped.groups}
    denials = tuple(
        f"{d.direction} {d.rule.policy.name} [{d.rule.rule.index}]"
        for d in grouped.denials
        if src in members[d.source] and dst in members[d.target] and (proto, port) in d.ports
    )
    return Seen(allowed, side(why.egress), side(why.ingress), denials)


DEFAULT = "no rule decides: allowed by default"

CASES = [
    pytest.param(
        cluster(
            cnp("admin", DB_SUBJECT, ingress=[accept(in_namespace("t1"), name="web-in")]),
            netpols=[netpol("t2", "deny-in", ingress=[])],
        ),
        (WEB, DB, TCP, 80),
        Seen(
            True,
            DEFAULT,
            "Admin ClusterNetworkPolicy/admin priority 10 ingress[0] 'web-in' Accept",
            (),
        ),
        id="admin-accept-is-final-before-networkpolicy",
    ),
    pytest.param(
        cluster(cnp("admin", DB_SUBJECT, ingress=[deny(ALL, name="no-one")])),
        (WEB, DB, TCP, 80),
        Seen(
            False,
            DEFAULT,
            "Admin ClusterNetworkPolicy/admin priority 10 ingress[0] 'no-one' Deny",
            ("ingress admin [0]",),
        ),
        id="admin-deny-drops-traffic-no-networkpolicy-isolates",
    ),
    pytest.param(
        cluster(
            cnp("admin", DB_SUBJECT, ingress=[pass_(in_namespace("mon"), name="pass-mon")]),
            netpols=[netpol("t2", "scrape", ingress=[([in_namespace("mon")], [tcp(9090)])])],
        ),
        (PROM, DB, TCP, 9090),
        Seen(
            True,
            DEFAULT,
            "Admin ClusterNetworkPolicy/admin priority 10 ingress[0] 'pass-mon' Pass → "
            "NetworkPolicy t2/scrape ingress[0] allows",
            (),
        ),
        id="admin-pass-hands-over-to-networkpolicy-which-allows",
    ),
    pytest.param(
        cluster(
            cnp("admin", DB_SUBJECT, ingress=[pass_(in_namespace("mon"), name="pass-mon")]),
            netpols=[netpol("t2", "scrape", ingress=[([in_namespace("mon")], [tcp(9090)])])],
        ),
        (PROM, DB, TCP, 80),
        Seen(
            False,
            DEFAULT,
            "Admin ClusterNetworkPolicy/admin priority 10 ingress[0] 'pass-mon' Pass → "
            "NetworkPolicy isolates it (t2/scrape) and no rule allows it",
            (),
        ),
        id="admin-pass-hands-over-to-networkpolicy-which-isolates",
    ),
    pytest.param(
        cluster(
            cnp("first", DB_SUBJECT, priority=10, ingress=[pass_(ALL, name="p")]),
            cnp("second", DB_SUBJECT, priority=20, ingress=[deny(ALL, name="d")]),
        ),
        (WEB, DB, TCP, 80),
        Seen(
            True,
            DEFAULT,
            "Admin ClusterNetworkPolicy/first priority 10 ingress[0] 'p' Pass → allowed by default",
            (),
        ),
        id="admin-pass-skips-the-rest-of-the-admin-tier",
    ),
    pytest.param(
        cluster(
            cnp("admin", DB_SUBJECT, ingress=[pass_(ALL, name="p")]),
            cnp("base", DB_SUBJECT, tier=Tier.BASELINE, ingress=[deny(ALL, name="d")]),
        ),
        (WEB, DB, TCP, 80),
        Seen(
            False,
            DEFAULT,
            "Admin ClusterNetworkPolicy/admin priority 10 ingress[0] 'p' Pass → "
            "Baseline ClusterNetworkPolicy/base priority 10 ingress[0] 'd' Deny",
            ("ingress base [0]",),
        ),
        id="admin-pass-skips-only-the-admin-tier-baseline-still-decides",
    ),
    pytest.param(
        cluster(
            cnp("z-late", DB_SUBJECT, priority=20, ingress=[accept(ALL)]),
            cnp("a-early", DB_SUBJECT, priority=5, ingress=[deny(ALL)]),
        ),
        (WEB, DB, TCP, 80),
        Seen(
            False,
            DEFAULT,
            "Admin ClusterNetworkPolicy/a-early priority 5 ingress[0] Deny",
            ("ingress a-early [0]",),
        ),
        id="lower-priority-number-wins",
    ),
    pytest.param(
        cluster(
            cnp("b-deny", DB_SUBJECT, priority=10, ingress=[deny(ALL)]),
            cnp("a-accept", DB_SUBJECT, priority=10, ingress=[accept(ALL)]),
        ),
        (WEB, DB, TCP, 80),
        Seen(
            True, DEFAULT, "Admin ClusterNetworkPolicy/a-accept priority 10 ingress[0] Accept", ()
        ),
        id="equal-priorities-break-ties-by-name-not-upload-order",
    ),
    pytest.param(
        cluster(cnp("admin", DB_SUBJECT, ingress=[accept(ALL, name="a"), deny(ALL, name="d")])),
        (WEB, DB, TCP, 80),
        Seen(
            True, DEFAULT, "Admin ClusterNetworkPolicy/admin priority 10 ingress[0] 'a' Accept", ()
        ),
        id="first-rule-in-written-order-wins-accept",
    ),
    pytest.param(
        cluster(cnp("admin", DB_SUBJECT, ingress=[deny(ALL, name="d"), accept(ALL, name="a")])),
        (WEB, DB, TCP, 80),
        Seen(
            False,
            DEFAULT,
            "Admin ClusterNetworkPolicy/admin priority 10 ingress[0] 'd' Deny",
            ("ingress admin [0]",),
        ),
        id="first-rule-in-written-order-wins-deny",
    ),
    pytest.param(
        cluster(cnp("admin", DB_SUBJECT, ingress=[deny(in_namespace("mon"))])),
        (WEB, DB, TCP, 80),
        Seen(True, DEFAULT, DEFAULT, ()),
        id="a-rule-whose-peers-do-not-match-decides-nothing",
    ),
    pytest.param(
        cluster(
            cnp("base", DB_SUBJECT, tier=Tier.BASELINE, ingress=[accept(ALL)]),
            netpols=[netpol("t2", "deny-in", ingress=[])],
        ),
        (WEB, DB, TCP, 80),
        Seen(False, DEFAULT, "NetworkPolicy isolates it (t2/deny-in) and no rule allows it", ()),
        id="networkpolicy-isolating-a-direction-is-final-baseline-not-reached",
    ),
    pytest.param(
        cluster(
            cnp("base", DB_SUBJECT, tier=Tier.BASELINE, ingress=[deny(ALL, name="d")]),
            netpols=[netpol("t2", "egress-only", egress=[])],
        ),
        (WEB, DB, TCP, 80),
        Seen(
            False,
            DEFAULT,
            "Baseline ClusterNetworkPolicy/base priority 10 ingress[0] 'd' Deny",
            ("ingress base [0]",),
        ),
        id="egress-only-networkpolicy-hands-ingress-over-to-baseline",
    ),
    pytest.param(
        cluster(
            cnp("base", DB_SUBJECT, tier=Tier.BASELINE, egress=[accept(ALL, name="a")]),
            netpols=[netpol("t2", "egress-only", egress=[])],
        ),
        (DB, WEB, TCP, 80),
        Seen(
            False, "NetworkPolicy isolates it (t2/egress-only) and no rule allows it", DEFAULT, ()
        ),
        id="egress-only-networkpolicy-is-final-for-egress",
    ),
    pytest.param(
        cluster(cnp("base", DB_SUBJECT, tier=Tier.BASELINE, ingress=[deny(ALL, name="d")])),
        (WEB, DB, TCP, 80),
        Seen(
            False,
            DEFAULT,
            "Baseline ClusterNetworkPolicy/base priority 10 ingress[0] 'd' Deny",
            ("ingress base [0]",),
        ),
        id="baseline-decides-where-no-networkpolicy-isolates",
    ),
    pytest.param(
        cluster(
            cnp("base", DB_SUBJECT, tier=Tier.BASELINE, ingress=[pass_(ALL, name="p"), deny(ALL)])
        ),
        (WEB, DB, TCP, 80),
        Seen(
            True,
            DEFAULT,
            "Baseline ClusterNetworkPolicy/base priority 10 ingress[0] 'p' Pass → "
            "allowed by default",
            (),
        ),
        id="baseline-pass-goes-to-the-default-allow",
    ),
    pytest.param(
        cluster(cnp("admin", WEB_SUBJECT, ingress=[deny(ALL)])),
        (PROM, DB, TCP, 80),
        Seen(True, DEFAULT, DEFAULT, ()),
        id="default-allow-when-no-policy-has-it-as-subject",
    ),
    pytest.param(
        cluster(
            cnp("out", WEB_SUBJECT, egress=[accept(ALL, name="out")]),
            cnp("in", DB_SUBJECT, tier=Tier.BASELINE, ingress=[deny(ALL, name="in")]),
        ),
        (WEB, DB, TCP, 80),
        Seen(
            False,
            "Admin ClusterNetworkPolicy/out priority 10 egress[0] 'out' Accept",
            "Baseline ClusterNetworkPolicy/in priority 10 ingress[0] 'in' Deny",
            ("ingress in [0]",),
        ),
        id="egress-accept-does-not-bypass-ingress-at-the-destination",
    ),
    pytest.param(
        cluster(
            cnp("out", WEB_SUBJECT, egress=[accept(ALL)]),
            netpols=[netpol("t2", "deny-in", ingress=[])],
        ),
        (WEB, DB, TCP, 80),
        Seen(
            False,
            "Admin ClusterNetworkPolicy/out priority 10 egress[0] Accept",
            "NetworkPolicy isolates it (t2/deny-in) and no rule allows it",
            (),
        ),
        id="egress-accept-does-not-bypass-an-ingress-networkpolicy",
    ),
    pytest.param(
        cluster(
            cnp("admin", namespaces({"tenant": "one"}), egress=[deny(ALL)]),
            extra=[workload("t1", "agent", {"app": "agent"}, host_network=True)],
        ),
        ("t1/Deployment/agent", DB, TCP, 80),
        Seen(True, "-", DEFAULT, ()),
        id="host-network-pod-is-never-a-subject",
    ),
    pytest.param(
        cluster(
            cnp("admin", DB_SUBJECT, ingress=[deny(ALL)]),
            extra=[workload("t1", "agent", {"app": "agent"}, host_network=True)],
        ),
        ("t1/Deployment/agent", DB, TCP, 80),
        Seen(True, "-", DEFAULT, ()),
        id="host-network-pod-is-never-a-pod-peer",
    ),
    pytest.param(
        cluster(cnp("admin", WEB_SUBJECT, egress=[deny(networks("0.0.0.0/0"))])),
        (WEB, DB, TCP, 80),
        Seen(True, DEFAULT, DEFAULT, ()),
        id="networks-peer-does-not-match-pods",
    ),
    pytest.param(
        cluster(cnp("admin", DB_SUBJECT, ingress=[deny(ALL, ports=[tcp(80)]), accept(ALL)])),
        (WEB, DB, TCP, 80),
        Seen(
            False,
            DEFAULT,
            "Admin ClusterNetworkPolicy/admin priority 10 ingress[0] Deny",
            ("ingress admin [0]",),
        ),
        id="per-port-first-match-deny-80-then-accept-all-denies-80",
    ),
    pytest.param(
        cluster(cnp("admin", DB_SUBJECT, ingress=[deny(ALL, ports=[tcp(80)]), accept(ALL)])),
        (WEB, DB, TCP, 81),
        Seen(True, DEFAULT, "Admin ClusterNetworkPolicy/admin priority 10 ingress[1] Accept", ()),
        id="per-port-first-match-deny-80-then-accept-all-accepts-81",
    ),
    pytest.param(
        cluster(cnp("admin", DB_SUBJECT, ingress=[deny(ALL, ports=named("http"))])),
        (WEB, DB, TCP, 8080),
        Seen(
            False,
            DEFAULT,
            "Admin ClusterNetworkPolicy/admin priority 10 ingress[0] Deny",
            ("ingress admin [0]",),
        ),
        id="named-port-resolves-on-the-destination-pod",
    ),
    pytest.param(
        cluster(cnp("admin", DB_SUBJECT, ingress=[deny(ALL, ports=named("http"))])),
        (WEB, DB, UDP, 8080),
        Seen(True, DEFAULT, DEFAULT, ()),
        id="named-port-carries-the-protocol-of-the-container-port",
    ),
    pytest.param(
        cluster(cnp("admin", WEB_SUBJECT, ingress=[deny(ALL, ports=named("http"))])),
        (DB, WEB, TCP, 8080),
        Seen(True, DEFAULT, DEFAULT, ()),
        id="named-port-missing-on-the-destination-matches-nothing",
    ),
]


@pytest.mark.parametrize(("inv", "pair", "expected"), CASES)
def test_tier_rule(inv: Inventory, pair: tuple[str, str, Protocol, int], expected: Seen) -> None:
    src, dst, proto, port = pair
    assert seen(inv, src, dst, proto, port) == expected


# --- external endpoints: networks, domainNames, nodes ------------------------------------


def region(inv: Inventory, address: str) -> str:
    _, ev = evaluate(inv)
    found = find_address(ev, address)
    assert found is not None
    return found.id


def test_networks_cut_external_regions_like_ipblocks_including_excepts_of_other_ipblocks() -> None:
    """A NetworkPolicy allows 10.0.0.0/8 except 10.1.0.0/16; an Admin Deny of 10.0.5.0/24
    cuts that allowed region, and 10.1.0.0/16 stays refused by the NetworkPolicy alone."""
    np = netpol(
        "t1",
        "out",
        {"app": "web"},
        egress=[
            (
                [
                    IPBlockPeer(
                        ipaddress.ip_network("10.0.0.0/8"), (ipaddress.ip_network("10.1.0.0/16"),)
                    )
                ],
                [],
            )
        ],
    )
    inv = cluster(
        cnp("admin", WEB_SUBJECT, egress=[deny(networks("10.0.5.0/24"), name="lab")]),
        netpols=[np],
    )
    cut, rest, excepted = (region(inv, a) for a in ("10.0.5.7", "10.2.0.1", "10.1.2.3"))
    assert len({cut, rest, excepted}) == 3
    assert seen(inv, WEB, cut) == Seen(
        False,
        "Admin ClusterNetworkPolicy/admin priority 10 egress[0] 'lab' Deny",
        "-",
        ("egress admin [0]",),
    )
    assert seen(inv, WEB, rest) == Seen(True, "NetworkPolicy t1/out egress[0] allows", "-", ())
    assert seen(inv, WEB, excepted) == Seen(
        False, "NetworkPolicy isolates it (t1/out) and no rule allows it", "-", ()
    )


def test_domain_names_are_symbolic_endpoints_that_only_their_own_pattern_matches() -> None:
    inv = cluster(
        cnp(
            "admin",
            WEB_SUBJECT,
            egress=[
                deny(networks("0.0.0.0/0", "::/0"), name="no-internet"),
                accept(domain("*.example.com"), name="example"),
            ],
        ),
        cnp("other", DB_SUBJECT, egress=[accept(domain("api.example.org"))]),
        netpols=[netpol("t1", "out", {"app": "web"}, egress=[])],
    )
    _, ev = evaluate(inv)
    assert {e.id: str(e.type) for e in ev.scene.endpoints if e.type.is_external} == {
        "ipblock:0.0.0.0/0": "ipblock",
        "ipblock:::/0": "ipblock",
        "ipblock:other": "ipblock",
        "dns:*.example.com": "domain",
        "dns:api.example.org": "domain",
    }
    # IP rules never match a DNS name: the Deny of every address leaves it to the Accept.
    assert seen(inv, WEB, "dns:*.example.com", TCP, 443) == Seen(
        True, "Admin ClusterNetworkPolicy/admin priority 10 egress[1] 'example' Accept", "-", ()
    )
    # Another pattern is another endpoint: web's rules do not name it, so its NetworkPolicy decides.
    assert seen(inv, WEB, "dns:api.example.org", TCP, 443) == Seen(
        False, "NetworkPolicy isolates it (t1/out) and no rule allows it", "-", ()
    )
    # Domain endpoints are destinations only: nothing flows from them.
    grouped = evaluate(inv)[0].grouped
    domains = {grouped.group_of["dns:*.example.com"], grouped.group_of["dns:api.example.org"]}
    assert not [f for f in grouped.flows if f.source in domains]


def test_nodes_peer_is_one_symbolic_endpoint_per_selector_without_uploaded_nodes() -> None:
    inv = cluster(
        cnp(
            "admin",
            WEB_SUBJECT,
            egress=[deny(nodes({"role": "cp"}), name="cp"), accept(nodes(), name="nodes")],
        )
    )
    assert seen(inv, WEB, "node:role=cp") == Seen(
        False,
        "Admin ClusterNetworkPolicy/admin priority 10 egress[0] 'cp' Deny",
        "-",
        ("egress admin [0]",),
    )
    assert seen(inv, WEB, "node:all") == Seen(
        True, "Admin ClusterNetworkPolicy/admin priority 10 egress[1] 'nodes' Accept", "-", ()
    )


def test_nodes_peer_with_uploaded_nodes_is_one_endpoint_per_set_of_matching_nodes() -> None:
    inv = cluster(
        cnp(
            "admin",
            WEB_SUBJECT,
            egress=[deny(nodes({"role": "cp"}), name="cp"), accept(nodes(), name="nodes")],
        ),
        nodes_=[node("cp1", role="cp"), node("cp2", role="cp"), node("w1", role="worker")],
    )
    _, ev = evaluate(inv)
    assert [e.id for e in ev.scene.endpoints if str(e.type) == "node"] == [
        "node:cp1,cp2",
        "node:w1",
    ]
    assert seen(inv, WEB, "node:cp1,cp2").denials == ("egress admin [0]",)
    assert seen(inv, WEB, "node:w1").egress == (
        "Admin ClusterNetworkPolicy/admin priority 10 egress[1] 'nodes' Accept"
    )


# --- groups, document, explanations ----------------------------------------------------


def test_cluster_subjects_and_peers_split_groups_and_ids_stay_without_them() -> None:
    twins = [workload("t1", "web2", {"app": "web"}), workload("t1", "api", {"app": "api"})]
    plain = cluster(extra=twins)
    tiered = cluster(cnp("admin", WEB_SUBJECT, egress=[deny(in_namespace("t2"))]), extra=twins)
    plain_groups = evaluate(plain)[0].grouped
    tiered_groups = evaluate(tiered)[0].grouped
    # Without cluster policies every pod of the cluster is alike.
    assert (
        len({plain_groups.group_of[w] for w in (WEB, "t1/Deployment/web2", "t1/Deployment/api")})
        == 1
    )
    # The subject splits web and web2 off api; the peer splits db off.
    g = tiered_groups.group_of
    assert g[WEB] == g["t1/Deployment/web2"] != g["t1/Deployment/api"]
    assert g[DB] != g["t1/Deployment/api"] == g[PROM]
    assert not plain_groups.tiers and plain_groups.denials == ()


def test_document_rule_refs_and_denials_name_tier_action_priority_and_name() -> None:
    inv = cluster(
        cnp(
            "tenants",
            ALL,
            ingress=[
                pass_(in_namespace("mon"), name="pass-mon"),
                deny(namespaces({"tenant": "one"}), name="no-t1"),
            ],
        ),
        netpols=[netpol("t2", "scrape", ingress=[([in_namespace("mon")], [tcp(9090)])])],
    )
    evaluation, _ = evaluate(inv)
    doc = build_document(evaluation, inv.policies, (), {})
    g = evaluation.grouped.group_of
    [flow] = [f for f in doc["flows"] if (f["source"], f["target"]) == (g[PROM], g[DB])]
    assert flow["ingress"] == [
        {
            "policy": "ClusterNetworkPolicy/tenants",
            "direction": "ingress",
            "rule": 0,
            "source": {"file": "cluster.yaml", "line": 110},
            "tier": "Admin",
            "action": "Pass",
            "priority": 10,
            "name": "pass-mon",
        },
        {
            "policy": "t2/scrape",
            "direction": "ingress",
            "rule": 0,
            "source": {"file": "np.yaml", "line": 10},
        },
    ]
    assert not flow["defaultAllow"]
    denials = [d for d in doc["denials"] if (d["source"], d["target"]) == (g[WEB], g[DB])]
    assert denials == [
        {
            "source": g[WEB],
            "target": g[DB],
            "pairs": 1,
            "ports": [
                {"protocol": "TCP", "from": 1, "to": 65535},
                {"protocol": "UDP", "from": 1, "to": 65535},
                {"protocol": "SCTP", "from": 1, "to": 65535},
            ],
            "direction": "ingress",
            "rule": {
                "policy": "ClusterNetworkPolicy/tenants",
                "direction": "ingress",
                "rule": 1,
                "source": {"file": "cluster.yaml", "line": 112},
                "tier": "Admin",
                "action": "Deny",
                "priority": 10,
                "name": "no-t1",
            },
            "via": [],
        }
    ]
    # Without cluster policies the document has no `denials` key (goldens stay as they are).
    assert "denials" not in build_document(evaluate(cluster())[0], (), (), {})


def _query(inv: Inventory, src: str, dst: str, port: int) -> dict[str, Any]:
    evaluation, ev = evaluate(inv)
    analysis = Analysis(inv, evaluation, ev, (), {}, ())
    return explanation_json(explain(ev, src, dst, TCP, port), analysis)


def test_query_names_the_chain_when_a_pass_hands_over_and_a_deny_apart_from_no_rule() -> None:
    inv = cluster(
        cnp(
            "tenants",
            ALL,
            ingress=[
                pass_(in_namespace("mon"), name="pass-mon"),
                deny(namespaces({"tenant": "one"}), name="no-t1"),
            ],
        ),
        netpols=[netpol("t2", "scrape", ingress=[([in_namespace("mon")], [tcp(9090)])])],
    )
    allowed = _query(inv, PROM, DB, 9090)
    assert allowed["sentence"] == (
        "TCP 9090 from mon/Deployment/prom to t2/Deployment/db is allowed (TCP 9090) — "
        "egress: no rule decides: allowed by default; ingress: Admin "
        "ClusterNetworkPolicy/tenants priority 10 ingress[0] 'pass-mon' Pass → NetworkPolicy "
        "t2/scrape ingress[0] allows"
    )
    [chain] = allowed["ingress"]["chains"]
    assert chain["outcome"] == "networkpolicy-allow"
    assert [(s["tier"], s["action"], s["name"], s["source"]["line"]) for s in chain["steps"]] == [
        ("Admin", "Pass", "pass-mon", 110)
    ]
    assert [r["policy"] for r in chain["rules"]] == ["t2/scrape"]
    assert "(cluster.yaml:110, np.yaml:10)" in explanation_text(allowed)

    by_deny = _query(inv, WEB, DB, 9090)
    assert by_deny["ingress"]["reason"] == "cluster-deny"
    assert by_deny["sentence"].endswith(
        "is denied: ingress of t2/Deployment/db is denied by Admin ClusterNetworkPolicy/tenants "
        "priority 10 ingress[1] 'no-t1' Deny"
    )
    assert "deny: Admin ClusterNetworkPolicy/tenants" in explanation_text(by_deny)

    by_netpol = _query(inv, PROM, DB, 80)
    assert by_netpol["ingress"]["reason"] == "port-not-matched"
    assert "denied by" not in by_netpol["sentence"]
    assert by_netpol["sentence"].endswith(
        "isolated for ingress by t2/scrape and the rule's ports do not include the requested "
        "port (handed over by Admin ClusterNetworkPolicy/tenants priority 10 ingress[0] "
        "'pass-mon' Pass)"
    )


def test_namespaces_subject_uses_namespace_labels() -> None:
    inv = cluster(cnp("admin", namespaces({NAME_LABEL: "t2"}), ingress=[deny(ALL)]))
    assert not seen(inv, WEB, DB).allowed
    assert seen(inv, DB, WEB).allowed


# --- finding ------------------------------------------------------------------------------


def _findings(inv: Inventory, rule: str) -> list[Any]:
    from webapp.core.findings import run_checks

    evaluation, ev = evaluate(inv)
    return [f for f in run_checks(evaluation, ev) if f.check == rule]


def test_finding_cnp_overridden_allow_names_the_networkpolicy_rule_and_the_admin_deny() -> None:
    allow_web = netpol(
        "t2", "allow-web", {"app": "db"}, ingress=[([in_namespace("t1")], [tcp(80), tcp(443)])]
    )
    inv = cluster(
        cnp(
            "tenants", DB_SUBJECT, ingress=[deny(in_namespace("t1"), ports=[tcp(80)], name="no-80")]
        ),
        netpols=[allow_web],
    )
    [finding] = _findings(inv, "cnp-overridden-allow")
    assert finding.message == (
        "spec.ingress[0] of NetworkPolicy 't2/allow-web' allows TCP 80 that Admin "
        "ClusterNetworkPolicy 'tenants' priority 10 ingress[0] 'no-80' Deny drops first, for 1 "
        "pair of nodes: the Admin tier decides before NetworkPolicy, so this allow never "
        "applies there"
    )
    assert finding.policies == ("t2/allow-web",)
    assert set(finding.nodes) == {WEB, DB}
    assert (finding.source.file, finding.source.line) == ("np.yaml", 10)
    # A Baseline Deny is below NetworkPolicy: it overrides nothing.
    below = cluster(
        cnp("base", DB_SUBJECT, tier=Tier.BASELINE, ingress=[deny(in_namespace("t1"))]),
        netpols=[allow_web],
    )
    assert _findings(below, "cnp-overridden-allow") == []
    # Ports the Deny does not cover are not reported.
    other_port = cluster(
        cnp("tenants", DB_SUBJECT, ingress=[deny(in_namespace("t1"), ports=[tcp(22)])]),
        netpols=[allow_web],
    )
    assert _findings(other_port, "cnp-overridden-allow") == []


def test_query_from_a_domain_endpoint_is_not_analysed_and_says_why() -> None:
    inv = cluster(cnp("admin", WEB_SUBJECT, egress=[accept(domain("*.example.com"))]))
    answer = _query(inv, "dns:*.example.com", WEB, 443)
    assert (answer["analysed"], answer["allowed"]) == (False, False)
    assert answer["sentence"].endswith(
        "is not analysed: domain names and nodes of cluster-wide policies are destinations "
        "of egress rules only"
    )
