"""The loader: bytes of an upload to RawObjects with lines, and Problems per document."""

from __future__ import annotations

import codecs
import gzip
import io
import time
import zipfile
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.core.input import sources
from webapp.core.input.raw import Limits, PosDict, PosList, RawObject, SourceText, UnusableInput
from webapp.core.input.sources import load_sources
from webapp.core.model import Problem, Severity
from webapp.core.text import escape, shorten


def load(
    text: str | bytes, name: str = "x.yaml", limits: Limits | None = None
) -> tuple[list[RawObject], list[Problem]]:
    data = text.encode() if isinstance(text, str) else text
    if limits is None:
        return load_sources([SourceText(name, data)])
    return load_sources([SourceText(name, data)], limits)


def summary(objects: list[RawObject]) -> list[tuple[int, str, int, str, str]]:
    """(document, path, line, kind, name) of each object."""
    return [
        (o.document, o.path, o.line, o.kind, (o.body.get("metadata") or {}).get("name", ""))
        for o in objects
    ]


def pod(name: str) -> str:
    return f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n"


# --- Documents, their indexes and lines ------------------------------------------

MULTI = """\
# A leading comment is not a document.
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
# only a comment: not a document, not counted
---

---
apiVersion: v1
kind: Pod
metadata:
  name: web   # trailing comment
  namespace: shop
--- {apiVersion: v1, kind: Pod, metadata: {name: inline}}
...
---
~
---
apiVersion: v1
kind: Pod
metadata: {name: last}
"""


def test_multi_document_indexes_and_lines() -> None:
    objects, problems = load(MULTI)
    assert problems == []
    assert summary(objects) == [
        (0, "", 3, "Namespace", "shop"),
        (1, "", 12, "Pod", "web"),
        (2, "", 17, "Pod", "inline"),
        # document 3 is `~`: skipped silently, but it counts.
        (4, "", 22, "Pod", "last"),
    ]
    assert all(o.file == "x.yaml" for o in objects)


def test_directive_belongs_to_the_document_after_it() -> None:
    objects, problems = load("%YAML 1.1\n---\n" + pod("a") + "---\n" + pod("b"))
    assert problems == []
    assert summary(objects) == [(0, "", 3, "Pod", "a"), (1, "", 8, "Pod", "b")]


ENCODED_POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: é\n  labels:\n    app: web\n"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(ENCODED_POD.encode(), id="utf-8"),
        pytest.param(codecs.BOM_UTF8 + ENCODED_POD.encode(), id="utf-8-bom"),
        pytest.param(ENCODED_POD.encode("utf-16"), id="utf-16-native-bom"),
        pytest.param(codecs.BOM_UTF16_LE + ENCODED_POD.encode("utf-16-le"), id="utf-16-le-bom"),
        pytest.param(codecs.BOM_UTF16_BE + ENCODED_POD.encode("utf-16-be"), id="utf-16-be-bom"),
        pytest.param(ENCODED_POD.replace("\n", "\r\n").encode(), id="crlf"),
        pytest.param(ENCODED_POD.replace("\n", "\r").encode(), id="lone-cr"),
        pytest.param(codecs.BOM_UTF8 + ENCODED_POD.replace("\n", "\r\n").encode(), id="bom-crlf"),
    ],
)
def test_encodings_and_line_endings_give_the_same_lines(data: bytes) -> None:
    objects, problems = load(data)
    assert problems == []
    [obj] = objects
    assert obj.body["metadata"]["name"] == "é"
    labels = obj.body["metadata"]["labels"]
    assert (obj.line, obj.body["metadata"].line_of("labels"), labels.line_of("app")) == (1, 5, 6)


def test_line_separator_characters_do_not_shift_editor_lines() -> None:
    # libyaml counts NEL/LS/PS as line breaks; editors do not.
    text = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: "a\u2028b"\n  namespace: "x\u0085y"\n'
    text += "  labels: {app: web}\n---\n" + pod("second")
    objects, problems = load(text)
    assert problems == []
    assert objects[0].body["metadata"].line_of("labels") == 6
    assert summary(objects)[1] == (1, "", 8, "Pod", "second")


# --- Positions: line_of and end_line --------------------------------------------------

POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db
spec:
  podSelector: {}
  ingress:
  - from:
    - podSelector:
        matchLabels:
          role: backend

    # a comment after the rule
    ports:
    - port: 3306
  - from: [
      {ipBlock: {cidr: 10.0.0.0/8}}
    ]
  egress:
  - to:
    note: |
      two lines
      of text


  empty:
