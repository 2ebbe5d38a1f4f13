"""webapp.outputs: JSON, CSV, Markdown and DOT built from hand-made analysis documents.

Hand-made documents without `groups` (version 1, or `--pairs`) have each
node as a group of its own; tests/test_outputs.py covers version 2 groups,
the registry, `--pairs` and scale.

The documents follow CONTRACT §3. Each format is read back the way its
consumer reads it (csv.reader, a Markdown table splitter that honours
backslash escapes, a DOT lexer/parser following Graphviz's quoting rules), so
the injection cases check what a reader would actually see.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.outputs import csv as csv_out
from webapp.outputs import dot as dot_out
from webapp.outputs import jsonout, markdown, wording

EVIL_HTML = "<img src=x onerror=alert(1)>"
EVIL_DOT = 'a"]; evil [label="x'
FIXED_LINES = {"No nodes.", "No allowed flows.", "No policies.", "No findings.", "No problems."}


# --- documents built by hand ----------------------------------------------------------


def node(
    name: str,
    namespace: str | None = "default",
    *,
    type: str = "workload",
    kind: str | None = "Deployment",
    pods: int | None = 1,
    cidrs: tuple[str, ...] = (),
    ingress: bool = False,
    egress: bool = False,
    id: str | None = None,
) -> dict[str, Any]:
    if type != "workload":
        kind = None
    return {
        "id": id or (f"{namespace}/{kind}/{name}" if namespace else f"{type}:{name}"),
        "type": type,
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "labels": {},
        "cidrs": list(cidrs),
        "pods": pods if type == "workload" else None,
        "isolated": {"ingress": ingress, "egress": egress},
    }


def ref(policy: str, direction: str, rule: int, file: str = "db.yaml",
        line: int | None = 12) -> dict[str, Any]:
    return {"policy": policy, "direction": direction, "rule": rule,
            "source": {"file": file, "line": line}}


def flow(source: dict[str, Any], target: dict[str, Any], ports: list[tuple[str, int, int]],
         *, egress: Sequence[dict[str, Any]] = (), ingress: Sequence[dict[str, Any]] = (),
         all_traffic: bool = False) -> dict[str, Any]:
    return {
        "source": source["id"],
        "target": target["id"],
        "ports": [{"protocol": p, "from": lo, "to": hi} for p, lo, hi in ports],
        "allTraffic": all_traffic,
        "egress": list(egress),
        "ingress": list(ingress),
    }


ALL_PORTS = [("TCP", 1, 65535), ("UDP", 1, 65535), ("SCTP", 1, 65535)]


def document(nodes: Sequence[dict[str, Any]] = (), flows: Sequence[dict[str, Any]] = (),
             **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": 1,
        "nodes": list(nodes),
        "flows": list(flows),
        "policies": [],
        "findings": [],
        "problems": [],
    }
    doc.update(extra)
    return doc


BACKEND = node("backend", pods=2)
MYSQL = node("mysql", ingress=True)
HOST = node("10.10.20.15/32", None, type="ipblock", cidrs=("10.10.20.15/32",))
OTHER = node("any other pod", "default", type="inferred", id="inferred:default:other")
DB_INGRESS = ref("default/db-backend", "ingress", 0, "db-backend.yaml", 14)


def article_document() -> dict[str, Any]:
    """The article's db-backend example, with the small app."""
    return document(
        [BACKEND, MYSQL, HOST, OTHER],
        [
            flow(BACKEND, MYSQL, [("TCP", 3306, 3306)], ingress=[DB_INGRESS]),
            flow(MYSQL, BACKEND, ALL_PORTS, all_traffic=True),
            flow(BACKEND, HOST, ALL_PORTS, all_traffic=True),
        ],
        policies=[{
            "id": "default/db-backend", "namespace": "default", "name": "db-backend",
            "policyTypes": ["Ingress"], "selects": [MYSQL["id"]],
            "source": {"file": "db-backend.yaml", "document": 0, "line": 1},
        }],
        findings=[{
            "rule": "workload-not-isolated", "severity": "medium",
            "message": "backend accepts traffic from everywhere.",
            "nodes": [BACKEND["id"]], "policies": [],
        }],
        problems=[{
            "severity": "warning", "file": "app.yaml", "document": 3, "line": 7,
            "kind": "NetworkPolicy", "name": "typo",
            "path": "spec.ingress[0].from[0].ipBlock.cidr",
            "message": "not a CIDR; the document was left out.",
        }],
    )


