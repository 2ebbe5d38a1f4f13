"""Diffs of two analysis documents, and the `diff` command's exit codes and formats."""

from __future__ import annotations

import csv
import io
import ipaddress
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from clirun import cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from semantics_helpers import deployment, namespace, policy, run
from webfixtures import upload

from webapp.core import SourceText, analyze
from webapp.core.diff import diff_documents, external_ports
from webapp.core.explain import explain, find_address
from webapp.core.portset import NO_PORTS, PortSet
from webapp.review import diff_csv, diff_markdown, diff_text

ROOT = Path(__file__).resolve().parent.parent

PROD = namespace("prod")
WEB = deployment("web", "prod", {"app": "web"})
DB = deployment("db", "prod", {"app": "db"}, [("mysql", 3306, "TCP")])
BASE = [PROD, WEB, DB]
WEB_ID, DB_ID = "prod/Deployment/web", "prod/Deployment/db"


def db_ingress(*ports: dict[str, Any]) -> dict[str, Any]:
    rule: dict[str, Any] = {"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}
    if ports:
        rule["ports"] = list(ports)
    return policy(
        "db-in",
        "prod",
        podSelector={"matchLabels": {"app": "db"}},
        policyTypes=["Ingress"],
        ingress=[rule],
    )


P3306 = {"port": 3306}

# (old objects, new objects, expected (change, source, target, before, after) flow rows)
FLOW_CASES: list[Any] = [
    pytest.param(
        [*BASE, db_ingress(P3306)],
        [*BASE, db_ingress(P3306)],
        set(),
        id="same-upload-no-change",
    ),
    pytest.param(
        [*BASE, db_ingress(P3306)],
        [*BASE, db_ingress({"port": 3306, "endPort": 3310})],
        {("widened", WEB_ID, DB_ID, "TCP 3306", "TCP 3306-3310")},
        id="port-range-widened",
    ),
    pytest.param(
        [*BASE, db_ingress()],
        [*BASE, db_ingress(P3306)],
        {("narrowed", WEB_ID, DB_ID, "all", "TCP 3306")},
        id="all-ports-narrowed-to-one",
    ),
    pytest.param(
        [*BASE, db_ingress(P3306)],
        [*BASE, db_ingress({"port": 5432})],
        {("changed", WEB_ID, DB_ID, "TCP 3306", "TCP 5432")},
        id="port-swapped-is-changed",
    ),
    pytest.param(
        [*BASE, db_ingress(P3306)],
        [*BASE, db_ingress(P3306), policy("deny", "prod", policyTypes=["Ingress"])],
        {("removed", DB_ID, WEB_ID, "all", "")},
        id="deny-all-removes-flow",
    ),
    pytest.param(
        [*BASE, db_ingress(P3306), policy("deny", "prod", policyTypes=["Ingress"])],
        [*BASE, db_ingress(P3306)],
        {("added", DB_ID, WEB_ID, "", "all")},
        id="dropping-deny-all-adds-flow",
    ),
]


def expand(diff: dict[str, Any]) -> Iterator[tuple[str, str, str, str, str]]:
    """(change, source, target, before, after) of every node pair a diff's flow entries
    stand for: (a in sources, b in targets, a != b)."""
    for kind in ("added", "removed", "changed"):
        for f in diff["flows"][kind]:
            for a in f["sources"]:
                for b in f["targets"]:
                    if a != b:
                        yield (f["change"], a, b, f["beforeText"], f["afterText"])


def flow_rows(diff: dict[str, Any]) -> set[tuple[str, str, str, str, str]]:
    rows = list(expand(diff))
    assert len(rows) == len(set(rows)), "a node pair is in two entries"
    total = sum(f["pairs"] for kind in ("added", "removed", "changed") for f in diff["flows"][kind])
    assert total == len(rows), "pairs counts the pairs an entry stands for"
    return set(rows)


@pytest.mark.parametrize(("old", "new", "expected"), FLOW_CASES)
def test_flow_changes(old: list[Any], new: list[Any], expected: set[Any]) -> None:
    diff = diff_documents(run(*old), run(*new))
    assert flow_rows(diff) == expected
    assert diff["changed"] is bool(expected)


def test_widened_flow_lists_ports_gained_and_both_flows() -> None:
    diff = diff_documents(
        run(*BASE, db_ingress(P3306)), run(*BASE, db_ingress(P3306, {"port": 5432}))
    )
    (c,) = diff["flows"]["changed"]
    assert c["change"] == "widened"
    assert (c["sources"], c["targets"], c["pairs"]) == ([WEB_ID], [DB_ID], 1)
    assert c["gained"] == [{"protocol": "TCP", "from": 5432, "to": 5432}]
    assert c["lost"] == []
    assert c["before"] == [{"protocol": "TCP", "from": 3306, "to": 3306}]
    assert diff["summary"]["flowsChanged"] == 1
    assert diff["summary"]["pairsChanged"] == 1


def test_workloads_added_and_removed_are_matched_by_id() -> None:
    cache = deployment("cache", "prod", {"app": "cache"})
    diff = diff_documents(run(PROD, WEB, DB), run(PROD, WEB, cache))
    assert [n["id"] for n in diff["nodes"]["added"]] == ["prod/Deployment/cache"]
    assert [n["id"] for n in diff["nodes"]["removed"]] == [DB_ID]
    added = {(a, b) for change, a, b, _, _ in expand(diff) if change == "added"}
    assert (WEB_ID, "prod/Deployment/cache") in added
    assert diff["changed"] is True


def test_policies_added_removed_and_changed() -> None:
    old = run(*BASE, db_ingress(P3306), policy("old", "prod", policyTypes=["Egress"]))
    new = run(*BASE, db_ingress({"port": 5432}), policy("new", "prod", policyTypes=["Egress"]))
    diff = diff_documents(old, new)
    assert diff["policies"] == {
        "added": ["prod/new"],
        "removed": ["prod/old"],
        "changed": ["prod/db-in"],
    }


def test_no_change_is_not_changed_even_when_files_move() -> None:
    objects = [*BASE, db_ingress(P3306)]
    old = run(*objects)
    new = json.loads(json.dumps(old).replace("case.yaml", "moved/case.yaml"))
    diff = diff_documents(old, new)
    assert diff["changed"] is False
    assert not any(diff["summary"].values())
    assert diff_text(diff, old, new) == "no change\n"


def test_renderers_list_every_change() -> None:
    old = run(*BASE, db_ingress(P3306))
    new = run(*BASE, db_ingress({"port": 3306, "endPort": 3310}), deployment("x", "prod"))
    diff = diff_documents(old, new)
    text = diff_text(diff, old, new)
    assert (
        "widened  flow             prod/web -> prod/db: TCP 3306 => TCP 3306-3310 (1 pair)" in text
    )
    assert "added    node (workload)  prod/x" in text
    rows = list(csv.DictReader(io.StringIO(diff_csv(diff, old, new))))
    assert {"change": "widened", "item": "flow", "source": "prod/web", "target": "prod/db",
            "before": "TCP 3306", "after": "TCP 3306-3310", "pairs": "1"} in rows  # fmt: skip
    md = diff_markdown(diff, old, new)
    assert md.startswith("# NetworkPolicy diff")
    assert "| widened | flow | prod/web | prod/db | TCP 3306 | TCP 3306-3310 | 1 |" in md


def test_csv_neutralises_formula_names() -> None:
    old = run(PROD, WEB)
    new = run(PROD, WEB, deployment("x", "prod"))
    node = next(n for n in new["nodes"] if n["name"] == "x")
    node.update(namespace=None, name="=HYPERLINK(1)")  # stored documents are data too
    rows = list(csv.reader(io.StringIO(diff_csv(diff_documents(old, new), old, new))))
    assert ["added", "node (workload)", "'=HYPERLINK(1)", "", "", "", ""] in rows


# --- external access, by address (issue 7) -------------------------------------------------


def web_egress(*rules: dict[str, Any]) -> dict[str, Any]:
    return policy(
        "web-out",
        "prod",
        podSelector={"matchLabels": {"app": "web"}},
        policyTypes=["Egress"],
        egress=list(rules),
    )


def db_from(*rules: dict[str, Any]) -> dict[str, Any]:
    """db's ingress policy: web on 3306, then `rules`."""
    web = {"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [P3306]}
    return policy(
        "db-in",
        "prod",
        podSelector={"matchLabels": {"app": "db"}},
        policyTypes=["Ingress"],
        ingress=[web, *rules],
    )


def block(cidr: str, *excepts: str, ports: Any = ({"port": 443},), side: str = "to") -> Any:
    """A rule with one ipBlock peer (`side` "to" for egress, "from" for ingress)."""
    peer: dict[str, Any] = {"cidr": cidr}
    if excepts:
        peer["except"] = list(excepts)
    rule: dict[str, Any] = {side: [{"ipBlock": peer}]}
    if ports:
        rule["ports"] = list(ports)
    return rule


EGRESS, INGRESS = "egress", "ingress"
EVERYWHERE = ("0.0.0.0/0", "::/0")


def minus(cidr: str, hole: str) -> tuple[str, ...]:
    """`cidr` without `hole`, as sorted CIDRs."""
    rest = ipaddress.ip_network(cidr).address_exclude(ipaddress.ip_network(hole))
    return tuple(str(n) for n in sorted(rest))


# (old objects, new objects, expected (node, direction, protocol, from, to, gained, lost) rows)
EXTERNAL_CASES: list[Any] = [
    pytest.param(
        [*BASE, web_egress(block("10.0.0.0/8", "10.10.0.0/16"))],
        [*BASE, web_egress(block("10.0.0.0/8", "10.11.0.0/16"))],
        {(WEB_ID, EGRESS, "TCP", 443, 443, ("10.10.0.0/16",), ("10.11.0.0/16",))},
        id="except-moved-inside-the-cidr",
    ),
    pytest.param(
        [*BASE, web_egress(block("10.0.0.0/8")), db_from()],
        [
            *BASE,
            web_egress(block("10.0.0.0/8")),
            db_from(block("10.10.0.0/16", side="from", ports=[P3306])),
        ],
        {(DB_ID, INGRESS, "TCP", 3306, 3306, ("10.10.0.0/16",), ())},
        id="unrelated-ipblock-repartitions-nothing-else-reported",
    ),
    pytest.param(
        [*BASE, web_egress(block("10.0.0.0/8"))],
        [*BASE, web_egress(block("10.0.0.0/9"), block("10.128.0.0/9"))],
        set(),
        id="same-addresses-in-other-blocks-is-no-change",
    ),
    pytest.param(
        [*BASE, web_egress(block("10.0.0.0/8"))],
        [*BASE, web_egress(block("10.0.0.0/9"))],
        {(WEB_ID, EGRESS, "TCP", 443, 443, (), ("10.128.0.0/9",))},
        id="cidr-narrowed",
    ),
    pytest.param(
        [*BASE, web_egress(block("10.0.0.0/8"))],
        [*BASE, web_egress(block("10.0.0.0/8", ports=[{"port": 443, "endPort": 444}]))],
        {(WEB_ID, EGRESS, "TCP", 444, 444, ("10.0.0.0/8",), ())},
        id="port-range-widened-on-an-ipblock-rule-gains-only-the-new-port",
    ),
    pytest.param(
        [*BASE, web_egress(block("10.0.0.0/8"), block("10.1.0.0/16", ports=[{"port": 80}]))],
        [
            *BASE,
            web_egress(
                block("10.0.0.0/8", ports=[{"port": 8443}]),
                block("10.1.0.0/16", ports=[{"port": 80}]),
            ),
        ],
        {
            (WEB_ID, EGRESS, "TCP", 443, 443, (), ("10.0.0.0/8",)),
            (WEB_ID, EGRESS, "TCP", 8443, 8443, ("10.0.0.0/8",), ()),
        },
        id="port-swapped-on-one-of-two-overlapping-blocks",
    ),
    pytest.param(
        [*BASE, web_egress(block("2001:db8::/32", "2001:db8:1::/48"))],
        [*BASE, web_egress(block("2001:db8::/32", "2001:db8:2::/48"))],
        {(WEB_ID, EGRESS, "TCP", 443, 443, ("2001:db8:1::/48",), ("2001:db8:2::/48",))},
        id="ipv6-except-moved",
    ),
    pytest.param(
        [*BASE, db_from(block("192.168.0.0/16", side="from", ports=[P3306]))],
        [
            *BASE,
            db_from(block("192.168.0.0/16", side="from", ports=[P3306])),
            web_egress(block("192.168.0.0/24")),
        ],
        {
            (WEB_ID, EGRESS, "TCP", 1, 442, (), EVERYWHERE),
            (WEB_ID, EGRESS, "TCP", 443, 443, (), (*minus("0.0.0.0/0", "192.168.0.0/24"), "::/0")),
            (WEB_ID, EGRESS, "TCP", 444, 65535, (), EVERYWHERE),
            (WEB_ID, EGRESS, "UDP", 1, 65535, (), EVERYWHERE),
            (WEB_ID, EGRESS, "SCTP", 1, 65535, (), EVERYWHERE),
        },
        id="egress-isolation-loses-all-but-the-allowed-block",
    ),
    pytest.param(
        [*BASE, db_from(block("192.168.0.0/16", side="from", ports=[P3306]))],
        [*BASE, db_from(block("192.168.0.0/16", "192.168.1.0/24", side="from", ports=[P3306]))],
        {(DB_ID, INGRESS, "TCP", 3306, 3306, (), ("192.168.1.0/24",))},
        id="ingress-from-ipblock-narrowed-by-except",
    ),
    pytest.param(
        [*BASE, db_from(block("192.168.0.0/16", side="from", ports=[P3306]))],
        [*BASE, db_from(block("192.168.0.0/16", side="from", ports=[P3306, {"port": 33060}]))],
        {(DB_ID, INGRESS, "TCP", 33060, 33060, ("192.168.0.0/16",), ())},
        id="ingress-from-ipblock-gains-a-port",
    ),
]


def external_rows(diff: dict[str, Any]) -> set[tuple[Any, ...]]:
    """(node, direction, protocol, from, to, gained, lost) for each node of each entry."""
    keys = ("direction", "protocol", "from", "to")
    return {
        (node, *(e[k] for k in keys), tuple(e["gained"]), tuple(e["lost"]))
        for e in diff["external"]
        for node in e["nodes"]
    }


@pytest.mark.parametrize(("old", "new", "expected"), EXTERNAL_CASES)
def test_external_access_is_compared_by_address(
    old: list[Any], new: list[Any], expected: set[Any]
) -> None:
    before, after = run(*old), run(*new)
    diff = diff_documents(before, after)
    assert external_rows(diff) == expected
    assert diff["summary"]["externalChanged"] == len(diff["external"])
    # ipblock ids are cuts of one version's addresses: never compared as nodes or flows
    blocks = {n["id"] for doc in (before, after) for n in doc["nodes"] if n["type"] == "ipblock"}
    assert not {n["id"] for kind in ("added", "removed") for n in diff["nodes"][kind]} & blocks
    assert not [row for row in expand(diff) if {row[1], row[2]} & blocks]
    # each workload, direction and port range appears once
    keys = [
        (node, e["direction"], e["protocol"], e["from"])
        for e in diff["external"]
        for node in e["nodes"]
    ]
    assert len(keys) == len(set(keys))


def test_external_change_alone_makes_the_diff_changed() -> None:
    diff = diff_documents(
        run(*BASE, web_egress(block("10.0.0.0/8", "10.10.0.0/16"))),
        run(*BASE, web_egress(block("10.0.0.0/8", "10.11.0.0/16"))),
    )
    assert diff["changed"] is True
    assert diff["flows"] == {"added": [], "removed": [], "changed": []}
    assert diff["summary"]["externalChanged"] == 1


def test_renderers_say_which_addresses_were_gained_and_lost() -> None:
    old = run(*BASE, web_egress(block("10.0.0.0/8", "10.10.0.0/16")))
    new = run(*BASE, web_egress(block("10.0.0.0/8", "10.11.0.0/16")))
    diff = diff_documents(old, new)
    text = diff_text(diff, old, new)
    assert "gained   external egress  prod/web -> 10.10.0.0/16: TCP 443" in text
    assert "lost     external egress  prod/web -> 10.11.0.0/16: TCP 443" in text
    assert "external access: 1 changed" in text
    rows = list(csv.reader(io.StringIO(diff_csv(diff, old, new))))
    assert ["gained", "external egress", "prod/web", "10.10.0.0/16", "", "TCP 443", ""] in rows
    assert ["lost", "external egress", "prod/web", "10.11.0.0/16", "TCP 443", "", ""] in rows
    md = diff_markdown(diff, old, new)
    assert "| lost | external egress | prod/web | 10.11.0.0/16 | TCP 443 | — | — |" in md


def test_ingress_rows_put_the_addresses_on_the_source_side() -> None:
    old = run(*BASE, db_from())
    new = run(*BASE, db_from(block("203.0.113.0/24", side="from", ports=[P3306])))
    diff = diff_documents(old, new)
    assert "gained   external ingress 203.0.113.0/24 -> prod/db: TCP 3306" in diff_text(
        diff, old, new
    )


# --- property: the reported addresses are what the evaluation says, address by address ---

V4_POOL = ("0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/16", "10.1.0.0/16", "10.0.128.0/17", "10.0.0.0/24")
V6_POOL = ("::/0", "2001:db8::/32", "2001:db8:1::/48", "2001:db8::/48", "2001:db8:1:8000::/49")
POOL = tuple(ipaddress.ip_network(c) for c in V4_POOL + V6_POOL)
SELECTORS = ({}, {"matchLabels": {"app": "web"}}, {"matchLabels": {"app": "db"}})


@st.composite
def ip_block(draw: st.DrawFn) -> dict[str, Any]:
    cidr = draw(st.sampled_from(POOL))
    inside = [n for n in POOL if n.version == cidr.version and n != cidr and n.subnet_of(cidr)]
    excepts = draw(st.lists(st.sampled_from(inside), max_size=2, unique=True)) if inside else []
    peer: dict[str, Any] = {"cidr": str(cidr)}
    if excepts:
        peer["except"] = [str(e) for e in excepts]
    return {"ipBlock": peer}


@st.composite
def port(draw: st.DrawFn) -> dict[str, Any]:
    entry: dict[str, Any] = {"protocol": draw(st.sampled_from(("TCP", "UDP")))}
    number = draw(st.sampled_from((None, 80, 443, 444)))
    if number is not None:
        entry["port"] = number
        if draw(st.booleans()):
            entry["endPort"] = number + draw(st.sampled_from((1, 363)))
    return entry


@st.composite
def rule(draw: st.DrawFn, side: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.integers(0, 5)):  # now and then a rule open to every peer
        out[side] = draw(st.lists(ip_block(), min_size=1, max_size=2))
    ports = draw(st.lists(port(), max_size=2))
    if ports:
        out["ports"] = ports
    return out


@st.composite
def policies(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for index in range(draw(st.integers(0, 3))):
        types = draw(st.sampled_from((["Ingress"], ["Egress"], ["Ingress", "Egress"])))
        spec: dict[str, Any] = {
            "podSelector": draw(st.sampled_from(SELECTORS)),
            "policyTypes": types,
        }
        if "Ingress" in types:
            spec["ingress"] = draw(st.lists(rule("from"), max_size=2))
        if "Egress" in types:
            spec["egress"] = draw(st.lists(rule("to"), max_size=2))
        out.append(policy(f"p{index}", "prod", **spec))
    return out


def sample_addresses(*objects: dict[str, Any]) -> set[str]:
    """Every first and last address of every cidr and except of both versions, and ±1."""
    nets = [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]
    for o in objects:
        for side in ("ingress", "egress"):
            for r in o["spec"].get(side) or ():
                for peer in r.get("from", []) + r.get("to", []):
                    nets.append(ipaddress.ip_network(peer["ipBlock"]["cidr"]))
                    nets += [ipaddress.ip_network(e) for e in peer["ipBlock"].get("except", ())]
    out = set()
    top = {4: 2**32 - 1, 6: 2**128 - 1}
    for net in nets:
        address = ipaddress.IPv4Address if net.version == 4 else ipaddress.IPv6Address
        for edge in (int(net.network_address), int(net.broadcast_address)):
            out.update(
                str(address(a)) for a in (edge - 1, edge, edge + 1) if 0 <= a <= top[net.version]
            )
    return out


def reported(diff: dict[str, Any], node: str, direction: str, address: str, key: str) -> PortSet:
    """The ports the diff says `node` gained (or lost) towards `address`."""
    addr = ipaddress.ip_address(address)
    ports = NO_PORTS
    for e in diff["external"]:
        nets = [ipaddress.ip_network(c) for c in e[key]]
        if (
            node in e["nodes"]
            and e["direction"] == direction
            and any(n.version == addr.version and addr in n for n in nets)
        ):
            ports = ports | external_ports(e)
    return ports


def allowed(analysis: Any, node: str, direction: str, address: str) -> PortSet:
    """What the core's explanation allows between `node` and one external address."""
    region = find_address(analysis.evaluator, address)
    assert region is not None
    if direction == "egress":
        return explain(analysis.evaluator, node, region.id).ports
    return explain(analysis.evaluator, region.id, node).ports


def analysed(objects: list[dict[str, Any]]) -> Any:
    text = yaml.safe_dump_all(objects, sort_keys=False)
    return analyze([SourceText("case.yaml", text.encode())])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), policies())
def test_reported_addresses_agree_with_the_evaluation_address_by_address(
    old_policies: list[dict[str, Any]], new_policies: list[dict[str, Any]]
) -> None:
    old, new = analysed([*BASE, *old_policies]), analysed([*BASE, *new_policies])
    diff = diff_documents(old.document, new.document)
    for address in sorted(sample_addresses(*old_policies, *new_policies)):
        for node in (WEB_ID, DB_ID):
            for direction in ("egress", "ingress"):
                was = allowed(old, node, direction, address)
                now = allowed(new, node, direction, address)
                where = (node, direction, address)
                assert reported(diff, node, direction, address, "gained") == now - was, where
                assert reported(diff, node, direction, address, "lost") == was - now, where


# --- the command ------------------------------------------------------------------------




def write(folder: Path, *objects: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "all.yaml").write_text(yaml.safe_dump_all(objects, sort_keys=False))
    return folder


@pytest.fixture
def versions(tmp_path: Path) -> tuple[Path, Path]:
    old = write(tmp_path / "old", *BASE, db_ingress(P3306))
    new = write(tmp_path / "new", *BASE, db_ingress(P3306, {"port": 5432}))
    return old, new


def test_diff_unchanged_exits_0(versions: tuple[Path, Path]) -> None:
    old, _ = versions
    result = cli("diff", str(old), str(old))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "no change\n"


@pytest.mark.parametrize("fmt", ["text", "json", "csv", "md"])
def test_diff_changed_exits_1_in_every_format(versions: tuple[Path, Path], fmt: str) -> None:
    old, new = versions
    result = cli("diff", str(old), str(new), "--format", fmt)
    assert result.returncode == 1, result.stderr
    if fmt == "json":
        data = json.loads(result.stdout)
        assert data["changed"] is True
        assert data["flows"]["changed"][0]["change"] == "widened"
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(result.stdout)))
        assert rows[0] == ["change", "item", "source", "target", "before", "after", "pairs"]
        widened = ["widened", "flow", "prod/web", "prod/db", "TCP 3306", "TCP 3306; TCP 5432", "1"]
        assert widened in rows
    elif fmt == "md":
        assert result.stdout.startswith("# NetworkPolicy diff")
    else:
        assert "widened" in result.stdout and "prod/web -> prod/db" in result.stdout