"""


def test_key_and_item_lines() -> None:
    [obj], problems = load(POLICY)
    assert problems == []
    spec = obj.body["spec"]
    ingress = spec["ingress"]
    assert isinstance(spec, PosDict) and isinstance(ingress, PosList)
    assert [spec.line_of(k) for k in ("podSelector", "ingress", "egress", "empty")] == [
        6,
        7,
        19,
        26,
    ]
    assert [ingress.line_of(0), ingress.line_of(1)] == [8, 16]
    assert ingress[0].line_of("ports") == 14
    assert ingress[0]["from"].line_of(0) == 9
    assert ingress[1]["from"].line_of(0) == 17
    assert ingress.line_of(7) == ingress.line  # out of range: the list's own line
    assert spec.line_of("missing") == spec.line


@pytest.mark.parametrize(
    ("path", "line", "end_line"),
    [
        pytest.param((), 1, 26, id="document-ends-at-last-key-not-next-line"),
        pytest.param(("spec", "ingress"), 8, 18, id="block-list"),
        pytest.param(("spec", "ingress", 0), 8, 15, id="rule-with-comment-inside"),
        pytest.param(("spec", "ingress", 0, "from", 0, "podSelector"), 10, 11, id="nested-map"),
        pytest.param(("spec", "ingress", 1), 16, 18, id="multi-line-flow-list"),
        pytest.param(("spec", "egress", 0), 20, 23, id="block-scalar-without-trailing-blanks"),
        pytest.param(("spec", "podSelector"), 6, 6, id="empty-flow-map"),
    ],
)
def test_end_lines(path: tuple[str | int, ...], line: int, end_line: int) -> None:
    [obj], _ = load(POLICY)
    node: Any = obj.body
    for step in path:
        node = node[step]
    assert (node.line, node.end_line) == (line, end_line)


def test_aliases_are_copied_with_their_lines() -> None:
    text = pod("a") + "spec:\n  base: &ports\n    - port: 80\n  again: *ports\n"
    [obj], problems = load(text)
    assert problems == []
    spec = obj.body["spec"]
    assert spec["again"] == spec["base"] == [{"port": 80}]
    assert spec["again"] is not spec["base"]
    # A collection starts where its anchor is written; its items where they are.
    assert (spec["again"].line, spec["again"].line_of(0)) == (6, 7)


# --- Scalars: Kubernetes' YAML, not YAML 1.1 ------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        pytest.param("1:20", "1:20", id="sexagesimal-stays-a-string"),
        pytest.param("yes", True, id="yes-is-bool"),
        pytest.param("On", True, id="on-is-bool"),
        pytest.param("n", False, id="n-is-bool"),
        pytest.param("true", True, id="true-is-bool"),
        pytest.param("FALSE", False, id="false-upper-is-bool"),
        pytest.param("1.10", 1.1, id="version-like-is-float"),
        pytest.param("80", 80, id="int"),
        pytest.param("+12", 12, id="signed-int"),
        pytest.param("-3", -3, id="negative-int"),
        pytest.param("0x1F", 31, id="hex-int"),
        pytest.param("0o17", 15, id="octal-0o-int"),
        pytest.param("0755", 493, id="leading-zero-octal"),
        pytest.param("0b101", 5, id="binary-int"),
        pytest.param("1_000", 1000, id="underscores-dropped-as-go-yaml-does"),
        pytest.param("08", 8.0, id="not-octal-falls-to-float"),
        pytest.param("1e3", 1000.0, id="exponent-float"),
        pytest.param(".5", 0.5, id="dot-float"),
        pytest.param("1e999", "1e999", id="overflowing-float-stays-string"),
        pytest.param("18446744073709551615", 2**64 - 1, id="uint64-max-is-int"),
        pytest.param("18446744073709551616", 2.0**64, id="beyond-uint64-is-float-as-in-go"),
        pytest.param("-9223372036854775809", -(2.0**63), id="below-int64-is-float-as-in-go"),
        pytest.param("0x1FFFFFFFFFFFFFFFFF", "0x1FFFFFFFFFFFFFFFFF", id="huge-hex-stays-string"),
        pytest.param("'.nan'", ".nan", id="quoted-nan-is-a-string"),
        pytest.param("~", None, id="tilde-null"),
        pytest.param("Null", None, id="null-word"),
        pytest.param("", None, id="empty-null"),
        pytest.param("2024-01-31", "2024-01-31", id="timestamp-stays-string"),
        pytest.param("'yes'", "yes", id="single-quoted-stays-string"),
        pytest.param('"80"', "80", id="double-quoted-stays-string"),
        pytest.param("!!str 80", "80", id="explicit-str"),
        pytest.param('!!int "80"', 80, id="explicit-int-on-quoted"),
        pytest.param("!!float 1", 1.0, id="explicit-float-of-int"),
        pytest.param("!!bool yes", True, id="explicit-bool"),
        pytest.param("!!null ''", None, id="explicit-null"),
        pytest.param("! 80", "80", id="non-specific-tag-is-string"),
        pytest.param("web-1", "web-1", id="plain-string"),
        pytest.param("|\n    line\n", "line\n", id="block-scalar"),
    ],
)
def test_scalar_resolution(written: str, expected: object) -> None:
    [obj], problems = load(pod("a") + f"data:\n  value: {written}\n")
    assert problems == []
    value = obj.body["data"]["value"]
    assert type(value) is type(expected)
    assert value == expected


# --- Non-finite numbers: sigs.k8s.io/yaml's json.Marshal refuses them ---------------

NON_FINITE = "NaN and infinities are refused when Kubernetes converts YAML to JSON"


@pytest.mark.parametrize(
    ("text", "line", "path"),
    [
        pytest.param("spec:\n  ports:\n  - port: .nan\n", 7, "spec.ports[0].port", id="nan"),
        pytest.param("spec: {replicas: .Inf}\n", 5, "spec.replicas", id="inf"),
        pytest.param("spec:\n  x: [1, -.INF]\n", 6, "spec.x[1]", id="minus-inf-in-a-list"),
        pytest.param("spec:\n  x: !!float .nan\n", 6, "spec.x", id="tagged-nan"),
        pytest.param("status: {x: +.inf}\n", 5, "status.x", id="in-a-field-the-analysis-drops"),
    ],
)
def test_non_finite_numbers_refuse_their_document(text: str, line: int, path: str) -> None:
    objects, [problem] = load(pod("web") + text + "---\n" + pod("after"))
    assert [o.body["metadata"]["name"] for o in objects] == ["after"]
    assert NON_FINITE in problem.message
    assert (problem.document, problem.line, problem.path) == (0, line, path)
    assert (problem.kind, problem.name) == ("Pod", "web")


def test_non_finite_number_in_a_list_item_names_the_item() -> None:
    text = (
        "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: ok}\n"
        "- apiVersion: v1\n  kind: Pod\n  metadata: {name: web}\n  spec: {x: .nan}\nkind: List\n"
    )
    # The whole document fails Kubernetes' conversion to JSON, not only the item.
    objects, [problem] = load(text)
    assert objects == []
    assert (problem.line, problem.kind, problem.name, problem.path) == (
        9,
        "Pod",
        "web",
        "items[1].spec.x",
    )


def test_non_finite_json_literals_are_not_json() -> None:
    # Only reachable through the JSON fallback: Python's json accepts NaN, Go's does not.
    _, [problem] = load('\t{"apiVersion": "v1", "kind": "Pod", "x": NaN}\n', name="p.json")
    assert problem.message.startswith("YAML syntax error")
    [obj], [] = load('\t{"apiVersion": "v1", "kind": "Pod", "x": 1e999}\n', name="p.json")
    assert obj.body["x"] == "1e999"


# --- Merge keys, as go-yaml v2 decodes them strictly ------------------------------------

TWICE = ", and Kubernetes' strict decoding refuses a key that is set twice"
MERGE_BASE = pod("a") + "base: &base {p: 1, q: 2}\nmore: &more {r: 3}\nclash: &clash {p: 9}\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("spec:\n  <<: *base\n  z: 0\n", {"p": 1, "q": 2, "z": 0}, id="merge-first"),
        pytest.param("spec:\n  z: 0\n  <<: *base\n", {"z": 0, "p": 1, "q": 2}, id="merge-last"),
        pytest.param(
            "spec:\n  <<: [*base, *more]\n", {"p": 1, "q": 2, "r": 3}, id="list-of-aliases"
        ),
        pytest.param(
            "spec:\n  <<: [*more, {s: 4}]\n", {"r": 3, "s": 4}, id="list-with-inline-mapping"
        ),
        pytest.param("spec:\n  <<: {s: 4}\n", {"s": 4}, id="inline-mapping"),
        pytest.param("spec:\n  <<: []\n  z: 0\n", {"z": 0}, id="empty-list-merges-nothing"),
        pytest.param(
            "spec:\n  <<: *base\n  <<: *more\n", {"p": 1, "q": 2, "r": 3}, id="two-merge-keys"
        ),
        pytest.param("spec:\n  !!merge <<: *more\n", {"r": 3}, id="merge-tag"),
        pytest.param("spec:\n  '<<': *more\n", {"<<": {"r": 3}}, id="quoted-is-an-ordinary-key"),
        pytest.param(
            "inner: &inner {<<: *more, t: 5}\nspec:\n  <<: *inner\n",
            {"r": 3, "t": 5},
            id="merged-mapping-with-its-own-merge",
        ),
    ],
)
def test_merge_keys(text: str, expected: dict[str, Any]) -> None:
    [obj], problems = load(MERGE_BASE + text)
    assert problems == []
    assert obj.body["spec"] == expected
    assert list(obj.body["spec"]) == list(expected)


def test_merged_keys_keep_the_line_where_the_anchored_value_was_written() -> None:
    [obj], _ = load(MERGE_BASE + "spec:\n  <<: [*base, *more]\n  z: 0\n")
    spec = obj.body["spec"]
    assert [spec.line_of(k) for k in ("p", "q", "r", "z")] == [5, 5, 6, 10]
    assert spec["p"] == 1 and obj.body["base"]["p"] == 1


@pytest.mark.parametrize(
    ("text", "message", "line", "path"),
    [
        pytest.param(
            "spec:\n  <<: *base\n  p: 0\n",
            "duplicate key 'p' at spec: the merge key ('<<') on line 9 already sets it" + TWICE,
            10,
            "spec.p",
            id="explicit-key-after-merge-is-a-duplicate",
        ),
        pytest.param(
            "spec:\n  p: 0\n  <<: *base\n",
            "duplicate key 'p' at spec: the merge key ('<<') on line 10 sets it again"
            " (line 9 already did)" + TWICE,
            10,
            "spec.p",
            id="merge-after-explicit-key-is-a-duplicate",
        ),
        pytest.param(
            "spec:\n  <<: [*base, *clash]\n",
            "duplicate key 'p' at spec: the merge key ('<<') on line 9 sets it again"
            " (line 5 already did)" + TWICE,
            9,
            "spec.p",
            id="overlapping-maps-of-a-list",
        ),
        pytest.param(
            "spec:\n  <<: 1\n",
            "the merge key ('<<') needs a mapping, an alias of a mapping, or a list of those"
            ", not the number 1",
            9,
            "spec[<<]",
            id="scalar",
        ),
        pytest.param(
            "spec:\n  <<:\n",
            "the merge key ('<<') needs a mapping, an alias of a mapping, or a list of those"
            ", not null",
            9,
            "spec[<<]",
            id="null",
        ),
        pytest.param(
            "list: &list [{p: 1}]\nspec:\n  <<: *list\n",
            "the merge key ('<<') needs a mapping, an alias of a mapping, or a list of those"
            ", not a list's alias",
            10,
            "spec[<<]",
            id="alias-of-a-list",
        ),
        pytest.param(
            "spec:\n  <<: [*base, [1]]\n",
            "the merge key ('<<') needs a mapping, an alias of a mapping, or a list of those"
            ", not a list with an item that is not a mapping",
            9,
            "spec[<<]",
            id="list-with-a-list",
        ),
    ],
)
def test_refused_merges(text: str, message: str, line: int, path: str) -> None:
    objects, [problem] = load(MERGE_BASE + text + "---\n" + pod("after"))
    assert [o.body["metadata"]["name"] for o in objects] == ["after"]
    assert (problem.message, problem.line, problem.path) == (message, line, path)


MERGE_BOMB = (
    pod("lol")
    + "data:\n  a: &a {a0: lol, a1: lol, a2: lol, a3: lol, a4: lol, a5: lol, a6: lol}\n"
    + "".join(
        f"  {x}: &{x} {{" + ", ".join(f"{x}{i}: *{p}" for i in range(9)) + f", <<: *{p}}}\n"
        for p, x in zip("abcdefgh", "bcdefghi", strict=True)
    )
)


def test_billion_laughs_through_merge_keys_is_refused_quickly() -> None:
    started = time.perf_counter()
    objects, [problem] = load(MERGE_BOMB)
    assert objects == []
    assert "alias bomb" in problem.message
    assert time.perf_counter() - started < 0.5


# --- Documents that are left out ------------------------------------------------------

BOMB = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: lol}
data:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


@pytest.mark.parametrize(
    ("text", "message", "line", "path"),
    [
        pytest.param(
            pod("a") + "spec:\n  x: !!python/object/apply:os.system ['echo hi']\n",
            "unsupported YAML tag '!!python/object/apply:os.system' on a list",
            6,
            "spec.x",
            id="python-tag",
        ),
        pytest.param(
            pod("a") + "spec: !!python/name:os.system\n",
            "unsupported YAML tag '!!python/name:os.system'",
            5,
            "spec",
            id="python-name-tag",
        ),
        pytest.param(
            pod("a") + "spec: !foo bar\n", "unsupported YAML tag '!foo'", 5, "spec", id="local-tag"
        ),
        pytest.param(
            pod("a") + "spec: !!binary aGk=\n",
            "unsupported YAML tag '!!binary'",
            5,
            "spec",
            id="binary-tag",
        ),
        pytest.param(
            pod("a") + "spec: !!set {a}\n",
            "unsupported YAML tag '!!set' on a mapping",
            5,
            "spec",
            id="set-tag",
        ),
        pytest.param(
            pod("a") + "spec: !!str {a: 1}\n",
            "unsupported YAML tag '!!str' on a mapping",
            5,
            "spec",
            id="str-tag-on-mapping",
        ),
        pytest.param(
            pod("a") + "spec: !!int abc\n",
            "cannot read 'abc' as !!int",
            5,
            "spec",
            id="int-tag-on-word",
        ),
        pytest.param(
            pod("a") + "spec:\n  ingress:\n  - from: []\n    ports: []\n    from: []\n",
            "duplicate key 'from' at spec.ingress[0]",
            9,
            "spec.ingress[0].from",
            id="duplicate-key",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Pod\nkind: Service\n",
            "duplicate key 'kind'",
            3,
            "kind",
            id="duplicate-top-level-key",
        ),
        pytest.param(
            pod("a") + "  labels:\n    80: http\n",
            "mapping key '80' is read as the number 80, not a string; quote it",
            6,
            "metadata.labels",
            id="int-key",
        ),
        pytest.param(
            pod("a") + "  labels:\n    on: x\n",
            "mapping key 'on' is read as the boolean true, not a string; quote it",
            6,
            "metadata.labels",
            id="bool-key",
        ),
        pytest.param(
            pod("a") + "  labels:\n    ~: x\n",
            "mapping key '~' is read as null, not a string; quote it",
            6,
            "metadata.labels",
            id="null-key",
        ),
        pytest.param(
            pod("a") + "spec:\n  ? [a, b]\n  : c\n",
            "a mapping key must be a string, not a list",
            6,
            "spec",
            id="complex-key",
        ),
        pytest.param(
            pod("a") + "spec: *nowhere\n",
            "YAML syntax error: found undefined alias 'nowhere'",
            5,
            "spec",
            id="undefined-alias",
        ),
        pytest.param(
            BOMB,
            "document expands aliases beyond its size (possible alias bomb); left out",
            8,
            "data.d[0]",
            id="billion-laughs",
        ),
        pytest.param(
            pod("a") + "spec: " + "[" * 100 + "]" * 100 + "\n",
            "nested more than 64 levels deep",
            5,
            "spec" + "[0]" * 63,
            id="deep-flow-nesting",
        ),
        pytest.param(
            pod("a") + "spec:\n" + "".join("  " * i + "  a:\n" for i in range(80)),
            "nested more than 64 levels deep",
            69,
            "spec" + ".a" * 63,
            id="deep-block-nesting",
        ),
    ],
)
def test_refused_documents(text: str, message: str, line: int, path: str) -> None:
    objects, problems = load(text + "---\n" + pod("after"))
    assert summary(objects) == [(1, "", text.count("\n") + 2, "Pod", "after")]
    [problem] = problems
    assert problem.message == message
    assert (problem.severity, problem.file, problem.document) == (Severity.ERROR, "x.yaml", 0)
    assert (problem.line, problem.path) == (line, path)


def test_refused_document_names_kind_and_name_read_so_far() -> None:
    _, [problem] = load(pod("web") + "spec:\n  a: 1\n  a: 2\n")
    assert (problem.kind, problem.name) == ("Pod", "web")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 200_000 + "]" * 200_000, id="flow"),
        pytest.param("- " * 200_000 + "x", id="block"),
    ],
)
def test_very_deep_nesting_is_refused_quickly_without_crashing(text: str) -> None:
    # libyaml's own composer recurses in C (a segfault at ~100,000 levels) and
    # its scanner is quadratic in flow depth; neither may be reached.
    started = time.perf_counter()
    _, [problem] = load(text)
    assert problem.message == "nested more than 64 levels deep"
    assert time.perf_counter() - started < 2


def test_billion_laughs_is_refused_quickly() -> None:
    started = time.perf_counter()
    objects, [problem] = load(BOMB)
    assert objects == []
    assert "alias bomb" in problem.message
    assert time.perf_counter() - started < 0.5


def test_aliases_within_budget_are_expanded() -> None:
    text = pod("a") + "data:\n  a: &a [x, z]\n  b: [*a, *a, *a]\n"
    [obj], problems = load(text)
    assert problems == []
    assert obj.body["data"]["b"] == [["x", "z"]] * 3


# --- One broken document never hides the others ---------------------------------------

FOUR_WITH_BROKEN_THIRD = (
    pod("zero") + "---\n" + pod("one") + "---\n" + "apiVersion: v1\nkind: Pod\nmetadata:\n"
    "  name: two\n  labels: {a: b\nspec: {}\n" + "---\n" + pod("three")
)


def test_syntax_error_in_document_2_keeps_0_1_and_3() -> None:
    objects, [problem] = load(FOUR_WITH_BROKEN_THIRD)
    assert summary(objects) == [
        (0, "", 1, "Pod", "zero"),
        (1, "", 6, "Pod", "one"),
        (3, "", 18, "Pod", "three"),
    ]
    assert problem.document == 2
    assert problem.message.startswith("YAML syntax error: ")
    assert 11 <= problem.line <= 16
    assert problem.path is None


def test_syntax_error_message_and_line() -> None:
    _, [problem] = load(pod("a") + "spec:\n  a: b: c\n")
    # libyaml says "... in this context", PyYAML "... here".
    assert problem.message.startswith("YAML syntax error: mapping values are not allowed")
    assert problem.line == 6


def test_unclosed_quote_is_charged_to_its_own_document() -> None:
    text = pod("a") + '  namespace: "open\n---\n' + pod("b")
    objects, [problem] = load(text)
    assert problem.document == 0
    assert 1 <= problem.line <= 5
    assert summary(objects) == [(1, "", 7, "Pod", "b")]


def test_control_character_is_charged_to_its_document() -> None:
    padding = "".join(pod(f"p{i}") + "---\n" for i in range(400))  # past libyaml's read-ahead
    text = padding + pod("bad") + "  namespace: a\x01b\n---\n" + pod("last")
    objects, [problem] = load(text)
    assert problem.document == 400
    assert problem.line == 400 * 5 + 5
    assert "\\x01" in problem.message
    assert [o.document for o in objects] == [*range(400), 401]


def test_text_after_document_end_marker_is_a_document() -> None:
    objects, problems = load(pod("a") + "...\n" + pod("b"))
    assert problems == []
    assert summary(objects) == [(0, "", 1, "Pod", "a"), (1, "", 6, "Pod", "b")]


MIXED = "".join(
    [
        pod("a"),
        "---\n# nothing here\n---\n",
        pod("b") + "spec: [unclosed\n",
        "---\n",
        pod("c") + "spec: {x: 1, x: 2}\n",
        "---\n",
        "--- {apiVersion: v1, kind: Pod, metadata: {name: d}}\n",
        "---\n\tbad: tab\n---\n",
        pod("e"),
        "---\n" + BOMB + "---\n" + pod("f"),
    ]
)


def test_windowed_and_document_by_document_reading_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    together = load(MIXED)
    monkeypatch.setattr(sources, "_WINDOW_CHARS", 1)  # every document parsed on its own
    alone = load(MIXED)
    assert together == alone
    objects, problems = together
    assert [o.body["metadata"]["name"] for o in objects] == ["a", "d", "e", "f"]
    assert [(p.document, p.line, p.path) for p in problems] == [
        (1, 12, None),  # the unclosed `[`: its document's last line
        (2, 18, "spec.x"),
        (4, 22, None),  # the tab
        (6, 36, "data.d[0]"),  # the alias bomb
    ]


def test_pure_python_parser_gives_the_same_result_and_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with_libyaml = load(MIXED)
    monkeypatch.setattr(sources, "_LIBYAML", False)
    monkeypatch.setattr(sources, "_Parser", sources._PurePythonParser)
    objects, problems = load(MIXED)
    warning, *rest = problems
    assert (warning.severity, warning.message) == (
        Severity.WARNING,
        "libyaml is not available; parsing is slower",
    )
    assert summary(objects) == summary(with_libyaml[0])
    assert [(p.document, p.line, p.path) for p in rest] == [
        (p.document, p.line, p.path) for p in with_libyaml[1]
    ]


# --- Lists ----------------------------------------------------------------------------

LIST = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: a
- kind: Service
  metadata: {name: no-version}
-   apiVersion: v1
    kind: Pod
    metadata: {name: b}
metadata:
  resourceVersion: ""
"""