EMPTY_DOCUMENTS = [
    pytest.param(document(), id="contract-keys-with-empty-lists"),
    pytest.param({}, id="no-keys-at-all"),
]


# --- shared wording ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("flow_", "expected"),
    [
        pytest.param(flow(BACKEND, MYSQL, [("TCP", 3306, 3306)]), "TCP 3306", id="one-port"),
        pytest.param(
            flow(BACKEND, MYSQL, [("TCP", 3306, 3306), ("UDP", 53, 53), ("TCP", 8000, 8080)]),
            "TCP 3306; UDP 53; TCP 8000-8080", id="several-in-document-order",
        ),
        pytest.param(flow(BACKEND, MYSQL, [("SCTP", 5000, 5999)]), "SCTP 5000-5999",
                     id="sctp-range"),
        pytest.param(flow(BACKEND, MYSQL, [("TCP", 1, 65535)]), "TCP all ports",
                     id="every-tcp-port-is-not-all-traffic"),
        pytest.param(flow(BACKEND, MYSQL, [("TCP", 1, 65535), ("UDP", 53, 53)]),
                     "TCP all ports; UDP 53", id="all-ports-of-one-protocol-and-one-port"),
        pytest.param(flow(BACKEND, MYSQL, ALL_PORTS, all_traffic=True), "all",
                     id="all-traffic"),
    ],
)
def test_format_ports(flow_: dict[str, Any], expected: str) -> None:
    assert wording.format_ports(flow_) == expected


@pytest.mark.parametrize(
    ("ref_", "expected"),
    [
        pytest.param(DB_INGRESS, "default/db-backend ingress[0] (db-backend.yaml:14)",
                     id="with-file-and-line"),
        pytest.param(ref("shop/p", "egress", 2, "x.yaml", None), "shop/p egress[2] (x.yaml)",
                     id="without-line"),
        pytest.param({"policy": "shop/p", "direction": "egress", "rule": 1, "source": None},
                     "shop/p egress[1]", id="without-source"),
    ],
)
def test_format_rule_ref(ref_: dict[str, Any], expected: str) -> None:
    assert wording.format_rule_ref(ref_) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("plain", "plain", id="plain-text-unchanged"),
        pytest.param("caf\u00e9 \u00e0 l'\u00e9cole", "caf\u00e9 \u00e0 l'\u00e9cole",
                     id="accents-unchanged"),
        pytest.param("abc\u202edef", "abc\\u202edef", id="bidi-override-spelled-out"),
        pytest.param("a\u200bb", "a\\u200bb", id="zero-width-space-spelled-out"),
        pytest.param("a\x1b[31mb", "a\\x1b[31mb", id="terminal-escape-spelled-out"),
        pytest.param(None, "", id="none-is-empty"),
    ],
)
def test_visible(text: str | None, expected: str) -> None:
    assert wording.visible(text) == expected


# --- JSON ---------------------------------------------------------------------------


def test_json_is_the_document_as_is() -> None:
    doc = article_document()
    doc["nodes"][0] = {**doc["nodes"][0], "name": "caf\u00e9"}
    text = jsonout.to_json(doc)
    assert json.loads(text) == doc
    assert text.endswith("}\n")
    assert '\n  "version": 1,' in text  # two-space indent
    assert "caf\u00e9" in text  # not \u00e9
    assert list(json.loads(text)) == list(doc)  # keys in the builder's order


@pytest.mark.parametrize("doc", EMPTY_DOCUMENTS)
def test_json_empty(doc: dict[str, Any]) -> None:
    assert json.loads(jsonout.to_json(doc)) == doc


