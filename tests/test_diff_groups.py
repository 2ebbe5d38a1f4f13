"""The diff works from groups: documents of version 1 or 2, never all node pairs.

A grouped diff, expanded, must be exactly the diff of every node pair that
`pair_flows` gives back from both documents (the property below); a version 1
document (saved before groups) compares with a version 2 one; and 2,000 bare
pods (4 million node pairs) diff in seconds and small memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from semantics_helpers import deployment, namespace, policy, run

from webapp.core import SourceText, analyze
from webapp.core.diff import FLOW_CHANGES, diff_documents, port_set
from webapp.core.document import pair_flows
from webapp.review import diff_text

ROOT = Path(__file__).resolve().parent.parent
V1 = Path(__file__).resolve().parent / "data" / "v1"

Row = tuple[str, str, str, str, str]
"""(change, source node, target node, ports before, ports after)."""


def expand(diff: Mapping[str, Any]) -> Iterator[Row]:
    """Every node pair the flow entries of a diff stand for: (a in sources, b in targets,
    a != b)."""
    for kind in FLOW_CHANGES:
        for f in diff["flows"][kind]:
            for a in f["sources"]:
                for b in f["targets"]:
                    if a != b:
                        yield f["change"], a, b, f["beforeText"], f["afterText"]


def naive(old: Mapping[str, Any], new: Mapping[str, Any]) -> set[Row]:
    """The diff of every pair of in-cluster nodes, from `pair_flows` of both documents."""

    def ports(doc: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
        inside = {n["id"] for n in doc["nodes"] if n["type"] != "ipblock"}
        return {
            (f["source"], f["target"]): port_set(f)
            for f in pair_flows(doc)
            if f["source"] in inside and f["target"] in inside
        }

    before, after = ports(old), ports(new)
    rows = set()
    for key in before.keys() | after.keys():
        was, now = before.get(key), after.get(key)
        if was == now:
            continue
        if was is None or now is None:
            change = "added" if was is None else "removed"
        else:
            gained, lost = now - was, was - now
            change = "widened" if not lost else "narrowed" if not gained else "changed"
        rows.add((change, *key, "" if was is None else str(was), "" if now is None else str(now)))
    return rows


def assert_same_as_pairwise(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    diff = diff_documents(old, new)
    rows = list(expand(diff))
    assert len(rows) == len(set(rows)), "a node pair is in two entries"
    assert set(rows) == naive(old, new)
    for kind in FLOW_CHANGES:
        counted = sum(f["pairs"] for f in diff["flows"][kind])
        assert diff["summary"]["pairs" + kind.capitalize()] == counted
    assert sum(f["pairs"] for k in FLOW_CHANGES for f in diff["flows"][k]) == len(rows)
    return diff


# --- property: the grouped diff, expanded, is the pairwise diff -------------------------

NAMESPACES = ("a", "b")
APPS = ("x", "y", "z")
POOL = [
    deployment(f"{app}{k}", ns, {"app": app}, [("http", 80 + k, "TCP")])
    for ns in NAMESPACES
    for app in APPS
    for k in range(2)
]


@st.composite
def peer(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["pods", "namespace", "both"]))
    pods = {"podSelector": {"matchLabels": {"app": draw(st.sampled_from(APPS))}}}
    spaces = {"namespaceSelector": {"matchLabels": {"team": draw(st.sampled_from(NAMESPACES))}}}
    return {"pods": pods, "namespace": spaces, "both": {**pods, **spaces}}[kind]


@st.composite
def rule(draw: st.DrawFn, side: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out[side] = draw(st.lists(peer(), min_size=1, max_size=2))
    if draw(st.booleans()):
        ports = draw(st.lists(st.sampled_from([80, 81, 443, "http"]), min_size=1, max_size=2))
        out["ports"] = [{"port": p} for p in ports]
    return out


@st.composite
def cluster(draw: st.DrawFn) -> list[dict[str, Any]]:
    workloads = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=8, unique_by=id))
    policies = []
    for i in range(draw(st.integers(0, 3))):
        types = draw(st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]]))
        spec: dict[str, Any] = {"policyTypes": types}
        if draw(st.booleans()):
            spec["podSelector"] = {"matchLabels": {"app": draw(st.sampled_from(APPS))}}
        if "Ingress" in types:
            spec["ingress"] = draw(st.lists(rule("from"), max_size=2))
        if "Egress" in types:
            spec["egress"] = draw(st.lists(rule("to"), max_size=2))
        policies.append(policy(f"p{i}", draw(st.sampled_from(NAMESPACES)), **spec))
    spaces = [namespace(ns, team=ns) for ns in NAMESPACES]
    return [*spaces, *workloads, *policies]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cluster(), cluster())
def test_grouped_diff_expands_to_exactly_the_pairwise_diff(
    old: list[dict[str, Any]], new: list[dict[str, Any]]
) -> None:
    assert_same_as_pairwise(run(*old), run(*new))


def test_a_change_to_a_whole_group_is_one_entry() -> None:
    """12 workloads of shop lose their access to 3 of db: one entry of 36 pairs."""
    web = [deployment(f"web{i}", "shop", {"app": "web"}) for i in range(12)]
    db = [deployment(f"db{i}", "db", {"app": "db"}, [("mysql", 3306, "TCP")]) for i in range(3)]
    spaces = [namespace("shop", team="shop"), namespace("db", team="db")]

    def db_from_shop(*ports: int) -> dict[str, Any]:
        rule = {"from": [{"namespaceSelector": {"matchLabels": {"team": "shop"}}}]}
        return policy(
            "db-in",
            "db",
            policyTypes=["Ingress"],
            ingress=[{**rule, "ports": [{"port": p} for p in ports]}],
        )

    old = run(*spaces, *web, *db, db_from_shop(3306))
    new = run(*spaces, *web, *db, db_from_shop(3306, 33060))
    diff = assert_same_as_pairwise(old, new)
    (entry,) = diff["flows"]["changed"]
    assert (len(entry["sources"]), len(entry["targets"]), entry["pairs"]) == (12, 3, 36)
    assert entry["change"] == "widened"
    assert (
        "widened  flow             every workload of shop (12) -> every workload of db (3): "
        "TCP 3306 => TCP 3306; TCP 33060 (36 pairs)"
    ) in diff_text(diff, old, new)


# --- version 1 documents (saved analyses, old share links) ------------------------------


def analysed(sample: str) -> dict[str, Any]:
    folder = ROOT / "sample-manifests" / sample
    sources = [
        SourceText(p.name, p.read_bytes())
        for p in sorted(folder.iterdir())
        if p.suffix in (".yaml", ".json")
    ]
    return dict(analyze(sources).document)


@pytest.mark.parametrize(
    "sample", ["10-online-shop", "04-db-ipblock-with-app", "06-egress-with-dns-with-app"]
)
def test_version_1_and_version_2_of_the_same_upload_do_not_differ(sample: str) -> None:
    old = json.loads((V1 / f"{sample}.json").read_text())
    assert old["version"] == 1 and "groups" not in old
    new = analysed(sample)
    assert new["version"] == 2
    if sample != "10-online-shop":  # groups of several nodes, flows between them
        assert max(len(g["nodes"]) for g in new["groups"]) > 1
    diff = diff_documents(old, new)
    assert diff["changed"] is False, diff["summary"]
    assert diff_documents(new, old)["changed"] is False


def test_version_1_against_a_changed_version_2_is_the_pairwise_diff() -> None:
    old = json.loads((V1 / "10-online-shop.json").read_text())
    folder = ROOT / "sample-manifests" / "10-online-shop"
    # Without the backend policies (default deny included), and shop-data open to every pod.
    kept = [p for p in sorted(folder.iterdir()) if p.suffix in (".yaml", ".json")]
    sources = [
        SourceText(p.name, p.read_bytes()) for p in kept if p.name != "21-backend-policies.yaml"
    ]
    allow = policy("allow-all-in", "shop-data", policyTypes=["Ingress"], ingress=[{}])
    sources.append(SourceText("allow.yaml", yaml.safe_dump(allow).encode()))
    new = dict(analyze(sources).document)
    diff = assert_same_as_pairwise(old, new)
    assert diff["flows"]["added"] and diff["summary"]["policiesRemoved"]
    # and the other way round: a version 2 baseline against a version 1 document
    assert_same_as_pairwise(new, old)


def test_cli_diffs_a_saved_version_1_document_against_manifests(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "webapp", "diff", str(V1 / "06-egress-with-dns-with-app.json"),
         str(ROOT / "sample-manifests" / "06-egress-with-dns-with-app")],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "no change\n"


# --- at scale: 2,000 bare pods, 4 million node pairs ------------------------------------

PODS = 2000


def bare_pods(n: int) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"pod-{i}",
                "namespace": "default",
                "labels": {"app": f"a{i % 50}"},
            },
            "spec": {"containers": [{"name": "main", "image": "example"}]},
        }
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def bare_and_denied(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Saved documents: 2,000 bare pods, and the same with a default-deny ingress policy."""
    folder = tmp_path_factory.mktemp("bare")
    paths = []
    deny = policy("deny", "default", policyTypes=["Ingress"])
    for name, objects in (("old", bare_pods(PODS)), ("new", [*bare_pods(PODS), deny])):
        text = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
        document = analyze([SourceText(f"{name}.json", text.encode())]).document
        assert len(document["flows"]) <= 3  # the point: a handful of group flows
        path = folder / f"{name}.json"
        path.write_text(json.dumps(document))
        paths.append(path)
    return paths[0], paths[1]