POD_LIST = """\
apiVersion: v1
kind: PodList
items:
  - metadata:
      name: from-api
  - apiVersion: v1
    kind: Pod
    metadata:
      name: explicit
"""


def test_kind_list_gives_one_object_per_item() -> None:
    objects, [problem] = load(LIST)
    assert summary(objects) == [(0, "items[0]", 4, "Pod", "a"), (0, "items[2]", 10, "Pod", "b")]
    assert (
        problem.message == "items[1] of document 0 is not a Kubernetes object: missing apiVersion"
    )
    assert (problem.document, problem.line, problem.path, problem.name) == (
        0,
        8,
        "items[1]",
        "no-version",
    )


def test_typed_list_items_get_the_lists_kind_and_version() -> None:
    objects, problems = load(POD_LIST)
    assert problems == []
    assert summary(objects) == [
        (0, "items[0]", 4, "Pod", "from-api"),
        (0, "items[1]", 6, "Pod", "explicit"),
    ]
    assert objects[0].api_version == "v1"


def test_network_policy_list_and_empty_list() -> None:
    text = (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicyList\nitems:\n"
        "- metadata: {name: deny}\n  spec: {podSelector: {}}\n"
        "---\napiVersion: v1\nkind: List\nitems: []\n"
    )
    objects, problems = load(text)
    assert problems == []
    [policy] = objects
    assert (policy.kind, policy.api_version, policy.path) == (
        "NetworkPolicy",
        "networking.k8s.io/v1",
        "items[0]",
    )