# No floats: documents hold none, and orjson spells exponents its own way (1e16).
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@given(JSON_VALUES)
def test_json_writes_the_same_bytes_as_the_standard_library(value: Any) -> None:
    expected = json.dumps(value, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    assert jsonout.to_json(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({7: "a", 2.5: "b", False: "c", None: "d"}, id="non-string-keys"),
        pytest.param({"t": (1, 2), "e": [], "o": {}}, id="tuples-and-empty-containers"),
        pytest.param({"big": 2**70, "small": -(2**64)}, id="integers-beyond-64-bits"),
    ],
)
def test_json_edge_values_match_the_standard_library(value: Any) -> None:
    assert jsonout.to_json(value) == json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def test_json_refuses_what_the_standard_library_refuses() -> None:
    with pytest.raises(TypeError):
        jsonout.to_json({"x": object()})
    with pytest.raises(TypeError):
        jsonout.to_json({(1, 2): "tuple key"})


# --- CSV ------------------------------------------------------------------------------


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_header() -> None:
    first = csv_out.to_csv(article_document()).split("\r\n")[0]
    assert first == ("source,source_nodes,source_members,target,target_nodes,target_members,"
                     "pairs,ports,all_traffic,egress_rules,ingress_rules")


def test_csv_one_row_per_flow() -> None:
    rows = csv_rows(csv_out.to_csv(article_document()))
    assert rows[0] == {
        "source": BACKEND["id"], "source_nodes": "1", "source_members": "default/backend",
        "target": MYSQL["id"], "target_nodes": "1", "target_members": "default/mysql",
        "pairs": "1", "ports": "TCP 3306", "all_traffic": "false", "egress_rules": "",
        "ingress_rules": "default/db-backend ingress[0] (db-backend.yaml:14)",
    }
    assert [r["ports"] for r in rows] == ["TCP 3306", "all", "all"]
    assert [r["all_traffic"] for r in rows] == ["false", "true", "true"]
    assert rows[2]["target_members"] == "10.10.20.15/32"


def test_csv_joins_several_rules() -> None:
    refs = [ref("a/p", "egress", 0, "a.yaml", 3), ref("a/q", "egress", 1, "b.yaml", 9)]
    doc = document([BACKEND, MYSQL], [flow(BACKEND, MYSQL, [("TCP", 80, 80)], egress=refs)])
    (row,) = csv_rows(csv_out.to_csv(doc))
    assert row["egress_rules"] == "a/p egress[0] (a.yaml:3); a/q egress[1] (b.yaml:9)"


@pytest.mark.parametrize(
    ("name", "cell"),
    [
        pytest.param("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")", id="equals"),
        pytest.param("+1+1", "'+1+1", id="plus"),
        pytest.param("-2+3", "'-2+3", id="minus"),
        pytest.param("@SUM(A1)", "'@SUM(A1)", id="at"),
        pytest.param("\t=1", "'\t=1", id="tab"),
        pytest.param("\r=1", "'\r=1", id="carriage-return"),
        pytest.param("a=b", "a=b", id="formula-char-later-is-fine"),
        pytest.param("'quoted", "'quoted", id="leading-quote-unchanged"),
    ],
)
def test_csv_neutralises_formulas(name: str, cell: str) -> None:
    evil = node(name, name, type="inferred", id=name)
    doc = document([BACKEND, evil], [flow(BACKEND, evil, [("TCP", 80, 80)])])
    (row,) = csv_rows(csv_out.to_csv(doc))
    assert row["target"] == cell
    assert row["target_members"] == cell  # an inferred node's name alone


def test_csv_neutralises_rule_cells() -> None:
    doc = document([BACKEND, MYSQL], [
        flow(BACKEND, MYSQL, [("TCP", 80, 80)], ingress=[ref("=x/p", "ingress", 0)]),
    ])
    (row,) = csv_rows(csv_out.to_csv(doc))
    assert row["ingress_rules"].startswith("'=x/p ingress[0]")