def test_diff_of_2000_bare_pods_works_from_groups(bare_and_denied: tuple[Path, Path]) -> None:
    old, new = (json.loads(p.read_text()) for p in bare_and_denied)
    tracemalloc.start()
    started = time.perf_counter()
    diff = diff_documents(old, new)
    text = diff_text(diff, old, new)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 10, elapsed  # generous: milliseconds on an idle machine
    assert peak < 30_000_000, peak  # 4 million pairs would need gigabytes
    # Every pod loses ingress from each of the 1,999 others: 2,000 × 1,999 pairs.
    assert diff["summary"]["pairsRemoved"] == PODS * (PODS - 1)
    assert diff["summary"]["flowsRemoved"] == 1
    (entry,) = diff["flows"]["removed"]
    sources, targets = set(entry["sources"]), set(entry["targets"])
    assert "default/Pod/pod-7" in sources and "default/Pod/pod-1234" in targets  # a sample pair
    assert len(sources) == len(targets) == PODS
    line = (
        f"removed  flow             every workload of default ({PODS}) -> "
        f"every workload of default ({PODS}): all ({PODS * (PODS - 1)} pairs)"
    )
    assert line in text.splitlines()


def test_diff_command_and_page_of_2000_bare_pods(bare_and_denied: tuple[Path, Path]) -> None:
    from webapp.render import EDGE_BUDGET, diff_view_data

    old_path, new_path = bare_and_denied
    result = subprocess.run(
        [sys.executable, "-m", "webapp", "diff", str(old_path), str(new_path), "--format", "json"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    answer = json.loads(result.stdout)
    assert answer["summary"]["pairsRemoved"] == PODS * (PODS - 1)
    changes = json.dumps({k: v for k, v in answer.items() if k != "findings"})
    assert len(changes) < 500_000  # node ids listed once per entry, not once per pair
    # Findings are per workload (every pod's isolation changed), never per pair.
    found = answer["findings"]
    assert len(found["fixed"]) + len(found["introduced"]) <= 2 * PODS + 5

    old, new = (json.loads(p.read_text()) for p in bare_and_denied)
    tracemalloc.start()
    view = diff_view_data(old, new, answer)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 150_000_000, peak
    assert len(view["edges"]) == EDGE_BUDGET
    assert {d["change"] for d in view["edgeDetails"]} == {"removed"}
    # Undrawn, counted from groups: the pairs between pods, each pod's egress to the
    # outside (unchanged) and the outside's ingress to it (removed).
    assert view["omitted"]["pairs"] == PODS * (PODS - 1) + 2 * PODS - EDGE_BUDGET
