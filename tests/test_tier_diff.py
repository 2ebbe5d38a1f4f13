"""`diff` covers cluster-wide policies: the policies themselves (id `Kind/name`, with their
YAML), the denials of Admin and Baseline Deny rules gained and lost, and flows whose deciding
tier changed; in the CLI's formats and on the diff page."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from clirun import ROOT, cli
from flask.testing import FlaskClient
from webfixtures import upload

SAMPLE = ROOT / "sample-manifests" / "cluster-multi-tenant"
ADMIN = "20-admin-tier.yaml"


def version(tmp_path: Path, name: str, old: str = "", new: str = "", count: int = 1) -> Path:
    """A copy of the multi-tenant sample with `old` replaced by `new` in the Admin tier file."""
    folder = tmp_path / name
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("*.md"))
    if old:
        text = (folder / ADMIN).read_text(encoding="utf-8")
        assert old in text
        (folder / ADMIN).write_text(text.replace(old, new, count), encoding="utf-8")
    return folder


def diff_json(old: Path, new: Path) -> dict[str, Any]:
    result = cli("diff", str(old), str(new), "--format", "json")
    assert result.returncode == 1, result.stderr  # changed
    return json.loads(result.stdout)  # type: ignore[no-any-return]


# The monitoring Pass moved after the tenant isolation: the Admin Deny now wins.
PASS_LATER = ("  priority: 10\n", "  priority: 30\n")
# allow-dns (the first policy of the file) moved to the Baseline tier.
DNS_TO_BASELINE = ("  tier: Admin\n", "  tier: Baseline\n")


def test_a_changed_cluster_policy_is_listed_with_its_yaml(tmp_path: Path) -> None:
    diff = diff_json(version(tmp_path, "old"), version(tmp_path, "new", *PASS_LATER))
    assert diff["policies"] == {
        "added": [],
        "removed": [],
        "changed": ["ClusterNetworkPolicy/delegate-monitoring"],
    }
    [entry] = diff["policyDiffs"]
    assert entry["policy"] == "ClusterNetworkPolicy/delegate-monitoring"
    assert [line for line in entry["lines"] if line[:1] in "+-" and line[:3] not in "+++---"] == [
        "-  priority: 10",
        "+  priority: 30",
    ]


def test_added_and_removed_cluster_policies_use_kind_and_name(tmp_path: Path) -> None:
    old = version(tmp_path, "old")
    new = version(tmp_path, "new")
    (new / "40-baseline-tier.yaml").unlink()
    diff = diff_json(old, new)
    assert diff["policies"]["removed"] == ["ClusterNetworkPolicy/default-deny"]
    back = diff_json(new, old)
    assert back["policies"]["added"] == ["ClusterNetworkPolicy/default-deny"]
    assert [d["policy"] for d in back["policyDiffs"]] == ["ClusterNetworkPolicy/default-deny"]


def _denials(diff: dict[str, Any], change: str) -> list[tuple[Any, ...]]:
    return sorted(
        (
            d["rule"]["policy"],
            d["rule"]["name"],
            d["direction"],
            tuple(v["name"] for v in d["via"]),
            d["pairs"],
            d["portsText"],
        )
        for d in diff["denials"][change]
    )


def test_denials_gained_and_lost(tmp_path: Path) -> None:
    diff = diff_json(version(tmp_path, "old"), version(tmp_path, "new", *PASS_LATER))
    everything = "all"
    assert _denials(diff, "gained") == [
        ("ClusterNetworkPolicy/isolate-tenant-a", "deny-other-namespaces", "ingress", (), 2,
         everything),
        ("ClusterNetworkPolicy/isolate-tenant-b", "deny-other-namespaces", "ingress", (), 2,
         everything),
    ]
    # The Baseline used to deny prometheus -> tenant-a/worker and tenant-b after the Pass.
    assert _denials(diff, "lost") == [
        ("ClusterNetworkPolicy/default-deny", "deny-all-ingress", "ingress",
         ("pass-monitoring",), 3, everything),
    ]
    assert (diff["summary"]["denialsGained"], diff["summary"]["denialsLost"]) == (2, 1)


def test_flows_whose_deciding_tier_changed(tmp_path: Path) -> None:
    diff = diff_json(version(tmp_path, "old"), version(tmp_path, "new", *DNS_TO_BASELINE))
    assert [
        (t["sources"], t["targets"], t["direction"], t["before"], t["after"], t["pairs"])
        for t in diff["tiers"]
    ] == [
        (
            [
                "monitoring/Deployment/prometheus",
                "tenant-a/Deployment/web",
                "tenant-a/Deployment/worker",
                "tenant-b/Deployment/web",
                "tenant-b/Deployment/worker",
            ],
            ["kube-system/Deployment/coredns"],
            "egress",
            ["Admin"],
            ["Baseline"],  # no NetworkPolicy isolates their egress: the Baseline Accept decides
            5,
        )
    ]
    assert diff["summary"]["tiersChanged"] == 1
    text = cli("diff", str(tmp_path / "old"), str(tmp_path / "new")).stdout
    assert (
        "changed  tier (egress)    every workload of monitoring, tenant-a, tenant-b (5) -> "
        "kube-system/coredns: Admin => Baseline (5 pairs)" in text.splitlines()
    )


def test_diff_text_lists_denials_with_their_rule(tmp_path: Path) -> None:
    old, new = version(tmp_path, "old"), version(tmp_path, "new", *PASS_LATER)
    text = cli("diff", str(old), str(new)).stdout
    line = next(x for x in text.splitlines() if x.startswith("gained   denial (ingress)"))
    assert "monitoring/prometheus -> every workload of tenant-a (2): all denied by Admin " \
        "ClusterNetworkPolicy/isolate-tenant-a priority 20 ingress[0] 'deny-other-namespaces' " \
        f"Deny ({new / ADMIN}:66) (2 pairs)" in line
    assert "denials by Admin or Baseline rules: 2 gained, 1 lost" in text


def test_diff_without_cluster_policies_has_no_tier_changes() -> None:
    old = ROOT / "sample-manifests" / "01-db-ingress-from-backend-with-app"
    new = ROOT / "sample-manifests" / "03-db-ingress-and-egress-with-app"
    diff = json.loads(cli("diff", str(old), str(new), "--format", "json").stdout)
    assert diff["denials"] == {"gained": [], "lost": []} and diff["tiers"] == []
    assert "denials by Admin" not in cli("diff", str(old), str(new)).stdout


def _upload_folder(client: FlaskClient, folder: Path) -> str:
    files = [(p.name, p.read_bytes()) for p in sorted(folder.glob("*.yaml"))]
    response = upload(client, *files)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


@pytest.mark.parametrize(
    ("change", "table", "expected"),
    [
        pytest.param(PASS_LATER, "denial-changes", "deny-other-namespaces", id="denials-table"),
        pytest.param(DNS_TO_BASELINE, "tier-changes", "<td>Admin</td><td>Baseline</td>",
                     id="tiers-table"),
    ],
)
def test_diff_page_shows_tier_tables(
    client: FlaskClient, tmp_path: Path, change: tuple[str, str], table: str, expected: str
) -> None:
    old = _upload_folder(client, version(tmp_path, "old"))
    new = _upload_folder(client, version(tmp_path, "new", *change))
    page = client.get(f"/diff/{old}/{new}").get_data(as_text=True)
    section = page.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    assert expected in section.replace("&#39;", "'")


def test_diff_api_has_cluster_policy_changes(client: FlaskClient, tmp_path: Path) -> None:
    old = _upload_folder(client, version(tmp_path, "old"))
    new = _upload_folder(client, version(tmp_path, "new", *PASS_LATER))
    answer = client.get(f"/api/v1/diff/{old}/{new}").get_json()
    assert answer["policies"]["changed"] == ["ClusterNetworkPolicy/delegate-monitoring"]
    assert (answer["summary"]["denialsGained"], answer["summary"]["denialsLost"]) == (2, 1)
    assert [d["policy"] for d in answer["policyDiffs"]] == [
        "ClusterNetworkPolicy/delegate-monitoring"
    ]