def test_csv_keeps_commas_quotes_and_newlines_inside_cells() -> None:
    name = 'a,b "c"\nd'
    odd = node(name, "ns", id="odd")
    doc = document([BACKEND, odd], [flow(BACKEND, odd, [("TCP", 80, 80)])])
    (row,) = csv_rows(csv_out.to_csv(doc))
    assert row["target_members"] == "ns/" + name
    assert row["ports"] == "TCP 80"


def test_csv_spells_out_bidi_overrides() -> None:
    odd = node("evil\u202etxt.exe", "ns", id="odd")
    doc = document([BACKEND, odd], [flow(BACKEND, odd, [("TCP", 80, 80)])])
    (row,) = csv_rows(csv_out.to_csv(doc))
    assert row["target_members"] == "ns/evil\\u202etxt.exe"


@pytest.mark.parametrize("doc", EMPTY_DOCUMENTS)
def test_csv_empty_has_only_the_header(doc: dict[str, Any]) -> None:
    assert csv_out.to_csv(doc) == ",".join(csv_out.GROUP_HEADER) + "\r\n"


# --- Markdown ----------------------------------------------------------------------


def unescape_md(text: str) -> str:
    """What a CommonMark renderer shows for text made only of backslash escapes."""
    return re.sub(r"\\(.)", r"\1", text)


def split_row(line: str) -> list[str]:
    """Cells of a GFM table row, split at unescaped pipes only (as GitHub does)."""
    assert line.startswith("| ") and line.endswith(" |"), line
    cells = re.split(r"(?<!\\)\|", line[2:-2])
    return [unescape_md(c.strip()) for c in cells]


def md_section(text: str, title: str) -> list[str]:
    lines = text.split("\n")
    start = lines.index(f"## {title}") + 2
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return [line for line in lines[start:end] if line]


def md_table(text: str, title: str) -> list[list[str]]:
    """Header and body rows of the table in one section; every row as wide as the header."""
    lines = md_section(text, title)
    header, rule, *body = lines
    assert set(rule) <= set("|-")
    rows = [split_row(header)] + [split_row(line) for line in body]
    assert {len(r) for r in rows} == {len(rows[0])}, rows
    return rows


def test_markdown_report_sections_in_order() -> None:
    text = markdown.to_markdown(article_document())
    assert text.startswith("# NetworkPolicy analysis\n")
    assert text.endswith("\n")
    headings = [line for line in text.split("\n") if line.startswith("#")]
    assert headings == ["# NetworkPolicy analysis", "## Nodes", "## Allowed flows",
                        "## Policies", "## Findings", "## Problems"]


def test_markdown_summary_counts() -> None:
    text = markdown.to_markdown(article_document())
    summary = text.split("\n## ")[0]
    for expected in ("Workloads: 2 (3 pods)", "External address blocks: 1",
                     "Inferred (pods no uploaded object describes): 1", "Policies: 1",
                     "isolated for ingress: 1 of 2", "isolated for egress: 0 of 2",
                     "Allowed flows: 3", "Findings: 1 medium", "Problems: 1 warning"):
        assert expected in summary


def test_markdown_nodes_table() -> None:
    rows = md_table(markdown.to_markdown(article_document()), "Nodes")
    assert rows[0] == ["Name", "Namespace", "Kind / type", "Pods", "Isolated ingress",
                       "Isolated egress"]
    assert rows[1] == ["backend", "default", "Deployment", "2", "no", "no"]
    assert rows[2] == ["mysql", "default", "Deployment", "1", "yes", "no"]
    assert rows[3] == ["10.10.20.15/32", "—", "ipblock: 10.10.20.15/32", "—", "no", "no"]
    assert rows[4][:3] == ["any other pod", "default", "inferred"]