# --- Documents that are not objects ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "just text\n", "document 0 is not a Kubernetes object: it is 'just text'", id="scalar"
        ),
        pytest.param(
            "- a\n- b\n", "document 0 is not a Kubernetes object: it is a list", id="list"
        ),
        pytest.param(
            "apiVersion: v1\nmetadata: {name: x}\n",
            "document 0 is not a Kubernetes object: missing kind",
            id="missing-kind",
        ),
        pytest.param(
            "kind: Pod\n",
            "document 0 is not a Kubernetes object: missing apiVersion",
            id="missing-api-version",
        ),
        pytest.param(
            "a: 1\n",
            "document 0 is not a Kubernetes object: missing kind and apiVersion",
            id="missing-both",
        ),
        pytest.param(
            "apiVersion: v1\nkind: 5\n",
            "kind must be a string, not the number 5",
            id="kind-not-string",
        ),
        pytest.param(
            "apiVersion: v1\nkind: List\nitems: {a: 1}\n",
            "items must be a list, not a mapping",
            id="items-not-list",
        ),
    ],
)
def test_documents_that_are_not_objects(text: str, message: str) -> None:
    objects, [problem] = load(text)
    assert objects == []
    assert (problem.message, problem.document, problem.severity) == (message, 0, Severity.ERROR)


