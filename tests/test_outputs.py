"""webapp.outputs on version 2 documents: the format registry, outputs from groups,
`--pairs` as a stream, orjson's bytes, and scale (2,000 bare pods: 4 million pairs,
three group flows)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from clirun import cli_bytes as cli

from webapp import outputs
from webapp.core import analyze
from webapp.core.document import pair_flows
from webapp.core.input.raw import SourceText
from webapp.outputs import csv as csv_out
from webapp.outputs import dot as dot_out
from webapp.outputs import jsonout, markdown

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted(p.name for p in (ROOT / "sample-manifests").iterdir() if p.is_dir())
MiB = 1024 * 1024




@cache
def sample_document(name: str) -> dict[str, Any]:
    folder = ROOT / "sample-manifests" / name
    sources = [
        SourceText(str(p.relative_to(ROOT)), p.read_bytes()) for p in sorted(folder.rglob("*.yaml"))
    ]
    return dict(analyze(sources).document)


def bare_pods(count: int, namespaces: tuple[str, ...] = ("default",)) -> bytes:
    docs = [
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\n"
        f"  namespace: {namespaces[i % len(namespaces)]}\n  labels:\n    app: a{i % 7}\n"
        "spec:\n  containers:\n  - name: c\n    image: x\n"
        for i in range(count)
    ]
    return "---\n".join(docs).encode()


@cache
def bare_document(count: int) -> dict[str, Any]:
    return dict(analyze([SourceText("pods.yaml", bare_pods(count))]).document)


def measured(render: Callable[[], Any]) -> tuple[Any, float, int]:
    """(result, seconds, tracemalloc peak bytes) of one call."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = render()
        return result, time.perf_counter() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def pairs_document(doc: dict[str, Any]) -> dict[str, Any]:
    """What `--pairs` means, built the slow, obvious way (small documents only)."""
    out = {k: v for k, v in doc.items() if k != "groups"}
    out["flows"] = list(pair_flows(doc))
    if "denials" in doc:  # node ids in place of group ids, one denial per pair, as flows
        members = {g["id"]: g["nodes"] for g in doc["groups"]}
        out["denials"] = [
            {**d, "source": a, "target": b, "pairs": 1}
            for d in doc["denials"]
            for a in members[d["source"]]
            for b in members[d["target"]]
            if a != b
        ]
    if "summary" in doc:
        out["summary"] = {**doc["summary"], "flows": doc["summary"]["pairs"]}
    return out


# --- the registry ------------------------------------------------------------------


def test_registry_names_each_format_once_with_its_writer() -> None:
    names = [f.name for f in outputs.FORMATS]
    assert names == ["json", "csv", "md", "dot", "html", "review.md"]
    assert [f.name for f in outputs.FORMATS if f.pairs] == ["json", "csv"]
    doc = sample_document("01-db-ingress-from-backend")
    for f in outputs.FORMATS:
        body = f.write(doc)
        assert isinstance(body, str | bytes) and body, f.name


def test_cli_format_choices_are_the_registry() -> None:
    from webapp.cli import analyze as command

    (option,) = [p for p in command.params if p.name == "fmt"]
    assert list(option.type.choices) == [  # type: ignore[attr-defined]
        f.name for f in outputs.offered_by(outputs.ANALYZE)
    ]