def test_markdown_flows_table_names_rules_with_file_and_line() -> None:
    rows = md_table(markdown.to_markdown(article_document()), "Allowed flows")
    assert rows[0] == ["Source", "Target", "Pairs", "Ports", "Allowed by"]
    assert rows[1] == ["default/backend", "default/mysql", "1", "TCP 3306",
                       "default/db-backend ingress[0] (db-backend.yaml:14)"]
    assert rows[2][3:] == ["all", "no policy isolates either side (Kubernetes default)"]
    assert rows[3][1] == "10.10.20.15/32"


def test_markdown_policies_and_findings() -> None:
    text = markdown.to_markdown(article_document())
    assert md_table(text, "Policies")[1] == ["default/db-backend", "Ingress", "default/mysql",
                                             "db-backend.yaml:1"]
    assert md_table(text, "Findings")[1] == [
        "medium", "workload-not-isolated", "backend accepts traffic from everywhere.",
        "default/backend", "—",
    ]


def test_markdown_problems_with_file_line_and_field_path() -> None:
    rows = md_table(markdown.to_markdown(article_document()), "Problems")
    assert rows[1] == ["warning", "app.yaml:7 (document 3)", "NetworkPolicy/typo",
                       "spec.ingress[0].from[0].ipBlock.cidr",
                       "not a CIDR; the document was left out."]


def test_markdown_notes_only_when_present() -> None:
    assert "## Notes" not in markdown.to_markdown(article_document())
    note = {"severity": "info", "file": "cm.yaml", "document": 0, "line": 1,
            "kind": "ConfigMap", "name": "settings", "path": None,
            "message": "ConfigMap is not used by the analysis; skipped."}
    text = markdown.to_markdown({**article_document(), "notes": [note]})
    assert md_table(text, "Notes")[1][:3] == ["info", "cm.yaml:1 (document 0)",
                                              "ConfigMap/settings"]


def test_markdown_ipblock_shows_its_first_cidrs() -> None:
    block = node("0.0.0.0/0 except 10.0.0.0/8", None, type="ipblock",
                 cidrs=("0.0.0.0/5", "8.0.0.0/7", "11.0.0.0/8", "12.0.0.0/6", "16.0.0.0/4"))
    rows = md_table(markdown.to_markdown(document([block])), "Nodes")
    assert rows[1][:3] == [
        "0.0.0.0/0 except 10.0.0.0/8", "—",
        "ipblock: 0.0.0.0/5, 8.0.0.0/7, 11.0.0.0/8, 12.0.0.0/6 (+1 more)",
    ]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(EVIL_HTML, id="html-tag"),
        pytest.param("| x |", id="table-pipes"),
        pytest.param("a\n# heading\n| x | y |", id="newlines-and-heading"),
        pytest.param("[click](javascript:alert(1))", id="link"),
        pytest.param("![img](http://x/y.png)", id="image"),
        pytest.param("**bold** _em_ `code` ~~strike~~", id="emphasis-and-code"),
        pytest.param("back\\slash\\", id="backslashes"),
        pytest.param("&lt;b&gt;", id="html-entity"),
        pytest.param("see https://evil.example and www.evil.example", id="autolinks"),
    ],
)
def test_markdown_shows_uploaded_strings_as_text(name: str) -> None:
    evil = node(name, name, id=name)
    doc = document([BACKEND, evil], [flow(BACKEND, evil, [("TCP", 80, 80)],
                                          ingress=[ref(name, "ingress", 0, name, 3)])])
    text = markdown.to_markdown(doc)
    shown = name.replace("\n", " ")
    nodes = md_table(text, "Nodes")
    assert nodes[2][:2] == [shown, shown]
    flows = md_table(text, "Allowed flows")
    assert flows[1][1] == f"{shown}/{shown}"
    assert flows[1][4] == f"{shown} ingress[0] ({shown}:3)"
    # No raw HTML, and only our own headings and table rows start a line.
    assert re.search(r"(?<!\\)<", text) is None
    assert re.search(r"(?<!\\)\bhttps?://", unescape_md_keep_colon(text)) is None
    assert all(line == "" or line[0] in "#-|" or line in FIXED_LINES
               for line in text.split("\n"))