def test_unknown_kinds_are_passed_on() -> None:
    objects, problems = load("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n")
    assert problems == []
    assert summary(objects) == [(0, "", 1, "Widget", "w")]


# --- JSON -----------------------------------------------------------------------------


def test_json_is_read_by_the_json_parser_with_the_lines_of_top_level_fields() -> None:
    # Fields below the top level of a JSON object other than a policy get the
    # line of their top-level field (the json module keeps no positions).
    text = '{\n  "apiVersion": "v1",\n  "kind": "Pod",\n  "metadata": {\n    "name": "j"\n  }\n}\n'
    [obj], problems = load(text, name="pod.json")
    assert problems == []
    assert (obj.line, obj.body["metadata"].line_of("name"), obj.body.end_line) == (1, 4, 7)
    assert obj.body.line_of("kind") == 3


def test_json_policy_keeps_the_line_of_every_field() -> None:
    text = (
        '{"kind": "List", "apiVersion": "v1", "items": [\n {"kind": "Pod", "apiVersion": "v1",'
        ' "metadata": {"name": "a"}},\n {\n  "apiVersion": "networking.k8s.io/v1",\n'
        '  "kind": "NetworkPolicy",\n  "metadata": {\n   "name": "p"\n  },\n'
        '  "spec": {"podSelector": {}}\n }\n]}\n'
    )
    (pod, policy), problems = load(text, name="list.json")
    assert problems == []
    assert (pod.line, policy.line, policy.path) == (2, 3, "items[1]")
    assert (policy.body["metadata"].line_of("name"), policy.body.end_line) == (7, 10)


