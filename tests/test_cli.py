"""`netpol-viz analyze` as a user runs it: a real subprocess, exit codes, stdout and stderr."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pytest
from test_samples import cli

POLICY = b"""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-backend
spec:
  podSelector:
    matchLabels:
      name: mysql
  ingress:
  - from:
    - podSelector:
        matchLabels:
          role: backend
    ports:
    - port: 3306
"""

BROKEN = b"""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: typo
spec:
  podSelector: {}
  ingress:
  - form:
    - podSelector: {}
"""


def test_analyze_reads_standard_input() -> None:
    result = cli("analyze", "-", stdin=POLICY)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["version"] == 2
    assert {"nodes", "groups", "flows", "policies", "findings", "problems"} <= doc.keys()
    assert doc["policies"][0]["source"] == {"file": "<stdin>", "document": 0, "line": 1}


def test_problems_go_to_stderr_and_the_rest_is_analysed(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_bytes(POLICY)
    (tmp_path / "bad.yaml").write_bytes(BROKEN)
    result = cli("analyze", str(tmp_path))
    assert result.returncode == 0
    err = result.stderr.decode()
    assert "bad.yaml:8: error:" in err and "spec.ingress[0].form" in err
    assert "from" in err  # the hint names the field that was meant
    doc = json.loads(result.stdout)
    assert [p["id"] for p in doc["policies"]] == ["default/db-backend"]
    errors = [p for p in doc["problems"] if p["severity"] == "error"]
    assert errors and errors[0]["path"] == "spec.ingress[0].form"


@pytest.mark.parametrize(
    ("files", "needle"),
    [
        pytest.param({"x.yaml": BROKEN}, "nothing to analyse", id="every-document-broken"),
        pytest.param({"x.yaml.gz": gzip.compress(POLICY)}, "not text", id="gzip-upload"),
        pytest.param({"x.yaml": b""}, "no yaml or json content", id="empty-file"),
        pytest.param({"x.yaml": b"\x89PNG\r\n\x1a\n\x00\x00"}, "not text", id="binary"),
    ],
)
def test_unusable_uploads_exit_2_with_a_message(
    tmp_path: Path, files: dict[str, bytes], needle: str
) -> None:
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))
    result = cli("analyze", *paths)
    assert result.returncode == 2
    assert needle in result.stderr.decode().lower()
    assert b"Traceback" not in result.stderr
    assert result.stdout == b""


def test_missing_path_and_bad_arguments_exit_2(tmp_path: Path) -> None:
    missing = cli("analyze", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and b"nope.yaml" in missing.stderr
    assert cli("analyze").returncode == 2
    assert cli("analyze", "-", "--format", "xml", stdin=POLICY).returncode == 2


def test_output_file_and_formats(tmp_path: Path) -> None:
    out = tmp_path / "flows.csv"
    result = cli("analyze", "-", "--format", "csv", "--output", str(out), stdin=POLICY)
    assert result.returncode == 0 and result.stdout == b""
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    flow = next(r for r in rows if r["target_members"] == "default: name=mysql")
    assert flow["source_members"] == "default: role=backend" and flow["ports"] == "TCP 3306"
    assert flow["source_nodes"] == flow["target_nodes"] == flow["pairs"] == "1"
    md = cli("analyze", "-", "--format", "md", stdin=POLICY).stdout.decode()
    assert md.startswith("#") and "db-backend" in md
    dot = cli("analyze", "-", "--format", "dot", stdin=POLICY).stdout.decode()
    assert dot.startswith("digraph") and "cluster_" in dot
    html = cli("analyze", "-", "--format", "html", stdin=POLICY).stdout.decode()
    assert "<html" in html.lower() and "vis" in html


def test_version_and_help() -> None:
    assert cli("--version").stdout.decode().startswith("netpol-viz")
    text = cli("analyze", "--help").stdout.decode()
    for option in ("--format", "--output"):
        assert option in text


def test_diff_takes_share_ids_from_the_web_database(tmp_path: Path) -> None:
    from webapp import __version__
    from webapp.core import SourceText, analyze
    from webapp.web.storage import Storage

    database = tmp_path / "netpol.sqlite3"
    storage = Storage(database)
    ids = []
    for text in (POLICY, POLICY.replace(b"3306", b"3307")):
        analysis = analyze([SourceText("db.yaml", text)])
        saved = storage.save(
            json.dumps(analysis.document), json.dumps(analysis.sanitized), __version__
        )
        ids.append(saved.id)
    result = cli("diff", ids[0], f"/a/{ids[1]}", "--database", str(database), "--format", "json")
    assert result.returncode == 1, result.stderr
    changed = json.loads(result.stdout)
    assert changed["changed"] is True
    same = cli("diff", ids[0], ids[0], "--database", str(database))
    assert same.returncode == 0, same.stderr
    unknown = cli("diff", ids[0], "A" * 32, "--database", str(database))
    assert unknown.returncode == 2 and b"share id" in unknown.stderr


def test_diff_with_share_ids_of_an_unreachable_database_exits_2(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database's folder should be")
    result = cli("diff", "A" * 32, "B" * 32, "--database", str(blocker / "netpol.sqlite3"))
    assert result.returncode == 2, result.stderr
    assert b"cannot be reached" in result.stderr and b"Traceback" not in result.stderr