def test_diff_accepts_a_saved_analysis_document(versions: tuple[Path, Path]) -> None:
    old, new = versions
    saved = old.parent / "baseline.json"
    analysed = cli("analyze", str(old), "--format", "json", "--output", str(saved))
    assert analysed.returncode == 0, analysed.stderr
    result = cli("diff", str(saved), str(new), "--format", "json")
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["summary"]["flowsChanged"] == 1


def test_diff_unusable_input_exits_2(tmp_path: Path, versions: tuple[Path, Path]) -> None:
    old, _ = versions
    (tmp_path / "empty.yaml").write_text("just: text\n")
    result = cli("diff", str(old), str(tmp_path / "empty.yaml"))
    assert result.returncode == 2
    assert "netpol-viz:" in result.stderr


# --- external access through the command, the API and the page ---------------------------


@pytest.fixture
def except_moved(tmp_path: Path) -> tuple[Path, Path]:
    old = write(tmp_path / "old", *BASE, web_egress(block("10.0.0.0/8", "10.10.0.0/16")))
    new = write(tmp_path / "new", *BASE, web_egress(block("10.0.0.0/8", "10.11.0.0/16")))
    return old, new


@pytest.mark.parametrize("fmt", ["text", "json", "csv", "md"])
def test_diff_command_reports_the_moved_except_in_every_format(
    except_moved: tuple[Path, Path], fmt: str
) -> None:
    old, new = except_moved
    result = cli("diff", str(old), str(new), "--format", fmt)
    assert result.returncode == 1, result.stderr
    if fmt == "json":
        data = json.loads(result.stdout)
        assert data["external"] == [
            {
                "nodes": [WEB_ID],
                "direction": "egress",
                "protocol": "TCP",
                "from": 443,
                "to": 443,
                "gained": ["10.10.0.0/16"],
                "lost": ["10.11.0.0/16"],
            }
        ]
        assert data["summary"]["externalChanged"] == 1
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(result.stdout)))
        assert ["gained", "external egress", "prod/web", "10.10.0.0/16", "", "TCP 443", ""] in rows
        assert ["lost", "external egress", "prod/web", "10.11.0.0/16", "TCP 443", "", ""] in rows
    elif fmt == "md":
        assert "| gained | external egress | prod/web | 10.10.0.0/16 | — | TCP 443 | — |" in (
            result.stdout
        )
    else:
        lines = result.stdout.splitlines()
        assert "gained   external egress  prod/web -> 10.10.0.0/16: TCP 443" in lines
        assert "lost     external egress  prod/web -> 10.11.0.0/16: TCP 443" in lines
        assert not [line for line in lines if "ipblock" in line]