def test_json_that_yaml_refuses_is_read_as_json() -> None:
    # A tab before the first token is not allowed in YAML's block context.
    text = (
        '\n\t{\n\t"apiVersion": "v1",\n\t"kind": "Pod",\n'
        '\t"metadata": {"name": "t", "x": 1.10}\n}\n'
    )
    [obj], problems = load(text, name="pod.json")
    assert problems == []
    assert obj.body["metadata"] == {"name": "t", "x": 1.1}
    # Read by the json module: the metadata's own line, not the document's.
    assert (obj.line, obj.body["metadata"].line, obj.body["metadata"].line_of("name")) == (2, 5, 5)


def test_json_fallback_still_refuses_duplicate_keys() -> None:
    text = '\t{"apiVersion": "v1", "kind": "Pod", "kind": "Service"}\n'
    _, [problem] = load(text, name="pod.json")
    assert problem.message == "duplicate key 'kind'"


# --- Uploads refused as a whole -------------------------------------------------------


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("pod.yaml", pod("z"))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            gzip.compress(pod("g").encode()),
            "x.yaml is not text (gzip data); upload the YAML itself",
            id="gzip",
        ),
        pytest.param(
            _zip(), "x.yaml is not text (a zip archive); upload the YAML itself", id="zip"
        ),
        pytest.param(b"apiVersion: v1\x00\x00kind", "x.yaml is not text (binary data", id="nul"),
        pytest.param(
            pod("a").encode("utf-16-le"), "x.yaml is not text (binary data", id="utf-16-no-bom"
        ),
        pytest.param(
            b"name: caf\xe9\n", "x.yaml is not UTF-8 text (byte 0xe9 on line 1)", id="latin-1"
        ),
        pytest.param(
            b"a: 1\nb: \xff\xfe\n",
            "x.yaml is not UTF-8 text (byte 0xff on line 2)",
            id="invalid-utf-8",
        ),
        pytest.param(
            codecs.BOM_UTF8 + b"a: 1\nb: \xff\n",
            "x.yaml is not UTF-8 text (byte 0xff on line 2)",
            id="invalid-utf-8-after-bom",
        ),
        pytest.param(
            codecs.BOM_UTF16_LE + b"a\x00:",
            "x.yaml is not valid UTF-16 text",
            id="truncated-utf-16",
        ),
        pytest.param(
            codecs.BOM_UTF32_LE + "a: 1".encode("utf-32-le"), "x.yaml is UTF-32 text", id="utf-32"
        ),
        pytest.param(b"", "nothing to analyse: x.yaml holds no YAML or JSON content", id="empty"),
        pytest.param(b" \n\t\r\n", "nothing to analyse: x.yaml holds", id="whitespace"),
        pytest.param(b"# just a comment\n---\n", "nothing to analyse: x.yaml holds", id="comments"),
    ],
)
def test_unusable_uploads(data: bytes, message: str) -> None:
    with pytest.raises(UnusableInput) as raised:
        load(data)
    assert raised.value.message.startswith(message)
    assert not raised.value.too_large