def unescape_md_keep_colon(text: str) -> str:
    """Removes every escape but `\\:`, so a URL scheme left unescaped still shows."""
    return re.sub(r"\\([^:])", r"\1", text)


@pytest.mark.parametrize("doc", EMPTY_DOCUMENTS)
def test_markdown_empty(doc: dict[str, Any]) -> None:
    text = markdown.to_markdown(doc)
    for line in ("No nodes.", "No allowed flows.", "No policies.", "No findings.",
                 "No problems.", "- Workloads: 0 (0 pods)", "- Findings: none"):
        assert line in text.split("\n")


# --- DOT ------------------------------------------------------------------------------

DOT_TOKEN = re.compile(r'\s+|"(?:[^"\\]|\\.)*"|->|[{}\[\];,=]|[A-Za-z_][A-Za-z_0-9]*')


def dot_tokens(text: str) -> list[str]:
    """Graphviz's lexer: in a quoted string `\\"` is a quote and any `\\x` pair stays whole."""
    tokens, pos = [], 0
    while pos < len(text):
        match = DOT_TOKEN.match(text, pos)
        assert match, f"DOT syntax error at {text[pos:pos + 30]!r}"
        if not match.group().isspace():
            tokens.append(match.group())
        pos = match.end()
    return tokens


def dot_value(token: str) -> str:
    """A string token's value after the lexer (`\\"` -> `"`; other pairs kept)."""
    if not token.startswith('"'):
        return token
    return re.sub(r'\\(.)', lambda m: '"' if m.group(1) == '"' else m.group(0), token[1:-1])


def dot_label(token: str) -> str:
    """A label as Graphviz draws it: `\\n` breaks the line, `\\\\` is a backslash."""
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1),
                  dot_value(token))


class DotGraph:
    """The statements of our DOT output, parsed from the tokens."""

    def __init__(self, text: str) -> None:
        tokens = dot_tokens(text)
        assert tokens[:3] == ["digraph", "netpol", "{"] and tokens[-1] == "}"
        self.clusters: dict[str, dict[str, dict[str, str]]] = {}
        self.top: dict[str, dict[str, str]] = {}
        self.cluster_labels: dict[str, str] = {}
        self.edges: list[tuple[str, str, dict[str, str]]] = []
        self.defaults: list[str] = []
        body, pos, scope = tokens[3:-1], 0, self.top
        current = None
        while pos < len(body):
            tok = body[pos]
            if tok == "subgraph":
                current = dot_value(body[pos + 1])
                assert body[pos + 2] == "{"
                scope = self.clusters.setdefault(current, {})
                pos += 3
            elif tok == "}":
                assert current is not None
                scope, current = self.top, None
                pos += 1
            elif tok in ("graph", "node", "edge"):
                attrs, pos = self._attrs(body, pos + 1)
                self.defaults.append(tok)
            elif tok == "label" and body[pos + 1] == "=":
                assert current is not None
                self.cluster_labels[current] = dot_label(body[pos + 2])
                assert body[pos + 3] == ";"
                pos += 4
            elif body[pos + 1] == "->":
                attrs, end = self._attrs(body, pos + 3)
                self.edges.append((dot_value(tok), dot_value(body[pos + 2]), attrs))
                pos = end
            else:
                assert tok.startswith('"'), tok
                attrs, pos = self._attrs(body, pos + 1)
                scope[dot_value(tok)] = attrs

    @staticmethod
    def _attrs(tokens: list[str], pos: int) -> tuple[dict[str, str], int]:
        assert tokens[pos] == "["
        attrs, pos = {}, pos + 1
        while tokens[pos] != "]":
            key, eq, value = tokens[pos:pos + 3]
            assert eq == "=" and not key.startswith('"'), (key, eq)
            assert value.startswith('"'), f"unquoted value {value!r}"
            attrs[key] = dot_label(value)
            pos += 3
            if tokens[pos] == ",":
                pos += 1
        assert tokens[pos + 1] == ";"
        return attrs, pos + 2

    def node(self, node_id: str) -> dict[str, str]:
        for scope in (self.top, *self.clusters.values()):
            if node_id in scope:
                return scope[node_id]
        raise KeyError(node_id)