def stored_pair(client: Any, old: list[Any], new: list[Any]) -> tuple[str, str]:
    ids = []
    for objects in (old, new):
        response = upload(client, ("all.yaml", yaml.safe_dump_all(objects, sort_keys=False)))
        assert response.status_code == 201, response.get_data(as_text=True)
        ids.append(response.get_json()["id"])
    return ids[0], ids[1]


def test_diff_api_lists_external_access_by_address(client: Any) -> None:
    old_id, new_id = stored_pair(
        client,
        [*BASE, db_from(block("2001:db8::/32", "2001:db8:1::/48", side="from", ports=[P3306]))],
        [*BASE, db_from(block("2001:db8::/32", "2001:db8:2::/48", side="from", ports=[P3306]))],
    )
    response = client.get(f"/api/v1/diff/{old_id}/{new_id}")
    assert response.status_code == 200
    answer = response.get_json()
    assert external_rows(answer) == {
        (DB_ID, INGRESS, "TCP", 3306, 3306, ("2001:db8:1::/48",), ("2001:db8:2::/48",))
    }
    assert answer["flows"] == {"added": [], "removed": [], "changed": []}
    assert answer["changed"] is True


def test_diff_page_says_which_addresses_were_gained_and_lost(client: Any) -> None:
    old_id, new_id = stored_pair(
        client,
        [*BASE, web_egress(block("10.0.0.0/8", "10.10.0.0/16"))],
        [*BASE, web_egress(block("10.0.0.0/8", "10.11.0.0/16"))],
    )
    response = client.get(f"/diff/{old_id}/{new_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    listed = html.split('id="external-changes"', 1)[1].split("</ul>", 1)[0]
    items = [i.split(">", 1)[1].split("</li>", 1)[0] for i in listed.split("<li")[1:]]
    assert items == [
        "prod/web gained access to 10.10.0.0/16 on TCP 443",
        "prod/web lost access to 10.11.0.0/16 on TCP 443",
    ]
    assert "<strong>1</strong> changes of external access" in html
    assert "No change" not in html


def test_diff_page_without_external_changes_says_so(client: Any) -> None:
    old_id, new_id = stored_pair(
        client,
        [*BASE, web_egress(block("10.0.0.0/8"))],
        [*BASE, web_egress(block("10.0.0.0/9"), block("10.128.0.0/9"))],
    )
    html = client.get(f"/diff/{old_id}/{new_id}").get_data(as_text=True)
    assert "No external address gained or lost." in html


def _block_edges(view: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(ipblock node name, edge, detail) of every drawn edge to or from an address block."""
    details = view["nodeDetails"]
    out = []
    for edge, detail in zip(view["edges"], view["edgeDetails"], strict=True):
        ends = [details[edge["from"]], details[edge["to"]]]
        out += [(end["name"], edge, detail) for end in ends if end["type"] == "ipblock"]
    return out


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            [*BASE, web_egress(block("10.0.0.0/8", "10.10.0.0/16"))],
            [*BASE, web_egress(block("10.0.0.0/8", "10.11.0.0/16"))],
            {
                "changed": [
                    "gained access to 10.10.0.0/16 on TCP 443",
                    "lost access to 10.11.0.0/16 on TCP 443",
                ]
            },
            id="same-block-id-other-addresses-is-changed",
        ),
        pytest.param(
            [*BASE, web_egress(block("10.0.0.0/8"))],
            [*BASE, web_egress(block("10.0.0.0/9"), block("10.128.0.0/9"))],
            {},
            id="re-cut-blocks-are-unchanged",
        ),
        pytest.param(
            [*BASE, web_egress(block("10.0.0.0/8"))],
            [*BASE, web_egress(block("10.0.0.0/9"))],
            {"removed": ["lost access to 10.128.0.0/9 on TCP 443"]},
            id="old-block-gone-is-drawn-removed",
        ),
    ],
)
def test_diff_diagram_colours_address_block_edges_by_their_addresses(
    old: list[Any], new: list[Any], expected: dict[str, list[str]]
) -> None:
    from webapp.render import DIFF_COLORS, diff_view_data

    before, after = run(*old), run(*new)
    view = diff_view_data(before, after, diff_documents(before, after))
    changed: dict[str, list[str]] = {}
    for _name, edge, detail in _block_edges(view):
        if detail["change"] == "unchanged":
            assert "external" not in detail
            continue
        assert edge["color"]["color"] == DIFF_COLORS[detail["change"]]
        assert all(line in edge["title"] for line in detail["external"])
        changed[detail["change"]] = detail["external"]
    assert changed == expected