def test_one_binary_file_refuses_the_whole_upload() -> None:
    upload = [
        SourceText("good.yaml", pod("a").encode()),
        SourceText("manifests.yaml.gz", gzip.compress(pod("b").encode())),
    ]
    with pytest.raises(UnusableInput, match=r"^manifests\.yaml\.gz is not text \(gzip data\)"):
        load_sources(upload)


def test_an_empty_file_beside_a_good_one_is_fine() -> None:
    objects, problems = load_sources(
        [SourceText("empty.yaml", b""), SourceText("good.yaml", pod("a").encode())]
    )
    assert summary(objects) == [(0, "", 1, "Pod", "a")] and problems == []
    assert objects[0].file == "good.yaml"


def test_file_names_in_messages_are_escaped() -> None:
    with pytest.raises(UnusableInput) as raised:
        load_sources([SourceText("evil\u202egpj.yaml", b"\x1f\x8b\x08")])
    assert raised.value.message.startswith("evil\\u202egpj.yaml is not text")


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        pytest.param(Limits(max_bytes=50), "the upload is 94 bytes; the limit is 50", id="bytes"),
        pytest.param(
            Limits(max_documents=1), "the upload has 2 documents; the limit is 1", id="documents"
        ),
    ],
)
def test_too_large(limits: Limits, message: str) -> None:
    with pytest.raises(UnusableInput) as raised:
        load(pod("a") + "---\n" + pod("b"), limits=limits)
    assert raised.value.too_large
    assert raised.value.message == message


def test_depth_limit_is_configurable() -> None:
    text = pod("a") + "spec: {a: {b: {c: 1}}}\n"
    assert load(text, limits=Limits(max_depth=4))[1] == []
    _, [problem] = load(text, limits=Limits(max_depth=3))
    assert problem.message == "nested more than 3 levels deep"


# --- Messages -------------------------------------------------------------------------


def test_bidi_characters_in_keys_are_escaped_in_messages() -> None:
    _, [problem] = load(pod("a") + "spec:\n  \u202eevil: 1\n  \u202eevil: 2\n")
    assert problem.message == "duplicate key '\\u202eevil' at spec"
    assert "\u202e" not in problem.message
    assert problem.path == "spec[\\u202eevil]"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param("from", "'from'", id="string-quoted"),
        pytest.param("a" * 100, "'" + "a" * 59 + "…'", id="long-string-shortened"),
        pytest.param("a" * 60, "'" + "a" * 60 + "'", id="exact-limit-kept"),
        pytest.param("x\u202ey\u2066z", "'x\\u202ey\\u2066z'", id="bidi-escaped"),
        pytest.param("a\nb\tc\x1b", "'a\\nb\\tc\\x1b'", id="controls-escaped"),
        pytest.param("it's", "'it\\'s'", id="quote-escaped"),
        pytest.param("\u200fmark", "'\\u200fmark'", id="rtl-mark-escaped"),
        pytest.param("\u202e" * 40, "'" + "\\u202e" * 9 + "…'", id="escapes-count-toward-limit"),
        pytest.param(None, "null", id="null"),
        pytest.param(True, "true", id="bool"),
        pytest.param(8080, "8080", id="int"),
        pytest.param({"a": [1]}, '{"a":[1]}', id="mapping-as-json"),
    ],
)
def test_shorten(value: object, shown: str) -> None:
    assert shorten(value) == shown


def test_escape_keeps_text_but_shows_hidden_characters() -> None:
    assert escape("dir/evil\u202e.yaml") == "dir/evil\\u202e.yaml"
    assert escape("plain é 😀") == "plain é 😀"


# --- Properties: reading in windows never changes the result --------------------------