def test_dot_clusters_per_namespace_and_ipblocks_outside() -> None:
    graph = DotGraph(dot_out.to_dot(article_document()))
    assert set(graph.clusters) == {"cluster_default"}
    assert graph.cluster_labels == {"cluster_default": "default"}
    assert set(graph.clusters["cluster_default"]) == {BACKEND["id"], MYSQL["id"], OTHER["id"]}
    assert set(graph.top) == {HOST["id"]}


def test_dot_node_labels_and_shapes() -> None:
    graph = DotGraph(dot_out.to_dot(article_document()))
    assert graph.node(MYSQL["id"]) == {
        "shape": "box", "label": "mysql\nDeployment, 1 pod\nisolated: ingress",
    }
    assert graph.node(BACKEND["id"])["label"] == "backend\nDeployment, 2 pods\nnot isolated"
    assert graph.node(OTHER["id"])["style"] == "dashed"
    assert graph.node(HOST["id"]) == {"shape": "ellipse", "label": "10.10.20.15/32"}


def test_dot_edges_labelled_with_ports() -> None:
    graph = DotGraph(dot_out.to_dot(article_document()))
    assert graph.edges == [
        (BACKEND["id"], MYSQL["id"], {"label": "TCP 3306"}),
        (MYSQL["id"], BACKEND["id"], {"label": "all", "style": "dashed"}),
        (BACKEND["id"], HOST["id"], {"label": "all", "style": "dashed"}),
    ]


def test_dot_ipblock_lists_its_cidrs() -> None:
    block = node("internet", None, type="ipblock",
                 cidrs=("0.0.0.0/5", "8.0.0.0/7", "11.0.0.0/8", "12.0.0.0/6", "16.0.0.0/4"))
    graph = DotGraph(dot_out.to_dot(document([block])))
    assert graph.node(block["id"])["label"] == (
        "internet\n0.0.0.0/5, 8.0.0.0/7, 11.0.0.0/8, 12.0.0.0/6 (+1 more)"
    )


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(EVIL_DOT, id="quote-breaks-out-of-string"),
        pytest.param("back\\slash\\", id="trailing-backslash"),
        pytest.param('q\\"q', id="backslash-before-quote"),
        pytest.param("\\N \\G \\l", id="label-escape-sequences"),
        pytest.param("line\nbreak\r\nand } {", id="newlines-and-braces"),
        pytest.param(EVIL_HTML, id="html-like-label"),
    ],
)
def test_dot_keeps_uploaded_strings_inside_their_strings(name: str) -> None:
    evil = node(name, name, id=name)
    allowed = flow(BACKEND, evil, [("TCP", 80, 80)], ingress=[ref(name, "ingress", 0)])
    text = dot_out.to_dot(document([BACKEND, evil], [allowed]))
    graph = DotGraph(text)  # parses: nothing escaped its string
    shown = name.replace("\r\n", " ").replace("\n", " ")
    assert set(graph.clusters) == {"cluster_default", "cluster_" + shown.replace("\\", "\\\\")}
    assert graph.cluster_labels["cluster_" + shown.replace("\\", "\\\\")] == shown
    evil_id = shown.replace("\\", "\\\\")  # Graphviz keeps `\\` pairs in ids as written
    assert graph.node(evil_id)["label"] == f"{shown}\nDeployment, 1 pod\nnot isolated"
    assert graph.edges == [(BACKEND["id"], evil_id, {"label": "TCP 80"})]
    assert "evil" not in [t for t in dot_tokens(text) if not t.startswith('"')]


@pytest.mark.parametrize("doc", EMPTY_DOCUMENTS)
def test_dot_empty(doc: dict[str, Any]) -> None:
    graph = DotGraph(dot_out.to_dot(doc))
    assert (graph.clusters, graph.top, graph.edges) == ({}, {}, [])
    assert graph.defaults == ["graph", "node", "edge"]