def test_importing_the_registry_pulls_in_nothing_heavy() -> None:
    code = (
        "import sys, webapp.outputs;"
        "heavy = {'flask', 'pyvis', 'networkx', 'sqlalchemy', 'jinja2', 'orjson'}"
        " & set(sys.modules);"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_page_download_links_are_the_registry(client: Any) -> None:
    created = client.post(
        "/api/v1/analyses",
        data=(ROOT / "sample-manifests/01-db-ingress-from-backend/db-backend.yaml").read_bytes(),
        content_type="application/yaml",
    ).get_json()
    page = client.get(f"/a/{created['id']}").get_data(as_text=True)
    nav = page.split('<nav class="downloads"', 1)[1].split("</nav>", 1)[0]
    api = f"/api/v1/analyses/{created['id']}"
    for f in outputs.offered_by(outputs.EXPORT):
        assert f'<a href="{api}/export.{f.name}" download>{f.label}</a>' in nav
        response = client.get(f"{api}/export.{f.name}")
        assert response.status_code == 200 and response.content_type == f.media_type
    assert nav.count("<a ") == len(outputs.offered_by(outputs.EXPORT))
    assert client.get(f"{api}/export.sarif").status_code == 404


# --- JSON: orjson writes the standard library's bytes --------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_json_bytes_are_the_standard_librarys_on_every_sample(name: str) -> None:
    doc = sample_document(name)
    expected = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()
    assert jsonout.json_bytes(doc) == expected


def test_json_bytes_with_non_ascii_and_hidden_characters() -> None:
    doc = dict(sample_document("10-online-shop"))
    doc["nodes"] = [
        {**doc["nodes"][0],
         "name": "caf\u00e9 \u202eexe\u200b \x1b[31m \u2028 \x7f \U0001f600 \ufeff"},
        *doc["nodes"][1:],
    ]
    doc["problems"] = [{"message": 'quote " back\\slash \t tab \x00 nul'}]
    expected = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()
    assert jsonout.json_bytes(doc) == expected


# --- the document's written form: a key per line, an item per line -----------------------

ITEM_PER_LINE = (
    "nodes", "groups", "flows", "denials", "policies", "clusterPolicies", "findings", "problems",
    "notes",
)


def written_lines(text: bytes, document: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(key, value) of each line of a written document; asserts the line layout on the way.

    Splits at b"\n" only: an item may hold U+2028, which str.splitlines would cut at."""
    lines = text.split(b"\n")
    assert lines[0] == b"{" and lines[-2:] == [b"}", b""], lines[-3:]
    body = iter(lines[1:-2])
    for key in document:
        line = next(body)
        head = f'  "{key}": '.encode()
        assert line.startswith(head), line[:80]
        value = line[len(head):].removesuffix(b",")
        if value != b"[":
            yield key, json.loads(value)
            continue
        assert key in ITEM_PER_LINE and document[key]
        for index, item in enumerate(document[key]):
            line = next(body)
            assert line.startswith(b"    {") and b", " not in line[:2] + line[-2:]
            assert json.loads(line.strip().removesuffix(b",")) == item, (key, index)
            yield key, item
        assert next(body).removesuffix(b",") == b"  ]"
    assert next(body, None) is None


def test_analyze_writes_the_document_a_key_and_an_item_per_line() -> None:
    """What `analyze --format json` prints: the in-process document, every list item on
    a line of its own (nodes, groups, flows, policies, findings), compact."""
    name = "10-online-shop"
    result = cli("analyze", f"sample-manifests/{name}", "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    folder = ROOT / "sample-manifests" / name
    doc = dict(analyze([
        SourceText(str(p.relative_to(ROOT)), p.read_bytes())
        for p in sorted(folder.iterdir()) if p.suffix in (".yaml", ".json")
    ]).document)
    assert json.loads(result.stdout) == doc
    counts: dict[str, int] = {}
    for key, _ in written_lines(result.stdout, doc):
        counts[key] = counts.get(key, 0) + 1
    assert all(counts[key] == len(doc[key]) for key in ITEM_PER_LINE if doc.get(key))
    assert min(len(doc[key]) for key in ("nodes", "groups", "flows", "policies", "findings")) > 1
    # compact: no space after a separator anywhere inside an item
    assert b'", "' not in result.stdout and b'": "' not in result.stdout.split(b"\n", 3)[3]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param({}, b"{}\n", id="empty"),
        pytest.param({"version": 2, "nodes": [], "summary": {"a": 1, "b": [1, 2]}},
                     b'{\n  "version": 2,\n  "nodes": [],\n  "summary": {"a":1,"b":[1,2]}\n}\n',
                     id="empty-list-and-object-on-their-key-line"),
        pytest.param({"flows": [{"s": "a", "p": [1]}, {"s": "b"}]},
                     b'{\n  "flows": [\n    {"s":"a","p":[1]},\n    {"s":"b"}\n  ]\n}\n',
                     id="an-item-per-line"),
        pytest.param({"nodes": [{"name": "caf\u00e9 \u2028 \x00 \n"}]},
                     '{\n  "nodes": [\n    {"name":"caf\u00e9 \u2028 \\u0000 \\n"}\n  ]\n}\n'
                     .encode(), id="utf-8-with-control-characters-escaped"),
        pytest.param({"nodes": [{"name": "\ud800"}, {"name": "\u00e9"}]},
                     b'{\n  "nodes": [\n    {"name":"\\ud800"},\n    {"name":"\xc3\xa9"}\n  ]\n}\n',
                     id="lone-surrogate-escaped-so-the-text-stays-utf-8"),
    ],
)
def test_document_bytes(document: dict[str, Any], expected: bytes) -> None:
    written = jsonout.document_bytes(document)
    assert written == expected
    assert json.loads(written) == document


@pytest.mark.parametrize("name", SAMPLES)
def test_document_bytes_parse_equal_to_the_document(name: str) -> None:
    doc = sample_document(name)
    written = jsonout.document_bytes(doc)
    assert json.loads(written) == doc
    assert sum(1 for _ in written_lines(written, doc)) == sum(
        len(v) if isinstance(v, list) and v else 1 for v in doc.values()
    )


@pytest.mark.parametrize("database", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
])
def test_cli_api_and_export_write_the_same_document_bytes(tmp_path: Path, database: str) -> None:
    """`analyze --format json`, the API's POST and GET bodies and export.json: one form,
    stored as it is written (UTF-8) in either database."""
    from webfixtures import database_for, make_app, upload

    folder = tmp_path / "shop ü"
    folder.mkdir()
    files = sorted(p for p in (ROOT / "sample-manifests" / "10-online-shop").iterdir()
                   if p.suffix in (".yaml", ".json"))
    for path in files:
        (folder / path.name).write_bytes(path.read_bytes())
    printed = cli("analyze", str(folder), "--format", "json")
    assert printed.returncode == 0, printed.stderr.decode()
    client = make_app(tmp_path, {"DATABASE": database_for(database, tmp_path)}).test_client()
    created = upload(client, *((str(folder / p.name), p.read_bytes()) for p in files))
    assert created.status_code == 201, created.get_data(as_text=True)[:300]
    api = f"/api/v1/analyses/{created.get_json()['id']}"
    posted = created.get_data()
    assert posted.endswith(b', "analysis": ' + printed.stdout + b"}")
    assert client.get(api).get_data() == printed.stdout
    assert client.get(f"{api}/export.json").get_data() == printed.stdout
    assert "shop ü".encode() in printed.stdout  # UTF-8, as uploaded


# --- --pairs ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_pairs_json_is_the_document_with_one_flow_per_pair(name: str) -> None:
    doc = sample_document(name)
    streamed = b"".join(jsonout.pairs_json(doc))
    assert streamed == jsonout.document_bytes(pairs_document(doc))
    parsed = json.loads(streamed)
    assert "groups" not in parsed
    assert len(parsed["flows"]) == doc["summary"]["pairs"]
    assert {f["pairs"] for f in parsed["flows"]} <= {1}


def test_pairs_json_of_a_document_without_flows() -> None:
    doc = {"version": 2, "nodes": [], "groups": [], "flows": [], "policies": []}
    assert json.loads(b"".join(jsonout.pairs_json(doc))) == {
        "version": 2, "nodes": [], "flows": [], "policies": [],
    }


@pytest.mark.parametrize("name", SAMPLES)
def test_pairs_csv_has_one_row_per_pair(name: str) -> None:
    doc = sample_document(name)
    rows = list(csv.DictReader(io.StringIO(b"".join(csv_out.pairs_csv(doc)).decode())))
    nodes = {n["id"]: n for n in doc["nodes"]}
    expected = [(f["source"], f["target"]) for f in pair_flows(doc)]
    assert [(r["source"], r["target"]) for r in rows] == expected
    for row, flow in zip(rows, pair_flows(doc), strict=True):
        assert row["target_name"] == nodes[flow["target"]]["name"]
        assert row["source_namespace"] == (nodes[flow["source"]]["namespace"] or "")
        assert row["all_traffic"] == ("true" if flow["allTraffic"] else "false")


def test_cli_pairs_writes_json_and_csv(tmp_path: Path) -> None:
    sample = "sample-manifests/10-online-shop"
    out = tmp_path / "pairs.csv"
    result = cli("analyze", sample, "--format", "csv", "--pairs", "--output", str(out))
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b""
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    grouped = json.loads(cli("analyze", sample).stdout)
    assert len(rows) == grouped["summary"]["pairs"]
    result = cli("analyze", sample, "--pairs")
    assert result.returncode == 0, result.stderr.decode()
    parsed = json.loads(result.stdout)
    assert "groups" not in parsed and len(parsed["flows"]) == len(rows)
    assert [(f["source"], f["target"]) for f in parsed["flows"]] == [
        (r["source"], r["target"]) for r in rows
    ]


@pytest.mark.parametrize("fmt", ["md", "dot", "html"])
def test_cli_pairs_with_another_format_exits_2(fmt: str) -> None:
    result = cli("analyze", "sample-manifests/10-online-shop", "--format", fmt, "--pairs")
    assert result.returncode == 2
    assert f"--pairs works with --format json, csv, not {fmt}" in result.stderr.decode()
    assert result.stdout == b""


class Sink:
    """Counts what a stream writes, keeping only a few sampled rows."""

    def __init__(self) -> None:
        self.chunks = 0
        self.count = 0
        self.size = 0
        self.largest = 0
        self.text = b""

    def drain(self, chunks: Iterator[bytes], keep: int = 1 << 16) -> Sink:
        for chunk in chunks:
            self.chunks += 1
            self.size += len(chunk)
            self.largest = max(self.largest, len(chunk))
            self.count += chunk.count(b"\n")
            if len(self.text) < keep:
                self.text += chunk[:keep]
        return self


@pytest.mark.parametrize(
    ("writer", "bound"),
    [
        pytest.param(csv_out.pairs_csv, 8 * MiB, id="csv"),
        pytest.param(jsonout.pairs_json, 8 * MiB, id="json"),
    ],
)
def test_pairs_stream_in_bounded_memory(writer: Callable[..., Iterator[bytes]], bound: int) -> None:
    """300 bare pods: 90,300 pairs, written in many chunks, memory independent of them."""
    doc = bare_document(300)
    sink, _, peak = measured(lambda: Sink().drain(writer(doc)))
    assert sink.chunks > 10 and sink.largest < sink.size / 5
    assert peak < bound, f"peak {peak / MiB:.1f} MiB"
    assert b"p0" in sink.text


@pytest.mark.slow
def test_pairs_csv_of_a_million_pairs_is_a_stream() -> None:
    """1,000 bare pods: 1,001,000 pair rows; the peak stays far below what the rows take."""
    doc = bare_document(1000)
    sink, seconds, peak = measured(lambda: Sink().drain(csv_out.pairs_csv(doc)))
    assert sink.count == 1 + 1000 * 999 + 2 * 1000  # header, pod pairs, to and from outside
    assert peak < 4 * MiB < sink.size / 10, f"peak {peak / MiB:.1f} MiB of {sink.size / MiB:.0f}"
    assert b"\r\ndefault/Pod/p0,default,p0,default/Pod/p1,default,p1,all,true,,\r\n" in sink.text
    assert seconds < 120


# --- from groups, at scale --------------------------------------------------------------


def test_markdown_names_whole_namespaces_and_counts_pairs() -> None:
    doc = dict(analyze([SourceText("pods.yaml", bare_pods(40, ("a", "b")))]).document)
    text = markdown.to_markdown(doc)
    assert "every workload of namespaces a, b" in text
    assert f"{40 * 39:,}" in text  # the pairs of pods the one pod-to-pod flow stands for
    assert f"Allowed flows: 3 between 2 groups ({40 * 39 + 80:,} pairs of nodes)" in text


def test_a_group_that_is_not_whole_namespaces_is_named_by_its_first_members() -> None:
    from webapp.outputs.wording import Groups

    nodes = [
        {"id": f"n{i}", "type": "workload", "namespace": "a", "name": f"w{i}"} for i in range(6)
    ]
    doc = {"nodes": nodes, "groups": [{"id": "g", "nodes": ["n0", "n1", "n2", "n3", "n4"]},
                                      {"id": "n5", "nodes": ["n5"]}]}
    assert Groups(doc).describe("g") == "a/w0, a/w1, a/w2 +2 more"
    assert Groups(doc).describe("n5") == "a/w5"


SCALE_WRITERS = [
    pytest.param(csv_out.to_csv, id="csv"),
    pytest.param(markdown.to_markdown, id="md"),
    pytest.param(dot_out.to_dot, id="dot"),
    pytest.param(jsonout.json_bytes, id="json"),
]


@pytest.mark.parametrize("writer", SCALE_WRITERS)
def test_two_thousand_bare_pods_render_from_groups(writer: Callable[[Any], Any]) -> None:
    doc = bare_document(2000)
    assert doc["summary"]["pairs"] == 2000 * 1999 + 2 * 2000
    body, seconds, peak = measured(lambda: writer(doc))
    text = body.decode() if isinstance(body, bytes) else body
    assert seconds < 10
    assert peak < 24 * MiB, f"peak {peak / MiB:.1f} MiB"
    assert len(text) < 2 * MiB  # grows with nodes, not with pairs
    if writer is csv_out.to_csv:
        rows = list(csv.DictReader(io.StringIO(text)))
        assert sum(int(r["pairs"]) for r in rows) == doc["summary"]["pairs"]
        pods = next(r for r in rows if r["source"] == r["target"])
        assert pods["source_nodes"] == "2000" and pods["pairs"] == f"{2000 * 1999}"
        assert pods["source_members"] == "every workload of namespace default"
    elif writer is dot_out.to_dot:
        assert text.count("->") == 3 and text.count("[shape=") == 2
        assert "2,000 nodes" in text and "3,998,000 pairs" in text
    elif writer is markdown.to_markdown:
        assert "| every workload of namespace default | every workload of namespace default |" \
            " 3,998,000 | all |" in text
    else:
        assert json.loads(text)["summary"]["flows"] == 3


def test_offline_html_of_two_thousand_bare_pods() -> None:
    from webapp.outputs.offline import standalone_html

    doc = bare_document(2000)
    page, seconds, _ = measured(lambda: standalone_html(doc))
    assert seconds < 60
    assert 'id="view-data">' in page and "Content-Security-Policy" in page