SNIPPETS = [
    pod("ok"),
    pod("ok") + "spec: {a: [1, 2], b: {c: d}}\n",
    "# only a comment\n",
    "",
    "~\n",
    "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n",  # unclosed flow mapping
    "apiVersion: v1\nkind: Pod\n  bad: indent\n",
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: "open\n',  # unclosed quote
    pod("dup") + "spec: {a: 1, a: 2}\n",
    pod("tag") + "spec: !!python/tuple [1]\n",
    '\t{"apiVersion": "v1", "kind": "Pod"}\n',
    "- just\n- a list\n",
    pod("ctl") + "  namespace: a\x07b\n",
    "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: i}}\n",
    "...\n",
]


def _read_in_windows(text: str, window: int) -> tuple[list[RawObject], list[Problem]]:
    saved = sources._WINDOW_CHARS
    sources._WINDOW_CHARS = window
    try:
        return load(text)
    finally:
        sources._WINDOW_CHARS = saved


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(range(len(SNIPPETS))), min_size=1, max_size=12), st.integers(1, 400)
)
def test_windows_agree_with_reading_each_document_alone(picks: list[int], window: int) -> None:
    text = "---\n".join([*(SNIPPETS[pick] for pick in picks), pod("end")])
    alone = _read_in_windows(text, 1)
    assert _read_in_windows(text, window) == alone
    assert load(text) == alone
    objects, problems = alone
    assert objects[-1].body["metadata"]["name"] == "end"
    for item in [*objects, *problems]:
        assert item.file == "x.yaml"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab:-[]{}&*!|>'\"# \t\n.~,?%@`\\\x85\u2028", max_size=80))
def test_any_text_gives_objects_and_problems_or_refuses_as_a_whole(text: str) -> None:
    try:
        _, problems = load(text)
    except UnusableInput:
        return
    for problem in problems:
        assert problem.document is not None and problem.line is not None
        assert 1 <= problem.line <= text.count("\n") + text.count("\r") + 1


# --- Unrendered Helm templates ------------------------------------------------------------

DEPLOYMENT = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
HELM = "is an unrendered Helm template, not YAML: render the chart first (`helm template"


@pytest.mark.parametrize(
    ("text", "template", "line"),
    [
        pytest.param(
            DEPLOYMENT + "spec:\n  replicas: {{ .Values.replicas }}\n",
            "{{ .Values.replicas }}",
            6,
            id="value-parses-as-a-mapping-with-a-mapping-key",
        ),
        pytest.param(
            "{{- if .Values.enabled }}\n" + DEPLOYMENT + "{{- end }}\n",
            "{{- if .Values.enabled }}",
            1,
            id="control-line-is-a-syntax-error",
        ),
        pytest.param(
            DEPLOYMENT + '  labels:\n    {{- include "x.labels" . | nindent 4 }}\nspec: {}\n',
            '{{- include "x.labels" . | nindent 4 }}',
            6,
            id="include-line",
        ),
        pytest.param(
            DEPLOYMENT + "  labels:\n    app: {{ .Chart.Name }}-{{ .Values.suffix }}\n",
            "{{ .Chart.Name }}",
            6,
            id="two-actions-on-a-line",
        ),
    ],
)
def test_unrendered_helm_template_is_named_with_the_fix(
    text: str, template: str, line: int
) -> None:
    objects, [problem] = load(text + "---\n" + pod("after"))
    assert [o.body["metadata"]["name"] for o in objects] == ["after"]
    assert problem.message.startswith(f"{shorten(template)} on line {line} {HELM}")
    assert (problem.document, problem.line) == (0, line)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: rules}\ndata:\n"
            "  summary: '{{ $labels.instance }} is down'\n  broken: [unclosed\n",
            id="quoted-template-text-beside-an-unrelated-error",
        ),
        pytest.param(
            "# {{ .Values.note }}\n" + DEPLOYMENT + "spec: [\n",
            id="template-in-a-comment",
        ),
    ],
)
def test_template_text_that_did_not_cause_the_error_is_not_blamed(text: str) -> None:
    _, [problem] = load(text)
    assert problem.message.startswith("YAML syntax error")


def test_rendered_manifest_with_template_text_in_strings_is_read() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: rules}\ndata:\n"
        "  alert: |\n    summary: {{ $labels.instance }} is down\n"
        '  quoted: "{{ .Values.kept }}"\n'
    )
    [obj], problems = load(text)
    assert problems == []
    assert obj.body["data"]["quoted"] == "{{ .Values.kept }}"


def test_json_list_is_parsed_by_the_json_module_and_only_policies_by_yaml(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json as json_module


    parsed: list[str] = []
    real = sources._Parser

    def counting(text: str) -> Any:
        parsed.append(text)
        return real(text)

    monkeypatch.setattr(sources, "_Parser", counting)
    pods = [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}", "labels": {"a": "b"}}}
        for i in range(2_000)
    ]
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "np", "namespace": "default"},
        "spec": {"podSelector": {}, "ingress": [{}]},
    }
    text = json_module.dumps(
        {"apiVersion": "v1", "kind": "List", "items": [*pods, policy]}, indent=4
    )
    objects, problems = load(text + "\n", name="all.json")
    assert problems == []
    assert [o.kind for o in objects] == ["Pod"] * 2_000 + ["NetworkPolicy"]
    assert objects[1_999].body["metadata"]["name"] == "p1999"
    # libyaml read the policy alone, none of the pods.
    assert len(parsed) == 1 and '"NetworkPolicy"' in parsed[0] and '"Pod"' not in parsed[0]
    # Lines 1-4: `{`, apiVersion, kind, `"items": [`; then ten lines per pod.
    assert (objects[0].line, objects[1].line) == (5, 5 + 10)
